"""`kguard rbac paths --cluster` and `kguard scan --cluster` on a real
kube-apiserver (tests/e2e/cluster.py): the fixtures of tests/rbac/paths for a
few step kinds (token Secret read, exec into a pod of a cluster-admin
ServiceAccount, bind, CSR approval) plus a dangling binding are applied with
kubectl; the paths read back from the live cluster must be the ones the same
objects give as files, and the scan's report must carry them as findings.

usage: rbac_paths_e2e.py KGUARD SOURCE_DIR
"""
import contextlib
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cluster import Cluster, log  # noqa: E402

KGUARD = os.path.abspath(sys.argv[1])
FIXTURES = os.path.join(os.path.abspath(sys.argv[2]), "tests", "rbac", "paths")
KINDS = ["pod-exec", "bind", "csr-approval"]


def steps(report):
    return sorted({(p["from"].get("name"), s["kind"]) for p in report["paths"] for s in p["path"]})


def main(cluster=None):
    """Runs on `cluster` when given (analysis_e2e.py shares one control plane; what this applies is
    deleted again, so the next suite sees only its own RBAC), else starts one."""
    failures = []
    with tempfile.TemporaryDirectory() as work:
        with (contextlib.nullcontext(cluster) if cluster else Cluster(work, audit=False)) as c:
            c.kubectl("apply", "-f", "-", input="apiVersion: v1\nkind: Namespace\nmetadata: {name: dev}\n")
            for kind in KINDS:
                # Each fixture's attacker under its own name, so they do not mix.
                text = open(os.path.join(FIXTURES, kind, "finds.yaml")).read()
                text = text.replace('"attacker', f'"attacker-{kind}').replace("attacker-role", f"attacker-role-{kind}")
                path = os.path.join(work, kind + ".yaml")
                with open(path, "w") as f:
                    f.write(text)
                c.kubectl("apply", "-f", path)
            c.kubectl("apply", "-f", "-", input=(
                "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: ghost, namespace: dev}\n"
                "roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}\n"
                "subjects: [{kind: ServiceAccount, name: ghost, namespace: dev}]\n"))
            files = [os.path.join(work, k + ".yaml") for k in KINDS]
            live = subprocess.run([KGUARD, "rbac", "paths", "--cluster", "--kubeconfig", c.admin_kubeconfig, "-q", "-o", "json",
                                   "--config", os.devnull], capture_output=True, text=True)
            offline = subprocess.run([KGUARD, "rbac", "paths", "-q", "-o", "json", "--config", os.devnull, *files],
                                     capture_output=True, text=True)
            if live.returncode != 1 or offline.returncode != 1:
                raise SystemExit(f"exit codes {live.returncode}/{offline.returncode}\n{live.stderr}\n{offline.stderr}")
            live_steps = [s for s in steps(json.loads(live.stdout)) if s[0] and s[0].startswith("attacker")]
            offline_steps = steps(json.loads(offline.stdout))
            log(f"live: {live_steps}")
            if live_steps != [s for s in offline_steps if s[0] and s[0].startswith("attacker")]:
                failures.append(f"live paths {live_steps} != file paths {offline_steps}")
            for kind in KINDS:
                if (f"attacker-{kind}", kind) not in live_steps:
                    failures.append(f"live cluster: no {kind} step from attacker-{kind}")
            dangling = json.loads(live.stdout)["hygiene"]["danglingSubjects"]
            if [d["serviceAccount"] for d in dangling] != ["dev/ghost"]:
                failures.append(f"live cluster: dangling subjects {dangling}")
            scan = subprocess.run([KGUARD, "scan", "--cluster", "--kubeconfig", c.admin_kubeconfig, "-q", "-o", "json",
                                   "--no-config", "--only", "rbac"], capture_output=True, text=True)
            report = json.loads(scan.stdout)
            rules = {f["rule"]["id"] if isinstance(f.get("rule"), dict) else f.get("rule") for f in report.get("findings", [])}
            if not {"rbac-path-cluster-admin", "rbac-binding-dangling-subject"} <= rules:
                failures.append(f"scan --cluster --only rbac: rules {sorted(r for r in rules if r)}")
            if cluster:
                c.kubectl("delete", "rolebinding", "ghost", "-n", "dev")
                for path in files:
                    c.kubectl("delete", "--ignore-not-found", "-f", path)
    for f in failures:
        print("FAIL:", f)
    print(f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

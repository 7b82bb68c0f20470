#!/usr/bin/env python3
"""kguard node against a real kube-apiserver (tests/e2e/cluster.py; no kubelet runs here):

- --publish: the fixture root's ClusterPolicyReport is applied by server-side apply through the
  wgpolicyk8s.io v1alpha2 CRD (installed here, schema-less) and read back with kubectl; a second
  run updates it in place;
- --cluster: a Node object without a kubelet behind it gives a coverage gap for its /configz
  (the path a kubelet answer takes is tested on a recorded answer in node_integration), and an
  identity without nodes/proxy gets Forbidden as the gap's reason; `kguard scan --cluster` adds the
  same kubelet reads to its report (the same gaps, the RBAC named);
- the DaemonSet's identity (deploy/node's Namespace, ServiceAccount and RBAC applied as shipped):
  --publish in-cluster with a TokenRequest token in a --serviceaccount-dir folder (the projected
  volume's layout) applies its report and may do nothing else; as the DaemonSet's uid 65532, an
  unreadable kubelet unit with --configz-from-api asks the API server for the node's /configz,
  and the refusal (no nodes/proxy) is the coverage gap's message.

C4: cluster_options(work) and main(cluster=None); own names (node-e2e-*), cleaned up.
Usage: node_e2e.py KGUARD SOURCE_DIR
"""
import json
import contextlib
import os
import shutil
import sys
import tempfile

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cluster import Cluster  # noqa: E402
from e2e_support import Checks, run_kguard  # noqa: E402

KGUARD = os.path.abspath(sys.argv[1])
SOURCE = os.path.abspath(sys.argv[2])
sys.path.insert(0, os.path.join(SOURCE, "tests", "node"))
import make_root  # noqa: E402

CRD = """
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: clusterpolicyreports.wgpolicyk8s.io
spec:
  group: wgpolicyk8s.io
  scope: Cluster
  names: {kind: ClusterPolicyReport, listKind: ClusterPolicyReportList, plural: clusterpolicyreports, singular: clusterpolicyreport, shortNames: [cpolr]}
  versions:
    - name: v1alpha2
      served: true
      storage: true
      schema:
        openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
"""

NODE = """
apiVersion: v1
kind: Node
metadata:
  name: node-e2e-worker
"""


def cluster_options(work):
    return {}


def kguard(*args, env=None, uid=None):
    """kguard ARGS, as `uid` (setpriv) when given: the DaemonSet's non-root identity."""
    if uid is None:
        return run_kguard(KGUARD, *args, env=env)
    return run_kguard("setpriv", "--reuid", str(uid), "--regid", str(uid), "--clear-groups", KGUARD, *args, env=env)


def daemonset_identity(c, work, good, check):
    # deploy/node's Namespace, ServiceAccount, ClusterRole and ClusterRoleBinding as shipped (the
    # DaemonSet itself needs a kubelet), a token for the ServiceAccount from the TokenRequest API
    # laid out as the projected volume lays it out, and kguard node in-cluster with it.
    shipped = [d for d in yaml.safe_load_all(open(os.path.join(SOURCE, "deploy", "node", "kguard-node.yaml"))) if d]
    identity = [d for d in shipped if d["kind"] in ("Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding")]
    c.kubectl("apply", "-f", "-", input=yaml.safe_dump_all(identity))
    token = c.kubectl("create", "token", "kguard-node", "-n", "kguard-node", "--duration", "1h").strip()
    sa_dir = os.path.join(work, "sa")
    os.makedirs(sa_dir)
    for name, text in (("token", token), ("ca.crt", open(os.path.join(c.certs, "ca.crt")).read()),
                       ("namespace", "kguard-node")):
        with open(os.path.join(sa_dir, name), "w") as f:
            f.write(text)
    os.chmod(work, 0o755)
    for path in (sa_dir, *(os.path.join(sa_dir, n) for n in os.listdir(sa_dir))):
        os.chmod(path, 0o755 if os.path.isdir(path) else 0o644)
    port = c.server.rsplit(":", 1)[1]
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": work,
           "KUBERNETES_SERVICE_HOST": "127.0.0.1", "KUBERNETES_SERVICE_PORT": port}
    code, _, err = kguard("node", "--root", good, "--node-name", "node-e2e-ds", "--publish",
                          "--serviceaccount-dir", sa_dir, "-o", "json=" + os.path.join(work, "ds.json"), env=env)
    check(code == 0, f"--publish in-cluster with --serviceaccount-dir exits 0 ({code}: {err.strip()[:300]})")
    published = json.loads(c.kubectl("get", "clusterpolicyreport", "kguard-node-node-e2e-ds", "-o", "json"))
    check(published["metadata"]["name"] == "kguard-node-node-e2e-ds", "the DaemonSet's identity published its report")
    who = "--as=system:serviceaccount:kguard-node:kguard-node"
    check(c.kubectl("auth", "can-i", "get", "nodes/proxy", who, check=False).strip() == "no",
          "the DaemonSet's identity may not read nodes/proxy")
    # As uid 65532 with the kubelet's unit unreadable: --configz-from-api asks the API server,
    # which refuses this identity; the gap says so, and no kubelet rule is judged.
    if not shutil.which("setpriv") or os.geteuid() != 0:
        log("skip the non-root run: needs root and setpriv")
    else:
        code, out, err = kguard("node", "--root", good, "--node-name", "node-e2e-ds", "--configz-from-api",
                                "--serviceaccount-dir", sa_dir, "-o", "json", env=env, uid=65532)
        doc = json.loads(out) if out.strip() else {}
        gaps = [g for g in doc.get("coverage", []) if g.get("message", "").startswith("the kubelet's unit")]
        check(code == 0 and len(gaps) == 1 and "could not be read either: Forbidden" in gaps[0]["message"],
              f"--configz-from-api's refusal is the kubelet gap's message ({code}: {json.dumps(gaps)[:400]} {err[:200]})")
        judged = {x["rule"] for x in doc.get("checks", []) if x["evaluated"] > 0 and x["rule"].startswith("kubelet-")}
        check(not judged, f"no kubelet rule is judged without the kubelet's settings ({sorted(judged)})")
    c.kubectl("delete", "clusterpolicyreport", "kguard-node-node-e2e-ds", "--ignore-not-found", check=False)
    for d in identity:
        ns = ["-n", d["metadata"]["namespace"]] if d["metadata"].get("namespace") else []
        # No namespace controller runs here to finish a namespace's deletion: do not wait for it.
        c.kubectl("delete", d["kind"].lower(), d["metadata"]["name"], *ns, "--ignore-not-found", "--wait=false",
                  check=False)


def main(cluster=None):
    work = tempfile.mkdtemp(prefix="kguard-node-e2e-")
    check = Checks()

    try:
        root = os.path.join(work, "root")
        make_root.make(os.path.join(SOURCE, "tests", "node", "roots", "bad.yaml"), root)
        with (contextlib.nullcontext(cluster) if cluster else Cluster(work)) as c:
            c.kubectl("apply", "-f", "-", input=CRD)
            c.wait_for(lambda: "clusterpolicyreports" in c.kubectl("api-resources", "--api-group=wgpolicyk8s.io"),
                       "the PolicyReport CRD is served")
            code, _, err = kguard("node", "--root", root, "--node-name", "node-e2e-cp", "--publish",
                                  "--kubeconfig", c.admin_kubeconfig)
            check(code == 0, f"node --publish exits 0 ({code}: {err.strip()[:300]})")
            report = json.loads(c.kubectl("get", "clusterpolicyreport", "kguard-node-node-e2e-cp", "-o", "json"))
            fails = [r for r in report.get("results", []) if r["result"] == "fail"]
            check(report["summary"]["fail"] == len(fails) and len(fails) > 30,
                  f"the published report holds the failed checks ({len(fails)})")
            check(any(r["rule"] == "kubelet-anonymous-auth" for r in fails), "kubelet-anonymous-auth is among them")
            # A second run (a fixed root) replaces the report in place.
            good = os.path.join(work, "good")
            make_root.make(os.path.join(SOURCE, "tests", "node", "roots", "good.yaml"), good)
            code, _, err = kguard("node", "--root", good, "--node-name", "node-e2e-cp", "--publish",
                                  "--kubeconfig", c.admin_kubeconfig)
            again = json.loads(c.kubectl("get", "clusterpolicyreport", "kguard-node-node-e2e-cp", "-o", "json"))
            check(code == 0 and again["summary"]["fail"] == 0, "a clean run updates the report to 0 failures")
            # --cluster: a Node with no kubelet behind it is a coverage gap.
            c.kubectl("apply", "-f", "-", input=NODE)
            code, out, err = kguard("node", "--cluster", "--kubeconfig", c.admin_kubeconfig, "-o", "json")
            check(code == 0, f"node --cluster exits 0 ({code}: {err.strip()[:300]})")
            doc = json.loads(out) if out.strip() else {}
            gaps = doc.get("coverage", [])
            check(any("node-e2e-worker" in g.get("message", "") for g in gaps),
                  f"the unreachable kubelet is a coverage gap ({json.dumps(gaps)[:300]})")
            check("coverage gap" in err, "the gap is said on stderr")
            # scan --cluster reads the same /configz (composed in the CLI): the Node is a coverage gap there too.
            code, out, err = kguard("scan", "--cluster", "--kubeconfig", c.admin_kubeconfig, "-n", "default",
                                    "--only", "kubelet-anonymous-auth,kubelet-read-only-port", "-o", "json", "-q")
            doc = json.loads(out) if out.strip() else {}
            gaps = [g for g in doc.get("coverage", []) if g.get("kind") == "NodeConfig"]
            check(code in (0, 1) and any("node-e2e-worker" in g.get("message", "") and g.get("resource") == "nodes/proxy"
                                         and "kubelet-anonymous-auth" in g.get("rules", []) for g in gaps),
                  f"scan --cluster: the unreachable kubelet is a coverage gap ({code}: {json.dumps(gaps)[:300]} {err[:200]})")
            # An identity without nodes/proxy: Forbidden.
            cert, key = c.make_cert("node-e2e-reader", "/CN=node-e2e-reader", "clientAuth")
            c.kubectl("create", "clusterrole", "node-e2e-list-nodes", "--verb=list", "--resource=nodes")
            c.kubectl("create", "clusterrolebinding", "node-e2e-list-nodes", "--clusterrole=node-e2e-list-nodes",
                      "--user=node-e2e-reader")
            reader = c.write_kubeconfig("node-e2e-reader.kubeconfig",
                                        cluster={"certificate-authority": os.path.join(c.certs, "ca.crt")},
                                        user={"client-certificate": cert, "client-key": key})
            code, out, err = kguard("node", "--cluster", "--kubeconfig", reader, "-o", "json")
            doc = json.loads(out) if out.strip() else {}
            reasons = {g.get("reason") for g in doc.get("coverage", [])}
            check(code == 0 and "Forbidden" in reasons, f"without nodes/proxy the gap says Forbidden ({reasons})")
            code, out, err = kguard("scan", "--cluster", "--kubeconfig", reader, "-n", "default",
                                    "--only", "kubelet-anonymous-auth", "-o", "json", "-q")
            doc = json.loads(out) if out.strip() else {}
            gaps = [g for g in doc.get("coverage", []) if g.get("kind") == "NodeConfig"]
            check(any(g.get("reason") == "Forbidden" and "nodes/proxy" in g.get("message", "") for g in gaps),
                  f"scan --cluster without nodes/proxy: a Forbidden gap naming nodes/proxy ({code}: {json.dumps(gaps)[:300]} {err[:200]})")
            daemonset_identity(c, work, good, check)
            for what in (["clusterrolebinding", "node-e2e-list-nodes"], ["clusterrole", "node-e2e-list-nodes"],
                         ["node", "node-e2e-worker"], ["clusterpolicyreport", "kguard-node-node-e2e-cp"]):
                c.kubectl("delete", *what, "--ignore-not-found", check=False)
    finally:
        check.keep_or_remove(work)
    return check.result()


if __name__ == "__main__":
    sys.exit(main())

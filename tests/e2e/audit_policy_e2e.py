#!/usr/bin/env python3
"""The audit-policy checks against a real kube-apiserver (cluster.py):

 (a) every resource and subresource the API server's discovery lists, under
     its group, is one kguard's resource table knows: a Policy naming them all
     raises no audit-policy-wrong-group finding (the table is what the
     wrong-group rule and `audit policy check` judge groups by);
 (b) the API server starts with the policy kube-up writes
     (tests/audit_policy/policies/kube-up-shape.yaml), which kguard reads as
     valid (no audit-policy-invalid finding), and records an exec-shaped and a
     Secret request at the levels kguard's evaluation says.

C4: cluster_options(work) adds nothing (the composed control plane keeps the
audit module's policy); (b) runs only on the control plane main() builds.

Usage: audit_policy_e2e.py KGUARD SOURCE_DIR
"""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cluster import Cluster, log  # noqa: E402

KGUARD = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else None
SOURCE = os.path.abspath(sys.argv[2]) if len(sys.argv) > 2 else None


def kguard(*argv):
    p = subprocess.run([KGUARD, *argv], capture_output=True, text=True, timeout=300)
    return p.returncode, p.stdout, p.stderr


def discovered(c):
    """{group: {resource or resource/sub}} from the API server's discovery."""
    out = {"": set()}
    for r in json.loads(c.kubectl("get", "--raw", "/api/v1"))["resources"]:
        out[""].add(r["name"])
    for g in json.loads(c.kubectl("get", "--raw", "/apis"))["groups"]:
        names = out.setdefault(g["name"], set())
        for v in g["versions"]:
            for r in json.loads(c.kubectl("get", "--raw", "/apis/" + v["groupVersion"]))["resources"]:
                names.add(r["name"])
    return out


def check_table(c, work):
    groups = discovered(c)
    lines = ["apiVersion: audit.k8s.io/v1", "kind: Policy", "rules:", "  - level: Metadata", "    resources:"]
    count = 0
    for g, names in sorted(groups.items()):
        lines.append(f'      - group: "{g}"')
        lines.append("        resources: [" + ", ".join(f'"{n}"' for n in sorted(names)) + "]")
        count += len(names)
    path = os.path.join(work, "all-resources.yaml")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    code, out, err = kguard("scan", "--no-config", "-o", "json", "--only", "audit-policy-wrong-group,audit-policy-invalid",
                            path)
    report = json.loads(out)
    bad = [f["message"] for f in report["findings"] if f["result"] == "fail"]
    if bad:
        log("audit_policy_e2e: resources the API server serves that kguard's table does not know:")
        for m in bad:
            log("  " + m)
        return False
    log(f"audit_policy_e2e: {count} resources and subresources of {len(groups)} groups known to the table")
    return True


def check_kube_up_policy(c):
    # kguard reads the policy the API server started with as valid...
    path = os.path.join(SOURCE, "tests", "audit_policy", "policies", "kube-up-shape.yaml")
    code, out, err = kguard("scan", "--no-config", "-o", "json", "--only", "audit-policy-invalid", path)
    if [f for f in json.loads(out)["findings"] if f["result"] == "fail"]:
        log("audit_policy_e2e: kguard refuses a policy kube-apiserver started with")
        return False
    # ...and the levels it records are the ones kguard's evaluation gives: a Secret read at
    # Metadata (no responseObject), a ConfigMap create at Metadata, a Namespace create at
    # RequestResponse (the built-in groups' default), an Event create not at all.
    c.kubectl("create", "namespace", "auditpol-e2e")
    c.kubectl("-n", "auditpol-e2e", "create", "secret", "generic", "s", "--from-literal=k=v")
    c.kubectl("-n", "auditpol-e2e", "get", "secret", "s")
    c.kubectl("-n", "auditpol-e2e", "create", "configmap", "cm", "--from-literal=k=v")
    want = {("get", "secrets"): "Metadata", ("create", "configmaps"): "Metadata",
            ("create", "namespaces"): "RequestResponse"}
    seen = {}
    import time
    deadline = time.time() + 30
    while time.time() < deadline and len(seen) < len(want):
        for e in c.audit_events():
            ref = e.get("objectRef") or {}
            key = (e.get("verb"), ref.get("resource"))
            if key in want and (ref.get("namespace") == "auditpol-e2e" or ref.get("name") == "auditpol-e2e") \
                    and e.get("stage") == "ResponseComplete":
                seen[key] = e.get("level")
        time.sleep(1)
    c.kubectl("delete", "namespace", "auditpol-e2e", "--wait=false")
    if seen != want:
        log(f"audit_policy_e2e: levels recorded {seen}, expected {want}")
        return False
    stages = {e.get("stage") for e in c.audit_events()}
    if "RequestReceived" in stages:
        log("audit_policy_e2e: RequestReceived recorded although every rule omits it")
        return False
    log("audit_policy_e2e: the API server records the levels and stages kguard's evaluation gives")
    return True


def cluster_options(work):
    return {}


def main(cluster=None):
    ok = True
    with tempfile.TemporaryDirectory(prefix="kguard-auditpol-e2e-") as work:
        if cluster is not None:
            return 0 if check_table(cluster, work) else 1
        with open(os.path.join(SOURCE, "tests", "audit_policy", "policies", "kube-up-shape.yaml")) as f:
            policy = f.read()
        with Cluster(os.path.join(work, "cluster"), audit_policy=policy, **cluster_options(work)) as c:
            ok &= check_table(c, work)
            ok &= check_kube_up_policy(c)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

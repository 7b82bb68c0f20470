#!/usr/bin/env python3
"""kguard node against a real kube-apiserver (tests/e2e/cluster.py; no kubelet runs here):

- --publish: the fixture root's ClusterPolicyReport is applied by server-side apply through the
  wgpolicyk8s.io v1alpha2 CRD (installed here, schema-less) and read back with kubectl; a second
  run updates it in place;
- --cluster: a Node object without a kubelet behind it gives a coverage gap for its /configz
  (the path a kubelet answer takes is tested on a recorded answer in node_integration), and an
  identity without nodes/proxy gets Forbidden as the gap's reason; `kguard scan --cluster` adds the
  same kubelet reads to its report (the same gaps, the RBAC named).

C4: cluster_options(work) and main(cluster=None); own names (node-e2e-*), cleaned up.
Usage: node_e2e.py KGUARD SOURCE_DIR
"""
import functools
import json
import contextlib
import os
import sys
import tempfile

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


kguard = functools.partial(run_kguard, KGUARD)


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
            for what in (["clusterrolebinding", "node-e2e-list-nodes"], ["clusterrole", "node-e2e-list-nodes"],
                         ["node", "node-e2e-worker"], ["clusterpolicyreport", "kguard-node-node-e2e-cp"]):
                c.kubectl("delete", *what, "--ignore-not-found", check=False)
    finally:
        check.keep_or_remove(work)
    return check.result()


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""kguard netpol against a real kube-apiserver (cluster.py): applies
namespaces, workloads, Services and NetworkPolicies with the real kubectl,
then checks that

 (a) `kguard netpol list --cluster` gives the same connections as the
     applied files (the API server's defaulting — policyTypes, protocols,
     the kubernetes.io/metadata.name label — changes nothing);
 (b) `kguard netpol diff cluster NEW` lists exactly what NEW changes;
 (c) `kguard scan --cluster --netpol` carries the engine's findings.

Usage: netpol_e2e.py KGUARD SOURCE_DIR
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

APP = """
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {team: shop}}
---
apiVersion: v1
kind: Namespace
metadata: {name: ops, labels: {team: ops}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: c, image: nginx:1.27, ports: [{name: http, containerPort: 8080}]}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: db, namespace: shop}
spec:
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec: {containers: [{name: c, image: postgres:17, ports: [{name: pg, containerPort: 5432}]}]}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: monitor, namespace: ops}
spec:
  serviceName: monitor
  selector: {matchLabels: {app: monitor}}
  template:
    metadata: {labels: {app: monitor}}
    spec: {containers: [{name: c, image: prom/prometheus:v3.0.0}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db-from-web, namespace: shop}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress: [{from: [{podSelector: {matchLabels: {app: web}}}], ports: [{port: pg}]}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: egress-web, namespace: shop}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Egress]
  egress: [{to: [{ipBlock: {cidr: 10.0.0.0/8, except: [10.1.0.0/16]}}], ports: [{port: 443, endPort: 445}]}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec: {type: NodePort, selector: {app: web}, ports: [{port: 80, targetPort: http}]}
"""

CHANGE = """
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-from-ops, namespace: shop}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress: [{from: [{namespaceSelector: {matchLabels: {team: ops}}}], ports: [{port: 8080}]}]
"""


kguard = functools.partial(run_kguard, KGUARD)


def connections(out):
    return {(c["src"], c["dst"]): (c["TCP"], c["UDP"], c["SCTP"]) for c in json.loads(out)["connections"]}


def main(cluster=None):
    """Runs on `cluster` when given (analysis_e2e.py shares one control plane), else starts one."""
    work = tempfile.mkdtemp(prefix="kguard-netpol-e2e-")
    check = Checks()

    try:
        old = os.path.join(work, "old")
        new = os.path.join(work, "new")
        os.makedirs(old)
        os.makedirs(new)
        with open(os.path.join(old, "app.yaml"), "w") as f:
            f.write(APP)
        with open(os.path.join(new, "app.yaml"), "w") as f:
            f.write(APP + CHANGE)
        with (contextlib.nullcontext(cluster) if cluster else Cluster(work)) as c:
            c.kubectl("apply", "-f", os.path.join(old, "app.yaml"))
            kc = ["--kubeconfig", c.admin_kubeconfig, "-q"]
            code, live, err = kguard("netpol", "list", "--cluster", *kc, "-o", "json")
            check(code == 0, f"netpol list --cluster exits 0 ({code}: {err.strip()[:300]})")
            code, files, err = kguard("netpol", "list", old, "-o", "json")
            check(code == 0, "netpol list FILES exits 0")
            # kube-system and default hold no workloads here: the two inputs name the same peers.
            check(connections(live) == connections(files), "the cluster's connections equal the files'")
            check(connections(live).get(("shop/web[Deployment]", "ip:10.0.0.0-10.0.255.255")) == ("443-445", "", ""),
                  "web reaches 10.0.0.0/16 on TCP 443-445 only")
            check(("shop/web[Deployment]", "shop/db[Deployment]") not in connections(live), "web's egress is isolated")
            answers = {}
            for what in (["exposure"], ["explain", "shop/web", "shop/db"]):
                code, live_out, err = kguard("netpol", *what, "--cluster", *kc, "-o", "json")
                check(code == 0, f"netpol {what[0]} --cluster exits 0 ({code}: {err.strip()[:300]})")
                code, file_out, _ = kguard("netpol", *what, old, "-o", "json")
                answers[what[0]] = live_out
                check(code == 0 and live_out and json.loads(live_out) == json.loads(file_out),
                      f"netpol {what[0]}: the cluster's answer equals the files' ({live_out[:300]})")
            check('"how":"NodePort"' in answers["exposure"], "exposure --cluster names web's NodePort Service")
            code, out, err = kguard("netpol", "diff", "cluster", new, "--cluster", *kc)
            check(code == 0, f"netpol diff cluster NEW exits 0 ({err.strip()[:300]})")
            lines = out.splitlines()
            check(any("source: shop/db[Deployment], destination: shop/web[Deployment]" in l and "diff-type: removed" in l
                      for l in lines), "diff: db no longer reaches web")
            check(any("source: ops/monitor[StatefulSet], destination: shop/web[Deployment], old: All Connections, new: TCP 8080"
                      in l for l in lines), "diff: monitor's access cut to TCP 8080")
            code, out, err = kguard("scan", "--cluster", *kc, "--netpol", "-o", "json", "--no-config")
            check(code in (0, 1), f"scan --cluster --netpol runs ({code}: {err.strip()[:300]})")
            check("netpol-namespace-open-to-other-namespaces" in out, "scan --netpol reports the open namespace")
    finally:
        check.keep_or_remove(work)
    return check.result()


if __name__ == "__main__":
    sys.exit(main())

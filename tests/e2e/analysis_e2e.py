#!/usr/bin/env python3
"""The analysis engines against one real control plane (kube-apiserver, etcd and the
clusterrole-aggregation controller of kube-controller-manager): rbac_paths_e2e.py (kguard rbac paths
and scan's RBAC findings live against the same objects as files; it deletes what it applied),
rbac_differential.py (kguard rbac check against SubjectAccessReview and kubectl auth can-i) and
netpol_e2e.py (kguard netpol on the live cluster against the same files), one after the other in
the same cluster so the suite starts one control plane for the three. Each script still runs alone with its own cluster.

    analysis_e2e.py KGUARD SOURCE_DIR CORPORA_DIR
"""
import contextlib
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cluster import Cluster, log  # noqa: E402
import netpol_e2e  # noqa: E402  (each reads KGUARD, SOURCE_DIR, CORPORA_DIR from sys.argv)
import rbac_differential  # noqa: E402
import rbac_paths_e2e  # noqa: E402


def cluster_options(work):
    """Contract C4: the aggregation controller (rbac_differential waits for admin/edit/view)."""
    return {"controllers": ["clusterrole-aggregation"]}


def main(cluster=None):
    """Runs the three on `cluster` when given (the shared control plane), else starts one."""
    failed = []
    with tempfile.TemporaryDirectory(prefix="kguard-analysis-e2e-") as work:
        with (contextlib.nullcontext(cluster) if cluster else
              Cluster(os.path.join(work, "cluster"), audit=False, **cluster_options(work))) as c:
            for name, run in (("rbac_paths_e2e", rbac_paths_e2e.main), ("rbac_differential", rbac_differential.main),
                              ("netpol_e2e", netpol_e2e.main)):
                log(f"--- {name} on the shared control plane")
                if run(cluster=c) != 0:
                    failed.append(name)
    if failed:
        log("failed: " + ", ".join(failed))
        return 1
    log("all analysis e2e checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Scale of `kguard scan --cluster`: loads N objects (default 10,000:
ConfigMaps, Deployments, Services and ServiceAccounts over 20 namespaces) into
the real kube-apiserver of tests/e2e (built and cached by
build_cluster_binaries.sh) with kubectl server-side apply, then measures with
/usr/bin/time -v:

  list   `kguard snapshot`           discovery + paginated lists + snapshot file
  total  `kguard scan --cluster`     list + scan + JSON report
  scan   `kguard scan snapshot.json` the offline scan of what was listed

Writes bench/results/cluster-scale.md. Usage: cluster_scale.py KGUARD [N]
"""
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "e2e"))
from cluster import Cluster, log  # noqa: E402

KGUARD = os.path.abspath(sys.argv[1])
TOTAL = int(sys.argv[2]) if len(sys.argv) > 2 else 10_000
NAMESPACES = 20
RUNS = 3


def objects_for(ns, count):
    """count objects in ns: 40% ConfigMaps, 30% Deployments, 20% Services, 10% ServiceAccounts."""
    out = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}]
    plan = [("ConfigMap", count * 4 // 10), ("Deployment", count * 3 // 10), ("Service", count * 2 // 10)]
    plan.append(("ServiceAccount", count - sum(n for _, n in plan)))
    for kind, n in plan:
        for i in range(n):
            name = f"{kind.lower()}-{i:04d}"
            meta = {"name": name, "namespace": ns, "labels": {"app": f"app-{i % 50}", "bench": "scale"}}
            if kind == "ConfigMap":
                out.append({"apiVersion": "v1", "kind": kind, "metadata": meta,
                            "data": {"config.yaml": f"replicas: {i}\nlog: info\n", "LOG_LEVEL": "info"}})
            elif kind == "Deployment":
                out.append({"apiVersion": "apps/v1", "kind": kind, "metadata": meta, "spec": {
                    "replicas": 1 + i % 3,
                    "selector": {"matchLabels": {"app": f"app-{i % 50}"}},
                    "template": {"metadata": {"labels": {"app": f"app-{i % 50}"}}, "spec": {
                        "containers": [{"name": "app", "image": f"registry.example/app:{i % 7}.0",
                                        "ports": [{"containerPort": 8080}],
                                        "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}}]}}}})
            elif kind == "Service":
                out.append({"apiVersion": "v1", "kind": kind, "metadata": meta, "spec": {
                    "selector": {"app": f"app-{i % 50}"}, "ports": [{"port": 80, "targetPort": 8080}]}})
            else:
                out.append({"apiVersion": "v1", "kind": kind, "metadata": meta})
    return out


def timed(argv):
    """Wall seconds and peak RSS (MiB) of one run, from /usr/bin/time -v."""
    r = subprocess.run(["/usr/bin/time", "-v", *argv], stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=True)
    if r.returncode not in (0, 1):
        raise RuntimeError(f"{' '.join(argv)} exited {r.returncode}: {r.stderr[-2000:]}")
    wall = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", r.stderr)
    h, m, s = wall.groups()
    seconds = int(h or 0) * 3600 + int(m) * 60 + float(s)
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", r.stderr).group(1)) / 1024
    return seconds, rss


def measure(argv):
    runs = [timed(argv) for _ in range(RUNS)]
    return statistics.median(r[0] for r in runs), max(r[1] for r in runs)


def main():
    work = tempfile.mkdtemp(prefix="kguard-scale-")
    try:
        with Cluster(work, audit=False) as c:
            per_ns = TOTAL // NAMESPACES
            t0 = time.time()
            for n in range(NAMESPACES):
                items = objects_for(f"scale-{n:02d}", per_ns if n else TOTAL - per_ns * (NAMESPACES - 1))
                path = os.path.join(work, f"batch-{n:02d}.json")
                with open(path, "w") as f:
                    json.dump({"apiVersion": "v1", "kind": "List", "items": items}, f)
                c.kubectl("apply", "--server-side", "--field-manager", "kguard-bench", "-f", path)
            load = time.time() - t0
            log(f"loaded {TOTAL} objects in {load:.0f}s")
            snap = os.path.join(work, "snapshot.json")
            kc = c.admin_kubeconfig
            list_s, list_rss = measure([KGUARD, "snapshot", "--kubeconfig", kc, "-q", "-o", snap])
            total_s, total_rss = measure([KGUARD, "scan", "--cluster", "--kubeconfig", kc, "-q",
                                          "-o", "json=/dev/null"])
            scan_s, scan_rss = measure([KGUARD, "scan", snap, "-q", "-o", "json=/dev/null"])
            with open(snap) as f:
                listed = len(json.load(f)["items"])
            size = os.path.getsize(snap) / 1e6
            report = subprocess.run([KGUARD, "scan", snap, "-q", "-o", "json"], stdout=subprocess.PIPE,
                                    text=True).stdout
            findings = len(json.loads(report)["findings"])
    finally:
        shutil.rmtree(work, ignore_errors=True)
    cpu = subprocess.run(["nproc"], stdout=subprocess.PIPE, text=True).stdout.strip()
    md = f"""# kguard scan --cluster at scale

{TOTAL:,} objects loaded (ConfigMaps, Deployments, Services, ServiceAccounts over
{NAMESPACES} namespaces) into a real kube-apiserver v1.37.2 + etcd on loopback
(tests/e2e/cluster.py), by `bench/cluster_scale.py`. Median of {RUNS} runs, peak RSS
is the maximum, from `/usr/bin/time -v`. Machine: {cpu} cores, shared.

| step | what | wall | peak RSS |
|---|---|---:|---:|
| list | `kguard snapshot` (discovery, paginated lists, {listed:,} objects, {size:.1f} MB file) | {list_s:.2f} s | {list_rss:.0f} MiB |
| scan | `kguard scan snapshot.json` (offline, {findings:,} findings, JSON report) | {scan_s:.2f} s | {scan_rss:.0f} MiB |
| total | `kguard scan --cluster` (list + scan + report) | {total_s:.2f} s | {total_rss:.0f} MiB |

Loading the objects with `kubectl apply --server-side` took {load:.0f} s.
"""
    out = os.path.join(HERE, "results", "cluster-scale.md")
    with open(out, "w") as f:
        f.write(md)
    print(md)


if __name__ == "__main__":
    main()

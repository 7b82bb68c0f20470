#!/usr/bin/env python3
"""The control-plane rules on the flags of the live-cluster harness without starting it: the static
Pods in tests/controlplane/harness carry the argv tests/e2e/cluster.py gives kube-apiserver and etcd
(as controlplane_e2e.py writes them, KGUARD_KEEP_CONTROLPLANE=DIR), and controlplane_e2e's steps 1
and 2 run over them: a kubeadm manifest set and ClusterConfigurations judged exactly as an
independent reading of the argv predicts, and one-flag variants (bad and good for each of the 45
rules) flipping exactly their rule. The live step (the Pod read back from a cluster) is the e2e's.

    controlplane_test.py KGUARD SOURCE_DIR
"""
import os
import sys
import tempfile

SOURCE = sys.argv[2] if len(sys.argv) > 2 else "."
sys.path.insert(0, os.path.join(SOURCE, "tests", "e2e"))
import controlplane_e2e as e2e  # noqa: E402  (reads KGUARD and SOURCE_DIR from sys.argv)


def main():
    failures = []

    def check(cond, what):
        if not cond:
            failures.append(what)
            print("FAIL: " + what, file=sys.stderr)

    argv = e2e.argv_from_manifests(os.path.join(SOURCE, "tests", "controlplane", "harness"))
    check(set(argv) == {e2e.API, e2e.ETCD}, f"fixture components: {sorted(argv)}")
    with tempfile.TemporaryDirectory(prefix="kguard-controlplane-") as out:
        messages = e2e.judge_flags(argv, "v1.37.2", out, check)
    check("apiserver-profiling-enabled" in messages, "no profiling finding on the harness' kube-apiserver")
    print(f"{len(failures)} failed" if failures else "controlplane: all checks passed", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

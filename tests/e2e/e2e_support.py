"""What the e2e suites share beside the control plane (cluster.py): running kguard, recording
checks, keeping a failed suite's work folder, waiting for a condition.

    kguard = functools.partial(run_kguard, KGUARD)
    checks = Checks()
    checks(code == 0, "kguard exits 0")
    ...
    return checks.finish(work)        # 0 or 1; the work folder is removed, or kept when a check failed
"""
import shutil
import subprocess
import time

from cluster import log


def run_kguard(binary, *argv, timeout=300, env=None, input=None):
    """kguard ARGV: (exit code, stdout, stderr)."""
    r = subprocess.run([binary, *argv], capture_output=True, text=True, timeout=timeout, env=env, input=input)
    return r.returncode, r.stdout, r.stderr


class Checks:
    """check(ok, what): logs `ok   what` or `FAIL what` and keeps the failures."""

    def __init__(self):
        self.failures = []

    def __call__(self, ok, what):
        log(("ok   " if ok else "FAIL ") + what)
        if not ok:
            self.failures.append(what)
        return ok

    def keep_or_remove(self, work):
        """A failed suite's work folder stays for inspection; a passed one's is removed."""
        if self.failures:
            log(f"work directory kept for inspection: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)

    def result(self):
        """0 when every check passed, else 1 (with the count logged)."""
        if self.failures:
            log(f"{len(self.failures)} check(s) failed")
            return 1
        return 0


def wait_until(what, predicate, timeout=30, interval=0.2):
    """Polls `predicate` until it is true; AssertionError naming `what` after `timeout` seconds."""
    end = time.time() + timeout
    while time.time() < end:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError("timed out waiting for " + what)

#!/usr/bin/env python3
"""A large honest input through the real binary: a multi-document file with about 57,000
findings (bench/gen_hostile.py --honest, 3 MiB) scanned into all eight report formats stays
within PERFORMANCE.md's memory budget (peak RSS <= 2 x input + 32 MiB, whatever the number of
findings), every machine format lists every finding, and the report is the same for any --jobs.
Peak RSS is the child's own (wait4), which does not depend on timing or machine load.

Run by ctest: large_input_test.py KGUARD_BINARY SOURCE_DIR
"""
import csv
import json
import os
import re
import subprocess
import sys
import tempfile
import unittest

KGUARD = sys.argv[1]
SOURCE = sys.argv[2]
del sys.argv[1:3]
MIB = 1 << 20
INPUT_MIB = 3
FORMATS = ["json", "sarif", "csv", "junit", "policyreport", "text", "markdown", "html"]

with open(KGUARD, "rb") as _f:
    _binary = _f.read()
# Sanitizers multiply memory: the budget is a release-build property.
SANITIZED = b"__asan_init" in _binary or b"__tsan_init" in _binary
del _binary


def run(args):
    """Runs kguard; returns (exit code, peak RSS in bytes, stderr)."""
    with tempfile.TemporaryFile() as err:
        p = subprocess.Popen([KGUARD, *args], stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        return p.returncode, usage.ru_maxrss * 1024, err.read().decode(errors="replace")


class LargeHonestInput(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.input = os.path.join(cls.tmp.name, "honest.yaml")
        subprocess.run([sys.executable, os.path.join(SOURCE, "bench", "gen_hostile.py"), "--honest",
                        cls.input, str(INPUT_MIB)], check=True)
        cls.size = os.path.getsize(cls.input)
        cls.out = {}
        cls.rss = {}
        for jobs in ("1", "2"):
            d = os.path.join(cls.tmp.name, "j" + jobs)
            os.mkdir(d)
            outputs = []
            for f in FORMATS:
                outputs += ["-o", f"{f}={os.path.join(d, f)}"]
            code, rss, err = run(["scan", "-q", "--no-config", "-j", jobs, *outputs, cls.input])
            # No gate is set: findings alone do not fail the run.
            assert code == 0, (code, err)
            cls.out[jobs] = d
            cls.rss[jobs] = rss

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def read(self, jobs, fmt):
        with open(os.path.join(self.out[jobs], fmt), encoding="utf-8", newline="") as f:
            return f.read()

    def test_peak_rss_within_budget(self):
        if SANITIZED:
            self.skipTest("sanitizer build")
        # PERFORMANCE.md: 2x the input + 32 MiB. (kguard links no gRPC/protobuf since the KMS plugin
        # speaks HTTP/2 itself: bench/results/kms.md "Resident memory".)
        budget = 2 * self.size + 32 * MIB
        for jobs, rss in self.rss.items():
            self.assertLessEqual(rss, budget, f"-j {jobs}: peak RSS {rss / MIB:.1f} MiB, budget "
                                 f"{budget / MIB:.1f} MiB for {self.size / MIB:.1f} MiB of input")

    def test_machine_formats_are_complete(self):
        report = json.loads(self.read("1", "json"))
        findings = report["findings"]
        self.assertGreater(len(findings), 40000)  # the input is what it claims to be
        failed = sum(1 for f in findings if f["result"] == "fail")
        rows = list(csv.reader(self.read("1", "csv").splitlines()))
        self.assertEqual(len(rows) - 1, len(findings))
        sarif = json.loads(self.read("1", "sarif"))
        self.assertEqual(len(sarif["runs"][0]["results"]), len(findings))
        junit = self.read("1", "junit")
        self.assertEqual(int(re.search(r'<testsuites [^>]*failures="(\d+)"', junit).group(1)),
                         report["overview"]["failed"])
        self.assertGreater(failed, 0)
        # The human formats group repeated shapes: far smaller than the machine ones.
        self.assertLess(len(self.read("1", "text")), len(self.read("1", "json")) // 20)

    def test_same_report_for_any_jobs(self):
        stamp = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ|seconds: \d+")
        for fmt in FORMATS:
            a = stamp.sub("T", self.read("1", fmt))
            b = stamp.sub("T", self.read("2", fmt))
            self.assertTrue(a == b, f"{fmt} differs between -j 1 and -j 2")


if __name__ == "__main__":
    unittest.main()

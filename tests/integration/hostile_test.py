#!/usr/bin/env python3
"""Hostile input through the real binary: every shape finishes with located errors, errors are
capped per file, size limits are reported, non-regular files are refused, and the rest of the
input is still scanned.  Timeouts are a safety net only; speed is measured in bench/, never here.

Run by ctest: hostile_test.py KGUARD_BINARY
"""
import json
import os
import resource
import subprocess
import sys
import tempfile
import unittest

KGUARD = sys.argv[1]
del sys.argv[1:2]
TIMEOUT = 60

# In the default namespace, so each object has a finding that names it.
CM = """apiVersion: v1
kind: ConfigMap
metadata:
  name: {name}
  namespace: default
data:
  key: value
"""


with open(KGUARD, "rb") as _f:
    # AddressSanitizer reserves terabytes of address space: no RLIMIT_AS for it.
    SANITIZED = b"__asan_init" in _f.read()


def limit_memory():
    # A binary that reads /dev/zero forever must die of it, not take the machine down.
    if not SANITIZED:
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))


def scan(*args, stdin=None, cwd=None):
    """Runs `kguard scan -o json --no-config ARGS`; returns (exit code, report, stderr)."""
    p = subprocess.run([KGUARD, "scan", "-o", "json", "--no-config", "-j", "1", *args],
                       input=stdin, capture_output=True, timeout=TIMEOUT, cwd=cwd,
                       preexec_fn=limit_memory)
    try:
        report = json.loads(p.stdout)
    except ValueError:
        report = None
    return p.returncode, report, p.stderr.decode(errors="replace")


def names(report):
    return sorted({f["name"] for f in report["findings"]}) if report else []


class Hostile(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)

    def write(self, name, text):
        path = os.path.join(self.tmp.name, name)
        with open(path, "w" if isinstance(text, str) else "wb") as f:
            f.write(text)
        return path

    def only_error(self, report, contains):
        self.assertIsNotNone(report)
        self.assertEqual(len(report["errors"]), 1, report["errors"][:3])
        self.assertIn(contains, report["errors"][0]["message"])
        return report["errors"][0]

    def test_deep_flow_nesting_stops_at_the_depth_limit_and_scans_the_rest(self):
        # 200 KB of '[' between two objects: libyaml used to scan all of it (minutes).
        path = self.write("deep.yaml", CM.format(name="before") + "---\nkey: " + "[" * 200_000 +
                          "\n---\n" + CM.format(name="after"))
        code, report, _ = scan(path)
        self.assertEqual(code, 2)
        err = self.only_error(report, "nesting deeper than 512 levels")
        self.assertEqual((err["file"], err["line"]), (path, 9))
        self.assertEqual(names(report), ["after", "before"])

    def test_deep_flow_nesting_resumes_after_the_document_end_marker(self):
        # The document after `...` is in the same libyaml chunk: it must still be read.
        path = self.write("deep-dots.yaml", "%YAML 1.1\n---\nkey: " + "{" * 200_000 + "\n...\n" +
                          CM.format(name="after-dots"))
        code, report, _ = scan(path)
        self.assertEqual(code, 2)
        err = self.only_error(report, "nesting deeper than 512 levels")
        self.assertEqual(err["line"], 3)
        self.assertEqual(names(report), ["after-dots"])

    def test_deep_json_nesting_is_not_parsed_again_as_yaml(self):
        path = self.write("deep.json", '{"a":' * 400_000 + "\n")
        code, report, _ = scan(path)
        self.assertEqual(code, 2)
        err = self.only_error(report, "nesting deeper than 512 levels")
        self.assertEqual(err["line"], 1)

    def test_errors_are_capped_per_file_with_a_count_of_the_rest(self):
        dup = self.write("dup.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: d, namespace: default}\n"
                         "data:\n" + "  a: b\n" * 5_001)
        tiny = self.write("tiny.yaml", "---\na: 1\n" * 1_000)
        good = self.write("good.yaml", CM.format(name="good"))
        code, report, _ = scan(dup, tiny, good)
        self.assertEqual(code, 2)
        by_file = {}
        for e in report["errors"]:
            by_file.setdefault(e["file"], []).append(e)
        self.assertEqual(len(by_file[dup]), 101)
        self.assertIn("duplicate key 'a'", by_file[dup][0]["message"])
        self.assertEqual(by_file[dup][0]["line"], 6)
        self.assertEqual(by_file[dup][-1]["message"],
                         "4900 more error(s) in this file not listed (only the first 100 are; "
                         "--max-errors-per-file)")
        self.assertEqual(len(by_file[tiny]), 101)
        self.assertTrue(by_file[tiny][-1]["message"].startswith("900 more error(s)"))
        self.assertNotIn(good, by_file)
        self.assertIn("good", names(report))

    def test_error_cap_from_the_flag_and_the_config(self):
        tiny = self.write("tiny.yaml", "---\na: 1\n" * 50)
        code, report, _ = scan("--max-errors-per-file", "5", tiny)
        self.assertEqual(code, 2)
        self.assertEqual(len(report["errors"]), 6)
        self.assertTrue(report["errors"][-1]["message"].startswith("45 more error(s)"))
        cfg = self.write("kguard.yaml", "limits:\n  maxErrorsPerFile: 3\n")
        p = subprocess.run([KGUARD, "scan", "-o", "json", "--config", cfg, tiny], capture_output=True,
                           timeout=TIMEOUT)
        self.assertEqual(len(json.loads(p.stdout)["errors"]), 4)

    def test_many_items_of_a_flow_list_are_capped(self):
        path = self.write("flow.yaml", "apiVersion: v1\nkind: List\nitems: [" + "a, " * 200_000 + "a]\n")
        code, report, _ = scan(path)
        self.assertEqual(code, 2)
        self.assertEqual(len(report["errors"]), 101)
        self.assertTrue(report["errors"][-1]["message"].startswith("199901 more error(s)"))

    def test_device_and_fifo_are_refused_and_other_inputs_scanned(self):
        good = self.write("good.yaml", CM.format(name="good"))
        code, report, _ = scan("/dev/zero", good)
        self.assertEqual(code, 2)
        err = self.only_error(report, "not a regular file (a character device)")
        self.assertEqual(err["file"], "/dev/zero")
        self.assertEqual(names(report), ["good"])
        fifo = os.path.join(self.tmp.name, "fifo.yaml")
        os.mkfifo(fifo)
        code, report, _ = scan(fifo, good)  # nobody writes: reading it would hang
        self.assertEqual(code, 2)
        self.only_error(report, "not a regular file (a FIFO)")
        self.assertEqual(names(report), ["good"])

    def test_file_size_limit_refuses_the_file_and_scans_the_others(self):
        big = self.write("big.yaml", CM.format(name="big") + "  pad: " + "x" * (2 << 20) + "\n")
        good = self.write("good.yaml", CM.format(name="good"))
        code, report, _ = scan("--max-file-size", "1MiB", big, good)
        self.assertEqual(code, 2)
        err = self.only_error(report, "is larger than the file size limit (1 MiB, --max-file-size)")
        self.assertEqual(err["file"], big)
        self.assertEqual(names(report), ["good"])

    def test_stdin_is_bounded_by_the_file_size_limit(self):
        body = (CM.format(name="s") + "---\n").encode() * 20_000  # about 2.4 MB through a pipe
        code, report, _ = scan("--max-file-size", "1M", "-", stdin=body)
        self.assertEqual(code, 2)
        err = self.only_error(report, "input of more than 1 MiB is larger than the file size limit")
        self.assertEqual(err["file"], "<stdin>")
        code, report, _ = scan("--max-file-size", "4M", "-", stdin=body)
        self.assertEqual((code, report["errors"]), (0, []))
        self.assertEqual(sum(r["count"] for r in report["overview"]["resources"]), 20_000)

    def test_document_size_limit_skips_the_document_only(self):
        big = CM.format(name="big") + "  pad: " + "x" * 300_000 + "\n"
        path = self.write("docs.yaml", CM.format(name="first") + "---\n" + big + "---\n" +
                          CM.format(name="last"))
        code, report, _ = scan("--max-document-size", "100KiB", path)
        self.assertEqual(code, 2)
        err = self.only_error(report, "is larger than the document size limit (100 KiB, --max-document-size)")
        self.assertEqual(err["line"], 9)
        self.assertEqual(names(report), ["first", "last"])
        # JSON values likewise.
        obj = json.loads(json.dumps({"apiVersion": "v1", "kind": "ConfigMap",
                                     "metadata": {"name": "n", "namespace": "default"}}))
        small = json.dumps(obj)
        huge = dict(obj, metadata={"name": "huge", "namespace": "default"}, data={"pad": "x" * 300_000})
        path = self.write("docs.json", small + "\n" + json.dumps(huge) + "\n" +
                          small.replace('"n"', '"m"') + "\n")
        code, report, _ = scan("--max-document-size", "100KiB", path)
        self.assertEqual(code, 2)
        err = self.only_error(report, "larger than the document size limit")
        self.assertEqual(err["line"], 2)
        self.assertEqual(names(report), ["m", "n"])

    def test_limits_in_the_config_and_bad_values(self):
        big = self.write("big.yaml", CM.format(name="big") + "  pad: " + "x" * 50_000 + "\n")
        cfg = self.write("kguard.yaml", "limits:\n  maxFileSize: 10KiB\n")
        p = subprocess.run([KGUARD, "scan", "-o", "json", "--config", cfg, big], capture_output=True,
                           timeout=TIMEOUT)
        self.assertEqual(p.returncode, 2)
        self.assertIn("file size limit (10 KiB", json.loads(p.stdout)["errors"][0]["message"])
        bad = self.write("bad.yaml", "limits:\n  maxFileSize: lots\n  maxErrorPerFile: 3\n")
        p = subprocess.run([KGUARD, "scan", "--config", bad, big], capture_output=True, text=True,
                           timeout=TIMEOUT)
        self.assertEqual(p.returncode, 2)
        self.assertIn(f"{bad}:2:16: limits.maxFileSize: must be a size", p.stderr)
        self.assertIn(f"{bad}:3:3: limits: unknown field 'maxErrorPerFile'", p.stderr)
        for flag, value in (("--max-file-size", "0"), ("--max-document-size", "12XB"),
                            ("--max-errors-per-file", "-1")):
            p = subprocess.run([KGUARD, "scan", flag, value, big], capture_output=True, text=True,
                               timeout=TIMEOUT)
            self.assertEqual(p.returncode, 2, flag)
            self.assertIn(flag, p.stderr)
            self.assertEqual(p.stdout, "")

    def test_text_report_groups_repeated_findings_and_json_lists_them_all(self):
        path = self.write("many.yaml", "---\n".join(CM.format(name=f"cm-{i}") for i in range(20)))
        p = subprocess.run([KGUARD, "scan", "--no-config", "--no-color", "-o", "text", path],
                           capture_output=True, text=True, timeout=TIMEOUT)
        self.assertEqual(p.returncode, 0, p.stderr)
        text = p.stdout
        self.assertEqual(text.count("ConfigMap is in the default namespace"), 3)
        self.assertIn("… and 17 more like this, not listed here", text)
        self.assertIn("17 findings of a repeated shape are counted, not listed", text)
        for shown in ("cm-0", "cm-1", "cm-2"):
            self.assertIn(f"ConfigMap default/{shown} ", text)
        self.assertNotIn("ConfigMap default/cm-3 ", text)
        code, report, _ = scan(path)
        self.assertEqual(len(report["findings"]), 20)


if __name__ == "__main__":
    unittest.main()

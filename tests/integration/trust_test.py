#!/usr/bin/env python3
"""End-to-end tests of the report's trustworthiness (issue 13): the grade cap,
per-file identities and --scope, --framework views, Chinese messages as
detailed as English.

Run by ctest: trust_test.py KGUARD_BINARY SOURCE_DIR
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import unittest

KGUARD, SOURCE = sys.argv[1:3]
del sys.argv[1:3]
EXAMPLES = os.path.join(SOURCE, "examples")


def run(*args, stdin=None, cwd=None):
    p = subprocess.run([KGUARD, *args], input=stdin, capture_output=True, text=True, cwd=cwd,
                       timeout=300)
    return p.returncode, p.stdout, p.stderr


def scan_json(*args, stdin=None, cwd=None):
    code, out, err = run("scan", "-o", "json", "--no-config", *args, stdin=stdin, cwd=cwd)
    if code > 1:
        raise AssertionError(f"kguard exited {code}: {err}")
    return json.loads(out), err


PRIVILEGED_POD = """apiVersion: v1
kind: Pod
metadata: {name: p, namespace: n}
spec:
  containers:
  - name: c
    image: nginx:1.27
    securityContext:
      privileged: true
"""


class GradeCap(unittest.TestCase):
    def test_examples_critical_caps_grade(self):
        report, _ = scan_json("--scope", "all", EXAMPLES)
        o = report["overview"]
        self.assertGreater(o["bySeverity"]["critical"], 0)
        self.assertGreaterEqual(o["score"], 90)  # the Polaris number is kept
        self.assertEqual(o["scoreGrade"], "A-")
        self.assertEqual(o["grade"], "D")
        self.assertEqual(o["gradeCap"]["grade"], "D")
        self.assertIn("critical", o["gradeCap"]["reason"])

    def test_high_caps_at_c(self):
        pod = PRIVILEGED_POD.replace("spec:\n", "spec:\n  hostPID: true\n", 1).replace(
            "privileged: true", "runAsNonRoot: true")
        report, _ = scan_json("--only", "pss-host-namespaces", "-", stdin=pod)
        o = report["overview"]
        self.assertEqual((o["bySeverity"]["critical"], o["bySeverity"]["high"]), (0, 1))
        self.assertEqual(o["scoreGrade"], "F")  # one check, failed: the score already says it
        self.assertIsNone(o["gradeCap"])
        # With passes around it, the high failure caps an otherwise good grade.
        report, _ = scan_json("--only", "pss-host-namespaces,pss", "-", stdin=pod)
        o = report["overview"]
        if o["scoreGrade"] not in ("C", "C-", "D+", "D", "D-", "F"):
            self.assertEqual(o["grade"], "C")
            self.assertIn("high", o["gradeCap"]["reason"])

    def test_clean_has_no_cap(self):
        report, _ = scan_json(os.path.join(EXAMPLES, "hardened"))
        self.assertIsNone(report["overview"]["gradeCap"])
        self.assertEqual(report["overview"]["grade"], "A+")

    def test_exempted_critical_does_not_cap(self):
        pod = PRIVILEGED_POD.replace(
            "metadata: {name: p, namespace: n}",
            "metadata:\n  name: p\n  namespace: n\n  annotations:\n"
            "    kguard.io/exempt: \"*\"\n    kguard.io/exempt-reason: lab pod")
        report, _ = scan_json("-", stdin=pod)
        self.assertIsNone(report["overview"]["gradeCap"])

    def test_cap_shown_in_every_format(self):
        for fmt, needle in (("text", "Grade cap"), ("markdown", "Grade cap"), ("html", "grade-cap")):
            code, out, err = run("scan", "--no-config", "-o", fmt, "-", stdin=PRIVILEGED_POD)
            self.assertLessEqual(code, 1, err)
            self.assertIn(needle, out, fmt)
        code, out, _ = run("scan", "--no-config", "-o", "text", "--lang", "zh", "-", stdin=PRIVILEGED_POD)
        self.assertIn("等级上限", out)
        self.assertIn("严重", out)


# What a reader needs from a message besides its wording: quoted names and
# values, numbers, capability names, field paths and label pairs.
VALUE_RES = (
    re.compile(r'"[^"]*"'),
    re.compile(r'(?<![\w.])\d+(?:\.\d+)*'),
    re.compile(r'\b[A-Z][A-Z0-9]*_[A-Z0-9_]+\b'),
    re.compile(r'\b[a-zA-Z]+(?:\.[a-zA-Z0-9\[\]]+)+(?:=\w+)?'),
    re.compile(r'[\w./-]+=[\w./-]+'),
)


def values(message):
    found = set()
    for r in VALUE_RES:
        found.update(r.findall(message))
    return found


class ChineseMessages(unittest.TestCase):
    def test_every_value_of_every_fail_fixture_survives_in_chinese(self):
        fixtures = sorted(os.path.join(root, "fail.yaml")
                          for root, _, files in os.walk(os.path.join(SOURCE, "rules"))
                          if "fail.yaml" in files)
        self.assertGreater(len(fixtures), 150)
        reports = {}
        for lang in ("en", "zh"):
            reports[lang], _ = scan_json("--lang", lang, *fixtures)
        en, zh = reports["en"]["findings"], reports["zh"]["findings"]
        self.assertEqual(len(en), len(zh))
        self.assertGreater(len(en), 1000)
        missing = []
        translated = 0
        for e, z in zip(en, zh):
            self.assertEqual((e["rule"], e["location"]), (z["rule"], z["location"]))
            if e["message"] not in z["message"]:
                translated += 1
            lost = {v for v in values(e["message"]) if v not in z["message"]}
            if lost:
                missing.append((e["rule"], e["message"], z["message"], sorted(lost)))
        self.assertEqual(missing, [], "values lost in Chinese: %s" % missing[:5])
        # Most messages have a Chinese form, not the English fallback.
        self.assertGreater(translated / len(en), 0.9)
        self.assertRegex(zh[0]["message"], r"[\u4e00-\u9fff]")

    def test_container_and_capability_names_in_chinese_text(self):
        pod = PRIVILEGED_POD.replace("privileged: true",
                                     "capabilities:\n        add: [NET_ADMIN]")
        pod = pod.replace("- name: c", "- name: web-frontend")
        code, out, _ = run("scan", "--no-config", "--lang", "zh", "-", stdin=pod)
        self.assertIn('容器 "web-frontend"', out)
        self.assertIn("NET_ADMIN", out)


if __name__ == "__main__":
    unittest.main()

#!/usr/bin/env python3
"""Issue 21's done-when, checked: every control-plane, node and file row (research §2.15–2.17) is
a rule with pass and fail fixtures, or a named duplicate whose named rules exist with theirs.

- the row tables of docs/control-plane.md and docs/node.md (scripts/cis_rows.py reads them) give
  each row's rules; each rule has rule.yaml, pass.yaml and fail.yaml, and kguard judges them:
  nothing fails in pass.yaml, every document of fail.yaml that is an object fails the rule;
- the research's own row ids (KGUARD_CORPORA_DIR/../research/scanners.md, when that corpus is
  present; skipped otherwise) are all in those tables, and no table row names an unknown id;
- docs/cis-rows.md is what scripts/cis_rows.py writes (fresh).

    cis_rows_test.py KGUARD SOURCE_DIR [CORPORA_DIR]
"""
import json
import os
import re
import subprocess
import sys
import unittest

KGUARD = sys.argv[1] if len(sys.argv) > 1 else "build/release/kguard"
SOURCE = sys.argv[2] if len(sys.argv) > 2 else "."
CORPORA = sys.argv[3] if len(sys.argv) > 3 else os.environ.get("KGUARD_CORPORA_DIR", "")
sys.path.insert(0, os.path.join(SOURCE, "scripts"))
import cis_rows  # noqa: E402

RESEARCH = os.path.join(CORPORA, "..", "research", "scanners.md") if CORPORA else ""


def research_ids(path):
    with open(path) as f:
        text = f.read()
    part = text[text.index("### 2.15"):]
    part = part[:part.index("### 2.18")] if "### 2.18" in part else part
    return {m.group(1) for m in re.finditer(r"^\| ((?:CP-(?:API|CM|SCH|ETCD)|NODE|FILE)-\d{3}) \|", part, re.M)}


def judge(path, rule):
    p = subprocess.run([KGUARD, "scan", path, "--only", rule, "-o", "json", "-q"],
                       capture_output=True, text=True, timeout=120)
    if p.returncode not in (0, 1):
        raise AssertionError(f"kguard scan {path} --only {rule}: exit {p.returncode}: {p.stderr}")
    doc = json.loads(p.stdout)
    failed_objects = len({(f["kind"], f.get("namespace", ""), f.get("name", "")) for f in doc["findings"]
                          if f["rule"] == rule and f["result"] == "fail"})
    return doc, failed_objects


class CisRows(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.rows = cis_rows.rows(SOURCE)
        cls.dirs = cis_rows.rule_dirs(SOURCE)

    def test_every_row_has_rules(self):
        self.assertGreaterEqual(len(self.rows), 85)
        for row, how, ids, _ in self.rows:
            self.assertTrue(ids, f"{row}: no rule named")
            for rid in ids:
                self.assertIn(rid, self.dirs, f"{row} ({how}): rule {rid} does not exist")

    def test_fixtures_pass_and_fail(self):
        rules = sorted({rid for _, _, ids, _ in self.rows for rid in ids})
        for rid in rules:
            d = os.path.join(SOURCE, self.dirs[rid])
            for name in ("pass.yaml", "fail.yaml"):
                self.assertTrue(os.path.getsize(os.path.join(d, name)) > 0, f"{rid}: {name} empty or missing")
            doc, n = judge(os.path.join(d, "pass.yaml"), rid)
            self.assertEqual(n, 0, f"{rid}: pass.yaml fails the rule")
            self.assertFalse(doc["errors"], f"{rid}: pass.yaml errors {doc['errors']}")
            check = [c for c in doc["checks"] if c["rule"] == rid]
            self.assertTrue(check and check[0]["evaluated"] > 0, f"{rid}: pass.yaml never applies the rule")
            doc, n = judge(os.path.join(d, "fail.yaml"), rid)
            self.assertGreater(n, 0, f"{rid}: fail.yaml does not fail the rule")

    def test_research_rows_all_listed(self):
        if not RESEARCH or not os.path.exists(RESEARCH):
            self.skipTest(f"research corpus not present ({RESEARCH or 'no KGUARD_CORPORA_DIR'})")
        want = research_ids(RESEARCH)
        self.assertEqual(len(want), 85, sorted(want))
        have = {row for row, _, _, _ in self.rows}
        self.assertEqual(sorted(want - have), [], "research rows missing from the docs' tables")
        self.assertEqual(sorted(have - want), [], "table rows the research does not have")

    def test_generated_doc_is_fresh(self):
        with open(os.path.join(SOURCE, "docs", "cis-rows.md")) as f:
            self.assertEqual(f.read(), cis_rows.render(SOURCE), "docs/cis-rows.md is stale: run scripts/cis_rows.py")


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)

#!/usr/bin/env python3
"""One engine: `kguard admit` and `kguard scan` reach the same verdict for the
same object under the same policy. Both sides are the real binary: scan's
JSON report against the webhook's answers over HTTPS.

- Every upstream Pod Security Admission fixture
  (corpora/pod-security/test/testdata/<level>/v1.N/{pass,fail}/*.yaml): the
  webhook runs with a namespace per level and version enforcing it; the set
  of rules in the denial must equal scan's failed rules at --pss LEVEL
  --pss-version v1.N --only pss, and pass fixtures must be allowed.
- Every object of examples/: the webhook audits with a profile of the whole
  catalog (kguard.io/audit); its audited rules must equal scan's failed
  object-level rules for that object scanned alone. Set-level rules
  (NetworkPolicy coverage, RBAC resolution...) need the whole input and are
  not run at admission; `kguard rules list -o json` marks them scope "set".

Run by ctest: admit_differential_test.py KGUARD_BINARY SOURCE_DIR CORPORA_DIR
"""
import collections
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from admit_support import Webhook, review_for, tempdir  # noqa: E402
import support  # noqa: E402

KGUARD, SOURCE, CORPORA = support.args("kguard", "source", "corpora")
FIXTURES = os.path.join(CORPORA, "pod-security", "test", "testdata")


def scan_report(*args):
    return support.scan_json("-q", *args, check=True, timeout=600)[1]


def failed_by_file(report, keep=lambda rule: True):
    out = collections.defaultdict(set)
    for f in report["findings"]:
        if f["result"] == "fail" and keep(f["rule"]):
            out[f["location"]["file"]].add(f["rule"])
    return out


class Differential(unittest.TestCase):
    def test_pss_fixtures(self):
        self.assertTrue(os.path.isdir(FIXTURES), "PSS fixtures not found at " + FIXTURES)
        versions = []  # (level, "v1.N", directory)
        for level in ("baseline", "restricted"):
            for d in sorted(glob.glob(os.path.join(FIXTURES, level, "v1.*"))):
                versions.append((level, os.path.basename(d), d))
        self.assertGreater(len(versions), 50)
        namespaces = {}
        for level, version, _ in versions:
            namespaces["%s-%s" % (level, version.replace(".", "-"))] = {
                "pod-security.kubernetes.io/enforce": level,
                "pod-security.kubernetes.io/enforce-version": version,
                "pod-security.kubernetes.io/warn": "privileged",
            }
        config = yaml.safe_dump({"admission": {"namespaces": namespaces}})
        work = tempdir("kguard-admit-diff-")
        hook = Webhook(KGUARD, work, config, extra_args=["--audit-log", ""])
        try:
            conn = hook.connection()
            checked = denied = 0
            mismatches = []
            for level, version, directory in versions:
                ns = "%s-%s" % (level, version.replace(".", "-"))
                scan = failed_by_file(scan_report("--pss", level, "--pss-version", version,
                                                  "--only", "pss", "-j", "2", directory))
                for path in sorted(glob.glob(os.path.join(directory, "*", "*.yaml"))):
                    with open(path) as f:
                        pod = yaml.safe_load(f)
                    pod.setdefault("metadata", {})["namespace"] = ns
                    resp = hook.review(review_for(pod, namespace=ns), conn=conn)
                    admit_rules = set(filter(None, resp.get("auditAnnotations", {})
                                             .get("enforce-violations", "").split(",")))
                    want = scan.get(path, set())
                    checked += 1
                    denied += not resp["allowed"]
                    if admit_rules != want or resp["allowed"] != (not want):
                        mismatches.append("%s: admit %s (allowed=%s), scan %s" % (
                            path, sorted(admit_rules), resp["allowed"], sorted(want)))
                    if os.sep + "pass" + os.sep in path and not resp["allowed"]:
                        mismatches.append("%s: a pass fixture was denied" % path)
            conn.close()
            self.assertEqual(mismatches, [], "\n".join(mismatches[:20]))
            self.assertGreater(checked, 4000)
            self.assertGreater(denied, 1500)
            print("PSS fixtures: %d reviewed, %d denied, all equal to scan" % (checked, denied))
        finally:
            self.assertEqual(hook.stop(), 0)
            shutil.rmtree(work, ignore_errors=True)

    def test_examples(self):
        rules = json.loads(subprocess.run([KGUARD, "rules", "list", "-o", "json"], check=True,
                                          capture_output=True, text=True).stdout)
        object_rules = {r["id"] for r in rules if r["scope"] == "object"}
        self.assertGreater(len(object_rules), 100)
        config = yaml.safe_dump({"admission": {
            "defaults": {"kguard-audit": "all"},
            "profiles": {"all": {"rules": []}},
        }})
        work = tempdir("kguard-admit-diff-ex-")
        hook = Webhook(KGUARD, work, config, extra_args=["--audit-log", ""])
        single = tempfile.mkdtemp(prefix="kguard-admit-objects-")
        try:
            conn = hook.connection()
            objects = 0
            mismatches = []
            for path in sorted(glob.glob(os.path.join(SOURCE, "examples", "*", "*.yaml"))):
                with open(path) as f:
                    docs = [d for d in yaml.safe_load_all(f) if d]
                for i, obj in enumerate(docs):
                    alone = os.path.join(single, "%s-%s-%d.yaml" % (
                        os.path.basename(os.path.dirname(path)), os.path.basename(path)[:-5], i))
                    with open(alone, "w") as f:
                        yaml.safe_dump(obj, f)
                    want = failed_by_file(scan_report(alone), lambda r: r in object_rules).get(alone, set())
                    meta = obj.get("metadata", {})
                    ns = meta.get("namespace", "")
                    if obj["kind"] == "Namespace":
                        ns = meta["name"]
                    resp = hook.review(review_for(obj, namespace=ns), conn=conn)
                    note = resp.get("auditAnnotations", {}).get("kguard-audit-violations", "")
                    got = set(note.split(": ", 1)[1].split(", ")) if note else set()
                    objects += 1
                    if got != want:
                        mismatches.append("%s #%d %s/%s: admit %s, scan %s" % (
                            path, i, obj["kind"], meta.get("name"), sorted(got), sorted(want)))
            conn.close()
            self.assertEqual(mismatches, [], "\n".join(mismatches))
            self.assertGreater(objects, 30)
            print("examples: %d objects, all equal to scan" % objects)
        finally:
            self.assertEqual(hook.stop(), 0)
            shutil.rmtree(work, ignore_errors=True)
            shutil.rmtree(single, ignore_errors=True)


if __name__ == "__main__":
    unittest.main(verbosity=2)

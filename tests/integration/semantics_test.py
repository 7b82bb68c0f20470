#!/usr/bin/env python3
"""Rule semantics through the binary: one risk one finding, --only under a PSS
level, messages without unset values, RBAC as Kubernetes authorizes it, and
findings located at the field they name.

Run by ctest: semantics_test.py KGUARD_BINARY SOURCE_DIR CORPORA_DIR
"""
import collections
import glob
import json
import os
import re
import subprocess
import sys
import tempfile
import textwrap
import unittest

KGUARD, SOURCE, CORPORA = sys.argv[1:4]
del sys.argv[1:4]
EXAMPLES = os.path.join(SOURCE, "examples")
REAL_WORLD = os.path.join(CORPORA, "real-world")


def run(*args, stdin=None):
    p = subprocess.run([KGUARD, *args], input=stdin, capture_output=True, text=True, timeout=300)
    return p.returncode, p.stdout, p.stderr


def scan(*args, stdin=None):
    code, out, err = run("scan", "-o", "json", *args, stdin=stdin)
    return json.loads(out), err


def scan_files(files, *args, config=None):
    with tempfile.TemporaryDirectory() as d:
        for name, text in files.items():
            with open(os.path.join(d, name), "w") as f:
                f.write(textwrap.dedent(text))
        cmd = []
        if config is None:
            cmd.append("--no-config")
        else:
            with open(os.path.join(d, ".kguard.yaml"), "w") as f:
                f.write(textwrap.dedent(config))
        report, err = scan(*cmd, *args, d)
        for f in report["findings"]:
            f["location"]["file"] = os.path.relpath(f["location"]["file"], d)
        return report, err


def check(report, rule):
    return next(c for c in report["checks"] if c["rule"] == rule)


def supersedes():
    """rule id -> the rule ids it supersedes, from rules/*/*/rule.yaml."""
    out = {}
    for path in glob.glob(os.path.join(SOURCE, "rules", "*", "*", "rule.yaml")):
        with open(path) as f:
            m = re.search(r"^supersedes: \[(.*)\]$", f.read(), re.M)
        if m:
            out[os.path.basename(os.path.dirname(path))] = [s.strip() for s in m.group(1).split(",")]
    return out


def same_risk_duplicates(report, owners):
    """(owner, superseded) pairs failing the same field of the same object."""
    at = collections.defaultdict(set)
    for f in report["findings"]:
        if f["result"] != "pass":
            loc = f["location"]
            at[(f["result"], loc["file"], f["kind"], f["namespace"], f["name"], f["container"],
                loc["path"])].add(f["rule"])
    dups = []
    for key, rules in at.items():
        for owner in rules:
            for other in owners.get(owner, []):
                if other in rules:
                    dups.append((owner, other, key))
    return dups


class OneRiskOneFinding(unittest.TestCase):
    def test_no_same_risk_duplicates_in_the_corpora(self):
        owners = supersedes()
        self.assertIn("pod-traffic-partially-restricted", owners["pod-not-isolated-by-network-policy"])
        for path in (REAL_WORLD, EXAMPLES):
            with self.subTest(path=path):
                report, _ = scan("--no-config", path)
                self.assertEqual(same_risk_duplicates(report, owners), [])
        # The overlap is real in the real-world corpus (53 namespaces' pods with
        # no NetworkPolicy): the folded rule still fails those objects.
        report, _ = scan("--no-config", REAL_WORLD)
        self.assertGreaterEqual(check(report, "pod-not-isolated-by-network-policy")["failed"], 53)
        self.assertGreaterEqual(check(report, "pod-traffic-partially-restricted")["failed"], 53)
        partial = [f for f in report["findings"] if f["rule"] == "pod-traffic-partially-restricted"]
        self.assertGreater(len(partial), 0)
        self.assertTrue(all("restrict only" in f["message"] for f in partial), partial[:1])

    def test_pss_verdict_kept_when_its_finding_is_folded(self):
        pod = """\
            apiVersion: v1
            kind: Pod
            metadata: {name: netadmin, namespace: n}
            spec:
              containers:
              - name: c
                image: registry.example.com/c:1.0
                securityContext:
                  capabilities: {add: [NET_ADMIN]}
            """
        report, _ = scan_files({"p.yaml": pod}, "--pss", "restricted")
        at_add = [f["rule"] for f in report["findings"]
                  if f["location"]["path"] == "spec.containers[0].securityContext.capabilities.add[0]"]
        self.assertEqual(at_add, ["dangerous-capabilities"])
        self.assertEqual(check(report, "pss-capabilities-restricted")["failed"], 1)
        self.assertEqual(check(report, "dangerous-capabilities")["failed"], 1)

    def test_dashboard_once_per_deployment(self):
        path = os.path.join(REAL_WORLD, "kubernetes/dashboard/aio/deploy/recommended.yaml")
        report, _ = scan("--no-config", "--only", "kubernetes-dashboard-deployed", path)
        per_object = collections.Counter((f["kind"], f["name"]) for f in report["findings"])
        self.assertEqual(per_object[("Deployment", "kubernetes-dashboard")], 1)
        self.assertEqual(set(per_object.values()), {1})
        self.assertEqual(report["findings"][0]["location"]["path"], "spec.template.spec.containers[0].image")


class OnlyUnderPss(unittest.TestCase):
    POD = """\
        apiVersion: v1
        kind: Pod
        metadata: {name: sysadmin, namespace: n}
        spec:
          containers:
          - name: c
            image: registry.example.com/c:1.0
            securityContext:
              capabilities: {add: [SYS_ADMIN]}
        """

    def test_superseded_control_is_evaluated_and_the_cli_says_why(self):
        report, err = scan_files({"p.yaml": self.POD}, "--pss", "restricted", "--only",
                                 "pss-capabilities-baseline")
        c = check(report, "pss-capabilities-baseline")
        self.assertEqual((c["evaluated"], c["failed"]), (1, 1))
        self.assertIn("note: --only pss-capabilities-baseline is superseded at --pss restricted", err)
        self.assertIn("by pss-capabilities-restricted (from v1.22)", err)

    def test_control_above_the_level_is_evaluated_with_a_note(self):
        report, err = scan_files({"p.yaml": self.POD}, "--pss", "baseline", "--only",
                                 "pss-capabilities-restricted")
        self.assertEqual(check(report, "pss-capabilities-restricted")["failed"], 1)
        self.assertIn("pss-capabilities-restricted is a restricted control, which --pss baseline", err)

    def test_no_note_when_the_level_selects_it(self):
        _, err = scan_files({"p.yaml": self.POD}, "--pss", "restricted", "--only",
                            "pss-capabilities-restricted")
        self.assertNotIn("note:", err)


class Messages(unittest.TestCase):
    def test_pdb_missing_with_replicas_unset(self):
        deploy = """\
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: web, namespace: shop}
            spec:
              selector: {matchLabels: {app: web}}
              template:
                metadata: {labels: {app: web}}
                spec:
                  containers: [{name: app, image: registry.example.com/web:1.0}]
            """
        config = """\
            rules:
              pod-disruption-budget-missing: {params: {minReplicas: 1}}
            """
        report, _ = scan_files({"d.yaml": deploy}, "--only", "pod-disruption-budget-missing",
                               config=config)
        msgs = [f["message"] for f in report["findings"]]
        self.assertEqual(msgs, ["Deployment has 1 replica (spec.replicas unset) but no "
                                "PodDisruptionBudget selects its pods"])


if __name__ == "__main__":
    unittest.main()

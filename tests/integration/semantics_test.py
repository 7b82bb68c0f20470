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
import tempfile
import textwrap
import unittest

import support
from support import check_of as check, run

KGUARD, SOURCE, CORPORA = support.args("kguard", "source", "corpora")
EXAMPLES = os.path.join(SOURCE, "examples")
REAL_WORLD = os.path.join(CORPORA, "real-world")


def scan(*argv, stdin=None):
    """kguard scan -o json ARGV (the config as found): (report, stderr)."""
    _, report, err = support.scan_json(*argv, stdin=stdin, config=True, timeout=300)
    return report, err


def scan_files(files, *argv, config=None):
    return support.scan_files(files, *argv, config=config, timeout=300)[1:]


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
            at[(f["result"], loc["file"], f["kind"], f.get("namespace", ""), f["name"], f["container"],
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
        # The overlap is real in the real-world corpus (pods of namespaces with
        # no NetworkPolicy): the owner reports them, the folded rule only what
        # is its own (one direction restricted), and every rule's tally counts
        # exactly the objects it reports.
        report, _ = scan("--no-config", REAL_WORLD)
        self.assertGreaterEqual(check(report, "pod-not-isolated-by-network-policy")["failed"], 53)
        partial = [f for f in report["findings"] if f["rule"] == "pod-traffic-partially-restricted"]
        self.assertGreater(len(partial), 0)
        self.assertTrue(all("restrict only" in f["message"] for f in partial if f["result"] == "fail"),
                        partial[:1])
        for result, column in (("fail", "failed"),):
            objects = collections.defaultdict(set)
            for f in report["findings"]:
                if f["result"] == result:
                    objects[f["rule"]].add((f["location"]["file"], f["kind"], f.get("namespace", ""), f["name"]))
            for c in report["checks"]:
                self.assertEqual(c[column], len(objects[c["rule"]]), (c["rule"], result))

    def test_pss_control_owns_the_risk_it_defines(self):
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
        # The PSS control owns the risk it defines; dangerous-capabilities is
        # not repeated (nor counted) for the same field.
        # (the baseline control reports what both PSS capability controls reject: higher severity)
        self.assertEqual(at_add, ["pss-capabilities-baseline"])
        self.assertEqual(check(report, "pss-capabilities-baseline")["failed"], 1)
        self.assertEqual([c["failed"] for c in report["checks"] if c["rule"] == "dangerous-capabilities"], [])
        # At --pss privileged no PSS control runs: dangerous-capabilities reports it.
        report, _ = scan_files({"p.yaml": pod}, "--pss", "privileged")
        self.assertEqual([f["rule"] for f in report["findings"] if f["location"]["path"].endswith("add[0]")],
                         ["dangerous-capabilities"])

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

    def test_overridden_baseline_control_alone_is_not_silent(self):
        # As upstream, a replaced baseline control is not evaluated without its
        # replacement; the CLI says so and names both ways out.
        report, err = scan_files({"p.yaml": self.POD}, "--pss", "restricted", "--only",
                                 "pss-capabilities-baseline")
        self.assertIn("note: --only pss-capabilities-baseline is replaced at --pss restricted v1.37 by "
                      "pss-capabilities-restricted (from v1.22)", err)
        self.assertIn("add --only pss-capabilities-restricted, or use --pss baseline", err)
        report, err = scan_files({"p.yaml": self.POD}, "--pss", "baseline", "--only",
                                 "pss-capabilities-baseline")
        self.assertEqual(check(report, "pss-capabilities-baseline")["failed"], 1)
        self.assertNotIn("note:", err)

    def test_control_newer_than_the_version_is_evaluated_with_a_note(self):
        pod = self.POD.replace("capabilities: {add: [SYS_ADMIN]}", "seccompProfile: {type: Unconfined}")
        report, err = scan_files({"p.yaml": pod}, "--pss", "restricted", "--pss-version", "v1.18",
                                 "--only", "pss-seccomp-restricted")
        self.assertEqual(check(report, "pss-seccomp-restricted")["evaluated"], 1)
        self.assertIn("note: --only pss-seccomp-restricted exists from PSS v1.19, after --pss restricted v1.18", err)

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


class Locations(unittest.TestCase):
    """Set-level findings point at the field they name, or its nearest parent."""
    FILE = os.path.join(SOURCE, "tests", "integration", "locations.yaml")

    def where(self, report):
        return {(f["rule"], f["name"]): (f["location"]["line"], f["location"]["column"], f["location"]["path"])
                for f in report["findings"]}

    def test_exact_line_and_column(self):
        report, _ = scan("--no-config", self.FILE)
        at = self.where(report)
        expected = {
            # the Namespace's name, not the document start
            ("namespace-default-deny-ingress-missing", "shop"): (4, 9, "metadata.name"),
            # spec.replicas unset: its parent, the object's spec key
            ("deployment-replicas-too-low", "web"): (11, 1, "spec.replicas"),
            ("deployment-replicas-too-low", "nons"): (26, 13, "spec.replicas"),
            # the template labels, not the first key of the pod spec
            ("pod-not-isolated-by-network-policy", "web"): (15, 7, "spec.template.metadata.labels"),
            # automountServiceAccountToken unset: the pod spec key
            ("service-account-token-automounted", "web"): (16, 5, "spec.template.spec.automountServiceAccountToken"),
            ("rbac-cluster-admin-binding", "builder-admin"): (44, 9, "roleRef.name"),
        }
        for key, value in expected.items():
            with self.subTest(finding=key):
                self.assertEqual(at.get(key), value)

    def test_service_account_finding_points_at_service_account_name(self):
        # ingress-nginx: the pod spec starts with automountServiceAccountToken
        # (line 423); serviceAccountName is on line 508.
        path = os.path.join(REAL_WORLD, "kubernetes/ingress-nginx/deploy/static/provider/cloud/deploy.yaml")
        report, _ = scan("--no-config", "--only", "workload-service-account-privileged", path)
        locs = {(f["name"], f["location"]["line"], f["location"]["column"], f["location"]["path"])
                for f in report["findings"]}
        self.assertIn(("ingress-nginx-controller", 508, 27, "spec.template.spec.serviceAccountName"), locs)

    def test_service_monitor_finding_points_at_its_selector(self):
        # It pointed at the document start (line 1) before.
        report, _ = scan_files({"sm.yaml": """\
            apiVersion: monitoring.coreos.com/v1
            kind: ServiceMonitor
            metadata:
              name: web
              namespace: demo
            spec:
              endpoints:
                - port: http
              selector:
                matchLabels:
                  app: web
            """}, "--only", "service-monitor-selects-no-service")
        (f,) = [f for f in report["findings"] if f["result"] == "fail"]
        self.assertEqual((f["location"]["line"], f["location"]["column"], f["location"]["path"]),
                         (10, 5, "spec.selector"))

    def test_no_empty_namespace_in_json_sarif_or_messages(self):
        report, _ = scan("--no-config", self.FILE)
        for f in report["findings"]:
            if f["name"] in ("builder-admin", "nons"):
                self.assertNotIn("namespace", f, f)
            self.assertNotIn('namespace ""', f["message"])
        self.assertTrue(any(f["name"] == "nons" and "metadata.namespace unset" in f["message"]
                            for f in report["findings"]))
        code, out, _ = run("scan", "--no-config", "-o", "sarif", self.FILE)
        results = json.loads(out)["runs"][0]["results"]
        for r in results:
            if r["properties"]["name"] in ("builder-admin", "nons"):
                self.assertNotIn("namespace", r["properties"])
        code, out, _ = run("scan", "--no-config", self.FILE)
        self.assertNotIn('namespace ""', out)


class Selectors(unittest.TestCase):
    def test_unknown_operator_selects_nothing_everywhere_and_is_located(self):
        files = {"a.yaml": """\
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: web, namespace: shop}
            spec:
              replicas: 2
              selector: {matchLabels: {app: web}}
              template:
                metadata: {labels: {app: web}}
                spec:
                  containers: [{name: app, image: registry.example.com/web:1.0}]
            ---
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: deny, namespace: shop}
            spec:
              podSelector:
                matchExpressions:
                - {key: app, operator: Equals, values: [web]}
              policyTypes: [Ingress, Egress]
            """}
        report, _ = scan_files(files, "--only",
                               "pod-not-isolated-by-network-policy,network-policy-selects-no-pods,object-schema-invalid")
        rules = {(f["rule"], f["name"]) for f in report["findings"] if f["result"] == "fail"}
        # The set-level matcher and the object-level one agree: the policy selects nothing.
        self.assertIn(("pod-not-isolated-by-network-policy", "web"), rules)
        self.assertIn(("network-policy-selects-no-pods", "deny"), rules)
        bad = [f for f in report["findings"] if f["rule"] == "object-schema-invalid"]
        self.assertEqual([(f["location"]["line"], f["location"]["column"], f["location"]["path"]) for f in bad],
                         [(18, 28, "spec.podSelector.matchExpressions[0].operator")])
        self.assertIn('operator "Equals" is not In, NotIn, Exists or DoesNotExist', bad[0]["message"])


class InitContainerWording(unittest.TestCase):
    def test_init_container_named_so_in_both_languages(self):
        pod = """\
            apiVersion: v1
            kind: Pod
            metadata: {name: p, namespace: n}
            spec:
              initContainers: [{name: migrate, image: "registry.example.com/m:latest"}]
              containers: [{name: app, image: "registry.example.com/a:1.0"}]
            """
        report, _ = scan_files({"p.yaml": pod}, "--only", "image-tag-not-pinned")
        msgs = [f["message"] for f in report["findings"]]
        self.assertTrue(msgs and all(m.startswith('init container "migrate"') for m in msgs), msgs)
        with tempfile.TemporaryDirectory() as d:
            with open(os.path.join(d, "p.yaml"), "w") as f:
                f.write(textwrap.dedent(pod))
            _, out, _ = run("scan", "--no-config", "--only", "image-tag-not-pinned", "--lang", "zh", d)
        self.assertIn('初始化容器 "migrate"', out)


if __name__ == "__main__":
    unittest.main()

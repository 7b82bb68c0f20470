#!/usr/bin/env python3
"""kguard audit policy check and the audit-policy-* catalog rules end to end,
on two real policy shapes (tests/audit_policy/policies: the policy kube-up
writes for GCE clusters and the example falcosecurity's k8saudit plugin ships)
against detection-rule fixtures of our own (tests/audit_policy/rules): which
rules each policy leaves covered, partial or blind, and why.

usage: audit_policy_test.py KGUARD SOURCE_DIR
"""
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import support  # noqa: E402

KGUARD, SOURCE = support.args("kguard", "source")
HERE = os.path.join(SOURCE, "tests", "audit_policy")
RULES = os.path.join(HERE, "rules")


def policy(name):
    return os.path.join(HERE, "policies", name)


def check(name, *extra):
    code, out, err = support.run("audit", "policy", "check", policy(name), "--rules", RULES, "-o", "json", *extra)
    return code, (json.loads(out) if out.strip() else None), err


def coverage(report):
    return {r["id"]: r["coverage"] for r in report["rules"]}


def reasons(report, rule_id):
    return next(r["reasons"] for r in report["rules"] if r["id"] == rule_id)


class KubeUpShape(unittest.TestCase):
    def test_coverage_per_rule(self):
        code, report, err = check("kube-up-shape.yaml")
        self.assertEqual(code, 1, err)  # blind rules
        self.assertEqual(coverage(report), {
            "audit-t-anonymous": "partial",            # /healthz*, /version, /swagger* dropped for everyone
            "audit-t-configmap-credentials": "blind",  # ConfigMaps at Metadata: no bodies
            "audit-t-crd-changed": "covered",
            "audit-t-deployment-created": "covered",
            "audit-t-endpoints-watch": "partial",      # system:kube-proxy's watches dropped
            "audit-t-event-deleted": "blind",          # Events dropped outright
            "audit-t-exec": "covered",
            "audit-t-privileged-pod": "covered",
            "audit-t-secret-read": "covered",
        })
        self.assertEqual(report["summary"], {"covered": 5, "partial": 2, "blind": 2, "undeclared": 0})
        # The reasons name the request, the deciding rule with its line, and what is missing.
        cm = reasons(report, "audit-t-configmap-credentials")
        self.assertIn("create configmaps by any authenticated user: logged at Metadata by rules[13] (%s:37); "
                      "needs Request" % policy("kube-up-shape.yaml"), cm)
        ev = reasons(report, "audit-t-event-deleted")
        self.assertTrue(any(r.startswith("delete events by any authenticated user: logged at None by rules[9]")
                            for r in ev), ev)
        watch = reasons(report, "audit-t-endpoints-watch")
        self.assertTrue(any('by user "system:kube-proxy": logged at None by rules[0]' in r for r in watch), watch)
        self.assertFalse(any("any authenticated user" in r for r in watch), watch)

    def test_catalog_rules_pass(self):
        code, report, err = support.scan_json(policy("kube-up-shape.yaml"), "--only",
                                              ",".join(AUDIT_POLICY_RULES), check=True)
        failed = sorted({f["rule"] for f in report["findings"] if f["result"] == "fail"})
        self.assertEqual(failed, [], err)


AUDIT_POLICY_RULES = ["audit-policy-invalid", "audit-policy-sensitive-bodies", "audit-policy-exec-not-logged",
                      "audit-policy-rbac-changes", "audit-policy-pod-creation", "audit-policy-catch-all",
                      "audit-policy-wrong-group", "audit-policy-shadowed-rule"]


class FalcoShape(unittest.TestCase):
    def test_coverage_per_rule(self):
        code, report, err = check("falco-shape.yaml")
        self.assertEqual(code, 1, err)
        self.assertEqual(coverage(report), {
            "audit-t-anonymous": "covered",            # the None rule is for system:authenticated only
            "audit-t-configmap-credentials": "partial",  # configmap controller-leader dropped
            "audit-t-crd-changed": "blind",            # apiextensions falls to the Metadata catch-all
            "audit-t-deployment-created": "blind",     # deployments listed under the core group
            "audit-t-endpoints-watch": "partial",
            "audit-t-event-deleted": "covered",
            "audit-t-exec": "covered",
            "audit-t-privileged-pod": "covered",
            "audit-t-secret-read": "covered",
        })
        dep = reasons(report, "audit-t-deployment-created")
        self.assertIn("create deployments.apps by any authenticated user: logged at Metadata by rules[10] "
                      "(%s:20); needs Request" % policy("falco-shape.yaml"), dep)
        self.assertIn('rules[0] (%s:10) lists "deployments" under group "" (core), which does not serve '
                      'deployments ("apps" does): that entry never matches' % policy("falco-shape.yaml"), dep)

    def test_catalog_rules_fail(self):
        code, report, err = support.scan_json(policy("falco-shape.yaml"), "--only",
                                              ",".join(AUDIT_POLICY_RULES), check=True)
        failed = sorted({f["rule"] for f in report["findings"] if f["result"] == "fail"})
        self.assertEqual(failed, ["audit-policy-rbac-changes", "audit-policy-sensitive-bodies",
                                  "audit-policy-wrong-group"])
        wrong = [f for f in report["findings"] if f["rule"] == "audit-policy-wrong-group"]
        self.assertEqual(len(wrong), 1)
        self.assertEqual(wrong[0]["location"]["line"], 10)
        self.assertIn('"deployments" is listed under group "" (core)', wrong[0]["message"])


class Errors(unittest.TestCase):
    def test_invalid_policy_is_an_error_with_lines(self):
        code, report, err = check("invalid.yaml")
        self.assertEqual(code, 2)
        self.assertIsNone(report)
        self.assertIn("invalid.yaml:6:16: error: rules[0].resources.group: Invalid value: "
                      "\"rbac.authorization.k8s.io/v1\"", err)
        self.assertIn("invalid.yaml:8:12: error: rules[1].level: Unsupported value: \"Verbose\"", err)
        self.assertIn("kube-apiserver would refuse", err)

    def test_invalid_policy_scanned(self):
        code, report, err = support.scan_json(policy("invalid.yaml"), "--only", "audit-policy-invalid", check=True)
        lines = sorted(f["location"]["line"] for f in report["findings"] if f["result"] == "fail")
        self.assertEqual(lines, [6, 8])

    def test_usage(self):
        code, out, err = support.run("audit", "policy", "check")
        self.assertEqual(code, 2)
        self.assertIn("needs the POLICY file", err)
        code, out, err = support.run("audit", "policy", "--help")
        self.assertEqual(code, 0)
        self.assertIn("kguard audit policy check POLICY", out)
        code, out, err = support.run("audit", "policy", "check", policy("falco-shape.yaml"), "--rules",
                                     os.path.join(HERE, "no-such-dir"))
        self.assertEqual(code, 2)

    def test_everything_logged_is_all_covered_and_text_output(self):
        import tempfile
        with tempfile.TemporaryDirectory() as d:
            p = os.path.join(d, "all.yaml")
            with open(p, "w") as f:
                f.write("apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: RequestResponse\n")
            code, out, err = support.run("audit", "policy", "check", p, "--rules", RULES)
            self.assertEqual(code, 0, err)
            self.assertIn("9 detection rules: 9 covered, 0 partial, 0 blind", out)
            self.assertIn("COVERED    audit-t-exec", out)


class BuiltinRules(unittest.TestCase):
    def test_builtin_rules_are_judged(self):
        # Without --rules: the detection rules built into kguard (kguard audit rules).
        code, out, err = support.run("audit", "rules", "-o", "json")
        if code != 0 or not out.strip() or not json.loads(out):
            self.skipTest("no built-in audit rules in this build")
        builtin = json.loads(out)
        ids = {r["id"] for r in (builtin["rules"] if isinstance(builtin, dict) else builtin)}
        code, out, err = support.run("audit", "policy", "check", policy("kube-up-shape.yaml"), "-o", "json")
        self.assertIn(code, (0, 1), err)
        report = json.loads(out)
        self.assertEqual({r["id"] for r in report["rules"]} <= ids, True)
        self.assertGreater(len(report["rules"]), 0)


if __name__ == "__main__":
    unittest.main()

#!/usr/bin/env python3
"""The catalog and its configuration fail closed, through the real binary:
the staged rule loader (unknown rule.yaml keys, template parameters checked
against their declarations), config rule overrides, exemption annotations and
config exemptions, `kguard rules` subcommands and what they print.

Run by ctest: catalog_test.py KGUARD_BINARY SOURCE_DIR
"""
import json
import os
import re
import subprocess
import tempfile
import unittest

import support
from support import TEAM_LABEL_RULE as CUSTOM_RULE, run

KGUARD, SOURCE = support.args("kguard", "source", absolute=True)


def write(path, text):
    """Writes the indented `text` to `path` (making its folders)."""
    return support.write(*os.path.split(path), text, dedent=True)


HOST_NETWORK_POD = """
apiVersion: v1
kind: Pod
metadata:
  name: {name}
  namespace: shop
  annotations:
{annotations}
spec:
  hostNetwork: true
  containers:
    - name: c
      image: nginx:1.27
"""

DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - name: web
          image: nginx:1.27
"""


def pod(name, annotations):
    lines = "\n".join("    %s: %s" % (k, json.dumps(v)) for k, v in annotations.items())
    return HOST_NETWORK_POD.format(name=name, annotations=lines).lstrip("\n")


class CustomRules(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = self.tmp.name
        self.manifest = write(os.path.join(self.dir, "in", "d.yaml"), DEPLOYMENT)

    def tearDown(self):
        self.tmp.cleanup()

    def scan_with_rule(self, text):
        rule = write(os.path.join(self.dir, "rules", "team", "rule.yaml"), text)
        code, out, err = run("scan", "--no-config", "--rules", os.path.join(self.dir, "rules"),
                             "-o", "json", self.manifest)
        return code, out, err, rule

    def test_valid_custom_rule_runs(self):
        code, out, err, _ = self.scan_with_rule(CUSTOM_RULE)
        self.assertEqual(code, 0, err)
        report = json.loads(out)
        self.assertIn("team-label-missing", [f["rule"] for f in report["findings"]])

    def test_misspelled_key_refused_with_location_and_suggestion(self):
        code, _, err, rule = self.scan_with_rule(CUSTOM_RULE.replace("severity: low", "severty: low"))
        self.assertEqual(code, 2)
        # file:line:column, the field, and the near miss
        self.assertIn(rule + ":4:1: rule 'team-label-missing': field 'severty': unknown field "
                      "(did you mean 'severity'?)", err)

    def test_unknown_parameter_refused(self):
        code, _, err, rule = self.scan_with_rule(
            CUSTOM_RULE.replace("expect: present}", "expect: present, containerz: [x]}"))
        self.assertEqual(code, 2)
        self.assertRegex(err, re.escape(rule) + r":9:\d+: rule 'team-label-missing': field "
                         r"'params.containerz': unknown parameter of template 'field' "
                         r"\(did you mean 'containers'\?\)")

    def test_bad_value_and_type_refused(self):
        code, _, err, rule = self.scan_with_rule(CUSTOM_RULE.replace("expect: present", "expect: presnt"))
        self.assertEqual(code, 2)
        self.assertIn("field 'params.expect': 'presnt' is not one of present, absent, true, "
                      "notTrue, false, in or notIn (did you mean 'present'?)", err)
        code, _, err, _ = self.scan_with_rule(
            CUSTOM_RULE.replace("expect: present}", "expect: present, podFallback: maybe}"))
        self.assertEqual(code, 2)
        self.assertIn("field 'params.podFallback': must be true or false", err)

    def test_bad_mode_refused_with_the_new_spelling(self):
        rule = CUSTOM_RULE.replace("check: field", "check: capabilities").replace(
            "params: {scope: object, field: metadata.labels.team, expect: present}",
            "params: {mode: addForbidden, capabilities: [SYS_ADMIN]}")
        code, _, err, path = self.scan_with_rule(rule)
        self.assertEqual(code, 2)
        self.assertRegex(err, re.escape(path) + r":9:\d+: .*field 'params.mode': 'addForbidden' is "
                         r"not one of add-forbidden, add-allowed-only or drop-required "
                         r"\(did you mean 'add-forbidden'\?\)")
        # The normalised spelling loads.
        code, _, err, _ = self.scan_with_rule(rule.replace("addForbidden", "add-forbidden"))
        self.assertEqual(code, 0, err)

    def test_missing_required_parameter_and_unknown_template(self):
        code, _, err, _ = self.scan_with_rule(CUSTOM_RULE.replace(", expect: present", ""))
        self.assertEqual(code, 2)
        self.assertIn("field 'params.expect': required", err)
        code, _, err, _ = self.scan_with_rule(CUSTOM_RULE.replace("check: field", "check: feild"))
        self.assertEqual(code, 2)
        self.assertIn("unknown check template 'feild' (did you mean 'field'?)", err)

    def test_rules_dir_loads_only_rule_yaml(self):
        # docs/configuration.md: `--rules DIR` loads every rule.yaml under DIR;
        # fixtures and notes beside a rule are not rules.
        write(os.path.join(self.dir, "rules", "team", "fail.yaml"), DEPLOYMENT)
        write(os.path.join(self.dir, "rules", "team", "notes.yaml"), "owner: platform\n")
        code, out, err, _ = self.scan_with_rule(CUSTOM_RULE)
        self.assertEqual(code, 0, err)
        self.assertIn("team-label-missing", [f["rule"] for f in json.loads(out)["findings"]])
        empty = os.path.join(self.dir, "empty")
        os.makedirs(empty)
        write(os.path.join(empty, "team.yaml"), CUSTOM_RULE)
        code, _, err = run("scan", "--no-config", "--rules", empty, self.manifest)
        self.assertEqual(code, 2)
        self.assertIn(empty + ":0:0: no rule.yaml under this directory", err)


class ConfigOverrides(unittest.TestCase):
    def test_misspelled_override_parameter_refused(self):
        with tempfile.TemporaryDirectory() as d:
            cfg = write(os.path.join(d, "kguard.yaml"), """
                rules:
                  image-registry-not-allowed:
                    enabled: true
                    params: {allowedRegistry: [registry.example.com]}
                """)
            m = write(os.path.join(d, "d.yaml"), DEPLOYMENT)
            code, _, err = run("scan", "--config", cfg, m)
            self.assertEqual(code, 2)
            self.assertIn(cfg + ":4: rules.image-registry-not-allowed.params.allowedRegistry: unknown "
                          "parameter of template 'image-registry' (did you mean 'allowedRegistries'?)", err)

    def test_override_value_checked(self):
        with tempfile.TemporaryDirectory() as d:
            cfg = write(os.path.join(d, "kguard.yaml"), """
                rules:
                  deployment-replicas-too-low: {params: {min: many}}
                """)
            m = write(os.path.join(d, "d.yaml"), DEPLOYMENT)
            code, _, err = run("scan", "--config", cfg, m)
            self.assertEqual(code, 2)
            self.assertIn(cfg + ":2: rules.deployment-replicas-too-low.params.min: must be an integer", err)

    def test_unknown_rule_gets_a_suggestion(self):
        with tempfile.TemporaryDirectory() as d:
            cfg = write(os.path.join(d, "kguard.yaml"), "rules:\n  liveness-probe-mising: {enabled: false}\n")
            m = write(os.path.join(d, "d.yaml"), DEPLOYMENT)
            code, _, err = run("scan", "--config", cfg, m)
            self.assertEqual(code, 2)
            self.assertIn("no rule named 'liveness-probe-mising' (did you mean 'liveness-probe-missing'?)", err)


class Exemptions(unittest.TestCase):
    def scan(self, text, *extra):
        with tempfile.TemporaryDirectory() as d:
            path = write(os.path.join(d, "pod.yaml"), text)
            code, out, err = run("scan", "--no-config", "-o", "json", "--only", "pss-host-namespaces",
                                 *extra, path)
            return code, json.loads(out) if out else None, err, path

    def results(self, report):
        return [f["result"] for f in report["findings"] if f["rule"] == "pss-host-namespaces"]

    def test_valid_annotation_exempts(self):
        code, report, err, _ = self.scan(pod("p", {
            "kguard.io/exempt": "pss-host-namespaces",
            "kguard.io/exempt-reason": "node metrics",
            "kguard.io/exempt-until": "2099-12-31"}))
        self.assertEqual(code, 0, err)
        self.assertEqual(report["errors"], [])
        self.assertEqual(self.results(report), ["exempt"])

    def test_until_in_another_format_is_an_error_and_does_not_apply(self):
        code, report, _, path = self.scan(pod("p", {
            "kguard.io/exempt": "pss-host-namespaces",
            "kguard.io/exempt-reason": "node metrics",
            "kguard.io/exempt-until": "31/12/2020"}))
        self.assertEqual(code, 2)
        self.assertEqual(self.results(report), ["fail"])
        [e] = report["errors"]
        self.assertEqual((e["file"], e["line"]), (path, 9))
        self.assertIn('kguard.io/exempt-until: "31/12/2020" is not a date YYYY-MM-DD; the exemption '
                      'does not apply', e["message"])
        # Not a calendar date either.
        code, report, _, _ = self.scan(pod("p", {
            "kguard.io/exempt": "pss-host-namespaces", "kguard.io/exempt-reason": "x",
            "kguard.io/exempt-until": "2027-02-30"}))
        self.assertEqual((code, self.results(report)), (2, ["fail"]))

    def test_misspelled_rule_id_is_an_error(self):
        code, report, _, path = self.scan(pod("p", {
            "kguard.io/exempt": "pss-host-namespace",
            "kguard.io/exempt-reason": "node metrics"}))
        self.assertEqual(code, 2)
        self.assertEqual(self.results(report), ["fail"])
        [e] = report["errors"]
        self.assertEqual((e["file"], e["line"]), (path, 7))
        self.assertIn("kguard.io/exempt: no rule, category or tag named 'pss-host-namespace' "
                      "(did you mean 'pss-host-namespaces'?)", e["message"])

    def test_wildcard_needs_a_reason(self):
        code, report, _, _ = self.scan(pod("p", {"kguard.io/exempt": "*"}))
        self.assertEqual(code, 2)
        self.assertEqual(self.results(report), ["fail"])
        self.assertIn('"*" exempts every rule and needs kguard.io/exempt-reason', report["errors"][0]["message"])
        code, report, err, _ = self.scan(pod("p", {"kguard.io/exempt": "*",
                                                   "kguard.io/exempt-reason": "lab cluster"}))
        self.assertEqual(code, 0, err)
        self.assertEqual(self.results(report), ["exempt"])

    def test_misspelled_annotation_key_is_an_error(self):
        code, report, _, _ = self.scan(pod("p", {"kguard.io/exempt": "pss-host-namespaces",
                                                 "kguard.io/exempt-reasn": "typo"}))
        self.assertEqual(code, 2)
        self.assertIn("unknown annotation kguard.io/exempt-reasn", report["errors"][0]["message"])

    def test_no_exemptions_ignores_bad_annotations(self):
        code, report, _, _ = self.scan(pod("p", {"kguard.io/exempt": "nope"}), "--no-exemptions")
        self.assertEqual(report["errors"], [])
        self.assertEqual(code, 0)

    def config_scan(self, cfg_text):
        with tempfile.TemporaryDirectory() as d:
            cfg = write(os.path.join(d, "kguard.yaml"), cfg_text)
            m = write(os.path.join(d, "pod.yaml"), pod("p", {"team": "x"}))
            code, _, err = run("scan", "--config", cfg, m)
            return code, err, cfg

    def test_config_exemption_with_unknown_rule_is_an_error(self):
        code, err, cfg = self.config_scan("""
            exemptions:
              - rules: [pss-host-namespace]
                reason: node metrics
            """)
        self.assertEqual(code, 2)
        self.assertIn(cfg + ":2: exemptions[0].rules: no rule, category or tag named 'pss-host-namespace' "
                      "(did you mean 'pss-host-namespaces'?)", err)

    def test_config_wildcard_needs_an_expiry(self):
        code, err, cfg = self.config_scan("""
            exemptions:
              - rules: ["*"]
                reason: lab cluster
            """)
        self.assertEqual(code, 2)
        self.assertIn(cfg + ":2:5: exemptions[0].until: an exemption of every rule", err)
        code, err, _ = self.config_scan("""
            exemptions:
              - rules: ["*"]
                reason: lab cluster
                until: 2099-01-31
            """)
        self.assertEqual(code, 0, err)
        code, err, _ = self.config_scan("""
            exemptions:
              - rules: [pss-host-namespaces]
                reason: lab cluster
                until: 2099-1-31
            """)
        self.assertEqual(code, 2)
        self.assertIn("exemptions[0].until: must be a date YYYY-MM-DD", err)


class AdmissionConfig(unittest.TestCase):
    def test_webhook_refuses_a_config_exemption_naming_no_rule(self):
        with tempfile.TemporaryDirectory() as d:
            key, cert = os.path.join(d, "k.pem"), os.path.join(d, "c.pem")
            try:
                subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=t",
                                "-days", "1", "-keyout", key, "-out", cert], check=True, capture_output=True)
            except (OSError, subprocess.CalledProcessError):
                self.skipTest("openssl is needed to make a certificate")
            cfg = write(os.path.join(d, "kguard.yaml"), """
                exemptions:
                  - rules: [pss-privilegd]
                    reason: x
                """)
            p = subprocess.run([KGUARD, "admit", "--listen", "127.0.0.1:0", "--tls-cert", cert, "--tls-key", key,
                                "--config", cfg], capture_output=True, text=True, timeout=30)
            self.assertEqual(p.returncode, 2)
            log = p.stdout + p.stderr
            # Once, although a Scanner is built per PSS level and version.
            self.assertEqual(log.count("no rule, category or tag named 'pss-privilegd' "
                                       "(did you mean 'pss-privileged'?)"), 1, log)


class RulesCommand(unittest.TestCase):
    SUBCOMMANDS = [["list"], ["show", "pss-privileged"], ["templates"], ["docs", "DIR"]]

    def test_help_everywhere(self):
        code, out, _ = run("rules", "--help")
        self.assertEqual(code, 0)
        self.assertIn("kguard rules templates", out)
        with tempfile.TemporaryDirectory() as d:
            for sub in self.SUBCOMMANDS:
                code, out, err = run("rules", sub[0], "--help", cwd=d)
                self.assertEqual(code, 0, (sub, err))
                self.assertIn("Usage: kguard rules " + sub[0], out)
            # `rules docs --help` wrote its files into a folder named --help.
            self.assertEqual(os.listdir(d), [])

    def test_unknown_flags_refused(self):
        with tempfile.TemporaryDirectory() as d:
            for sub in self.SUBCOMMANDS:
                args = [a if a != "DIR" else os.path.join(d, "out") for a in sub]
                code, out, err = run("rules", *args, "--bogus", cwd=d)
                self.assertEqual(code, 2, sub)
                self.assertIn("unknown option '--bogus'", err)
                self.assertEqual(out, "")
            self.assertEqual(os.listdir(d), [])
        code, _, err = run("rules", "list", "-o", "yaml")
        self.assertEqual(code, 2)
        self.assertIn("format must be text or json", err)
        self.assertEqual(run("rules", "frobnicate")[0], 2)
        code, _, err = run("rules", "show", "pss-privilegd")
        self.assertEqual(code, 2)
        self.assertIn("no rule 'pss-privilegd' (did you mean 'pss-privileged'?)", err)

    def test_list_shows_default_state(self):
        code, out, _ = run("rules", "list")
        self.assertEqual(code, 0)
        rows = {line.split()[0]: line.split()[3] for line in out.splitlines()[1:]}
        self.assertEqual(rows["pss-privileged"], "on")
        self.assertEqual(rows["image-registry-not-allowed"], "off")

    def test_list_and_show_json_carry_every_field(self):
        code, out, _ = run("rules", "list", "-o", "json")
        self.assertEqual(code, 0)
        rules = {r["id"]: r for r in json.loads(out)}
        code, out, _ = run("rules", "show", "net-raw-not-dropped", "-o", "json")
        self.assertEqual(code, 0)
        shown = json.loads(out)
        self.assertEqual(shown, rules["net-raw-not-dropped"])
        for field in ["id", "title", "category", "severity", "enabledByDefault", "check", "scope",
                      "rationale", "remediation", "references", "kinds", "tags", "zh", "pss", "when",
                      "params", "parameters", "source"]:
            self.assertIn(field, shown)
        self.assertEqual(shown["params"], {"mode": "drop-required", "capabilities": ["NET_RAW", "ALL"]})
        self.assertTrue(shown["zh"]["title"])
        params = {p["name"]: p for p in shown["parameters"]}
        self.assertEqual(params["mode"]["allowed"], ["add-forbidden", "add-allowed-only", "drop-required"])
        self.assertTrue(params["mode"]["set"])
        # An unset parameter shows the template's default.
        self.assertFalse(params["containers"]["set"])
        self.assertEqual(params["containers"]["value"], "[initContainers, containers, ephemeralContainers]")
        pss = rules["pss-privileged"]["pss"]
        self.assertEqual(pss["level"], "baseline")
        self.assertEqual(pss["since"], "v1.0")
        self.assertFalse(rules["image-registry-not-allowed"]["enabledByDefault"])
        self.assertEqual(rules["pod-not-isolated-by-network-policy"]["scope"], "set")

    def test_templates(self):
        code, out, _ = run("rules", "templates", "-o", "json")
        self.assertEqual(code, 0)
        templates = {t["name"]: t for t in json.loads(out)}
        # Every template a shipped rule binds is listed.
        rules = json.loads(run("rules", "list", "-o", "json")[1])
        self.assertLessEqual({r["check"] for r in rules}, set(templates))
        caps = {p["name"]: p for p in templates["capabilities"]["parameters"]}
        self.assertEqual(caps["mode"]["type"], "string")
        self.assertTrue(caps["mode"]["required"])
        ports = {p["name"]: p for p in templates["container-ports"]["parameters"]}
        self.assertEqual((ports["below"]["type"], ports["below"]["default"], ports["below"]["min"],
                          ports["below"]["max"]), ("integer", "1024", 1, 65536))
        # No template spells a mode in camelCase any more.
        for t in templates.values():
            for p in t["parameters"]:
                if p["name"] == "mode":
                    for v in p["allowed"]:
                        self.assertRegex(v, r"^[a-z]+(-[a-z]+)*$", t["name"])
        code, out, _ = run("rules", "templates")
        self.assertEqual(code, 0)
        self.assertIn("capabilities — ", out)
        self.assertIn("below (integer)", out)

    def test_templates_doc_generated(self):
        with open(os.path.join(SOURCE, "docs", "rules", "templates.md")) as f:
            doc = f.read()
        self.assertIn("## capabilities", doc)
        self.assertIn("| `mode` | string | yes | add-forbidden, add-allowed-only, drop-required |", doc)
        with open(os.path.join(SOURCE, "docs", "configuration.md")) as f:
            self.assertNotIn("src/checks/registry.cpp", f.read())

    def test_peer_references_are_current(self):
        rules = json.loads(run("rules", "list", "-o", "json")[1])
        refs = {r["id"]: r["references"] for r in rules}
        every = [x for r in refs.values() for x in r]
        for stale in ["kube-score container-probes", "kube-score container-security-context"]:
            self.assertNotIn(stale, every)
        self.assertNotIn("kube-linter latest-tag", refs["image-not-pinned-by-digest"])
        self.assertIn("kube-linter latest-tag", refs["image-tag-not-pinned"])
        self.assertIn("kube-score pod-probes", refs["liveness-probe-missing"])
        self.assertIn("kube-score service-type", refs["service-exposed-on-node"])
        # One peer id per reference.
        for x in every:
            if x.startswith(("kube-linter ", "kube-score ", "Polaris ", "Trivy ", "Checkov ", "kubescape ")):
                self.assertRegex(x.split(" ")[1], r"^[A-Za-z0-9_-]+$", x)


if __name__ == "__main__":
    unittest.main(verbosity=2)

#!/usr/bin/env python3
"""The scan CLI in a pipeline: repositories as they are (skipped files,
--exclude), empty scans, severity under restricted, terminal escapes, the
gate's reason, strict flags, --severity, -o ci and SARIF suppressions.

Run by ctest: scan_cli_test.py KGUARD_BINARY SOURCE_DIR
"""
import json
import os
import re
import tempfile
import unittest

import support
from support import PRIVILEGED_POD, assert_valid_sarif, run, write

KGUARD, SOURCE = support.args("kguard", "source", absolute=True)

DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers: [{name: api, image: "registry.example.com/api:1.0"}]
"""

# Restricted-clean except for what each test adds.
DAEMONSET = """apiVersion: apps/v1
kind: DaemonSet
metadata: {name: node-exporter, namespace: monitoring}
spec:
  selector: {matchLabels: {app: ne}}
  template:
    metadata: {labels: {app: ne}}
    spec:
      securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
      containers:
      - name: exporter
        image: prom/node-exporter:1.8.0
        securityContext:
          allowPrivilegeEscalation: false
          capabilities: {drop: [ALL]%s}
%s"""
HOST_PATH = "      volumes:\n      - name: root\n        hostPath: {path: /}\n"


def make_repo(root):
    """A repository root as CI checks it out: manifests among everything else."""
    write(root, ".kguard.yaml", "rules: {}\n")
    write(root, ".github/workflows/ci.yml", "on: push\njobs: {build: {runs-on: ubuntu-latest}}\n")
    write(root, ".pre-commit-config.yaml", "repos: []\n")
    write(root, "chart/Chart.yaml", "apiVersion: v2\nname: shop\nversion: 1.0.0\n")
    write(root, "chart/values.yaml", "replicas: 2\n")
    write(root, "chart/values-prod.yaml", "replicas: 5\n")
    write(root, "chart/templates/deployment.yaml",
          "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: {{ .Release.Name }}}\n")
    write(root, "kustomization.yaml",
          "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [deploy]\n")
    write(root, "docker-compose.yml", "services: {web: {image: nginx}}\n")
    write(root, "mkdocs.yml", "site_name: shop\n")
    write(root, "openapi.yaml", "openapi: 3.0.0\ninfo: {title: x, version: '1'}\n")
    write(root, "ansible/playbook.yaml", "- hosts: all\n  tasks: []\n")
    write(root, "config/settings.yaml", "logLevel: debug\n")
    write(root, "deploy/api.YAML", DEPLOYMENT)  # upper-case extensions are manifests too


class RepositoriesAsTheyAre(unittest.TestCase):
    def test_repo_root_scans_its_manifests_and_lists_what_it_skipped(self):
        with tempfile.TemporaryDirectory() as d:
            make_repo(d)
            # The walk alone: rendered, the chart and the root kustomization
            # would be read through helm and kustomize (render_test.py).
            code, out, err = run("scan", "--skip-render", "-o", "json", d)
            self.assertEqual(code, 0, err)
            report = json.loads(out)
            self.assertEqual(report["errors"], [])
            self.assertEqual(report["overview"]["objects"], 1)
            self.assertEqual({f["location"]["file"] for f in report["findings"]},
                             {os.path.join(d, "deploy/api.YAML")})
            skipped = {os.path.relpath(s["file"], d): s["reason"] for s in report["skipped"]}
            self.assertIn("configuration", skipped[".kguard.yaml"])
            self.assertIn("hidden folder", skipped[".github"])
            self.assertIn("hidden", skipped[".pre-commit-config.yaml"])
            self.assertIn("Helm chart metadata", skipped["chart/Chart.yaml"])
            self.assertIn("Helm values", skipped["chart/values.yaml"])
            self.assertIn("Helm values", skipped["chart/values-prod.yaml"])
            self.assertIn("Helm chart templates", skipped["chart/templates"])
            self.assertIn("kustomize", skipped["kustomization.yaml"])
            self.assertIn("Compose", skipped["docker-compose.yml"])
            self.assertIn("MkDocs", skipped["mkdocs.yml"])
            self.assertIn("OpenAPI", skipped["openapi.yaml"])
            self.assertIn("no apiVersion or kind", skipped["ansible/playbook.yaml"])
            self.assertIn("no apiVersion or kind", skipped["config/settings.yaml"])
            by_file = {os.path.relpath(s["file"], d): s for s in report["skipped"]}
            self.assertEqual(by_file["config/settings.yaml"]["line"], 1)
            # The text report lists them too.
            code, out, _ = run("scan", "--skip-render", "--no-color", d)
            self.assertEqual(code, 0)
            section = out[out.index("\nSkipped\n"):]
            self.assertIn("chart/values.yaml: Helm values", section)
            self.assertIn(".kguard.yaml: the kguard configuration file", section)
            # Markdown collapses the list; SARIF carries each as a note.
            code, out, _ = run("scan", "--skip-render", "-o", "markdown", d)
            self.assertIn("<summary>Skipped (%d)</summary>" % len(skipped), out)
            code, out, _ = run("scan", "--skip-render", "-o", "html", d)
            self.assertIn("Skipped (%d)</h3>" % len(skipped), out)
            self.assertIn("Helm chart metadata, not a Kubernetes object", out)
            code, out, _ = run("scan", "--skip-render", "-o", "sarif", d)
            notes = json.loads(out)["runs"][0]["invocations"][0]["toolExecutionNotifications"]
            self.assertEqual(len([n for n in notes if n["descriptor"]["id"] == "skipped"]), len(skipped))
            assert_valid_sarif(self, json.loads(out))

    def test_a_broken_kubernetes_object_stays_an_error(self):
        with tempfile.TemporaryDirectory() as d:
            write(d, "ok.yaml", DEPLOYMENT)
            write(d, "broken.yaml", "apiVersion: v1\nmetadata: {name: x}\n")
            code, out, err = run("scan", "-o", "json", "--no-config", d)
            self.assertEqual(code, 2)
            errors = json.loads(out)["errors"]
            self.assertEqual([(os.path.basename(e["file"]), e["message"]) for e in errors],
                             [("broken.yaml", "object has no kind")])
            self.assertIn("1 input error", err)

    def test_named_files_are_always_read(self):
        with tempfile.TemporaryDirectory() as d:
            values = write(d, "values.yaml", "replicas: 2\n")
            code, out, _ = run("scan", "-o", "json", "--no-config", values)
            self.assertEqual(code, 2)
            self.assertEqual(json.loads(out)["errors"][0]["message"], "object has no kind")
            code, out, _ = run("scan", "-o", "json", "--no-config", "-", stdin="replicas: 2\n")
            self.assertEqual(code, 2)

    def test_exclude_flag_and_config(self):
        with tempfile.TemporaryDirectory() as d:
            write(d, "deploy/api.yaml", DEPLOYMENT)
            write(d, "legacy/old.yaml", "apiVersion: v1\nmetadata: {name: broken}\n")
            write(d, "deploy/broken.tmpl.yaml", "apiVersion: v1\nkind: [\n")
            code, out, err = run("scan", "-o", "json", "--no-config", "--exclude", "legacy",
                                 "--exclude=*.tmpl.yaml", d)
            self.assertEqual(code, 0, err)
            report = json.loads(out)
            skipped = {os.path.relpath(s["file"], d): s["reason"] for s in report["skipped"]}
            self.assertEqual(skipped, {"legacy": "excluded by 'legacy'",
                                       "deploy/broken.tmpl.yaml": "excluded by '*.tmpl.yaml'"})
            # Paths with a '/' are relative to the scanned folder; the config has the same list.
            write(d, ".kguard.yaml", 'exclude: ["legacy/**", "deploy/*.tmpl.yaml"]\n')
            code, out, err = run("scan", "-o", "json", d)
            self.assertEqual(code, 0, err)
            self.assertEqual(json.loads(out)["overview"]["objects"], 1)
            write(d, ".kguard.yaml", "exclude: {legacy: true}\n")
            code, _, err = run("scan", d)
            self.assertEqual(code, 2)
            self.assertIn("exclude", err)
            code, _, err = run("scan", "--exclude", "", d)
            self.assertEqual(code, 2)
            self.assertIn("--exclude needs a glob", err)


class EmptyScan(unittest.TestCase):
    def test_no_objects_is_not_a_pass(self):
        with tempfile.TemporaryDirectory() as d:
            write(d, "README.md", "# nothing here\n")
            write(d, "values.yaml", "replicas: 2\n")
            code, _, err = run("scan", "--no-config", d)
            self.assertEqual(code, 2)
            self.assertIn("no Kubernetes objects found in " + d, err)
            self.assertIn("--allow-empty", err)
            code, _, err = run("scan", "--no-config", "--allow-empty", d)
            self.assertEqual(code, 0, err)
            code, _, _ = run("scan", "--no-config", "-", stdin="")
            self.assertEqual(code, 2)


class StricterNeverWeaker(unittest.TestCase):
    def verdicts(self, manifest, *extra):
        out = {}
        for level in ("baseline", "restricted"):
            code, text, err = run("scan", "--no-config", "--only", "pss", "--pss", level,
                                  "--fail-on", "high", "-o", "json", *extra, "-", stdin=manifest)
            out[level] = (code, json.loads(text))
        return out

    def test_host_path_and_added_capability_fail_high_at_every_level(self):
        for manifest, rule in ((DAEMONSET % ("", HOST_PATH), "pss-host-path-volumes"),
                               (DAEMONSET % (", add: [SYS_ADMIN]", ""), "pss-capabilities-baseline")):
            for level, (code, report) in self.verdicts(manifest).items():
                self.assertEqual(code, 1, level)
                failed = [(f["rule"], f["severity"]) for f in report["findings"]
                          if f["result"] == "fail"]
                self.assertEqual(failed, [(rule, "high")], level)

    def test_restricted_only_violations_stay_with_the_restricted_rule(self):
        manifest = DAEMONSET % (", add: [CHOWN]", "      volumes: [{name: n, nfs: {server: s, path: /}}]\n")
        code, report = self.verdicts(manifest)["restricted"]
        self.assertEqual(code, 0)
        self.assertEqual(sorted(f["rule"] for f in report["findings"] if f["result"] == "fail"),
                         ["pss-capabilities-restricted", "pss-restricted-volumes"])

    def test_windows_pods_still_skip_capabilities_at_restricted(self):
        manifest = (DAEMONSET % (", add: [SYS_ADMIN]", "")).replace(
            "    spec:\n      securityContext", "    spec:\n      os: {name: windows}\n      securityContext")
        code, report = self.verdicts(manifest)["restricted"]
        self.assertEqual(code, 0)
        self.assertEqual([f["rule"] for f in report["findings"]], [])

    def test_docs_exemption_by_baseline_id_works_at_every_level(self):
        # The configuration example of docs/configuration.md, as written there
        # (its expiry date moved past the test's lifetime).
        with open(os.path.join(SOURCE, "docs", "configuration.md"), encoding="utf-8") as f:
            example = re.search(r"```yaml\n(.*?)```", f.read(), re.S).group(1)
        example = re.sub(r"until: \d{4}-\d\d-\d\d", "until: 2999-12-31", example)
        manifest = (DAEMONSET % ("", HOST_PATH)).replace("    spec:\n", "    spec:\n      hostNetwork: true\n", 1)
        with tempfile.TemporaryDirectory() as d:
            config = write(d, "kguard.yaml", example)
            write(d, "charts/node-exporter.yaml", manifest)
            for level in ("baseline", "restricted"):
                code, text, err = run("scan", "--config", config, "--only", "pss", "--pss", level,
                                      "--fail-on", "low", "-o", "json", "charts/node-exporter.yaml", cwd=d)
                self.assertEqual(code, 0, level + err)
                report = json.loads(text)
                self.assertEqual(sorted((f["rule"], f["result"]) for f in report["findings"]),
                                 [("pss-host-namespaces", "exempt"), ("pss-host-path-volumes", "exempt")],
                                 level)


ESCAPES = "\x1b]0;pwned\x07\x1b[2J\x9b31m\x7f"
HOSTILE = """apiVersion: v1
kind: Pod
metadata: {name: "p%s", namespace: n, annotations: {kguard.io/exempt: naked-pod, kguard.io/exempt-reason: "r%s"}}
spec:
  containers:
  - name: c
    image: "nginx:1.27%s"
    securityContext: {privileged: true}
""" % (json.dumps(ESCAPES)[1:-1], json.dumps(ESCAPES)[1:-1], json.dumps(ESCAPES)[1:-1])


class NoTerminalEscapes(unittest.TestCase):
    def assert_no_controls(self, text, where):
        bad = [c for c in text if (ord(c) < 0x20 and c not in "\n\r\t") or 0x7f <= ord(c) <= 0x9f]
        self.assertEqual(bad, [], where)

    def test_human_formats_escape_control_characters(self):
        with tempfile.TemporaryDirectory() as d:
            outs = {fmt: os.path.join(d, "r." + fmt)
                    for fmt in ("text", "markdown", "csv", "junit", "html", "ci")}
            args = ["scan", "--no-config", "--no-color", "--fail-on", "critical"]
            for fmt, path in outs.items():
                args += ["-o", f"{fmt}={path}"]
            code, _, err = run(*args, "-", stdin=HOSTILE)
            self.assertEqual(code, 1)
            self.assert_no_controls(err, "stderr")
            self.assertIn("Pod n/p\\x1B]0;pwned\\x07\\x1B[2J\\u009B31m\\x7F", err)
            for fmt, path in outs.items():
                with open(path, encoding="utf-8", newline="") as f:
                    text = f.read()
                self.assert_no_controls(text, fmt)
            with open(outs["text"], encoding="utf-8") as f:
                text = f.read()
            self.assertIn('image "nginx:1.27\\x1B]0;pwned\\x07\\x1B[2J\\u009B31m\\x7F"', text)
            self.assertIn("exempt: r\\x1B]0;pwned", text)

    def test_text_on_stdout_with_no_color(self):
        code, out, _ = run("scan", "--no-config", "--no-color", "-", stdin=HOSTILE)
        self.assertEqual(code, 0)
        self.assert_no_controls(out, "text")


class GateReason(unittest.TestCase):
    def test_fail_on_names_threshold_count_and_findings(self):
        with tempfile.TemporaryDirectory() as d:
            code, out, err = run("scan", "--no-config", "--fail-on", "critical",
                                 "-o", "json=" + os.path.join(d, "x.json"), "-", stdin=PRIVILEGED_POD)
            self.assertEqual(code, 1)
            self.assertEqual(out, "")
            self.assertIn("kguard: --fail-on critical crossed: 1 finding (1 critical)", err)
            self.assertRegex(err, r"\n  critical +pss-privileged  Pod n/p  <stdin>:9:19\n")
            # The summary line the help promises, and -q keeps only the reason.
            self.assertRegex(err, r"kguard: 1 resource in 1 document: \d+ failed checks \(1 critical, ")
            code, _, err = run("scan", "--no-config", "-q", "--fail-on", "high", "-o", "json=" +
                               os.path.join(d, "x.json"), "-", stdin=PRIVILEGED_POD)
            self.assertEqual(code, 1)
            self.assertTrue(err.startswith("kguard: --fail-on high crossed: 2 findings (1 critical, 1 high)\n"), err)
            self.assertNotIn("resource in", err)

    def test_fail_on_new_names_the_baseline(self):
        with tempfile.TemporaryDirectory() as d:
            base = os.path.join(d, "base.json")
            clean = PRIVILEGED_POD.replace("privileged: true", "privileged: false")
            run("scan", "--no-config", "-q", "-o", "json=" + base, "-", stdin=clean)
            code, _, err = run("scan", "--no-config", "-q", "--baseline", base, "--fail-on-new",
                               "--fail-on", "critical", "-", stdin=PRIVILEGED_POD)
            self.assertEqual(code, 1)
            self.assertIn("new failures not in the baseline %s at critical or above: 1 finding (1 critical)"
                          % base, err)
            self.assertIn("pss-privileged  Pod n/p  <stdin>:9:19", err)

    def test_min_score_and_many_findings(self):
        code, _, err = run("scan", "--no-config", "-q", "--min-score", "90", "-", stdin=PRIVILEGED_POD)
        self.assertEqual(code, 1)
        self.assertRegex(err, r"--min-score 90 not reached: the score is \d+/100 \([A-F][+-]?\)")
        code, _, err = run("scan", "--no-config", "-q", "--fail-on", "low", "-", stdin=PRIVILEGED_POD)
        self.assertEqual(code, 1)
        self.assertEqual(len([l for l in err.splitlines() if l.startswith("  ")]), 6)
        self.assertRegex(err, r"\.\.\. and \d+ more \(see the report\)")


class StrictCli(unittest.TestCase):
    def usage(self, *args, expect):
        code, out, err = run(*args, stdin=PRIVILEGED_POD)
        self.assertEqual(code, 2, args)
        self.assertIn(expect, err, args)
        return out

    def test_help_everywhere(self):
        for args, head in ((("help", "scan"), "Usage: kguard scan"),
                           (("scan", "--help"), "Usage: kguard scan"),
                           (("help", "snapshot"), "Usage: kguard snapshot"),
                           (("snapshot", "--help"), "Usage: kguard snapshot"),
                           (("admit", "--help"), "Usage: kguard admit"),
                           (("help", "admit"), "Usage: kguard admit"),
                           (("version", "--help"), "Usage: kguard version"),
                           (("help", "version"), "Usage: kguard version"),
                           (("help", "rules"), "kguard rules"),
                           (("--help",), "Usage:")):
            code, out, _ = run(*args)
            self.assertEqual(code, 0, args)
            self.assertIn(head, out, args)

    def test_out_of_range_numbers_are_refused(self):
        self.usage("scan", "--min-score", "150", "-", expect="--min-score needs a score from 0 to 100")
        self.usage("scan", "--min-score", "-1", "-", expect="--min-score needs a score from 0 to 100")
        self.usage("scan", "-j", "0", "-", expect="--jobs needs a number from 1 to 1024")
        self.usage("scan", "--jobs=-3", "-", expect="--jobs needs a number from 1 to 1024")
        self.usage("scan", "-j4x", "-", expect="--jobs needs a number from 1 to 1024")
        self.usage("snapshot", "--chunk-size", "0", "-o", "x", expect="--chunk-size needs a number")
        self.usage("snapshot", "--list-parallel=65", "-o", "x", expect="--list-parallel needs a number")
        self.usage("admit", "--workers", "0", expect="--workers needs a number from 1 to 64")
        self.usage("admit", "--max-connections", "5x", expect="--max-connections needs a positive")

    def test_unknown_flags_are_refused(self):
        self.usage("scan", "--bogus", "-", expect="unknown option '--bogus'")
        self.usage("snapshot", "--bogus", expect="unknown option '--bogus'")
        self.usage("admit", "--bogus", expect="unknown option '--bogus'")
        self.usage("version", "--bogus", expect="unexpected argument '--bogus'")
        self.usage("help", "bogus", expect="unknown command 'bogus'")

    def test_two_outputs_to_one_destination_are_refused(self):
        self.usage("scan", "-o", "text", "-o", "json", "-", expect="both write to stdout")
        self.usage("scan", "-o", "json=-", "-o", "sarif", "-", expect="both write to stdout")
        with tempfile.TemporaryDirectory() as d:
            a = os.path.join(d, "r.out")
            self.usage("scan", "-o", "json=" + a, "-o", "sarif=" + os.path.join(d, ".", "r.out"), "-",
                       expect="both write to '")
            self.assertFalse(os.path.exists(a))
            code, _, err = run("scan", "--no-config", "-o", "json=" + a, "-o",
                               "sarif=" + os.path.join(d, "r.sarif"), "-o", "text", "-",
                               stdin=PRIVILEGED_POD)
            self.assertEqual(code, 0, err)


class CiHabits(unittest.TestCase):
    def test_severity_filters_what_is_shown_not_the_gate(self):
        code, out, err = run("scan", "--no-config", "-o", "json", "--severity", "low",
                             "--fail-on", "critical", "-", stdin=PRIVILEGED_POD)
        self.assertEqual(code, 1)
        report = json.loads(out)
        self.assertEqual({f["severity"] for f in report["findings"]}, {"low"})
        self.assertEqual(report["overview"]["bySeverity"]["critical"], 1)  # counts stay whole
        self.assertIn("pss-privileged", err)
        _, out, _ = run("scan", "--no-config", "-o", "json", "--severity", "high+", "-",
                        stdin=PRIVILEGED_POD)
        self.assertEqual({f["severity"] for f in json.loads(out)["findings"]}, {"high", "critical"})
        _, out, _ = run("scan", "--no-config", "-o", "json", "--severity", "medium,critical", "-",
                        stdin=PRIVILEGED_POD)
        self.assertEqual({f["severity"] for f in json.loads(out)["findings"]}, {"medium", "critical"})
        self.usage_error("--severity", "urgent")
        self.usage_error("--severity", "")

    def usage_error(self, *args):
        code, _, err = run("scan", "--no-config", *args, "-", stdin=PRIVILEGED_POD)
        self.assertEqual(code, 2, args)
        self.assertIn("--severity", err)

    def test_ci_format_is_one_line_per_failure(self):
        code, out, _ = run("scan", "--no-config", "-o", "ci", "-", stdin=PRIVILEGED_POD)
        self.assertEqual(code, 0)
        _, js, _ = run("scan", "--no-config", "-o", "json", "-", stdin=PRIVILEGED_POD)
        failed = [f for f in json.loads(js)["findings"] if f["result"] == "fail"]
        lines = out.splitlines()
        self.assertEqual(len(lines), len(failed))
        pattern = re.compile(r"^(.+):(\d+):(\d+): (low|medium|high|critical) ([a-z0-9-]+): (.+) \[(\S+) (.+)\]$")
        for line, f in zip(lines, failed):
            m = pattern.match(line)
            self.assertIsNotNone(m, line)
            self.assertEqual(m.groups(), (f["location"]["file"], str(f["location"]["line"]),
                                          str(f["location"]["column"]), f["severity"], f["rule"],
                                          f["message"], "Pod", "n/p"))
        self.assertEqual(lines[0], '<stdin>:9:19: critical pss-privileged: container "c" must not '
                                   'set securityContext.privileged=true [Pod n/p]')

    def test_sarif_reports_exempted_findings_as_suppressed(self):
        pod = PRIVILEGED_POD.replace(
            "metadata: {name: p, namespace: n}",
            "metadata: {name: p, namespace: n, annotations: {kguard.io/exempt: pss-privileged, "
            "kguard.io/exempt-reason: vendor chart, kguard.io/exempt-until: '2099-01-31'}}")
        with tempfile.TemporaryDirectory() as d:
            config = write(d, "k.yaml", "exemptions:\n  - rules: [naked-pod]\n    reason: jobs runner\n")
            code, out, err = run("scan", "--config", config, "-o", "sarif", "-", stdin=pod)
            self.assertEqual(code, 0, err)
        log = json.loads(out)
        results = log["runs"][0]["results"]
        suppressed = {r["ruleId"]: r["suppressions"] for r in results if "suppressions" in r}
        self.assertEqual(suppressed, {
            "pss-privileged": [{"kind": "inSource", "status": "accepted", "justification": "vendor chart",
                                "properties": {"until": "2099-01-31"}}],
            "naked-pod": [{"kind": "external", "status": "accepted", "justification": "jobs runner"}]})
        assert_valid_sarif(self, log)


if __name__ == "__main__":
    unittest.main()

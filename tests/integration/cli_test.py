#!/usr/bin/env python3
"""End-to-end tests of the kguard binary: exit codes, inputs, report shapes.

Run by ctest: cli_test.py KGUARD_BINARY SOURCE_DIR CORPORA_DIR
"""
import json
import os
import tempfile
import unittest

import support
from support import PRIVILEGED_POD, run, scan_json

KGUARD, SOURCE, CORPORA = support.args("kguard", "source", "corpora")
EXAMPLES = os.path.join(SOURCE, "examples")
REAL_WORLD = os.path.join(CORPORA, "real-world")


class ExitCodes(unittest.TestCase):
    def test_clean_scan_exits_zero(self):
        code, report, _ = scan_json(os.path.join(EXAMPLES, "hardened"))
        self.assertEqual(code, 0)
        self.assertEqual(report["overview"]["failed"], 0)
        self.assertEqual(report["overview"]["grade"], "A+")

    def test_fail_on_severity(self):
        self.assertEqual(run("scan", "--fail-on", "critical", "-", stdin=PRIVILEGED_POD)[0], 1)
        # Nothing at or above critical in a pod that is only missing probes and a digest.
        code, _, _ = run("scan", "--fail-on", "critical", "--only", "pss",
                         os.path.join(EXAMPLES, "hardened"))
        self.assertEqual(code, 0)

    def test_min_score(self):
        self.assertEqual(run("scan", "--min-score", "90", "-", stdin=PRIVILEGED_POD)[0], 1)
        self.assertEqual(run("scan", "--min-score", "0", "-", stdin=PRIVILEGED_POD)[0], 0)

    def test_usage_errors_exit_two(self):
        # An input that exists and scans cleanly (exit 0 without the bad flag),
        # so only the flag under test can make the exit code 2; the message
        # names what was wrong.
        good = os.path.join(EXAMPLES, "hardened")
        self.assertEqual(run("scan", "--no-config", good)[0], 0)
        cases = [
            ((), "no input: give files, directories, - for stdin, or --cluster"),
            (("--pss", "strict", good), "--pss must be privileged, baseline or restricted"),
            (("--pss-version", "1.25", good), "--pss-version must be v1.N or latest, not '1.25'"),
            (("--only", "no-such-rule", good), "--only: no rule, category or tag named 'no-such-rule'"),
            (("-o", "xml", good), "unknown format 'xml'"),
        ]
        for args, message in cases:
            with self.subTest(args=args):
                code, out, err = run("scan", "--no-config", *args)
                self.assertEqual(code, 2, err)
                self.assertIn(message, err)
                self.assertEqual(out, "")
        code, _, err = run("frobnicate")
        self.assertEqual(code, 2)
        self.assertIn("unknown command 'frobnicate'", err)


class Inputs(unittest.TestCase):
    def test_stdin(self):
        code, report, _ = scan_json("-", stdin=PRIVILEGED_POD)
        self.assertEqual(code, 0)
        rules = {f["rule"] for f in report["findings"]}
        self.assertIn("pss-privileged", rules)
        f = next(f for f in report["findings"] if f["rule"] == "pss-privileged")
        self.assertEqual(f["location"]["file"], "<stdin>")
        self.assertEqual((f["location"]["line"], f["location"]["column"]), (9, 19))
        self.assertEqual(f["location"]["path"], "spec.containers[0].securityContext.privileged")

    def test_malformed_input_is_reported_and_the_rest_scanned(self):
        with tempfile.TemporaryDirectory() as d:
            open(os.path.join(d, "a-bad.yaml"), "w").write(
                "apiVersion: v1\nkind: Pod\nmetadata: {name: ok}\nspec: {containers: [{name: c}]}\n"
                "---\nkind: Pod\n  broken: [\n---\n" + PRIVILEGED_POD)
            open(os.path.join(d, "b-good.json"), "w").write(json.dumps(
                {"apiVersion": "v1", "kind": "List", "items": [
                    {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
                     "spec": {"type": "NodePort"}}]}))
            open(os.path.join(d, "c-bad.json"), "w").write('{"kind": "Pod", "spec": [1,,]}')
            open(os.path.join(d, "notes.txt"), "w").write("not: scanned")
            code, report, err = scan_json(d)
        self.assertEqual(code, 2)
        self.assertEqual(report["overview"]["objects"], 3)
        kinds = {r["kind"]: r["count"] for r in report["overview"]["resources"]}
        self.assertEqual(kinds, {"Pod": 2, "Service": 1})
        errors = report["errors"]
        self.assertEqual(len(errors), 2)
        self.assertTrue(errors[0]["file"].endswith("a-bad.yaml"))
        self.assertEqual(errors[0]["line"], 7)
        self.assertTrue(errors[1]["file"].endswith("c-bad.json"))
        self.assertEqual((errors[1]["line"], errors[1]["column"]), (1, 28))
        self.assertIn("input error", err)
        self.assertIn("service-exposed-on-node", {f["rule"] for f in report["findings"]})

    def test_missing_path(self):
        code, report, _ = scan_json("/nonexistent/path.yaml")
        self.assertEqual(code, 2)
        self.assertIn("no such file", report["errors"][0]["message"])

    def test_config_extends_pod_template_paths_for_crds(self):
        crd = ("apiVersion: example.com/v1\nkind: Workload\nmetadata: {name: w}\n"
               "spec:\n  pod:\n    spec:\n      hostPID: true\n      containers: [{name: c}]\n")
        with tempfile.TemporaryDirectory() as d:
            open(os.path.join(d, "w.yaml"), "w").write(crd)
            code, out, _ = run("scan", "-o", "json", "--only", "pss-host-namespaces", d)
            self.assertEqual(json.loads(out)["overview"]["checks"], 0)
            open(os.path.join(d, ".kguard.yaml"), "w").write("podTemplatePaths:\n  Workload: spec.pod\n")
            code, out, _ = run("scan", "-o", "json", "--only", "pss-host-namespaces", d)
            report = json.loads(out)
            self.assertEqual(report["overview"]["failed"], 1)
            self.assertEqual(report["findings"][0]["location"]["path"], "spec.pod.spec.hostPID")
            open(os.path.join(d, ".kguard.yaml"), "w").write("podTemplatePath: {}\n")
            code, _, err = run("scan", d)
            self.assertEqual(code, 2)
            self.assertIn(".kguard.yaml:1:1: unknown config field 'podTemplatePath'", err)


class Selection(unittest.TestCase):
    def test_only_pss_and_levels(self):
        insecure = os.path.join(EXAMPLES, "insecure")
        _, restricted, _ = scan_json("--only", "pss", insecure)
        _, baseline, _ = scan_json("--only", "pss", "--pss", "baseline", insecure)
        _, privileged, _ = scan_json("--only", "pss", "--pss", "privileged", insecure)
        for r in (restricted, baseline):
            self.assertTrue(all(f["rule"].startswith("pss-") for f in r["findings"]))
        self.assertGreater(restricted["overview"]["checks"], baseline["overview"]["checks"])
        self.assertEqual(privileged["overview"]["checks"], 0)
        self.assertEqual(restricted["source"]["policy"], {"pss": "restricted", "pssVersion": "v1.37"})

    def test_only_category(self):
        _, report, _ = scan_json("--only", "images", os.path.join(EXAMPLES, "insecure"))
        self.assertEqual({c["id"] for c in report["categories"] if c["checks"]}, {"images"})

    def test_pss_version_changes_the_verdict(self):
        pod = ("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n"
               "  securityContext: {runAsNonRoot: true}\n  containers: [{name: c}]\n")
        _, old, _ = scan_json("--only", "pss", "--pss-version", "v1.7", "-", stdin=pod)
        _, new, _ = scan_json("--only", "pss", "--pss-version", "latest", "-", stdin=pod)
        self.assertEqual(old["overview"]["failed"], 0)
        self.assertEqual({f["rule"] for f in new["findings"]},
                         {"pss-allow-privilege-escalation", "pss-seccomp-restricted",
                          "pss-capabilities-restricted"})


    def test_snapshot_cluster_version_decides_the_subpath_cve(self):
        # CVE-2021-25741 was fixed in 1.21.5: a snapshot of a 1.21.3 cluster is
        # affected, one of 1.21.5 is not, and a plain file (version unknown) is
        # reported with the advice to set the version.
        deployment = {
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "shop"},
            "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": "web:1",
                                         "volumeMounts": [{"name": "d", "mountPath": "/d",
                                                           "subPath": "x"}]}],
                         "volumes": [{"name": "d", "emptyDir": {}}]}}}}
        rule = "subpath-mount-cve-2021-25741"
        with tempfile.TemporaryDirectory() as d:
            def scan_snapshot(version):
                path = os.path.join(d, "snapshot-%s.json" % version)
                # The layout `kguard snapshot` writes: the envelope on the first line.
                envelope = json.dumps({"server": "https://127.0.0.1:6443",
                                       "serverVersion": version}, separators=(",", ":"))
                with open(path, "w") as f:
                    f.write('{"apiVersion":"v1","kind":"List","metadata":{"resourceVersion":""},'
                            '"kguardSnapshot":%s,"items":[\n%s\n]}\n' % (envelope, json.dumps(deployment)))
                _, report, _ = scan_json("--only", rule, path)
                return [f for f in report["findings"] if f["rule"] == rule]
            affected = scan_snapshot("v1.21.3")
            self.assertEqual(len(affected), 1)
            self.assertIn("the cluster runs 1.21.3", affected[0]["message"])
            self.assertEqual(scan_snapshot("v1.21.5"), [])
            self.assertEqual(scan_snapshot("v1.30.0"), [])
            plain = os.path.join(d, "plain.json")
            with open(plain, "w") as f:
                json.dump(deployment, f)
            _, report, _ = scan_json("--only", rule, plain)
            self.assertIn("or set params.kubernetesVersion", report["findings"][0]["message"])


class Reports(unittest.TestCase):
    def test_json_shape(self):
        _, r, _ = scan_json(os.path.join(EXAMPLES, "insecure"))
        self.assertEqual(r["schemaVersion"], 1)
        self.assertEqual(r["tool"]["name"], "kguard")
        o = r["overview"]
        self.assertEqual(o["checks"], o["passed"] + o["failed"] + o["exempted"])
        self.assertAlmostEqual(sum(x["percent"] for x in o["resources"]), 100.0, delta=0.5)
        self.assertEqual(sum(x["count"] for x in o["resources"]), o["objects"])
        self.assertEqual([c["id"] for c in r["categories"]],
                         ["health", "images", "networking", "resources", "security"])
        self.assertEqual(sum(c["checks"] for c in r["categories"]), o["checks"])
        for c in r["categories"]:
            self.assertGreater(c["failed"], 0, c["id"])  # the insecure example trips every category
        p2 = 2 * o["passed"]
        warn = sum(v for k, v in o["bySeverity"].items() if k in ("low", "medium"))
        danger = sum(v for k, v in o["bySeverity"].items() if k in ("high", "critical"))
        self.assertEqual(o["score"], (100 * p2) // (p2 + warn + 2 * danger))
        for f in r["findings"]:
            self.assertIn(f["severity"], ("low", "medium", "high", "critical"))
            self.assertTrue(f["location"]["path"])
            self.assertGreater(f["location"]["line"], 0)

    def test_text_report_sections_and_multiple_outputs(self):
        with tempfile.TemporaryDirectory() as d:
            out_json = os.path.join(d, "r.json")
            code, out, err = run("scan", "--no-config", "-o", "text", "-o", "json=" + out_json,
                                 os.path.join(EXAMPLES, "insecure"))
            self.assertEqual(code, 0)
            for section in ("1. Overview", "2. By category", "3. Details by workload"):
                self.assertIn(section, out)
            self.assertNotIn("\033[", out)  # no colour when not a terminal
            self.assertEqual(json.load(open(out_json))["schemaVersion"], 1)

    def test_jobs_do_not_change_the_report(self):
        _, one, _ = scan_json("-j", "1", REAL_WORLD)
        _, two, _ = scan_json("--jobs", "2", REAL_WORLD)
        one.pop("generatedAt"), two.pop("generatedAt")
        self.assertEqual(one, two)


class Baseline(unittest.TestCase):
    def test_new_unchanged_fixed_by_fingerprint_not_line(self):
        with tempfile.TemporaryDirectory() as d:
            app = os.path.join(d, "app.yaml")
            base = os.path.join(d, "base.json")
            open(app, "w").write(PRIVILEGED_POD)
            code, out, _ = run("scan", "--no-config", "-o", "json=" + base, app)
            before = json.load(open(base))
            # Lines move, the privileged flag goes, host networking arrives.
            changed = "# moved down\n\n" + PRIVILEGED_POD.replace(
                "privileged: true", "privileged: false").replace("spec:\n", "spec:\n  hostNetwork: true\n")
            open(app, "w").write(changed)
            code, out, _ = run("scan", "--no-config", "-o", "json", "--baseline", base, app)
            r = json.loads(out)
            states = {f["rule"]: f.get("baseline") for f in r["findings"] if f["result"] == "fail"}
            self.assertEqual(states["pss-host-namespaces"], "new")
            self.assertEqual(states["pss-run-as-non-root"], "unchanged")  # moved two lines, same finding
            self.assertIn("pss-privileged", {x["rule"] for x in r["baseline"]["fixed"]})
            self.assertEqual(r["baseline"]["new"], sum(1 for f in r["findings"] if f.get("baseline") == "new"))
            self.assertEqual(r["baseline"]["unchanged"] + r["baseline"]["new"],
                             sum(1 for f in r["findings"] if f["result"] == "fail"))
            # --fail-on-new fails on the new high finding, not on old ones.
            self.assertEqual(run("scan", "--no-config", "--baseline", base, "--fail-on-new", app)[0], 1)
            self.assertEqual(run("scan", "--no-config", "--baseline", base, "--fail-on-new",
                                 "--fail-on", "critical", app)[0], 0)
            open(app, "w").write(PRIVILEGED_POD)
            self.assertEqual(run("scan", "--no-config", "--baseline", base, "--fail-on-new", app)[0], 0)
            sarif = json.loads(run("scan", "--no-config", "-o", "sarif", "--baseline", base, app)[1])
            self.assertEqual({x.get("baselineState") for x in sarif["runs"][0]["results"]}, {"unchanged"})
            self.assertEqual(run("scan", "--fail-on-new", app)[0], 2)  # needs --baseline
            open(base, "w").write("{}")
            self.assertEqual(run("scan", "--baseline", base, app)[0], 2)


class RealWorld(unittest.TestCase):
    def test_every_document_loads_and_locations_are_exact(self):
        code, r, _ = scan_json(REAL_WORLD)
        self.assertEqual(r["errors"], [])
        self.assertEqual(code, 0)
        self.assertEqual(r["overview"]["documents"], 444)
        self.assertEqual(r["overview"]["objects"], 444)
        self.assertGreater(len(r["findings"]), 100)
        lines = {}
        for f in r["findings"]:
            loc = f["location"]
            if loc["file"] not in lines:
                lines[loc["file"]] = open(loc["file"], encoding="utf-8").read().split("\n")
            line = lines[loc["file"]][loc["line"] - 1]
            # The reported line and column hold the field the path names (or,
            # for a missing field, the parent the fix goes into).
            last = loc["path"].split(".")[-1].split("[")[0]
            if f["rule"] in ("image-not-pinned-by-digest", "image-tag-not-pinned"):
                self.assertIn("image", line, f)
                self.assertTrue(line[loc["column"] - 1:].strip().strip('"\'').startswith(
                    f["message"].split('"')[3][:10]), (f, line))
            elif f["rule"] == "pss-privileged":
                self.assertEqual(last, "privileged")
                self.assertTrue(line[loc["column"] - 1:].startswith("true"), (f, line))

    def test_prometheus_bundle_loads_with_yaml12_scalars(self):
        bundle = os.path.join(REAL_WORLD, "prometheus-operator/prometheus-operator/bundle.yaml")
        code, r, _ = scan_json(bundle)
        self.assertEqual(r["errors"], [])
        self.assertEqual(r["overview"]["documents"], 15)


class Rules(unittest.TestCase):
    def test_list_and_show(self):
        code, out, _ = run("rules", "list", "-o", "json")
        self.assertEqual(code, 0)
        rules = json.loads(out)
        on_disk = sum(1 for root, _, files in os.walk(os.path.join(SOURCE, "rules"))
                      if "rule.yaml" in files and os.path.basename(os.path.dirname(root)) != "audit")
        self.assertEqual(len(rules), on_disk)
        self.assertEqual(len({r["id"] for r in rules}), len(rules))
        code, out, _ = run("rules", "show", "pss-privileged")
        self.assertEqual(code, 0)
        self.assertIn("Risk:", out)
        self.assertIn("Fix:", out)
        self.assertEqual(run("rules", "show", "nope")[0], 2)


if __name__ == "__main__":
    unittest.main(verbosity=2)

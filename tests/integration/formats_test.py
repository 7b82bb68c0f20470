#!/usr/bin/env python3
"""End-to-end tests of the sarif, junit, markdown, csv and policyreport formats.

Run by ctest: formats_test.py KGUARD_BINARY SOURCE_DIR CORPORA_DIR

Every format is checked against the JSON report of the same scan (counts,
rows, fingerprints) and parsed with a real parser (the official SARIF 2.1.0
schema, xml.etree, csv, PyYAML). Golden files under golden/ pin the exact
output for examples/; set KGUARD_UPDATE_GOLDEN=1 to rewrite them after an
intended change.
"""
import csv
import difflib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest
import urllib.parse
import xml.etree.ElementTree as ET

import support
from support import assert_valid_sarif

KGUARD, SOURCE, CORPORA = support.args("kguard", "source", "corpora", absolute=True)
EXAMPLES = os.path.join(SOURCE, "examples")
REAL_WORLD = os.path.join(CORPORA, "real-world")
GOLDEN_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden")
FORMATS = ("sarif", "junit", "markdown", "csv", "policyreport")
# Golden files cover the new formats and the two older ones.
GOLDEN_FORMATS = FORMATS + ("text", "json")
MARKDOWN_LIMIT = 65536


def require(name):
    module = support.import_dependency(name)
    if module is None:
        sys.exit(f"formats_test: Python module '{name}' is missing; run scripts/install-deps.sh "
                 f"(Debian packages python3-jsonschema and python3-yaml)")
    return module


jsonschema = require("jsonschema")
yaml = require("yaml")


def run(*args, cwd=None, stdin=None, check_codes=(0, 1)):
    p = subprocess.run([KGUARD, *args], input=stdin, capture_output=True, text=True, cwd=cwd,
                       timeout=300)
    if p.returncode not in check_codes:
        raise AssertionError(f"kguard {' '.join(args)} exited {p.returncode}: {p.stderr}")
    return p


def scan_to_files(outdir, paths, formats=FORMATS + ("json",), extra=(), cwd=None,
                  check_codes=(0, 1)):
    """One scan writing every format to outdir/report.<format>; returns the texts."""
    args = ["scan", "--no-config", "-q", *extra]
    for fmt in formats:
        args += ["-o", f"{fmt}={os.path.join(outdir, 'report.' + fmt)}"]
    run(*args, *paths, cwd=cwd, check_codes=check_codes)
    out = {}
    for fmt in formats:
        with open(os.path.join(outdir, "report." + fmt), encoding="utf-8", newline="") as f:
            out[fmt] = f.read()
    return out


def failed_findings(report):
    return [f for f in report["findings"] if f["result"] == "fail"]


# The scan of examples/ that most tests read, run once (setUpModule): from the
# source dir with a relative path, as a user in a checkout would, so file
# names (and SARIF URIs) are relative and the output can be compared with the
# golden files.
EX = {}
TMP = None


def setUpModule():
    global TMP
    TMP = tempfile.mkdtemp(prefix="kguard-formats-")
    EX.update(scan_to_files(TMP, ["examples/"], formats=GOLDEN_FORMATS,
                            extra=("--no-color", "--lang", "en"), cwd=SOURCE))
    EX["report"] = json.loads(EX["json"])


def tearDownModule():
    shutil.rmtree(TMP, ignore_errors=True)


class Sarif(unittest.TestCase):
    def test_validates_against_the_official_schema(self):
        log = json.loads(EX["sarif"])
        assert_valid_sarif(self, log)
        self.assertEqual(log["version"], "2.1.0")
        self.assertEqual(log["$schema"], "https://json.schemastore.org/sarif-2.1.0.json")
        self.assertEqual(len(log["runs"]), 1)

    def test_one_result_per_failed_finding(self):
        run_ = json.loads(EX["sarif"])["runs"][0]
        failed = failed_findings(EX["report"])
        # Exempted findings come as suppressed results, with their reason.
        exempt = [f for f in EX["report"]["findings"] if f["result"] == "exempt"]
        suppressed = [r for r in run_["results"] if "suppressions" in r]
        self.assertEqual([(r["ruleId"], r["suppressions"][0]["justification"]) for r in suppressed],
                         [(f["rule"], f["exemption"]["reason"]) for f in exempt])
        results = [r for r in run_["results"] if "suppressions" not in r]
        self.assertEqual(len(results), len(failed))
        rules = run_["tool"]["driver"]["rules"]
        levels = {"critical": "error", "high": "error", "medium": "warning", "low": "note"}
        scores = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0"}
        for r, f in zip(results, failed):
            self.assertEqual(r["ruleId"], f["rule"])
            self.assertEqual(rules[r["ruleIndex"]]["id"], f["rule"])
            self.assertEqual(r["level"], levels[f["severity"]])
            self.assertEqual(r["message"]["text"], f["message"])
            loc = r["locations"][0]
            art = loc["physicalLocation"]["artifactLocation"]
            self.assertEqual(art["uri"], f["location"]["file"])  # relative, as given
            self.assertEqual(art["uriBaseId"], "%SRCROOT%")
            region = loc["physicalLocation"]["region"]
            self.assertEqual((region["startLine"], region["startColumn"]),
                             (f["location"]["line"], f["location"]["column"]))
            resource = [f["kind"], f.get("namespace", ""), f["name"]]
            self.assertEqual(loc["logicalLocations"][0]["fullyQualifiedName"],
                             "/".join(p for p in resource if p))
            self.assertEqual(loc["logicalLocations"][0]["kind"], "resource")
            self.assertRegex(r["partialFingerprints"]["kguardFindingId/v1"], r"^[0-9a-f]{16}$")
        for rule in rules:
            sev = rule["properties"]["severity"]
            self.assertEqual(rule["properties"]["security-severity"], scores[sev])
            self.assertEqual(rule["defaultConfiguration"]["level"], levels[sev])
            self.assertIn(rule["properties"]["category"], rule["properties"]["tags"])
            for key in ("shortDescription", "fullDescription"):
                self.assertTrue(rule[key]["text"])
            self.assertTrue(rule["help"]["text"] and rule["help"]["markdown"])
        invocation = run_["invocations"][0]
        self.assertTrue(invocation["executionSuccessful"])
        self.assertEqual(invocation["toolExecutionNotifications"], [])

    def test_fingerprints_survive_reruns_and_moved_lines(self):
        def results(log):
            return [(r["ruleId"], r["partialFingerprints"]["kguardFindingId/v1"],
                     r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
                     r["locations"][0]["physicalLocation"]["region"]["startLine"])
                    for r in json.loads(log)["runs"][0]["results"]]

        first = results(EX["sarif"])
        again = results(run("scan", "--no-config", "-q", "-o", "sarif", "examples/",
                            cwd=SOURCE).stdout)
        self.assertEqual(first, again)
        with tempfile.TemporaryDirectory() as d:
            shutil.copytree(EXAMPLES, os.path.join(d, "examples"))
            for root, _, files in os.walk(os.path.join(d, "examples")):
                for name in files:
                    if name.endswith((".yaml", ".yml")):
                        path = os.path.join(root, name)
                        with open(path, encoding="utf-8") as f:
                            text = f.read()
                        with open(path, "w", encoding="utf-8") as f:
                            f.write("\n" + text)
            moved = results(run("scan", "--no-config", "-q", "-o", "sarif", "examples/",
                                cwd=d).stdout)
        self.assertEqual([r[:3] for r in moved], [r[:3] for r in first])
        self.assertEqual([r[3] for r in moved], [r[3] + 1 for r in first])

    def test_stdin_has_logical_locations_only(self):
        pod = ("apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: n}\nspec:\n"
               "  containers: [{name: c, image: nginx, securityContext: {privileged: true}}]\n")
        log = json.loads(run("scan", "--no-config", "-q", "-o", "sarif", "-", stdin=pod).stdout)
        assert_valid_sarif(self, log)
        results = log["runs"][0]["results"]
        self.assertTrue(results)
        for r in results:
            self.assertNotIn("physicalLocation", r["locations"][0])
            self.assertEqual(r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"],
                             "Pod/n/p")

    def test_input_errors_become_notifications(self):
        with tempfile.TemporaryDirectory() as d:
            with open(os.path.join(d, "bad.yaml"), "w") as f:
                f.write("kind: Pod\n  broken: [\n")
            p = run("scan", "--no-config", "-q", "-o", "sarif", d, check_codes=(2,))
        log = json.loads(p.stdout)
        assert_valid_sarif(self, log)
        invocation = log["runs"][0]["invocations"][0]
        self.assertFalse(invocation["executionSuccessful"])
        note = invocation["toolExecutionNotifications"][0]
        self.assertEqual(note["level"], "error")
        where = note["locations"][0]["physicalLocation"]
        self.assertTrue(where["artifactLocation"]["uri"].endswith("/bad.yaml"))
        self.assertTrue(where["artifactLocation"]["uri"].startswith("file:///"))
        self.assertGreaterEqual(where["region"]["startLine"], 1)


class JUnit(unittest.TestCase):
    def test_counts_equal_the_json_report(self):
        root = ET.fromstring(EX["junit"].encode("utf-8"))
        o = EX["report"]["overview"]
        self.assertEqual(root.tag, "testsuites")
        tests, skipped, errors = (int(root.get(k)) for k in ("tests", "skipped", "errors"))
        self.assertEqual(tests - skipped - errors, o["checks"])
        self.assertEqual(int(root.get("failures")), o["failed"])
        self.assertEqual(skipped, o["exempted"])
        suites = root.findall("testsuite")
        cats = EX["report"]["categories"]
        self.assertEqual([s.get("name") for s in suites], [c["title"] for c in cats])
        for s, c in zip(suites, cats):
            self.assertEqual(int(s.get("tests")) - int(s.get("skipped")), c["checks"], c["id"])
            self.assertEqual(int(s.get("failures")), c["failed"], c["id"])
            self.assertEqual(len(s.findall("testcase/failure")), c["failed"], c["id"])
            passed = sum(int(m.group(1)) for t in s.findall("testcase")
                         for m in [re.search(r"\((\d+) resources passed\)$", t.get("name"))] if m)
            self.assertEqual(passed, c["passed"], c["id"])
        failure = root.find(".//failure")
        self.assertIn(failure.get("type"), ("low", "medium", "high", "critical"))
        self.assertIn("fix: ", failure.text)


class Markdown(unittest.TestCase):
    def test_sections_and_size(self):
        md = EX["markdown"]
        self.assertLess(len(md), MARKDOWN_LIMIT)
        for heading in ("## kguard inspection report", "### By category", "### Top findings",
                        "### Details by workload"):
            self.assertIn(heading, md)
        if "**Truncated**" in md:  # examples/ may outgrow one comment; the note must be last
            self.assertTrue(md.rstrip("\n").split("\n")[-1].startswith("> **Truncated**"))
        top = md.split("### Top findings")[1].split("###")[0]
        rows = [l for l in top.split("\n") if l.startswith("| ") and "`" in l]
        self.assertEqual(len(rows), min(20, len(failed_findings(EX["report"]))))
        order = ["critical", "high", "medium", "low"]
        sevs = [order.index(r.split("|")[1].strip()) for r in rows]
        self.assertEqual(sevs, sorted(sevs))  # most severe first
        self.assertEqual(md.count("<details>"), md.count("</details>"))

    def test_big_input_is_cut_with_a_note(self):
        with tempfile.TemporaryDirectory() as d:
            out = scan_to_files(d, [REAL_WORLD, EXAMPLES], formats=("markdown", "json"))
        md, report = out["markdown"], json.loads(out["json"])
        self.assertLess(len(md), MARKDOWN_LIMIT)
        m = re.search(r"> \*\*Truncated\*\*: (\d+) more findings are not shown", md)
        self.assertIsNotNone(m, md[-500:])
        self.assertTrue(md.rstrip("\n").split("\n")[-1].startswith(m.group(0)))  # the last word
        details = md.split("### Details by workload")[1]
        shown = sum(1 for l in details.split("\n")
                    if l.startswith("| ") and not l.startswith("| Result "))
        self.assertGreater(shown, 0)
        self.assertEqual(int(m.group(1)), len(report["findings"]) - shown)


class Csv(unittest.TestCase):
    def test_one_row_per_finding(self):
        reader = csv.reader(io.StringIO(EX["csv"], newline=""))
        header = next(reader)
        self.assertEqual(header, ["kind", "namespace", "name", "container", "category", "rule",
                                  "title", "result", "severity", "message", "file", "line",
                                  "column", "path", "remediation"])
        rows = [dict(zip(header, r)) for r in reader]
        findings = EX["report"]["findings"]
        self.assertEqual(len(rows), len(findings))
        for row, f in zip(rows, findings):
            for key in ("kind", "namespace", "name", "container", "category", "rule", "title",
                        "result", "severity", "message", "remediation"):
                self.assertEqual(row[key], f.get(key, ""), key)  # JSON omits an empty namespace
            for key in ("file", "path"):
                self.assertEqual(row[key], f["location"][key], key)
            for key in ("line", "column"):
                self.assertEqual(int(row[key]), f["location"][key], key)
        self.assertTrue(EX["csv"].endswith("\r\n"))  # RFC 4180 record separator


class PolicyReport(unittest.TestCase):
    def test_reports_per_namespace_and_cluster(self):
        docs = [d for d in yaml.safe_load_all(EX["policyreport"]) if d is not None]
        report = EX["report"]
        self.assertEqual(sum(d["summary"]["fail"] for d in docs), report["overview"]["failed"])
        namespaces = {f["namespace"] for f in report["findings"] if f.get("namespace")}  # none: cluster-scoped
        namespaced = [d for d in docs if d["kind"] == "PolicyReport"]
        self.assertEqual({d["metadata"]["namespace"] for d in namespaced}, namespaces)
        cluster = [d for d in docs if d["kind"] == "ClusterPolicyReport"]
        self.assertEqual([d["metadata"]["name"] for d in cluster], ["kguard-cluster"])
        for d in docs:
            self.assertEqual(d["apiVersion"], "wgpolicyk8s.io/v1alpha2")
            self.assertEqual(set(d["summary"]), {"pass", "fail", "warn", "error", "skip"})
            results = d["results"]
            self.assertEqual(d["summary"]["fail"], sum(r["result"] == "fail" for r in results))
            if d["kind"] == "PolicyReport":
                ns = d["metadata"]["namespace"]
                self.assertEqual(d["metadata"]["name"], "kguard-" + ns)
            for r in results:
                self.assertEqual((r["policy"], r["source"]), ("kguard", "kguard"))
                self.assertIn(r["severity"], ("critical", "high", "medium", "low", "info"))
                self.assertIn(r["result"], ("pass", "fail", "warn", "error", "skip"))
                self.assertIsInstance(r["timestamp"]["seconds"], int)
                self.assertTrue(all(isinstance(v, str) for v in r["properties"].values()))
                for res in r["resources"]:
                    if d["kind"] == "PolicyReport":
                        self.assertEqual(res["namespace"], d["metadata"]["namespace"])
                    else:
                        self.assertNotIn("namespace", res)


class Chinese(unittest.TestCase):
    def test_category_names_follow_the_language(self):
        with tempfile.TemporaryDirectory() as d:
            out = scan_to_files(d, [EXAMPLES], formats=("markdown", "junit"),
                                extra=("--lang", "zh"))
        for fmt in ("markdown", "junit"):
            for name in ("健康检查", "镜像", "网络", "资源", "安全"):
                self.assertIn(name, out[fmt], fmt)
        self.assertIn("主要问题", out["markdown"])
        suites = ET.fromstring(out["junit"].encode("utf-8")).findall("testsuite")
        self.assertEqual([s.get("name") for s in suites], ["健康检查", "镜像", "网络", "资源", "安全"])


# Names no cluster would accept, but a manifest can hold: every format must
# carry them through its own escaping and parse back.
NASTY = r'''apiVersion: apps/v1
kind: Deployment
metadata:
  name: "a|b`c,d \"q\" <b>&amp; 'x'\x01\x7f\u0085\u2028\U0001F600 end\r\nline2"
  namespace: "ns|`,\"<>&"
spec:
  template:
    spec:
      containers:
      - name: "c|`,\"<>&"
        image: nginx
        securityContext: {privileged: true}
'''


class Escaping(unittest.TestCase):
    def test_hostile_strings_round_trip(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "nasty file#1é.yaml")
            with open(path, "w", encoding="utf-8") as f:
                f.write(NASTY)
            out = scan_to_files(d, [path])
        report = json.loads(out["json"])
        name, ns = report["findings"][0]["name"], report["findings"][0].get("namespace", "")
        self.assertIn("\x01", name)

        log = json.loads(out["sarif"])
        assert_valid_sarif(self, log)
        location = log["runs"][0]["results"][0]["locations"][0]
        self.assertEqual(location["logicalLocations"][0]["name"], name)
        uri = location["physicalLocation"]["artifactLocation"]["uri"]
        self.assertTrue(uri.endswith("/nasty%20file%231%C3%A9.yaml"), uri)
        self.assertEqual(urllib.parse.unquote(uri), "file://" + path)

        rows = list(csv.DictReader(io.StringIO(out["csv"], newline="")))
        self.assertEqual(len(rows), len(report["findings"]))
        # Terminal controls (C0 but tab and line breaks, DEL, C1) are written visibly.
        visible = name.replace("\x01", "\\x01").replace("\x7f", "\\x7F").replace("\x85", "\\u0085")
        self.assertEqual((rows[0]["name"], rows[0]["namespace"]), (visible, ns))

        docs = [x for x in yaml.safe_load_all(out["policyreport"]) if x]
        self.assertEqual(docs[0]["metadata"]["namespace"], ns)
        self.assertEqual(docs[0]["results"][0]["resources"][0]["name"], name)

        case = ET.fromstring(out["junit"].encode("utf-8")).find(".//testcase")
        # XML 1.0 cannot carry U+0001, and DEL/C1 would reach a terminal showing
        # the file: they become U+FFFD; everything else survives.
        self.assertEqual(case.get("classname"), f"Deployment/{ns}/{name}".replace("\x01", "\ufffd")
                         .replace("\x7f", "\ufffd").replace("\x85", "\ufffd"))

        top = out["markdown"].split("### Top findings")[1].split("###")[0]
        row = next(l for l in top.split("\n") if "`pss-privileged`" in l)
        cells = re.split(r"(?<!\\)\|", row)
        self.assertEqual(len(cells), 7, row)  # 5 cells between 6 unescaped pipes
        self.assertIn("&lt;b&gt;&amp;amp;", out["markdown"])  # no HTML from the input
        self.assertNotIn("<b>&amp;", out["markdown"])


# Golden files: the exact output for examples/ (the scan of setUpModule), with
# the time and version replaced by placeholders.
TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z")


def normalise(text, version):
    text = TIME.sub("<TIME>", text)
    text = re.sub(r"(?m)^(\s+seconds: )\d+$", r"\g<1><SECONDS>", text)
    text = text.replace(f'"{version}"', '"<VERSION>"').replace(f"kguard {version}",
                                                               "kguard <VERSION>")
    return text


def readable(fmt, text):
    """JSON formats are one line; diff them pretty-printed."""
    if fmt in ("sarif", "json"):
        try:
            return json.dumps(json.loads(text), indent=1, ensure_ascii=False) + "\n"
        except ValueError:
            pass
    return text


class Golden(unittest.TestCase):
    def test_outputs_match_golden_files(self):
        version = run("version").stdout.split()[-1]
        update = os.environ.get("KGUARD_UPDATE_GOLDEN") == "1"
        problems = []
        for fmt in GOLDEN_FORMATS:
            actual = normalise(EX[fmt], version)
            path = os.path.join(GOLDEN_DIR, "examples." + fmt)
            if update:
                os.makedirs(GOLDEN_DIR, exist_ok=True)
                with open(path, "w", encoding="utf-8", newline="") as f:
                    f.write(actual)
                continue
            if not os.path.exists(path):
                problems.append(f"{path} is missing; run with KGUARD_UPDATE_GOLDEN=1")
                continue
            with open(path, encoding="utf-8", newline="") as f:
                expected = f.read()
            if actual != expected:
                diff = difflib.unified_diff(
                    readable(fmt, expected).splitlines(keepends=True),
                    readable(fmt, actual).splitlines(keepends=True),
                    fromfile=path, tofile=f"kguard scan -o {fmt} examples/")
                lines = list(diff)
                shown = "".join(lines[:300])
                if len(lines) > 300:
                    shown += f"... ({len(lines) - 300} more diff lines)\n"
                problems.append(shown)
        if problems:
            self.fail("output differs from the golden files (set KGUARD_UPDATE_GOLDEN=1 to "
                      "accept an intended change):\n" + "\n".join(problems))



# kguard image with a vulnerability database: an SBOM of the inventory test
# image (tests/testdata/vulns/app.cdx.json) matched against a database built by
# kguard db build from the OSV records beside it; golden files pin every format.
class ImageVulnerabilities(unittest.TestCase):
    SBOM = "sbom:tests/testdata/vulns/app.cdx.json"
    FORMATS = ("text", "report-json", "sarif", "csv", "markdown", "junit")

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="kguard-vulns-golden-")
        db = os.path.join(cls.dir, "vuln.db")
        run("db", "build", "--db", db, "--osv", "tests/testdata/vulns/osv", cwd=SOURCE, check_codes=(0,))
        args = ["image", "--db", db, "--no-color", "--lang", "en"]
        for fmt in cls.FORMATS:
            args += ["-o", f"{fmt}={os.path.join(cls.dir, 'out.' + fmt)}"]
        run(*args, cls.SBOM, cwd=SOURCE, check_codes=(0,))
        cls.out = {}
        for fmt in cls.FORMATS:
            with open(os.path.join(cls.dir, "out." + fmt), encoding="utf-8", newline="") as f:
                cls.out[fmt] = f.read()

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def test_formats_agree_with_the_json_report(self):
        report = json.loads(self.out["report-json"])
        ids = sorted(m["id"] for iv in report["vulnerabilities"] for m in iv["matches"])
        self.assertEqual(ids, ["CVE-2099-0001", "CVE-2099-0004", "GO-2099-0003", "PYSEC-2099-2", "PYSEC-2099-2"])
        sarif = json.loads(self.out["sarif"])
        assert_valid_sarif(self, sarif)
        self.assertEqual(sorted(r["ruleId"] for r in sarif["runs"][0]["results"]), ids)
        rows = list(csv.DictReader(io.StringIO(self.out["csv"])))
        self.assertEqual(sorted(r["rule"] for r in rows), ids)
        junit = ET.fromstring(self.out["junit"])
        self.assertEqual(sum(1 for c in junit.iter("testcase") if c.find("failure") is not None),
                         report["overview"]["failed"])

    def test_outputs_match_golden_files(self):
        version = run("version").stdout.split()[-1]
        update = os.environ.get("KGUARD_UPDATE_GOLDEN") == "1"
        problems = []
        for fmt in self.FORMATS:
            actual = normalise(self.out[fmt], version)
            path = os.path.join(GOLDEN_DIR, "image-vulns." + fmt.replace("report-", ""))
            if update:
                with open(path, "w", encoding="utf-8", newline="") as f:
                    f.write(actual)
                continue
            if not os.path.exists(path):
                problems.append(f"{path} is missing; run with KGUARD_UPDATE_GOLDEN=1")
                continue
            with open(path, encoding="utf-8", newline="") as f:
                expected = f.read()
            if actual != expected:
                diff = difflib.unified_diff(readable(fmt.replace("report-", ""), expected).splitlines(keepends=True),
                                            readable(fmt.replace("report-", ""), actual).splitlines(keepends=True),
                                            fromfile=path, tofile=f"kguard image -o {fmt}")
                problems.append("".join(list(diff)[:300]))
        if problems:
            self.fail("output differs from the golden files (set KGUARD_UPDATE_GOLDEN=1 to "
                      "accept an intended change):\n" + "\n".join(problems))


# A kguard snapshot of a cluster read by a narrow identity: every format shows
# the cluster facts and the coverage gaps; golden files pin the exact output.
class ClusterSnapshot(unittest.TestCase):
    SNAPSHOT = "tests/testdata/cluster-snapshot.json"

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="kguard-snapshot-")
        cls.out = scan_to_files(cls.dir, [cls.SNAPSHOT], formats=GOLDEN_FORMATS + ("html",),
                                extra=("--no-color", "--lang", "en"), cwd=SOURCE)
        cls.report = json.loads(cls.out["json"])

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def test_every_format_shows_the_coverage_gaps(self):
        r = self.report
        self.assertEqual(r["source"]["type"], "cluster")
        self.assertEqual(r["cluster"]["serverVersion"], "v1.24.17")
        self.assertIsNone(r["cluster"]["nodes"])
        self.assertEqual([(g["kind"], g["namespace"]) for g in r["coverage"]],
                         [("NetworkPolicy", "shop"), ("ClusterRole", "")])
        sarif = json.loads(self.out["sarif"])
        assert_valid_sarif(self, sarif)
        notes = sarif["runs"][0]["invocations"][0]["toolExecutionNotifications"]
        self.assertEqual([n["descriptor"]["id"] for n in notes], ["coverage", "coverage"])
        junit = ET.fromstring(self.out["junit"])
        skipped = [c for c in junit.iter("testcase") if c.get("classname") == "kguard.coverage"]
        self.assertEqual(len(skipped), 2)
        rows = list(csv.DictReader(io.StringIO(self.out["csv"])))
        self.assertEqual(sum(1 for x in rows if x["result"] == "unreadable"), 2)
        docs = [d for d in yaml.safe_load_all(self.out["policyreport"]) if d]
        cluster = [d for d in docs if d["kind"] == "ClusterPolicyReport"][0]
        self.assertEqual(cluster["summary"]["error"], 2)
        self.assertIn("Coverage", self.out["markdown"])
        self.assertIn("Coverage", self.out["text"])
        self.assertIn('data-stat="coverage-gaps" data-count="2"', self.out["html"])

    def test_owned_objects_count_once_and_cluster_rules_run(self):
        kinds = {f["kind"] for f in self.report["findings"]}
        self.assertNotIn("Pod", kinds)         # owned by the ReplicaSet, owned by the Deployment
        self.assertNotIn("ReplicaSet", kinds)
        rules = {(f["kind"], f["rule"]) for f in self.report["findings"]}
        self.assertIn(("Cluster", "kubernetes-version-support"), rules)
        self.assertIn(("Deployment", "deprecated-api-version"), rules)  # from last-applied-configuration

    def test_outputs_match_golden_files(self):
        version = run("version").stdout.split()[-1]
        update = os.environ.get("KGUARD_UPDATE_GOLDEN") == "1"
        for fmt in GOLDEN_FORMATS:
            actual = normalise(self.out[fmt], version)
            path = os.path.join(GOLDEN_DIR, "cluster-snapshot." + fmt)
            if update:
                with open(path, "w", encoding="utf-8", newline="") as f:
                    f.write(actual)
                continue
            with open(path, encoding="utf-8", newline="") as f:
                expected = f.read()
            if actual != expected:
                diff = "".join(list(difflib.unified_diff(
                    readable(fmt, expected).splitlines(keepends=True),
                    readable(fmt, actual).splitlines(keepends=True), fromfile=path,
                    tofile=f"kguard scan -o {fmt} {self.SNAPSHOT}"))[:200])
                self.fail("output differs from the golden file (KGUARD_UPDATE_GOLDEN=1 accepts "
                          "an intended change):\n" + diff)

if __name__ == "__main__":
    unittest.main()

#!/usr/bin/env python3
"""Vulnerabilities in kguard's reports and gates, through the real binary.

Run by ctest: image_vulns_test.py KGUARD SOURCE_DIR CORPORA

A database is built with `kguard db build` from real-format feed files: OSV
JSON records this test writes for packages the inventory test image oci:app
(tests/images/build_app_images.sh) really contains (npm is-number 6.0.0
nested under is-odd, PyPI six 1.16.0, the Go module github.com/google/uuid
v1.6.0, Debian 12's openssl source package of libssl3), and the Alpine secdb
corpus (v3.10) with Trivy's alpine-310 archive. The ids are made up
(CVE-2099-…), so nobody mistakes them for real advisories. Then `kguard image`
writes every format, and the gates (--fail-on, --max-risk), --ignore-unfixed,
a VEX document, a .kguard.yaml ignore with an expiry, --lang zh, SBOM input
and `kguard scan --images` are checked against what the records say.
"""
import csv
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
import xml.etree.ElementTree as ET

import support
from support import assert_valid_sarif

KGUARD, SOURCE, CORPORA = support.args("kguard", "source", "corpora", absolute=True)
BUILD_APPS = os.path.join(SOURCE, "tests", "images", "build_app_images.sh")
APPS = subprocess.run([BUILD_APPS, CORPORA], capture_output=True, check=True, timeout=1200).stdout.decode().strip()
APP = "oci:" + os.path.join(APPS, "oci") + ":app"
ALPINE = os.path.join(CORPORA, "supply-chain", "alpine")
ALPINE_310 = "docker-archive:" + os.path.join(ALPINE, "aquasecurity/trivy/pkg/fanal/test/testdata/alpine-310.tar.gz")
SECDB_310 = os.path.join(ALPINE, "alpinelinux/alpine-secdb/v3.10")

CRITICAL = "CVE-2099-0001"   # npm is-number < 7.0.0, CVSS 9.8 (only the nested 6.0.0 is affected)
UNFIXED = "PYSEC-2099-2"     # PyPI six <= 1.16.0, no fix
GO = "GO-2099-0003"          # Go uuid >= 1.0.0, < 1.7.0
DEBIAN = "CVE-2099-0004"     # Debian 12 openssl < 3.0.99-1~deb12u1 (libssl3)

OSV = [
    {"id": "GHSA-kgt1-0001-0001", "aliases": [CRITICAL], "modified": "2026-01-01T00:00:00Z",
     "summary": "is-number test advisory",
     "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
     "affected": [{"package": {"ecosystem": "npm", "name": "is-number"},
                   "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "7.0.0"}]}]}]},
    {"id": UNFIXED, "modified": "2026-01-01T00:00:00Z", "summary": "six test advisory without a fix",
     "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:L/AC:H/PR:L/UI:N/S:U/C:L/I:N/A:N"}],
     "affected": [{"package": {"ecosystem": "PyPI", "name": "six"},
                   "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"last_affected": "1.16.0"}]}]}]},
    {"id": GO, "modified": "2026-01-01T00:00:00Z", "summary": "uuid test advisory",
     "affected": [{"package": {"ecosystem": "Go", "name": "github.com/google/uuid"},
                   "ranges": [{"type": "SEMVER", "events": [{"introduced": "1.0.0"}, {"fixed": "1.7.0"}]}]}]},
    {"id": "DEBIAN-" + DEBIAN, "aliases": [DEBIAN], "modified": "2026-01-01T00:00:00Z",
     "summary": "openssl test advisory",
     "affected": [{"package": {"ecosystem": "Debian:12", "name": "openssl"},
                   "ranges": [{"type": "ECOSYSTEM",
                               "events": [{"introduced": "0"}, {"fixed": "3.0.99-1~deb12u1"}]}]}]},
    # Not in the image at all, and a version range the image is above: no match either way.
    {"id": "GHSA-kgt1-0005-0005", "aliases": ["CVE-2099-0005"], "modified": "2026-01-01T00:00:00Z",
     "affected": [{"package": {"ecosystem": "npm", "name": "is-odd"},
                   "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "3.0.0"}]}]}]},
]

# A secdb entry in the v3.10 secdb's own JSON shape for a fix above the archive's musl 1.1.22-r3.
SECDB_EXTRA = {"distroversion": "v3.10", "reponame": "main", "urlprefix": "http://dl-cdn.alpinelinux.org/alpine",
               "apkurl": "{{urlprefix}}/{{distroversion}}/{{reponame}}/{{arch}}/{{pkg.name}}-{{pkg.ver}}.apk",
               "archs": ["x86_64"],
               "packages": [{"pkg": {"name": "musl", "secfixes": {"1.1.22-r4": ["CVE-2099-0006"]}}}]}

OPENVEX = {
    "@context": "https://openvex.dev/ns/v0.2.0",
    "@id": "https://kguard.example/vex/image-vulns-test",
    "author": "kguard tests",
    "timestamp": "2026-12-01T00:00:00Z",
    "version": 1,
    "statements": [{
        "vulnerability": {"name": GO},
        "products": [{"@id": "pkg:golang/github.com/google/uuid@v1.6.0"}],
        "status": "not_affected",
        "justification": "vulnerable_code_not_in_execute_path",
        "impact_statement": "hello never parses a UUID",
    }],
}

CONFIG = f"""vulnerabilities:
  ignore:
    - id: {DEBIAN}
      package: libssl3
      reason: "the test image never opens a TLS connection; SEC-1"
      until: 2099-01-31
    - id: {UNFIXED}
      reason: "an acceptance that ran out"
      until: 2020-01-01
"""

TMP = None
DB = None


def setUpModule():
    global TMP, DB
    TMP = tempfile.mkdtemp(prefix="kguard-vulns-")
    osv = os.path.join(TMP, "osv")
    os.makedirs(osv)
    for r in OSV:
        with open(os.path.join(osv, r["id"] + ".json"), "w", encoding="utf-8") as f:
            json.dump(r, f, indent=1)
    secdb = os.path.join(TMP, "secdb", "v3.10")
    shutil.copytree(SECDB_310, secdb)
    with open(os.path.join(secdb, "extra.json"), "w", encoding="utf-8") as f:
        json.dump(SECDB_EXTRA, f)
    DB = os.path.join(TMP, "vuln.db")
    code, out, err = support.run("db", "build", "--db", DB, "--osv", osv, "--alpine-secdb",
                                 os.path.join(TMP, "secdb"))
    if code != 0:
        raise AssertionError(f"kguard db build exited {code}: {out}{err}")
    write("vex.json", json.dumps(OPENVEX, indent=1))
    write("kguard.yaml", CONFIG)


def tearDownModule():
    shutil.rmtree(TMP, ignore_errors=True)


def write(name, text):
    path = os.path.join(TMP, name)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def image(*argv, ref=APP, env=None):
    """kguard image REF --db DB ARGV: (exit code, stdout, stderr)."""
    return support.run("image", "--db", DB, *argv, ref, timeout=300, env=env)


def report(*argv, ref=APP):
    code, out, err = image("-o", "report-json", *argv, ref=ref)
    if code > 1:
        raise AssertionError(f"kguard image exited {code}: {err}")
    return code, json.loads(out), err


def matches(rep):
    return {(m["id"], m["package"]["name"], m["package"]["version"]): m
            for iv in rep["vulnerabilities"] for m in iv["matches"]}


class Matching(unittest.TestCase):
    def test_the_records_match_exactly_the_packages_they_name(self):
        _, rep, _ = report("--no-lint")
        self.assertEqual(sorted(matches(rep)), sorted([
            (CRITICAL, "is-number", "6.0.0"),  # the nested copy; is-number 7.0.0 is fixed
            (DEBIAN, "libssl3", "3.0.22-1~deb12u2"),
            (GO, "github.com/google/uuid", "v1.6.0"),
            (UNFIXED, "six", "1.16.0"),
        ]))
        # six is there twice (the wheel and Debian's egg-info): one match each.
        self.assertEqual(sum(1 for iv in rep["vulnerabilities"] for m in iv["matches"] if m["id"] == UNFIXED), 2)
        m = matches(rep)[(CRITICAL, "is-number", "6.0.0")]
        self.assertEqual(m["aliases"], ["GHSA-kgt1-0001-0001"])
        self.assertEqual((m["fix"], m["fixedVersion"], m["namespace"], m["feed"]), ("fixed", "7.0.0", "npm", "osv"))
        self.assertEqual(m["severity"], "critical")
        self.assertEqual(m["cvss"], {"score": 9.8, "vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"})
        self.assertIn("fixed 7.0.0", m["range"])
        d = matches(rep)[(DEBIAN, "libssl3", "3.0.22-1~deb12u2")]
        self.assertEqual((d["namespace"], d["matchedName"], d["scheme"]), ("debian:12", "openssl", "dpkg"))
        u = matches(rep)[(UNFIXED, "six", "1.16.0")]
        self.assertEqual((u["fix"], u["fixedVersion"]), ("unfixed", ""))

    def test_sorted_by_risk_and_every_match_is_a_finding(self):
        _, rep, _ = report()
        ms = [m for iv in rep["vulnerabilities"] for m in iv["matches"]]
        self.assertEqual([m["risk"] for m in ms], sorted((m["risk"] for m in ms), reverse=True))
        self.assertEqual(ms[0]["id"], CRITICAL)
        vulns = [f for f in rep["findings"] if f["rule"] in {CRITICAL, UNFIXED, GO, DEBIAN}]
        self.assertEqual(len(vulns), len(ms))
        for f in vulns:
            self.assertEqual((f["category"], f["result"], f["kind"], f["name"]), ("images", "fail", "Image", APP))
        crit = next(f for f in vulns if f["rule"] == CRITICAL)
        self.assertEqual(crit["subject"], "is-number@6.0.0")
        self.assertEqual(crit["location"]["path"], "/app/node_modules/is-odd/node_modules/is-number/package.json")
        self.assertIn("Upgrade is-number to 7.0.0", crit["remediation"])
        # Lint findings are still there, beside the vulnerabilities.
        self.assertTrue(any(f["rule"].startswith("image-") for f in rep["findings"]))
        check = next(c for c in rep["checks"] if c["rule"] == CRITICAL)
        self.assertEqual((check["failed"], check["category"], check["severity"]), (1, "images", "critical"))

    def test_no_false_positives_on_alpine_310_and_the_extra_secdb_fix(self):
        _, rep, _ = report("--no-lint", ref=ALPINE_310)
        # Every package of Trivy's alpine 3.10 image is at or above the v3.10 secdb's fixes;
        # only the entry this test added (musl 1.1.22-r4) is above what the image has.
        self.assertEqual(sorted(matches(rep)), [("CVE-2099-0006", "musl", "1.1.22-r3"),
                                                ("CVE-2099-0006", "musl-utils", "1.1.22-r3")])
        m = matches(rep)[("CVE-2099-0006", "musl", "1.1.22-r3")]
        self.assertEqual((m["namespace"], m["fixedVersion"], m["feed"]), ("alpine:3.10", "1.1.22-r4", "alpine-secdb"))

    def test_sbom_input_is_matched_the_same(self):
        code, sbom, err = image("--no-vulns", "--no-lint", "-o", "cyclonedx")
        self.assertEqual(code, 0, err)
        path = write("app.cdx.json", sbom)
        _, from_sbom, _ = report(ref="sbom:" + path)
        _, from_image, _ = report("--no-lint")
        self.assertEqual(sorted(matches(from_sbom)), sorted(matches(from_image)))


class Formats(unittest.TestCase):
    def test_text_table_by_risk(self):
        code, out, err = image()
        self.assertEqual(code, 0, err)
        section = out[out.index("4. Vulnerabilities by image"):]
        self.assertIn("5 vulnerabilities (1 critical, 0 high, 2 medium, 2 low), 0 suppressed", section)
        header = next(l for l in section.splitlines() if l.split()[:3] == ["ID", "Severity", "Risk"])
        self.assertEqual(header.split()[3:], ["Package", "Installed", "Fixed", "Why"])
        rows = [l.split() for l in section.splitlines() if l.strip().startswith(("CVE-", "GO-", "PYSEC-"))]
        self.assertEqual(len(rows), 5)
        self.assertEqual(rows[0][:2], [CRITICAL, "critical"])
        self.assertEqual(rows[0][3:6], ["is-number", "6.0.0", "7.0.0"])
        self.assertEqual([float(r[2]) for r in rows], sorted((float(r[2]) for r in rows), reverse=True))
        # Vulnerabilities are not repeated as details: the table is where they are.
        details = out[out.index("3. Details by workload"):out.index("4. Vulnerabilities by image")]
        self.assertNotIn(CRITICAL, details)

    def test_sarif_one_rule_per_vulnerability_located_at_the_evidence(self):
        code, out, err = image("-o", "sarif")
        self.assertEqual(code, 0, err)
        log = json.loads(out)
        assert_valid_sarif(self, log)
        run = log["runs"][0]
        rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
        for vid in (CRITICAL, UNFIXED, GO, DEBIAN):
            self.assertIn(vid, rules)
            self.assertIn("vulnerability", rules[vid]["properties"]["tags"])
        self.assertEqual(rules[CRITICAL]["properties"]["security-severity"], "9.8")
        res = [r for r in run["results"] if r["ruleId"] == CRITICAL]
        self.assertEqual(len(res), 1)
        loc = res[0]["locations"][0]
        self.assertEqual(loc["physicalLocation"]["artifactLocation"]["uri"],
                         "app/node_modules/is-odd/node_modules/is-number/package.json")
        self.assertEqual(loc["logicalLocations"][0]["name"], "is-number@6.0.0")
        self.assertEqual(res[0]["level"], "error")

    def test_cyclonedx_vulnerabilities_point_at_components(self):
        code, out, err = image("-o", "cyclonedx", "--vex", os.path.join(TMP, "vex.json"))
        self.assertEqual(code, 0, err)
        bom = json.loads(out)
        refs = {c["bom-ref"]: c for c in bom["components"]}
        vulns = bom["vulnerabilities"]
        self.assertEqual(len(vulns), 5)
        for v in vulns:
            for a in v["affects"]:
                self.assertIn(a["ref"], refs)
        crit = next(v for v in vulns if v["id"] == CRITICAL)
        self.assertEqual(refs[crit["affects"][0]["ref"]]["name"], "is-number")
        self.assertEqual(refs[crit["affects"][0]["ref"]]["version"], "6.0.0")
        self.assertIn({"score": 9.8, "severity": "critical", "method": "CVSSv31",
                       "vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}, crit["ratings"])
        self.assertEqual(crit["references"], [{"id": "GHSA-kgt1-0001-0001", "source": {"name": "osv"}}])
        go = next(v for v in vulns if v["id"] == GO)
        self.assertEqual(go["analysis"]["state"], "not_affected")
        self.assertIn("hello never parses a UUID", go["analysis"]["detail"])
        validator = cyclonedx_validator()
        if validator is not None:
            errors = sorted(validator.iter_errors(bom), key=lambda e: list(e.path))
            self.assertEqual([f"{list(e.path)}: {e.message}" for e in errors[:5]], [])

    def test_every_report_format_carries_them(self):
        outs = {fmt: os.path.join(TMP, "all." + fmt) for fmt in ("html", "markdown", "csv", "junit", "ci")}
        code, _, err = image(*[a for fmt, p in outs.items() for a in ("-o", f"{fmt}={p}")])
        self.assertEqual(code, 0, err)
        text = {fmt: read(p) for fmt, p in outs.items()}
        self.assertIn('id="vulnerabilities"', text["html"])
        self.assertIn(f"<code>{CRITICAL}</code>", text["html"])
        self.assertIn("### Vulnerabilities by image", text["markdown"])
        self.assertIn(f"| `{CRITICAL}` | critical |", text["markdown"])
        rows = list(csv.DictReader(io.StringIO(text["csv"])))
        self.assertEqual({r["rule"] for r in rows if r["category"] == "images"} >= {CRITICAL, UNFIXED, GO, DEBIAN},
                         True)
        crit = next(r for r in rows if r["rule"] == CRITICAL)
        self.assertEqual((crit["severity"], crit["result"]), ("critical", "fail"))
        suite = ET.fromstring(text["junit"])
        failures = [tc for tc in suite.iter("testcase") if tc.find("failure") is not None]
        self.assertTrue(any(CRITICAL in (tc.get("name", "") + tc.get("classname", "")) for tc in failures))
        self.assertIn(CRITICAL, text["ci"])

    def test_chinese(self):
        code, out, err = image("--lang", "zh", "--config", os.path.join(TMP, "kguard.yaml"))
        self.assertEqual(code, 0, err)
        self.assertIn("4. 按镜像列出的漏洞", out)
        self.assertIn("已被 kguard.yaml:3 抑制", out.replace(os.path.join(TMP, ""), ""))
        code, out, err = image("--lang", "zh", "-o", "report-json")
        rep = json.loads(out)
        crit = next(f for f in rep["findings"] if f["rule"] == CRITICAL)
        self.assertEqual(crit["message"], "is-number 6.0.0 受影响（introduced 0, fixed 7.0.0; osv npm）；已在 7.0.0 中修复")
        self.assertEqual(crit["remediation"], "将 is-number 升级到 7.0.0。")
        unfixed = next(f for f in rep["findings"] if f["rule"] == UNFIXED)
        self.assertTrue(unfixed["message"].endswith("尚无修复版本"), unfixed["message"])


class Gates(unittest.TestCase):
    def test_fail_on_covers_vulnerabilities(self):
        code, _, err = image("--no-lint", "--fail-on", "critical", "-o", "csv=/dev/null")
        self.assertEqual(code, 1, err)
        self.assertIn(f"critical  {CRITICAL}", err)
        # With the critical one suppressed by a VEX statement, nothing is critical.
        vex = dict(OPENVEX, statements=[dict(OPENVEX["statements"][0], vulnerability={"name": CRITICAL},
                                             products=[{"@id": "pkg:npm/is-number@6.0.0"}])])
        path = write("vex-critical.json", json.dumps(vex))
        code, _, err = image("--no-lint", "--fail-on", "critical", "--vex", path, "-o", "csv=/dev/null")
        self.assertEqual(code, 0, err)

    def test_max_risk(self):
        _, rep, _ = report("--no-lint")
        top = max(m["risk"] for iv in rep["vulnerabilities"] for m in iv["matches"])
        code, _, err = image("--no-lint", "--max-risk", str(int(top)), "-o", "csv=/dev/null")
        self.assertEqual(code, 1, err)
        self.assertIn("--max-risk", err)
        self.assertIn(CRITICAL, err)
        code, _, err = image("--no-lint", "--max-risk", str(int(top) + 1), "-o", "csv=/dev/null")
        self.assertEqual(code, 0, err)

    def test_errors_exit_2(self):
        missing = os.path.join(TMP, "no-such.db")
        code, _, err = support.run("image", "--db", missing, APP)
        self.assertEqual(code, 2)
        self.assertIn("no-such.db", err)
        code, _, err = image("--vex", write("bad-vex.json", "{ not json"))
        self.assertEqual(code, 2)
        self.assertIn("bad-vex.json", err)
        code, _, err = image("--max-risk", "101")
        self.assertEqual(code, 2)

    def test_no_database_warns_and_goes_on(self):
        env = dict(os.environ, XDG_CACHE_HOME=os.path.join(TMP, "empty-cache"))
        code, out, err = support.run("image", "--no-lint", "-o", "json", APP, env=env)
        self.assertEqual(code, 0, err)
        self.assertIn("no vulnerability database", err)
        self.assertIn("kguard db build", err)
        self.assertNotIn("vulnerabilities", json.loads(out))
        code, _, err = support.run("image", "--max-risk", "50", APP, env=env)
        self.assertEqual(code, 2)


class Handling(unittest.TestCase):
    def test_ignore_unfixed(self):
        code, rep, err = report("--no-lint", "--ignore-unfixed", "--fail-on", "low")
        self.assertEqual(code, 1, err)  # the fixed ones still fail
        for (vid, _, _), m in matches(rep).items():
            self.assertEqual(m["suppressed"], vid == UNFIXED, vid)
        sup = [f for f in rep["findings"] if f["rule"] == UNFIXED]
        self.assertTrue(sup and all(f["result"] == "exempt" for f in sup))
        self.assertIn("--ignore-unfixed", sup[0]["exemption"]["reason"])

    def test_vex_suppresses_one_with_its_reason(self):
        _, rep, _ = report("--vex", os.path.join(TMP, "vex.json"))
        m = matches(rep)[(GO, "github.com/google/uuid", "v1.6.0")]
        self.assertTrue(m["suppressed"])
        self.assertIn("not_affected", m["suppression"]["by"])
        self.assertIn("hello never parses a UUID", m["suppression"]["reason"])
        f = next(f for f in rep["findings"] if f["rule"] == GO)
        self.assertEqual(f["result"], "exempt")
        self.assertIn("hello never parses a UUID", f["exemption"]["reason"])
        others = [m for k, m in matches(rep).items() if k[0] != GO]
        self.assertFalse(any(m["suppressed"] for m in others))
        # SARIF: a suppressed result with the justification.
        code, out, _ = image("--vex", os.path.join(TMP, "vex.json"), "-o", "sarif")
        res = next(r for r in json.loads(out)["runs"][0]["results"] if r["ruleId"] == GO)
        self.assertIn("hello never parses a UUID", res["suppressions"][0]["justification"])

    def test_config_ignore_with_expiry(self):
        code, rep, err = report("--config", os.path.join(TMP, "kguard.yaml"))
        d = matches(rep)[(DEBIAN, "libssl3", "3.0.22-1~deb12u2")]
        self.assertTrue(d["suppressed"])
        self.assertIn("SEC-1", d["suppression"]["reason"])
        self.assertIn("kguard.yaml:3", d["suppression"]["by"])
        # The expired ignore no longer suppresses: six fails again, and a notice says why.
        self.assertFalse(matches(rep)[(UNFIXED, "six", "1.16.0")]["suppressed"])
        self.assertTrue(any("expired on 2020-01-01" in w["message"] for w in rep["warnings"]), rep["warnings"])
        f = next(f for f in rep["findings"] if f["rule"] == DEBIAN)
        self.assertEqual(f["result"], "exempt")

    def test_baseline_knows_vulnerabilities(self):
        code, out, err = image("-o", "report-json")
        base = write("baseline.json", out)
        code, out, err = support.run("image", "--db", DB, APP, "-o", "report-json", timeout=300)
        rep = json.loads(out)
        fps = {f["fingerprint"] for f in json.loads(read(base))["findings"] if f["rule"] == CRITICAL}
        self.assertEqual(fps, {f["fingerprint"] for f in rep["findings"] if f["rule"] == CRITICAL})


class ScanImages(unittest.TestCase):
    """kguard scan --images: vulnerabilities under each workload, risk from its exposure."""

    def manifests(self, exposed):
        service = f"""---
apiVersion: v1
kind: Service
metadata: {{name: web, namespace: shop}}
spec:
  type: LoadBalancer
  selector: {{app: web}}
  ports: [{{port: 80}}]
""" if exposed else ""
        return write(f"app-{exposed}.yaml", f"""apiVersion: apps/v1
kind: Deployment
metadata: {{name: web, namespace: shop}}
spec:
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      containers:
        - name: web
          image: "{APP}"
          securityContext: {{runAsUser: 1000, runAsNonRoot: true}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: batch, namespace: shop}}
spec:
  selector: {{matchLabels: {{app: batch}}}}
  template:
    metadata: {{labels: {{app: batch}}}}
    spec:
      containers:
        - name: batch
          image: "{APP}"
          securityContext: {{runAsUser: 1000, runAsNonRoot: true}}
{service}""")

    def scan(self, *argv):
        code, out, err = support.run("scan", "--no-config", "-q", "--images", "--no-image-cache", "--db", DB,
                                     "-o", "json", *argv, timeout=600)
        self.assertIn(code, (0, 1), err)
        return code, json.loads(out), err

    def test_under_each_workload_with_its_exposure(self):
        _, rep, _ = self.scan(self.manifests(False))
        vulns = [f for f in rep["findings"] if f["rule"] == CRITICAL]
        self.assertEqual(sorted((f["name"], f["container"]) for f in vulns), [("batch", "batch"), ("web", "web")])
        for f in vulns:
            self.assertEqual(f["location"]["path"], "spec.template.spec.containers[0].image")
            self.assertTrue(f["message"].startswith(f"[image {APP}] is-number 6.0.0 is affected"), f["message"])
        iv = rep["vulnerabilities"][0]
        self.assertEqual([u["name"] for u in iv["usedBy"]], ["web", "batch"])
        closed = {m["id"]: m["risk"] for m in iv["matches"]}
        # A LoadBalancer in front of web makes it reachable from outside: a higher risk.
        _, rep2, _ = self.scan(self.manifests(True))
        opened = {m["id"]: m["risk"] for m in rep2["vulnerabilities"][0]["matches"]}
        self.assertGreater(opened[CRITICAL], closed[CRITICAL])
        # The rule that decided it was not selected, so its own findings are not in the report.
        self.assertFalse(any(f["rule"] == "workload-exposed-externally" for f in rep2["findings"]))
        # --max-risk gates scan --images too.
        code, _, err = self.scan(self.manifests(True), "--max-risk", str(int(closed[CRITICAL])))
        self.assertEqual(code, 1, err)

    def test_workload_exemption_applies_to_image_findings(self):
        path = self.manifests(False)
        cfg = write("exempt.yaml", f"""exemptions:
  - rules: [vulnerability, image-no-healthcheck]
    kinds: [Deployment]
    names: [batch]
    reason: "batch runs offline; SEC-7"
""")
        code, out, err = support.run("scan", "-q", "--config", cfg, "--images", "--no-image-cache", "--db", DB,
                                     "-o", "json", path, timeout=600)
        self.assertIn(code, (0, 1), err)
        rep = json.loads(out)
        got = {(f["rule"], f["name"]): f["result"] for f in rep["findings"]
               if f["rule"] in (CRITICAL, "image-no-healthcheck")}
        self.assertEqual(got[(CRITICAL, "batch")], "exempt")
        self.assertEqual(got[(CRITICAL, "web")], "fail")
        self.assertEqual(got.get(("image-no-healthcheck", "batch")), "exempt")
        self.assertEqual(got.get(("image-no-healthcheck", "web")), "fail")
        f = next(f for f in rep["findings"] if f["rule"] == CRITICAL and f["name"] == "batch")
        self.assertEqual(f["exemption"]["reason"], "batch runs offline; SEC-7")
        # Counted as exempted for batch, failed for web.
        check = next(c for c in rep["checks"] if c["rule"] == CRITICAL)
        self.assertEqual((check["failed"], check["exempted"]), (1, 1))


def cyclonedx_validator():
    """The CycloneDX 1.6 schema validator of sbom_test.py when its schema cache is there (sbom_integration
    fetches it), else None: the structural checks above still run."""
    jsonschema = support.import_dependency("jsonschema")
    base = os.path.join(os.path.expanduser("~"), ".cache", "kguard-sbom-schemas", "lib4sbom-0.10.4", "cyclonedx")
    if jsonschema is None or not os.path.exists(os.path.join(base, "bom-1.6.schema.json")):
        return None
    load = lambda n: json.loads(read(os.path.join(base, n)))
    bom = load("bom-1.6.schema.json")
    others = [load(n) for n in ("spdx.schema.json", "jsf-0.82.schema.json")]
    cls = jsonschema.validators.validator_for(bom)
    try:
        import referencing
        registry = referencing.Registry().with_resources(
            [(s["$id"], referencing.Resource.from_contents(s)) for s in others])
        return cls(bom, registry=registry)
    except ImportError:
        store = {s["$id"]: s for s in others}
        return cls(bom, resolver=jsonschema.RefResolver.from_schema(bom, store=store))


if __name__ == "__main__":
    unittest.main()

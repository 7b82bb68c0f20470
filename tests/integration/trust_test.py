#!/usr/bin/env python3
"""End-to-end tests of the report's trustworthiness (issue 13): the grade cap,
per-file identities and --scope, --framework views, Chinese messages as
detailed as English.

Run by ctest: trust_test.py KGUARD_BINARY SOURCE_DIR
"""
import json
import os
import re
import tempfile
import unittest

import support
from support import PRIVILEGED_POD, run, write

KGUARD, SOURCE = support.args("kguard", "source")
EXAMPLES = os.path.join(SOURCE, "examples")


def scan_json(*argv, stdin=None, cwd=None):
    """(report, stderr); an exit code above 1 fails the test."""
    _, report, err = support.scan_json(*argv, stdin=stdin, cwd=cwd, check=True, timeout=300)
    return report, err


class GradeCap(unittest.TestCase):
    def test_examples_critical_caps_grade(self):
        report, _ = scan_json("--scope", "all", EXAMPLES)
        o = report["overview"]
        self.assertGreater(o["bySeverity"]["critical"], 0)
        self.assertGreaterEqual(o["score"], 90)  # the Polaris number is kept
        self.assertEqual(o["scoreGrade"], "A-")
        self.assertEqual(o["grade"], "D")
        self.assertEqual(o["gradeCap"]["grade"], "D")
        self.assertIn("critical", o["gradeCap"]["reason"])

    def test_high_caps_at_c(self):
        pod = PRIVILEGED_POD.replace("spec:\n", "spec:\n  hostPID: true\n", 1).replace(
            "privileged: true", "runAsNonRoot: true")
        report, _ = scan_json("--only", "pss-host-namespaces", "-", stdin=pod)
        o = report["overview"]
        self.assertEqual((o["bySeverity"]["critical"], o["bySeverity"]["high"]), (0, 1))
        self.assertEqual(o["scoreGrade"], "F")  # one check, failed: the score already says it
        self.assertIsNone(o["gradeCap"])
        # With passes around it, the high failure caps an otherwise good grade.
        report, _ = scan_json("--only", "pss-host-namespaces,pss", "-", stdin=pod)
        o = report["overview"]
        if o["scoreGrade"] not in ("C", "C-", "D+", "D", "D-", "F"):
            self.assertEqual(o["grade"], "C")
            self.assertIn("high", o["gradeCap"]["reason"])

    def test_clean_has_no_cap(self):
        report, _ = scan_json(os.path.join(EXAMPLES, "hardened"))
        self.assertIsNone(report["overview"]["gradeCap"])
        self.assertEqual(report["overview"]["grade"], "A+")

    def test_exempted_critical_does_not_cap(self):
        pod = PRIVILEGED_POD.replace(
            "metadata: {name: p, namespace: n}",
            "metadata:\n  name: p\n  namespace: n\n  annotations:\n"
            "    kguard.io/exempt: \"*\"\n    kguard.io/exempt-reason: lab pod")
        report, _ = scan_json("-", stdin=pod)
        self.assertIsNone(report["overview"]["gradeCap"])

    def test_cap_shown_in_every_format(self):
        for fmt, needle in (("text", "Grade cap"), ("markdown", "Grade cap"), ("html", "grade-cap")):
            code, out, err = run("scan", "--no-config", "-o", fmt, "-", stdin=PRIVILEGED_POD)
            self.assertLessEqual(code, 1, err)
            self.assertIn(needle, out, fmt)
        code, out, _ = run("scan", "--no-config", "-o", "text", "--lang", "zh", "-", stdin=PRIVILEGED_POD)
        self.assertIn("等级上限", out)
        self.assertIn("严重", out)


SA_AND_DEPLOYMENT = """apiVersion: v1
kind: ServiceAccount
metadata: {name: app, namespace: shop}
%s---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      serviceAccountName: app
      containers:
      - name: web
        image: nginx:1.27
"""


def by_file(report, result="fail"):
    files = {}
    for f in report["findings"]:
        if f["result"] == result:
            files.setdefault(f["location"]["file"], []).append(f)
    return files


class Scopes(unittest.TestCase):
    def test_examples_insecure_fails_hardened_passes(self):
        report, _ = scan_json("examples/", cwd=SOURCE)
        self.assertEqual(report["scope"]["mode"], "dir")
        scopes = {s["name"]: s for s in report["scope"]["scopes"]}
        self.assertEqual(set(scopes), {"examples/hardened", "examples/insecure"})
        self.assertEqual(scopes["examples/hardened"]["failed"], 0)
        self.assertIsNone(scopes["examples/hardened"]["gradeCap"])
        self.assertGreater(scopes["examples/insecure"]["failed"], 100)
        self.assertEqual(scopes["examples/insecure"]["grade"], "D")
        files = by_file(report)
        self.assertFalse([f for f in files if f.startswith("examples/hardened/")],
                         "hardened findings: %s" % [f for f in files if "hardened" in f])
        # The insecure cluster-admin binding is reported against the insecure files only.
        privileged = [f for f in report["findings"]
                      if f["rule"] == "workload-service-account-privileged"]
        self.assertTrue(privileged)
        self.assertTrue(all(f["location"]["file"].startswith("examples/insecure/") for f in privileged))
        admin = [f for f in report["findings"] if f["rule"] == "rbac-cluster-admin-binding"]
        self.assertEqual([f["location"]["file"] for f in admin], ["examples/insecure/rbac.yaml"])
        self.assertEqual(report["warnings"], [])
        # The scopes' lines add up to the totals (folded findings leave both), and every
        # rule's tally holds: evaluated = passed + failed (exempted checks count neither way).
        for key in ("failed", "exempted"):
            self.assertEqual(sum(s[key] for s in scopes.values()), report["overview"][key], key)
        for c in report["checks"]:
            self.assertEqual(c["evaluated"], c["passed"] + c["failed"], c["rule"])

    def test_scope_dir_matches_each_folder_alone(self):
        # Each folder scanned alone gives the same failures as its scope in the whole scan.
        together, _ = scan_json("--scope", "dir", "examples/", cwd=SOURCE)
        for variant in ("insecure", "hardened"):
            alone, _ = scan_json("examples/" + variant, cwd=SOURCE)
            key = lambda f: (f["rule"], f["kind"], f.get("namespace", ""), f["name"], f.get("container", ""),
                             f["location"]["path"], f["message"])
            want = sorted(key(f) for f in alone["findings"])
            got = sorted(key(f) for f in together["findings"]
                         if f["location"]["file"].startswith("examples/%s/" % variant))
            self.assertEqual(got, want, variant)

    def test_scope_all_merges_as_before(self):
        report, _ = scan_json("--scope", "all", "examples/", cwd=SOURCE)
        self.assertEqual(report["scope"], {"mode": "all", "scopes": []})
        # The old merge: the insecure cluster-admin binding reaches the hardened api.
        hardened = by_file(report).get("examples/hardened/api.yaml", [])
        self.assertIn("workload-service-account-privileged", [f["rule"] for f in hardened])
        # ... and every duplicated identity is warned about.
        dup = [w for w in report["warnings"] if "defined more than once" in w["message"]]
        self.assertTrue(any(w["file"] == "examples/insecure/api.yaml" and
                            "Deployment shopfront/api" in w["message"] and
                            "examples/hardened/api.yaml" in w["message"] for w in dup), dup)

    def test_fingerprints_keep_the_files_apart(self):
        for scope in ("dir", "all"):
            report, _ = scan_json("--scope", scope, "examples/", cwd=SOURCE)
            by_fp = {}
            for f in report["findings"]:
                by_fp.setdefault(f["fingerprint"], set()).add(f["location"]["file"])
            self.assertEqual([fp for fp, files in by_fp.items() if len(files) > 1], [], scope)
        # An object in one file keeps the fingerprint earlier reports hold.
        alone, _ = scan_json(os.path.join(EXAMPLES, "insecure"))
        together, _ = scan_json(os.path.join(EXAMPLES, "insecure"), os.path.join(EXAMPLES, "hardened"))
        rbac = lambda r: sorted(f["fingerprint"] for f in r["findings"] if f["kind"] == "ClusterRoleBinding")
        self.assertTrue(rbac(alone))
        self.assertEqual(rbac(alone), rbac(together))

    def test_dev_and_prod_service_accounts(self):
        with tempfile.TemporaryDirectory() as d:
            write(d, "envs/dev/app.yaml", SA_AND_DEPLOYMENT % "automountServiceAccountToken: false\n")
            write(d, "envs/prod/app.yaml", SA_AND_DEPLOYMENT % "")
            report, _ = scan_json("--only", "service-account-token-automounted", "envs", cwd=d)
            files = by_file(report)
            self.assertEqual(list(files), ["envs/prod/app.yaml"])
            self.assertEqual([f["kind"] for f in files["envs/prod/app.yaml"]], ["Deployment"])
            self.assertEqual({s["name"]: s["failed"] for s in report["scope"]["scopes"]},
                             {"envs/dev": 0, "envs/prod": 1})
            # --scope file: each file alone, same verdicts here.
            report, _ = scan_json("--only", "service-account-token-automounted", "--scope", "file",
                                  "envs", cwd=d)
            self.assertEqual(list(by_file(report)), ["envs/prod/app.yaml"])
            # --scope all: one ServiceAccount hides the other, and the user is warned.
            report, _ = scan_json("--only", "service-account-token-automounted", "--scope", "all",
                                  "envs", cwd=d)
            self.assertTrue(any("ServiceAccount shop/app" in w["message"] for w in report["warnings"]))

    def test_folders_of_one_app_resolve_together(self):
        # Folders that do not redefine objects (one app split by kind) stay one scope.
        with tempfile.TemporaryDirectory() as d:
            sa, deploy = (SA_AND_DEPLOYMENT % "automountServiceAccountToken: false\n").split("---\n")
            write(d, "k8s/accounts/sa.yaml", sa)
            write(d, "k8s/workloads/web.yaml", deploy)
            report, _ = scan_json("--only", "service-account-token-automounted", "k8s", cwd=d)
            self.assertEqual(report["scope"]["mode"], "all")
            self.assertEqual(by_file(report), {})
            # Forced apart, the pod no longer sees its ServiceAccount's setting.
            report, _ = scan_json("--only", "service-account-token-automounted", "--scope", "dir", "k8s",
                                  cwd=d)
            self.assertEqual(list(by_file(report)), ["k8s/workloads/web.yaml"])

    def test_shared_files_above_the_folders_are_seen_by_each(self):
        with tempfile.TemporaryDirectory() as d:
            sa, deploy = (SA_AND_DEPLOYMENT % "automountServiceAccountToken: false\n").split("---\n")
            write(d, "envs/sa.yaml", sa)
            write(d, "envs/dev/web.yaml", deploy)
            write(d, "envs/prod/web.yaml", deploy)
            report, _ = scan_json("--only", "service-account-token-automounted", "envs", cwd=d)
            self.assertEqual(report["scope"]["mode"], "dir")
            self.assertEqual(by_file(report), {})
            names = [s["name"] for s in report["scope"]["scopes"]]
            self.assertEqual(names, ["envs", "envs/dev", "envs/prod"])
            # Named on the command line, the shared file is seen by both folders too.
            report, _ = scan_json("--only", "service-account-token-automounted",
                                  "envs/sa.yaml", "envs/dev", "envs/prod", cwd=d)
            self.assertEqual(report["scope"]["mode"], "dir")
            self.assertEqual(by_file(report), {})
            self.assertEqual([s["name"] for s in report["scope"]["scopes"]], ["", "envs/dev", "envs/prod"])

    def test_two_input_directories_are_two_scopes(self):
        report, _ = scan_json("examples/insecure", "examples/hardened", cwd=SOURCE)
        self.assertEqual(report["scope"]["mode"], "dir")
        scopes = {s["name"]: s["failed"] for s in report["scope"]["scopes"]}
        self.assertEqual(scopes["examples/hardened"], 0)
        self.assertGreater(scopes["examples/insecure"], 100)
        self.assertEqual(report["warnings"], [])

    def test_duplicate_in_one_folder_is_warned(self):
        with tempfile.TemporaryDirectory() as d:
            write(d, "app/a.yaml", SA_AND_DEPLOYMENT % "")
            write(d, "app/b.yaml", SA_AND_DEPLOYMENT % "")
            report, _ = scan_json("app", cwd=d)
            dup = sorted((w["file"], w["line"]) for w in report["warnings"]
                         if "defined more than once" in w["message"])
            self.assertEqual(dup, [("app/b.yaml", 1), ("app/b.yaml", 5)])

    def test_text_report_shows_each_scope_and_file(self):
        code, out, _ = run("scan", "--no-config", "--no-color", "examples/", cwd=SOURCE)
        self.assertRegex(out, r"pass\s+examples/hardened\s+100/100 \(A\+\)")
        self.assertRegex(out, r"fail\s+examples/insecure\s+\d+/100 \(D\)")
        details = out.split("3. Details by workload")[1]
        groups = re.split(r"\n\n  (?=\S)", details)
        hardened = [g for g in groups if g.split("\n")[0].endswith(".yaml") and
                    "  examples/hardened/" in g.split("\n")[0]]
        self.assertTrue(hardened)  # its exemptions are listed under its own files
        self.assertFalse([g for g in hardened if "\n    fail " in g])
        # Same kind/namespace/name in two files: two groups, each headed by its file.
        heads = [g.split("\n")[0] for g in groups]
        self.assertIn("Deployment shopfront/api  examples/insecure/api.yaml", heads)
        self.assertIn("Deployment shopfront/api  examples/hardened/api.yaml", heads)

    def test_scope_from_config_and_flag_wins(self):
        with tempfile.TemporaryDirectory() as d:
            write(d, "envs/dev/app.yaml", SA_AND_DEPLOYMENT % "automountServiceAccountToken: false\n")
            write(d, "envs/prod/app.yaml", SA_AND_DEPLOYMENT % "")
            write(d, "envs/.kguard.yaml", "scope: all\n")
            code, out, err = run("scan", "-o", "json", "envs", cwd=d)
            self.assertEqual(json.loads(out)["scope"]["mode"], "all", err)
            code, out, err = run("scan", "-o", "json", "--scope", "file", "envs", cwd=d)
            self.assertEqual(json.loads(out)["scope"]["mode"], "file", err)
            write(d, "envs/.kguard.yaml", "scope: folders\n")
            code, _, err = run("scan", "envs", cwd=d)
            self.assertEqual(code, 2)
            self.assertIn(".kguard.yaml:1", err)
            self.assertIn("scope: must be auto, dir, file or all", err)

    def test_bad_scope_is_a_usage_error(self):
        code, _, err = run("scan", "--scope", "folder", "examples/", cwd=SOURCE)
        self.assertEqual(code, 2)
        self.assertIn("--scope", err)

class Frameworks(unittest.TestCase):
    def framework(self, fw, *args, lang="en"):
        report, _ = scan_json("--framework", fw, "--lang", lang, *args)
        return report["framework"]

    def test_cis_on_insecure(self):
        fw = self.framework("cis", os.path.join(EXAMPLES, "insecure"))
        self.assertEqual(fw["id"], "cis")
        controls = {c["id"]: c for c in fw["controls"]}
        c = controls["5.1.1"]
        self.assertEqual(c["title"], "Ensure that the cluster-admin role is only used where required")
        self.assertEqual(c["status"], "fail")
        admin = [r for r in c["rules"] if r["rule"] == "rbac-cluster-admin-binding"][0]
        self.assertEqual(admin["failed"], 1)
        self.assertLess(c["score"], 100)
        # A range reference ("CIS 5.2.3-5.2.5") puts the rule under each control.
        for cid in ("5.2.3", "5.2.4", "5.2.5"):
            self.assertIn("pss-host-namespaces", [r["rule"] for r in controls[cid]["rules"]])
        self.assertEqual(fw["failed"], sum(1 for c in fw["controls"] if c["status"] == "fail"))
        scores = [c["score"] for c in fw["controls"] if c["score"] is not None]
        self.assertEqual(fw["score"], sum(scores) // len(scores))

    def test_statuses_on_hardened(self):
        for name in ("nsa", "mitre", "cis", "pss"):
            fw = self.framework(name, os.path.join(EXAMPLES, "hardened"))
            statuses = {c["status"] for c in fw["controls"]}
            self.assertNotIn("fail", statuses, name)
            self.assertEqual(fw["failed"], 0)
            self.assertTrue(fw["controls"], name)
        cis = {c["id"]: c for c in self.framework("cis", os.path.join(EXAMPLES, "hardened"))["controls"]}
        # The hardened api's token mount is exempted with a reason.
        self.assertEqual(cis["5.1.6"]["status"], "exempt")
        nsa = {c["id"]: c for c in self.framework("nsa", os.path.join(EXAMPLES, "hardened"))["controls"]}
        self.assertEqual(nsa["pod-security/hardening-environments"]["status"], "not-applicable")
        self.assertIsNone(nsa["pod-security/hardening-environments"]["score"])
        mitre = {c["id"]: c for c in self.framework("mitre", os.path.join(EXAMPLES, "insecure"))["controls"]}
        self.assertEqual(mitre["T1611"]["title"], "Escape to Host")
        self.assertEqual(mitre["T1611"]["status"], "fail")
        pss = {c["id"]: c for c in self.framework("pss", os.path.join(EXAMPLES, "insecure"))["controls"]}
        self.assertEqual(pss["baseline: Privileged Containers"]["status"], "fail")
        self.assertEqual([r["rule"] for r in pss["baseline: Privileged Containers"]["rules"]], ["pss-privileged"])

    def test_chinese_titles_from_the_data(self):
        fw = self.framework("cis", os.path.join(EXAMPLES, "insecure"), lang="zh")
        controls = {c["id"]: c for c in fw["controls"]}
        self.assertEqual(controls["5.1.1"]["title"], "确保仅在必要时使用 cluster-admin 角色")
        self.assertIn("CIS Kubernetes 基准", fw["title"])
        mitre = self.framework("mitre", os.path.join(EXAMPLES, "insecure"), lang="zh")
        self.assertIn("逃逸到主机", [c["title"] for c in mitre["controls"]])

    def test_every_format_and_language(self):
        needles = {
            ("en", "text"): ["Framework: NSA/CISA Kubernetes Hardening Guide", "Compliance",
                             "Network separation and hardening: Network policies"],
            ("zh", "text"): ["合规框架: NSA/CISA Kubernetes 加固指南", "合规率", "网络隔离与加固：网络策略"],
            ("en", "markdown"): ["### Framework: NSA/CISA Kubernetes Hardening Guide", "| Control | Status |"],
            ("zh", "markdown"): ["### 合规框架: NSA/CISA Kubernetes 加固指南", "| 控制项 | 状态 |"],
            ("en", "html"): ['data-framework="nsa"', 'data-control="network/network-policies"', "fail</span>"],
            ("zh", "html"): ['data-framework="nsa"', "网络隔离与加固：网络策略", "未通过</span>"],
        }
        for (lang, fmt), want in needles.items():
            code, out, err = run("scan", "--no-config", "--no-color", "--framework", "nsa", "--lang", lang,
                                 "-o", fmt, os.path.join(EXAMPLES, "insecure"))
            self.assertLessEqual(code, 1, err)
            for n in want:
                self.assertIn(n, out, (lang, fmt))

    def test_sarif_rule_property(self):
        code, out, err = run("scan", "--no-config", "--framework", "mitre", "-o", "sarif",
                             os.path.join(EXAMPLES, "insecure"))
        rules = {r["id"]: r for r in json.loads(out)["runs"][0]["tool"]["driver"]["rules"]}
        # It owns privilege-escalation-allowed's risk (supersedes), so it answers T1548 too.
        self.assertEqual(rules["pss-privileged"]["properties"]["frameworkControls"], {"mitre": ["T1548", "T1611"]})

    def test_unknown_framework(self):
        code, _, err = run("scan", "--framework", "iso27001", EXAMPLES)
        self.assertEqual(code, 2)
        self.assertIn("nsa, mitre, cis or pss", err)

    def test_without_flag_no_framework(self):
        report, _ = scan_json(os.path.join(EXAMPLES, "hardened"))
        self.assertNotIn("framework", report)

# What a reader needs from a message besides its wording: quoted names and
# values, numbers, capability names, field paths and label pairs.
VALUE_RES = (
    re.compile(r'"[^"]*"'),
    re.compile(r'(?<![\w.])\d+(?:\.\d+)*'),
    re.compile(r'\b[A-Z][A-Z0-9]*_[A-Z0-9_]+\b'),
    re.compile(r'\b[a-zA-Z]+(?:\.[a-zA-Z0-9\[\]]+)+(?:=\w+)?'),
    re.compile(r'[\w./-]+=[\w./-]+'),
)


def values(message):
    found = set()
    for r in VALUE_RES:
        found.update(r.findall(message))
    return found


class ChineseMessages(unittest.TestCase):
    def test_every_value_of_every_fail_fixture_survives_in_chinese(self):
        fixtures = sorted(os.path.join(root, "fail.yaml")
                          for root, _, files in os.walk(os.path.join(SOURCE, "rules"))
                          if "fail.yaml" in files)
        self.assertGreater(len(fixtures), 150)
        reports = {}
        for lang in ("en", "zh"):
            reports[lang], _ = scan_json("--lang", lang, *fixtures)
        en, zh = reports["en"]["findings"], reports["zh"]["findings"]
        self.assertEqual(len(en), len(zh))
        self.assertGreater(len(en), 1000)
        missing = []
        translated = 0
        for e, z in zip(en, zh):
            self.assertEqual((e["rule"], e["location"]), (z["rule"], z["location"]))
            if e["message"] not in z["message"]:
                translated += 1
            lost = {v for v in values(e["message"]) if v not in z["message"]}
            if lost:
                missing.append((e["rule"], e["message"], z["message"], sorted(lost)))
        self.assertEqual(missing, [], "values lost in Chinese: %s" % missing[:5])
        # Most messages have a Chinese form, not the English fallback.
        self.assertGreater(translated / len(en), 0.9)
        self.assertRegex(zh[0]["message"], r"[\u4e00-\u9fff]")

    def test_container_and_capability_names_in_chinese_text(self):
        pod = PRIVILEGED_POD.replace("privileged: true",
                                     "capabilities:\n        add: [SYS_PTRACE]")
        pod = pod.replace("- name: c", "- name: web-frontend")
        code, out, _ = run("scan", "--no-config", "--lang", "zh", "-", stdin=pod)
        self.assertIn('容器 "web-frontend" 添加了默认集合之外的 capability "SYS_PTRACE"', out)


if __name__ == "__main__":
    unittest.main()

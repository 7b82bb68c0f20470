#!/usr/bin/env python3
"""Service-mesh posture end to end (docs/mesh.md): the mixed Istio + Linkerd
fixture set in tests/mesh/mixed gives the per-namespace east-west table of
expected.json in the JSON report, the same rows in the text, Markdown and
HTML reports (and in Chinese), the mesh rules' findings on it, and a report
without a mesh says so without any mesh finding. With reference scopes
(--scope dir), each scope's rows are what that folder alone shows, as its
set-level findings are: a NetworkPolicy in another folder protects nothing.

Usage: mesh_test.py KGUARD SOURCE_DIR
"""
import json
import os
import re
import shutil
import tempfile
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import support  # noqa: E402

KGUARD, SOURCE = support.args("kguard", "source")
MIXED = os.path.join(SOURCE, "tests", "mesh", "mixed")
MESH_RULES = {
    "istio-mtls-not-strict", "istio-authorization-default-deny-missing", "istio-sidecar-injection-disabled",
    "istio-authorization-allow-all", "istio-destination-rule-tls-disabled", "mesh-policy-selects-no-workload",
    "linkerd-default-inbound-unauthenticated", "linkerd-proxy-injection-disabled",
    "linkerd-authorization-unauthenticated",
}


def expected():
    with open(os.path.join(MIXED, "expected.json")) as f:
        return json.load(f)


def mesh_findings(report):
    return sorted((f["rule"], f["kind"], f.get("namespace", ""), f["name"]) for f in report["findings"]
                  if f["rule"] in MESH_RULES and f["result"] == "fail")


class MixedMeshes(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        code, cls.report, err = support.scan_json(MIXED, check=True)
        assert cls.report, err

    def test_table_equals_expected(self):
        self.assertEqual(self.report["eastWest"], expected())

    def test_findings_of_the_mesh_rules(self):
        self.assertEqual(mesh_findings(self.report), [
            ("istio-authorization-default-deny-missing", "Namespace", "", "mesh-orders"),
            ("istio-destination-rule-tls-disabled", "DestinationRule", "mesh-orders", "api"),
            ("istio-mtls-not-strict", "Deployment", "mesh-orders", "api"),
            ("istio-sidecar-injection-disabled", "Deployment", "mesh-legacy", "old"),
            ("istio-sidecar-injection-disabled", "Deployment", "mesh-payments", "cron"),
            ("istio-sidecar-injection-disabled", "Deployment", "mesh-tools", "debug"),
            ("istio-sidecar-injection-disabled", "Namespace", "", "mesh-legacy"),
            ("istio-sidecar-injection-disabled", "Namespace", "", "mesh-tools"),
            ("linkerd-authorization-unauthenticated", "AuthorizationPolicy", "mesh-books", "writer-from-network"),
            ("linkerd-default-inbound-unauthenticated", "Deployment", "mesh-books", "reader"),
            ("linkerd-proxy-injection-disabled", "Deployment", "mesh-legacy", "old"),
            ("linkerd-proxy-injection-disabled", "Deployment", "mesh-payments", "cron"),
            ("linkerd-proxy-injection-disabled", "Deployment", "mesh-tools", "debug"),
            ("linkerd-proxy-injection-disabled", "Namespace", "", "mesh-legacy"),
            ("linkerd-proxy-injection-disabled", "Namespace", "", "mesh-tools"),
            ("mesh-policy-selects-no-workload", "AuthorizationPolicy", "mesh-payments", "reports"),
            ("mesh-policy-selects-no-workload", "Server", "mesh-books", "writer"),
        ])

    def test_text_table(self):
        code, out, err = support.run("scan", "--no-config", "-o", "text", MIXED)
        self.assertIn(code, (0, 1), err)
        section = out[out.index("East-west traffic"):]
        self.assertIn("Service mesh: istio, linkerd", section)
        for row in expected()["namespaces"]:
            line = next((l for l in section.splitlines() if l.strip().startswith(row["namespace"] + " ")), None)
            self.assertIsNotNone(line, row["namespace"])
            words = line.split()
            self.assertEqual(words[0], row["namespace"])
            self.assertEqual(words[1:3], [str(row["workloads"]), str(row["meshed"])], line)
            want = [row["mesh"] or "-", row["mtls"], row["authorization"], row["networkPolicy"], row["protectedBy"]]
            self.assertEqual(words[3:], want, line)

    def test_a_snapshot_of_the_same_objects_gives_the_same_table_and_findings(self):
        import tempfile
        import yaml
        items = []
        for name in ("istio.yaml", "linkerd.yaml", "plain.yaml"):
            with open(os.path.join(MIXED, name)) as f:
                items += [d for d in yaml.safe_load_all(f) if d]
        header = {"server": "https://127.0.0.1:6443", "context": "mesh", "serverVersion": "v1.37.2",
                  "readAt": "2026-12-05T04:00:00Z", "namespaces": [], "nodes": 0, "namespaceCount": 8,
                  "pods": 0, "kindsNotServed": [], "coverage": []}
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "snapshot.json")
            with open(path, "w") as f:
                f.write('{"apiVersion":"v1","kind":"List","metadata":{"resourceVersion":""},"kguardSnapshot":'
                        + json.dumps(header, separators=(",", ":")) + ',"items":[\n'
                        + ",\n".join(json.dumps(i) for i in items) + "\n]}\n")
            code, snap, err = support.scan_json(path, check=True)
        self.assertEqual(snap["source"]["type"], "cluster", err)
        self.assertEqual(snap["eastWest"], expected())
        self.assertEqual(mesh_findings(snap), mesh_findings(self.report))

    def test_markdown_html_and_chinese(self):
        code, md, _ = support.run("scan", "--no-config", "-o", "markdown", MIXED)
        self.assertIn("### East-west traffic", md)
        self.assertIn("| mesh-emojivoto | 2 | 2 | linkerd | strict | default-deny | default-deny | **both** |", md)
        code, html, _ = support.run("scan", "--no-config", "-o", "html", MIXED)
        self.assertIn('data-stat="east-west" data-count="7"', html)
        self.assertEqual(len(re.findall(r'<tr data-protected-by="none">', html)), 4)
        code, zh, _ = support.run("scan", "--no-config", "--lang", "zh", "-o", "text", MIXED)
        self.assertIn("东西向流量", zh)
        self.assertIn("服务网格: istio, linkerd", zh)
        self.assertIn("两者兼有", zh)


class NoMesh(unittest.TestCase):
    def test_no_mesh_no_finding_and_the_report_says_so(self):
        code, report, err = support.scan_json(os.path.join(SOURCE, "examples"), check=True)
        self.assertEqual(report["eastWest"]["meshes"], [])
        self.assertTrue(report["eastWest"]["namespaces"])
        self.assertTrue(all(r["mesh"] == "" and r["mtls"] == "none" for r in report["eastWest"]["namespaces"]))
        self.assertEqual(mesh_findings(report), [])
        # The mesh rules evaluated nothing (a check that evaluated nothing is not listed).
        checks = {c["rule"]: c for c in report["checks"]}
        for rule in MESH_RULES:
            self.assertEqual(checks.get(rule, {"evaluated": 0})["evaluated"], 0, rule)
        code, out, _ = support.run("scan", "--no-config", "-o", "text", os.path.join(SOURCE, "examples"))
        self.assertIn("Service mesh: no service mesh in the input", out)

    def test_only_other_rules_leave_the_table_out(self):
        code, report, err = support.scan_json("--only", "pss-privileged", MIXED, check=True)
        self.assertNotIn("eastWest", report)


class Scopes(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="kguard-mesh-scope-")
        for folder, name in (("a", "istio.yaml"), ("b", "linkerd.yaml"), ("c", "plain.yaml")):
            os.makedirs(os.path.join(self.tmp, folder))
            shutil.copy(os.path.join(MIXED, name), os.path.join(self.tmp, folder))
        # Folder b also holds a default deny for c's namespace.
        with open(os.path.join(self.tmp, "b", "tools-deny.yaml"), "w") as f:
            f.write("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
                    "metadata: {name: deny-all, namespace: mesh-tools}\n"
                    "spec: {podSelector: {}, policyTypes: [Ingress]}\n")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def rows(self, *args):
        _, report, err = support.scan_json(*args, check=True, cwd=self.tmp)
        self.assertTrue(report, err)
        return report["eastWest"]["namespaces"]

    def test_each_scope_lists_what_it_alone_shows(self):
        scoped = self.rows("--scope", "dir", ".")
        self.assertEqual({r["scope"] for r in scoped}, {"./a", "./b", "./c"})
        for folder in ("a", "b", "c"):
            alone = self.rows(folder)
            self.assertNotIn("scope", alone[0])
            mine = [{k: v for k, v in r.items() if k != "scope"} for r in scoped if r["scope"] == "./" + folder]
            self.assertEqual(mine, alone, folder)
        # b's policy protects mesh-tools only when the input is one scope.
        (tools,) = [r for r in scoped if r["namespace"] == "mesh-tools"]
        self.assertEqual((tools["scope"], tools["networkPolicy"]), ("./c", "none"))
        (merged,) = [r for r in self.rows("--scope", "all", ".") if r["namespace"] == "mesh-tools"]
        self.assertEqual(merged["networkPolicy"], "default-deny")
        self.assertNotIn("scope", merged)
        # The text report names each row's scope.
        code, out, _ = support.run("scan", "--no-config", "--no-color", "--scope", "dir", ".", cwd=self.tmp)
        self.assertRegex(out, r"mesh-tools \[\./c\] +1 +0")


if __name__ == "__main__":
    unittest.main(verbosity=2)

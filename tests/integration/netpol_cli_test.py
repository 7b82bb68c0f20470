"""kguard netpol end to end: list in every format (the JSON contract, the
netpol-analyzer text, CSV, Markdown, DOT, HTML), focus/namespace/port
filters, explain, exposure, diff, stdin, folders, input errors with their
location, and scan --netpol's findings in the JSON report."""
import json
import os
import tempfile
import unittest

import support

KGUARD, SOURCE = support.args("kguard", "source")

APP = """
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {team: shop}}
---
apiVersion: v1
kind: Namespace
metadata: {name: ops, labels: {team: ops}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: c, image: i, ports: [{name: http, containerPort: 8080}]}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: db, namespace: shop}
spec:
  template:
    metadata: {labels: {app: db}}
    spec: {containers: [{name: c, image: i, ports: [{name: pg, containerPort: 5432}]}]}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: monitor, namespace: ops}
spec:
  template:
    metadata: {labels: {app: monitor}}
    spec: {containers: [{name: c, image: i}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db-from-web, namespace: shop}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress: [{from: [{podSelector: {matchLabels: {app: web}}}], ports: [{port: pg}]}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec: {type: LoadBalancer, selector: {app: web}, ports: [{port: 80, targetPort: http}]}
"""

CHANGE = """
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-from-ops, namespace: shop}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress: [{from: [{namespaceSelector: {matchLabels: {team: ops}}}], ports: [{port: 8080}]}]
"""


class NetpolCli(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.old = os.path.join(cls.tmp.name, "old")
        cls.new = os.path.join(cls.tmp.name, "new")
        support.write(cls.old, "app.yaml", APP)
        support.write(cls.new, "app.yaml", APP + CHANGE)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def list_json(self, *argv):
        code, out, err = support.run("netpol", "list", "-o", "json", *argv)
        self.assertEqual(code, 0, err)
        return json.loads(out)

    def test_json_contract(self):
        doc = self.list_json(self.old)
        self.assertEqual(doc["workloads"], ["ops/monitor[StatefulSet]", "shop/db[Deployment]", "shop/web[Deployment]"])
        pairs = {(c["src"], c["dst"]): c for c in doc["connections"]}
        web_db = pairs[("shop/web[Deployment]", "shop/db[Deployment]")]
        self.assertEqual((web_db["TCP"], web_db["UDP"], web_db["SCTP"]), ("5432", "", ""))
        self.assertNotIn(("ops/monitor[StatefulSet]", "shop/db[Deployment]"), pairs)
        self.assertEqual(pairs[("ip:0.0.0.0-255.255.255.255", "shop/web[Deployment]")]["TCP"], "1-65535")
        self.assertNotIn(("ip:0.0.0.0-255.255.255.255", "shop/db[Deployment]"), pairs)
        for c in doc["connections"]:
            self.assertNotEqual(c["src"], c["dst"])
            self.assertTrue(c["TCP"] or c["UDP"] or c["SCTP"])

    def test_netpol_analyzer_text(self):
        code, out, err = support.run("netpol", "list", "-o", "netpol-analyzer", self.old)
        self.assertEqual(code, 0, err)
        lines = out.splitlines()
        self.assertEqual(lines, sorted(lines))
        self.assertIn("shop/web[Deployment] => shop/db[Deployment] : TCP 5432", lines)
        self.assertIn("0.0.0.0-255.255.255.255 => shop/web[Deployment] : All Connections", lines)

    def test_every_format_and_filters(self):
        for fmt, marker in [("text", "CONNECTIONS"), ("csv", "src,dst,conn"), ("markdown", "| src | dst | conn |"),
                            ("dot", "digraph"), ("html", "<table id=\"m\">")]:
            code, out, err = support.run("netpol", "list", "-o", fmt, self.old)
            self.assertEqual(code, 0, err)
            self.assertIn(marker, out, fmt)
        focus = self.list_json("--focus-workload", "shop/db", self.old)
        for c in focus["connections"]:
            self.assertIn("shop/db[Deployment]", (c["src"], c["dst"]))
        port = self.list_json("--port", "5432/TCP", self.old)
        self.assertTrue(port["connections"])
        for c in port["connections"]:
            self.assertEqual((c["TCP"], c["UDP"]), ("5432", ""))
        ns = self.list_json("--namespace", "ops", self.old)
        for c in ns["connections"]:
            self.assertTrue(c["src"].startswith("ops/") or c["dst"].startswith("ops/"))
        code, _, err = support.run("netpol", "list", "--focus-workload", "nope", self.old)
        self.assertEqual(code, 2)
        self.assertIn("no workload 'nope'", err)

    def test_stdin_equals_file(self):
        code, out, err = support.run("netpol", "list", "-o", "netpol-analyzer", "-", stdin=APP)
        self.assertEqual(code, 0, err)
        _, from_file, _ = support.run("netpol", "list", "-o", "netpol-analyzer", self.old)
        self.assertEqual(out, from_file)

    def test_explain_names_policy_and_rule(self):
        code, out, err = support.run("netpol", "explain", "ops/monitor", "shop/db", self.old)
        self.assertEqual(code, 0, err)
        self.assertIn("NetworkPolicy shop/db-from-web", out)
        self.assertIn("DENIED", out)
        code, out, err = support.run("netpol", "explain", "shop/web", "shop/db", "--port", "5432", "-o", "json", self.old)
        self.assertEqual(code, 0, err)
        doc = json.loads(out)
        self.assertTrue(doc["ports"][0]["allowed"])
        self.assertIn("ingress rule 0", doc["ports"][0]["ingress"]["by"])

    def test_exposure(self):
        code, out, err = support.run("netpol", "exposure", "-o", "json", self.new)
        self.assertEqual(code, 0, err)
        doc = {w["workload"]: w for w in json.loads(out)["workloads"]}
        web = doc["shop/web[Deployment]"]
        self.assertEqual(web["ingressFromEntireCluster"], "No Connections")
        self.assertEqual(web["bySelector"][0]["namespaces"], "team=ops")
        self.assertEqual(web["publicEntries"][0]["how"], "LoadBalancer")
        self.assertEqual(web["publicEntries"][0]["allowed"], "No Connections")

    def test_diff(self):
        code, out, err = support.run("netpol", "diff", self.old, self.new)
        self.assertEqual(code, 0, err)
        self.assertIn("diff-type: changed, source: ops/monitor[StatefulSet], destination: shop/web[Deployment], "
                      "old: All Connections, new: TCP 8080", out)
        self.assertIn("diff-type: removed, source: shop/db[Deployment], destination: shop/web[Deployment]", out)

    def test_input_errors_have_locations(self):
        with tempfile.TemporaryDirectory() as d:
            support.write(d, "bad.yaml", APP + """
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: bad, namespace: shop}
spec:
  podSelector: {}
  ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/8, except: [11.0.0.0/8]}}]}]
""")
            code, out, err = support.run("netpol", "list", "-o", "json", d)
            self.assertEqual(code, 1)
            self.assertIn("bad.yaml:", err)
            self.assertIn("not inside cidr", err)
            self.assertTrue(json.loads(out)["connections"])  # the rest is still analysed

    def test_scan_netpol_findings(self):
        code, report, err = support.scan_json("--netpol", self.old)
        self.assertIsNotNone(report, err)
        text = json.dumps(report)
        self.assertIn("netpol-namespace-open-to-other-namespaces", text)
        self.assertIn("entire-cluster => shop/web[Deployment] : All Connections", text)


if __name__ == "__main__":
    unittest.main()

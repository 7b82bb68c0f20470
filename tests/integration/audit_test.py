#!/usr/bin/env python3
"""`kguard audit detect|serve|rules` end to end: the real binary on the rule
fixtures, report formats, bad lines, --follow across a rotation, baselines, and
`audit serve` over real TLS on loopback (certificates made by openssl here)
fed EventList batches the way the API server's webhook backend posts them.

Run by ctest: audit_test.py KGUARD_BINARY SOURCE_DIR
"""
import http.client
import json
import os
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from admit_support import make_ca, make_server_cert  # noqa: E402

KGUARD = sys.argv[1]
SOURCE = sys.argv[2]
del sys.argv[1:3]
RULES = os.path.join(SOURCE, "rules", "audit")


def fixture(rule, name="fires.jsonl"):
    return os.path.join(RULES, rule, name)


def run(*args, stdin=None, timeout=120):
    p = subprocess.run([KGUARD, "audit", *args], input=stdin, capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def alerts_of(text):
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def event(aid, verb="get", resource="secrets", ns="shop", name="db", user="alice", code=200,
          stage="ResponseComplete", sub=None, t="2026-12-05T04:00:00.000000Z", ip="10.0.0.5"):
    e = {"kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "Metadata", "auditID": aid, "stage": stage,
         "requestURI": "/api/v1/namespaces/%s/%s/%s" % (ns, resource, name), "verb": verb,
         "user": {"username": user, "groups": ["system:authenticated"]}, "sourceIPs": [ip],
         "objectRef": {"resource": resource, "namespace": ns, "name": name, "apiVersion": "v1"},
         "responseStatus": {"code": code}, "requestReceivedTimestamp": t, "stageTimestamp": t,
         "annotations": {"authorization.k8s.io/decision": "allow" if code < 400 else "forbid"}}
    if sub:
        e["objectRef"]["subresource"] = sub
    return e


class Detect(unittest.TestCase):
    def test_alerts_are_json_lines_with_the_contract_fields(self):
        code, out, err = run("detect", fixture("audit-exec-pod"))
        self.assertEqual(code, 1, err)
        alerts = [a for a in alerts_of(out) if a["rule"] == "audit-exec-pod"]
        self.assertEqual(len(alerts), 3)  # exec (two stages, one alert), attach, websocket exec
        a = alerts[0]
        for key in ("rule", "severity", "user", "groups", "sourceIPs", "verb", "object", "auditID", "count",
                    "first", "last", "message"):
            self.assertIn(key, a)
        self.assertEqual(a["object"], {"apiGroup": "", "resource": "pods", "subresource": "exec",
                                       "namespace": "default", "name": "web"})
        self.assertEqual(a["count"], 1)
        self.assertEqual(a["sourceIPs"], ["10.0.0.5"])
        self.assertIn("events", err)

    def test_quiet_fixture_exits_zero_and_aggregation_counts(self):
        code, out, err = run("detect", "--rules", os.path.join(RULES, "audit-secret-get"),
                             fixture("audit-secret-get", "quiet.jsonl"))
        self.assertEqual((code, out), (0, ""), err)
        lines = "".join(json.dumps(event("id-%d" % i, user="system:serviceaccount:x:ctrl", name="s%d" % (i % 9))) + "\n"
                        for i in range(5000))
        code, out, err = run("detect", "--rules", os.path.join(RULES, "audit-secret-get"), "-", stdin=lines)
        self.assertEqual(code, 1, err)
        alerts = alerts_of(out)
        self.assertEqual(len(alerts), 1)
        self.assertEqual(alerts[0]["count"], 5000)

    def test_bad_lines_name_file_and_line_and_the_rest_is_read(self):
        d = tempfile.mkdtemp(prefix="kguard-audit-")
        try:
            path = os.path.join(d, "audit.log")
            with open(path, "w") as f:
                f.write(json.dumps(event("1")) + "\n")
                f.write("{\"auditID\": \"2\", broken\n")
                f.write("[1, 2]\n")
                f.write(json.dumps(event("3", user="bob")) + "\n")
            code, out, err = run("detect", "--rules", os.path.join(RULES, "audit-secret-get"), path)
            self.assertEqual(code, 2)
            self.assertIn(path + ":2:", err)
            self.assertIn(path + ":3:", err)
            self.assertEqual(sorted(a["user"] for a in alerts_of(out)), ["alice", "bob"])
        finally:
            shutil.rmtree(d)

    def test_report_formats_and_chinese(self):
        d = tempfile.mkdtemp(prefix="kguard-audit-")
        try:
            outs = {f: os.path.join(d, "r." + f) for f in ("json", "sarif", "markdown", "text")}
            args = ["detect", fixture("audit-cluster-admin-binding"), "--lang", "zh"]
            for f, p in outs.items():
                args += ["-o", "%s=%s" % (f, p)]
            code, out, err = run(*args)
            self.assertEqual(code, 1, err)
            self.assertEqual(out, "")
            with open(outs["json"]) as f:
                report = json.load(f)
            failed = [f for f in report["findings"] if f["result"] == "fail"]
            self.assertTrue(any(f["rule"] == "audit-cluster-admin-binding" for f in failed), report["findings"][:3])
            with open(outs["sarif"]) as f:
                sarif = json.load(f)
            self.assertTrue(any(r["ruleId"] == "audit-cluster-admin-binding" for r in sarif["runs"][0]["results"]))
            with open(outs["markdown"]) as f:
                self.assertIn("绑定到 cluster-admin", f.read())
        finally:
            shutil.rmtree(d)

    def test_exemptions_from_the_config(self):
        d = tempfile.mkdtemp(prefix="kguard-audit-")
        try:
            cfg = os.path.join(d, "kguard.yaml")
            with open(cfg, "w") as f:
                f.write("exemptions:\n"
                        "  - rules: [audit-secret-get]\n"
                        "    users: [\"system:serviceaccount:shop:*\"]\n"
                        "    reason: the shop API reads its database password\n"
                        "rules:\n"
                        "  audit-disallowed-user: {enabled: false}\n")
            code, out, err = run("detect", "--config", cfg, fixture("audit-secret-get"))
            self.assertEqual((code, out), (0, ""), err)
        finally:
            shutil.rmtree(d)

    def test_baseline_file_and_learn_window(self):
        rule = os.path.join(RULES, "audit-secret-read-unexpected")
        code, out, err = run("detect", "--rules", rule, fixture("audit-secret-read-unexpected"))
        self.assertEqual((code, out), (0, ""), err)  # no baseline: not in force, said on stderr
        self.assertIn("no baseline", err)
        code, out, err = run("detect", "--rules", rule, "--baseline", fixture("audit-secret-read-unexpected", "baseline.jsonl"),
                             fixture("audit-secret-read-unexpected"))
        self.assertEqual(code, 1, err)
        self.assertEqual(sorted((a["user"], a["object"]["namespace"]) for a in alerts_of(out)),
                         [("system:serviceaccount:shop:api", "payments"), ("system:serviceaccount:shop:intruder", "shop")])
        lines = [event("a", user="ctrl", t="2026-12-05T04:00:00Z"), event("b", user="ctrl", t="2026-12-05T04:05:00Z"),
                 event("c", user="eve", t="2026-12-05T04:06:00Z")]
        code, out, err = run("detect", "--rules", rule, "--learn", "60", "-",
                             stdin="".join(json.dumps(e) + "\n" for e in lines))
        self.assertEqual([a["user"] for a in alerts_of(out)], ["eve"], err)

    def test_follow_reads_across_a_rotation(self):
        d = tempfile.mkdtemp(prefix="kguard-audit-")
        try:
            path = os.path.join(d, "audit.log")
            with open(path, "w") as f:
                f.write(json.dumps(event("1", user="u1")) + "\n")
            p = subprocess.Popen([KGUARD, "audit", "detect", "--rules", os.path.join(RULES, "audit-secret-get"),
                                  "--follow", "--window", "100ms", path], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 text=True)
            got = []
            threading.Thread(target=lambda: got.extend(p.stdout), daemon=True).start()

            def wait_for(n):
                end = time.time() + 15
                while time.time() < end and len(got) < n:
                    time.sleep(0.05)
                return len(got) >= n
            self.assertTrue(wait_for(1))
            with open(path, "a") as f:
                f.write(json.dumps(event("2", user="u2"))[:40])  # half a line, finished later
            time.sleep(0.5)
            with open(path, "a") as f:
                f.write(json.dumps(event("2", user="u2"))[40:] + "\n")
            self.assertTrue(wait_for(2))
            os.rename(path, path + ".1")  # rotation by rename
            with open(path + ".1", "a") as f:  # the writer's last line before it reopens
                f.write(json.dumps(event("3", user="u3")) + "\n")
            with open(path, "w") as f:
                f.write(json.dumps(event("4", user="u4")) + "\n")
            self.assertTrue(wait_for(4))
            open(path, "w").close()  # truncation (copytruncate), then the writer goes on
            time.sleep(0.5)
            with open(path, "a") as f:
                f.write(json.dumps(event("5", user="u5")) + "\n")
            self.assertTrue(wait_for(5))
            p.send_signal(signal.SIGTERM)
            p.wait(10)
            self.assertEqual(sorted(json.loads(l)["user"] for l in got), ["u1", "u2", "u3", "u4", "u5"])
        finally:
            shutil.rmtree(d)

    def test_rules_listing(self):
        code, out, err = run("rules", "-o", "json")
        self.assertEqual(code, 0, err)
        rules = json.loads(out)
        self.assertEqual(len(rules), len(os.listdir(RULES)))
        exec_rule = next(r for r in rules if r["id"] == "audit-exec-pod")
        self.assertEqual(exec_rule["needs"][0]["subresources"], ["exec", "attach"])
        self.assertIn("Falco k8saudit: Attach/Exec Pod", exec_rule["references"])

    def test_usage_errors(self):
        self.assertEqual(run("detect")[0], 2)
        self.assertEqual(run("detect", "-o", "nope", "x")[0], 2)
        self.assertEqual(run("detect", "/no/such/file")[0], 2)
        self.assertEqual(run("detect", "--rules", "/no/such/dir", "-", stdin="")[0], 2)
        self.assertEqual(run("frobnicate")[0], 2)


class Serve(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="kguard-audit-serve-")
        cls.ca, ca_key = make_ca(cls.dir)
        cls.cert, cls.key = make_server_cert(cls.dir, cls.ca, ca_key)
        cls.alerts = os.path.join(cls.dir, "alerts.jsonl")
        cls.proc = subprocess.Popen([KGUARD, "audit", "serve", "--listen", "127.0.0.1:0", "--tls-cert", cls.cert,
                                     "--tls-key", cls.key, "--alerts", cls.alerts, "--window", "200ms"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        cls.port = None
        cls.logs = []
        ready = threading.Event()

        def read():
            for line in cls.proc.stderr:
                cls.logs.append(line)
                try:
                    rec = json.loads(line)
                except ValueError:
                    continue
                if rec.get("msg") == "listening":
                    cls.port = int(rec["address"].rsplit(":", 1)[1])
                    ready.set()
            ready.set()
        threading.Thread(target=read, daemon=True).start()
        if not ready.wait(30) or cls.port is None:
            cls.proc.kill()
            raise RuntimeError("kguard audit serve did not start: " + "".join(cls.logs))

    @classmethod
    def tearDownClass(cls):
        cls.proc.send_signal(signal.SIGTERM)
        cls.proc.wait(30)
        shutil.rmtree(cls.dir)

    def request(self, method, path, body=None):
        ctx = ssl.create_default_context(cafile=self.ca)
        conn = http.client.HTTPSConnection("127.0.0.1", self.port, context=ctx, timeout=10)
        conn.request(method, path, body=body, headers={"Content-Type": "application/json"} if body else {})
        r = conn.getresponse()
        data = r.read()
        conn.close()
        return r.status, data.decode()

    def wait_alerts(self, pred, timeout=10):
        end = time.time() + timeout
        while time.time() < end:
            if os.path.exists(self.alerts):
                with open(self.alerts) as f:
                    alerts = alerts_of(f.read())
                if pred(alerts):
                    return alerts
            time.sleep(0.05)
        if not os.path.exists(self.alerts):
            return []
        with open(self.alerts) as f:
            return alerts_of(f.read())

    def test_health_and_metrics(self):
        self.assertEqual(self.request("GET", "/healthz")[0], 200)
        self.assertEqual(self.request("GET", "/readyz")[0], 200)
        status, text = self.request("GET", "/metrics")
        self.assertEqual(status, 200)
        self.assertIn("kguard_audit_events_total", text)
        self.assertIn('kguard_audit_alerts_total{rule="audit-exec-pod",severity="medium"}', text)

    def test_eventlist_batches_raise_alerts_once_per_request(self):
        started = event("serve-exec", verb="create", resource="pods", ns="default", name="web", sub="exec", code=101,
                        stage="ResponseStarted")
        complete = dict(started, stage="ResponseComplete")
        batch = {"kind": "EventList", "apiVersion": "audit.k8s.io/v1", "metadata": {}, "items": [started]}
        self.assertEqual(self.request("POST", "/audit", json.dumps(batch))[0], 200)
        batch["items"] = [complete]
        self.assertEqual(self.request("POST", "/audit", json.dumps(batch))[0], 200)
        forbidden = [event("f%d" % i, verb="list", user="serve-mallory", code=403, ip="192.0.2.77") for i in range(12)]
        batch["items"] = forbidden
        self.assertEqual(self.request("POST", "/audit", json.dumps(batch))[0], 200)
        alerts = self.wait_alerts(lambda a: any(x["auditID"] == "serve-exec" for x in a) and
                                  any(x["rule"] == "audit-auth-failure-burst-source" for x in a))
        execs = [a for a in alerts if a["rule"] == "audit-exec-pod" and a["auditID"] == "serve-exec"]
        self.assertEqual(len(execs), 1)
        bursts = [a for a in alerts if a["rule"] == "audit-auth-failure-burst-user" and a["user"] == "serve-mallory"]
        self.assertEqual(len(bursts), 1)
        self.assertEqual(bursts[0]["count"], 12)  # every refusal of the burst
        status, text = self.request("GET", "/metrics")
        self.assertIn("kguard_audit_batches_total", text)

    def test_bad_batches_are_400_and_counted(self):
        status, body = self.request("POST", "/audit", "{not json")
        self.assertEqual(status, 400)
        self.assertIn("line 1", body)
        self.assertEqual(self.request("GET", "/audit")[0], 405)
        self.assertIn("kguard_audit_parse_errors_total", self.request("GET", "/metrics")[1])


if __name__ == "__main__":
    unittest.main()

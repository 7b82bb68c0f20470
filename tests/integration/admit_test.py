#!/usr/bin/env python3
"""`kguard admit` end to end: the real binary over real TLS on loopback, with
certificates made by openssl here. Decisions (allow, deny, warn), PSA's label
semantics, kguard profiles, exemptions, HTTP errors, reloads, drain, and
robustness against garbage, half-open handshakes and 1,000 idle connections.

Run by ctest: admit_test.py KGUARD_BINARY
"""
import copy
import json
import os
import random
import resource
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from admit_support import (Webhook, baseline_only_pod, deployment_of, make_ca,  # noqa: E402
                           make_server_cert, privileged_pod, restricted_pod, review_for, tempdir)

KGUARD = sys.argv[1]
del sys.argv[1:2]

CONFIG = """
admission:
  defaults:
    enforce: baseline
    warn: restricted
  profiles:
    images: {rules: [image-tag-not-pinned, image-not-pinned-by-digest]}
    hardened: {rules: [security], pss: restricted}
  exemptions:
    usernames: ["system:serviceaccount:kube-system:breakglass"]
    namespaces: [exempt-ns]
    runtimeClasses: [kata]
  namespaces:
    prod:
      pod-security.kubernetes.io/enforce: restricted
    pinned:
      pod-security.kubernetes.io/enforce: baseline
      pod-security.kubernetes.io/enforce-version: v1.33
      pod-security.kubernetes.io/warn: privileged
    latest-baseline:
      pod-security.kubernetes.io/enforce: baseline
      pod-security.kubernetes.io/warn: privileged
    bogus-enforce:
      pod-security.kubernetes.io/enforce: strict
    bogus-warn:
      pod-security.kubernetes.io/enforce: privileged
      pod-security.kubernetes.io/warn: loud
    open:
      pod-security.kubernetes.io/enforce: privileged
    audit-only:
      pod-security.kubernetes.io/enforce: privileged
      pod-security.kubernetes.io/warn: privileged
      pod-security.kubernetes.io/audit: restricted
    images:
      pod-security.kubernetes.io/enforce: privileged
      pod-security.kubernetes.io/warn: privileged
      kguard.io/enforce: images
    unknown-profile:
      pod-security.kubernetes.io/enforce: privileged
      kguard.io/enforce: no-such-profile
"""

HOST_PROBE_POD = {
    # hostProbesAndHostLifecycle exists from PSS v1.34 on.
    "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "probe"},
    "spec": {"containers": [{"name": "app", "image": "registry.example.com/app:1.0",
                             "livenessProbe": {"httpGet": {"host": "10.0.0.1", "port": 80, "path": "/"}}}]},
}


class Webhook_(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempdir("kguard-admit-test-")
        cls.hook = Webhook(KGUARD, cls.dir, CONFIG, extra_args=["--header-timeout", "1s"])

    @classmethod
    def tearDownClass(cls):
        code = cls.hook.stop()
        assert code == 0, "kguard admit exited with %s" % code
        for line in cls.hook.logs:  # structured logs: every line one JSON object
            rec = json.loads(line)
            assert {"time", "level", "msg"} <= set(rec), line
        shutil.rmtree(cls.dir, ignore_errors=True)

    def review(self, obj, ns, **kw):
        o = copy.deepcopy(obj)
        o["metadata"]["namespace"] = ns
        return self.hook.review(review_for(o, namespace=ns, **kw))

    # --- decisions ---------------------------------------------------------

    def test_health_ready_metrics(self):
        self.assertEqual(self.hook.request("GET", "/healthz")[0], 200)
        self.assertEqual(self.hook.request("GET", "/readyz")[0], 200)
        self.review(privileged_pod(), "prod")
        m = self.hook.metrics()
        self.assertRegex(m, r'kguard_admission_requests_total\{decision="deny",kind="Pod",namespace="prod"\} \d+')
        self.assertIn("kguard_admission_review_duration_seconds_bucket{le=\"+Inf\"}", m)
        self.assertRegex(m, r'kguard_admission_rule_hits_total\{rule="pss-privileged",mode="enforce"\} \d+')
        self.assertRegex(m, r"kguard_certificate_expiry_timestamp_seconds \d+")

    def test_allowed(self):
        r = self.review(restricted_pod(), "prod")
        self.assertTrue(r["allowed"])
        self.assertNotIn("warnings", r)
        self.assertEqual(r["auditAnnotations"]["enforce-policy"], "restricted:latest")

    def test_denied_names_each_rule_and_fix(self):
        r = self.review(privileged_pod(), "prod")
        self.assertFalse(r["allowed"])
        st = r["status"]
        self.assertEqual(st["code"], 403)
        self.assertEqual(st["reason"], "Forbidden")
        self.assertTrue(st["message"].startswith('pods "bad" is forbidden: violates PodSecurity "restricted:latest": '))
        for rule in ("pss-privileged", "pss-host-namespaces", "pss-run-as-non-root"):
            self.assertIn(rule + " (", st["message"])
        self.assertIn("fix: ", st["message"])
        self.assertNotIn("warnings", r, "no warnings on a denial, as PSA")
        self.assertIn("pss-privileged", r["auditAnnotations"]["enforce-violations"].split(","))

    def test_warned_under_default_policy(self):
        # default namespace: enforce baseline, warn restricted
        r = self.review(baseline_only_pod(), "default")
        self.assertTrue(r["allowed"])
        self.assertTrue(r["warnings"])
        for w in r["warnings"]:
            self.assertLessEqual(len(w), 120, w)
            self.assertTrue(w.startswith("[restricted:latest] pss-"), w)
        self.assertEqual(r["auditAnnotations"]["decision"], "warn")

    def test_workloads_warn_and_audit_only(self):
        # A Deployment whose pods restricted would refuse is allowed with warnings.
        dep = deployment_of(privileged_pod(namespace="prod"))
        r = self.review(dep, "prod", resource="deployments")
        self.assertTrue(r["allowed"])
        self.assertTrue(any("pss-privileged" in w for w in r["warnings"]))
        cron = {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "c", "namespace": "prod"},
                "spec": {"schedule": "* * * * *", "jobTemplate": {"spec": {"template": {"spec": privileged_pod()["spec"]}}}}}
        r = self.review(cron, "prod", resource="cronjobs")
        self.assertTrue(r["allowed"])
        self.assertTrue(any("pss-host-namespaces" in w for w in r["warnings"]))

    def test_audit_annotation(self):
        r = self.review(baseline_only_pod(), "audit-only")
        self.assertTrue(r["allowed"])
        self.assertNotIn("warnings", r)
        self.assertTrue(r["auditAnnotations"]["audit-violations"].startswith(
            'would violate PodSecurity "restricted:latest": '))

    # --- PSA label semantics ----------------------------------------------

    def test_version_pinning(self):
        self.assertTrue(self.review(HOST_PROBE_POD, "pinned")["allowed"])
        r = self.review(HOST_PROBE_POD, "latest-baseline")
        self.assertFalse(r["allowed"])
        self.assertIn("pss-host-probes-lifecycle", r["status"]["message"])
        self.assertEqual(self.review(HOST_PROBE_POD, "pinned")["auditAnnotations"]["enforce-policy"],
                         "baseline:v1.33")

    def test_invalid_enforce_label_fails_closed(self):
        r = self.review(baseline_only_pod(), "bogus-enforce")
        self.assertFalse(r["allowed"], "an invalid enforce level evaluates as restricted:latest")
        self.assertIn('"restricted:latest"', r["status"]["message"])
        self.assertIn("strict", r["auditAnnotations"]["error"])

    def test_invalid_warn_label_fails_open(self):
        r = self.review(privileged_pod(), "bogus-warn")
        self.assertTrue(r["allowed"])
        self.assertNotIn("warnings", r)

    def test_warn_inherits_enforce(self):
        # prod sets only enforce=restricted; a workload there gets restricted warnings.
        dep = deployment_of(baseline_only_pod(namespace="prod"))
        r = self.review(dep, "prod", resource="deployments")
        self.assertTrue(any(w.startswith("[restricted:latest]") for w in r["warnings"]))

    def test_privileged_namespace_allows_everything(self):
        r = self.review(privileged_pod(), "open")
        self.assertTrue(r["allowed"])
        self.assertEqual(r["auditAnnotations"]["enforce-policy"], "privileged:latest")

    def test_update_reevaluated_only_when_significant(self):
        bad = privileged_pod(namespace="prod")
        relabelled = copy.deepcopy(bad)
        relabelled["metadata"]["labels"] = {"x": "y"}
        r = self.review(relabelled, "prod", operation="UPDATE", old=bad)
        self.assertTrue(r["allowed"], "a label change cannot change the verdict (PSA)")
        new_image = copy.deepcopy(bad)
        new_image["spec"]["containers"][0]["image"] = "registry.example.com/app:2.0"
        r = self.review(new_image, "prod", operation="UPDATE", old=bad)
        self.assertFalse(r["allowed"], "an image change is re-evaluated")

    def test_ignored_subresources_and_ephemeral(self):
        bad = privileged_pod(namespace="prod")
        self.assertTrue(self.review(bad, "prod", operation="UPDATE", old=bad, sub_resource="status")["allowed"])
        good = restricted_pod(namespace="prod")
        debug = copy.deepcopy(good)
        debug["spec"]["ephemeralContainers"] = [{"name": "debugger", "image": "busybox:1.36",
                                                 "securityContext": {"privileged": True}}]
        r = self.review(debug, "prod", operation="UPDATE", old=good, sub_resource="ephemeralcontainers")
        self.assertFalse(r["allowed"], "pods/ephemeralcontainers is evaluated")
        self.assertIn("pss-privileged", r["status"]["message"])
        self.assertTrue(self.hook.review(review_for(None, namespace="prod", operation="DELETE", kind="Pod"))["allowed"])

    def test_namespace_labels_validated(self):
        ns = {"apiVersion": "v1", "kind": "Namespace",
              "metadata": {"name": "x", "labels": {"pod-security.kubernetes.io/enforce": "tight"}}}
        r = self.hook.review(review_for(ns, namespace="", resource="namespaces"))
        self.assertFalse(r["allowed"])
        self.assertEqual(r["status"]["code"], 422)
        self.assertIn("pod-security.kubernetes.io/enforce=tight", r["status"]["message"])
        ns["metadata"]["labels"] = {"pod-security.kubernetes.io/enforce": "restricted",
                                    "kguard.io/enforce": "hardened"}
        self.assertTrue(self.hook.review(review_for(ns, namespace="", resource="namespaces"))["allowed"])

    # --- kguard profiles ---------------------------------------------------

    def test_kguard_profile_enforced(self):
        pod = restricted_pod(image="nginx:latest")
        r = self.review(pod, "images")
        self.assertFalse(r["allowed"])
        msg = r["status"]["message"]
        self.assertIn('violates kguard profile "images": ', msg)
        self.assertIn("image-tag-not-pinned (", msg)
        self.assertIn("fix: ", msg)
        pinned = restricted_pod(image="registry.example.com/app:1.0@sha256:" + "a" * 64)
        self.assertTrue(self.review(pinned, "images")["allowed"])

    def test_unknown_profile_fails_closed(self):
        r = self.review(restricted_pod(image="nginx:latest"), "unknown-profile")
        self.assertFalse(r["allowed"])
        self.assertIn("unknown profile", r["status"]["message"])

    # --- exemptions --------------------------------------------------------

    def test_exemptions(self):
        bad = privileged_pod()
        r = self.review(bad, "exempt-ns")
        self.assertTrue(r["allowed"])
        self.assertEqual(r["auditAnnotations"]["exempt"], "namespace")
        r = self.review(bad, "prod", username="system:serviceaccount:kube-system:breakglass")
        self.assertTrue(r["allowed"])
        self.assertEqual(r["auditAnnotations"]["exempt"], "user")
        kata = copy.deepcopy(bad)
        kata["spec"]["runtimeClassName"] = "kata"
        r = self.review(kata, "prod")
        self.assertTrue(r["allowed"])
        self.assertEqual(r["auditAnnotations"]["exempt"], "runtimeClass")

    def test_annotation_exemption(self):
        pod = copy.deepcopy(baseline_only_pod())
        pod["spec"]["hostNetwork"] = True
        self.assertFalse(self.review(pod, "latest-baseline")["allowed"])
        pod["metadata"]["annotations"] = {"kguard.io/exempt": "pss-host-namespaces",
                                          "kguard.io/exempt-reason": "reviewed"}
        self.assertTrue(self.review(pod, "latest-baseline")["allowed"])

    # --- timeout -----------------------------------------------------------

    def test_timeout_bounds_the_work(self):
        bad = privileged_pod(namespace="prod")
        r = self.hook.review(review_for(bad), timeout="1us")
        self.assertFalse(r["allowed"], "a Pod past its deadline is denied (fail closed)")
        self.assertEqual(r["status"]["code"], 500)
        self.assertIn("timeout", r["status"]["message"])
        dep = deployment_of(bad)
        r = self.hook.review(review_for(dep, resource="deployments"), timeout="1us")
        self.assertTrue(r["allowed"], "a workload past its deadline is allowed (fail open)")
        self.assertIn("timeout", r["auditAnnotations"]["error"])
        status, _, body = self.hook.request("POST", "/validate?timeout=soon", review_for(bad))
        self.assertEqual(status, 400)
        self.assertIn(b"timeout", body)

    # --- HTTP errors -------------------------------------------------------

    def test_body_over_limit_is_413(self):
        body = b'{"apiVersion":"admission.k8s.io/v1","pad":"' + b"x" * (3 * 1024 * 1024) + b'"}'
        status, _, data = self.hook.request("POST", "/validate", body)
        self.assertEqual(status, 413)
        self.assertIn(b"larger than the limit", data)

    def test_malformed_reviews_are_400(self):
        cases = [
            (b"{not json", b"not valid JSON"),
            (b"[1,2]", b"one JSON object"),
            (json.dumps({"apiVersion": "admission.k8s.io/v1beta1", "kind": "AdmissionReview",
                         "request": {"uid": "x"}}).encode(), b"admission.k8s.io/v1"),
            (json.dumps({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview"}).encode(),
             b"no request"),
            (json.dumps({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
                         "request": {"kind": {"kind": "Pod"}}}).encode(), b"uid"),
            (b"[" * 100000, b"JSON"),
        ]
        conn = self.hook.connection()
        for body, expect in cases:
            status, _, data = self.hook.request("POST", "/validate", body, conn=conn)
            self.assertEqual(status, 400, body[:60])
            self.assertIn(expect, data)
        conn.close()
        self.assertEqual(self.hook.request("GET", "/validate")[0], 405)
        self.assertEqual(self.hook.request("GET", "/nope")[0], 404)

    def test_malformed_http_is_400_and_connection_closed(self):
        for raw, code in [(b"HELLO\x00\x01\x02 / HTTP/1.1\r\n\r\n", b"400"),
                          (b"GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n", b"400"),
                          (b"POST /validate HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n", b"501"),
                          (b"GET / HTTP/3.0\r\n\r\n", b"505")]:
            s = self.tls_socket()
            s.sendall(raw)
            data = self.read_all(s)
            self.assertTrue(data.startswith(b"HTTP/1.1 " + code), (raw, data[:80]))
            self.assertIn(b"Connection: close", data)
            s.close()

    def test_http10_keep_alive_and_head(self):
        s = self.tls_socket()
        s.sendall(b"GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        first = s.recv(4096)
        self.assertIn(b"Connection: keep-alive", first)
        s.sendall(b"HEAD /healthz HTTP/1.0\r\n\r\n")
        data = self.read_all(s)  # HTTP/1.0 without keep-alive: closed after the answer
        self.assertTrue(data.startswith(b"HTTP/1.1 200 OK"), data)
        self.assertIn(b"Content-Length: 3\r\n", data)
        self.assertTrue(data.endswith(b"\r\n\r\n"), "HEAD has no body")
        s.close()

    def test_keep_alive_pipelining_and_expect_continue(self):
        s = self.tls_socket()
        body = json.dumps(review_for(restricted_pod(namespace="prod"))).encode()
        one = (b"POST /validate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
               b"Content-Length: %d\r\n\r\n" % len(body)) + body
        s.sendall(one + one + b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = self.read_all(s)
        self.assertEqual(data.count(b"HTTP/1.1 200 OK"), 3)
        s.close()
        s = self.tls_socket()
        s.sendall(b"POST /validate HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                  b"Content-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % len(body))
        self.assertTrue(s.recv(100).startswith(b"HTTP/1.1 100 Continue"))
        s.sendall(body)
        self.assertIn(b"HTTP/1.1 200 OK", self.read_all(s))
        s.close()

    # --- audit log ---------------------------------------------------------

    def test_audit_log_records_each_decision_without_secret_data(self):
        rv = review_for(privileged_pod(namespace="prod"), username="bob")
        self.hook.review(rv)
        secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "creds", "namespace": "prod"},
                  "data": {"password": "c3VwZXJzZWNyZXQtdmFsdWU="}, "stringData": {"token": "supersecret-value"}}
        srv = review_for(secret, resource="secrets")
        self.assertTrue(self.hook.review(srv)["allowed"])
        records = {r["uid"]: r for r in self.hook.audit_records()}
        rec = records[rv["request"]["uid"]]
        self.assertEqual(rec["user"], "bob")
        self.assertEqual(rec["operation"], "CREATE")
        self.assertEqual(rec["object"], {"kind": "Pod", "namespace": "prod", "name": "bad", "subResource": ""})
        self.assertEqual(rec["verdict"], "deny")
        self.assertIn("pss-privileged", rec["rulesHit"])
        self.assertRegex(rec["time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        self.assertIn(srv["request"]["uid"], records)
        with open(self.hook.audit) as f:
            text = f.read()
        self.assertNotIn("supersecret", text)
        self.assertNotIn("c3VwZXJzZWNyZXQ", text)

    # --- robustness --------------------------------------------------------

    def test_garbage_and_half_open_handshakes_are_survived(self):
        rng = random.Random(7)
        plain = []
        for i in range(40):
            s = socket.create_connection(("127.0.0.1", self.hook.port))
            if i % 4 == 0:
                s.sendall(bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 4096))))
            elif i % 4 == 1:
                # The start of a TLS ClientHello, then silence (half-open handshake).
                s.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")
            elif i % 4 == 2:
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")  # plain HTTP on the TLS port
            plain.append(s)
        # Garbage after a completed handshake.
        t = self.tls_socket()
        t.sendall(bytes(rng.getrandbits(8) for _ in range(2000)))
        # The server still answers, while those sockets are open.
        for _ in range(5):
            self.assertTrue(self.review(restricted_pod(), "prod")["allowed"])
        # Half-open handshakes are cut at --header-timeout (1s here).
        time.sleep(2.5)
        closed = 0
        for s in plain:
            s.settimeout(3)
            try:
                while s.recv(4096):
                    pass
                closed += 1
            except ConnectionResetError:
                closed += 1
            except socket.timeout:
                pass
            s.close()
        self.assertEqual(closed, len(plain))
        t.close()
        self.assertRegex(self.hook.metrics(), r"kguard_tls_handshake_errors_total [1-9]\d*")
        self.assertIsNone(self.hook.proc.poll())

    def test_thousand_idle_connections_do_not_starve_an_active_client(self):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 8192), hard))
        ctx = self.hook.context()
        idle = []
        try:
            for i in range(1000):
                raw = socket.create_connection(("127.0.0.1", self.hook.port))
                if i % 2:
                    idle.append(ctx.wrap_socket(raw, server_hostname="localhost"))  # TLS done, no request
                else:
                    idle.append(raw)  # TCP only (closed at the header timeout)
            conn = self.hook.connection(timeout=5)
            for _ in range(200):
                self.assertTrue(self.hook.review(review_for(restricted_pod(namespace="prod")), conn=conn)["allowed"])
            conn.close()
            m = self.hook.metrics()
            self.assertRegex(m, r"kguard_connections_open \d+")
        finally:
            for s in idle:
                s.close()

    def test_tls_versions_and_ciphers(self):
        def handshake(configure):
            ctx = self.hook.context()
            configure(ctx)
            raw = socket.create_connection(("127.0.0.1", self.hook.port), timeout=10)
            try:
                with ctx.wrap_socket(raw, server_hostname="localhost") as s:
                    return s.version(), s.cipher()[0], s.selected_alpn_protocol()
            except (ssl.SSLError, ConnectionResetError):
                return None

        def tls12(ctx):
            ctx.maximum_version = ssl.TLSVersion.TLSv1_2
            ctx.set_alpn_protocols(["h2", "http/1.1"])

        version, cipher, alpn = handshake(tls12)
        self.assertEqual(version, "TLSv1.2")
        self.assertIn("ECDHE", cipher)
        self.assertEqual(alpn, "http/1.1")
        self.assertEqual(handshake(lambda ctx: None)[0], "TLSv1.3")

        def tls11(ctx):
            ctx.set_ciphers("ALL:@SECLEVEL=0")
            ctx.minimum_version = ssl.TLSVersion.TLSv1
            ctx.maximum_version = ssl.TLSVersion.TLSv1_1

        self.assertIsNone(handshake(tls11), "TLS 1.1 is refused")

        def weak(ctx):
            ctx.maximum_version = ssl.TLSVersion.TLSv1_2
            ctx.set_ciphers("AES128-SHA:AES256-SHA:ECDHE-ECDSA-AES128-SHA")  # CBC, no AEAD

        self.assertIsNone(handshake(weak), "non-AEAD suites are refused")

    # --- helpers -----------------------------------------------------------

    def tls_socket(self):
        raw = socket.create_connection(("127.0.0.1", self.hook.port), timeout=10)
        return self.hook.context().wrap_socket(raw, server_hostname="localhost")

    @staticmethod
    def read_all(s):
        chunks = []
        try:
            while True:
                d = s.recv(65536)
                if not d:
                    break
                chunks.append(d)
        except (ssl.SSLError, ConnectionResetError, socket.timeout):
            pass
        return b"".join(chunks)


class Startup(unittest.TestCase):
    """Bad flags, files and configs stop kguard admit at start with a clear message."""

    def run_admit(self, *args):
        p = subprocess.run([KGUARD, "admit", *args], capture_output=True, text=True, timeout=30)
        return p.returncode, p.stderr

    def test_startup_errors(self):
        work = tempdir("kguard-admit-start-")
        try:
            ca = make_ca(work)
            crt, key = make_server_cert(work, *ca)
            code, err = self.run_admit("--listen", "127.0.0.1:0")
            self.assertEqual(code, 2)
            self.assertIn("--tls-cert and --tls-key are required", err)
            code, err = self.run_admit("--listen", "127.0.0.1:0", "--tls-cert", crt, "--tls-key", ca[1])
            self.assertEqual(code, 2)
            self.assertRegex(err, "does not match the certificate|key values mismatch")
            code, err = self.run_admit("--tls-cert", os.path.join(work, "nope.crt"), "--tls-key", key)
            self.assertEqual(code, 2)
            self.assertIn("cannot load certificate", err)
            cfg = os.path.join(work, "bad.yaml")
            with open(cfg, "w") as f:
                f.write("admission:\n  defaults:\n    enforce: strict\n  profiles:\n    p: {rules: [no-such-rule]}\n")
            code, err = self.run_admit("--listen", "127.0.0.1:0", "--tls-cert", crt, "--tls-key", key,
                                       "--config", cfg)
            self.assertEqual(code, 2)
            self.assertIn("bad.yaml:3:", err)
            self.assertIn("admission.defaults.enforce", err)
            code, err = self.run_admit("--listen", "nowhere", "--tls-cert", crt, "--tls-key", key)
            self.assertEqual(code, 2)
            self.assertIn("--listen", err)
            code, err = self.run_admit("--workers", "0")
            self.assertEqual(code, 2)
            # Every log line is JSON.
            for line in err.splitlines() + [l for l in self.run_admit("--listen", "bad:port", "--tls-cert", crt,
                                                                        "--tls-key", key)[1].splitlines()]:
                if line.startswith("{"):
                    json.loads(line)
        finally:
            shutil.rmtree(work, ignore_errors=True)


class Lifecycle(unittest.TestCase):
    """Reloads and drain: each test has its own server."""

    def setUp(self):
        self.dir = tempdir("kguard-admit-life-")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def peer_serial(self, hook):
        raw = socket.create_connection(("127.0.0.1", hook.port), timeout=10)
        ctx = ssl.create_default_context(cafile=self.cafile)
        s = ctx.wrap_socket(raw, server_hostname="localhost")
        serial = s.getpeercert()["serialNumber"]
        s.close()
        return serial

    def test_sighup_and_file_change_reload_without_dropping_requests(self):
        ca = make_ca(self.dir)
        self.cafile = ca[0]
        hook = Webhook(KGUARD, self.dir, "admission:\n  namespaces: {}\n", ca=ca,
                       extra_args=["--watch-interval", "100ms"])
        try:
            first = self.peer_serial(hook)
            kept = hook.connection()
            self.assertTrue(hook.review(review_for(privileged_pod()), conn=kept)["allowed"])
            # New certificate files (same paths), then SIGHUP.
            other = os.path.join(self.dir, "next")
            os.makedirs(other)
            crt, key = make_server_cert(other, *ca)
            shutil.copy(crt, hook.cert)
            shutil.copy(key, hook.key)
            hook.signal(signal.SIGHUP)
            self.assertTrue(hook.wait_log("TLS certificate reloaded"))
            self.assertTrue(hook.wait_log("configuration reloaded"))  # SIGHUP reloads the config too
            self.assertNotEqual(self.peer_serial(hook), first)
            # The connection opened before the reload keeps working.
            self.assertTrue(hook.review(review_for(privileged_pod()), conn=kept)["allowed"])
            # Config change picked up from the file alone.
            with open(hook.config, "w") as f:
                f.write("admission:\n  defaults: {enforce: restricted}\n")
            self.assertTrue(hook.wait_log("configuration reloaded", count=2, timeout=30))
            self.assertFalse(hook.review(review_for(privileged_pod()), conn=kept)["allowed"])
            # A broken config is refused; the previous one stays in force.
            with open(hook.config, "w") as f:
                f.write("admission:\n  defaults: {enforce: strictest}\n")
            self.assertTrue(hook.wait_log("config reload failed", timeout=30))
            self.assertFalse(hook.review(review_for(privileged_pod()), conn=kept)["allowed"])
            self.assertIn('kguard_reloads_total{what="config",result="failure"} 1', hook.metrics())
            kept.close()
        finally:
            self.assertEqual(hook.stop(), 0)

    def test_body_bytes_in_flight_are_bounded(self):
        hook = Webhook(KGUARD, self.dir, None, extra_args=["--max-body-bytes-in-flight", "100000"])
        try:
            body = json.dumps(review_for(restricted_pod())).encode()
            padded = body[:-1] + b', "pad": "' + b"x" * (80000 - len(body) - 12) + b'"}'
            head = (b"POST /validate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    b"Content-Length: %d\r\n\r\n" % len(padded))
            a = hook.context().wrap_socket(socket.create_connection(("127.0.0.1", hook.port), timeout=10),
                                           server_hostname="localhost")
            a.sendall(head + padded[:1000])  # 80 kB reserved, 1 kB sent
            time.sleep(0.3)
            b = hook.context().wrap_socket(socket.create_connection(("127.0.0.1", hook.port), timeout=10),
                                           server_hostname="localhost")
            b.sendall(head + padded[:1000])  # would reserve 80 kB more: over the bound
            answer = Webhook_.read_all(b)
            self.assertTrue(answer.startswith(b"HTTP/1.1 503 "), answer[:100])
            self.assertIn(b"Retry-After: 1", answer)
            b.close()
            a.sendall(padded[1000:])
            self.assertIn(b"HTTP/1.1 200 OK", a.recv(65536))
            a.close()
            # Released: the same request now goes through.
            self.assertEqual(hook.request("POST", "/validate", padded)[0], 200)
        finally:
            self.assertEqual(hook.stop(), 0)

    def test_sigterm_drains_in_flight_requests(self):
        hook = Webhook(KGUARD, self.dir, None, extra_args=["--drain-delay", "2s"])
        self.cafile = hook.ca_crt
        body = json.dumps(review_for(restricted_pod())).encode()
        raw = socket.create_connection(("127.0.0.1", hook.port), timeout=10)
        s = hook.context().wrap_socket(raw, server_hostname="localhost")
        # Head and half of the body, then SIGTERM.
        s.sendall(b"POST /validate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  b"Content-Length: %d\r\n\r\n" % len(body) + body[:20])
        idle = hook.connection()
        idle.connect()
        hook.signal(signal.SIGTERM)
        # Waits on what the server says and does, not on sleeps: a loaded machine
        # delays signal handling by more than any fixed pause.
        self.assertTrue(hook.wait_log("shutting down: draining"))
        # During the drain delay /readyz says 503 and requests are still served.
        self.assertEqual(hook.request("GET", "/readyz")[0], 503)
        # After the delay the listener is closed; the in-flight request is still finished.
        deadline = time.time() + 15
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", hook.port), timeout=1).close()
                time.sleep(0.1)
            except OSError:
                break
        else:
            self.fail("the listener was still open 15 s after SIGTERM")
        s.sendall(body[20:])
        data = Webhook_.read_all(s)
        self.assertIn(b"HTTP/1.1 200 OK", data)
        self.assertIn(b"Connection: close", data)
        self.assertIn(b'"allowed":true', data)
        self.assertEqual(hook.proc.wait(10), 0)
        self.assertTrue(hook.wait_log("stopped"))  # the reader thread may lag the exit
        with self.assertRaises(OSError):
            socket.create_connection(("127.0.0.1", hook.port), timeout=2)
        idle.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)

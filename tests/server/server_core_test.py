"""The server core (src/server) on its own, with a trivial handler and no
engine (server_core_probe): routing, health, metrics, limits, keep-alive and
pipelining, certificate reload and drain, over real TLS on loopback with
certificates made by openssl at test time.

Usage: server_core_test.py PATH/TO/server_core_probe"""

import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import unittest
import warnings

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from admit_support import make_ca, make_server_cert, tempdir  # noqa: E402

PROBE = None


class Probe:
    """server_core_probe on 127.0.0.1, any port; stderr (JSON logs) collected."""

    def __init__(self, workdir, *args, ca=None):
        self.workdir = workdir
        self.ca = ca or make_ca(workdir)
        self.cert, self.key = make_server_cert(workdir, *self.ca)
        self.proc = subprocess.Popen([PROBE, "--tls-cert", self.cert, "--tls-key", self.key, *args],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.logs = []
        self.port = None
        ready = threading.Event()

        def read():
            for line in self.proc.stderr:
                self.logs.append(line)
                rec = json.loads(line)  # every log line is one JSON object
                assert {"time", "level", "msg"} <= set(rec), line
                if rec["msg"] == "listening":
                    self.port = int(rec["address"].rsplit(":", 1)[1])
                    ready.set()
            ready.set()

        threading.Thread(target=read, daemon=True).start()
        if not ready.wait(30) or self.port is None:
            self.stop()
            raise RuntimeError("server_core_probe did not start: " + "".join(self.logs))

    def tls(self, timeout=10, client=None):
        ctx = ssl.create_default_context(cafile=self.ca[0])
        if client:
            ctx.load_cert_chain(*client)
        raw = socket.create_connection(("127.0.0.1", self.port), timeout=timeout)
        return ctx.wrap_socket(raw, server_hostname="localhost")

    def exchange(self, raw, timeout=10):
        """Sends raw bytes on a new TLS connection, returns everything until close."""
        s = self.tls(timeout)
        s.sendall(raw)
        data = read_all(s)
        s.close()
        return data

    def get(self, path):
        data = self.exchange(b"GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % path.encode())
        return parse(data)[0]

    def serial(self):
        s = self.tls()
        serial = s.getpeercert()["serialNumber"]
        s.close()
        return serial

    def wait_log(self, text, count=1, timeout=10):
        end = time.time() + timeout
        while time.time() < end:
            if sum(text in line for line in self.logs) >= count:
                return True
            time.sleep(0.05)
        return False

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


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


def parse(data):
    """Splits a byte stream of HTTP/1.1 responses: [(status, headers, body)]."""
    out = []
    while data:
        head, sep, rest = data.partition(b"\r\n\r\n")
        assert sep, data[:200]
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ")[1])
        headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        n = int(headers.get("content-length", "0"))
        out.append((status, headers, rest[:n]))
        data = rest[n:]
    return out


class Serving(unittest.TestCase):
    """One probe for the request-level cases."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempdir("kguard-core-")
        cls.not_ready = os.path.join(cls.dir, "not-ready")
        cls.probe = Probe(cls.dir, "--max-body", "4096", "--header-timeout-ms", "1000",
                          "--not-ready-file", cls.not_ready)

    @classmethod
    def tearDownClass(cls):
        code = cls.probe.stop()
        shutil.rmtree(cls.dir, ignore_errors=True)
        assert code == 0, code

    def test_routes_404_and_405(self):
        status, headers, body = self.probe.get("/hello")
        self.assertEqual((status, body), (200, b"hello\n"))
        self.assertEqual(headers["content-type"], "text/plain; charset=utf-8")
        r = parse(self.probe.exchange(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                                      b"Connection: close\r\n\r\nabcde"))
        self.assertEqual(r[0][0], 200)
        self.assertEqual(r[0][2], b"abcde")
        status, _, body = self.probe.get("/nope")
        self.assertEqual(status, 404)
        self.assertIn(b"POST /echo", body)  # the route table names what exists
        status, headers, _ = self.probe.get("/echo")
        self.assertEqual(status, 405)
        self.assertEqual(headers["allow"], "POST")
        r = parse(self.probe.exchange(b"POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n"
                                      b"Connection: close\r\n\r\n"))
        self.assertEqual(r[0][0], 405)
        # HEAD on a GET route: the GET's headers, no body.
        data = self.probe.exchange(b"HEAD /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        self.assertTrue(data.startswith(b"HTTP/1.1 200 OK"), data)
        self.assertIn(b"Content-Length: 6\r\n", data)
        self.assertTrue(data.endswith(b"\r\n\r\n"))

    def test_health_ready_metrics(self):
        self.assertEqual(self.probe.get("/healthz")[:3:2], (200, b"ok\n"))
        self.assertEqual(self.probe.get("/readyz")[0], 200)
        open(self.not_ready, "w").close()
        try:
            status, _, body = self.probe.get("/readyz")
            self.assertEqual((status, body), (503, b"probe not ready\n"))
        finally:
            os.unlink(self.not_ready)
        self.assertEqual(self.probe.get("/readyz")[0], 200)
        self.probe.get("/hello")
        status, headers, body = self.probe.get("/metrics")
        self.assertEqual(status, 200)
        self.assertEqual(headers["content-type"], "text/plain; version=0.0.4; charset=utf-8")
        m = body.decode()
        self.assertRegex(m, r"probe_requests_total [1-9]\d*")  # the handler's own
        self.assertRegex(m, r'kguard_http_responses_total\{code="200"\} [1-9]\d*')
        self.assertRegex(m, r'kguard_http_responses_total\{code="503"\} [1-9]\d*')
        self.assertRegex(m, r"kguard_connections_open [1-9]\d*")
        self.assertRegex(m, r"kguard_certificate_expiry_timestamp_seconds 1\.\d+e\+09")
        self.assertNotIn("kguard_admission", m)  # no engine in the core
        for line in m.splitlines():  # Prometheus text: comments or `name{labels} value`
            self.assertRegex(line, r'^(# (HELP|TYPE) .*|[a-z_]+(\{[^}]*\})? [-+0-9.e]+)$')

    def test_body_over_limit_is_413(self):
        data = self.probe.exchange(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n" + b"x" * 5000)
        self.assertTrue(data.startswith(b"HTTP/1.1 413 "), data[:100])
        self.assertIn(b"Connection: close", data)
        # At the limit it is served.
        r = parse(self.probe.exchange(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4096\r\n"
                                      b"Connection: close\r\n\r\n" + b"y" * 4096))
        self.assertEqual((r[0][0], len(r[0][2])), (200, 4096))

    def test_garbage_is_400_and_closed(self):
        for raw, code in [(b"HELLO\x00\x01 / HTTP/1.1\r\n\r\n", b"400"),
                          (b"GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n", b"400"),
                          (b"GET /hello HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", b"400"),
                          (b"POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", b"501")]:
            data = self.probe.exchange(raw)
            self.assertTrue(data.startswith(b"HTTP/1.1 " + code), (raw, data[:80]))
            self.assertIn(b"Connection: close", data)
        # Not TLS at all: closed, and the server goes on.
        s = socket.create_connection(("127.0.0.1", self.probe.port), timeout=5)
        s.sendall(b"GET /hello HTTP/1.1\r\n\r\n")
        self.assertEqual(read_all(s)[:5], b"")
        s.close()
        self.assertEqual(self.probe.get("/hello")[0], 200)

    def test_keep_alive_and_pipelining(self):
        s = self.probe.tls()
        # One connection, several requests one after the other.
        for i in range(3):
            body = b"req-%d" % i
            s.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
            status, headers, got = parse(s.recv(65536))[0]
            self.assertEqual((status, got), (200, body))
            self.assertNotIn("connection", headers)
        # Pipelined: three requests in one write, answered in order.
        s.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\none"
                  b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"
                  b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\nthree")
        answers = parse(read_all(s))
        self.assertEqual([(a[0], a[2]) for a in answers], [(200, b"one"), (200, b"hello\n"), (200, b"three")])
        self.assertEqual(answers[2][1]["connection"], "close")
        s.close()

    def test_stalled_head_is_408(self):
        s = self.probe.tls()
        s.sendall(b"GET /hello HTTP/1.1\r\nHost:")
        data = read_all(s)  # --header-timeout-ms 1000
        self.assertTrue(data.startswith(b"HTTP/1.1 408 "), data[:80])
        s.close()

    def test_half_open_handshake_cut_at_header_timeout(self):
        s = socket.create_connection(("127.0.0.1", self.probe.port), timeout=5)
        s.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")  # the start of a ClientHello
        t0 = time.time()
        self.assertEqual(read_all(s), b"")  # closed by the server (--header-timeout-ms 1000)
        self.assertLess(time.time() - t0, 4)
        s.close()
        self.assertRegex(self.probe.get("/metrics")[2].decode(), r"kguard_tls_handshake_errors_total [1-9]")


class Limits(unittest.TestCase):
    def setUp(self):
        self.dir = tempdir("kguard-core-limits-")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def test_max_connections_503(self):
        probe = Probe(self.dir, "--max-connections", "2")
        try:
            held = [probe.tls(), probe.tls()]
            for s in held:  # handshakes done: both count
                s.sendall(b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
                self.assertEqual(parse(s.recv(65536))[0][0], 200)
            data = probe.exchange(b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
            status, headers, body = parse(data)[0]
            self.assertEqual(status, 503, data[:100])
            self.assertEqual(headers["retry-after"], "1")
            self.assertEqual(headers["connection"], "close")
            self.assertIn(b"too many connections", body)
            held.pop().close()
            # The server releases a closed connection's slot when it sees the close, and
            # each probe.get is a connection of its own: wait on the answers, not on a
            # sleep (under ASan the previous probe may still hold the second slot).
            def get_when_free(path):
                deadline = time.time() + 10
                while True:
                    answer = probe.get(path)
                    if answer[0] != 503 or time.time() > deadline:
                        return answer
                    time.sleep(0.05)
            self.assertEqual(get_when_free("/hello")[0], 200)
            m = get_when_free("/metrics")[2].decode()
            self.assertRegex(m, r"kguard_connections_rejected_total [1-9]\d*")
            for s in held:
                s.close()
        finally:
            self.assertEqual(probe.stop(), 0)

    def test_idle_keep_alive_closed_at_idle_timeout(self):
        probe = Probe(self.dir, "--idle-timeout-ms", "500")
        try:
            s = probe.tls()
            s.sendall(b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
            self.assertEqual(parse(s.recv(65536))[0][0], 200)
            t0 = time.time()
            self.assertEqual(read_all(s), b"")  # the server closed the idle connection
            self.assertGreater(time.time() - t0, 0.3)
            self.assertLess(time.time() - t0, 3)
            s.close()
        finally:
            self.assertEqual(probe.stop(), 0)

    def test_body_bytes_in_flight_503(self):
        probe = Probe(self.dir, "--max-body-bytes-in-flight", "10000")
        try:
            head = b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 8000\r\n\r\n"
            a = probe.tls()
            a.sendall(head + b"a" * 100)  # 8,000 bytes reserved
            time.sleep(0.3)
            b = probe.tls()
            b.sendall(head + b"b" * 100)  # 8,000 more would pass 10,000
            status, headers, _ = parse(read_all(b))[0]
            self.assertEqual((status, headers["retry-after"]), (503, "1"))
            b.close()
            a.sendall(b"a" * 7900)
            self.assertEqual(parse(a.recv(65536))[0][0], 200)
            a.close()
        finally:
            self.assertEqual(probe.stop(), 0)


def make_client_cert(directory, ca_crt, ca_key, name):
    """A client certificate (clientAuth) signed by the CA."""
    key, csr, crt, ext = (os.path.join(directory, name + s) for s in (".key", ".csr", ".crt", ".ext"))
    with open(ext, "w") as f:
        f.write("extendedKeyUsage=clientAuth\n")
    for cmd in (["openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                 "-keyout", key, "-out", csr, "-subj", "/CN=" + name],
                ["openssl", "x509", "-req", "-in", csr, "-CA", ca_crt, "-CAkey", ca_key,
                 "-CAcreateserial", "-out", crt, "-days", "2", "-extfile", ext]):
        subprocess.run(cmd, check=True, capture_output=True)
    return crt, key


class ClientCertificates(unittest.TestCase):
    """--client-ca: mutual TLS. A certificate from the bundle's CA is served; none, or one from
    another CA, fails the handshake; the bundle is reloaded when the file changes."""

    def setUp(self):
        self.dir = tempdir("kguard-core-mtls-")
        self.client_ca = make_ca(self.dir, "client-ca")
        self.other_ca = make_ca(self.dir, "other-ca")
        self.bundle = os.path.join(self.dir, "clients.pem")
        shutil.copy(self.client_ca[0], self.bundle)
        self.good = make_client_cert(self.dir, *self.client_ca, "apiserver")
        self.stranger = make_client_cert(self.dir, *self.other_ca, "stranger")
        self.probe = Probe(self.dir, "--client-ca", self.bundle, "--watch-interval-ms", "100")

    def tearDown(self):
        self.assertEqual(self.probe.stop(), 0)
        shutil.rmtree(self.dir, ignore_errors=True)

    def status(self, client):
        s = self.probe.tls(client=client)
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = read_all(s)
        s.close()
        return parse(data)[0][0] if data else None

    def refused(self, client):
        # TLS 1.3 reports the server's refusal after the handshake, at the first read.
        try:
            return self.status(client) is None
        except (ssl.SSLError, ConnectionResetError, BrokenPipeError):
            return True

    def test_only_certificates_of_the_bundle_are_served(self):
        self.assertEqual(self.status(self.good), 200)
        self.assertTrue(self.refused(None))
        self.assertTrue(self.refused(self.stranger))

    def test_bundle_reloaded_on_change(self):
        self.assertTrue(self.refused(self.stranger))
        tmp = self.bundle + ".new"
        with open(tmp, "w") as out:
            for ca in (self.client_ca[0], self.other_ca[0]):
                out.write(open(ca).read())
        os.replace(tmp, self.bundle)
        self.assertTrue(self.probe.wait_log("TLS certificate reloaded"))
        self.assertEqual(self.status(self.stranger), 200)
        self.assertEqual(self.status(self.good), 200)

    def test_unreadable_bundle_refuses_to_start(self):
        with self.assertRaises(RuntimeError) as e:
            Probe(self.dir, "--client-ca", os.path.join(self.dir, "missing.pem"))
        self.assertIn("client CA bundle", str(e.exception))


class Lifecycle(unittest.TestCase):
    def setUp(self):
        self.dir = tempdir("kguard-core-life-")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def test_cert_reload_on_sighup_and_file_change_broken_refused(self):
        watched = os.path.join(self.dir, "handler.conf")
        open(watched, "w").close()
        probe = Probe(self.dir, "--watch-interval-ms", "100", "--watch-file", watched)
        try:
            first = probe.serial()
            kept = probe.tls()  # opened before the reloads, used after them
            # A new pair at the same paths, then SIGHUP: the new one is served.
            nxt = os.path.join(self.dir, "next")
            os.makedirs(nxt)
            crt, key = make_server_cert(nxt, *probe.ca)
            # Write both before the watcher can see half a pair... or not:
            # a half pair fails the key check and is retried on the next change.
            shutil.copy(key, probe.key)
            shutil.copy(crt, probe.cert)
            probe.proc.send_signal(signal.SIGHUP)
            self.assertTrue(probe.wait_log("TLS certificate reloaded"))
            self.assertTrue(probe.wait_log('"reason":"signal"'))  # the handler's reload hook
            second = probe.serial()
            self.assertNotEqual(second, first)
            # A broken certificate is refused; the one in force stays.
            failures = sum("TLS reload failed" in l for l in probe.logs)
            with open(probe.cert, "w") as f:
                f.write("-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----\n")
            probe.proc.send_signal(signal.SIGHUP)
            self.assertTrue(probe.wait_log("TLS reload failed", count=failures + 1))
            self.assertEqual(probe.serial(), second)
            # A certificate whose key does not match: refused too.
            other = os.path.join(self.dir, "other")
            os.makedirs(other)
            crt3, _ = make_server_cert(other, *probe.ca)
            shutil.copy(crt3, probe.cert)
            probe.proc.send_signal(signal.SIGHUP)
            self.assertTrue(probe.wait_log("TLS reload failed", count=failures + 2))
            self.assertRegex([l for l in probe.logs if "TLS reload failed" in l][-1],
                             "does not match the certificate|key values mismatch")
            self.assertEqual(probe.serial(), second)
            m = probe.get("/metrics")[2].decode()
            self.assertRegex(m, r'kguard_reloads_total\{what="tls",result="failure"\} [2-9]')
            self.assertIn('kguard_reloads_total{what="tls",result="success"}', m)
            # A good pair again, picked up from the file change alone (no signal).
            third = os.path.join(self.dir, "third")
            os.makedirs(third)
            crt4, key4 = make_server_cert(third, *probe.ca)
            reloads = sum("TLS certificate reloaded" in l for l in probe.logs)
            shutil.copy(key4, probe.key)
            shutil.copy(crt4, probe.cert)
            self.assertTrue(probe.wait_log("TLS certificate reloaded", count=reloads + 1))
            self.assertNotIn(probe.serial(), (first, second))
            # The handler's watched file: its change reloads the handler.
            with open(watched, "w") as f:
                f.write("changed\n")
            self.assertTrue(probe.wait_log('"reason":"file"'))
            # The connection from before every reload still works.
            kept.sendall(b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
            self.assertEqual(parse(kept.recv(65536))[0][0], 200)
            kept.close()
        finally:
            self.assertEqual(probe.stop(), 0)

    def test_start_refuses_broken_material(self):
        ca = make_ca(self.dir)
        crt, key = make_server_cert(self.dir, *ca)
        p = subprocess.run([PROBE, "--tls-cert", crt, "--tls-key", ca[1]], capture_output=True, text=True,
                           timeout=30)
        self.assertEqual(p.returncode, 2)
        self.assertRegex(p.stderr, "does not match the certificate|key values mismatch")
        p = subprocess.run([PROBE, "--tls-cert", crt, "--tls-key", key, "--listen", "127.0.0.1:99999"],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 2)
        self.assertIn("port must be a number from 0 to 65535", p.stderr)

    def test_sigterm_drains_in_flight_request(self):
        probe = Probe(self.dir, "--drain-delay-ms", "1500")
        s = probe.tls()
        s.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nhalf-")  # in flight
        idle = probe.tls()  # keep-alive, no request: closed at the drain
        idle.sendall(b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertEqual(parse(idle.recv(65536))[0][0], 200)
        time.sleep(0.2)
        probe.proc.send_signal(signal.SIGTERM)
        time.sleep(0.2)
        # During the drain delay: /readyz says 503 (load balancers stop
        # sending), requests are still served.
        self.assertEqual(probe.get("/readyz")[0:3:2], (503, b"draining\n"))
        self.assertEqual(probe.get("/hello")[0], 200)
        time.sleep(1.6)  # now draining: listener closed, idle connections closed
        self.assertEqual(read_all(idle), b"")
        with self.assertRaises(OSError):
            socket.create_connection(("127.0.0.1", probe.port), timeout=2)
        s.sendall(b"done!")  # the in-flight request completes
        status, headers, body = parse(read_all(s))[0]
        self.assertEqual((status, body), (200, b"half-done!"))
        self.assertEqual(headers["connection"], "close")
        self.assertEqual(probe.proc.wait(10), 0)
        self.assertTrue(probe.wait_log('"stopped"'))
        for c in (s, idle):
            c.close()

    def test_drain_timeout_bounds_a_stalled_request(self):
        probe = Probe(self.dir, "--drain-timeout-ms", "500", "--body-timeout-ms", "60000")
        s = probe.tls()
        s.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nhalf-")  # never finished
        time.sleep(0.2)
        t0 = time.time()
        probe.proc.send_signal(signal.SIGTERM)
        self.assertEqual(probe.proc.wait(10), 0)
        self.assertLess(time.time() - t0, 3)
        self.assertEqual(read_all(s), b"")  # closed without an answer
        s.close()


if __name__ == "__main__":
    warnings.simplefilter("ignore", ResourceWarning)  # sockets left to the server to close, on purpose
    PROBE = sys.argv.pop(1)
    unittest.main(verbosity=2)

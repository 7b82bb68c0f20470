"""kguard admit's namespace watch (sources/kube/namespace_cache) against a
local stand-in for the API server (plain HTTP on loopback):

- the list is paged and the continue token, opaque base64 with '+', '/' and
  '=' (here also '&'), comes back exactly as given: it is URL-escaped;
- events of the watch that follows the list are applied;
- stop() ends the watch while it is blocked waiting for events, and joins the
  thread: the stand-in sees the watch connection closed while the process is
  still alive, within about a second.

Usage: namespace_watch_test.py PATH/TO/namespace_watch_probe"""

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

PROBE = None
TOKEN = "eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6NDIsInN0YXJ0IjoiYiJ9+/=&x=1"


def namespace(name, labels):
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}


class ApiStandIn(BaseHTTPRequestHandler):
    events = None  # shared list of (time, what)

    def log_message(self, *args):
        pass

    def send_json(self, code, obj):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        url = urlsplit(self.path)
        q = parse_qs(url.query, keep_blank_values=True)
        if url.path != "/api/v1/namespaces":
            return self.send_json(404, {"kind": "Status", "message": "not found"})
        if q.get("watch") == ["1"]:
            self.events.append((time.time(), "watch rv=" + q.get("resourceVersion", [""])[0]))
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            ev = {"type": "ADDED", "object": namespace("from-watch", {"team": "c"})}
            self.wfile.write(json.dumps(ev).encode() + b"\n")
            self.wfile.flush()
            # Then nothing: the watch blocks until the client goes away.
            self.connection.settimeout(0.05)
            while True:
                try:
                    if self.connection.recv(1) == b"":
                        break
                except TimeoutError:
                    continue
                except OSError:
                    break
            self.events.append((time.time(), "watch closed"))
            self.close_connection = True
            return
        cont = q.get("continue")
        if cont is None:
            self.events.append((time.time(), "page 1"))
            return self.send_json(200, {"kind": "NamespaceList", "apiVersion": "v1",
                                        "metadata": {"resourceVersion": "42", "continue": TOKEN},
                                        "items": [namespace("first", {"team": "a"})]})
        if cont != [TOKEN]:
            self.events.append((time.time(), "bad continue %r" % cont))
            return self.send_json(410, {"kind": "Status", "apiVersion": "v1", "status": "Failure",
                                        "reason": "Expired", "code": 410,
                                        "message": "continue token mangled: %r" % cont})
        self.events.append((time.time(), "page 2"))
        self.send_json(200, {"kind": "NamespaceList", "apiVersion": "v1",
                             "metadata": {"resourceVersion": "42"},
                             "items": [namespace("second", {"team": "b", "pod-security.kubernetes.io/enforce": "restricted"})]})


class NamespaceWatch(unittest.TestCase):
    def test_paged_list_watch_and_stop(self):
        ApiStandIn.events = []
        httpd = ThreadingHTTPServer(("127.0.0.1", 0), ApiStandIn)
        httpd.daemon_threads = True
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        work = tempfile.mkdtemp(prefix="kguard-nswatch-")
        kubeconfig = os.path.join(work, "kubeconfig")
        with open(kubeconfig, "w") as f:
            f.write("apiVersion: v1\nkind: Config\ncurrent-context: t\n"
                    "clusters: [{name: c, cluster: {server: 'http://127.0.0.1:%d'}}]\n"
                    "users: [{name: u, user: {token: test-token}}]\n"
                    "contexts: [{name: t, context: {cluster: c, user: u}}]\n" % httpd.server_address[1])
        p = subprocess.Popen([PROBE, kubeconfig, "first", "second", "from-watch"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        try:
            lines = []
            stopped_at = None
            for line in p.stdout:
                lines.append(line.strip())
                if line.startswith("stopped "):
                    stopped_at = time.time()
                    break
            self.assertIsNotNone(stopped_at, (lines, p.stderr.read() if p.poll() is not None else "",
                                              ApiStandIn.events))
            self.assertIn("labels first team=a", lines)
            self.assertIn("labels second pod-security.kubernetes.io/enforce=restricted,team=b", lines)
            self.assertIn("labels from-watch team=c", lines)
            what = [e[1] for e in ApiStandIn.events]
            self.assertEqual(what[:3], ["page 1", "page 2", "watch rv=42"], what)
            # stop() took the blocked watch down and joined the thread quickly...
            self.assertLess(int(lines[-1].split()[1]), 2500, lines)
            # ...and it was stop() that closed the connection, not the exit:
            # the probe is still alive (it sleeps 2 s after stop()).
            end = time.time() + 1.5
            while "watch closed" not in [e[1] for e in ApiStandIn.events] and time.time() < end:
                time.sleep(0.02)
            closed = [e[0] for e in ApiStandIn.events if e[1] == "watch closed"]
            self.assertTrue(closed, ApiStandIn.events)
            self.assertIsNone(p.poll(), "the probe had already exited")
            self.assertEqual(p.stdout.readline().strip(), "exiting")
            self.assertEqual(p.wait(10), 0)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
            p.stdout.close()
            p.stderr.close()
            httpd.shutdown()
            httpd.server_close()


if __name__ == "__main__":
    PROBE = sys.argv.pop(1)
    unittest.main(verbosity=2)

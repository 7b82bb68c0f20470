"""Shared helpers for the webhook tests: certificates made with the openssl
CLI, a running `kguard admit` on a loopback port, and AdmissionReview bodies.
Everything is real: the binary, TLS and HTTP/1.1 over TCP."""

import http.client
import json
import os
import signal
import ssl
import subprocess
import tempfile
import threading
import time


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


def make_ca(directory, name="kguard-test-ca"):
    key = os.path.join(directory, name + ".key")
    crt = os.path.join(directory, name + ".crt")
    run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-nodes", "-keyout", key, "-out", crt, "-days", "2", "-subj", "/CN=" + name])
    return crt, key


def make_server_cert(directory, ca_crt, ca_key, name="server", cn="localhost"):
    """A serving certificate for localhost and 127.0.0.1 signed by the CA."""
    key = os.path.join(directory, name + ".key")
    csr = os.path.join(directory, name + ".csr")
    crt = os.path.join(directory, name + ".crt")
    ext = os.path.join(directory, name + ".ext")
    with open(ext, "w") as f:
        f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n")
    run(["openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
         "-keyout", key, "-out", csr, "-subj", "/CN=" + cn])
    run(["openssl", "x509", "-req", "-in", csr, "-CA", ca_crt, "-CAkey", ca_key,
         "-CAcreateserial", "-out", crt, "-days", "2", "-extfile", ext])
    return crt, key


class Webhook:
    """`kguard admit` on 127.0.0.1 with an any-port listener; stderr (JSON
    logs) is collected by a thread so the pipe never fills."""

    def __init__(self, binary, workdir, config_text=None, extra_args=(), ca=None):
        self.workdir = workdir
        os.makedirs(workdir, exist_ok=True)
        if ca is None:
            ca = make_ca(workdir)
        self.ca_crt, self.ca_key = ca
        self.cert, self.key = make_server_cert(workdir, self.ca_crt, self.ca_key)
        self.config = os.path.join(workdir, "kguard.yaml")
        with open(self.config, "w") as f:
            f.write(config_text or "admission: {}\n")
        self.audit = os.path.join(workdir, "audit.jsonl")
        args = [binary, "admit", "--listen", "127.0.0.1:0", "--tls-cert", self.cert,
                "--tls-key", self.key, "--config", self.config, "--audit-log", self.audit,
                *extra_args]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     text=True)
        self.logs = []
        self._ready = threading.Event()
        self.port = None
        threading.Thread(target=self._read_logs, daemon=True).start()
        if not self._ready.wait(30):
            self.stop()
            raise RuntimeError("kguard admit did not start: " + "".join(self.logs))

    def _read_logs(self):
        for line in self.proc.stderr:
            self.logs.append(line)
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            if rec.get("msg") == "listening":
                self.port = int(rec["address"].rsplit(":", 1)[1])
                self._ready.set()
        self._ready.set()

    def context(self):
        ctx = ssl.create_default_context(cafile=self.ca_crt)
        return ctx

    def connection(self, timeout=10):
        return http.client.HTTPSConnection("127.0.0.1", self.port, context=self.context(),
                                           timeout=timeout)

    def request(self, method, path, body=None, headers=None, conn=None):
        own = conn is None
        conn = conn or self.connection()
        hdrs = {"Content-Type": "application/json"} if body is not None else {}
        hdrs.update(headers or {})
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
        conn.request(method, path, body=body, headers=hdrs)
        resp = conn.getresponse()
        data = resp.read()
        if own:
            conn.close()
        return resp.status, dict(resp.getheaders()), data

    def review(self, review, conn=None, timeout="10s"):
        status, headers, data = self.request("POST", "/validate?timeout=" + timeout, review, conn=conn)
        assert status == 200, (status, data)
        body = json.loads(data)
        assert body["apiVersion"] == "admission.k8s.io/v1" and body["kind"] == "AdmissionReview"
        resp = body["response"]
        assert resp["uid"] == review["request"]["uid"], "uid not echoed"
        return resp

    def metrics(self):
        status, _, data = self.request("GET", "/metrics")
        assert status == 200
        return data.decode()

    def signal(self, sig):
        self.proc.send_signal(sig)

    def wait_log(self, text, timeout=10, count=1):
        end = time.time() + timeout
        while time.time() < end:
            if sum(text in line for line in self.logs) >= count:
                return True
            time.sleep(0.05)
        return False

    def audit_records(self):
        # The audit log is flushed a few times a second.
        time.sleep(0.5)
        with open(self.audit) as f:
            return [json.loads(line) for line in f if line.strip()]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def __del__(self):
        if self.proc.stderr:
            self.proc.stderr.close()


_uid = [0]


def review_for(obj, namespace=None, operation="CREATE", old=None, username="alice",
               sub_resource="", kind=None, group=None, resource=None):
    """An AdmissionReview v1 request the way kube-apiserver sends it."""
    _uid[0] += 1
    api_version = obj.get("apiVersion", "v1") if obj else "v1"
    g, _, v = api_version.rpartition("/")
    kind = kind or obj["kind"]
    group = g if group is None else group
    plural = resource or (kind.lower() + "s" if not kind.endswith("s") else kind.lower())
    meta = (obj or {}).get("metadata", {})
    ns = namespace if namespace is not None else meta.get("namespace", "default")
    return {
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": "uid-%06d-%d" % (_uid[0], os.getpid()),
            "kind": {"group": group, "version": v or "v1", "kind": kind},
            "resource": {"group": group, "version": v or "v1", "resource": plural},
            "subResource": sub_resource,
            "requestKind": {"group": group, "version": v or "v1", "kind": kind},
            "name": meta.get("name", ""),
            "namespace": ns,
            "operation": operation,
            "userInfo": {"username": username, "uid": "1", "groups": ["system:authenticated"]},
            "object": obj,
            "oldObject": old,
            "dryRun": False,
            "options": {"apiVersion": "meta.k8s.io/v1", "kind": "CreateOptions"},
        },
    }


def restricted_pod(name="good", namespace="default", image="registry.example.com/app:1.0"):
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [{
                "name": "app", "image": image,
                "securityContext": {"allowPrivilegeEscalation": False,
                                    "capabilities": {"drop": ["ALL"]}},
            }],
        },
    }


def baseline_only_pod(name="baseline-ok", namespace="default"):
    """Passes baseline, fails restricted (no runAsNonRoot, seccomp, drop ALL...)."""
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"containers": [{"name": "app", "image": "registry.example.com/app:1.0"}]},
    }


def privileged_pod(name="bad", namespace="default"):
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"hostNetwork": True,
                 "containers": [{"name": "app", "image": "registry.example.com/app:1.0",
                                 "securityContext": {"privileged": True}}]},
    }


def deployment_of(pod, name="web"):
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": pod["metadata"]["namespace"]},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}},
                 "template": {"metadata": {"labels": {"app": name}}, "spec": pod["spec"]}},
    }


def tempdir(prefix):
    return tempfile.mkdtemp(prefix=prefix)

"""What the signing tests share: a loopback Debian docker-registry with TLS (a CA made here) and
htpasswd basic auth, plus one on plain HTTP; docker config.json credentials; pushing small
distinct images through the distribution API; a SoftHSM2 token with an ECDSA P-256 key made with
pkcs11-tool; running kguard and cosign.

The Debian docker-registry (distribution 2.8) has no OCI referrers API, so bundles attached there go
through the referrers tag schema fallback (sha256-<hex> index tag) on both tools.
"""
import base64
import hashlib
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

USER, PASSWORD = "signer", "s1gn-pass"
SOFTHSM_MODULE = next((p for p in ("/usr/lib/softhsm/libsofthsm2.so",
                                   "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so") if os.path.exists(p)), None)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sh(*cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


class Registry:
    """Three registries over one storage: TLS + htpasswd (self.host), plain HTTP (self.plain_host), and
    TLS + Bearer tokens from tests/images/token_server.py (self.bearer_host)."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="kguard-sign-")
        d = self.dir
        sh("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=kguard sign CA",
           "-keyout", f"{d}/ca.key", "-out", f"{d}/ca.crt")
        with open(f"{d}/san.ext", "w") as f:
            f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
        sh("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
           "-keyout", f"{d}/server.key", "-out", f"{d}/server.csr")
        sh("openssl", "x509", "-req", "-in", f"{d}/server.csr", "-CA", f"{d}/ca.crt", "-CAkey", f"{d}/ca.key",
           "-CAcreateserial", "-days", "2", "-extfile", f"{d}/san.ext", "-out", f"{d}/server.crt")
        with open(f"{d}/htpasswd", "w") as f:
            f.write(sh("htpasswd", "-Bbn", USER, PASSWORD).stdout)
        self.port, self.plain_port, self.bearer_port, self.token_port = free_port(), free_port(), free_port(), free_port()
        # The token flow: tests/images/token_server.py signs JWTs with this certificate's key.
        sh("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=kguard token signer",
           "-keyout", f"{d}/token.key", "-out", f"{d}/token.crt")
        storage = f"storage: {{filesystem: {{rootdirectory: {d}/data}}, delete: {{enabled: true}}}}"
        with open(f"{d}/tls.yml", "w") as f:
            f.write(f"""version: 0.1
log: {{level: warn}}
{storage}
http: {{addr: "127.0.0.1:{self.port}", tls: {{certificate: {d}/server.crt, key: {d}/server.key}}}}
auth: {{htpasswd: {{realm: kguard-sign, path: {d}/htpasswd}}}}
""")
        with open(f"{d}/plain.yml", "w") as f:
            f.write(f"""version: 0.1
log: {{level: warn}}
{storage}
http: {{addr: "127.0.0.1:{self.plain_port}"}}
""")
        with open(f"{d}/bearer.yml", "w") as f:
            f.write(f"""version: 0.1
log: {{level: warn}}
{storage}
http: {{addr: "127.0.0.1:{self.bearer_port}", tls: {{certificate: {d}/server.crt, key: {d}/server.key}}}}
auth:
  token: {{realm: "https://127.0.0.1:{self.token_port}/token", service: kguard-sign,
          issuer: kguard-sign-issuer, rootcertbundle: {d}/token.crt}}
""")
        self.procs = []
        with open(f"{d}/token.log", "w") as log:
            self.procs.append(subprocess.Popen(
                [sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "images", "token_server.py"),
                 str(self.token_port), f"{d}/server.crt", f"{d}/server.key", f"{d}/token.crt", f"{d}/token.key",
                 "kguard-sign-issuer", USER, PASSWORD], stdout=log, stderr=log, stdin=subprocess.DEVNULL,
                start_new_session=True))
        for name in ("tls", "plain", "bearer"):
            with open(f"{d}/{name}.log", "w") as log:
                self.procs.append(subprocess.Popen(["docker-registry", "serve", f"{d}/{name}.yml"], stdout=log,
                                                   stderr=log, stdin=subprocess.DEVNULL, start_new_session=True))
        self.host = f"127.0.0.1:{self.port}"
        self.plain_host = f"127.0.0.1:{self.plain_port}"
        self.bearer_host = f"127.0.0.1:{self.bearer_port}"
        self.ca = f"{d}/ca.crt"
        self.ctx = ssl.create_default_context(cafile=self.ca)
        os.makedirs(f"{d}/docker", exist_ok=True)
        with open(f"{d}/docker/config.json", "w") as f:
            cred = {"auth": base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()}
            json.dump({"auths": {self.host: cred, self.bearer_host: cred}}, f)
        self.docker_config = f"{d}/docker"
        for url, ctx in ((f"https://{self.host}/v2/", self.ctx), (f"http://{self.plain_host}/v2/", None),
                         (f"https://{self.bearer_host}/v2/", self.ctx),
                         (f"https://127.0.0.1:{self.token_port}/token", self.ctx)):
            for _ in range(100):
                try:
                    urllib.request.urlopen(url, context=ctx, timeout=2)
                    break
                except urllib.error.HTTPError:
                    break
                except OSError:
                    time.sleep(0.1)
            else:
                self.stop()
                sys.exit("docker-registry did not start: " + open(f"{d}/tls.log").read())

    def stop(self):
        for p in self.procs:
            try:
                os.killpg(p.pid, signal.SIGTERM)
                p.wait(timeout=10)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                os.killpg(p.pid, signal.SIGKILL)
        shutil.rmtree(self.dir, ignore_errors=True)

    # ---- the distribution API, for the tests' own pushes and reads ----
    def request(self, method, path, body=None, headers=None, plain=False):
        url = (f"http://{self.plain_host}" if plain else f"https://{self.host}") + path
        h = dict(headers or {})
        if not plain:
            h["Authorization"] = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        req = urllib.request.Request(url, data=body, method=method, headers=h)
        try:
            with urllib.request.urlopen(req, context=None if plain else self.ctx, timeout=30) as r:
                return r.status, r.read(), dict(r.headers)
        except urllib.error.HTTPError as e:
            return e.code, e.read(), dict(e.headers)

    def push_blob(self, repo, data, plain=False):
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        status, _, headers = self.request("POST", f"/v2/{repo}/blobs/uploads/", body=b"", plain=plain)
        assert status == 202, (status, headers)
        loc = headers["Location"]
        loc = loc[loc.index("/v2/"):] if "://" in loc else loc
        status, body, _ = self.request("PUT", loc + ("&" if "?" in loc else "?") + "digest=" + digest, body=data,
                                       headers={"Content-Type": "application/octet-stream"}, plain=plain)
        assert status == 201, (status, body)
        return digest

    def push_manifest(self, repo, ref, manifest, media_type="application/vnd.oci.image.manifest.v1+json", plain=False):
        body = manifest if isinstance(manifest, bytes) else json.dumps(manifest).encode()
        status, resp, _ = self.request("PUT", f"/v2/{repo}/manifests/{ref}", body=body,
                                       headers={"Content-Type": media_type}, plain=plain)
        assert status == 201, (status, resp)
        return "sha256:" + hashlib.sha256(body).hexdigest()

    def push_image(self, repo, tag, seed, plain=False):
        """A small image with one layer whose bytes depend on `seed` (distinct digests); its digest."""
        layer = f"layer {seed}\n".encode() * 8
        config = json.dumps({"architecture": "amd64", "os": "linux",
                             "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(layer).hexdigest()]},
                             "config": {}}).encode()
        manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                               "digest": self.push_blob(repo, config, plain), "size": len(config)},
                    "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                                "digest": self.push_blob(repo, layer, plain), "size": len(layer)}]}
        return self.push_manifest(repo, tag, manifest, plain=plain)

    def get_manifest(self, repo, ref):
        status, body, headers = self.request(
            "GET", f"/v2/{repo}/manifests/{ref}",
            headers={"Accept": "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json"})
        return (json.loads(body), body) if status == 200 else (None, None)

    def get_blob(self, repo, digest):
        status, body, _ = self.request("GET", f"/v2/{repo}/blobs/{digest}")
        assert status == 200, status
        return body

    def delete_manifest(self, repo, digest):
        status, _, _ = self.request("DELETE", f"/v2/{repo}/manifests/{digest}")
        assert status == 202, status

    def env(self):
        """Environment for both tools: credentials and the test CA (Go reads SSL_CERT_FILE)."""
        e = dict(os.environ)
        e["DOCKER_CONFIG"] = self.docker_config
        e["SSL_CERT_FILE"] = self.ca
        return e


class SoftHsm:
    """A SoftHSM2 token `kguard` (PIN 1234) with an ECDSA P-256 key pair labelled `signer`, id 01."""
    PIN = "1234"

    def __init__(self, label="kguard"):
        if not SOFTHSM_MODULE:
            raise unittest_skip("SoftHSM2 is not installed (Debian softhsm2)")
        self.dir = tempfile.mkdtemp(prefix="kguard-hsm-")
        os.makedirs(f"{self.dir}/tokens")
        self.conf = f"{self.dir}/softhsm2.conf"
        with open(self.conf, "w") as f:
            f.write(f"directories.tokendir = {self.dir}/tokens\nobjectstore.backend = file\nlog.level = ERROR\n")
        self.label = label
        env = self.env()
        sh("softhsm2-util", "--init-token", "--free", "--label", label, "--so-pin", "5678", "--pin", self.PIN, env=env)
        sh("pkcs11-tool", "--module", SOFTHSM_MODULE, "--token-label", label, "--login", "--pin", self.PIN,
           "--keypairgen", "--key-type", "EC:prime256v1", "--label", "signer", "--id", "01", env=env)

    def uri(self, pin=True, obj="signer"):
        u = f"pkcs11:token={self.label};object={obj}?module-path={SOFTHSM_MODULE}"
        return u + (f"&pin-value={self.PIN}" if pin else "")

    def env(self, base=None):
        e = dict(base or os.environ)
        e["SOFTHSM2_CONF"] = self.conf
        return e

    def public_pem(self):
        """The token's public key as PEM, read by pkcs11-tool (not by kguard)."""
        der = f"{self.dir}/pub.der"
        sh("pkcs11-tool", "--module", SOFTHSM_MODULE, "--token-label", self.label, "--read-object", "--type", "pubkey",
           "--label", "signer", "-o", der, env=self.env())
        return sh("openssl", "pkey", "-pubin", "-inform", "DER", "-in", der).stdout

    def stop(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def unittest_skip(why):
    import unittest
    return unittest.SkipTest(why)


def run(binary, *argv, env=None, timeout=180, stdin=None):
    p = subprocess.run([binary, *argv], capture_output=True, text=True, env=env, timeout=timeout, input=stdin)
    return p.returncode, p.stdout, p.stderr

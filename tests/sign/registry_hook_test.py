"""kguard registry-hook end to end, real binaries: a Debian docker-registry on loopback (TLS +
htpasswd) whose `notifications:` endpoint is the hook over HTTPS. The registry's Go notification
client has no CA option in its endpoint config, so it trusts the hook's certificate through
SSL_CERT_FILE (the test CA, which signs both servers). skopeo pushes the Alpine image (clean: no
record names its packages) and the Debian 12 test image (openssl and gzip affected, tests/integration/
vuln_feed.py); the hook must sign the first and log a rejection for the second, and
`kguard verify --key` must pass on one and fail on the other.
Usage: registry_hook_test.py KGUARD BUILD_IMAGES_SH BUILD_APP_IMAGES_SH CORPORA"""
import json
import os
import signal
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import sign_support  # noqa: E402
import vuln_feed  # noqa: E402

KGUARD, BUILD_IMAGES, BUILD_APPS, CORPORA = sys.argv[1:5]
del sys.argv[1:5]


class RegistryHookTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.reg = sign_support.Registry()
        d = cls.reg.dir
        cls.procs, cls.files = [], []
        # The hook's certificate, from the same CA.
        sign_support.sh("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
                        "-keyout", f"{d}/hook.key", "-out", f"{d}/hook.csr")
        sign_support.sh("openssl", "x509", "-req", "-in", f"{d}/hook.csr", "-CA", f"{d}/ca.crt", "-CAkey", f"{d}/ca.key",
                        "-CAcreateserial", "-days", "2", "-extfile", f"{d}/san.ext", "-out", f"{d}/hook.crt")
        env = dict(os.environ, COSIGN_PASSWORD="hook-test")
        key_ref, env = cls.make_key(d, env)
        cls.db = vuln_feed.build_db(KGUARD, d)
        with open(f"{d}/policy.yaml", "w") as f:
            f.write("failOn: high\nignoreUnfixed: false\n")
        cls.hook_port = sign_support.free_port()
        cls.hook_log = cls.opened(f"{d}/hook.out")
        cls.procs.append(subprocess.Popen(
            [KGUARD, "registry-hook", "--listen", f"127.0.0.1:{cls.hook_port}", "--tls-cert", f"{d}/hook.crt",
             "--tls-key", f"{d}/hook.key", "--key", key_ref, "--config", f"{d}/policy.yaml",
             "--vuln-db", cls.db, "--registry-ca", cls.reg.ca, "--docker-config", f"{d}/docker/config.json"],
            stdout=cls.hook_log, stderr=cls.opened(f"{d}/hook.err"), env=env, start_new_session=True))
        # A fourth registry over the same storage, with the notification endpoint.
        cls.port = sign_support.free_port()
        with open(f"{d}/hook-reg.yml", "w") as f:
            f.write(f"""version: 0.1
log: {{level: warn}}
storage: {{filesystem: {{rootdirectory: {d}/data}}}}
http: {{addr: "127.0.0.1:{cls.port}", tls: {{certificate: {d}/server.crt, key: {d}/server.key}}}}
auth: {{htpasswd: {{realm: kguard-sign, path: {d}/htpasswd}}}}
notifications:
  endpoints:
    - name: kguard
      url: https://127.0.0.1:{cls.hook_port}/events
      timeout: 5s
      threshold: 3
      backoff: 1s
""")
        cls.procs.append(subprocess.Popen(["docker-registry", "serve", f"{d}/hook-reg.yml"],
                                          stdout=cls.opened(f"{d}/hook-reg.log"), stderr=subprocess.STDOUT,
                                          env=dict(os.environ, SSL_CERT_FILE=cls.reg.ca), start_new_session=True))
        cls.host = f"127.0.0.1:{cls.port}"
        with open(f"{d}/docker/config.json") as f:
            cfg = json.load(f)
        cfg["auths"][cls.host] = cfg["auths"][cls.reg.host]
        with open(f"{d}/docker/config.json", "w") as f:
            json.dump(cfg, f)
        time.sleep(1.5)

    @classmethod
    def make_key(cls, d, env):
        """An encrypted cosign key pair: the hook signs with cosign.key, the checks verify with cosign.pub."""
        rc, _, err = sign_support.run(KGUARD, "keygen", "--output-key-prefix", f"{d}/cosign", env=env)
        assert rc == 0, err
        return f"{d}/cosign.key", env

    @classmethod
    def opened(cls, path):
        f = open(path, "w")
        cls.files.append(f)
        return f

    @classmethod
    def tearDownClass(cls):
        for f in cls.files:
            f.close()
        if getattr(cls, "hsm", None):
            cls.hsm.stop()
        for p in cls.procs:
            try:
                os.killpg(p.pid, signal.SIGTERM)
                p.wait(timeout=20)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                os.killpg(p.pid, signal.SIGKILL)
        cls.reg.stop()

    def push(self, src, ref):
        subprocess.run(["skopeo", "copy", "--quiet", "--dest-cert-dir", os.path.dirname(self.reg.ca) + "/skopeo-certs",
                        "--dest-creds", f"{sign_support.USER}:{sign_support.PASSWORD}", src, f"docker://{ref}"],
                       check=True)
        raw = subprocess.run(["skopeo", "inspect", "--format", "{{.Digest}}", "--cert-dir",
                              os.path.dirname(self.reg.ca) + "/skopeo-certs", "--creds",
                              f"{sign_support.USER}:{sign_support.PASSWORD}", f"docker://{ref}"],
                             check=True, capture_output=True, text=True).stdout.strip()
        return raw

    def decisions(self, want, timeout=240):
        end = time.time() + timeout
        while time.time() < end:
            with open(f"{self.reg.dir}/hook.out") as f:
                lines = [json.loads(line) for line in f if line.startswith("{")]
            got = {x["digest"]: x for x in lines}
            if all(w in got for w in want):
                return got
            time.sleep(0.5)
        self.fail("no decision for " + ", ".join(want) + "; hook stderr: " + open(f"{self.reg.dir}/hook.err").read()
                  + "\nregistry log: " + open(f"{self.reg.dir}/hook-reg.log").read()[-3000:])

    def post(self, body):
        import ssl
        import urllib.error
        import urllib.request
        req = urllib.request.Request(f"https://127.0.0.1:{self.hook_port}/events", data=body, method="POST",
                                     headers={"Content-Type": "application/vnd.docker.distribution.events.v1+json"})
        try:
            with urllib.request.urlopen(req, context=ssl.create_default_context(cafile=self.reg.ca), timeout=10) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def test_envelopes(self):
        self.assertEqual(self.post(b"{not json")[0], 400)
        self.assertEqual(self.post(b'{"events": 3}')[0], 400)
        digest = "sha256:" + "ab" * 32
        events = {"events": [
            {"action": "push", "target": {"mediaType": "application/octet-stream", "digest": digest,
                                          "repository": "x/blob"}, "request": {"host": self.host}},
            {"action": "pull", "target": {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": digest,
                                          "repository": "x/pulled"}, "request": {"host": self.host}},
            {"action": "push", "target": {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": digest,
                                          "repository": "x/sig", "tag": "sha256-" + "cd" * 32 + ".sig"},
             "request": {"host": self.host}}]}
        self.assertEqual(self.post(json.dumps(events).encode()), (200, "queued 0\n"))

    def test_clean_signed_vulnerable_not(self):
        certs = os.path.dirname(self.reg.ca) + "/skopeo-certs"
        os.makedirs(certs, exist_ok=True)
        subprocess.run(["cp", self.reg.ca, f"{certs}/ca.crt"], check=True)
        debian = subprocess.run([BUILD_IMAGES], check=True, capture_output=True, text=True).stdout.strip()
        apps = subprocess.run([BUILD_APPS, CORPORA], check=True, capture_output=True, text=True).stdout.strip()
        clean = f"{self.host}/example/clean:1"
        vulnerable = f"{self.host}/example/vulnerable:1"
        clean_digest = self.push(f"oci:{apps}/oci:alpine", clean)
        vuln_digest = self.push(f"oci:{debian}/oci:test", vulnerable)
        got = self.decisions([clean_digest, vuln_digest])
        for x in got.values():
            sys.stderr.write(json.dumps(x) + "\n")
        self.assertEqual(got[clean_digest]["verdict"], "signed", got[clean_digest])
        self.assertEqual(got[vuln_digest]["verdict"], "rejected", got[vuln_digest])
        self.assertGreaterEqual(got[vuln_digest]["counts"]["critical"], 1)
        self.assertIn(vuln_feed.OPENSSL, got[vuln_digest]["reason"])
        for k in ("key", "scanMs", "counts"):
            self.assertIn(k, got[clean_digest])
        env = self.reg.env()
        rc, out, err = sign_support.run(KGUARD, "verify", "--key", f"{self.reg.dir}/cosign.pub", "--registry-ca",
                                        self.reg.ca, "--docker-config", f"{self.reg.dir}/docker/config.json", clean, env=env)
        self.assertEqual(rc, 0, out + err)
        rc, out, err = sign_support.run(KGUARD, "verify", "--key", f"{self.reg.dir}/cosign.pub", "--registry-ca",
                                        self.reg.ca, "--docker-config", f"{self.reg.dir}/docker/config.json", vulnerable, env=env)
        self.assertEqual(rc, 1, out + err)
        # The same digest pushed again under another tag is not judged again (dedupe by digest), and the
        # hook's own signature push came back as an event and was ignored: one decision per image.
        self.assertEqual(self.push(f"oci:{apps}/oci:alpine", f"{self.host}/example/clean:again"), clean_digest)
        time.sleep(2)
        with open(f"{self.reg.dir}/hook.out") as f:
            lines = [json.loads(line) for line in f if line.startswith("{")]
        self.assertEqual(sorted(x["digest"] for x in lines), sorted([clean_digest, vuln_digest]), lines)


class RegistryHookPkcs11Test(RegistryHookTest):
    """The same, the hook signing with a SoftHSM token's key through a PKCS#11 URI (pin-value in it)."""

    @classmethod
    def make_key(cls, d, env):
        cls.hsm = sign_support.SoftHsm()
        with open(f"{d}/cosign.pub", "w") as f:
            f.write(cls.hsm.public_pem())
        return cls.hsm.uri(pin=True), cls.hsm.env(env)


if __name__ == "__main__":
    unittest.main()

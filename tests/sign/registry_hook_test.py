"""kguard registry-hook end to end, real binaries: a Debian docker-registry on loopback (TLS +
htpasswd) whose `notifications:` endpoint is the hook over HTTPS. The registry's Go notification
client has no CA option in its endpoint config, so it trusts the hook's certificate through
SSL_CERT_FILE (the test CA, which signs both servers). skopeo pushes the Alpine image (clean: no
record names its packages) and the Debian 12 test image (openssl and gzip affected, tests/integration/
vuln_feed.py); the hook must sign the first and attach its SBOM and scan attestations, log a
rejection for the second, and `kguard verify --key` / `verify-attestation` must pass on one and fail
on the other. Multi-platform indexes (made here from the same layouts, pushed with skopeo --all) are
signed per platform and as an index only when every platform passes. The hook's state directory
journals each accepted push before the registry is answered: a hook killed with pushes queued
replays them after a restart, and what its signing record holds as decided is never redone.
Usage: registry_hook_test.py KGUARD BUILD_IMAGES_SH BUILD_APP_IMAGES_SH CORPORA"""
import hashlib
import json
import os
import shutil
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
        cls.hook_argv = [KGUARD, "registry-hook", "--listen", f"127.0.0.1:{cls.hook_port}", "--tls-cert", f"{d}/hook.crt",
                         "--tls-key", f"{d}/hook.key", "--key", key_ref, "--config", f"{d}/policy.yaml",
                         "--vuln-db", cls.db, "--registry-ca", cls.reg.ca, "--docker-config", f"{d}/docker/config.json",
                         "--state-dir", f"{d}/hook-state"]
        cls.hook_env = env
        cls.hook = None
        cls.start_hook()
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
    def start_hook(cls):
        d = cls.reg.dir
        cls.hook = subprocess.Popen(cls.hook_argv, stdout=cls.opened(f"{d}/hook.out", "a"),
                                    stderr=cls.opened(f"{d}/hook.err", "a"), env=cls.hook_env, start_new_session=True)
        cls.procs.append(cls.hook)
        for _ in range(100):
            try:
                import ssl
                import urllib.request
                urllib.request.urlopen(f"https://127.0.0.1:{cls.hook_port}/healthz",
                                       context=ssl.create_default_context(cafile=cls.reg.ca), timeout=2)
                return
            except OSError:
                time.sleep(0.1)

    @classmethod
    def make_key(cls, d, env):
        """An encrypted cosign key pair: the hook signs with cosign.key, the checks verify with cosign.pub."""
        rc, _, err = sign_support.run(KGUARD, "keygen", "--output-key-prefix", f"{d}/cosign", env=env)
        assert rc == 0, err
        return f"{d}/cosign.key", env

    @classmethod
    def opened(cls, path, mode="w"):
        f = open(path, mode)
        cls.files.append(f)
        return f

    @classmethod
    def tearDownClass(cls):
        for f in cls.files:
            f.close()
        if getattr(cls, "hsm", None):
            cls.hsm.stop()
        for p in cls.procs:
            if p.poll() is not None:
                continue  # the hook killed by the restart test
            try:
                os.killpg(p.pid, signal.SIGTERM)
                p.wait(timeout=20)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
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
        self.certs()
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
        # The signing record: which key signed what (and attached which attestations), when, after which scan.
        rec = got[clean_digest]
        self.assertEqual((rec["repository"], rec["tag"], rec["kind"]), (f"{self.host}/example/clean", "1", "image"))
        self.assertTrue(rec["key"].startswith("sha256:") and rec["keyRef"] and rec["time"] and rec["accepted"], rec)
        self.assertEqual(rec["scan"]["manifests"][0]["digest"], clean_digest)
        self.assertEqual(rec["scan"]["db"], self.db)
        self.assertEqual([a["predicateType"] for a in rec["signed"][0]["attestations"]],
                         ["https://cyclonedx.org/bom", "https://cosign.sigstore.dev/attestation/vuln/v1"])
        self.assertEqual(got[vuln_digest]["signed"], [])
        with open(f"{self.reg.dir}/hook-state/records.jsonl") as f:
            self.assertIn(clean_digest, [json.loads(x)["digest"] for x in f])
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
        # The attestations verify with the same public key, and the scan passes a content policy.
        for extra in (["--type", "vuln", "--max-severity", "high", "--max-age", "1d"], ["--type", "cyclonedx"]):
            rc, out, err = sign_support.run(KGUARD, "verify-attestation", "--key", f"{self.reg.dir}/cosign.pub", *extra,
                                            "--registry-ca", self.reg.ca, "--docker-config",
                                            f"{self.reg.dir}/docker/config.json", clean, env=env)
            self.assertEqual(rc, 0, out + err)
        rc, out, err = sign_support.run(KGUARD, "verify-attestation", "--key", f"{self.reg.dir}/cosign.pub", "--type",
                                        "vuln", "--registry-ca", self.reg.ca, "--docker-config",
                                        f"{self.reg.dir}/docker/config.json", vulnerable, env=env)
        self.assertEqual(rc, 1, out + err)
        # The same digest pushed again under another tag is not judged again (dedupe by digest), and the
        # hook's own signature push came back as an event and was ignored: one decision per image.
        self.assertEqual(self.push(f"oci:{apps}/oci:alpine", f"{self.host}/example/clean:again"), clean_digest)
        time.sleep(2)
        with open(f"{self.reg.dir}/hook.out") as f:
            lines = [json.loads(line) for line in f if line.startswith("{")]
        mine = [x["digest"] for x in lines if x["image"].startswith(f"{self.host}/example/")]
        self.assertEqual(sorted(mine), sorted([clean_digest, vuln_digest]), lines)

    def verify(self, ref):
        rc, out, err = sign_support.run(KGUARD, "verify", "--key", f"{self.reg.dir}/cosign.pub", "--registry-ca",
                                        self.reg.ca, "--docker-config", f"{self.reg.dir}/docker/config.json", ref,
                                        env=self.reg.env())
        self.assertIn(rc, (0, 1), out + err)
        return rc == 0

    def test_multi_platform_index(self):
        self.certs()
        debian = subprocess.run([BUILD_IMAGES], check=True, capture_output=True, text=True).stdout.strip()
        apps = subprocess.run([BUILD_APPS, CORPORA], check=True, capture_output=True, text=True).stdout.strip()
        work = f"{self.reg.dir}/layouts"
        clean = make_index_layout(f"{work}/clean", [(f"{apps}/oci", "alpine", "amd64"),
                                                    (f"{apps}/oci", "alpine", "arm64")])
        mixed = make_index_layout(f"{work}/mixed", [(f"{apps}/oci", "alpine", "amd64"),
                                                    (f"{debian}/oci", "test", "arm64")])
        clean_index = self.push_all(clean, f"{self.host}/multi/clean:1")
        mixed_index = self.push_all(mixed, f"{self.host}/multi/mixed:1")
        got = self.decisions([clean_index, mixed_index])
        ok, bad = got[clean_index], got[mixed_index]
        sys.stderr.write(json.dumps(ok) + "\n" + json.dumps(bad) + "\n")
        self.assertEqual((ok["verdict"], ok["kind"]), ("signed", "index"), ok)
        platforms = [m["platform"] for m in ok["scan"]["manifests"]]
        self.assertEqual(platforms, ["linux/amd64", "linux/arm64"])
        # Each platform manifest, then the index (cosign sign --recursive's set), each attested.
        self.assertEqual([x["image"].split("@")[1] for x in ok["signed"]],
                         [m["digest"] for m in ok["scan"]["manifests"]] + [clean_index])
        self.assertTrue(self.verify(f"{self.host}/multi/clean:1"))
        for m in ok["scan"]["manifests"]:
            self.assertTrue(self.verify(f"{self.host}/multi/clean@{m['digest']}"))
        rc, out, err = sign_support.run(KGUARD, "verify-attestation", "--key", f"{self.reg.dir}/cosign.pub", "--type",
                                        "vuln", "--max-severity", "high", "--registry-ca", self.reg.ca, "--docker-config",
                                        f"{self.reg.dir}/docker/config.json", f"{self.host}/multi/clean:1",
                                        env=self.reg.env())
        self.assertEqual(rc, 0, out + err)
        # One vulnerable platform: nothing is signed, not even the platform that passed.
        self.assertEqual(bad["verdict"], "rejected", bad)
        self.assertIn("linux/arm64: " + vuln_feed.OPENSSL, bad["reason"])
        self.assertEqual(bad["signed"], [])
        self.assertFalse(self.verify(f"{self.host}/multi/mixed:1"))
        for m in bad["scan"]["manifests"]:
            self.assertFalse(self.verify(f"{self.host}/multi/mixed@{m['digest']}"))
        # The platform manifests pushed untagged before their index made no decision of their own.
        with open(f"{self.reg.dir}/hook.out") as f:
            mine = [json.loads(x) for x in f if x.startswith("{") and "/multi/" in x]
        self.assertEqual(sorted(x["digest"] for x in mine), sorted([clean_index, mixed_index]))

    def test_restart_replays_the_journal(self):
        """Pushes accepted but not decided when the hook dies are decided after its restart, once."""
        self.certs()
        debian = subprocess.run([BUILD_IMAGES], check=True, capture_output=True, text=True).stdout.strip()
        apps = subprocess.run([BUILD_APPS, CORPORA], check=True, capture_output=True, text=True).stdout.strip()
        # Pushed through the registry without notifications (same storage): the events are posted here.
        jobs = [(f"oci:{debian}/oci:test", "replay/a"), (f"oci:{apps}/oci:alpine", "replay/b"),
                (f"oci:{debian}/oci:test", "replay/c")]
        events = []
        for src, repo in jobs:
            digest = self.push(src, f"{self.reg.host}/{repo}:1")
            events.append({"action": "push", "target": {"mediaType": "application/vnd.oci.image.manifest.v1+json",
                                                        "digest": digest, "repository": repo, "tag": "1"},
                           "request": {"host": self.host}})
        self.assertEqual(self.post(json.dumps({"events": events}).encode()), (200, "queued 3\n"))
        # Journaled before the answer: the queue file holds all three now.
        with open(f"{self.reg.dir}/hook-state/queue.jsonl") as f:
            queued = [json.loads(x)["repository"] for x in f]
        self.assertEqual(queued[-3:], [r for _, r in jobs])
        os.killpg(self.hook.pid, signal.SIGKILL)
        self.hook.wait()
        images = [f"{self.host}/{e['target']['repository']}@{e['target']['digest']}" for e in events]
        before = [x for x in self.records() if x["image"] in images]
        self.assertLess(len(before), 3, "all three were decided before the kill: the test proves nothing")
        # A crash mid-write leaves torn last lines: the queue's is dropped, the record's is ended.
        for name in ("queue.jsonl", "records.jsonl"):
            with open(f"{self.reg.dir}/hook-state/{name}", "a") as f:
                f.write('{"host": "127.0.0.1:1", "repos')
        self.start_hook()
        end = time.time() + 300
        while time.time() < end and len({x["image"] for x in self.records() if x["image"] in images}) < 3:
            time.sleep(0.5)
        after = [x for x in self.records() if x["image"] in images]
        self.assertEqual(sorted(x["image"] for x in after), sorted(images), after)  # each decided exactly once
        self.assertEqual([x["verdict"] for x in sorted(after, key=lambda x: x["image"])],
                         ["rejected", "signed", "rejected"])
        with open(f"{self.reg.dir}/hook.err") as f:
            self.assertIn("replayed", f.read())
        # After the restart the record still says what was decided: a re-posted push is not redone.
        self.assertEqual(self.post(json.dumps({"events": events}).encode()), (200, "queued 0\n"))

    def records(self):
        out = []
        with open(f"{self.reg.dir}/hook-state/records.jsonl") as f:
            for x in f:
                try:
                    out.append(json.loads(x))
                except ValueError:
                    self.assertTrue(x.startswith('{"host": "127.0.0.1:1", "repos'), x)  # only the torn line
        return out

    def certs(self):
        certs = os.path.dirname(self.reg.ca) + "/skopeo-certs"
        os.makedirs(certs, exist_ok=True)
        shutil.copy(self.reg.ca, f"{certs}/ca.crt")

    def push_all(self, layout, ref):
        """skopeo copy --all of the layout's index; the index digest the registry holds."""
        certs = os.path.dirname(self.reg.ca) + "/skopeo-certs"
        creds = f"{sign_support.USER}:{sign_support.PASSWORD}"
        subprocess.run(["skopeo", "copy", "--all", "--quiet", "--dest-cert-dir", certs, "--dest-creds", creds,
                        f"oci:{layout}:multi", f"docker://{ref}"], check=True)
        raw = subprocess.run(["skopeo", "inspect", "--raw", "--cert-dir", certs, "--creds", creds, f"docker://{ref}"],
                             check=True, capture_output=True).stdout
        return "sha256:" + hashlib.sha256(raw).hexdigest()


def make_index_layout(dest, entries):
    """An OCI layout whose tag `multi` is an image index of (layout, tag, architecture) entries: each
    image's config rewritten to that architecture (so two entries of one image are two digests)."""
    shutil.rmtree(dest, ignore_errors=True)
    os.makedirs(f"{dest}/blobs/sha256")

    def blob(data):
        digest = hashlib.sha256(data).hexdigest()
        with open(f"{dest}/blobs/sha256/{digest}", "wb") as f:
            f.write(data)
        return "sha256:" + digest

    def read(layout, digest):
        with open(f"{layout}/blobs/sha256/{digest.split(':')[1]}", "rb") as f:
            return f.read()
    manifests = []
    for layout, tag, arch in entries:
        with open(f"{layout}/index.json") as f:
            desc = next(m for m in json.load(f)["manifests"]
                        if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag)
        manifest = json.loads(read(layout, desc["digest"]))
        config = json.loads(read(layout, manifest["config"]["digest"]))
        config["architecture"] = arch
        cbytes = json.dumps(config).encode()
        manifest["config"]["digest"], manifest["config"]["size"] = blob(cbytes), len(cbytes)
        for layer in manifest["layers"]:
            src = f"{layout}/blobs/sha256/{layer['digest'].split(':')[1]}"
            dst = f"{dest}/blobs/sha256/{layer['digest'].split(':')[1]}"
            if not os.path.exists(dst):
                try:
                    os.link(src, dst)
                except OSError:
                    shutil.copy(src, dst)
        mbytes = json.dumps(manifest).encode()
        manifests.append({"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": blob(mbytes),
                          "size": len(mbytes), "platform": {"os": "linux", "architecture": arch}})
    index = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                        "manifests": manifests}).encode()
    with open(f"{dest}/oci-layout", "w") as f:
        f.write('{"imageLayoutVersion":"1.0.0"}')
    with open(f"{dest}/index.json", "w") as f:
        json.dump({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.index.v1+json",
                                                      "digest": blob(index), "size": len(index),
                                                      "annotations": {"org.opencontainers.image.ref.name": "multi"}}]},
                  f)
    return dest


class RegistryHookPkcs11Test(RegistryHookTest):
    """The same, the hook signing with a SoftHSM token's key through a PKCS#11 URI (pin-value in it)."""

    @classmethod
    def make_key(cls, d, env):
        cls.hsm = sign_support.SoftHsm()
        with open(f"{d}/cosign.pub", "w") as f:
            f.write(cls.hsm.public_pem())
        return cls.hsm.uri(pin=True), cls.hsm.env(env)

    # The index and the journal do not depend on the key's kind: once, with the key file.
    test_multi_platform_index = None
    test_restart_replays_the_journal = None


if __name__ == "__main__":
    unittest.main()

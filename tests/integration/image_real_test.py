#!/usr/bin/env python3
"""`kguard image` on a real Debian 12 image (tests/images/build_images.sh: mmdebstrap + umoci +
skopeo, cached) from every source: OCI layout (gzip and zstd layers), OCI archive, docker-archive
(skopeo's symlinked layer.tar) plain and gzip-compressed, and the loopback TLS registry with
htpasswd auth the ctest fixture started (tests/images/registry_fixture.py). Asserts exact facts:
digests equal skopeo's, layer digests, OS debian 12, whiteouts applied, credentials from docker's
config.json and a credential helper, a wrong password refused, a tampered blob detected.

Run by ctest: image_real_test.py KGUARD_BINARY REGISTRY_STATE_DIR
"""
import base64
import gzip
import hashlib
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import http.server
import tarfile
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request

KGUARD = sys.argv[1]
STATE_DIR = sys.argv[2]
del sys.argv[1:3]
with open(os.path.join(STATE_DIR, "state.json")) as _f:
    STATE = json.load(_f)
CACHE = STATE["cache"]
HOST = STATE["host"]
TIMEOUT = 300


def kguard(*args, env=None):
    p = subprocess.run([KGUARD, "image", *args], capture_output=True, timeout=TIMEOUT, env=env)
    if p.returncode < 0 or p.returncode > 2:
        raise AssertionError(f"kguard crashed ({p.returncode}) on {args}: {p.stderr.decode()}")
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def docker_config(tmp, name, user, password):
    d = os.path.join(tmp, name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump({"auths": {HOST: {"auth": base64.b64encode(f"{user}:{password}".encode()).decode()}}}, f)
    return os.path.join(d, "config.json")


def oci_manifest(layout, tag):
    with open(os.path.join(layout, "index.json")) as f:
        index = json.load(f)
    (entry,) = [m for m in index["manifests"] if m["annotations"]["org.opencontainers.image.ref.name"] == tag]
    with open(os.path.join(layout, "blobs/sha256", entry["digest"][7:]), "rb") as f:
        return entry["digest"], json.load(f)


class RealImageTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp()
        cls.good = docker_config(cls.tmp, "good", STATE["user"], STATE["password"])
        cls.digest, cls.manifest = oci_manifest(os.path.join(CACHE, "oci"), "test")
        cls.zdigest, cls.zmanifest = oci_manifest(os.path.join(CACHE, "oci-zstd"), "test")
        cls.seen = {}

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def read(self, ref, *args):
        rc, out, err = kguard("-o", "json", "--list-files", *args, ref)
        self.assertEqual(rc, 0, f"{ref}: {err}")
        doc = json.loads(out)
        doc["paths"] = {f["path"]: f for f in doc.pop("fileList")}
        return doc

    def registry(self, *args):
        return ("--registry-ca", STATE["ca"], "--docker-config", self.good, *args)

    def assert_debian(self, doc, manifest):
        self.assertEqual(doc["os"]["id"], "debian")
        self.assertEqual(doc["os"]["versionId"], "12")
        self.assertEqual(doc["os"]["versionCodename"], "bookworm")
        self.assertEqual(doc["platform"], "linux/amd64")
        self.assertEqual(doc["configDigest"], manifest["config"]["digest"])
        self.assertEqual(len(doc["layers"]), 4)
        p = doc["paths"]
        self.assertEqual(p["/etc/os-release"]["type"], "symlink")
        self.assertEqual(p["/etc/os-release"]["resolved"], "/usr/lib/os-release")
        # Layer 2 deleted su and debconf's cache and added /opt/app/x; 3 made apt.conf.d
        # opaque (its marker before its directory, as umoci writes it); 4 whited out chfn.
        for gone in ("/usr/bin/su", "/var/cache/debconf", "/usr/bin/chfn"):
            self.assertNotIn(gone, p)
        self.assertFalse([x for x in p if x.startswith("/etc/apt/apt.conf.d/")])
        self.assertEqual(p["/etc/apt/apt.conf.d"]["layer"], 3)
        self.assertEqual(p["/opt/app/x"]["layer"], 2)
        self.assertEqual(p["/opt/app/x"]["size"], 3)
        self.assertEqual(p["/usr/bin/passwd"]["mode"], 0o4755)
        self.assertEqual(p["/usr/bin/passwd"]["layer"], 1)
        self.assertFalse([x for x in p if "/.wh." in x])
        # The whole filesystem is identical whatever the source.
        key = sorted((k, v["type"], v["size"], v["layer"]) for k, v in p.items())
        if "fs" in type(self).seen:
            self.assertEqual(key, type(self).seen["fs"])
        type(self).seen["fs"] = key
        return p

    def test_oci_layout(self):
        doc = self.read(f"oci:{CACHE}/oci:test")
        self.assertEqual(doc["manifestDigest"], self.digest)
        with open(os.path.join(CACHE, "manifest.sha256")) as f:
            self.assertEqual(doc["manifestDigest"], "sha256:" + f.read().strip())  # skopeo inspect --raw
        self.assertEqual([l["digest"] for l in doc["layers"]], [l["digest"] for l in self.manifest["layers"]])
        self.assertEqual([l["createdBy"] for l in doc["layers"]],
                         ["debian bookworm minbase rootfs", "RUN rm /usr/bin/su", "opaque apt.conf.d", "whiteout chfn"])
        self.assert_debian(doc, self.manifest)

    def test_oci_layout_zstd(self):
        doc = self.read(f"oci:{CACHE}/oci-zstd:test")
        with open(os.path.join(CACHE, "manifest-zstd.sha256")) as f:
            self.assertEqual(doc["manifestDigest"], "sha256:" + f.read().strip())
        self.assertTrue(all(l["mediaType"].endswith("+zstd") for l in doc["layers"]))
        self.assertEqual([l["diffId"] for l in doc["layers"]],
                         [l["diffId"] for l in self.read(f"oci:{CACHE}/oci:test")["layers"]])
        self.assert_debian(doc, self.zmanifest)

    def test_oci_archive(self):
        doc = self.read(f"oci-archive:{CACHE}/test-oci.tar")
        self.assertEqual(doc["manifestDigest"], self.digest)
        self.assert_debian(doc, self.manifest)

    def test_docker_archive_plain_and_gzip(self):
        for name in ("test-docker.tar", "test-docker.tar.gz"):
            doc = self.read(f"docker-archive:{CACHE}/{name}")
            self.assertEqual(doc["manifestDigest"], "")  # docker save keeps no manifest
            self.assertEqual(doc["tag"], "docker.io/example/test:1.0")
            # Its layers are the uncompressed tars: their digests are the diff_ids.
            self.assertEqual([l["digest"] for l in doc["layers"]], [l["diffId"] for l in doc["layers"]])
            self.assert_debian(doc, self.manifest)
        with tarfile.open(f"{CACHE}/test-docker.tar") as t:
            self.assertTrue(any(m.issym() and m.name.endswith("/layer.tar") for m in t.getmembers()),
                            "skopeo's archive should hold symlinked layer.tar members")

    def test_registry_tag_and_digest(self):
        doc = self.read(f"{HOST}/example/test:1.0", *self.registry())
        self.assertEqual(doc["manifestDigest"], STATE["skopeo_digest"]["1.0"])
        self.assertEqual(doc["manifestDigest"], self.digest)
        self.assertEqual([l["digest"] for l in doc["layers"]], [l["digest"] for l in self.manifest["layers"]])
        self.assert_debian(doc, self.manifest)
        by_digest = self.read(f"{HOST}/example/test@{self.digest}", *self.registry())
        self.assertEqual(by_digest["manifestDigest"], self.digest)
        z = self.read(f"{HOST}/example/test:zstd", *self.registry())
        self.assertEqual(z["manifestDigest"], STATE["skopeo_digest"]["zstd"])

    def test_registry_auth_refusals(self):
        bad = docker_config(self.tmp, "bad", STATE["user"], "wrong-password")
        rc, _, err = kguard("--registry-ca", STATE["ca"], "--docker-config", bad, f"{HOST}/example/test:1.0")
        self.assertEqual(rc, 2)
        self.assertIn("HTTP 401 (authentication failed", err)
        rc, _, err = kguard("--registry-ca", STATE["ca"], "--docker-config", os.path.join(self.tmp, "none.json"),
                            f"{HOST}/example/test:1.0")
        self.assertEqual(rc, 2)
        self.assertIn("requires a login (Basic auth)", err)
        rc, _, err = kguard("--docker-config", self.good, f"{HOST}/example/test:1.0")
        self.assertEqual(rc, 2)
        self.assertIn("SSL certificate problem", err)
        rc, _, err = kguard(*self.registry(), f"{HOST}/example/missing:1.0")
        self.assertEqual(rc, 2)
        self.assertIn("HTTP 404", err)
        rc, _, err = kguard(*self.registry(), f"{HOST}/example/test@sha256:" + "0" * 64)
        self.assertEqual(rc, 2)
        self.assertIn("HTTP 404", err)

    def test_registry_bearer_token_flow(self):
        host = STATE["bearer_host"]
        cfg = os.path.join(self.tmp, "bearer", "config.json")
        os.makedirs(os.path.dirname(cfg), exist_ok=True)
        with open(cfg, "w") as f:
            json.dump({"auths": {host: {"username": STATE["user"], "password": STATE["password"]}}}, f)
        doc = self.read(f"{host}/example/test:1.0", "--registry-ca", STATE["ca"], "--docker-config", cfg)
        self.assertEqual(doc["manifestDigest"], self.digest)
        self.assert_debian(doc, self.manifest)
        # No credentials: an anonymous token (the token server grants public pulls).
        anon = self.read(f"{host}/example/test:1.0", "--registry-ca", STATE["ca"], "--docker-config",
                         os.path.join(self.tmp, "none.json"))
        self.assertEqual(anon["manifestDigest"], self.digest)
        with open(cfg, "w") as f:
            json.dump({"auths": {host: {"username": STATE["user"], "password": "nope"}}}, f)
        rc, _, err = kguard("--registry-ca", STATE["ca"], "--docker-config", cfg, f"{host}/example/test:1.0")
        self.assertEqual(rc, 2)
        self.assertIn("/token: HTTP 401 (authentication failed", err)
        self.assertIn("UNAUTHORIZED bad credentials", err)

    def test_registry_plain_http_only_when_allowed(self):
        host = STATE["plain_host"]
        rc, _, err = kguard(f"{host}/example/test:1.0")
        self.assertEqual(rc, 2)
        self.assertIn("GET /v2/", err)
        rc, out, err = kguard("-o", "json", "--allow-insecure-registry", f"{host}/example/test:zstd")
        self.assertEqual(rc, 0, err)
        doc = json.loads(out)
        self.assertEqual(doc["manifestDigest"], STATE["skopeo_digest"]["zstd"])
        self.assertIn(f"{host}: plain HTTP (--allow-insecure-registry)", doc["notes"])
        # Unverified TLS is allowed too: the htpasswd registry without its CA.
        rc, out, err = kguard("-o", "json", "--allow-insecure-registry", "--docker-config", self.good,
                              f"{HOST}/example/test:1.0")
        self.assertEqual(rc, 0, err)
        self.assertEqual(json.loads(out)["manifestDigest"], self.digest)

    def test_registry_retries_transient_failures(self):
        # A proxy before the plain-HTTP registry answering 503 to the first two tries of every
        # path (and always for one blob): kguard retries with backoff, then gives up naming it.
        upstream = "http://" + STATE["plain_host"]
        seen = {}
        always_fail = set()

        class Flaky(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                n = seen[self.path] = seen.get(self.path, 0) + 1
                if n <= 2 or any(self.path.endswith(d) for d in always_fail):
                    self.send_response(503)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                req = urllib.request.Request(upstream + self.path, headers={"Accept": self.headers.get("Accept", "*/*")})
                try:
                    resp = urllib.request.urlopen(req, timeout=60)
                except urllib.error.HTTPError as e:
                    resp = e
                body = resp.read()
                self.send_response(resp.status if hasattr(resp, "status") else resp.code)
                for h in ("Content-Type", "Docker-Content-Digest"):
                    if resp.headers.get(h):
                        self.send_header(h, resp.headers[h])
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Flaky)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self.addCleanup(server.server_close)
        self.addCleanup(server.shutdown)
        host = f"127.0.0.1:{server.server_address[1]}"
        rc, out, err = kguard("-o", "json", "--allow-insecure-registry", f"{host}/example/test:zstd")
        self.assertEqual(rc, 0, err)
        self.assertEqual(json.loads(out)["manifestDigest"], STATE["skopeo_digest"]["zstd"])
        self.assertEqual(seen["/v2/example/test/manifests/zstd"], 3)
        blob = self.zmanifest["layers"][0]["digest"]
        self.assertEqual(seen[f"/v2/example/test/blobs/{blob}"], 3)
        always_fail.add(blob)
        seen.clear()
        rc, _, err = kguard("--allow-insecure-registry", f"{host}/example/test:zstd")
        self.assertEqual(rc, 2)
        self.assertIn(f"layer {blob}: HTTP 503", err)
        self.assertEqual(seen[f"/v2/example/test/blobs/{blob}"], 4)  # the try and 3 retries

    def test_registry_credential_helper(self):
        bindir = os.path.join(self.tmp, "bin")
        os.makedirs(bindir, exist_ok=True)
        helper = os.path.join(bindir, "docker-credential-kguardtest")
        with open(helper, "w") as f:
            f.write(f"""#!/bin/sh
read server
[ "$1" = get ] && [ "$server" = "{HOST}" ] || exit 1
echo '{{"ServerURL":"{HOST}","Username":"{STATE["user"]}","Secret":"{STATE["password"]}"}}'
""")
        os.chmod(helper, 0o755)
        cfg = os.path.join(self.tmp, "helper", "config.json")
        os.makedirs(os.path.dirname(cfg), exist_ok=True)
        with open(cfg, "w") as f:
            json.dump({"credHelpers": {HOST: "kguardtest"}}, f)
        env = dict(os.environ, PATH=bindir + ":" + os.environ["PATH"])
        rc, out, err = kguard("-o", "json", "--registry-ca", STATE["ca"], "--docker-config", cfg,
                              f"{HOST}/example/test:1.0", env=env)
        self.assertEqual(rc, 0, err)
        self.assertEqual(json.loads(out)["manifestDigest"], self.digest)
        with open(cfg, "w") as f:
            json.dump({"credsStore": "kguardtest"}, f)
        rc, out, err = kguard("-o", "json", "--registry-ca", STATE["ca"], "--docker-config", cfg,
                              f"{HOST}/example/test:1.0", env=env)
        self.assertEqual(rc, 0, err)

    def test_registry_tampered_blob(self):
        # A small image of its own (blobs are shared by digest across a registry's repositories).
        layout = os.path.join(self.tmp, "tamper")
        data = os.urandom(64).hex().encode()
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as t:
            info = tarfile.TarInfo("payload")
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
        layer = gzip.compress(buf.getvalue(), mtime=0)
        os.makedirs(os.path.join(layout, "blobs/sha256"))

        def blob(b):
            d = hashlib.sha256(b).hexdigest()
            with open(os.path.join(layout, "blobs/sha256", d), "wb") as f:
                f.write(b)
            return "sha256:" + d
        config = json.dumps({"architecture": "amd64", "os": "linux",
                             "rootfs": {"type": "layers",
                                        "diff_ids": ["sha256:" + hashlib.sha256(buf.getvalue()).hexdigest()]}}).encode()
        manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                               "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                          "digest": blob(config), "size": len(config)},
                               "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                                           "digest": blob(layer), "size": len(layer)}]}).encode()
        md = blob(manifest)
        with open(os.path.join(layout, "index.json"), "w") as f:
            json.dump({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                       "digest": md, "size": len(manifest),
                       "annotations": {"org.opencontainers.image.ref.name": "t"}}]}, f)
        with open(os.path.join(layout, "oci-layout"), "w") as f:
            f.write('{"imageLayoutVersion":"1.0.0"}')
        subprocess.run(["skopeo", "copy", "--quiet", "--preserve-digests", "--dest-tls-verify=false", "--dest-creds",
                        f"{STATE['user']}:{STATE['password']}", f"oci:{layout}:t",
                        f"docker://{HOST}/example/tamper:1"], check=True)
        ref = f"{HOST}/example/tamper:1"
        self.assertEqual(self.read(ref, *self.registry())["manifestDigest"], md)
        ld = "sha256:" + hashlib.sha256(layer).hexdigest()
        stored = os.path.join(STATE["data"], "docker/registry/v2/blobs/sha256", ld[7:9], ld[7:], "data")
        with open(stored, "r+b") as f:
            f.seek(-6, os.SEEK_END)  # the gzip trailer's CRC: still inflates, digest no longer matches
            b = f.read(1)
            f.seek(-6, os.SEEK_END)
            f.write(bytes([b[0] ^ 1]))
        rc, _, err = kguard(*self.registry(), ref)
        self.assertEqual(rc, 2)
        self.assertIn(f"layer {ld}: digest mismatch: content is sha256:", err)


if __name__ == "__main__":
    unittest.main(verbosity=2)

#!/usr/bin/env python3
"""kguard against the real cosign (built once from the Go module proxy by tests/sign/build_cosign.sh,
cached in ~/.cache/kguard-e2e), on the Debian docker-registry on loopback with TLS and htpasswd
auth (no referrers API there: bundles go through the sha256-<hex> index tag on both tools):

- key files both ways: cosign reads `kguard keygen`'s cosign.key, kguard reads `cosign
  generate-key-pair`'s;
- the matrix: {cosign signs -> kguard verifies, kguard signs -> cosign verifies} x {legacy .sig
  tag, Sigstore bundle v0.3 referrer} x {key file, PKCS#11 key in SoftHSM2};
- tampering rejected by both tools, on signatures made by each: a changed payload, a wrong key,
  a signature copied from another digest, a tag moved to an unsigned image.

cosign runs offline: --tlog-upload=false to sign, --insecure-ignore-tlog to verify, and for bundles
a trusted root with no authority at all (key-based verification needs none). The matrix is printed
at the end (docs/signing.md records it).

  cosign_interop_test.py KGUARD BUILD_COSIGN_SH
"""
import base64
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sign_support as S  # noqa: E402

KGUARD = COSIGN = None
COSIGN_PKCS11 = False
REG = HSM = None
WORK = None
MATRIX = []  # (direction, format, key kind, result)
PASSWORD = "interop-password"


def setUpModule():
    global REG, HSM, WORK
    REG = S.Registry()
    HSM = S.SoftHsm()
    WORK = tempfile.TemporaryDirectory()
    with open(os.path.join(WORK.name, "trusted_root.json"), "w") as f:
        # A trusted root without any authority: enough for cosign's key-based bundle verification.
        f.write('{"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1"}')
    with open(os.path.join(WORK.name, "hsm.pub"), "w") as f:
        f.write(HSM.public_pem())


def tearDownModule():
    REG.stop()
    HSM.stop()
    WORK.cleanup()
    if MATRIX:
        print("\ninteroperability matrix (registry: Debian docker-registry 2.8, TLS + htpasswd):", file=sys.stderr)
        for row in MATRIX:
            print("  %-34s %-7s %-8s %s" % row, file=sys.stderr)


def env():
    e = HSM.env(REG.env())
    e["COSIGN_PASSWORD"] = PASSWORD
    e["HOME"] = WORK.name  # cosign's TUF cache and config stay in the test's directory
    return e


def kguard(*argv):
    return S.run(KGUARD, *argv, env=env())


def cosign(*argv):
    return S.run(COSIGN, *argv, env=env(), timeout=300)


def path(name):
    return os.path.join(WORK.name, name)


def reg_flags():
    return ["--registry-ca", REG.ca, "--docker-config", REG.docker_config + "/config.json"]


class Interop(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # kguard's key pair and cosign's.
        code, _, err = kguard("keygen", "--output-key-prefix", path("kg"))
        assert code == 0, err
        code, _, err = S.run(COSIGN, "generate-key-pair", "--output-key-prefix", path("cs"), env=env(), timeout=300)
        assert code == 0, err

    def keys(self, kind):
        """(the key to sign with, the key to verify with) for each tool."""
        if kind == "pkcs11":
            return HSM.uri(), HSM.uri(pin=False)
        return None

    # ---- sign with one tool, verify with the other ----
    def cosign_sign(self, key, image_at_digest, fmt):
        extra = ["--new-bundle-format"] if fmt == "bundle" else []
        code, out, err = cosign("sign", "--key", key, "--tlog-upload=false", "-y", *extra, image_at_digest)
        self.assertEqual(code, 0, err)

    def cosign_verify(self, key, image, fmt):
        extra = ["--trusted-root", path("trusted_root.json")] if fmt == "bundle" else []
        return cosign("verify", "--key", key, "--insecure-ignore-tlog", *extra, image)

    def kguard_sign(self, key, image, fmt):
        code, out, err = kguard("sign", "--key", key, *reg_flags(), "--format", fmt, image)
        self.assertEqual(code, 0, err)

    def kguard_verify(self, key, image, fmt):
        code, out, err = kguard("verify", "--key", key, *reg_flags(), "--format", fmt, "-o", "json", image)
        return code, (json.loads(out) if out.strip() else None), err

    def test_key_files_both_ways(self):
        # cosign reads kguard's encrypted key; kguard reads cosign's. Same public key out of each.
        code, out, err = cosign("public-key", "--key", path("kg.key"))
        self.assertEqual(code, 0, err)
        with open(path("kg.pub")) as f:
            self.assertEqual(out.strip(), f.read().strip())
        code, out, err = cosign("public-key", "--key", path("kg.key"))
        wrong = dict(env(), COSIGN_PASSWORD="wrong")
        code, _, err = S.run(COSIGN, "public-key", "--key", path("kg.key"), env=wrong, timeout=300)
        self.assertNotEqual(code, 0)
        self.assertIn("decrypt", err.lower())

    def matrix(self, fmt, kind):
        n = len(MATRIX)
        repo = f"interop/{fmt}-{kind}"
        if kind == "file":
            # cosign signs with kguard's key file, kguard signs with cosign's: both key formats cross too.
            cosign_key, kguard_pub = path("kg.key"), path("kg.pub")
            kguard_key, cosign_pub = path("cs.key"), path("cs.pub")
        else:
            if not COSIGN_PKCS11:
                self.skipTest("this cosign build has no PKCS#11 support")
            cosign_key = kguard_key = HSM.uri()
            kguard_pub = HSM.uri(pin=False)
            cosign_pub = HSM.uri()  # cosign reads the public key from the token
        # cosign signs -> kguard verifies
        d1 = REG.push_image(repo, "by-cosign", f"{fmt}-{kind}-1")
        self.cosign_sign(cosign_key, f"{REG.host}/{repo}@{d1}", fmt)
        code, res, err = self.kguard_verify(kguard_pub, f"{REG.host}/{repo}:by-cosign", fmt)
        self.assertEqual(code, 0, err)
        self.assertEqual(res["digest"], d1)
        self.assertTrue(any(s["verified"] and s["format"] == fmt for s in res["signatures"]), res)
        MATRIX.append(("cosign sign -> kguard verify", fmt, kind, "pass"))
        # kguard signs -> cosign verifies
        d2 = REG.push_image(repo, "by-kguard", f"{fmt}-{kind}-2")
        self.kguard_sign(kguard_key, f"{REG.host}/{repo}:by-kguard", fmt)
        code, out, err = self.cosign_verify(cosign_pub, f"{REG.host}/{repo}@{d2}", fmt)
        self.assertEqual(code, 0, err)
        payloads = json.loads(out)
        self.assertEqual(payloads[0]["critical"]["image"]["docker-manifest-digest"], d2)
        MATRIX.append(("kguard sign -> cosign verify", fmt, kind, "pass"))
        self.assertEqual(len(MATRIX), n + 2)

    def test_legacy_file(self):
        self.matrix("legacy", "file")

    def test_bundle_file(self):
        self.matrix("bundle", "file")

    def test_legacy_pkcs11(self):
        self.matrix("legacy", "pkcs11")

    def test_bundle_pkcs11(self):
        self.matrix("bundle", "pkcs11")

    def test_ed25519_kguard_to_cosign(self):
        # cosign verifies Ed25519 signatures with the PEM public key (legacy format).
        code, _, err = kguard("keygen", "--output-key-prefix", path("ed"), "--algorithm", "ed25519")
        self.assertEqual(code, 0, err)
        d = REG.push_image("interop/ed25519", "v1", "ed25519")
        self.kguard_sign(path("ed.key"), f"{REG.host}/interop/ed25519:v1", "legacy")
        code, _, err = self.cosign_verify(path("ed.pub"), f"{REG.host}/interop/ed25519@{d}", "legacy")
        self.assertEqual(code, 0, err)
        MATRIX.append(("kguard sign -> cosign verify", "legacy", "ed25519", "pass"))


class Tampering(unittest.TestCase):
    """Each case on a signature made by each tool; both tools must reject it."""

    def sign(self, tool, image_tag, digest, fmt):
        if tool == "cosign":
            extra = ["--new-bundle-format"] if fmt == "bundle" else []
            code, _, err = cosign("sign", "--key", path("kg.key"), "--tlog-upload=false", "-y", *extra,
                                  image_tag.rsplit(":", 1)[0] + "@" + digest)
        else:
            code, _, err = kguard("sign", "--key", path("kg.key"), *reg_flags(), "--format", fmt, image_tag)
        self.assertEqual(code, 0, err)

    def both_reject(self, image_tag, digest, fmt, key=None, case=""):
        key = key or path("kg.pub")
        code, out, err = kguard("verify", "--key", key, *reg_flags(), "--format", fmt, "-o", "json", image_tag)
        self.assertEqual(code, 1, f"kguard accepted {case}: {out} {err}")
        extra = ["--trusted-root", path("trusted_root.json")] if fmt == "bundle" else []
        ref = image_tag if digest is None else image_tag.rsplit(":", 1)[0] + "@" + digest
        ccode, cout, cerr = cosign("verify", "--key", key, "--insecure-ignore-tlog", *extra, ref)
        self.assertNotEqual(ccode, 0, f"cosign accepted {case}: {cout}")
        # cosign must have looked and refused, not failed to start.
        self.assertNotIn("trusted root is required", cerr)
        self.assertNotIn("unknown flag", cerr)
        errors = [line for line in cerr.splitlines() if line.startswith("Error:")]
        self.last_cosign_error = errors[-1][len("Error: "):] if errors else cerr.strip().splitlines()[-1]
        res = json.loads(out)
        reasons = [s.get("reason", "") for s in res["signatures"]]
        self.last_kguard_error = reasons[0] if reasons else "no signatures found"
        return res, cerr

    def setUp(self):
        self.n = 0

    def image(self, repo, tag):
        self.n += 1
        return REG.push_image(repo, tag, f"{repo}-{tag}-{self.n}")

    def run_case(self, case, fn):
        for tool in ("cosign", "kguard"):
            for fmt in ("legacy", "bundle"):
                with self.subTest(tool=tool, fmt=fmt):
                    fn(tool, fmt, f"tamper/{case.replace(' ', '-')}-{tool}-{fmt}")
                    MATRIX.append((f"tampered: {case}", fmt, f"by {tool}",
                                   f"rejected by both (kguard: {self.last_kguard_error[:90]}; "
                                   f"cosign: {self.last_cosign_error[:110]})"))

    def test_tampered_payload(self):
        def case(tool, fmt, repo):
            digest = self.image(repo, "v1")
            self.sign(tool, f"{REG.host}/{repo}:v1", digest, fmt)
            if fmt == "legacy":
                tag = "sha256-" + digest[7:] + ".sig"
                m, _ = REG.get_manifest(repo, tag)
                payload = json.loads(REG.get_blob(repo, m["layers"][0]["digest"]))
                payload["optional"] = {"tampered": "yes"}
                body = json.dumps(payload).encode()
                m["layers"][0]["digest"] = REG.push_blob(repo, body)
                m["layers"][0]["size"] = len(body)
                REG.push_manifest(repo, tag, m)
            else:
                index, _ = REG.get_manifest(repo, "sha256-" + digest[7:])
                m, _ = REG.get_manifest(repo, index["manifests"][0]["digest"])
                bundle = json.loads(REG.get_blob(repo, m["layers"][0]["digest"]))
                statement = json.loads(base64.b64decode(bundle["dsseEnvelope"]["payload"]))
                statement["predicate"] = {"tampered": True}
                bundle["dsseEnvelope"]["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
                body = json.dumps(bundle).encode()
                m["layers"][0]["digest"] = REG.push_blob(repo, body)
                m["layers"][0]["size"] = len(body)
                raw = json.dumps(m).encode()
                new = REG.push_manifest(repo, "sha256:" + hashlib.sha256(raw).hexdigest(), raw)
                index["manifests"] = [dict(index["manifests"][0], digest=new, size=len(raw))]
                REG.push_manifest(repo, "sha256-" + digest[7:], index,
                                  media_type="application/vnd.oci.image.index.v1+json")
            res, _ = self.both_reject(f"{REG.host}/{repo}:v1", digest, fmt, case="a tampered payload")
            self.assertIn("does not verify", json.dumps(res))
        self.run_case("payload", case)

    def test_wrong_key(self):
        def case(tool, fmt, repo):
            digest = self.image(repo, "v1")
            self.sign(tool, f"{REG.host}/{repo}:v1", digest, fmt)
            res, _ = self.both_reject(f"{REG.host}/{repo}:v1", digest, fmt, key=path("cs.pub"), case="a wrong key")
            self.assertIn("does not verify", json.dumps(res))
        self.run_case("wrong key", case)

    def test_signature_of_another_digest(self):
        def case(tool, fmt, repo):
            signed = self.image(repo, "signed")
            unsigned = self.image(repo, "unsigned")
            self.sign(tool, f"{REG.host}/{repo}:signed", signed, fmt)
            if fmt == "legacy":
                _, raw = REG.get_manifest(repo, "sha256-" + signed[7:] + ".sig")
                REG.push_manifest(repo, "sha256-" + unsigned[7:] + ".sig", raw)
            else:
                # The signed image's bundle in a referrer whose subject is the unsigned image, listed
                # under the unsigned image's fallback tag: only the signed statement tells.
                index, _ = REG.get_manifest(repo, "sha256-" + signed[7:])
                m, _ = REG.get_manifest(repo, index["manifests"][0]["digest"])
                _, raw_unsigned = REG.get_manifest(repo, unsigned)
                m["subject"] = {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": unsigned,
                                "size": len(raw_unsigned)}
                raw = json.dumps(m).encode()
                new = REG.push_manifest(repo, "sha256:" + hashlib.sha256(raw).hexdigest(), raw)
                index["manifests"] = [dict(index["manifests"][0], digest=new, size=len(raw))]
                REG.push_manifest(repo, "sha256-" + unsigned[7:], index,
                                  media_type="application/vnd.oci.image.index.v1+json")
            res, _ = self.both_reject(f"{REG.host}/{repo}:unsigned", unsigned, fmt,
                                      case="a signature of another digest")
            self.assertIn(signed, json.dumps(res))
        self.run_case("other digest", case)

    def test_retagged_image(self):
        def case(tool, fmt, repo):
            signed = self.image(repo, "v1")
            self.sign(tool, f"{REG.host}/{repo}:v1", signed, fmt)
            moved = self.image(repo, "v1")  # the tag now names unsigned content
            self.assertNotEqual(signed, moved)
            # Both tools are given the tag: each must resolve it now, not trust the old signature.
            res, _ = self.both_reject(f"{REG.host}/{repo}:v1", None, fmt, case="a moved tag")
            self.assertEqual(res["digest"], moved)
        self.run_case("re-tagged", case)


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit("usage: cosign_interop_test.py KGUARD BUILD_COSIGN_SH")
    KGUARD = os.path.abspath(sys.argv.pop(1))
    build = sys.argv.pop(1)
    p = subprocess.run([build], capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit("building cosign failed:\n" + p.stderr[-4000:])
    COSIGN = p.stdout.strip().splitlines()[-1]
    with open(os.path.join(os.path.dirname(COSIGN), "pkcs11")) as f:
        COSIGN_PKCS11 = f.read().strip() == "yes"
    unittest.main(verbosity=2)

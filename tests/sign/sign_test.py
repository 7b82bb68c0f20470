#!/usr/bin/env python3
"""kguard keygen / sign / verify on their own, against the Debian docker-registry on loopback (TLS
with a test CA, htpasswd basic auth; and plain HTTP): both signature formats, several signatures,
PKCS#11 keys in SoftHSM2, and the tampering a verifier must reject (payload changed, wrong key,
signature copied from another digest, tag moved to an unsigned image). Interoperability with the
real cosign is tests/sign/cosign_interop_test.py.

  sign_test.py KGUARD
"""
import base64
import hashlib
import json
import os
import stat
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sign_support as S  # noqa: E402

KGUARD = None
REG = None
HSM = None


def setUpModule():
    global REG, HSM
    REG = S.Registry()
    HSM = S.SoftHsm()


def tearDownModule():
    REG.stop()
    HSM.stop()


class Case(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = self.tmp.name
        self.env = HSM.env(REG.env())
        self.env["COSIGN_PASSWORD"] = "test-password"

    def tearDown(self):
        self.tmp.cleanup()

    def kg(self, *argv, env=None):
        return S.run(KGUARD, *argv, env=env or self.env)

    def reg_flags(self):
        return ["--registry-ca", REG.ca, "--docker-config", REG.docker_config + "/config.json"]

    def keygen(self, prefix="cosign", *extra):
        code, out, err = self.kg("keygen", "--output-key-prefix", os.path.join(self.dir, prefix), *extra)
        self.assertEqual(code, 0, err)
        return os.path.join(self.dir, prefix + ".key"), os.path.join(self.dir, prefix + ".pub")

    def sign(self, key, image, *extra, expect=0):
        code, out, err = self.kg("sign", "--key", key, *self.reg_flags(), *extra, image)
        self.assertEqual(code, expect, err)
        return out, err

    def verify(self, key, image, *extra, expect=0):
        keys = []
        for k in (key if isinstance(key, list) else [key]):
            keys += ["--key", k]
        code, out, err = self.kg("verify", *keys, *self.reg_flags(), "-o", "json", *extra, image)
        self.assertEqual(code, expect, out + err)
        return json.loads(out) if out.strip() else None

    def image(self, repo, tag, seed):
        return REG.push_image(repo, tag, seed), f"{REG.host}/{repo}"


class Keygen(Case):
    def test_files_and_modes(self):
        key, pub = self.keygen()
        self.assertEqual(stat.S_IMODE(os.stat(key).st_mode), 0o600)
        with open(key) as f:
            text = f.read()
        self.assertTrue(text.startswith("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n"), text)
        body = base64.b64decode("".join(text.splitlines()[1:-1]))
        envelope = json.loads(body)
        self.assertEqual(envelope["kdf"]["name"], "scrypt")
        self.assertEqual(envelope["kdf"]["params"], {"N": 65536, "r": 8, "p": 1})
        self.assertEqual(len(base64.b64decode(envelope["kdf"]["salt"])), 32)
        self.assertEqual(envelope["cipher"]["name"], "nacl/secretbox")
        self.assertEqual(len(base64.b64decode(envelope["cipher"]["nonce"])), 24)
        # The ciphertext is the 16-byte tag + a PKCS#8 P-256 key (138 bytes from OpenSSL, 138 from Go).
        self.assertGreater(len(base64.b64decode(envelope["ciphertext"])), 16 + 100)
        out = subprocess.run(["openssl", "pkey", "-pubin", "-in", pub, "-text", "-noout"], capture_output=True,
                             text=True, check=True).stdout
        self.assertIn("prime256v1", out)

    def test_refuses_to_overwrite(self):
        self.keygen()
        code, _, err = self.kg("keygen", "--output-key-prefix", os.path.join(self.dir, "cosign"))
        self.assertEqual(code, 2)
        self.assertIn("exists", err)
        self.keygen("cosign", "--force")

    def test_wrong_password(self):
        key, _ = self.keygen()
        digest, repo = self.image("keygen/wrongpw", "v1", "wrongpw")
        env = dict(self.env, COSIGN_PASSWORD="not-the-password")
        code, _, err = self.kg("sign", "--key", key, *self.reg_flags(), f"{repo}:v1", env=env)
        self.assertEqual(code, 2)
        self.assertIn("wrong password", err)

    def test_tampered_key_file(self):
        key, _ = self.keygen()
        with open(key) as f:
            lines = f.read().splitlines()
        envelope = json.loads(base64.b64decode("".join(lines[1:-1])))
        box = bytearray(base64.b64decode(envelope["ciphertext"]))
        box[40] ^= 1
        envelope["ciphertext"] = base64.b64encode(bytes(box)).decode()
        body = base64.b64encode(json.dumps(envelope).encode()).decode()
        with open(key, "w") as f:
            f.write(lines[0] + "\n" + body + "\n" + lines[-1] + "\n")
        _, repo = self.image("keygen/tampered", "v1", "tamperedkey")
        code, _, err = self.kg("sign", "--key", key, *self.reg_flags(), f"{repo}:v1")
        self.assertEqual(code, 2)
        self.assertIn("decryption failed", err)
        # Scrypt parameters a key file could use to exhaust memory are refused before any work.
        envelope["kdf"]["params"]["N"] = 1 << 30
        with open(key, "w") as f:
            f.write(lines[0] + "\n" + base64.b64encode(json.dumps(envelope).encode()).decode() + "\n" + lines[-1] + "\n")
        code, _, err = self.kg("sign", "--key", key, *self.reg_flags(), f"{repo}:v1")
        self.assertEqual(code, 2)
        self.assertIn("scrypt parameter", err)

    def test_ed25519(self):
        key, pub = self.keygen("ed", "--algorithm", "ed25519")
        digest, repo = self.image("keygen/ed25519", "v1", "ed25519")
        for fmt in ("legacy", "bundle"):
            self.sign(key, f"{repo}:v1", "--format", fmt)
        res = self.verify(pub, f"{repo}:v1")
        self.assertEqual(sorted(s["format"] for s in res["signatures"] if s["verified"]), ["bundle", "legacy"])


class Formats(Case):
    def test_legacy_layout(self):
        key, pub = self.keygen()
        digest, repo = self.image("fmt/legacy", "v1", "legacy-layout")
        out, err = self.sign(key, f"{repo}:v1")
        self.assertEqual(out.strip(), f"{repo}@{digest}")
        tag = "sha256-" + digest[7:] + ".sig"
        manifest, _ = REG.get_manifest("fmt/legacy", tag)
        self.assertEqual(manifest["mediaType"], "application/vnd.oci.image.manifest.v1+json")
        (layer,) = manifest["layers"]
        self.assertEqual(layer["mediaType"], "application/vnd.dev.cosign.simplesigning.v1+json")
        payload = REG.get_blob("fmt/legacy", layer["digest"])
        doc = json.loads(payload)
        self.assertEqual(doc["critical"], {"identity": {"docker-reference": repo},
                                           "image": {"docker-manifest-digest": digest},
                                           "type": "cosign container image signature"})
        # The annotation is base64 of a DER ECDSA signature over the payload: openssl agrees.
        sig = base64.b64decode(layer["annotations"]["dev.cosignproject.cosign/signature"])
        with open(os.path.join(self.dir, "payload"), "wb") as f:
            f.write(payload)
        with open(os.path.join(self.dir, "sig"), "wb") as f:
            f.write(sig)
        subprocess.run(["openssl", "dgst", "-sha256", "-verify", pub, "-signature", os.path.join(self.dir, "sig"),
                        os.path.join(self.dir, "payload")], check=True, capture_output=True)
        config = json.loads(REG.get_blob("fmt/legacy", manifest["config"]["digest"]))
        self.assertEqual(config["rootfs"]["diff_ids"], [layer["digest"]])

    def test_several_signatures_any_valid(self):
        key1, pub1 = self.keygen("one")
        key2, pub2 = self.keygen("two")
        key3, pub3 = self.keygen("three")
        digest, repo = self.image("fmt/several", "v1", "several")
        self.sign(key1, f"{repo}:v1")
        _, err = self.sign(key1, f"{repo}:v1")
        self.assertIn("already carries this key's signature", err)
        self.sign(key2, f"{repo}:v1")
        manifest, _ = REG.get_manifest("fmt/several", "sha256-" + digest[7:] + ".sig")
        self.assertEqual(len(manifest["layers"]), 2)
        for pub in (pub1, pub2):
            res = self.verify(pub, f"{repo}:v1")
            self.assertEqual([s["verified"] for s in res["signatures"]].count(True), 1)
        self.verify(pub3, f"{repo}:v1", expect=1)
        res = self.verify([pub3, pub2], f"{repo}@{digest}")
        self.assertTrue(res["verified"])

    def test_bundle_layout_and_fallback_index(self):
        key1, pub1 = self.keygen("one")
        key2, pub2 = self.keygen("two")
        digest, repo = self.image("fmt/bundle", "v1", "bundle-layout")
        _, err = self.sign(key1, f"{repo}:v1", "--format", "bundle")
        self.assertIn("referrers index tag updated", err)  # docker-registry 2.8: no referrers API
        self.sign(key2, f"{repo}:v1", "--new-bundle-format")
        index, _ = REG.get_manifest("fmt/bundle", "sha256-" + digest[7:])
        self.assertEqual(index["mediaType"], "application/vnd.oci.image.index.v1+json")
        self.assertEqual(len(index["manifests"]), 2)
        for entry in index["manifests"]:
            self.assertEqual(entry["artifactType"], "application/vnd.dev.sigstore.bundle.v0.3+json")
            m, _ = REG.get_manifest("fmt/bundle", entry["digest"])
            self.assertEqual(m["subject"]["digest"], digest)
            self.assertEqual(m["artifactType"], "application/vnd.dev.sigstore.bundle.v0.3+json")
            bundle = json.loads(REG.get_blob("fmt/bundle", m["layers"][0]["digest"]))
            self.assertEqual(bundle["mediaType"], "application/vnd.dev.sigstore.bundle.v0.3+json")
            statement = json.loads(base64.b64decode(bundle["dsseEnvelope"]["payload"]))
            self.assertEqual(statement["subject"], [{"digest": {"sha256": digest[7:]}}])
            self.assertEqual(statement["predicateType"], "https://sigstore.dev/cosign/sign/v1")
        for pub in (pub1, pub2):
            res = self.verify(pub, f"{repo}:v1", "--format", "bundle")
            self.assertEqual(len(res["signatures"]), 2)
            self.assertEqual(sum(s["verified"] for s in res["signatures"]), 1)
        # --format legacy does not read bundles.
        self.verify(pub1, f"{repo}:v1", "--format", "legacy", expect=1)


class Tampering(Case):
    """Each case must fail verification (exit 1) with the reason in the report."""

    def setUp(self):
        super().setUp()
        self.key, self.pub = self.keygen()

    def reasons(self, res):
        return " | ".join(s.get("reason", "") for s in res["signatures"])

    def test_tampered_payload_legacy(self):
        digest, repo = self.image("tamper/payload", "v1", "payload-l")
        self.sign(self.key, f"{repo}:v1")
        tag = "sha256-" + digest[7:] + ".sig"
        manifest, _ = REG.get_manifest("tamper/payload", tag)
        payload = json.loads(REG.get_blob("tamper/payload", manifest["layers"][0]["digest"]))
        payload["optional"] = {"injected": "yes"}
        body = json.dumps(payload).encode()
        manifest["layers"][0]["digest"] = REG.push_blob("tamper/payload", body)
        manifest["layers"][0]["size"] = len(body)
        REG.push_manifest("tamper/payload", tag, manifest)
        res = self.verify(self.pub, f"{repo}:v1", expect=1)
        self.assertIn("does not verify", self.reasons(res))

    def test_tampered_payload_bundle(self):
        digest, repo = self.image("tamper/payloadb", "v1", "payload-b")
        self.sign(self.key, f"{repo}:v1", "--format", "bundle")
        index, _ = REG.get_manifest("tamper/payloadb", "sha256-" + digest[7:])
        m, _ = REG.get_manifest("tamper/payloadb", index["manifests"][0]["digest"])
        bundle = json.loads(REG.get_blob("tamper/payloadb", m["layers"][0]["digest"]))
        statement = json.loads(base64.b64decode(bundle["dsseEnvelope"]["payload"]))
        statement["predicate"] = {"injected": True}
        bundle["dsseEnvelope"]["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
        body = json.dumps(bundle).encode()
        m["layers"][0]["digest"] = REG.push_blob("tamper/payloadb", body)
        m["layers"][0]["size"] = len(body)
        raw = json.dumps(m).encode()
        new = REG.push_manifest("tamper/payloadb", "sha256:" + hashlib.sha256(raw).hexdigest(), raw)
        index["manifests"] = [dict(index["manifests"][0], digest=new, size=len(raw))]
        REG.push_manifest("tamper/payloadb", "sha256-" + digest[7:], index,
                          media_type="application/vnd.oci.image.index.v1+json")
        res = self.verify(self.pub, f"{repo}:v1", expect=1)
        self.assertIn("does not verify", self.reasons(res))

    def test_wrong_key(self):
        _, other = self.keygen("other")
        digest, repo = self.image("tamper/wrongkey", "v1", "wrongkey")
        self.sign(self.key, f"{repo}:v1")
        self.sign(self.key, f"{repo}:v1", "--format", "bundle")
        res = self.verify(other, f"{repo}:v1", expect=1)
        self.assertEqual(len(res["signatures"]), 2)
        self.assertEqual(self.reasons(res).count("does not verify"), 2)

    def test_signature_of_another_digest_legacy(self):
        signed, repo = self.image("tamper/otherdigest", "signed", "other-a")
        unsigned, _ = self.image("tamper/otherdigest", "unsigned", "other-b")
        self.sign(self.key, f"{repo}:signed")
        # Copy the signed image's .sig manifest to the unsigned image's signature tag.
        _, raw = REG.get_manifest("tamper/otherdigest", "sha256-" + signed[7:] + ".sig")
        REG.push_manifest("tamper/otherdigest", "sha256-" + unsigned[7:] + ".sig", raw)
        res = self.verify(self.pub, f"{repo}:unsigned", expect=1)
        self.assertIn(f"the payload signs {signed}, not the image's {unsigned}", self.reasons(res))

    def test_signature_of_another_digest_bundle(self):
        signed, repo = self.image("tamper/otherdigestb", "signed", "otherb-a")
        unsigned, _ = self.image("tamper/otherdigestb", "unsigned", "otherb-b")
        self.sign(self.key, f"{repo}:signed", "--format", "bundle")
        index, raw_index = REG.get_manifest("tamper/otherdigestb", "sha256-" + signed[7:])
        # 1. The signed image's index under the unsigned image's fallback tag: the referrer's subject differs.
        REG.push_manifest("tamper/otherdigestb", "sha256-" + unsigned[7:], raw_index,
                          media_type="application/vnd.oci.image.index.v1+json")
        res = self.verify(self.pub, f"{repo}:unsigned", expect=1)
        self.assertIn("the referrer's subject is " + signed, self.reasons(res))
        # 2. A referrer re-made with the unsigned image as subject around the same bundle: the
        #    signed statement still names the other digest.
        m, _ = REG.get_manifest("tamper/otherdigestb", index["manifests"][0]["digest"])
        _, _, headers = REG.request("HEAD", f"/v2/tamper/otherdigestb/manifests/{unsigned}",
                                    headers={"Accept": "application/vnd.oci.image.manifest.v1+json"})
        m["subject"] = {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": unsigned,
                        "size": int(headers["Content-Length"])}
        raw = json.dumps(m).encode()
        new = REG.push_manifest("tamper/otherdigestb", "sha256:" + hashlib.sha256(raw).hexdigest(), raw)
        index["manifests"] = [dict(index["manifests"][0], digest=new, size=len(raw))]
        REG.push_manifest("tamper/otherdigestb", "sha256-" + unsigned[7:], index,
                          media_type="application/vnd.oci.image.index.v1+json")
        res = self.verify(self.pub, f"{repo}:unsigned", expect=1)
        self.assertIn(f"the statement's subject is {signed}, not the image's {unsigned}", self.reasons(res))

    def test_signature_layers_are_capped(self):
        # A .sig manifest listing 100 layers (anyone who can push may write one): 64 are read.
        digest, repo = self.image("tamper/many", "v1", "many")
        self.sign(self.key, f"{repo}:v1")
        tag = "sha256-" + digest[7:] + ".sig"
        manifest, _ = REG.get_manifest("tamper/many", tag)
        manifest["layers"] = manifest["layers"] * 100
        REG.push_manifest("tamper/many", tag, manifest)
        code, out, err = self.kg("verify", "--key", self.pub, *self.reg_flags(), "-o", "json", f"{repo}:v1")
        self.assertEqual(code, 0, err)
        self.assertEqual(len(json.loads(out)["signatures"]), 64)
        self.assertIn("more than 64 signatures: the rest were not read", err)

    def test_retagged_image(self):
        signed, repo = self.image("tamper/retag", "v1", "retag-a")
        self.sign(self.key, f"{repo}:v1")
        self.sign(self.key, f"{repo}:v1", "--format", "bundle")
        self.verify(self.pub, f"{repo}:v1")
        # The tag now points at other, unsigned content: the signatures of the old digest do not apply.
        moved = REG.push_image("tamper/retag", "v1", "retag-b")
        res = self.verify(self.pub, f"{repo}:v1", expect=1)
        self.assertEqual(res["digest"], moved)
        self.assertEqual(res["signatures"], [])
        # A digest reference the registry's content does not match is refused.
        code, _, err = self.kg("verify", "--key", self.pub, *self.reg_flags(),
                               f"{repo}@sha256:" + "0" * 64)
        self.assertEqual(code, 2)


class Pkcs11(Case):
    def test_sign_in_token_verify_with_exported_key(self):
        digest, repo = self.image("hsm/app", "v1", "hsm")
        pub = os.path.join(self.dir, "hsm.pub")
        with open(pub, "w") as f:
            f.write(HSM.public_pem())
        for fmt in ("legacy", "bundle"):
            _, err = self.sign(HSM.uri(), f"{repo}:v1", "--format", fmt)
            self.assertIn("pin-value=***", err)
            self.assertNotIn(HSM.PIN + ")", err)
        res = self.verify(pub, f"{repo}:v1")
        self.assertEqual(sorted(s["format"] for s in res["signatures"] if s["verified"]), ["bundle", "legacy"])
        res = self.verify(HSM.uri(pin=False), f"{repo}:v1")
        self.assertTrue(res["verified"])

    def test_errors(self):
        _, repo = self.image("hsm/errors", "v1", "hsm-errors")
        code, _, err = self.kg("sign", "--key", HSM.uri().replace("pin-value=1234", "pin-value=9999"),
                               *self.reg_flags(), f"{repo}:v1")
        self.assertEqual(code, 2)
        self.assertIn("CKR_PIN_INCORRECT", err)
        self.assertNotIn("9999", err)
        code, _, err = self.kg("sign", "--key", HSM.uri(obj="nope"), *self.reg_flags(), f"{repo}:v1")
        self.assertEqual(code, 2)
        self.assertIn("no public key", err)
        code, _, err = self.kg("sign", "--key", HSM.uri().replace("token=kguard", "token=absent"),
                               *self.reg_flags(), f"{repo}:v1")
        self.assertEqual(code, 2)
        self.assertIn("no token matches (tokens: kguard", err)
        code, _, err = self.kg("sign", "--key", "pkcs11:token=kguard;object=signer;colour=red?module-path=x",
                               *self.reg_flags(), f"{repo}:v1")
        self.assertEqual(code, 2)
        self.assertIn('unknown path attribute "colour"', err)


class Registries(Case):
    def test_plain_http_needs_the_flag(self):
        key, pub = self.keygen()
        digest = REG.push_image("plain/app", "v1", "plain", plain=True)
        image = f"{REG.plain_host}/plain/app:v1"
        code, _, err = self.kg("sign", "--key", key, image)
        self.assertEqual(code, 2, err)
        for fmt in ("legacy", "bundle"):
            code, _, err = self.kg("sign", "--key", key, "--allow-insecure-registry", "--format", fmt, image)
            self.assertEqual(code, 0, err)
        code, out, err = self.kg("verify", "--key", pub, "--allow-http-registry", "-o", "json", image)
        self.assertEqual(code, 0, err)
        self.assertEqual(json.loads(out)["digest"], digest)

    def test_bearer_token_push(self):
        # The same storage behind the Bearer token flow: sign asks for pull,push, verify for pull.
        key, pub = self.keygen()
        digest = REG.push_image("bearer/app", "v1", "bearer")
        image = f"{REG.bearer_host}/bearer/app:v1"
        for fmt in ("legacy", "bundle"):
            self.sign(key, image, "--format", fmt)
        res = self.verify(pub, image)
        self.assertEqual(res["digest"], digest)
        self.assertEqual(sorted(s["format"] for s in res["signatures"] if s["verified"]), ["bundle", "legacy"])
        # Anonymous callers get pull only: signing (with a new key, so there is something to push) is
        # refused by the registry.
        other, _ = self.keygen("other")
        anon = os.path.join(self.dir, "anon.json")
        with open(anon, "w") as f:
            f.write("{}")
        code, _, err = self.kg("sign", "--key", other, "--registry-ca", REG.ca, "--docker-config", anon, image)
        self.assertEqual(code, 2)
        self.assertIn("HTTP 401", err)

    def test_bad_credentials_and_unknown_ca(self):
        key, _ = self.keygen()
        _, repo = self.image("auth/app", "v1", "auth")
        bad = os.path.join(self.dir, "config.json")
        with open(bad, "w") as f:
            json.dump({"auths": {REG.host: {"auth": base64.b64encode(b"signer:wrong").decode()}}}, f)
        code, _, err = self.kg("sign", "--key", key, "--registry-ca", REG.ca, "--docker-config", bad, f"{repo}:v1")
        self.assertEqual(code, 2)
        self.assertIn("HTTP 401", err)
        env = dict(self.env)
        env.pop("SSL_CERT_FILE", None)
        code, _, err = self.kg("sign", "--key", key, "--docker-config", REG.docker_config + "/config.json",
                               f"{repo}:v1", env=env)
        self.assertEqual(code, 2)
        self.assertIn("certificate", err.lower())

    def test_missing_image(self):
        key, pub = self.keygen()
        code, _, err = self.kg("verify", "--key", pub, *self.reg_flags(), f"{REG.host}/no/such:v1")
        self.assertEqual(code, 2)
        self.assertIn("no such image", err)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: sign_test.py KGUARD")
    KGUARD = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)

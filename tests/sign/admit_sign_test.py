#!/usr/bin/env python3
"""kguard admit's signature gate (admission.signatures) through the real binary over real TLS, against
the Debian docker-registry on loopback (TLS with a test CA, htpasswd; tests/sign/sign_support.py):

- an image signed by kguard (legacy format; and a bundle) is admitted, and the second request is
  answered from the digest-keyed verdict cache;
- an image signed by the real cosign (when tests/sign/build_cosign.sh's cached build is there) is admitted;
- an unsigned image, one signed by a key the policy does not name, and one whose tag was moved to an
  unsigned digest are denied, the denial naming the image, the digest and the reason;
- all-of: one key of two is not enough; a key file and a PKCS#11 (SoftHSM2) key together are;
- warn and audit mode admit with a warning / an audit annotation;
- an unreachable registry fails closed under enforce, open with failClosed: false;
- every decision is in the audit log with its digest, policy, outcome and keys;
- required attestations (attestations: vuln with maxSeverity/maxAge, cyclonedx): each missing one, one
  signed by another key, and a scan over maxSeverity is its own denial reason naming the image, the
  digest and the predicate type; once both pass the image is admitted, each attestation in the audit log;
- key rotation and revocation: a retired key (past notAfter) and a key not yet valid do not admit, the
  new key does, an image signed by old and new is admitted during the transition; an image signed only
  by a revoked key (the policy's revokedKeys by file, admission.revokedKeys by fingerprint) is denied
  with the reason naming the key's fingerprint;
- keyless: a policy trusting a test CA's chain for dev@example.com admits an image signed with a
  certificate for that identity and denies one whose certificate names another.

  admit_sign_test.py KGUARD
"""
import datetime
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import sign_support as S  # noqa: E402
from admit_support import Webhook, review_for, restricted_pod  # noqa: E402

KGUARD = None
COSIGN = os.path.expanduser("~/.cache/kguard-e2e/cosign-v2.6.5/cosign")
REG = HSM = WEBHOOK = None
WORK = None
KEYS = {}
PASSWORD = "admit-password"


def env():
    e = HSM.env(REG.env())
    e["COSIGN_PASSWORD"] = PASSWORD
    e["HOME"] = WORK.name
    return e


def kg(*argv):
    return S.run(KGUARD, *argv, env=env())


def reg_flags():
    return ["--registry-ca", REG.ca, "--docker-config", REG.docker_config + "/config.json"]


def keygen(prefix):
    code, _, err = kg("keygen", "--output-key-prefix", os.path.join(WORK.name, prefix))
    assert code == 0, err
    return os.path.join(WORK.name, prefix + ".key"), os.path.join(WORK.name, prefix + ".pub")


def sign(key, image, *extra):
    code, _, err = kg("sign", "--key", key, *reg_flags(), *extra, image)
    assert code == 0, err


def make_keyless_certificates():
    """A test CA (root -> intermediate) and Fulcio-shaped leaves for one key: dev@ and eve@example.com."""
    import keyless_test as K
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    root, root_key = K.make_ca("admit test root")
    inter, inter_key = K.make_ca("admit test intermediate", root, root_key)
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    files = {"ca-chain.pem": K.pem(inter) + K.pem(root),
             "leaf.key": leaf_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                serialization.NoEncryption()),
             "dev.pem": K.pem(K.make_leaf(inter, inter_key, leaf_key)),
             "eve.pem": K.pem(K.make_leaf(inter, inter_key, leaf_key, identity="eve@example.com"))}
    for name, data in files.items():
        with open(os.path.join(WORK.name, name), "wb") as f:
            f.write(data)


def fingerprint(pub):
    """sha256 of the public key's DER, as kguard names keys."""
    der = subprocess.run(["openssl", "pkey", "-pubin", "-in", pub, "-outform", "DER"], check=True,
                         capture_output=True).stdout
    return hashlib.sha256(der).hexdigest()


def setUpModule():
    global REG, HSM, WORK, WEBHOOK
    REG = S.Registry()
    HSM = S.SoftHsm()
    WORK = tempfile.TemporaryDirectory()
    for name in ("release", "other", "second", "old", "new", "next", "leaked", "globalleak"):
        KEYS[name] = keygen(name)
    KEYS["globalleak-fp"] = fingerprint(KEYS["globalleak"][1])
    today = datetime.datetime.now(datetime.timezone.utc).date()
    yesterday, next_year = today - datetime.timedelta(days=1), today + datetime.timedelta(days=366)
    with open(os.path.join(WORK.name, "hsm.pub"), "w") as f:
        f.write(HSM.public_pem())
    make_keyless_certificates()
    closed = S.free_port()  # nothing listens there: the unreachable registry
    KEYS["closed"] = closed
    config = f"""
admission:
  revokedKeys: ["sha256:{KEYS['globalleak-fp']}"]
  signatures:
    - name: keyless
      registries: ["{REG.host}/keyless/*"]
      keyless: {{certificateChain: ca-chain.pem, identity: dev@example.com, issuer: "https://issuer.example",
                ignoreTlog: true}}
    - name: rotation
      registries: ["{REG.host}/rot/*"]
      keys:
        - {{key: old.pub, name: release-old, notAfter: {yesterday}}}
        - {{key: new.pub, name: release-new, notBefore: {yesterday}}}
        - {{key: next.pub, name: release-next, notBefore: "{next_year}T00:00:00Z"}}
      revokedKeys: [leaked.pub]
    - name: unreachable-lenient
      registries: ["127.0.0.1:{closed}/*"]
      namespaces: [lenient]
      keys: [release.pub]
      failClosed: false
    - name: unreachable
      registries: ["127.0.0.1:{closed}/*"]
      keys: [release.pub]
    - name: soft
      registries: ["{REG.host}/*"]
      namespaces: [soft]
      mode: warn
      keys: [release.pub]
    - name: watch
      registries: ["{REG.host}/*"]
      namespaces: [watch]
      mode: audit
      keys: [release.pub]
    - name: two-keys
      registries: ["{REG.host}/both/*"]
      require: all
      keys: [release.pub, "{HSM.uri(pin=False)}"]
    - name: attested
      registries: ["{REG.host}/attested/*"]
      keys: [release.pub]
      attestations:
        - {{type: vuln, maxSeverity: high, maxAge: 7d}}
        - cyclonedx
    - name: release
      registries: ["{REG.host}/*"]
      keys: [release.pub, cosign.pub, globalleak.pub]
"""
    if os.path.exists(COSIGN):
        code, _, err = S.run(COSIGN, "generate-key-pair", "--output-key-prefix", os.path.join(WORK.name, "cosign"),
                             env=env(), timeout=300)
        assert code == 0, err
    else:
        # The policy still names a cosign.pub: a key pair of kguard's (cosign's format) stands in.
        keygen("cosign")
    # The webhook reads the PKCS#11 key from the same SoftHSM2 token.
    os.environ["SOFTHSM2_CONF"] = HSM.conf
    # The config sits beside the keys: key paths in it are relative to the config file.
    WEBHOOK = Webhook(KGUARD, WORK.name, config_text=config,
                      extra_args=["--tag-ttl", "0s", "--unsigned-ttl", "0s", *reg_flags()])


def tearDownModule():
    if WEBHOOK:
        WEBHOOK.stop()
    REG.stop()
    HSM.stop()
    WORK.cleanup()


def admit(image, namespace="default"):
    pod = restricted_pod(name="p", namespace=namespace, image=image)
    review = review_for(pod)
    resp = WEBHOOK.review(review, timeout="20s")
    return review["request"]["uid"], resp


def audit_of(uid):
    for rec in WEBHOOK.audit_records():
        if rec.get("uid") == uid:
            return rec
    raise AssertionError("no audit record for " + uid)


class Gate(unittest.TestCase):
    def expect_denied(self, image, digest, reason, namespace="default"):
        uid, resp = admit(image, namespace)
        self.assertFalse(resp["allowed"], resp)
        msg = resp["status"]["message"]
        self.assertIn(image, msg)
        self.assertIn(digest, msg)
        self.assertIn(reason, msg)
        rec = audit_of(uid)
        self.assertEqual(rec["verdict"], "deny")
        return rec, msg

    def test_signed_by_kguard_admitted_then_cached(self):
        digest = REG.push_image("app/signed", "v1", "signed")
        image = f"{REG.host}/app/signed:v1"
        sign(KEYS["release"][0], image)
        uid, resp = admit(image)
        self.assertTrue(resp["allowed"], resp)
        sig = audit_of(uid)["signatures"][0]
        self.assertEqual((sig["digest"], sig["policy"], sig["outcome"], sig["cache"]),
                         (digest, "release", "verified", "verify"))
        self.assertEqual(len(sig["signedBy"]), 1)
        print(f"\n  verification on a miss (tag resolved, signatures read and checked): {sig['verifyMs']:.1f} ms",
              file=sys.stderr)
        uid, resp = admit(image)
        self.assertTrue(resp["allowed"], resp)
        self.assertEqual(audit_of(uid)["signatures"][0]["cache"], "hit")
        self.assertIn('kguard_admission_signature_cache_total{result="hit"}', WEBHOOK.metrics())

    def test_signed_bundle_by_digest_admitted(self):
        digest = REG.push_image("app/bundle", "v1", "bundle")
        image = f"{REG.host}/app/bundle@{digest}"
        sign(KEYS["release"][0], image, "--format", "bundle")
        uid, resp = admit(image)
        self.assertTrue(resp["allowed"], resp)
        self.assertEqual(audit_of(uid)["signatures"][0]["outcome"], "verified")

    @unittest.skipUnless(os.path.exists(COSIGN), "no cached cosign build (tests/sign/build_cosign.sh)")
    def test_signed_by_cosign_admitted(self):
        digest = REG.push_image("app/cosigned", "v1", "cosigned")
        code, _, err = S.run(COSIGN, "sign", "--key", os.path.join(WORK.name, "cosign.key"), "--tlog-upload=false",
                             "-y", f"{REG.host}/app/cosigned@{digest}", env=env(), timeout=300)
        self.assertEqual(code, 0, err)
        uid, resp = admit(f"{REG.host}/app/cosigned:v1")
        self.assertTrue(resp["allowed"], resp)
        sig = audit_of(uid)["signatures"][0]
        self.assertEqual((sig["digest"], sig["outcome"]), (digest, "verified"))

    def test_unsigned_denied(self):
        digest = REG.push_image("app/unsigned", "v1", "unsigned")
        rec, _ = self.expect_denied(f"{REG.host}/app/unsigned:v1", digest, "no cosign signature found")
        self.assertEqual(rec["signatures"][0]["outcome"], "unverified")

    def test_wrong_key_denied(self):
        digest = REG.push_image("app/wrongkey", "v1", "wrongkey")
        sign(KEYS["other"][0], f"{REG.host}/app/wrongkey:v1")
        rec, msg = self.expect_denied(f"{REG.host}/app/wrongkey:v1", digest, "none verified")
        self.assertIn('signature policy "release"', msg)
        self.assertEqual(rec["signatures"][0]["signedBy"], [])

    def test_moved_tag_denied(self):
        signed = REG.push_image("app/moved", "v1", "moved-a")
        image = f"{REG.host}/app/moved:v1"
        sign(KEYS["release"][0], image)
        _, resp = admit(image)
        self.assertTrue(resp["allowed"], resp)
        moved = REG.push_image("app/moved", "v1", "moved-b")
        self.assertNotEqual(signed, moved)
        # The verdict of the signed digest is cached, but the tag names another digest now.
        rec, _ = self.expect_denied(image, moved, "no cosign signature found")
        self.assertEqual(rec["signatures"][0]["digest"], moved)

    def test_all_of(self):
        digest = REG.push_image("both/app", "v1", "both")
        image = f"{REG.host}/both/app:v1"
        sign(KEYS["release"][0], image)
        self.expect_denied(image, digest, "require: all, but not signed by pkcs11:")
        sign(HSM.uri(), image)
        uid, resp = admit(image)
        self.assertTrue(resp["allowed"], resp)
        self.assertEqual(len(audit_of(uid)["signatures"][0]["signedBy"]), 2)

    def test_warn_and_audit_admit(self):
        REG.push_image("app/soft", "v1", "soft")
        image = f"{REG.host}/app/soft:v1"
        uid, resp = admit(image, "soft")
        self.assertTrue(resp["allowed"], resp)
        self.assertTrue(any("not signed" in w for w in resp.get("warnings", [])), resp)
        self.assertEqual(audit_of(uid)["signatures"][0]["mode"], "warn")
        uid, resp = admit(image, "watch")
        self.assertTrue(resp["allowed"], resp)
        self.assertIn("image-signatures-audit", str(resp.get("auditAnnotations", {})))
        self.assertEqual(audit_of(uid)["signatures"][0]["outcome"], "unverified")

    def test_unreachable_registry(self):
        image = f"127.0.0.1:{KEYS['closed']}/app/x:1"
        uid, resp = admit(image)
        self.assertFalse(resp["allowed"], resp)
        self.assertIn("fails closed", resp["status"]["message"])
        self.assertEqual(audit_of(uid)["signatures"][0]["outcome"], "error")
        uid, resp = admit(image, "lenient")
        self.assertTrue(resp["allowed"], resp)
        self.assertTrue(any("cannot be verified" in w for w in resp.get("warnings", [])), resp)


def predicate(name, body):
    path = os.path.join(WORK.name, name)
    with open(path, "w") as f:
        json.dump(body, f)
    return path


def attest(key, image, type_, path, *extra):
    code, _, err = kg("attest", "--key", key, "--type", type_, "--predicate", path, *reg_flags(), *extra, image)
    assert code == 0, err


class Attestations(unittest.TestCase):
    VULN = "https://cosign.sigstore.dev/attestation/vuln/v1"
    SBOM = "https://cyclonedx.org/bom"

    def vuln_predicate(self, name, severity):
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        return predicate(name, {"scanner": {"uri": "pkg:generic/test", "version": "1",
                                            "result": {"matches": [{"id": "CVE-2099-0001", "severity": severity}]}},
                                "metadata": {"scanStartedOn": now, "scanFinishedOn": now}})

    def test_required_attestations(self):
        digest = REG.push_image("attested/app", "v1", "attested")
        image = f"{REG.host}/attested/app:v1"
        sign(KEYS["release"][0], image)
        # Signed, nothing attested: one reason per required attestation.
        uid, resp = admit(image)
        self.assertFalse(resp["allowed"], resp)
        msg = resp["status"]["message"]
        for t in (self.VULN, self.SBOM):
            self.assertIn(f"image {image} ({digest}) lacks the attestation {t} that signature policy \"attested\" "
                          "requires: no attestation of this type signed by the key", msg)
        sig = audit_of(uid)["signatures"][0]
        self.assertEqual(sig["outcome"], "verified")
        self.assertEqual([(a["predicateType"], a["outcome"]) for a in sig["attestations"]],
                         [(self.VULN, "missing"), (self.SBOM, "missing")])
        # A scan attested by another key does not count, and says why.
        attest(KEYS["other"][0], image, "vuln", self.vuln_predicate("clean.json", "low"))
        _, resp = admit(image)
        self.assertIn("lacks the attestation " + self.VULN, resp["status"]["message"])
        self.assertIn("the DSSE signature does not verify", resp["status"]["message"])
        # By the right key, but a critical vulnerability over maxSeverity: high.
        attest(KEYS["release"][0], image, "vuln", self.vuln_predicate("critical.json", "critical"))
        attest(KEYS["release"][0], image, "cyclonedx",
               predicate("bom.json", {"bomFormat": "CycloneDX", "specVersion": "1.6", "components": []}))
        uid, resp = admit(image)
        self.assertFalse(resp["allowed"], resp)
        msg = resp["status"]["message"]
        self.assertIn(f"image {image} ({digest}) fails the attestation {self.VULN}", msg)
        self.assertIn("max-severity: a critical vulnerability (CVE-2099-0001) at scan time, above high", msg)
        self.assertNotIn("lacks the attestation " + self.SBOM, msg)
        atts = audit_of(uid)["signatures"][0]["attestations"]
        self.assertEqual([a["outcome"] for a in atts], ["failed", "verified"])
        self.assertEqual(len(atts[1]["signedBy"]), 1)
        # The scan replaced by a clean one: admitted.
        attest(KEYS["release"][0], image, "vuln", self.vuln_predicate("clean.json", "low"), "--replace")
        uid, resp = admit(image)
        self.assertTrue(resp["allowed"], resp)
        sig = audit_of(uid)["signatures"][0]
        atts = sig["attestations"]
        self.assertEqual([a["outcome"] for a in atts], ["verified", "verified"])
        print(f"\n  verification on a miss with two required attestations: {sig['verifyMs']:.1f} ms", file=sys.stderr)
        # The passing verdict is cached with its attestations (the key set and requirements in its key).
        uid, resp = admit(image)
        self.assertTrue(resp["allowed"], resp)
        self.assertEqual(audit_of(uid)["signatures"][0]["cache"], "hit")

    def test_old_scan_refused(self):
        digest = REG.push_image("attested/old", "v1", "attested-old")
        image = f"{REG.host}/attested/old@{digest}"
        sign(KEYS["release"][0], image)
        old = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 30 * 86400))
        attest(KEYS["release"][0], image, "vuln", predicate("old.json", {
            "scanner": {"uri": "pkg:generic/test", "version": "1", "result": {"matches": []}},
            "metadata": {"scanStartedOn": old, "scanFinishedOn": old}}))
        attest(KEYS["release"][0], image, "cyclonedx", predicate("bom2.json", {"bomFormat": "CycloneDX"}))
        _, resp = admit(image)
        self.assertFalse(resp["allowed"], resp)
        self.assertIn("fails the attestation " + self.VULN, resp["status"]["message"])
        self.assertIn("older than 7d", resp["status"]["message"])


class Rotation(unittest.TestCase):
    """A rotation policy (old key retired yesterday, new key valid since yesterday, next key valid from
    next year, a leaked key revoked) and admission-wide revocation by fingerprint."""

    def test_retired_key_denied_new_key_admitted(self):
        digest = REG.push_image("rot/app", "v1", "rot-old")
        image = f"{REG.host}/rot/app:v1"
        sign(KEYS["old"][0], image)
        rec, msg = Gate.expect_denied(self, image, digest, "retired at")
        self.assertIn("'release-old' (sha256:" + fingerprint(KEYS["old"][1]) + ")", msg)
        self.assertEqual(rec["signatures"][0]["signedBy"], [])
        # Re-signed with the new key: admitted (the old signature stays and does not matter).
        sign(KEYS["new"][0], image)
        uid, resp = admit(image)
        self.assertTrue(resp["allowed"], resp)
        self.assertEqual(audit_of(uid)["signatures"][0]["signedBy"], ["sha256:" + fingerprint(KEYS["new"][1])[:16]])

    def test_key_not_yet_valid_denied(self):
        digest = REG.push_image("rot/early", "v1", "rot-early")
        image = f"{REG.host}/rot/early:v1"
        sign(KEYS["next"][0], image)
        Gate.expect_denied(self, image, digest, "'release-next' (sha256:" + fingerprint(KEYS["next"][1]) +
                           "), not valid before")

    def test_revoked_key_denied_with_fingerprint(self):
        digest = REG.push_image("rot/leaked", "v1", "rot-leaked")
        image = f"{REG.host}/rot/leaked:v1"
        sign(KEYS["leaked"][0], image, "--format", "bundle")
        fp = fingerprint(KEYS["leaked"][1])
        rec, msg = Gate.expect_denied(self, image, digest, "signed by revoked key sha256:" + fp)
        self.assertIn("signed by revoked key sha256:" + fp, rec["signatures"][0]["reason"])
        # A valid signature next to the revoked one admits: revocation takes away only that key's.
        sign(KEYS["new"][0], image)
        uid, resp = admit(image)
        self.assertTrue(resp["allowed"], resp)

    def test_admission_wide_revocation_by_fingerprint(self):
        digest = REG.push_image("app/globalleak", "v1", "globalleak")
        image = f"{REG.host}/app/globalleak:v1"
        sign(KEYS["globalleak"][0], image)
        # globalleak.pub is among the "release" policy's keys, but revoked for the whole admission.
        _, msg = Gate.expect_denied(self, image, digest, "signed by revoked key sha256:" + KEYS["globalleak-fp"])
        self.assertIn('signature policy "release"', msg)



class Keyless(unittest.TestCase):
    def test_certificate_identity_admits_and_denies(self):
        for who, admitted in (("dev", True), ("eve", False)):
            digest = REG.push_image("keyless/" + who, "v1", "keyless-" + who)
            image = f"{REG.host}/keyless/{who}:v1"
            sign(os.path.join(WORK.name, "leaf.key"), image, "--certificate", os.path.join(WORK.name, who + ".pem"),
                 "--certificate-chain", os.path.join(WORK.name, "ca-chain.pem"))
            if admitted:
                uid, resp = admit(image)
                self.assertTrue(resp["allowed"], resp)
                sig = audit_of(uid)["signatures"][0]
                self.assertEqual((sig["policy"], sig["outcome"]), ("keyless", "verified"))
                self.assertIn("keyless:dev@example.com", sig["signedBy"])
            else:
                Gate.expect_denied(self, image, digest,
                                   "the certificate's identity (eve@example.com) is not dev@example.com")


if __name__ == "__main__":
    KGUARD = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)

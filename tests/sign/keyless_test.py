#!/usr/bin/env python3
"""Keyless (certificate) verification, kguard against the real cosign v2.6.5 (tests/sign/build_cosign.sh)
on the Debian docker-registry on loopback (TLS + htpasswd; tests/sign/sign_support.py).

A test CA made here (root -> intermediate, Python's cryptography package, as openssl would) issues
Fulcio-shaped leaf certificates: empty subject, a critical SAN (email or URI), extended key usage
codeSigning, Fulcio's OIDC issuer extensions 1.3.6.1.4.1.57264.1.1 (raw) and .1.8 (UTF8String).

- cosign signs with --key --certificate --certificate-chain --tlog-upload=false -> kguard verifies
  keyless with --certificate-chain, with --ca-roots/--ca-intermediates and with a Sigstore
  trusted_root.json, by exact identity/issuer and by regular expressions;
- kguard signs with --certificate --certificate-chain -> cosign verifies with --certificate-chain
  --certificate-identity --certificate-oidc-issuer --insecure-ignore-tlog --insecure-ignore-sct;
- a wrong identity, a wrong issuer, an untrusted CA and an expired certificate are each rejected by
  both tools; a certificate without codeSigning, and one for another key, by kguard;
- kguard's bundle format with a certificate verifies keyless in kguard;
- the signing time from an RFC 3161 timestamp (OpenSSL's `openssl ts -reply` as the TSA on
  loopback): cosign signs with --timestamp-server-url and a certificate that expires 15 s later;
  after it expired both tools reject it at the current time and accept it at its verified timestamp
  (--timestamp-certificate-chain; kguard also a trusted_root.json's timestampAuthorities); a
  timestamp by an untrusted TSA is rejected by both, a signature without one by kguard;
- bundles with a certificate both ways: cosign's (--new-bundle-format, with a timestamp) verified by
  kguard and cosign; kguard's verified by cosign (--trusted-root, --insecure-ignore-tlog).

  keyless_test.py KGUARD BUILD_COSIGN_SH
"""
import base64
import datetime
import json
import os
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sign_support as S  # noqa: E402

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
except ImportError:  # pragma: no cover
    x509 = None

KGUARD = COSIGN = None
REG = WORK = None
PASSWORD = "keyless-password"
IDENTITY, ISSUER = "dev@example.com", "https://issuer.example"
RESULTS = []  # (case, kguard, cosign)
CA = {}  # the intermediate and the leaf key, for certificates made during a test
NOW = datetime.datetime.now(datetime.timezone.utc)


def env():
    e = REG.env()
    e["COSIGN_PASSWORD"] = PASSWORD
    e["HOME"] = WORK.name
    return e


def path(name):
    return os.path.join(WORK.name, name)


def kguard(*argv):
    return S.run(KGUARD, *argv, env=env())


def cosign(*argv):
    return S.run(COSIGN, *argv, env=env(), timeout=300)


def reg_flags():
    return ["--registry-ca", REG.ca, "--docker-config", REG.docker_config + "/config.json"]


def write(name, data):
    with open(path(name), "wb") as f:
        f.write(data)
    return path(name)


def pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


def make_ca(name, parent=None, parent_key=None):
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "kguard test"),
                         x509.NameAttribute(NameOID.COMMON_NAME, name)])
    b = (x509.CertificateBuilder().subject_name(subject)
         .issuer_name(parent.subject if parent else subject)
         .public_key(key.public_key()).serial_number(x509.random_serial_number())
         .not_valid_before(NOW - datetime.timedelta(days=10)).not_valid_after(NOW + datetime.timedelta(days=30))
         .add_extension(x509.BasicConstraints(ca=True, path_length=None if parent is None else 0), critical=True)
         .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                      data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                      crl_sign=True, encipher_only=False, decipher_only=False), critical=True))
    return b.sign(parent_key or key, hashes.SHA256()), key


def make_leaf(ca, ca_key, leaf_key, identity=IDENTITY, issuer=ISSUER, expired=False, code_signing=True, end=None):
    """A Fulcio-shaped signing certificate for leaf_key."""
    san = x509.RFC822Name(identity) if "@" in identity else x509.UniformResourceIdentifier(identity)
    start = NOW - datetime.timedelta(days=3 if expired else 0, minutes=5)
    end = end or (NOW - datetime.timedelta(days=2) if expired else NOW + datetime.timedelta(minutes=30))
    utf8 = issuer.encode()
    b = (x509.CertificateBuilder().subject_name(x509.Name([])).issuer_name(ca.subject)
         .public_key(leaf_key.public_key()).serial_number(x509.random_serial_number())
         .not_valid_before(start).not_valid_after(end)
         .add_extension(x509.SubjectAlternativeName([san]), critical=True)
         .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                      data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                      crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
         .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING if code_signing
                                               else ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
         .add_extension(x509.UnrecognizedExtension(x509.ObjectIdentifier("1.3.6.1.4.1.57264.1.1"), utf8),
                        critical=False)
         .add_extension(x509.UnrecognizedExtension(x509.ObjectIdentifier("1.3.6.1.4.1.57264.1.8"),
                                                   b"\x0c" + bytes([len(utf8)]) + utf8), critical=False))
    return b.sign(ca_key, hashes.SHA256())


def setUpModule():
    global REG, WORK
    REG = S.Registry()
    WORK = tempfile.TemporaryDirectory()
    root, root_key = make_ca("kguard test root")
    inter, inter_key = make_ca("kguard test intermediate", root, root_key)
    other_root, other_key = make_ca("untrusted root")
    write("root.pem", pem(root))
    write("inter.pem", pem(inter))
    write("chain.pem", pem(inter) + pem(root))
    write("other-chain.pem", pem(other_root))
    write("trusted_root.json", json.dumps({
        "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
        "certificateAuthorities": [{
            "subject": {"organization": "kguard test", "commonName": "kguard test root"},
            "uri": "https://ca.kguard.test",
            "certChain": {"certificates": [
                {"rawBytes": base64.b64encode(c.public_bytes(serialization.Encoding.DER)).decode()}
                for c in (inter, root)]},
            "validFor": {"start": (NOW - datetime.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%S.000Z")}}],
        "tlogs": [], "ctlogs": [], "timestampAuthorities": []}).encode())
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    CA.update(inter=inter, inter_key=inter_key, leaf_key=leaf_key)
    write("leaf.key", leaf_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                             serialization.NoEncryption()))
    write("leaf.pem", pem(make_leaf(inter, inter_key, leaf_key)))
    write("expired.pem", pem(make_leaf(inter, inter_key, leaf_key, expired=True)))
    write("untrusted.pem", pem(make_leaf(other_root, other_key, leaf_key)))
    write("server-auth.pem", pem(make_leaf(inter, inter_key, leaf_key, code_signing=False)))
    write("uri.pem", pem(make_leaf(inter, inter_key, leaf_key,
                                   identity="https://github.com/example/app/.github/workflows/release.yml@refs/heads/main")))
    other_leaf_key = ec.generate_private_key(ec.SECP256R1())
    write("otherkey.pem", pem(make_leaf(inter, inter_key, other_leaf_key)))
    if COSIGN:
        # cosign signs with an encrypted key of its own format: the same key, imported.
        code, _, err = cosign("import-key-pair", "--key", path("leaf.key"), "--output-key-prefix", path("leafcs"))
        assert code == 0, err


def tearDownModule():
    REG.stop()
    WORK.cleanup()
    if RESULTS:
        print("\nkeyless interoperability (cosign v2.6.5):", file=sys.stderr)
        for row in RESULTS:
            print("  %-58s kguard: %-8s cosign: %s" % row, file=sys.stderr)


class Tsa:
    """An RFC 3161 time-stamping authority: OpenSSL's `openssl ts -reply` behind a loopback HTTP
    endpoint (application/timestamp-query in, application/timestamp-reply out), its certificate
    (EKU timeStamping, critical) issued by its own root."""

    def __init__(self):
        import http.server
        import threading
        root, root_key = make_ca("kguard test TSA root")
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (x509.CertificateBuilder()
                .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kguard test TSA")]))
                .issuer_name(root.subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(NOW - datetime.timedelta(days=1)).not_valid_after(NOW + datetime.timedelta(days=30))
                .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
                .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                             data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                             crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
                .sign(root_key, hashes.SHA256()))
        write("tsa.key", key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
        write("tsa.pem", pem(cert))
        write("tsa-root.pem", pem(root))
        write("tsa-chain.pem", pem(cert) + pem(root))
        write("tsa.serial", b"01\n")
        with open(path("trusted_root.json")) as f:
            tr = json.load(f)
        tr["timestampAuthorities"] = [{
            "subject": {"organization": "kguard test", "commonName": "kguard test TSA"},
            "certChain": {"certificates": [
                {"rawBytes": base64.b64encode(c.public_bytes(serialization.Encoding.DER)).decode()} for c in (cert, root)]},
            "validFor": {"start": (NOW - datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")}}]
        write("trusted_root_tsa.json", json.dumps(tr).encode())
        write("tsa.cnf", f"""[ tsa ]
default_tsa = tsa1
[ tsa1 ]
serial = {path('tsa.serial')}
signer_cert = {path('tsa.pem')}
certs = {path('tsa-root.pem')}
signer_key = {path('tsa.key')}
signer_digest = sha256
default_policy = 1.2.3.4.1
digests = sha256, sha384, sha512
accuracy = secs:1
ess_cert_id_chain = no
ess_cert_id_alg = sha256
""".encode())
        self.requests = 0
        tsa = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with tempfile.NamedTemporaryFile(dir=WORK.name, suffix=".tsq", delete=False) as q:
                    q.write(body)
                out = q.name + ".tsr"
                r = subprocess.run(["openssl", "ts", "-reply", "-config", path("tsa.cnf"), "-queryfile", q.name,
                                    "-out", out], capture_output=True)
                tsa.requests += 1
                if r.returncode != 0:
                    self.send_response(500)
                    self.end_headers()
                    self.wfile.write(r.stderr)
                    return
                with open(out, "rb") as f:
                    data = f.read()
                self.send_response(200)
                self.send_header("Content-Type", "application/timestamp-reply")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api/v1/timestamp"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()


def keyless_flags(identity=IDENTITY, issuer=ISSUER, trust=("--certificate-chain", "chain.pem")):
    flags = ["--certificate-identity", identity, "--certificate-oidc-issuer", issuer, "--insecure-ignore-tlog"]
    return flags + [trust[0], path(trust[1])] + ([trust[2], path(trust[3])] if len(trust) > 2 else [])


def kg_verify(image, *flags):
    code, out, err = kguard("verify", *reg_flags(), "-o", "json", *flags, image)
    return code, (json.loads(out) if out.strip() else None), err


def cs_verify(image, identity=IDENTITY, issuer=ISSUER, chain="chain.pem"):
    return cosign("verify", "--certificate-chain", path(chain), "--certificate-identity", identity,
                  "--certificate-oidc-issuer", issuer, "--insecure-ignore-tlog", "--insecure-ignore-sct", image)


def kg_sign(image, cert, *extra):
    code, _, err = kguard("sign", "--key", path("leaf.key"), "--certificate", path(cert), "--certificate-chain",
                          path("chain.pem"), *reg_flags(), *extra, image)
    assert code == 0, err


@unittest.skipIf(x509 is None, "Python's cryptography package is not installed")
class KguardOnly(unittest.TestCase):
    def test_trust_sources_and_regexps(self):
        digest = REG.push_image("keyless/kg", "v1", "kg-only")
        image = f"{REG.host}/keyless/kg@{digest}"
        kg_sign(image, "leaf.pem")
        for trust in (("--certificate-chain", "chain.pem"), ("--trusted-root", "trusted_root.json"),
                      ("--ca-roots", "root.pem", "--ca-intermediates", "inter.pem")):
            code, doc, err = kg_verify(image, *keyless_flags(trust=trust))
            self.assertEqual(code, 0, err)
            sig = doc["signatures"][0]
            self.assertEqual((sig["certificateIdentity"], sig["certificateOidcIssuer"]), (IDENTITY, ISSUER))
        code, _, err = kg_verify(image, "--certificate-identity-regexp", "@example\\.com$",
                                 "--certificate-oidc-issuer-regexp", "^https://issuer\\.", "--insecure-ignore-tlog",
                                 "--certificate-chain", path("chain.pem"))
        self.assertEqual(code, 0, err)
        code, doc, _ = kg_verify(image, "--certificate-identity-regexp", "@other\\.com$",
                                 "--certificate-oidc-issuer", ISSUER, "--insecure-ignore-tlog",
                                 "--certificate-chain", path("chain.pem"))
        self.assertEqual(code, 1)
        self.assertIn("is not matched by @other", doc["signatures"][0]["reason"])
        # Without the root in it (intermediates alone) nothing is trusted.
        code, doc, _ = kg_verify(image, *keyless_flags(trust=("--ca-roots", "inter.pem")))
        self.assertEqual(code, 1)
        # The explicit time choice is required; so is an identity.
        code, _, err = kguard("verify", *reg_flags(), "--certificate-identity", IDENTITY, "--certificate-oidc-issuer",
                              ISSUER, "--certificate-chain", path("chain.pem"), image)
        self.assertEqual(code, 2)
        self.assertIn("--insecure-ignore-tlog", err)
        code, _, err = kguard("verify", *reg_flags(), "--certificate-oidc-issuer", ISSUER, "--insecure-ignore-tlog",
                              "--certificate-chain", path("chain.pem"), image)
        self.assertEqual(code, 2)
        self.assertIn("--certificate-identity", err)

    def test_uri_identity_and_bundle(self):
        digest = REG.push_image("keyless/bundle", "v1", "kg-bundle")
        image = f"{REG.host}/keyless/bundle@{digest}"
        kg_sign(image, "uri.pem", "--format", "bundle")
        ident = "https://github.com/example/app/.github/workflows/release.yml@refs/heads/main"
        code, doc, err = kg_verify(image, *keyless_flags(identity=ident, trust=("--trusted-root", "trusted_root.json")))
        self.assertEqual(code, 0, err)
        self.assertEqual(doc["signatures"][0]["format"], "bundle")
        code, doc, _ = kg_verify(image, *keyless_flags(trust=("--trusted-root", "trusted_root.json")))
        self.assertEqual(code, 1)
        self.assertIn("is not dev@example.com", doc["signatures"][0]["reason"])

    def test_sign_report_groups_by_identity(self):
        signed = REG.push_image("keyless/report", "v1", "kg-report")
        kg_sign(f"{REG.host}/keyless/report:v1", "leaf.pem")
        REG.push_image("keyless/report-plain", "v1", "kg-report-plain")
        manifest = write("report.yaml", f"""apiVersion: v1
kind: Pod
metadata: {{name: p, namespace: ns}}
spec:
  containers:
    - {{name: a, image: "{REG.host}/keyless/report:v1"}}
    - {{name: b, image: "{REG.host}/keyless/report-plain:v1"}}
""".encode())
        code, out, err = kguard("sign", "report", *keyless_flags(), *reg_flags(), "-o", "json", manifest)
        self.assertEqual(code, 1, err)
        by_ref = {i["reference"]: i for i in json.loads(out)["images"]}
        ok = by_ref[f"{REG.host}/keyless/report:v1"]
        self.assertEqual((ok["status"], ok["digest"], ok["certificateIdentities"]),
                         ("signed", signed, [f"{IDENTITY} (issuer {ISSUER})"]))
        self.assertEqual(by_ref[f"{REG.host}/keyless/report-plain:v1"]["status"], "unsigned")
        code, out, _ = kguard("sign", "report", *keyless_flags(), *reg_flags(), manifest)
        self.assertIn(f"certificate identity {IDENTITY} (issuer {ISSUER}): 1 image", out)

    def test_not_code_signing_and_other_key(self):
        digest = REG.push_image("keyless/eku", "v1", "kg-eku")
        image = f"{REG.host}/keyless/eku@{digest}"
        kg_sign(image, "server-auth.pem")
        code, doc, _ = kg_verify(image, *keyless_flags())
        self.assertEqual(code, 1)
        self.assertIn("not for code signing", doc["signatures"][0]["reason"])
        code, _, err = kguard("sign", "--key", path("leaf.key"), "--certificate", path("otherkey.pem"), *reg_flags(),
                              image)
        self.assertEqual(code, 2)
        self.assertIn("its public key is not the signing key's", err)


@unittest.skipIf(x509 is None, "Python's cryptography package is not installed")
class WithCosign(unittest.TestCase):
    def setUp(self):
        if not COSIGN:
            self.skipTest("no cosign")

    def cosign_sign(self, image, cert):
        code, _, err = cosign("sign", "--key", path("leafcs.key"), "--certificate", path(cert),
                              "--certificate-chain", path("chain.pem"), "--tlog-upload=false", "-y", image)
        return code, err

    def test_cosign_signs_kguard_verifies(self):
        digest = REG.push_image("keyless/cs", "v1", "cs-signed")
        image = f"{REG.host}/keyless/cs@{digest}"
        code, err = self.cosign_sign(image, "leaf.pem")
        self.assertEqual(code, 0, err)
        for trust in (("--certificate-chain", "chain.pem"), ("--trusted-root", "trusted_root.json")):
            code, doc, err = kg_verify(image, *keyless_flags(trust=trust))
            self.assertEqual(code, 0, err)
            self.assertEqual(doc["signatures"][0]["certificateIdentity"], IDENTITY)
        code, _, err = cs_verify(image)
        self.assertEqual(code, 0, err)
        RESULTS.append(("cosign signs (certificate + chain) -> verify keyless", "pass", "pass"))

    def test_kguard_signs_cosign_verifies(self):
        digest = REG.push_image("keyless/kgcs", "v1", "kg-signed")
        image = f"{REG.host}/keyless/kgcs@{digest}"
        kg_sign(image, "leaf.pem")
        code, _, err = cs_verify(image)
        self.assertEqual(code, 0, err)
        code, _, err = kg_verify(image, *keyless_flags())
        self.assertEqual(code, 0, err)
        RESULTS.append(("kguard signs (certificate + chain) -> verify keyless", "pass", "pass"))

    def test_rejections_by_both(self):
        for signer in ("kguard", "cosign"):
            digest = REG.push_image("keyless/rej-" + signer, "v1", "rejections-" + signer)
            image = f"{REG.host}/keyless/rej-{signer}@{digest}"
            if signer == "kguard":
                kg_sign(image, "leaf.pem")
            else:
                code, err = self.cosign_sign(image, "leaf.pem")
                self.assertEqual(code, 0, err)
            self.rejections(image, signer)

    def rejections(self, image, signer):
        cases = [
            ("wrong identity", dict(identity="eve@example.com"), "is not eve@example.com"),
            ("wrong issuer", dict(issuer="https://other.example"), "OIDC issuer (https://issuer.example) is not"),
            ("untrusted CA", dict(chain="other-chain.pem"), "does not verify against the trusted root"),
        ]
        for name, kw, reason in cases:
            code, doc, err = kg_verify(image, *keyless_flags(
                identity=kw.get("identity", IDENTITY), issuer=kw.get("issuer", ISSUER),
                trust=("--certificate-chain", kw.get("chain", "chain.pem"))))
            self.assertEqual(code, 1, (name, err))
            self.assertIn(reason, doc["signatures"][0]["reason"], name)
            ccode, _, cerr = cs_verify(image, **kw)
            self.assertNotEqual(ccode, 0, (name, cerr))
            RESULTS.append((f"{name} ({signer}'s signature)", "rejected", "rejected: " + cerr.strip().splitlines()[-1][:70]))

    def test_expired_certificate_rejected_by_both(self):
        for signer in ("kguard", "cosign"):
            digest = REG.push_image("keyless/expired-" + signer, "v1", "expired-" + signer)
            image = f"{REG.host}/keyless/expired-{signer}@{digest}"
            if signer == "kguard":
                kg_sign(image, "expired.pem")
            else:
                code, err = self.cosign_sign(image, "expired.pem")
                if code != 0:  # cosign refuses to sign with an expired certificate: that is a rejection too
                    self.assertIn("expired", err)
                    RESULTS.append(("expired certificate (cosign signing)", "-", "refused to sign: certificate expired"))
                    continue
            code, doc, err = kg_verify(image, *keyless_flags())
            self.assertEqual(code, 1, err)
            self.assertIn("certificate has expired", doc["signatures"][0]["reason"])
            ccode, _, cerr = cs_verify(image)
            self.assertNotEqual(ccode, 0, cerr)
            RESULTS.append((f"expired certificate ({signer}'s signature)", "rejected",
                            "rejected: " + cerr.strip().splitlines()[-1][:70]))



@unittest.skipIf(x509 is None, "Python's cryptography package is not installed")
class Timestamps(unittest.TestCase):
    """The signing time from an RFC 3161 timestamp (OpenSSL's TSA on loopback): cosign signs with a
    certificate that expires seconds later and --timestamp-server-url; once the certificate has
    expired, both tools still accept the signature at its timestamp's time and reject it at the
    current time."""

    def setUp(self):
        if not COSIGN:
            self.skipTest("no cosign")
        self.tsa = Tsa()

    def tearDown(self):
        self.tsa.stop()

    def test_timestamp_outlives_the_certificate(self):
        expiry = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=15)
        write("short.pem", pem(make_leaf(CA["inter"], CA["inter_key"], CA["leaf_key"], end=expiry)))
        digest = REG.push_image("keyless/ts", "v1", "timestamped")
        image = f"{REG.host}/keyless/ts@{digest}"
        code, _, err = cosign("sign", "--key", path("leafcs.key"), "--certificate", path("short.pem"),
                              "--certificate-chain", path("chain.pem"), "--tlog-upload=false",
                              "--timestamp-server-url", self.tsa.url, "-y", image)
        self.assertEqual(code, 0, err)
        self.assertEqual(self.tsa.requests, 1)
        ts_flags = ["--certificate-identity", IDENTITY, "--certificate-oidc-issuer", ISSUER,
                    "--certificate-chain", path("chain.pem")]
        code, doc, err = kg_verify(image, *ts_flags, "--timestamp-certificate-chain", path("tsa-chain.pem"))
        self.assertEqual(code, 0, err)
        self.assertIn("signedAt", doc["signatures"][0])
        # Wait for the certificate to expire.
        while datetime.datetime.now(datetime.timezone.utc) < expiry + datetime.timedelta(seconds=2):
            time.sleep(1)
        code, doc, err = kg_verify(image, *ts_flags, "--insecure-ignore-tlog")
        self.assertEqual(code, 1, err)
        self.assertIn("certificate has expired", doc["signatures"][0]["reason"])
        ccode, _, cerr = cs_verify(image)
        self.assertNotEqual(ccode, 0, cerr)
        RESULTS.append(("expired since, checked at the current time", "rejected",
                        "rejected: " + cerr.strip().splitlines()[-1][:70]))
        for flags in (["--timestamp-certificate-chain", path("tsa-chain.pem")],
                      ["--use-signed-timestamps", "--trusted-root", path("trusted_root_tsa.json")]):
            trust = ["--certificate-chain", path("chain.pem")] if "--timestamp-certificate-chain" in flags else []
            code, doc, err = kg_verify(image, "--certificate-identity", IDENTITY, "--certificate-oidc-issuer", ISSUER,
                                       *trust, *flags)
            self.assertEqual(code, 0, (flags, err))
        ccode, _, cerr = cosign("verify", "--certificate-chain", path("chain.pem"), "--certificate-identity", IDENTITY,
                                "--certificate-oidc-issuer", ISSUER, "--insecure-ignore-tlog", "--insecure-ignore-sct",
                                "--use-signed-timestamps", "--timestamp-certificate-chain", path("tsa-chain.pem"), image)
        self.assertEqual(ccode, 0, cerr)
        RESULTS.append(("expired since, checked at its RFC 3161 timestamp", "pass", "pass"))
        # A timestamp by an authority not trusted, and a signature without a timestamp, are rejected.
        code, doc, err = kg_verify(image, *ts_flags, "--timestamp-certificate-chain", path("other-chain.pem"))
        self.assertEqual(code, 1, err)
        self.assertIn("the RFC 3161 timestamp does not verify", doc["signatures"][0]["reason"])
        ccode, _, cerr = cosign("verify", "--certificate-chain", path("chain.pem"), "--certificate-identity", IDENTITY,
                                "--certificate-oidc-issuer", ISSUER, "--insecure-ignore-tlog", "--insecure-ignore-sct",
                                "--use-signed-timestamps", "--timestamp-certificate-chain", path("other-chain.pem"),
                                image)
        self.assertNotEqual(ccode, 0, cerr)
        RESULTS.append(("timestamp by an untrusted TSA", "rejected", "rejected: " + cerr.strip().splitlines()[-1][:70]))
        plain = REG.push_image("keyless/nots", "v1", "not-timestamped")
        kg_sign(f"{REG.host}/keyless/nots@{plain}", "leaf.pem")
        code, doc, err = kg_verify(f"{REG.host}/keyless/nots@{plain}", *ts_flags, "--timestamp-certificate-chain",
                                   path("tsa-chain.pem"))
        self.assertEqual(code, 1, err)
        self.assertIn("no RFC 3161 timestamp in the signature", doc["signatures"][0]["reason"])


    def test_bundles_with_certificates(self):
        # cosign's bundle with a certificate and a timestamp -> both tools.
        digest = REG.push_image("keyless/tsbundle", "v1", "ts-bundle")
        image = f"{REG.host}/keyless/tsbundle@{digest}"
        code, _, err = cosign("sign", "--new-bundle-format", "--key", path("leafcs.key"), "--certificate",
                              path("leaf.pem"), "--certificate-chain", path("chain.pem"), "--tlog-upload=false",
                              "--timestamp-server-url", self.tsa.url, "-y", image)
        self.assertEqual(code, 0, err)
        for trust in (["--certificate-chain", path("chain.pem"), "--timestamp-certificate-chain", path("tsa-chain.pem")],
                      ["--trusted-root", path("trusted_root_tsa.json"), "--use-signed-timestamps"]):
            code, doc, err = kg_verify(image, "--certificate-identity", IDENTITY, "--certificate-oidc-issuer", ISSUER,
                                       *trust)
            self.assertEqual(code, 0, err)
            self.assertEqual((doc["signatures"][0]["format"], doc["signatures"][0]["certificateIdentity"]),
                             ("bundle", IDENTITY))
        cs_bundle = ["verify", "--new-bundle-format", "--trusted-root", path("trusted_root_tsa.json"),
                     "--certificate-identity", IDENTITY, "--certificate-oidc-issuer", ISSUER, "--insecure-ignore-sct",
                     "--insecure-ignore-tlog"]
        code, _, err = cosign(*cs_bundle, "--use-signed-timestamps", image)
        self.assertEqual(code, 0, err)
        RESULTS.append(("cosign bundle (certificate + RFC 3161 timestamp)", "pass", "pass"))
        code, _, err = cosign(*cs_bundle, "--use-signed-timestamps", "--certificate-identity", "eve@example.com", image)
        self.assertNotEqual(code, 0, err)
        # kguard's bundle with a certificate (no timestamp) -> cosign at the current time.
        digest = REG.push_image("keyless/kgbundle", "v1", "kg-bundle-cs")
        image = f"{REG.host}/keyless/kgbundle@{digest}"
        kg_sign(image, "leaf.pem", "--format", "bundle")
        code, _, err = cosign(*cs_bundle, image)
        self.assertEqual(code, 0, err)
        RESULTS.append(("kguard bundle (certificate, no timestamp)", "pass", "pass"))


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit("usage: keyless_test.py KGUARD BUILD_COSIGN_SH")
    KGUARD = os.path.abspath(sys.argv.pop(1))
    build = sys.argv.pop(1)
    p = subprocess.run([build], capture_output=True, text=True)
    if p.returncode == 0:
        COSIGN = p.stdout.strip().splitlines()[-1]
    else:
        print("building cosign failed; the kguard-only cases run:\n" + p.stderr[-2000:], file=sys.stderr)
    unittest.main(verbosity=2)

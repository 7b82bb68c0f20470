#!/usr/bin/env python3
"""Attestations (kguard attest / verify-attestation / verify --attestation) against the real cosign
(built once by tests/sign/build_cosign.sh) on the Debian docker-registry on loopback with TLS and
htpasswd (no referrers API: bundles go through the sha256-<hex> index tag), key files and a
SoftHSM2 PKCS#11 key:

- interop: cosign attest -> kguard verify-attestation and kguard attest -> cosign
  verify-attestation, for the legacy .att tag and the bundle v0.3 referrer, key file and PKCS#11;
- a tampered envelope, a wrong key and an attestation copied to another digest are rejected by both
  tools, on attestations made by each;
- predicates kguard makes itself: --sbom (CycloneDX of the image) and --vuln (cosign's vuln shape
  around kguard image's result against a database built from tests/testdata/vulns/osv), which cosign
  verifies too; the policy: max-severity, max-age, require-sbom, each failure named.

  attest_test.py KGUARD BUILD_COSIGN_SH SOURCE_DIR
"""
import base64
import datetime
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sign_support as S  # noqa: E402

KGUARD = COSIGN = SOURCE = None
COSIGN_PKCS11 = False
REG = HSM = WORK = None
DB = None
MATRIX = []
PASSWORD = "attest-password"
VULN = "https://cosign.sigstore.dev/attestation/vuln/v1"
CDX = "https://cyclonedx.org/bom"


def setUpModule():
    global REG, HSM, WORK, DB
    REG = S.Registry()
    HSM = S.SoftHsm()
    WORK = tempfile.TemporaryDirectory()
    with open(path("trusted_root.json"), "w") as f:
        f.write('{"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1"}')
    code, _, err = kguard("keygen", "--output-key-prefix", path("kg"))
    assert code == 0, err
    code, _, err = cosign("generate-key-pair", "--output-key-prefix", path("cs"))
    assert code == 0, err
    DB = path("vuln.db")
    code, out, err = kguard("db", "build", "--db", DB, "--osv", os.path.join(SOURCE, "tests/testdata/vulns/osv"))
    assert code == 0, out + err
    write("sbom.json", json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
                                   "metadata": {"timestamp": now(-3600)}, "components": []}))
    write("vuln.json", json.dumps(vuln_predicate(now(-600), "High")))


def tearDownModule():
    REG.stop()
    HSM.stop()
    WORK.cleanup()
    if MATRIX:
        print("\nattestation interoperability (Debian docker-registry 2.8, TLS + htpasswd, cosign v2.6.5):",
              file=sys.stderr)
        for row in MATRIX:
            print("  %-46s %-7s %-8s %s" % row, file=sys.stderr)


def now(offset=0):
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=offset)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def vuln_predicate(finished, severity):
    """cosign's vuln predicate with a Trivy-shaped result: one vulnerability of `severity`."""
    return {"invocation": {"parameters": None, "uri": "", "event_id": "", "builder.id": ""},
            "scanner": {"uri": "pkg:github/aquasecurity/trivy", "version": "0.58.0",
                        "db": {"uri": "", "version": ""},
                        "result": {"Results": [{"Target": "app", "Vulnerabilities": [
                            {"VulnerabilityID": "CVE-2099-7777", "Severity": severity}]}]}},
            "metadata": {"scanStartedOn": finished, "scanFinishedOn": finished}}


def env():
    e = HSM.env(REG.env())
    e["COSIGN_PASSWORD"] = PASSWORD
    e["HOME"] = WORK.name
    return e


def kguard(*argv):
    return S.run(KGUARD, *argv, env=env(), timeout=300)


def cosign(*argv):
    return S.run(COSIGN, *argv, env=env(), timeout=300)


def path(name):
    return os.path.join(WORK.name, name)


def write(name, text):
    with open(path(name), "w") as f:
        f.write(text)
    return path(name)


def reg_flags():
    return ["--registry-ca", REG.ca, "--docker-config", REG.docker_config + "/config.json"]


def push_npm_image(repo, tag, version):
    """An image whose one layer (a real tar) installs npm is-number VERSION."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        for name, data in (("app/node_modules/is-number/package.json",
                            json.dumps({"name": "is-number", "version": version}).encode()),
                           ("app/package.json", json.dumps({"name": "app", "version": "1.0.0"}).encode())):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            t.addfile(info, io.BytesIO(data))
    layer = buf.getvalue()
    config = json.dumps({"architecture": "amd64", "os": "linux",
                         "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(layer).hexdigest()]},
                         "config": {}}).encode()
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                           "digest": REG.push_blob(repo, config), "size": len(config)},
                "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                            "digest": REG.push_blob(repo, layer), "size": len(layer)}]}
    return REG.push_manifest(repo, tag, manifest)


def cosign_attest(key, ref, fmt, type_, predicate):
    extra = ["--new-bundle-format"] if fmt == "bundle" else []
    return cosign("attest", "--key", key, "--type", type_, "--predicate", predicate, "--tlog-upload=false", "-y",
                  *extra, ref)


def cosign_verify_att(key, ref, fmt, type_):
    extra = ["--new-bundle-format", "--trusted-root", path("trusted_root.json")] if fmt == "bundle" else []
    return cosign("verify-attestation", "--key", key, "--insecure-ignore-tlog", "--type", type_, *extra, ref)


def cosign_statement(out):
    """The statement of the first envelope cosign verify-attestation printed."""
    env = json.loads(out.strip().splitlines()[0])
    return json.loads(base64.b64decode(env["payload"]))


def kguard_attest(key, ref, fmt, *more):
    return kguard("attest", "--key", key, *reg_flags(), "--format", fmt, *more, ref)


def kguard_verify_att(key, ref, fmt, type_, *more):
    code, out, err = kguard("verify-attestation", "--key", key, "--type", type_, *reg_flags(), "--format", fmt,
                            "-o", "json", *more, ref)
    return code, (json.loads(out) if out.strip() else None), err


class Interop(unittest.TestCase):
    def matrix(self, fmt, kind):
        repo = f"attest/{fmt}-{kind}"
        if kind == "file":
            cosign_key, kguard_pub = path("kg.key"), path("kg.pub")
            kguard_key, cosign_pub = path("cs.key"), path("cs.pub")
        else:
            if not COSIGN_PKCS11:
                self.skipTest("this cosign build has no PKCS#11 support")
            cosign_key = kguard_key = HSM.uri()
            kguard_pub = HSM.uri(pin=False)
            cosign_pub = HSM.uri()  # cosign logs into the token even to read the public key
        # cosign attests -> kguard verifies
        d1 = REG.push_image(repo, "by-cosign", f"att-{fmt}-{kind}-1")
        code, _, err = cosign_attest(cosign_key, f"{REG.host}/{repo}@{d1}", fmt, "cyclonedx", path("sbom.json"))
        self.assertEqual(code, 0, err)
        code, res, err = kguard_verify_att(kguard_pub, f"{REG.host}/{repo}:by-cosign", fmt, "cyclonedx")
        self.assertEqual(code, 0, err)
        self.assertTrue(res["verified"], res)
        att = [a for a in res["attestations"] if a["verified"]][0]
        st = json.loads(att["statement"])
        self.assertEqual(st["predicateType"], CDX)
        self.assertEqual(st["subject"][0]["digest"]["sha256"], d1[7:])
        # the wrong type is not accepted in its place
        code, res, _ = kguard_verify_att(kguard_pub, f"{REG.host}/{repo}:by-cosign", fmt, "vuln")
        self.assertEqual(code, 1)
        self.assertIn("no verified attestation of type " + VULN, res["reason"])
        MATRIX.append(("cosign attest -> kguard verify-attestation", fmt, kind, "pass"))
        # kguard attests -> cosign verifies
        d2 = REG.push_image(repo, "by-kguard", f"att-{fmt}-{kind}-2")
        code, _, err = kguard_attest(kguard_key, f"{REG.host}/{repo}:by-kguard", fmt, "--type", "vuln",
                                     "--predicate", path("vuln.json"))
        self.assertEqual(code, 0, err)
        code, out, err = cosign_verify_att(cosign_pub, f"{REG.host}/{repo}@{d2}", fmt, "vuln")
        self.assertEqual(code, 0, err)
        st = cosign_statement(out)
        self.assertEqual(st["predicateType"], VULN)
        self.assertEqual(st["subject"][0]["digest"]["sha256"], d2[7:])
        # cosign filters by type as well
        code, _, err = cosign_verify_att(cosign_pub, f"{REG.host}/{repo}@{d2}", fmt, "cyclonedx")
        self.assertNotEqual(code, 0, err)
        MATRIX.append(("kguard attest -> cosign verify-attestation", fmt, kind, "pass"))

    def test_legacy_file(self):
        self.matrix("legacy", "file")

    def test_bundle_file(self):
        self.matrix("bundle", "file")

    def test_legacy_pkcs11(self):
        self.matrix("legacy", "pkcs11")

    def test_bundle_pkcs11(self):
        self.matrix("bundle", "pkcs11")

    def test_legacy_layout(self):
        # The .att manifest as cosign writes it: DSSE layer, empty signature annotation, predicateType.
        repo = "attest/layout"
        d = REG.push_image(repo, "v1", "layout")
        code, _, err = kguard_attest(path("kg.key"), f"{REG.host}/{repo}:v1", "legacy", "--type", "vuln",
                                     "--predicate", path("vuln.json"))
        self.assertEqual(code, 0, err)
        code, _, err = cosign_attest(path("kg.key"), f"{REG.host}/{repo}@{d}", "legacy", "cyclonedx",
                                     path("sbom.json"))
        self.assertEqual(code, 0, err)
        m, _ = REG.get_manifest(repo, "sha256-" + d[7:] + ".att")
        self.assertEqual(len(m["layers"]), 2)  # cosign appended to kguard's
        for layer, type_ in zip(m["layers"], (VULN, CDX)):
            self.assertEqual(layer["mediaType"], "application/vnd.dsse.envelope.v1+json")
            self.assertEqual(layer["annotations"]["predicateType"], type_)
            self.assertEqual(layer["annotations"]["dev.cosignproject.cosign/signature"], "")
            env = json.loads(REG.get_blob(repo, layer["digest"]))
            self.assertEqual(env["payloadType"], "application/vnd.in-toto+json")
            st = json.loads(base64.b64decode(env["payload"]))
            self.assertEqual(st["_type"], "https://in-toto.io/Statement/v0.1")
            self.assertEqual(st["subject"], [{"name": f"{REG.host}/{repo}", "digest": {"sha256": d[7:]}}])
        # --replace drops the vuln layer kguard wrote before
        code, _, err = kguard_attest(path("kg.key"), f"{REG.host}/{repo}:v1", "legacy", "--type", "vuln",
                                     "--predicate", path("vuln.json"), "--replace")
        self.assertEqual(code, 0, err)
        m, _ = REG.get_manifest(repo, "sha256-" + d[7:] + ".att")
        self.assertEqual([l["annotations"]["predicateType"] for l in m["layers"]], [CDX, VULN])
        # both tools see both
        for type_ in ("vuln", "cyclonedx"):
            code, _, err = cosign_verify_att(path("kg.pub"), f"{REG.host}/{repo}@{d}", "legacy", type_)
            self.assertEqual(code, 0, err)
            code, res, err = kguard_verify_att(path("kg.pub"), f"{REG.host}/{repo}:v1", "legacy", type_)
            self.assertEqual(code, 0, err)


class Tampering(unittest.TestCase):
    n = 0

    def attest(self, tool, repo, digest, fmt):
        ref = f"{REG.host}/{repo}@{digest}"
        if tool == "cosign":
            code, _, err = cosign_attest(path("kg.key"), ref, fmt, "vuln", path("vuln.json"))
        else:
            code, _, err = kguard_attest(path("kg.key"), ref, fmt, "--type", "vuln", "--predicate", path("vuln.json"))
        self.assertEqual(code, 0, err)

    def both_reject(self, repo, digest, fmt, key=None, case=""):
        key = key or path("kg.pub")
        ref = f"{REG.host}/{repo}@{digest}"
        code, res, err = kguard_verify_att(key, ref, fmt, "vuln")
        self.assertEqual(code, 1, f"kguard accepted {case}: {res} {err}")
        ccode, cout, cerr = cosign_verify_att(key, ref, fmt, "vuln")
        self.assertNotEqual(ccode, 0, f"cosign accepted {case}: {cout}")
        self.assertNotIn("unknown flag", cerr)
        errors = [line for line in cerr.splitlines() if line.startswith("Error:")]
        self.last_cosign = errors[-1][len("Error: "):] if errors else cerr.strip().splitlines()[-1]
        reasons = [a.get("reason", "") for a in res["attestations"]]
        self.last_kguard = reasons[0] if reasons else res["reason"]
        return res

    def image(self, repo, tag):
        Tampering.n += 1
        return REG.push_image(repo, tag, f"tamper-{repo}-{tag}-{Tampering.n}")

    def run_case(self, case, fn):
        for tool in ("cosign", "kguard"):
            for fmt in ("legacy", "bundle"):
                with self.subTest(tool=tool, fmt=fmt):
                    fn(tool, fmt, f"attest-tamper/{case.replace(' ', '-')}-{tool}-{fmt}")
                    MATRIX.append((f"tampered: {case}", fmt, f"by {tool}",
                                   f"rejected by both (kguard: {self.last_kguard[:80]}; cosign: {self.last_cosign[:100]})"))

    def test_tampered_envelope(self):
        def case(tool, fmt, repo):
            digest = self.image(repo, "v1")
            self.attest(tool, repo, digest, fmt)
            def tamper(env):
                st = json.loads(base64.b64decode(env["payload"]))
                st["predicate"]["scanner"]["result"] = {"Results": []}  # hide the vulnerability
                env["payload"] = base64.b64encode(json.dumps(st).encode()).decode()
            if fmt == "legacy":
                tag = "sha256-" + digest[7:] + ".att"
                m, _ = REG.get_manifest(repo, tag)
                env = json.loads(REG.get_blob(repo, m["layers"][0]["digest"]))
                tamper(env)
                body = json.dumps(env).encode()
                m["layers"][0]["digest"] = REG.push_blob(repo, body)
                m["layers"][0]["size"] = len(body)
                REG.push_manifest(repo, tag, m)
            else:
                index, _ = REG.get_manifest(repo, "sha256-" + digest[7:])
                m, _ = REG.get_manifest(repo, index["manifests"][0]["digest"])
                bundle = json.loads(REG.get_blob(repo, m["layers"][0]["digest"]))
                tamper(bundle["dsseEnvelope"])
                body = json.dumps(bundle).encode()
                m["layers"][0]["digest"] = REG.push_blob(repo, body)
                m["layers"][0]["size"] = len(body)
                raw = json.dumps(m).encode()
                new = REG.push_manifest(repo, "sha256:" + hashlib.sha256(raw).hexdigest(), raw)
                index["manifests"] = [dict(index["manifests"][0], digest=new, size=len(raw))]
                REG.push_manifest(repo, "sha256-" + digest[7:], index,
                                  media_type="application/vnd.oci.image.index.v1+json")
            res = self.both_reject(repo, digest, fmt, case="a tampered envelope")
            self.assertIn("does not verify", json.dumps(res))
        self.run_case("envelope", case)

    def test_wrong_key(self):
        def case(tool, fmt, repo):
            digest = self.image(repo, "v1")
            self.attest(tool, repo, digest, fmt)
            res = self.both_reject(repo, digest, fmt, key=path("cs.pub"), case="a wrong key")
            self.assertIn("does not verify", json.dumps(res))
        self.run_case("wrong key", case)

    def test_attestation_of_another_digest(self):
        def case(tool, fmt, repo):
            signed = self.image(repo, "signed")
            other = self.image(repo, "other")
            self.attest(tool, repo, signed, fmt)
            if fmt == "legacy":
                _, raw = REG.get_manifest(repo, "sha256-" + signed[7:] + ".att")
                REG.push_manifest(repo, "sha256-" + other[7:] + ".att", raw)
            else:
                index, _ = REG.get_manifest(repo, "sha256-" + signed[7:])
                m, _ = REG.get_manifest(repo, index["manifests"][0]["digest"])
                _, raw_other = REG.get_manifest(repo, other)
                m["subject"] = {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": other,
                                "size": len(raw_other)}
                raw = json.dumps(m).encode()
                new = REG.push_manifest(repo, "sha256:" + hashlib.sha256(raw).hexdigest(), raw)
                index["manifests"] = [dict(index["manifests"][0], digest=new, size=len(raw))]
                REG.push_manifest(repo, "sha256-" + other[7:], index,
                                  media_type="application/vnd.oci.image.index.v1+json")
            res = self.both_reject(repo, other, fmt, case="an attestation of another digest")
            self.assertIn(signed[7:], json.dumps(res))
        self.run_case("other digest", case)


class Predicates(unittest.TestCase):
    """kguard's own predicates and the policy on them."""

    def test_sbom_and_vuln_with_policy(self):
        repo = "attest/app"
        vulnerable = push_npm_image(repo, "vulnerable", "6.0.0")
        fixed = push_npm_image(repo, "fixed", "7.0.1")
        for tag in ("vulnerable", "fixed"):
            ref = f"{REG.host}/{repo}:{tag}"
            code, _, err = kguard_attest(path("kg.key"), ref, "legacy", "--vuln", "--db", DB)
            self.assertEqual(code, 0, err)
        ref_v, ref_f = f"{REG.host}/{repo}:vulnerable", f"{REG.host}/{repo}:fixed"
        # The vuln predicate: cosign's shape around kguard image's result, timestamps of the scan.
        code, res, err = kguard_verify_att(path("kg.pub"), ref_v, "any", "vuln")
        self.assertEqual(code, 0, err)
        st = json.loads(res["attestations"][0]["statement"])
        pred = st["predicate"]
        self.assertEqual(set(pred), {"invocation", "scanner", "metadata"})
        self.assertEqual(pred["scanner"]["db"]["uri"], DB)
        self.assertEqual(pred["scanner"]["result"]["manifestDigest"], vulnerable)
        ids = [m["id"] for m in pred["scanner"]["result"]["vulnerabilities"]["matches"]]
        self.assertIn("CVE-2099-0001", ids)
        self.assertLessEqual(pred["metadata"]["scanStartedOn"], pred["metadata"]["scanFinishedOn"])
        # max-severity: the critical is-number advisory fails the vulnerable image, not the fixed one.
        policy = write("policy.yaml", "# attestation policy\nmax-severity: high\nmax-age: 7d\n")
        code, res, err = kguard_verify_att(path("kg.pub"), ref_v, "any", "vuln", "--policy", policy)
        self.assertEqual(code, 1, err)
        checks = {c["check"]: c for c in res["attestations"][0]["checks"]}
        self.assertFalse(checks["max-severity"]["passed"])
        self.assertIn("critical", checks["max-severity"]["detail"])
        self.assertIn("CVE-2099-0001", checks["max-severity"]["detail"])
        self.assertTrue(checks["max-age"]["passed"])
        code, res, err = kguard_verify_att(path("kg.pub"), ref_f, "any", "vuln", "--policy", policy)
        self.assertEqual(code, 0, err)
        # The same through `kguard verify --attestation` and in the text output.
        code, out, err = kguard("verify", "--attestation", "vuln", "--key", path("kg.pub"), *reg_flags(),
                                "--policy", policy, ref_v)
        self.assertEqual(code, 1)
        self.assertIn("FAIL  max-severity: a critical vulnerability (CVE-2099-0001)", out)
        # require-sbom: fails until the SBOM attestation is there.
        code, res, err = kguard_verify_att(path("kg.pub"), ref_f, "any", "vuln", "--require-sbom")
        self.assertEqual(code, 1)
        self.assertIn("require-sbom failed", res["reason"])
        code, _, err = kguard_attest(path("kg.key"), ref_f, "bundle", "--sbom")
        self.assertEqual(code, 0, err)
        code, res, err = kguard_verify_att(path("kg.pub"), ref_f, "any", "vuln", "--require-sbom", "--policy", policy)
        self.assertEqual(code, 0, res)
        code, res, err = kguard_verify_att(path("kg.pub"), ref_f, "any", "cyclonedx", "--max-age", "1h")
        self.assertEqual(code, 0, err)
        st = json.loads([a for a in res["attestations"] if a["predicateType"] == CDX][0]["statement"])
        self.assertEqual(st["predicate"]["bomFormat"], "CycloneDX")
        names = [c["name"] for c in st["predicate"]["components"]]
        self.assertIn("is-number", names)
        # cosign verifies kguard's own predicates.
        code, _, err = cosign_verify_att(path("kg.pub"), f"{REG.host}/{repo}@{vulnerable}", "legacy", "vuln")
        self.assertEqual(code, 0, err)
        code, _, err = cosign_verify_att(path("kg.pub"), f"{REG.host}/{repo}@{fixed}", "bundle", "cyclonedx")
        self.assertEqual(code, 0, err)
        MATRIX.append(("kguard attest --vuln/--sbom -> cosign verify", "both", "file", "pass"))

    def test_max_age_and_errors(self):
        repo = "attest/old"
        d = REG.push_image(repo, "v1", "old-scan")
        ref = f"{REG.host}/{repo}:v1"
        old = write("old.json", json.dumps(vuln_predicate(now(-30 * 86400), "Low")))
        code, _, err = kguard_attest(path("kg.key"), ref, "legacy", "--type", "vuln", "--predicate", old)
        self.assertEqual(code, 0, err)
        code, res, _ = kguard_verify_att(path("kg.pub"), ref, "any", "vuln", "--max-age", "7d", "--max-severity",
                                         "high")
        self.assertEqual(code, 1)
        checks = {c["check"]: c for c in res["attestations"][0]["checks"]}
        self.assertFalse(checks["max-age"]["passed"])
        self.assertIn("scanFinishedOn", checks["max-age"]["detail"])
        self.assertIn("older than 7d", checks["max-age"]["detail"])
        self.assertTrue(checks["max-severity"]["passed"])
        code, res, _ = kguard_verify_att(path("kg.pub"), ref, "any", "vuln", "--max-age", "60d")
        self.assertEqual(code, 0)
        # A bad policy file names the line; a bad --type is refused before any work.
        bad = write("bad.yaml", "max-severity: high\nmax-age: soon\n")
        code, _, err = kguard_verify_att(path("kg.pub"), ref, "any", "vuln", "--policy", bad)
        self.assertEqual(code, 2)
        self.assertIn("bad.yaml:2: max-age", err)
        rego = write("gate.rego", "package signature\n")
        code, _, err = kguard_verify_att(path("kg.pub"), ref, "any", "vuln", "--policy", rego)
        self.assertEqual(code, 2)
        self.assertIn("CUE and Rego policies are not read", err)
        code, _, err = kguard_attest(path("kg.key"), ref, "legacy", "--type", "not a type", "--predicate", old)
        self.assertEqual(code, 2)
        self.assertIn("invalid predicate type", err)
        # custom: cosign's {Data, Timestamp} wrapper around the file's text; cosign reads kguard's.
        note = write("note.txt", "built by ci job 42\n")
        code, _, err = kguard_attest(path("kg.key"), ref, "legacy", "--predicate", note)
        self.assertEqual(code, 0, err)
        code, res, _ = kguard_verify_att(path("kg.pub"), ref, "any", "custom")
        self.assertEqual(code, 0)
        st = json.loads([a for a in res["attestations"] if a["predicateType"].endswith("/attestation/v1")][0]["statement"])
        self.assertEqual(st["predicate"]["Data"], "built by ci job 42\n")
        code, _, err = cosign_verify_att(path("kg.pub"), f"{REG.host}/{repo}@{d}", "legacy", "custom")
        self.assertEqual(code, 0, err)


if __name__ == "__main__":
    if len(sys.argv) < 4:
        sys.exit("usage: attest_test.py KGUARD BUILD_COSIGN_SH SOURCE_DIR")
    KGUARD = os.path.abspath(sys.argv.pop(1))
    build = sys.argv.pop(1)
    SOURCE = os.path.abspath(sys.argv.pop(1))
    p = subprocess.run([build], capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit("building cosign failed:\n" + p.stderr[-4000:])
    COSIGN = p.stdout.strip().splitlines()[-1]
    with open(os.path.join(os.path.dirname(COSIGN), "pkcs11")) as f:
        COSIGN_PKCS11 = f.read().strip() == "yes"
    unittest.main(verbosity=2)

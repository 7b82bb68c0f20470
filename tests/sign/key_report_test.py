#!/usr/bin/env python3
"""Key rotation and revocation through the real binary, against the Debian docker-registry on loopback
(TLS with a test CA, htpasswd; tests/sign/sign_support.py):

- `kguard verify --revoked`: a signature by a revoked key (named by file, by sha256:<hex> fingerprint)
  never counts; an image signed only by it fails (exit 1) naming the key's fingerprint, in text and JSON;
  a valid signature beside it still passes;
- `kguard sign report`: the images of manifests (a Deployment, a CronJob, a bare Pod, a kind: List
  snapshot-style file) resolved to digests and grouped per key: each key's images (the new key's, the
  revoked old key's), signed only by revoked keys, by no listed key, unsigned, and an image that cannot
  be read; in text, JSON, CSV and Markdown; exit 1 while some image lacks a valid signature, 0 after
  re-signing them with the new key (the rotation procedure of docs/signing.md).

  key_report_test.py KGUARD
"""
import csv
import hashlib
import io
import json
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import sign_support as S  # noqa: E402

KGUARD = None
REG = WORK = None
KEYS = {}
IMAGES = {}
PASSWORD = "report-password"


def env():
    e = REG.env()
    e["COSIGN_PASSWORD"] = PASSWORD
    e["HOME"] = WORK.name
    return e


def kg(*argv):
    return S.run(KGUARD, *argv, env=env())


def reg_flags():
    return ["--registry-ca", REG.ca, "--docker-config", REG.docker_config + "/config.json"]


def fingerprint(pub):
    der = subprocess.run(["openssl", "pkey", "-pubin", "-in", pub, "-outform", "DER"], check=True,
                         capture_output=True).stdout
    return hashlib.sha256(der).hexdigest()


def sign(key, image, *extra):
    code, _, err = kg("sign", "--key", KEYS[key][0], *reg_flags(), *extra, image)
    assert code == 0, err


def setUpModule():
    global REG, WORK
    REG = S.Registry()
    WORK = tempfile.TemporaryDirectory()
    for name in ("old", "new", "other"):
        prefix = os.path.join(WORK.name, name)
        code, _, err = kg("keygen", "--output-key-prefix", prefix)
        assert code == 0, err
        KEYS[name] = (prefix + ".key", prefix + ".pub", fingerprint(prefix + ".pub"))
    h = REG.host
    # old only (legacy), old + new (bundle for new), new only, another key, unsigned.
    IMAGES["old"] = REG.push_image("rot/web", "1.0", "web")
    sign("old", f"{h}/rot/web:1.0")
    IMAGES["both"] = REG.push_image("rot/api", "2.0", "api")
    sign("old", f"{h}/rot/api:2.0")
    sign("new", f"{h}/rot/api:2.0", "--format", "bundle")
    IMAGES["new"] = REG.push_image("rot/job", "3.0", "job")
    sign("new", f"{h}/rot/job:3.0")
    IMAGES["other"] = REG.push_image("rot/side", "1", "side")
    sign("other", f"{h}/rot/side:1")
    IMAGES["unsigned"] = REG.push_image("rot/plain", "1", "plain")
    with open(os.path.join(WORK.name, "workloads.yaml"), "w") as f:
        f.write(f"""apiVersion: apps/v1
kind: Deployment
metadata: {{name: web, namespace: shop}}
spec:
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      containers:
        - {{name: web, image: "{h}/rot/web:1.0"}}
        - {{name: sidecar, image: "{h}/rot/side:1"}}
      initContainers:
        - {{name: init, image: "{h}/rot/api@{IMAGES['both']}"}}
---
apiVersion: batch/v1
kind: CronJob
metadata: {{name: nightly, namespace: batch}}
spec:
  schedule: "0 1 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers:
            - {{name: job, image: "{h}/rot/job:3.0"}}
---
apiVersion: v1
kind: Pod
metadata: {{name: debug, namespace: shop}}
spec:
  containers:
    - {{name: plain, image: "{h}/rot/plain:1"}}
    - {{name: gone, image: "{h}/rot/missing:1"}}
""")
    # The same Deployment's image again, from a kind: List (as a snapshot holds objects).
    with open(os.path.join(WORK.name, "list.json"), "w") as f:
        json.dump({"apiVersion": "v1", "kind": "List", "items": [
            {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db", "namespace": "data"},
             "spec": {"selector": {"matchLabels": {"app": "db"}}, "serviceName": "db",
                      "template": {"metadata": {"labels": {"app": "db"}},
                                   "spec": {"containers": [{"name": "db", "image": f"{h}/rot/web:1.0"}]}}}}]}, f)


def tearDownModule():
    REG.stop()
    WORK.cleanup()


class VerifyRevoked(unittest.TestCase):
    def test_revoked_by_file_and_by_fingerprint(self):
        image = f"{REG.host}/rot/web:1.0"
        code, _, _ = kg("verify", "--key", KEYS["old"][1], *reg_flags(), image)
        self.assertEqual(code, 0)
        for revoked in (KEYS["old"][1], "sha256:" + KEYS["old"][2]):
            code, out, err = kg("verify", "--key", KEYS["old"][1], "--revoked", revoked, *reg_flags(), image)
            self.assertEqual(code, 1, out + err)
            self.assertIn("signed by revoked key sha256:" + KEYS["old"][2], out)
            self.assertIn("signed only by revoked key(s) sha256:" + KEYS["old"][2], err)
        # Revoked by file only (the key is not among --key): still recognised as the revoked key's.
        code, out, err = kg("verify", "--key", KEYS["new"][1], "--revoked", KEYS["old"][1], "-o", "json",
                            *reg_flags(), image)
        self.assertEqual(code, 1, err)
        doc = json.loads(out)
        self.assertFalse(doc["verified"])
        self.assertEqual([(s["revoked"], s["key"]) for s in doc["signatures"]], [(True, "sha256:" + KEYS["old"][2])])

    def test_valid_signature_beside_a_revoked_one_passes(self):
        code, out, err = kg("verify", "--key", KEYS["new"][1], "--revoked", KEYS["old"][1], *reg_flags(),
                            f"{REG.host}/rot/api:2.0")
        self.assertEqual(code, 0, out + err)
        self.assertIn("verified  bundle", out)
        self.assertIn("rejected  legacy", out)

    def test_bad_revocation_is_an_error(self):
        code, _, err = kg("verify", "--key", KEYS["new"][1], "--revoked", "/nonexistent.pub", *reg_flags(),
                          f"{REG.host}/rot/api:2.0")
        self.assertEqual(code, 2)
        self.assertIn("/nonexistent.pub: cannot be read", err)


class Report(unittest.TestCase):
    def report(self, *extra, fmt="json"):
        return kg("sign", "report", "--key", "release-new=" + KEYS["new"][1], "--revoked", KEYS["old"][1],
                  "-o", fmt, *reg_flags(), *extra, os.path.join(WORK.name, "workloads.yaml"),
                  os.path.join(WORK.name, "list.json"))

    def test_json_groups_images_per_key(self):
        code, out, err = self.report()
        self.assertEqual(code, 1, err)
        doc = json.loads(out)
        keys = {k["name"]: k for k in doc["keys"]}
        self.assertEqual(keys["release-new"]["fingerprint"], "sha256:" + KEYS["new"][2])
        self.assertEqual((keys["release-new"]["images"], keys["release-new"]["revoked"]), (2, False))
        revoked = keys[KEYS["old"][1]]
        self.assertEqual((revoked["fingerprint"], revoked["revoked"], revoked["images"]),
                         ("sha256:" + KEYS["old"][2], True, 2))
        by_ref = {i["reference"]: i for i in doc["images"]}
        h = REG.host
        web = by_ref[f"{h}/rot/web:1.0"]
        self.assertEqual((web["status"], web["digest"], web["revokedSignedBy"], web["signedBy"]),
                         ("revoked-only", IMAGES["old"], ["sha256:" + KEYS["old"][2]], []))
        # Used by the Deployment (manifest) and the StatefulSet of the List, each with its place.
        self.assertEqual(sorted((u["kind"], u["namespace"], u["name"], u["container"]) for u in web["usedBy"]),
                         [("Deployment", "shop", "web", "web"), ("StatefulSet", "data", "db", "db")])
        self.assertTrue(all(u["line"] > 0 for u in web["usedBy"]))
        both = by_ref[f"{h}/rot/api@{IMAGES['both']}"]
        self.assertEqual((both["status"], both["signedBy"], both["revokedSignedBy"], both["signatures"]),
                         ("signed", ["sha256:" + KEYS["new"][2]], ["sha256:" + KEYS["old"][2]], 2))
        self.assertEqual(by_ref[f"{h}/rot/job:3.0"]["status"], "signed")
        self.assertEqual(by_ref[f"{h}/rot/job:3.0"]["usedBy"][0]["kind"], "CronJob")
        self.assertEqual((by_ref[f"{h}/rot/side:1"]["status"], by_ref[f"{h}/rot/side:1"]["signatures"]),
                         ("unknown-key", 1))
        self.assertEqual(by_ref[f"{h}/rot/plain:1"]["status"], "unsigned")
        missing = by_ref[f"{h}/rot/missing:1"]
        self.assertEqual(missing["status"], "error")
        self.assertIn("no such image", missing["error"])
        self.assertEqual(len(doc["images"]), 6)

    def test_text_csv_markdown(self):
        code, out, err = self.report(fmt="text")
        self.assertEqual(code, 1, err)
        h = REG.host
        self.assertIn(f"key release-new (sha256:{KEYS['new'][2]}): 2 images", out)
        self.assertIn(f"revoked key {KEYS['old'][1]} (sha256:{KEYS['old'][2]}): 2 images", out)
        section = out[out.index("signed only by revoked keys: re-sign these: 1 image"):]
        self.assertIn(f"{h}/rot/web:1.0  {IMAGES['old']}", section)
        self.assertIn("used by Deployment shop/web (web)", section)
        self.assertIn("signed, but by none of the listed keys: 1 image", out)
        self.assertIn("not signed: 1 image", out)
        self.assertIn("could not be checked: 1 image", out)
        self.assertIn("6 images, 2 signed by a valid listed key, 4 not", out)

        code, out, _ = self.report(fmt="csv")
        rows = list(csv.DictReader(io.StringIO(out)))
        web = [r for r in rows if r["image"] == f"{h}/rot/web:1.0"]
        self.assertEqual(sorted(r["kind"] for r in web), ["Deployment", "StatefulSet"])
        self.assertEqual({r["status"] for r in web}, {"revoked-only"})
        self.assertEqual(web[0]["revoked_signed_by"], "sha256:" + KEYS["old"][2])

        code, out, _ = self.report(fmt="markdown")
        self.assertIn("| release-new | `sha256:" + KEYS["new"][2] + "` | no | 2 |", out)
        self.assertIn("## signed only by revoked keys: re-sign these (1)", out)
        self.assertIn(f"| {h}/rot/web:1.0 | `{IMAGES['old']}` | Deployment shop/web (web)<br>StatefulSet data/db (db) |",
                      out)

    def test_usage_errors(self):
        code, _, err = kg("sign", "report", "--key", KEYS["new"][1])
        self.assertEqual(code, 2)
        self.assertIn("--cluster, or manifest/snapshot paths", err)
        code, _, err = kg("sign", "report", "-o", "xml", "--key", KEYS["new"][1], "x.yaml")
        self.assertEqual(code, 2)
        self.assertIn("-o is text, json, csv or markdown", err)


class ZRotationDone(unittest.TestCase):
    """Last (Z): re-sign what the report lists, then it passes."""

    def test_resign_then_report_passes(self):
        h = REG.host
        sign("new", f"{h}/rot/web:1.0")
        sign("new", f"{h}/rot/side:1")
        sign("new", f"{h}/rot/plain:1")
        code, out, err = kg("sign", "report", "--key", KEYS["new"][1], "--revoked", "sha256:" + KEYS["old"][2],
                            "-o", "json", *reg_flags(), os.path.join(WORK.name, "list.json"))
        self.assertEqual(code, 0, out + err)
        doc = json.loads(out)
        # A revocation by fingerprint alone cannot tell the old key's signature from any other key's
        # (there is no key to verify it with): only the new key's signature is reported.
        self.assertEqual([(i["status"], i["signedBy"], i["revokedSignedBy"]) for i in doc["images"]],
                         [("signed", ["sha256:" + KEYS["new"][2]], [])])


if __name__ == "__main__":
    KGUARD = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)

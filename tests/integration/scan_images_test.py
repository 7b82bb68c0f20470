#!/usr/bin/env python3
"""kguard scan --images through the real binary: workloads whose containers run
the real Debian test image (tests/images/build_images.sh) from the loopback TLS
registry with htpasswd auth (tests/images/registry_fixture.py, the ctest
fixture image_registry). Asserts that every container gets exactly the image
rules the image fails (the same rules kguard image reports for it), located at
the container's image field, each image read once per reference, the digest
cache judging a pinned image without the registry, an unreadable image failing
the scan closed, the Chinese report, and the --fail-on gate.

usage: scan_images_test.py KGUARD REGISTRY_STATE_DIR
"""
import base64
import json
import os
import subprocess
import sys
import tempfile
import unittest

KGUARD = sys.argv[1]
STATE_DIR = sys.argv[2]
del sys.argv[1:3]
with open(os.path.join(STATE_DIR, "state.json")) as _f:
    STATE = json.load(_f)
HOST = STATE["host"]
DIGEST = STATE["skopeo_digest"]["1.0"]
TAG_REF = f"{HOST}/example/test:1.0"
DIGEST_REF = f"{HOST}/example/test@{DIGEST}"
# What the Debian test image fails (tests/integration/image_lint_test.py holds the image to these).
IMAGE_RULES = {"image-secret-in-env", "image-package-manager", "image-setuid-setgid-files",
               "image-no-healthcheck", "image-non-minimal-base"}

MANIFESTS = f"""\
apiVersion: apps/v1
kind: Deployment
metadata: {{name: web, namespace: shop}}
spec:
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      containers:
      - name: app
        image: {TAG_REF}
      - name: sidecar
        image: {TAG_REF}
---
apiVersion: batch/v1
kind: CronJob
metadata: {{name: nightly, namespace: shop}}
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          initContainers:
          - name: setup
            image: {DIGEST_REF}
          containers:
          - name: job
            image: {TAG_REF}
"""


def image_lines(text):
    """(kind, container) -> the 1-based line of its image field, read off the text."""
    out, kind, container = {}, None, None
    for n, line in enumerate(text.splitlines(), 1):
        word = line.strip()
        if word.startswith("kind: "):
            kind = word.split(": ", 1)[1]
        elif word.startswith("- name: "):
            container = word.split(": ", 1)[1]
        elif word.startswith("image: "):
            out[(kind, container)] = n
    return out


IMAGE_LINES = image_lines(MANIFESTS)


def kguard(*args):
    p = subprocess.run([KGUARD, *args], capture_output=True, text=True, timeout=600)
    if p.returncode < 0 or p.returncode > 2:
        raise AssertionError(f"kguard crashed ({p.returncode}) on {args}: {p.stderr}")
    return p


class ScanImages(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.dir = cls.tmp.name
        cls.manifest = os.path.join(cls.dir, "app.yaml")
        with open(cls.manifest, "w") as f:
            f.write(MANIFESTS)
        auth = base64.b64encode(f"{STATE['user']}:{STATE['password']}".encode()).decode()
        cls.docker_config = os.path.join(cls.dir, "config.json")
        with open(cls.docker_config, "w") as f:
            json.dump({"auths": {HOST: {"auth": auth}}}, f)
        cls.cache = os.path.join(cls.dir, "cache")
        cls.registry = ("--registry-ca", STATE["ca"], "--docker-config", cls.docker_config,
                        "--image-cache", cls.cache)
        cls.report = os.path.join(cls.dir, "report.json")
        cls.scan = kguard("scan", "--no-config", "--images", *cls.registry, "-o", f"json={cls.report}",
                         cls.manifest)
        with open(cls.report) as f:
            cls.doc = json.load(f)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def image_findings(self, doc):
        return [f for f in doc["findings"] if f["rule"].startswith("image-") and f.get("subject")]

    def test_every_container_gets_exactly_the_images_rules(self):
        self.assertEqual(self.scan.returncode, 0, self.scan.stderr)  # no --fail-on, no input error
        self.assertEqual(self.doc["errors"], [])
        by_container = {}
        for f in self.image_findings(self.doc):
            by_container.setdefault((f["kind"], f["container"]), set()).add(f["rule"])
        self.assertEqual(set(by_container), set(IMAGE_LINES))
        for key, rules in by_container.items():
            self.assertEqual(rules, IMAGE_RULES, key)
        # The image's own report names the same rules.
        own = kguard("image", TAG_REF, "--registry-ca", STATE["ca"], "--docker-config", self.docker_config,
                     "-o", "report-json")
        self.assertEqual({f["rule"] for f in json.loads(own.stdout)["findings"] if f["result"] == "fail"},
                         IMAGE_RULES)

    def test_findings_sit_at_the_containers_image_field(self):
        for f in self.image_findings(self.doc):
            line = IMAGE_LINES[(f["kind"], f["container"])]
            self.assertEqual(f["location"]["line"], line, f)
            self.assertTrue(f["location"]["path"].endswith(".image"), f)
            ref = DIGEST_REF if f["container"] == "setup" else TAG_REF
            self.assertEqual(f["subject"], ref)
            self.assertTrue(f["message"].startswith(f"[image {ref}] "), f["message"])
            self.assertEqual(f["namespace"], "shop")

    def test_tallies_count_workloads(self):
        checks = {c["rule"]: c for c in self.doc["checks"]}
        for rule in IMAGE_RULES:
            self.assertEqual((checks[rule]["evaluated"], checks[rule]["failed"]), (2, 2), rule)
        # Rules the image passes were evaluated for both workloads too.
        self.assertEqual((checks["image-runs-as-root"]["evaluated"], checks["image-runs-as-root"]["passed"]), (2, 2))
        self.assertEqual(self.doc["categories"][[c["id"] for c in self.doc["categories"]].index("images")]["id"],
                         "images")

    def test_each_reference_read_once(self):
        self.assertIn("reading 2 images", self.scan.stderr)

    def test_pinned_image_judged_from_the_cache_without_the_registry(self):
        cached = os.path.join(self.cache, "v1", f"sha256-{DIGEST[7:]}.json")
        self.assertTrue(os.path.exists(cached), os.listdir(self.cache))
        pinned = os.path.join(self.dir, "pinned.yaml")
        with open(pinned, "w") as f:
            f.write(MANIFESTS.split("---\n")[1])
        # No credentials and no CA: the registry cannot be read, the cache must answer.
        p = kguard("scan", "--no-config", "--images", "--only", "images", "--image-cache", self.cache,
                   "--docker-config", os.path.join(self.dir, "none.json"), "-o", "json", pinned)
        doc = json.loads(p.stdout)
        setup = {f["rule"] for f in self.image_findings(doc) if f["container"] == "setup"}
        self.assertEqual(setup, IMAGE_RULES)
        self.assertIn("judged from the cache", p.stderr)
        # The tag is never taken from the cache (a tag moves): it is an error here.
        self.assertEqual(p.returncode, 2)
        (err,) = doc["errors"]
        self.assertEqual(err["line"], image_lines(MANIFESTS.split("---\n")[1])[("CronJob", "job")])
        self.assertIn(f"image {TAG_REF} of container job cannot be judged", err["message"])

    def test_unreadable_image_fails_closed_at_its_line(self):
        bad = os.path.join(self.dir, "bad.yaml")
        with open(bad, "w") as f:
            f.write(f"apiVersion: v1\nkind: Pod\nmetadata: {{name: p}}\nspec:\n  containers:\n"
                    f"  - name: c\n    image: {HOST}/example/missing:1\n")
        p = kguard("scan", "--no-config", "--images", *self.registry, "-o", "json", bad)
        self.assertEqual(p.returncode, 2, p.stderr)
        (err,) = json.loads(p.stdout)["errors"]
        self.assertEqual((err["file"], err["line"]), (bad, 7))
        self.assertIn("of container c cannot be judged", err["message"])

    def test_chinese_report_translates_the_image_findings(self):
        p = kguard("scan", "--no-config", "--images", *self.registry, "--only", "image-secret-in-env",
                   "--lang", "zh", self.manifest)
        self.assertIn(f"[镜像 {TAG_REF}] 镜像配置将疑似凭据的环境变量 API_TOKEN 设为字面值", p.stdout)

    def test_fail_on_counts_image_findings(self):
        p = kguard("scan", "--no-config", "--images", *self.registry, "--only", "image-secret-in-env",
                   "--fail-on", "high", "-q", self.manifest)
        self.assertEqual(p.returncode, 1)
        self.assertIn("image-secret-in-env", p.stderr)

    def test_without_images_nothing_is_read(self):
        p = kguard("scan", "--no-config", "-o", "json", self.manifest)
        self.assertNotIn("reading", p.stderr)
        self.assertEqual([f for f in json.loads(p.stdout)["findings"] if f.get("subject")], [])


if __name__ == "__main__":
    unittest.main(verbosity=2)

#!/usr/bin/env python3
"""kguard admit's vulnerability gate through the real binary, over real TLS,
against the loopback TLS registry with htpasswd auth (tests/images/
registry_fixture.py, the ctest fixture image_registry) holding the real Debian
12 test image (tests/images/build_images.sh) and, pushed here with skopeo, the
Alpine image of tests/images/build_app_images.sh as the clean one.

The database is built with `kguard db build` from OSV JSON records in the
real schema (tests/integration/vuln_feed.py) naming source packages and
versions the Debian image truly contains: openssl is affected (critical),
gzip is affected (high), grep's record is fixed below the installed version.

Asserted: a vulnerable image denied with the image, its digest, the worst
vulnerabilities (ids, severity, fixed version) and the policy; a clean image
admitted; an ignored vulnerability admitted with a warning; warn mode; tags
resolved to the digest the registry says, pinned digests used as they are,
the second request answered from the cache; on-miss deny then the background
scan answering the retry; a registry error and a budget overrun failing closed
in an enforced namespace and open elsewhere; audit log records and metrics.

usage: admit_vulns_test.py KGUARD REGISTRY_STATE_DIR APP_IMAGES_SCRIPT CORPORA
"""
import json
import os
import re
import shutil
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vuln_feed  # noqa: E402
from admit_support import Webhook, review_for  # noqa: E402

KGUARD, STATE_DIR, APP_IMAGES, CORPORA = sys.argv[1:5]
del sys.argv[1:5]
with open(os.path.join(STATE_DIR, "state.json")) as _f:
    STATE = json.load(_f)
HOST = STATE["host"]
CREDS = f"{STATE['user']}:{STATE['password']}"
VULNERABLE = f"{HOST}/example/test:1.0"
VULNERABLE_DIGEST = STATE["skopeo_digest"]["1.0"]
ZSTD = f"{HOST}/example/test:zstd"  # same packages, another manifest: a digest never scanned before
CLEAN = f"{HOST}/example/clean:3.11"

OPENSSL, GZIP, GREP = vuln_feed.OPENSSL, vuln_feed.GZIP, vuln_feed.GREP


CONFIG = f"""
admission:
  vulnerabilities:
    - name: soft
      namespaces: [soft]
      mode: warn
      failOn: high
    - name: accepted
      namespaces: [accepted]
      failOn: critical
      ignores:
        - id: {OPENSSL}
          reason: "X.509 name checks are not reachable from this service (SEC-1234)"
          until: 2099-12-31
    - name: risky
      namespaces: [risky]
      maxRisk: 5
    - name: tolerant
      namespaces: [tolerant]
      maxRisk: 100
    - name: no-miss
      namespaces: [nomiss]
      failOn: high
      onMiss: deny
    - name: registry
      registries: ["{HOST}/*"]
      namespaceSelector: {{matchLabels: {{tier: prod}}}}
      namespaces: [strict]
      failOn: high
      budget: 60s
  namespaces:
    labelled: {{tier: prod}}
"""

HURRY = f"""
admission:
  vulnerabilities:
    - name: hurry
      registries: ["{HOST}/*"]
      failOn: high
      budget: 1ms
"""


def pod(image, ns, name="p"):
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": ns},
            "spec": {"containers": [{"name": "app", "image": image}]}}


def metric(text, name, labels=""):
    m = re.search(r"^" + re.escape(name + labels) + r" (\S+)$", text, re.M)
    return float(m.group(1)) if m else 0.0


class AdmitVulnsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = tempfile.mkdtemp(prefix="kguard-admit-vulns-")
        # The clean image: the Alpine image built from packages (no record names its packages).
        vuln_feed.push_clean(STATE, APP_IMAGES, CORPORA, CLEAN)
        cls.db = vuln_feed.build_db(KGUARD, cls.work)
        cls.registry_args = ["--registry-ca", STATE["ca"], "--docker-config",
                             vuln_feed.docker_config(STATE, os.path.join(cls.work, "docker")), "--vuln-db", cls.db]
        cls.disk_cache = os.path.join(cls.work, "image-cache")
        cls.hook = Webhook(KGUARD, os.path.join(cls.work, "hook"), CONFIG,
                           extra_args=[*cls.registry_args, "--tag-ttl", "60s", "--scan-workers", "2",
                                       "--image-cache", cls.disk_cache])

    @classmethod
    def tearDownClass(cls):
        code = cls.hook.stop()
        shutil.rmtree(cls.work, ignore_errors=True)
        assert code == 0, f"kguard admit exited {code}"

    def review(self, image, ns, hook=None, timeout="30s"):
        return (hook or self.hook).review(review_for(pod(image, ns)), timeout=timeout)

    def test_1_vulnerable_denied_clean_admitted(self):
        r = self.review(VULNERABLE, "strict")
        self.assertFalse(r["allowed"], r)
        msg = r["status"]["message"]
        # The image, the digest it resolved to, the worst vulnerabilities and the policy.
        self.assertIn(f"image {VULNERABLE} ({VULNERABLE_DIGEST})", msg)
        self.assertIn('vulnerability policy "registry" (failOn: high)', msg)
        self.assertIn(f"{OPENSSL} (critical", msg)
        self.assertIn("fixed in 3.0.23-1~deb12u1", msg)
        self.assertIn(f"{GZIP} (high", msg)
        self.assertIn("fixed in 1.12-1+deb12u1", msg)
        self.assertLess(msg.index(OPENSSL), msg.index(GZIP), "worst first")
        self.assertNotIn(GREP, msg, "grep's record is fixed below the installed version")
        self.assertEqual(r["status"]["code"], 403)
        r = self.review(CLEAN, "strict")
        self.assertTrue(r["allowed"], r)
        self.assertNotIn("warnings", r)
        # The second ask of the same tag: the tag's digest and the scan result from the caches.
        m0 = self.hook.metrics()
        r = self.review(VULNERABLE, "strict")
        self.assertFalse(r["allowed"])
        m1 = self.hook.metrics()
        self.assertEqual(metric(m1, "kguard_admission_image_cache_total", '{result="hit"}') -
                         metric(m0, "kguard_admission_image_cache_total", '{result="hit"}'), 1)
        self.assertEqual(metric(m1, "kguard_admission_image_resolutions_total", '{source="cached-tag"}') -
                         metric(m0, "kguard_admission_image_resolutions_total", '{source="cached-tag"}'), 1)
        self.assertEqual(metric(m1, "kguard_admission_image_scans_total", '{result="ok"}'),
                         metric(m0, "kguard_admission_image_scans_total", '{result="ok"}'), "no second scan")

    def test_2_pinned_digest_and_namespace_selector(self):
        # A pinned digest skips resolution and is answered from the cache.
        m0 = self.hook.metrics()
        r = self.review(f"{HOST}/example/test@{VULNERABLE_DIGEST}", "strict")
        self.assertFalse(r["allowed"])
        self.assertIn(OPENSSL, r["status"]["message"])
        m1 = self.hook.metrics()
        self.assertEqual(metric(m1, "kguard_admission_image_resolutions_total", '{source="pinned"}') -
                         metric(m0, "kguard_admission_image_resolutions_total", '{source="pinned"}'), 1)
        # The namespace selector (labels from the config here; from the API server's watch in e2e).
        r = self.review(VULNERABLE, "labelled")
        self.assertFalse(r["allowed"])
        self.assertIn('"registry"', r["status"]["message"])
        # A namespace no policy names: not judged.
        r = self.review(VULNERABLE, "elsewhere")
        self.assertTrue(r["allowed"])
        self.assertNotIn("image-vulnerabilities", json.dumps(r))

    def test_3_ignored_admitted_with_warning(self):
        r = self.review(VULNERABLE, "accepted")
        self.assertTrue(r["allowed"], r)
        warnings = r.get("warnings", [])
        self.assertTrue(any(OPENSSL in w and "ignored: X.509" in w for w in warnings), warnings)
        self.assertFalse(any(GZIP in w for w in warnings), "under failOn: critical gzip is no concern")
        self.assertEqual(r["auditAnnotations"]["decision"], "warn")

    def test_4_warn_mode(self):
        r = self.review(VULNERABLE, "soft")
        self.assertTrue(r["allowed"], r)
        self.assertTrue(any("would be denied" in w and OPENSSL in w for w in r.get("warnings", [])), r)

    def test_4b_max_risk(self):
        # The risk score (severity x exploitability x fix availability x exposure, scored at scan time
        # with the image's own exposure unknown) decides alone when the policy names only maxRisk.
        r = self.review(VULNERABLE, "risky")
        self.assertFalse(r["allowed"], r)
        self.assertIn('(maxRisk: 5)', r["status"]["message"])
        self.assertRegex(r["status"]["message"], OPENSSL + r" \(critical, risk [0-9.]+, libssl3")
        r = self.review(VULNERABLE, "tolerant")  # no risk is above 100
        self.assertTrue(r["allowed"], r)

    def test_5_on_miss_deny_then_background_scan(self):
        r = self.review(ZSTD, "nomiss")
        self.assertFalse(r["allowed"], r)
        self.assertIn("has not been scanned yet", r["status"]["message"])
        self.assertIn("onMiss: deny", r["status"]["message"])
        end = time.time() + 120
        while time.time() < end:
            r = self.review(ZSTD, "nomiss")
            if "not been scanned" not in r["status"]["message"]:
                break
            time.sleep(0.5)
        self.assertIn(OPENSSL, r["status"]["message"], "the retry is judged from the background scan")

    def test_6_registry_error_fails_closed(self):
        missing = f"{HOST}/example/missing:1"
        r = self.review(missing, "strict")
        self.assertFalse(r["allowed"], r)
        msg = r["status"]["message"]
        self.assertIn(f"image {missing} cannot be judged", msg)
        self.assertIn("HTTP 404", msg)
        self.assertIn('"registry" fails closed', msg)
        r = self.review(missing, "soft")  # warn mode: admitted, told why
        self.assertTrue(r["allowed"])
        self.assertTrue(any("cannot be judged" in w for w in r.get("warnings", [])), r)
        # A local path is never read on a Pod's behalf.
        r = self.review("oci:/etc", "soft")
        self.assertTrue(any("not a registry reference" in w for w in r.get("warnings", [])), r)

    def test_7_budget_overrun_fails_closed_then_cache(self):
        hook = Webhook(KGUARD, os.path.join(self.work, "hurry"), HURRY, extra_args=[*self.registry_args, "--no-image-cache"])
        try:
            r = self.review(VULNERABLE, "any", hook=hook)
            self.assertFalse(r["allowed"], r)
            self.assertIn("not scanned within 1 ms", r["status"]["message"])
            self.assertIn("fails closed", r["status"]["message"])
            end = time.time() + 120
            while time.time() < end and metric(hook.metrics(), "kguard_admission_image_scans_total", '{result="ok"}') < 1:
                time.sleep(0.2)
            # The tag's resolution and the scan went on: answered from the caches now.
            r = self.review(VULNERABLE, "any", hook=hook)
            self.assertIn(OPENSSL, r["status"]["message"], r)
            recs = hook.audit_records()
            self.assertEqual([x["images"][0]["outcome"] for x in recs], ["timeout", "violation"])
            self.assertEqual(recs[1]["images"][0]["cache"], "hit")
        finally:
            self.assertEqual(hook.stop(), 0)

    def test_7b_restart_reads_inventories_from_disk(self):
        # A second webhook on the same on-disk cache: the digest read by the first is matched from
        # its inventory sidecar, without reading the image (scan --images' cache folder and names).
        self.review(VULNERABLE, "strict")
        sidecars = [f for _, _, files in os.walk(self.disk_cache) for f in files if f.endswith(".cdx.json")]
        self.assertIn("sha256-" + VULNERABLE_DIGEST[7:] + ".cdx.json", sidecars)
        hook = Webhook(KGUARD, os.path.join(self.work, "restarted"), CONFIG,
                       extra_args=[*self.registry_args, "--image-cache", self.disk_cache])
        try:
            r = self.review(VULNERABLE, "strict", hook=hook)
            self.assertFalse(r["allowed"], r)
            self.assertIn(OPENSSL, r["status"]["message"])
            m = hook.metrics()
            self.assertEqual(metric(m, "kguard_admission_image_disk_hits_total"), 1)
            self.assertEqual(metric(m, "kguard_admission_image_scans_total", '{result="ok"}'), 1)
        finally:
            self.assertEqual(hook.stop(), 0)

    def test_8_audit_log_and_metrics(self):
        self.review(VULNERABLE, "strict")
        recs = [r for r in self.hook.audit_records() if r.get("images")]
        deny = [r for r in recs if r["verdict"] == "deny" and r["images"][0]["outcome"] == "violation"]
        self.assertTrue(deny)
        img = deny[-1]["images"][0]
        self.assertEqual(img["image"], VULNERABLE)
        self.assertEqual(img["digest"], VULNERABLE_DIGEST)
        self.assertEqual(img["policy"], "registry")
        self.assertEqual(img["mode"], "enforce")
        self.assertGreaterEqual(img["counts"]["critical"], 1)
        self.assertGreaterEqual(img["counts"]["high"], 1)
        self.assertEqual(img["violations"][:2], [OPENSSL, GZIP])
        warned = [r for r in recs if r["object"]["namespace"] == "accepted"]
        self.assertTrue(warned and warned[-1]["images"][0]["ignored"] == [OPENSSL], warned)
        m = self.hook.metrics()
        self.assertGreaterEqual(metric(m, "kguard_admission_image_checks_total", '{policy="registry",outcome="violation"}'), 1)
        self.assertGreaterEqual(metric(m, "kguard_admission_image_scan_seconds_count"), 2)


if __name__ == "__main__":
    unittest.main(verbosity=2)

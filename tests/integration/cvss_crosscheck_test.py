#!/usr/bin/env python3
"""kguard's CVSS scores (engines/vuln/score/cvss.cpp, through `kguard vuln cvss
-o json -`) against an independent implementation: the PyPI package `cvss`
(RedHatProductSecurity/cvss, pinned below; exact Decimal arithmetic for v3,
the FIRST reference algorithm for v4.0). The package is fetched once with pip
into ~/.cache/kguard-pydeps (as sbom_test.py fetches lib4sbom) unless the
interpreter already has it; when neither works the comparison is skipped
(exit 77) with the reason, after the CLI's own tests (text, JSON, exit status).

Compared, all exact to the tenth:
  - every CVSS:3.0 and CVSS:3.1 base vector (2,592 each): base score;
  - every CVSS:4.0 base vector (104,976): CVSS-B score and rating;
  - 2,000 random full vectors from a fixed seed: 1,000 CVSS:3.1 (and 3.0) with
    temporal and environmental metrics (Base, Temporal, Environmental) and
    1,000 CVSS:4.0 with threat, environmental and supplemental metrics (the
    vector's score; its CVSS-B score against the package on the base metrics
    alone), some with their metrics shuffled.

usage: cvss_crosscheck_test.py KGUARD
"""
import importlib
import itertools
import json
import os
import random
import subprocess
import sys
import tempfile
import unittest
import zipfile

KGUARD = sys.argv[1]
del sys.argv[1:2]

CVSS_PIN = "cvss==3.6"
CACHE = os.path.join(os.path.expanduser("~"), ".cache", "kguard-pydeps", CVSS_PIN.replace("==", "-"))
SEED = 20261204

V3_BASE = [("AV", "NALP"), ("AC", "LH"), ("PR", "NLH"), ("UI", "NR"), ("S", "UC"), ("C", "HLN"), ("I", "HLN"),
           ("A", "HLN")]
V3_OPTIONAL = [("E", "XUPFH"), ("RL", "XOTWU"), ("RC", "XURC"), ("CR", "XLMH"), ("IR", "XLMH"), ("AR", "XLMH"),
               ("MAV", "XNALP"), ("MAC", "XLH"), ("MPR", "XNLH"), ("MUI", "XNR"), ("MS", "XUC"), ("MC", "XNLH"),
               ("MI", "XNLH"), ("MA", "XNLH")]
V4_BASE = [("AV", "NALP"), ("AC", "LH"), ("AT", "NP"), ("PR", "NLH"), ("UI", "NPA"), ("VC", "HLN"), ("VI", "HLN"),
           ("VA", "HLN"), ("SC", "HLN"), ("SI", "HLN"), ("SA", "HLN")]
V4_OPTIONAL = [("E", ["X", "A", "P", "U"]), ("CR", ["X", "H", "M", "L"]), ("IR", ["X", "H", "M", "L"]),
               ("AR", ["X", "H", "M", "L"]), ("MAV", ["X", "N", "A", "L", "P"]), ("MAC", ["X", "L", "H"]),
               ("MAT", ["X", "N", "P"]), ("MPR", ["X", "N", "L", "H"]), ("MUI", ["X", "N", "P", "A"]),
               ("MVC", ["X", "H", "L", "N"]), ("MVI", ["X", "H", "L", "N"]), ("MVA", ["X", "H", "L", "N"]),
               ("MSC", ["X", "H", "L", "N"]), ("MSI", ["X", "S", "H", "L", "N"]), ("MSA", ["X", "S", "H", "L", "N"]),
               ("S", ["X", "N", "P"]), ("AU", ["X", "N", "Y"]), ("R", ["X", "A", "U", "I"]), ("V", ["X", "D", "C"]),
               ("RE", ["X", "L", "M", "H"]), ("U", ["X", "Clear", "Green", "Amber", "Red"])]


def load_cvss():
    """The `cvss` module: the interpreter's own, else the pinned wheel from PyPI
    (a pure-Python wheel is importable straight from its zip)."""
    try:
        return importlib.import_module("cvss"), "installed"
    except ImportError:
        pass
    wheel = None
    if os.path.isdir(CACHE):
        wheel = next((os.path.join(CACHE, f) for f in os.listdir(CACHE) if f.endswith(".whl")), None)
    if wheel is None:
        os.makedirs(CACHE, exist_ok=True)
        with tempfile.TemporaryDirectory() as tmp:
            r = subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                                "--only-binary=:all:", CVSS_PIN, "-d", tmp], capture_output=True, text=True,
                               timeout=300)
            if r.returncode != 0:
                raise RuntimeError("pip download %s failed: %s" % (CVSS_PIN, r.stderr.strip()[-500:]))
            name = next(f for f in os.listdir(tmp) if f.endswith(".whl"))
            wheel = os.path.join(CACHE, name)
            with open(os.path.join(tmp, name), "rb") as src, open(wheel, "wb") as dst:
                dst.write(src.read())
    zipfile.ZipFile(wheel).testzip()
    sys.path.insert(0, wheel)
    return importlib.import_module("cvss"), os.path.basename(wheel)


try:
    CVSS, CVSS_FROM = load_cvss()
    SKIP_REASON = None
except Exception as e:  # pylint: disable=broad-except
    CVSS, CVSS_FROM = None, None
    SKIP_REASON = "the PyPI package %s could not be imported or installed (%s)" % (CVSS_PIN, e)


def kguard_scores(vectors):
    """kguard's JSON object for each vector, in order."""
    r = subprocess.run([KGUARD, "vuln", "cvss", "-o", "json", "-"], input="\n".join(vectors) + "\n",
                       capture_output=True, text=True, timeout=600)
    out = [json.loads(line) for line in r.stdout.splitlines()]
    if len(out) != len(vectors):
        raise AssertionError("kguard printed %d results for %d vectors (exit %d): %s" %
                             (len(out), len(vectors), r.returncode, r.stderr[-2000:]))
    for v, o in zip(vectors, out):
        if o["vector"] != v:
            raise AssertionError("result out of order: %r for %r" % (o["vector"], v))
    return out


def vector(prefix, metrics):
    return prefix + "/" + "/".join("%s:%s" % kv for kv in metrics)


def random_v3(rng, prefix):
    metrics = [(k, rng.choice(vals)) for k, vals in V3_BASE]
    for k, vals in V3_OPTIONAL:
        if rng.random() < 0.6:
            metrics.append((k, rng.choice(vals)))
    if rng.random() < 0.2:
        rng.shuffle(metrics)
    return vector(prefix, metrics)


def random_v4(rng):
    metrics = [(k, rng.choice(vals)) for k, vals in V4_BASE]
    for k, vals in V4_OPTIONAL:
        if rng.random() < 0.5:
            metrics.append((k, rng.choice(vals)))
    if rng.random() < 0.2:
        rng.shuffle(metrics)
    return vector("CVSS:4.0", metrics)


def v4_base_only(v):
    keep = {k for k, _ in V4_BASE}
    parts = v.split("/")[1:]
    return vector("CVSS:4.0", [tuple(p.split(":")) for p in parts if p.split(":")[0] in keep])


class Cli(unittest.TestCase):
    """`kguard vuln cvss` itself: text, JSON, exit status (needs no package)."""

    def run_kguard(self, *args, stdin=None):
        return subprocess.run([KGUARD, "vuln", "cvss", *args], input=stdin, capture_output=True, text=True,
                              timeout=60)

    def test_text_output(self):
        r = self.run_kguard("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:P")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.split("\n")[0].split(), ["base", "9.8", "Critical", "(critical)"])
        self.assertEqual(r.stdout.split("\n")[1].split(), ["temporal", "9.3", "Critical", "(critical)"])
        r = self.run_kguard("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:N/SI:N/SA:N")
        self.assertEqual(r.stdout.split(), ["CVSS-B", "0.0", "None", "(below", "low)", "MacroVector", "002201"])
        # Several vectors: each block headed by its vector.
        r = self.run_kguard("CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N")
        self.assertEqual(r.stdout.count("base            7.5  High"), 2, r.stdout)
        self.assertIn("CVSS:3.0/AV:N", r.stdout)

    def test_json_and_exit_status(self):
        r = self.run_kguard("-o", "json", "-", stdin="CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H\r\n\nCVSS:3.1/AV:Q\n")
        self.assertEqual(r.returncode, 1)
        lines = [json.loads(x) for x in r.stdout.splitlines()]
        self.assertEqual(len(lines), 2)
        self.assertEqual(lines[0]["base"], 9.8)
        self.assertEqual(lines[0]["severity"], "critical")
        self.assertIn("metric AV has value \"Q\"", lines[1]["error"])
        r = self.run_kguard("CVSS:3.1/AV:N")
        self.assertEqual(r.returncode, 1)
        self.assertIn("missing base metrics AC, PR, UI, S, C, I, A", r.stderr)
        for args in ([], ["-o"], ["-o", "yaml", "CVSS:3.1/AV:N"], ["--bogus"]):
            self.assertEqual(self.run_kguard(*args).returncode, 2, args)
        r = self.run_kguard("--help")
        self.assertEqual(r.returncode, 0)
        self.assertIn("Usage: kguard vuln cvss", r.stdout)


@unittest.skipIf(CVSS is None, SKIP_REASON or "")
class CrossCheck(unittest.TestCase):
    def report(self, what, total, mismatches):
        print("cvss_crosscheck: %s: %d of %d agree with %s (%s)" % (what, total - len(mismatches), total, CVSS_PIN,
                                                                   CVSS_FROM))
        self.assertEqual(mismatches, [], "%s: %d mismatches, first: %s" % (what, len(mismatches), mismatches[:5]))

    def test_every_v3_base_vector(self):
        for prefix in ("CVSS:3.0", "CVSS:3.1"):
            vectors = [vector(prefix, zip([k for k, _ in V3_BASE], combo))
                       for combo in itertools.product(*[vals for _, vals in V3_BASE])]
            ours = kguard_scores(vectors)
            bad = []
            for v, o in zip(vectors, ours):
                c = CVSS.CVSS3(v)
                base, severity = float(c.scores()[0]), c.severities()[0]
                if "error" in o or o["base"] != base or o["rating"] != severity:
                    bad.append((v, o, base, severity))
            self.report("every %s base vector" % prefix, len(vectors), bad)

    def test_every_v4_base_vector(self):
        vectors = [vector("CVSS:4.0", zip([k for k, _ in V4_BASE], combo))
                   for combo in itertools.product(*[vals for _, vals in V4_BASE])]
        self.assertEqual(len(vectors), 104976)
        ours = kguard_scores(vectors)
        bad = []
        for v, o in zip(vectors, ours):
            c = CVSS.CVSS4(v)
            if "error" in o or o["base"] != c.base_score or o["score"] != c.base_score or \
                    o["rating"] != c.severity or o["nomenclature"] != "CVSS-B":
                bad.append((v, o, c.base_score, c.severity))
        self.report("every CVSS:4.0 base vector", len(vectors), bad)

    def test_random_full_vectors(self):
        rng = random.Random(SEED)
        v3 = [random_v3(rng, "CVSS:3.1" if i % 5 else "CVSS:3.0") for i in range(1000)]
        v4 = [random_v4(rng) for _ in range(1000)]
        ours = kguard_scores(v3 + v4)
        bad3 = []
        for v, o in zip(v3, ours[:1000]):
            c = CVSS.CVSS3(v)
            want = [float(s) for s in c.scores()]
            got = [o.get("base"), o.get("temporal"), o.get("environmental")]
            if "error" in o or got != want:
                bad3.append((v, got, want))
        self.report("random CVSS:3.x vectors with temporal and environmental metrics (seed %d)" % SEED, len(v3),
                    bad3)
        bad4 = []
        for v, o in zip(v4, ours[1000:]):
            whole = CVSS.CVSS4(v)
            base = CVSS.CVSS4(v4_base_only(v))
            got = (o.get("score"), o.get("base"), o.get("score_rating"))
            want = (whole.base_score, base.base_score, whole.severity)
            if "error" in o or got != want:
                bad4.append((v, got, want))
        self.report("random CVSS:4.0 vectors with threat, environmental and supplemental metrics (seed %d)" % SEED,
                    len(v4), bad4)

    def test_malformed_vectors_are_refused_by_both(self):
        # Each is refused by kguard with the metric named, and by the package too.
        cases = {
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:Q": "metric A has value \"Q\"",
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H": "missing base metric A",
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/A:H": "metric A is given twice",
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/XX:H": "unknown metric XX",
            "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:S/SA:N": "metric SI has value \"S\"",
            "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N": "missing base metric SA",
            "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/U:Purple": "metric U has value \"Purple\"",
            "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/": "is empty",
        }
        ours = kguard_scores(list(cases))
        for (v, fragment), o in zip(cases.items(), ours):
            self.assertIn(fragment, o.get("error", ""), v)
            cls = CVSS.CVSS4 if v.startswith("CVSS:4.0") else CVSS.CVSS3
            with self.assertRaises(Exception, msg=v):
                cls(v)


if __name__ == "__main__":
    result = unittest.main(verbosity=2, exit=False).result
    if not result.wasSuccessful():
        sys.exit(1)
    if SKIP_REASON:
        print("cvss_crosscheck: SKIPPED (the CLI tests passed): " + SKIP_REASON)
        sys.exit(77)

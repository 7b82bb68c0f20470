"""kguard db through the real binary: build from every feed format (the shared
corpora, OSV records as a folder and as a zip64 all.zip, KEV and EPSS),
status and its age warning, lookups, idempotent rebuilds, and the bundle
round trip with damaged bundles refused and the working database untouched.

Usage: vuln_db_test.py KGUARD CORPORA
"""
import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import unittest
import zipfile

KGUARD = CORPORA = None


def run(*argv, env=None):
    e = dict(os.environ)
    e.pop("KGUARD_DB_MAX_AGE", None)
    if env:
        e.update(env)
    p = subprocess.run([KGUARD, *argv], capture_output=True, text=True, timeout=600, env=e)
    return p.returncode, p.stdout, p.stderr


def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def osv(id_, eco, name, fixed, aliases=()):
    return {"schema_version": "1.6.0", "id": id_, "modified": "2024-01-01T00:00:00Z", "aliases": list(aliases),
            "summary": f"{id_} in {name}",
            "affected": [{"package": {"ecosystem": eco, "name": name},
                          "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": fixed}]}]}]}


class VulnDb(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        t = cls.tmp.name
        sc = os.path.join(CORPORA, "supply-chain")
        cls.secdb = os.path.join(sc, "alpine/alpinelinux/alpine-secdb")
        cls.tracker = os.path.join(sc, "debian-tracker/aquasecurity/trivy-db/pkg/vulnsrc/debian/testdata/happy")
        cls.vunnel = os.path.join(sc, "grype-fixtures")
        cls.osv_dir = os.path.join(t, "osv")
        os.makedirs(os.path.join(cls.osv_dir, "PyPI"))
        with open(os.path.join(cls.osv_dir, "PyPI", "PYSEC-1.json"), "w") as f:
            json.dump(osv("PYSEC-2024-1", "PyPI", "Django_Rest.Framework", "3.15.2", ["CVE-2024-21520"]), f)
        with open(os.path.join(cls.osv_dir, "broken.json"), "w") as f:
            f.write("{\"id\": ")
        # An npm all.zip with more than 65,535 records: zip64, as OSV's dumps are.
        cls.zip = os.path.join(t, "all.zip")
        with zipfile.ZipFile(cls.zip, "w", zipfile.ZIP_DEFLATED) as z:
            for i in range(70000):
                z.writestr(f"GHSA-{i:05d}.json", json.dumps(osv(f"GHSA-{i:05d}", "npm", f"pkg{i % 1000}", f"1.{i}.0")))
        cls.kev = os.path.join(t, "kev.json")
        with open(cls.kev, "w") as f:
            json.dump({"title": "CISA Catalog of Known Exploited Vulnerabilities", "catalogVersion": "2024.01.01",
                       "count": 2, "vulnerabilities": [{"cveID": "CVE-2021-33560", "vendorProject": "x"},
                                                       {"cveID": "CVE-2024-21520"}]}, f)
        cls.epss = os.path.join(t, "epss.csv")
        with open(cls.epss, "w") as f:
            f.write("#model_version:v2023.03.01,score_date:2024-01-01T00:00:00+0000\n"
                    "cve,epss,percentile\nCVE-2021-33560,0.00123,0.456\nCVE-2024-0727,0.5,0.9\n")
        cls.db = os.path.join(t, "cache", "vuln.db")
        cls.build_args = ["db", "build", "--db", cls.db, "--alpine-secdb", cls.secdb, "--debian-tracker", cls.tracker,
                          "--vunnel", cls.vunnel, "--osv", cls.osv_dir, "--osv", cls.zip, "--kev", cls.kev,
                          "--epss", cls.epss]
        cls.build = run(*cls.build_args)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def lookup(self, ns, pkg, db=None):
        code, out, err = run("db", "lookup", "--db", db or self.db, ns, pkg, "-o", "json")
        self.assertEqual(code, 0, err)
        return json.loads(out)

    def test_build_reports_broken_input_and_imports_the_rest(self):
        code, _, err = self.build
        self.assertEqual(code, 1, err)  # broken.json
        self.assertIn("broken.json:1:", err)
        self.assertTrue(os.path.exists(self.db))

    def test_every_feed_is_in(self):
        (r,) = self.lookup("debian:9", "libgcrypt20")
        self.assertEqual(r["ranges"][0]["events"], [{"introduced": "0"}, {"fixed": "1.7.6-2+deb9u4"}])
        self.assertEqual(r["advisory"]["aliases"], ["DLA-2691-1"])
        self.assertTrue(r["advisory"]["kev"])
        self.assertAlmostEqual(r["advisory"]["epss"], 0.00123)
        ans = [x for x in self.lookup("alpine:3.10", "ansible") if x["id"] == "CVE-2019-10206"]
        self.assertEqual(ans[0]["ranges"][0]["events"][1], {"fixed": "2.8.4-r0"})
        self.assertEqual(ans[0]["scheme"], "apk")
        (jq,) = self.lookup("debian:12", "jq")
        self.assertEqual(jq["feed"], "vunnel:debian")
        (dj,) = self.lookup("pypi", "django-rest-framework")  # PEP 503
        self.assertEqual(dj["id"], "PYSEC-2024-1")
        self.assertTrue(dj["advisory"]["kev"])  # through the alias CVE-2024-21520
        npm = self.lookup("npm", "pkg7")
        self.assertEqual(len(npm), 70)  # every 1000th of the 70,000 zip members
        self.assertEqual({x["id"] for x in npm}, {f"GHSA-{i:05d}" for i in range(7, 70000, 1000)})
        self.assertEqual(self.lookup("npm", "nope"), [])

    def test_status(self):
        code, out, err = run("db", "status", "--db", self.db, "-o", "json")
        self.assertEqual(code, 0, err)
        s = json.loads(out)
        self.assertEqual(s["schema"], 1)
        self.assertFalse(s["stale"])
        self.assertLess(s["age_seconds"], 600)
        names = [f["name"] for f in s["feeds"]]
        self.assertEqual(sorted(names), sorted(["alpine-secdb", "debian-tracker", "vunnel", "osv", "osv", "kev", "epss"]))
        con = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True)
        self.assertEqual(s["affected"], con.execute("select count(*) from affected").fetchone()[0])
        self.assertEqual(s["advisories"], con.execute("select count(*) from advisory").fetchone()[0])
        zipfeed = [f for f in s["feeds"] if f["origin"] == self.zip][0]
        self.assertEqual(zipfeed["affected"], 70000)
        self.assertEqual([f["errors"] for f in s["feeds"] if f["origin"] == self.osv_dir], [1])
        code, out, err = run("db", "status", "--db", self.db)
        self.assertEqual(code, 0, err)
        self.assertIn("affected package records", out)
        self.assertEqual(err, "")

    def test_age_warns_never_fails(self):
        code, out, err = run("db", "status", "--db", self.db, "--max-age", "0s", "-o", "json")
        self.assertEqual(code, 0)
        self.assertIn("warning: vulnerability database", err)
        self.assertIn("older than", err)
        self.assertTrue(json.loads(out)["stale"] or "0 seconds" in err)
        code, _, err = run("db", "status", "--db", self.db, env={"KGUARD_DB_MAX_AGE": "soon"})
        self.assertEqual(code, 0)
        self.assertIn("KGUARD_DB_MAX_AGE", err)
        code, _, err = run("db", "status", "--db", self.db, "--max-age", "7x")
        self.assertEqual(code, 2)

    def test_rebuild_is_idempotent(self):
        other = os.path.join(self.tmp.name, "again.db")
        args = list(self.build_args)
        args[args.index(self.db)] = other
        run(*args)
        run(*args)  # over the first: replaced, same contents
        a = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True)
        b = sqlite3.connect(f"file:{other}?mode=ro", uri=True)
        for q in ("select * from affected order by 1,2,3,4", "select * from advisory order by 1",
                  "select * from alias order by 1,2"):
            self.assertEqual(a.execute(q).fetchall(), b.execute(q).fetchall(), q)
        self.assertEqual([x for x in os.listdir(self.tmp.name) if ".tmp-" in x], [])

    def test_bundle_round_trip_and_damage(self):
        bundle = os.path.join(self.tmp.name, "vuln-bundle.tar.gz")
        code, _, err = run("db", "export", "--db", self.db, "--out", bundle)
        self.assertEqual(code, 0, err)
        target = os.path.join(self.tmp.name, "airgap", "vuln.db")
        code, _, err = run("db", "import", "--db", target, bundle)
        self.assertEqual(code, 0, err)
        self.assertIn("checksum verified", err)
        self.assertEqual(sha(target), sha(self.db))
        self.assertEqual(self.lookup("debian:11", "libgcrypt20", db=target),
                         self.lookup("debian:11", "libgcrypt20"))
        good = sha(target)
        with open(bundle, "rb") as f:
            data = f.read()
        for name, bad in (("flipped", data[:len(data) // 2] + bytes([data[len(data) // 2] ^ 1]) + data[len(data) // 2 + 1:]),
                          ("truncated", data[:len(data) - 100]),
                          ("junk", b"not a bundle at all")):
            path = os.path.join(self.tmp.name, name + ".tar.gz")
            with open(path, "wb") as f:
                f.write(bad)
            code, _, err = run("db", "import", "--db", target, path)
            self.assertEqual(code, 1, name)
            self.assertIn(path, err)
            self.assertEqual(sha(target), good, name)  # the working database is untouched
        self.assertEqual([x for x in os.listdir(os.path.dirname(target)) if x != "vuln.db"], [])

    def test_usage_errors(self):
        self.assertEqual(run("db", "build", "--db", os.path.join(self.tmp.name, "x.db"))[0], 2)
        self.assertEqual(run("db", "build", "--bogus", "x")[0], 2)
        code, _, err = run("db", "build", "--db", os.path.join(self.tmp.name, "y.db"), "--osv",
                           os.path.join(self.tmp.name, "missing"))
        self.assertEqual(code, 1)
        self.assertIn("missing: no such file or folder", err)
        code, _, err = run("db", "status", "--db", os.path.join(self.tmp.name, "none.db"))
        self.assertEqual(code, 1)
        self.assertIn("kguard db build", err)
        self.assertEqual(run("db", "--help")[0], 0)


if __name__ == "__main__":
    KGUARD, CORPORA = sys.argv[1], sys.argv[2]
    del sys.argv[1:3]
    unittest.main()

#!/usr/bin/env python3
"""The SBOM writers (report/sbom.cpp) on real package sets, validated against
the official JSON schemas: CycloneDX 1.6 (bom-1.6.schema.json with the
spdx.schema.json and jsf-0.82.schema.json it references) and SPDX 2.3
(spdx-schema 2.3). The schemas come from the PyPI package lib4sbom (pinned),
which ships the upstream files: scripts/install-deps.sh fetches it with pip
into ~/.cache/kguard-sbom-schemas (this test does too when it is missing).

Inputs: this machine's dpkg database, /usr/share/doc, Python dist-packages,
/usr/share/java and npm's node_modules, and Trivy's alpine-3.11 image root
from the shared corpora, catalogued by inventory_probe (each folder a layer).

usage: sbom_test.py INVENTORY_PROBE SOURCE_DIR CORPORA_DIR
"""
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import unittest
import zipfile

PROBE, SOURCE, CORPORA = sys.argv[1], sys.argv[2], sys.argv[3]
del sys.argv[1:4]

LIB4SBOM = "lib4sbom==0.10.4"
CACHE = os.path.join(os.path.expanduser("~"), ".cache", "kguard-sbom-schemas", LIB4SBOM.replace("==", "-"))


def import_dependency(name):
    """jsonschema comes from Debian (python3-jsonschema); when ctest runs
    another Python 3 (pyenv, a venv), Debian's dist-packages is tried too."""
    try:
        return __import__(name)
    except ImportError:
        debian = "/usr/lib/python3/dist-packages"
        if os.path.isdir(debian) and debian not in sys.path:
            sys.path.append(debian)
            try:
                return __import__(name)
            except ImportError:
                pass
    sys.exit(f"sbom_test: Python module '{name}' is missing; run scripts/install-deps.sh")


jsonschema = import_dependency("jsonschema")


def schemas():
    """The schema folder of the pinned lib4sbom wheel, fetched once with pip."""
    marker = os.path.join(CACHE, "spdx", "2.3-schema.json")
    if not os.path.exists(marker):
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
                            LIB4SBOM, "-d", tmp], check=True, timeout=300)
            wheel = [f for f in os.listdir(tmp) if f.endswith(".whl")][0]
            with zipfile.ZipFile(os.path.join(tmp, wheel)) as z:
                for n in z.namelist():
                    if n.startswith("lib4sbom/schemas/") and n.endswith(".json"):
                        dest = os.path.join(CACHE, n[len("lib4sbom/schemas/"):])
                        os.makedirs(os.path.dirname(dest), exist_ok=True)
                        with open(dest, "wb") as f:
                            f.write(z.read(n))
    return CACHE


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def cyclonedx_validator():
    base = os.path.join(schemas(), "cyclonedx")
    bom = load(os.path.join(base, "bom-1.6.schema.json"))
    others = [load(os.path.join(base, n)) for n in ("spdx.schema.json", "jsf-0.82.schema.json")]
    cls = jsonschema.validators.validator_for(bom)
    cls.check_schema(bom)
    try:  # jsonschema >= 4.18: the referencing library
        import referencing
        registry = referencing.Registry().with_resources(
            [(s["$id"], referencing.Resource.from_contents(s)) for s in others])
        return cls(bom, registry=registry)
    except ImportError:  # Debian 12's jsonschema 4.10
        store = {s["$id"]: s for s in others}
        return cls(bom, resolver=jsonschema.RefResolver.from_schema(bom, store=store))


def spdx_validator():
    schema = load(os.path.join(schemas(), "spdx", "2.3-schema.json"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def probe(fmt, *dirs):
    p = subprocess.run([PROBE, "--reference", "registry.example/team/probe:1.0", "-o", fmt, *dirs],
                       capture_output=True, text=True, timeout=600)
    if p.returncode != 0:
        raise AssertionError(f"inventory_probe exited {p.returncode}: {p.stderr}")
    return p.stdout


MACHINE = [d for d in ("/usr/lib/os-release=/usr/lib/os-release", "/var/lib/dpkg=/var/lib/dpkg",
                       "/usr/share/doc=/usr/share/doc", "/usr/lib/python3/dist-packages=/usr/lib/python3/dist-packages",
                       "/usr/share/java=/usr/share/java", "/usr/lib/node_modules=/usr/lib/node_modules")
           if os.path.exists(d.split("=")[0])]


class SbomSchemas(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.cdx = cyclonedx_validator()
        cls.spdx = spdx_validator()
        cls.tmp = tempfile.TemporaryDirectory()
        # Trivy's alpine-3.11 docker-save archive: its one layer unpacked as a root.
        cls.alpine = None
        tarball = os.path.join(CORPORA, "supply-chain/alpine/aquasecurity/trivy/pkg/fanal/test/testdata/alpine-311.tar.gz")
        if os.path.exists(tarball):
            root = os.path.join(cls.tmp.name, "alpine")
            with tarfile.open(tarball) as outer:
                layer = [m for m in outer.getmembers() if m.name.endswith("layer.tar")][0]
                with tarfile.open(fileobj=outer.extractfile(layer)) as inner:
                    members = [m for m in inner.getmembers() if m.isfile() and m.name.startswith(("lib/apk", "etc/"))]
                    inner.extractall(root, members=members)
            cls.alpine = root

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def inputs(self):
        cases = []
        if MACHINE:
            cases.append(("this machine", MACHINE))
        if self.alpine:
            cases.append(("alpine-3.11", [self.alpine]))
        cases.append(("empty", [os.path.join(self.tmp.name, "empty")]))
        os.makedirs(os.path.join(self.tmp.name, "empty"), exist_ok=True)
        return cases

    def assertValid(self, validator, doc):
        errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
        self.assertEqual([f"{list(e.absolute_path)}: {e.message[:200]}" for e in errors[:10]], [])

    def test_cyclonedx_validates_and_holds_every_package(self):
        for name, dirs in self.inputs():
            with self.subTest(name):
                tsv = probe("tsv", *dirs).splitlines()[1:]
                doc = json.loads(probe("cyclonedx", *dirs))
                self.assertValid(self.cdx, doc)
                comps = [c for c in doc["components"] if c["type"] == "library"]
                self.assertEqual(len(comps), len(tsv))
                self.assertEqual(sorted(c.get("purl", "") for c in comps), sorted(l.split("\t")[3] for l in tsv))
                refs = [c["bom-ref"] for c in doc["components"]]
                self.assertEqual(len(refs), len(set(refs)))
                self.assertEqual(set(doc["dependencies"][0]["dependsOn"]), set(refs))
                self.assertEqual(doc["metadata"]["component"]["type"], "container")
                for c in comps:
                    self.assertTrue(c["evidence"]["occurrences"][0]["location"].startswith("/"))
                    props = {p["name"]: p["value"] for p in c["properties"]}
                    self.assertTrue(props["kguard:package:layer"].startswith("sha256:"))

    def test_spdx_validates_and_is_consistent(self):
        for name, dirs in self.inputs():
            with self.subTest(name):
                tsv = probe("tsv", *dirs).splitlines()[1:]
                doc = json.loads(probe("spdx", *dirs))
                self.assertValid(self.spdx, doc)
                ids = [p["SPDXID"] for p in doc["packages"]]
                self.assertEqual(len(ids), len(set(ids)))
                libs = [p for p in doc["packages"] if p["primaryPackagePurpose"] == "LIBRARY"]
                self.assertEqual(len(libs), len(tsv))
                known = set(ids) | {"SPDXRef-DOCUMENT"}
                for r in doc["relationships"]:
                    self.assertIn(r["spdxElementId"], known)
                    self.assertIn(r["relatedSpdxElement"], known)
                describes = [r for r in doc["relationships"] if r["relationshipType"] == "DESCRIBES"]
                self.assertEqual([(r["spdxElementId"], r["relatedSpdxElement"]) for r in describes],
                                 [("SPDXRef-DOCUMENT", "SPDXRef-Image")])
                # Every LicenseRef used is defined once.
                defined = [e["licenseId"] for e in doc.get("hasExtractedLicensingInfos", [])]
                self.assertEqual(len(defined), len(set(defined)))
                for p in libs:
                    for word in p["licenseDeclared"].replace("(", " ").replace(")", " ").split():
                        if word.startswith("LicenseRef-"):
                            self.assertIn(word, defined)

    def test_machine_sbom_names_dpkg_and_python_packages(self):
        if not MACHINE:
            self.skipTest("no package databases on this machine")
        doc = json.loads(probe("cyclonedx", *MACHINE))
        types = {p["value"] for c in doc["components"] for p in c.get("properties", [])
                 if p["name"] == "kguard:package:type"}
        self.assertIn("deb", types)
        self.assertIn("pypi", types)
        os_comp = [c for c in doc["components"] if c["type"] == "operating-system"]
        self.assertEqual(len(os_comp), 1)
        self.assertEqual(os_comp[0]["name"], "debian")
        # Licenses as SPDX ids where the id is on the list (dpkg copyright names are not).
        ids = {l["license"]["id"] for c in doc["components"] for l in c.get("licenses", []) if "id" in l.get("license", {})}
        self.assertTrue(ids, "no SPDX license id at all")


if __name__ == "__main__":
    unittest.main(verbosity=2)

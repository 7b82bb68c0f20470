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

With KGUARD and the real test image (tests/images/build_images.sh, the
image_build fixture): `kguard image -o cyclonedx|spdx` of the Debian image
validates too, its packages are exactly what dpkg-query reads from the image's
own status file, and `kguard image sbom:FILE` reads each SBOM back.

usage: sbom_test.py INVENTORY_PROBE SOURCE_DIR CORPORA_DIR [KGUARD]
"""
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import unittest
import urllib.parse
import zipfile

import support

PROBE, SOURCE, CORPORA = sys.argv[1], sys.argv[2], sys.argv[3]
KGUARD = sys.argv[4] if len(sys.argv) > 4 and not sys.argv[4].startswith("-") else None
del sys.argv[1:5 if KGUARD else 4]

LIB4SBOM = "lib4sbom==0.10.4"
CACHE = os.path.join(os.path.expanduser("~"), ".cache", "kguard-sbom-schemas", LIB4SBOM.replace("==", "-"))


jsonschema = support.import_dependency("jsonschema")
if jsonschema is None:
    sys.exit("sbom_test: Python module 'jsonschema' is missing; run scripts/install-deps.sh")


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


def kguard(*args):
    p = subprocess.run([KGUARD, *args], capture_output=True, text=True, timeout=600)
    if p.returncode != 0:
        raise AssertionError(f"kguard {' '.join(args)} exited {p.returncode}: {p.stderr}")
    return p.stdout


class ImageSbom(unittest.TestCase):
    """The Debian test image through the real layer walk."""

    @classmethod
    def setUpClass(cls):
        if not KGUARD:
            raise unittest.SkipTest("no kguard binary given")
        script = os.path.join(SOURCE, "tests", "images", "build_images.sh")
        if not os.path.exists(script) or subprocess.run([KGUARD, "image", "--help"], capture_output=True).returncode != 0:
            raise unittest.SkipTest("kguard image and its test images are not in this tree")
        built = subprocess.run([script],
                               capture_output=True, text=True, timeout=1200)
        if built.returncode != 0:
            raise AssertionError(f"build_images.sh: {built.stderr}")
        cls.cache = built.stdout.strip().splitlines()[-1]
        cls.ref = f"oci:{cls.cache}/oci:test"
        cls.tmp = tempfile.TemporaryDirectory()
        # The image's own dpkg database, taken from its first layer by tar, read by dpkg-query.
        admin = os.path.join(cls.tmp.name, "dpkg")
        os.makedirs(os.path.join(admin, "updates"))
        with tarfile.open(os.path.join(cls.cache, "test-docker.tar")) as archive:
            manifest = json.load(archive.extractfile("manifest.json"))
            first = manifest[0]["Layers"][0]
            member = archive.getmember(first)
            while member.issym():  # skopeo's layer.tar is a symlink to <diffid>.tar
                member = archive.getmember(os.path.normpath(os.path.join(os.path.dirname(member.name), member.linkname)))
            with tarfile.open(fileobj=archive.extractfile(member)) as layer:
                status = layer.extractfile("var/lib/dpkg/status").read()
        with open(os.path.join(admin, "status"), "wb") as f:
            f.write(status)
        q = subprocess.run(["dpkg-query", f"--admindir={admin}", "-W",
                            "-f=${db:Status-Status}\t${Package}\t${Version}\t${Architecture}\n"],
                           capture_output=True, text=True, check=True)
        cls.dpkg = sorted("\t".join(l.split("\t")[1:]) for l in q.stdout.splitlines()
                          if l.split("\t")[0] not in ("not-installed", "config-files"))
        cls.digest = "sha256:" + open(os.path.join(cls.cache, "manifest.sha256")).read().strip()
        cls.cdx_validator = cyclonedx_validator()
        cls.spdx_validator = spdx_validator()

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_inventory_equals_the_images_dpkg_database(self):
        doc = json.loads(kguard("image", self.ref, "-o", "json"))
        debs = [p for p in doc["packages"] if p["type"] == "deb"]
        self.assertEqual(sorted(f"{p['name']}\t{p['version']}\t{p['arch']}" for p in debs), self.dpkg)
        self.assertEqual(len(debs), 99)
        first_layer = doc["layers"][0]["digest"]
        for p in debs:
            self.assertEqual(p["locations"], [{"path": "/var/lib/dpkg/status", "layer": first_layer}])
            self.assertTrue(p["purl"].startswith(f"pkg:deb/debian/{urllib.parse.quote(p['name'], safe='')}@"), p["purl"])
            self.assertIn("distro=debian-12", p["purl"])

    def test_both_formats_validate_name_the_image_and_read_back(self):
        direct = json.loads(kguard("image", self.ref, "-o", "json"))["packages"]
        for fmt, validator in (("cyclonedx", self.cdx_validator), ("spdx", self.spdx_validator)):
            with self.subTest(fmt):
                text = kguard("image", self.ref, "-o", fmt)
                doc = json.loads(text)
                errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
                self.assertEqual([f"{list(e.absolute_path)}: {e.message[:200]}" for e in errors[:10]], [])
                if fmt == "cyclonedx":
                    self.assertEqual(doc["metadata"]["component"]["version"], self.digest)
                    self.assertEqual(doc["metadata"]["component"]["hashes"][0]["content"], self.digest[7:])
                else:
                    image = [p for p in doc["packages"] if p["SPDXID"] == "SPDXRef-Image"][0]
                    self.assertEqual(image["versionInfo"], self.digest)
                path = os.path.join(self.tmp.name, f"sbom.{fmt}.json")
                with open(path, "w") as f:
                    f.write(text)
                back = json.loads(kguard("image", f"sbom:{path}", "-o", "json"))
                self.assertEqual(back["manifestDigest"], self.digest)
                self.assertEqual(back["os"]["id"], "debian")
                # The same packages; a license on the SPDX list comes back in the list's spelling.
                def norm(pkgs):
                    return [dict(p, license=p.get("license", "").lower()) for p in pkgs]
                self.assertEqual(norm(back["packages"]), norm(direct))

    def test_not_an_sbom_is_refused(self):
        path = os.path.join(self.tmp.name, "pod.json")
        with open(path, "w") as f:
            f.write('{"kind": "Pod"}')
        p = subprocess.run([KGUARD, "image", f"sbom:{path}"], capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 2)
        self.assertIn(f"{path}:1: neither a CycloneDX", p.stderr)


class AppImagesSbom(unittest.TestCase):
    """Every image of tests/images/build_app_images.sh (the image_app_build fixture: distroless-like
    Debian, a shell on it, Python/Node/Go/Java layers, Alpine, an rpm root): both SBOMs validate
    against the schemas and read back to the packages kguard found."""

    def test_both_formats_of_each_image_validate_and_read_back(self):
        if not KGUARD:
            raise unittest.SkipTest("no kguard binary given")
        script = os.path.join(SOURCE, "tests", "images", "build_app_images.sh")
        built = subprocess.run([script, CORPORA], capture_output=True, text=True, timeout=1200)
        if built.returncode != 0:
            raise AssertionError(f"build_app_images.sh: {built.stderr}")
        layout = os.path.join(built.stdout.strip().splitlines()[-1], "oci")
        validators = {"cyclonedx": cyclonedx_validator(), "spdx": spdx_validator()}
        with tempfile.TemporaryDirectory() as tmp:
            for tag in ("distroless", "debug", "app", "alpine", "rpm"):
                ref = f"oci:{layout}:{tag}"
                direct = json.loads(kguard("image", ref, "-o", "json"))["packages"]
                self.assertTrue(direct, tag)
                for fmt, validator in validators.items():
                    with self.subTest(f"{tag} {fmt}"):
                        text = kguard("image", ref, "-o", fmt)
                        errors = sorted(validator.iter_errors(json.loads(text)), key=lambda e: list(e.absolute_path))
                        self.assertEqual([f"{list(e.absolute_path)}: {e.message[:200]}" for e in errors[:10]], [])
                        path = os.path.join(tmp, f"{tag}.{fmt}.json")
                        with open(path, "w") as f:
                            f.write(text)
                        back = json.loads(kguard("image", f"sbom:{path}", "-o", "json"))["packages"]
                        def norm(pkgs):
                            return [dict(p, license=p.get("license", "").lower()) for p in pkgs]
                        self.assertEqual(norm(back), norm(direct))


if __name__ == "__main__":
    unittest.main(verbosity=2)

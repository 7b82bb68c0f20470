#!/usr/bin/env python3
"""Exact inventories of real images through `kguard image -o json`: the images of
tests/images/build_app_images.sh (cached; the ctest fixture image_app_build builds them) —
a distroless-like Debian 12 (status.d, no shell), the same with busybox's shell (with and
without distroless' os-release), Python/Node/Go/Java layers on it, Trivy's
alpine 3.11 with a package removed in a second layer, a root made by Debian's rpm.

Every expectation is derived here, independently of kguard: the layers are read with Python's
tarfile (whiteouts applied) to learn which layer added each file; dpkg-query --admindir over the
status.d files the image holds, and dpkg-deb -f over the .debs it was made from; rpm -qa over the
image's rpmdb.sqlite; the apk database's P:/V: records; the wheel's METADATA; npm ls; go version -m;
the JAR's pom.properties. Then: the full sorted (type, name, version) list per image, each
package's file and layer, OS id and version, the distroless flag, and purls parsed back.

Run by ctest: image_inventory_test.py KGUARD_BINARY BUILD_SCRIPT CORPORA_DIR
"""
import email.parser
import gzip
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import unittest
import urllib.parse
import zipfile

KGUARD, BUILD, CORPORA = sys.argv[1:4]
del sys.argv[1:4]
CACHE = subprocess.run([BUILD, CORPORA], capture_output=True, check=True, timeout=1200).stdout.decode().strip()
LAYOUT = os.path.join(CACHE, "oci")
ALPINE_CORPUS = os.path.join(CORPORA, "supply-chain/alpine/aquasecurity/trivy/pkg/fanal/test/testdata/alpine-311.tar.gz")
BASE_DEBS = ["base-files", "netbase", "tzdata", "media-types"]  # layer 1 of the distroless image
LIB_DEBS = ["libc6", "libgcc-s1", "gcc-12-base", "libssl3", "zlib1g"]  # layer 2


def run(*cmd, **kw):
    p = subprocess.run(cmd, capture_output=True, timeout=120, **kw)
    if p.returncode != 0:
        raise AssertionError(f"{cmd}: exit {p.returncode}: {p.stderr.decode()}")
    return p.stdout.decode()


def kguard_json(ref, *args):
    p = subprocess.run([KGUARD, "image", "-o", "json", *args, ref], capture_output=True, timeout=120)
    if p.returncode != 0:
        raise AssertionError(f"kguard image {ref}: exit {p.returncode}: {p.stderr.decode()}")
    return json.loads(p.stdout)


def norm(name):
    name = name.lstrip("./").lstrip("/") if name not in (".", "./") else ""
    return "/" + name.rstrip("/")


class Image:
    """An OCI layout tag's final filesystem: path -> (layer digest, TarInfo, bytes of a regular file)."""

    def __init__(self, tag):
        with open(os.path.join(LAYOUT, "index.json")) as f:
            index = json.load(f)
        (entry,) = [m for m in index["manifests"]
                    if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag]
        self.manifest = json.loads(self.blob(entry["digest"]))
        self.layers = [l["digest"] for l in self.manifest["layers"]]
        self.files = {}
        for digest in self.layers:
            added, whiteouts, opaques = {}, [], []
            with tarfile.open(fileobj=io.BytesIO(self.blob(digest)), mode="r:*") as tar:
                for m in tar:
                    path = norm(m.name)
                    base = os.path.basename(path)
                    if base == ".wh..wh..opq":
                        opaques.append(os.path.dirname(path))
                    elif base.startswith(".wh."):
                        whiteouts.append(os.path.join(os.path.dirname(path), base[4:]))
                    else:
                        data = tar.extractfile(m).read() if m.isreg() else None
                        added[path] = (digest, m, data)
            # Whiteouts hide the lower layers' entries only.
            for gone in whiteouts + opaques:
                under = gone.rstrip("/") + "/"
                for p in [p for p in self.files if p.startswith(under) or (p == gone and gone not in opaques)]:
                    del self.files[p]
            self.files.update(added)

    @staticmethod
    def blob(digest):
        with open(os.path.join(LAYOUT, "blobs/sha256", digest.split(":")[1]), "rb") as f:
            return f.read()

    def content(self, path):
        return self.files[path][2]

    def layer_of(self, path):
        return self.files[path][0]


def deb_fields(name, *fields):
    (deb,) = [os.path.join(CACHE, "debs", f) for f in os.listdir(os.path.join(CACHE, "debs"))
              if f.startswith(name + "_") and f.endswith(".deb")]
    return run("dpkg-deb", "-f", deb, *fields)


def deb_file(name, path):
    (deb,) = [os.path.join(CACHE, "debs", f) for f in os.listdir(os.path.join(CACHE, "debs"))
              if f.startswith(name + "_") and f.endswith(".deb")]
    tarbytes = subprocess.run(["dpkg-deb", "--fsys-tarfile", deb], capture_output=True, check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(tarbytes)) as t:
        return t.extractfile("." + path).read()


def os_release(text):
    out = {}
    for line in text.splitlines():
        if "=" in line and not line.startswith("#"):
            k, v = line.split("=", 1)
            out[k.strip()] = v.strip().strip('"')
    return out


def dpkg_expected(img):
    """dpkg-query over a status file made of the image's status.d stanzas (distroless writes no
    Status field; dpkg-query lists only installed packages, so one is added)."""
    prefix = "/var/lib/dpkg/status.d/"
    stanzas = []
    for path in sorted(img.files):
        if path.startswith(prefix) and "/" not in path[len(prefix):] and not path.endswith(".md5sums"):
            text = img.content(path).decode().strip("\n")
            assert "\nStatus:" not in text, path
            stanzas.append((path, text + "\nStatus: install ok installed\n"))
    with tempfile.TemporaryDirectory() as admin:
        for sub in ("info", "updates"):
            os.makedirs(os.path.join(admin, sub))
        with open(os.path.join(admin, "status"), "w") as f:
            f.write("\n".join(s for _, s in stanzas))
        open(os.path.join(admin, "available"), "w").close()
        out = run("dpkg-query", f"--admindir={admin}", "-W",
                  "-f=${Package}\t${Version}\t${Architecture}\t${source:Package}\t${source:Version}\n")
    rows = {}
    for line in out.splitlines():
        name, version, arch, source, source_version = line.split("\t")
        rows[name] = {"version": version, "arch": arch, "source": source, "source_version": source_version,
                      "path": prefix + name,
                      "layer": img.layer_of(prefix + name)}
    return rows


def rpm_expected(img):
    with tempfile.TemporaryDirectory() as root:
        os.makedirs(os.path.join(root, "var/lib/rpm"))
        # The database and, when the image holds one, SQLite's log beside it (rpm left an empty
        # one in layer 1 that survives beside layer 2's database).
        for name in ("rpmdb.sqlite", "rpmdb.sqlite-wal"):
            if "/var/lib/rpm/" + name in img.files:
                with open(os.path.join(root, "var/lib/rpm", name), "wb") as f:
                    f.write(img.content("/var/lib/rpm/" + name))
        out = run("rpm", "--root", root, "--dbpath", "/var/lib/rpm", "-qa", "--qf",
                  "%{NAME}\t%|EPOCH?{%{EPOCH}:}:{}|%{VERSION}-%{RELEASE}\t%{ARCH}\t%{LICENSE}\t%{SOURCERPM}\n")
    return sorted(tuple(l.split("\t")) for l in out.splitlines())


def apk_records(text):
    recs = []
    for block in text.split("\n\n"):
        fields = {}
        for line in block.splitlines():
            if len(line) > 1 and line[1] == ":":
                fields.setdefault(line[0], line[2:])
        if "P" in fields:
            recs.append(fields)
    return recs


# The version is optional: a Go main module built from a working tree ("(devel)") has none.
PURL = re.compile(r"^pkg:([a-z][a-z0-9.+-]*)/([^@?#]+)(?:@([^?#]+))?(?:\?([^#]*))?$")


def parse_purl(purl):
    m = PURL.match(purl)
    assert m, f"malformed purl {purl!r}"
    ptype, path, version, quals = m.groups()
    version = version or ""
    for seg in path.split("/") + ([version] if version else []):
        assert re.fullmatch(r"[A-Za-z0-9.\-_~%]+", seg), f"{purl}: unencoded characters in {seg!r}"
    segs = [urllib.parse.unquote(s) for s in path.split("/")]
    q = {}
    if quals:
        keys = []
        for kv in quals.split("&"):
            k, v = kv.split("=", 1)
            assert re.fullmatch(r"[a-z][a-z0-9.\-_]*", k), f"{purl}: qualifier key {k!r}"
            assert re.fullmatch(r"[A-Za-z0-9.\-_~%]+", v), f"{purl}: unencoded qualifier value {v!r}"
            keys.append(k)
            q[k] = urllib.parse.unquote(v)
        assert keys == sorted(keys), f"{purl}: qualifiers not sorted"
    return ptype, segs[:-1], segs[-1], urllib.parse.unquote(version), q


class InventoryTest(unittest.TestCase):
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        cls.img, cls.doc = {}, {}
        for tag in ("distroless", "shell", "debug", "app", "alpine", "rpm"):
            cls.img[tag] = Image(tag)
            cls.doc[tag] = kguard_json(f"oci:{LAYOUT}:{tag}", "--list-files")

    def triples(self, doc, types=None):
        return sorted((p["type"], p["name"], p["version"]) for p in doc["packages"] if not types or p["type"] in types)

    def package(self, doc, ptype, name, path=None):
        found = [p for p in doc["packages"] if p["type"] == ptype and p["name"] == name and
                 (path is None or p["locations"][0]["path"] == path)]
        self.assertEqual(len(found), 1, f"{ptype} {name} {path}: {found}")
        return found[0]

    def assert_common(self, tag):
        """No package error; each layer digest is the manifest's; every purl parses back to its package."""
        doc = self.doc[tag]
        self.assertEqual(doc["packageErrors"], [])
        self.assertEqual([l["digest"] for l in doc["layers"]], self.img[tag].layers)
        os_ = doc["os"]
        for p in doc["packages"]:
            ptype, ns, name, version, q = parse_purl(p["purl"])
            want_type = {"deb": "deb", "apk": "apk", "rpm": "rpm", "pypi": "pypi", "npm": "npm",
                         "golang": "golang", "maven": "maven"}[p["type"]]
            self.assertEqual(ptype, want_type, p["purl"])
            if p["type"] in ("deb", "apk", "rpm"):
                self.assertEqual(ns, [os_["id"]], p["purl"])
                self.assertEqual(name, p["name"], p["purl"])
                self.assertEqual(q["arch"], p["arch"], p["purl"])
                self.assertEqual(q["distro"], f"{os_['id']}-{os_['versionId']}", p["purl"])
                if p["type"] == "rpm":
                    epoch, _, rest = p["version"].rpartition(":")
                    self.assertEqual(version, rest, p["purl"])
                    self.assertEqual(q.get("epoch", ""), epoch, p["purl"])
                else:
                    self.assertEqual(version, p["version"], p["purl"])
                if p.get("sourceName") and p["type"] != "rpm":
                    # A source with a version of its own (a binNMU's) is written name@version.
                    self.assertEqual(q["upstream"], p["sourceName"] + ("@" + p["sourceVersion"] if p.get("sourceVersion") else ""),
                                     p["purl"])
            elif p["type"] == "maven":
                self.assertEqual(":".join(ns + [name]), p["name"], p["purl"])
                self.assertEqual(version, p["version"], p["purl"])
            elif p["type"] == "golang":
                self.assertEqual("/".join(ns + [name]), p["name"], p["purl"])
                want = {"stdlib": p["version"][2:], "(devel)": ""}.get(
                    p["name"] if p["name"] == "stdlib" else p["version"], p["version"])
                self.assertEqual(version, want, p["purl"])
            elif p["type"] == "pypi":
                self.assertEqual(ns, [])
                self.assertEqual(name, re.sub(r"[-_.]+", "-", p["name"]).lower(), p["purl"])
                self.assertEqual(version, p["version"], p["purl"])
            else:
                self.assertEqual("/".join(ns + [name]), p["name"], p["purl"])
                self.assertEqual(version, p["version"], p["purl"])
            # The file a package came from is in the final filesystem, added by the layer named.
            for loc in p["locations"]:
                path = loc["path"].split(":")[0]
                self.assertIn(path, self.img[tag].files, p["name"])
                self.assertEqual(loc["layer"], self.img[tag].layer_of(path), f"{p['name']} {path}")

    def assert_debs(self, tag, expected):
        doc = self.doc[tag]
        got = {p["name"]: p for p in doc["packages"] if p["type"] == "deb"}
        self.assertEqual(sorted(got), sorted(expected))
        for name, want in expected.items():
            p = got[name]
            self.assertEqual((p["version"], p["arch"], p.get("sourceName") or name, p.get("sourceVersion") or p["version"]),
                             (want["version"], want["arch"], want["source"], want["source_version"]), name)
            self.assertEqual(p["locations"], [{"path": want["path"], "layer": want["layer"]}], name)

    # ---- distroless-like ----

    def test_distroless(self):
        doc, img = self.doc["distroless"], self.img["distroless"]
        self.assert_common("distroless")
        rel = os_release(img.content("/usr/lib/os-release").decode())
        self.assertEqual((doc["os"]["id"], doc["os"]["versionId"], doc["os"]["versionCodename"]),
                         (rel["ID"], rel["VERSION_ID"], rel["VERSION_CODENAME"]))
        self.assertEqual((doc["os"]["id"], doc["os"]["versionId"]), ("debian", "12"))
        self.assertTrue(doc["os"]["distroless"])
        paths = {f["path"] for f in doc["fileList"]}
        self.assertNotIn("/bin/sh", paths)
        self.assertNotIn("/var/lib/dpkg/status", paths)
        self.assertIn("/var/lib/dpkg/status.d/libc6.md5sums", paths)  # present, and not a package
        expected = dpkg_expected(img)
        self.assert_debs("distroless", expected)
        # The image holds exactly the .debs it was made from, base files in layer 1, libraries in 2.
        from_debs = {}
        for name in BASE_DEBS + LIB_DEBS:
            pkg, version = deb_fields(name, "Package", "Version").splitlines()
            from_debs[pkg.split(": ", 1)[1]] = version.split(": ", 1)[1]
        self.assertEqual({n: e["version"] for n, e in expected.items()}, from_debs)
        for name in BASE_DEBS:
            self.assertEqual(expected[name]["layer"], img.layers[0], name)
        for name in LIB_DEBS:
            self.assertEqual(expected[name]["layer"], img.layers[1], name)
        self.assertEqual(self.triples(doc), sorted(("deb", n, v) for n, v in from_debs.items()))
        # Source packages with a version of their own: dpkg's source:Package.
        self.assertEqual(self.package(doc, "deb", "libc6")["sourceName"], "glibc")
        zlib = self.package(doc, "deb", "zlib1g")
        self.assertIn(":", zlib["version"])  # an epoch, encoded in the purl
        self.assertIn("@" + zlib["version"].replace(":", "%3A").replace("+", "%2B") + "?", zlib["purl"])

    def test_shell_and_debug(self):
        """busybox's /bin/sh on the distroless base: not distroless any more, unless the image's own
        os-release says it is (distroless' :debug images)."""
        base = dpkg_expected(self.img["distroless"])
        for tag, distroless in (("shell", False), ("debug", True)):
            doc, img = self.doc[tag], self.img[tag]
            self.assert_common(tag)
            self.assertEqual(img.layers[:2], self.img["distroless"].layers)
            self.assertEqual(len(img.layers), 3)
            self.assertEqual((img.files["/bin/sh"][1].issym(), img.files["/bin/sh"][1].linkname), (True, "busybox"))
            debs = dpkg_expected(img)
            self.assertEqual(debs["busybox-static"]["layer"], img.layers[2])
            # shell's layer purged media-types: its status.d file whited out, so it is gone.
            purged = {"media-types"} if tag == "shell" else set()
            self.assertEqual(sorted(set(debs) - {"busybox-static"}), sorted(set(base) - purged))
            if purged:
                self.assertNotIn("/var/lib/dpkg/status.d/media-types", img.files)
                self.assertNotIn("/etc/mime.types", img.files)
                self.assertIn("/etc/mime.types", self.img["distroless"].files)
            self.assert_debs(tag, debs)
            self.assertEqual(self.triples(doc), sorted(("deb", n, d["version"]) for n, d in debs.items()))
            self.assertEqual(doc["os"]["distroless"], distroless, tag)
            # /etc/os-release: base-files' symlink in shell, replaced by a file in debug.
            rel_path = "/usr/lib/os-release" if tag == "shell" else "/etc/os-release"
            self.assertEqual(img.files["/etc/os-release"][1].issym(), tag == "shell")
            rel = os_release(img.content(rel_path).decode())
            self.assertEqual((doc["os"]["id"], doc["os"]["versionId"], doc["os"]["prettyName"]),
                             (rel["ID"], rel["VERSION_ID"], rel["PRETTY_NAME"]))
        self.assertEqual(self.doc["debug"]["os"]["prettyName"], "Distroless")

    # ---- application layers ----

    def test_app(self):
        doc, img = self.doc["app"], self.img["app"]
        self.assert_common("app")
        self.assertEqual(img.layers[:2], self.img["distroless"].layers)  # the same base layers
        self.assertEqual(len(img.layers), 6)
        self.assertTrue(doc["os"]["distroless"])
        py_layer, node_layer, go_layer, java_layer = img.layers[2:]
        expected = []
        # dpkg: the base's packages where the base put them, python3-six and the Java library above.
        debs = dpkg_expected(img)
        self.assertEqual(debs["python3-six"]["layer"], py_layer)
        self.assertEqual(debs["libcommons-lang3-java"]["layer"], java_layer)
        self.assertEqual({n: d["layer"] for n, d in debs.items() if n in BASE_DEBS + LIB_DEBS},
                         {n: d["layer"] for n, d in dpkg_expected(self.img["distroless"]).items()})
        self.assert_debs("app", debs)
        expected += [("deb", n, d["version"]) for n, d in debs.items()]
        # Python: the wheel's METADATA (dist-info) and the .deb's PKG-INFO (egg-info).
        (wheel,) = [os.path.join(CACHE, "wheel", f) for f in os.listdir(os.path.join(CACHE, "wheel"))]
        with zipfile.ZipFile(wheel) as z:
            (meta_name,) = [n for n in z.namelist() if n.endswith(".dist-info/METADATA")]
            meta_bytes = z.read(meta_name)
        meta = email.parser.BytesHeaderParser().parsebytes(meta_bytes)
        wheel_path = "/app/site-packages/" + meta_name
        self.assertEqual(img.content(wheel_path), meta_bytes)
        egg_dir = "/usr/lib/python3/dist-packages/"
        (egg_path,) = [p for p in img.files if p.startswith(egg_dir) and p.endswith(".egg-info/PKG-INFO")]
        egg = email.parser.BytesHeaderParser().parsebytes(deb_file("python3-six", egg_path))
        for path, m in ((wheel_path, meta), (egg_path, egg)):
            p = self.package(doc, "pypi", m["Name"], path)
            self.assertEqual(p["version"], m["Version"])
            self.assertEqual(p["locations"][0]["layer"], py_layer)
            expected.append(("pypi", m["Name"], m["Version"]))
        self.assertEqual(self.package(doc, "pypi", meta["Name"], wheel_path)["license"], meta["License"])
        # Node: what npm itself says it installed, nested where npm nested it.
        tree = json.loads(run("npm", "ls", "--all", "--json", "--prefix", os.path.join(CACHE, "npm")))
        npm_rows = []

        def walk(deps, folder):
            for name, dep in deps.items():
                npm_rows.append((name, dep["version"], f"{folder}/node_modules/{name}"))
                walk(dep.get("dependencies", {}), f"{folder}/node_modules/{name}")
        walk(tree["dependencies"], "")
        self.assertEqual(len(npm_rows), 4)  # is-number 7, is-odd, is-number 6 under is-odd, the scoped one
        for name, version, folder in npm_rows:
            p = self.package(doc, "npm", name, f"/app{folder}/package.json")
            self.assertEqual(p["version"], version)
            self.assertEqual(p["locations"], [{"path": f"/app{folder}/package.json", "layer": node_layer}])
            with open(os.path.join(CACHE, "npm" + folder, "package.json")) as f:
                self.assertEqual(p["license"], json.load(f)["license"])
            expected.append(("npm", name, version))
        # Go: go version -m on the binary the layer holds.
        binary = os.path.join(CACHE, "go/hello")
        with open(binary, "rb") as f:
            self.assertEqual(f.read(), img.content("/app/bin/hello"))
        info = run("go", "version", "-m", binary).splitlines()
        go_pkgs = [("golang", "stdlib", info[0].split(": ", 1)[1].split()[0], "")]
        for line in info[1:]:
            parts = line.strip().split("\t")
            if parts[0] in ("mod", "dep"):
                go_pkgs.append(("golang", parts[1], parts[2], parts[3] if len(parts) > 3 else ""))
        self.assertEqual(len(go_pkgs), 3)  # stdlib, the main module, github.com/google/uuid
        for _, name, version, h1 in go_pkgs:
            p = self.package(doc, "golang", name)
            self.assertEqual((p["version"], p.get("checksum", "")), (version, h1), name)
            self.assertEqual(p["locations"], [{"path": "/app/bin/hello", "layer": go_layer}])
            expected.append(("golang", name, version))
        # Java: the JAR's pom.properties.
        jar = "/usr/share/java/commons-lang3.jar"
        with zipfile.ZipFile(io.BytesIO(img.content(jar))) as z:
            poms = [n for n in z.namelist() if n.startswith("META-INF/maven/") and n.endswith("/pom.properties")]
            self.assertEqual(len(poms), 1)
            props = dict(l.split("=", 1) for l in z.read(poms[0]).decode().splitlines() if "=" in l and not l.startswith("#"))
        name = props["groupId"] + ":" + props["artifactId"]
        p = self.package(doc, "maven", name)
        self.assertEqual(p["version"], props["version"])
        self.assertEqual(p["locations"], [{"path": jar, "layer": java_layer}])
        expected.append(("maven", name, props["version"]))
        self.assertEqual(self.triples(doc), sorted(expected))

    def test_app_from_docker_archive_and_its_sboms(self):
        """The same inventory from skopeo's docker-archive of the app image (a legacy archive: each
        layer named by its diff_id) and read back from kguard's own CycloneDX and SPDX."""
        oci = self.doc["app"]
        docker = kguard_json(f"docker-archive:{os.path.join(CACHE, 'app-docker.tar')}")
        self.assertEqual(docker["packageErrors"], [])
        diff_ids = [l["diffId"] for l in oci["layers"]]
        self.assertEqual([l["digest"] for l in docker["layers"]], diff_ids)
        as_diff_id = dict(zip([l["digest"] for l in oci["layers"]], diff_ids))

        def key(doc, layer_of=lambda d: d):
            return sorted((p["type"], p["name"], p["version"], p["purl"], p.get("checksum", ""),
                           tuple((l["path"], layer_of(l["layer"])) for l in p["locations"])) for p in doc["packages"])
        self.assertEqual(key(docker), key(oci, as_diff_id.get))
        with tempfile.TemporaryDirectory() as tmp:
            for fmt in ("cyclonedx", "spdx"):
                out = os.path.join(tmp, fmt + ".json")
                p = subprocess.run([KGUARD, "image", "-o", f"{fmt}={out}", f"oci:{LAYOUT}:app"],
                                   capture_output=True, timeout=120)
                self.assertEqual(p.returncode, 0, p.stderr.decode())
                back = kguard_json(f"sbom:{out}")
                self.assertEqual(key(back), key(oci), fmt)
                self.assertEqual((back["os"]["id"], back["os"]["versionId"]), ("debian", "12"), fmt)
                if fmt == "cyclonedx":  # its properties carry the rest (SPDX 2.3 has no place for it)
                    self.assertEqual(back["os"], oci["os"])

    # ---- Alpine ----

    def test_alpine(self):
        doc, img = self.doc["alpine"], self.img["alpine"]
        self.assert_common("alpine")
        # The corpus archive's database, and the one the second layer rewrote.
        with tarfile.open(ALPINE_CORPUS) as outer:
            (layer,) = [m for m in outer if m.name.endswith("/layer.tar")]
            with tarfile.open(fileobj=outer.extractfile(layer)) as t:
                before = apk_records(t.extractfile("lib/apk/db/installed").read().decode())
                release = t.extractfile("etc/alpine-release").read().decode().strip()
        after = apk_records(img.content("/lib/apk/db/installed").decode())
        self.assertEqual(len(before), 14)
        self.assertEqual(sorted(r["P"] for r in before if r["P"] != "ssl_client"), sorted(r["P"] for r in after))
        self.assertEqual(self.triples(doc), sorted(("apk", r["P"], r["V"]) for r in after))
        for r in after:
            p = self.package(doc, "apk", r["P"])
            self.assertEqual((p["arch"], p["license"], p["checksum"], p.get("sourceName") or r["P"]),
                             (r["A"], r["L"], r["C"], r.get("o", r["P"])), r["P"])
            self.assertEqual(p["locations"], [{"path": "/lib/apk/db/installed", "layer": img.layers[1]}])
        self.assertEqual((doc["os"]["id"], doc["os"]["versionId"], doc["os"]["distroless"]), ("alpine", release, False))
        self.assertEqual(release, "3.11.5")
        # apk del's files are gone from the final filesystem.
        (gone,) = [r for r in before if r["P"] == "ssl_client"]
        paths = {f["path"] for f in doc["fileList"]}
        self.assertNotIn("/usr/bin/ssl_client", paths)
        self.assertIn("/usr/bin", paths)
        # The corpus archive itself (docker save, gzip): the 14 packages, located in its one layer.
        orig = kguard_json(f"docker-archive:{ALPINE_CORPUS}")
        self.assertEqual(orig["packageErrors"], [])
        self.assertEqual(self.triples(orig), sorted(("apk", r["P"], r["V"]) for r in before))
        self.assertEqual({l["layer"] for p in orig["packages"] for l in p["locations"]}, {orig["layers"][0]["digest"]})

    # ---- rpm ----

    def test_rpm(self):
        doc, img = self.doc["rpm"], self.img["rpm"]
        self.assert_common("rpm")
        rows = rpm_expected(img)
        self.assertEqual(len(rows), 3)  # kguard-base; kguard-tools and its -doc subpackage
        self.assertEqual(self.triples(doc), sorted(("rpm", r[0], r[1]) for r in rows))
        for name, version, arch, license_, srpm in rows:
            p = self.package(doc, "rpm", name)
            self.assertEqual((p["arch"], p["license"]), (arch, license_), name)
            self.assertIn("&upstream=" + srpm, p["purl"])
            # rpm rewrote its database in layer 2: every package is found there.
            self.assertEqual(p["locations"], [{"path": "/var/lib/rpm/rpmdb.sqlite", "layer": img.layers[1]}])
        rel = os_release(img.content("/etc/os-release").decode())
        self.assertEqual((doc["os"]["id"], doc["os"]["versionId"], doc["os"]["distroless"]),
                         (rel["ID"], rel["VERSION_ID"], False))


if __name__ == "__main__":
    unittest.main(verbosity=2)

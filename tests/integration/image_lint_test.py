#!/usr/bin/env python3
"""`kguard image`'s hardening lint (rules/images/image-*) through the real binary:

- the real Debian 12 test image (tests/images/build_images.sh; config User 1000:1000, Env
  API_TOKEN=hunter2): the exact set of rules that fail, the setuid/setgid files against this
  test's own reading of the layer tars (whiteouts applied), layer digests in the messages;
- an image built here from bytes with one of every problem the rules know (root, secrets in env,
  history and files — one deleted by a later layer but still in its blob —, an empty password, a
  duplicate UID, busybox applets, setuid/setgid, world-writable in PATH, caches, 22 layers, latest,
  port 22, a /proc volume, ADD of a URL, chmod, sudo): every rule fails, each finding located;
- the lint report in every report format, --lang zh, --fail-on, --only, --config (a limit and an
  exemption), and what is refused (an SBOM input, --no-lint with a report format).

Run by ctest: image_lint_test.py KGUARD_BINARY SOURCE_DIR
"""
import csv
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import unittest
import xml.etree.ElementTree as ET

KGUARD = sys.argv[1]
SOURCE = sys.argv[2]
del sys.argv[1:3]

ALL_RULES = sorted(d for d in os.listdir(os.path.join(SOURCE, "rules", "images")) if d.startswith("image-")
                   and os.path.exists(os.path.join(SOURCE, "rules", "images", d, "rule.yaml"))
                   and "kinds: [Image]" in open(os.path.join(SOURCE, "rules", "images", d, "rule.yaml")).read())


def kguard(*args, check=True):
    p = subprocess.run([KGUARD, "image", *args], capture_output=True, text=True, timeout=300)
    if p.returncode < 0 or p.returncode > 2:
        raise AssertionError(f"kguard crashed ({p.returncode}) on {args}: {p.stderr}")
    if check and p.returncode != 0:
        raise AssertionError(f"kguard image {args} exited {p.returncode}: {p.stderr}")
    return p


def report(*args):
    return json.loads(kguard("-o", "report-json", *args).stdout)


def failed(doc):
    return sorted({f["rule"] for f in doc["findings"] if f["result"] == "fail"})


def by_rule(doc, rule):
    return [f for f in doc["findings"] if f["rule"] == rule]


def sha(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def layer_tar(entries):
    """A tar from (name, kind, payload, mode): kind file|dir|symlink."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, kind, payload, mode in entries:
            info = tarfile.TarInfo(name)
            info.mtime = 0
            info.mode = mode
            if kind == "dir":
                info.type = tarfile.DIRTYPE
                t.addfile(info)
            elif kind == "symlink":
                info.type, info.linkname = tarfile.SYMTYPE, payload
                t.addfile(info)
            else:
                data = payload if isinstance(payload, bytes) else payload.encode()
                info.size = len(data)
                t.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def write_layout(root, layers, config, history, tag):
    """An OCI layout of plain tar layers with this config and history, under `tag`."""
    os.makedirs(os.path.join(root, "blobs", "sha256"))

    def blob(data):
        d = sha(data)
        with open(os.path.join(root, "blobs", "sha256", d[7:]), "wb") as f:
            f.write(data)
        return d

    with open(os.path.join(root, "oci-layout"), "w") as f:
        f.write('{"imageLayoutVersion":"1.0.0"}')
    cfg = json.dumps({"architecture": "amd64", "os": "linux", "config": config,
                      "rootfs": {"type": "layers", "diff_ids": [sha(t) for t in layers]},
                      "history": history}).encode()
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": blob(cfg), "size": len(cfg)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": blob(t), "size": len(t)}
                   for t in layers]}).encode()
    index = {"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": blob(manifest), "size": len(manifest),
        "annotations": {"org.opencontainers.image.ref.name": tag}}]}
    with open(os.path.join(root, "index.json"), "w") as f:
        json.dump(index, f)
    return [sha(t) for t in layers]


def merged_modes(tars):
    """This test's own reading of an image: the final path → (type, mode) after whiteouts."""
    files = {}
    for data in tars:
        with tarfile.open(fileobj=io.BytesIO(data)) as t:
            members = t.getmembers()
        for m in members:  # whiteouts of this layer hide the lower layers only
            path = "/" + m.name.lstrip("./").rstrip("/")
            base = path.rsplit("/", 1)[1]
            if base == ".wh..wh..opq":
                d = path.rsplit("/", 1)[0]
                files = {p: v for p, v in files.items() if not p.startswith(d + "/")}
            elif base.startswith(".wh."):
                gone = path.rsplit("/", 1)[0] + "/" + base[4:]
                files = {p: v for p, v in files.items() if p != gone and not p.startswith(gone + "/")}
        for m in members:
            path = "/" + m.name.lstrip("./").rstrip("/")
            if not path.rsplit("/", 1)[1].startswith(".wh."):
                files[path] = (m.type, m.mode)
    return files


PRIVATE_KEY = ("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n"
               "-----END OPENSSH PRIVATE KEY-----\n")


class BadImage(unittest.TestCase):
    """One of every problem, built from bytes: every image rule fails."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        base = layer_tar([
            ("etc", "dir", None, 0o755),
            ("etc/os-release", "file", "ID=alpine\nVERSION_ID=3.20.3\nPRETTY_NAME=\"Alpine Linux v3.20\"\n", 0o644),
            ("etc/passwd", "file", "root:x:0:0:root:/root:/bin/sh\ntoor:x:0:0::/root:/bin/sh\n"
                                   "app:x:1000:1000::/home/app:/bin/sh\n", 0o644),
            ("etc/shadow", "file", "root::19000:0:99999:7:::\napp:!:19000::::::\n", 0o640),
            ("bin", "dir", None, 0o755),
            ("bin/busybox", "file", b"\x7fELF busybox", 0o755),
            ("bin/sh", "symlink", "busybox", 0o777),
            ("sbin", "dir", None, 0o755),
            ("sbin/apk", "file", b"\x7fELF apk", 0o755),
            ("usr/bin/wget", "symlink", "/bin/busybox", 0o777),
            ("usr/bin/curl", "file", b"\x7fELF curl", 0o755),
            ("usr/bin/telnet", "symlink", "/bin/missing", 0o777),  # dangling: not a tool
            ("usr/bin/passwd", "file", b"\x7fELF passwd", 0o4755),
            ("usr/bin/chage", "file", b"\x7fELF chage", 0o2755),
            ("var/mail", "dir", None, 0o2775),  # a setgid directory is not a setgid file
            ("usr/local/bin/tool", "file", "#!/bin/sh\n", 0o777),
            ("tmp", "dir", None, 0o1777),  # world-writable, but not in PATH
            ("var/cache/apk/APKINDEX.1.tar.gz", "file", b"\x1f\x8b index", 0o644),
            ("var/cache/apk/APKINDEX.2.tar.gz", "file", b"\x1f\x8b index two", 0o644),
            ("root/.ssh/id_rsa", "file", PRIVATE_KEY, 0o600),
            ("app/.env", "file", "# settings\nDB_PASSWORD=s3cret\n", 0o644),
            ("app/server.pem", "file", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n", 0o644),
            ("app/big.bin", "file", b"\0" * (2 << 20), 0o644),
        ])
        gone = layer_tar([("root/.ssh/.wh.id_rsa", "file", b"", 0o644)])
        extra = [layer_tar([(f"opt/step{i}", "file", str(i), 0o644)]) for i in range(20)]
        cls.tars = [base, gone] + extra
        history = [{"created_by": "/bin/sh -c #(nop) ADD file:4b03b5f551e3 in / "},
                   {"created_by": "ENV AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMIK7MDENG", "empty_layer": True},
                   {"created_by": "RUN /bin/sh -c rm /root/.ssh/id_rsa # buildkit"},
                   {"created_by": "ADD https://example.com/tool.tgz /opt/ # buildkit"},
                   {"created_by": "RUN /bin/sh -c sudo chmod 777 /usr/local/bin/tool # buildkit"}]
        history += [{"created_by": f"RUN /bin/sh -c touch /opt/step{i} # buildkit"} for i in range(2, 20)]
        config = {"Env": ["PATH=/usr/local/bin:/usr/bin:/bin", "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMIK7MDENG"],
                  "ExposedPorts": {"22/tcp": {}, "8080/tcp": {}}, "Volumes": {"/proc": {}, "/data": {}},
                  "Cmd": ["/bin/sh"]}
        cls.layout = os.path.join(cls.tmp.name, "bad")
        cls.digests = write_layout(cls.layout, cls.tars, config, history, "latest")
        cls.ref = f"oci:{cls.layout}:latest"
        cls.config_file = os.path.join(cls.tmp.name, "kguard.yaml")
        with open(cls.config_file, "w") as f:
            f.write("rules:\n  image-too-large:\n    params: {maxMegabytes: 1}\n"
                    "exemptions:\n  - rules: [image-latest-tag]\n    kinds: [Image]\n"
                    f"    names: [\"{cls.ref}\"]\n    reason: \"pinned by digest in the deploy repo\"\n")
        cls.doc = report("--config", cls.config_file, cls.ref)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_every_image_rule_fails(self):
        self.assertGreaterEqual(len(ALL_RULES), 21)
        fails = set(failed(self.doc))
        self.assertEqual(sorted(fails | {"image-latest-tag"}), ALL_RULES)
        # The configured limit and the exemption: without the config, the 2 MiB image is small enough
        # and its latest tag fails.
        plain = report(self.ref)
        self.assertNotIn("image-too-large", failed(plain))
        self.assertIn("image-latest-tag", failed(plain))
        exempt = [f for f in self.doc["findings"] if f["rule"] == "image-latest-tag"]
        self.assertEqual([f["result"] for f in exempt], ["exempt"])

    def test_findings_are_located(self):
        for f in self.doc["findings"]:
            self.assertTrue(f["location"]["path"].startswith("spec."), f)
            self.assertEqual(f["kind"], "Image")
            self.assertEqual(f["name"], self.ref)
        short = [d[:19] for d in self.digests]
        secrets = {f["location"]["path"]: f["message"] for f in by_rule(self.doc, "image-secret-file")}
        self.assertEqual(sorted(secrets.values()), sorted([
            f"/app/.env holds a .env file; added by layer 1 {short[0]}, history step 1",
            f"/root/.ssh/id_rsa holds a private key; added by layer 1 {short[0]}, history step 1, "
            "deleted by a later layer but still stored in that one"]))
        setid = sorted(f["message"].split(";")[0] for f in by_rule(self.doc, "image-setuid-setgid-files"))
        self.assertEqual(setid, ["/usr/bin/chage is setgid (mode 2755)", "/usr/bin/passwd is setuid (mode 4755)"])
        tools = sorted(f["message"].split(";")[0] for f in by_rule(self.doc, "image-network-tools"))
        self.assertEqual(tools, ["network tool curl at /usr/bin/curl", "network tool wget at /usr/bin/wget"])
        self.assertEqual([f["message"].split(";")[0] for f in by_rule(self.doc, "image-package-manager")],
                         ["package manager apk at /sbin/apk"])
        self.assertEqual([f["message"].split(";")[0] for f in by_rule(self.doc, "image-world-writable-in-path")],
                         ["/usr/local/bin/tool is a world-writable file in PATH (mode 0777)"])
        self.assertEqual([f["message"].split(";")[0] for f in by_rule(self.doc, "image-package-cache")],
                         ["apk package cache left in /var/cache/apk (2 files, 20 B)"])
        self.assertEqual([f["message"].split(";")[0] for f in by_rule(self.doc, "image-empty-password")],
                         ["account root in /etc/shadow has an empty password"])
        self.assertEqual([f["message"].split(";")[0] for f in by_rule(self.doc, "image-duplicate-uid")],
                         ["UID 0 in /etc/passwd is shared by root, toor"])
        history = {f["rule"]: (f["message"], f["location"]["path"]) for f in self.doc["findings"]
                   if f["location"]["path"].startswith("spec.history")}
        self.assertEqual(history["image-secret-in-history"],
                         ("history step 2, no layer: sets AWS_SECRET_ACCESS_KEY to a literal value",
                          "spec.history[1].createdBy"))
        self.assertEqual(history["image-add-remote-file"][1], "spec.history[3].createdBy")
        self.assertTrue(history["image-add-remote-file"][0].startswith(f"history step 4, layer 3 {short[2]}: "))
        self.assertEqual(history["image-chmod-chown-in-history"][1], "spec.history[4].createdBy")
        self.assertEqual(history["image-sudo-in-history"][1], "spec.history[4].createdBy")
        # The env secret's value is never in a message.
        for f in self.doc["findings"]:
            self.assertNotIn("wJalrXUtnFEMIK7MDENG", f["message"])
            self.assertNotIn("s3cret", f["message"])
        self.assertEqual([f["message"] for f in by_rule(self.doc, "image-too-many-layers")],
                         ["the image has 22 layers, more than the limit of 20"])
        base = by_rule(self.doc, "image-non-minimal-base")[0]["message"]
        self.assertTrue(base.startswith("the image is built on a full operating system base (alpine 3.20.3) with a shell"),
                        base)

    def test_every_report_format(self):
        sarif = json.loads(kguard("-o", "sarif", self.ref).stdout)
        results = sarif["runs"][0]["results"]
        self.assertEqual(sorted({r["ruleId"] for r in results if not r.get("suppressions")}),
                         failed(report(self.ref)))
        junit = ET.fromstring(kguard("-o", "junit", self.ref).stdout)
        self.assertEqual(len(junit.findall(".//failure")), len(failed(report(self.ref))))  # one test case per rule
        rows = list(csv.DictReader(io.StringIO(kguard("-o", "csv", self.ref).stdout)))
        self.assertEqual(len(rows), len(report(self.ref)["findings"]))
        for fmt in ("html", "markdown", "policyreport", "ci"):
            out = kguard("-o", fmt, self.ref).stdout
            self.assertIn("image-secret-file", out, fmt)
        text = kguard(self.ref).stdout
        self.assertIn("Image:     " + self.ref, text)  # the inventory first, then the report
        self.assertIn("image-empty-password", text)
        zh = json.loads(kguard("-o", "report-json", "--lang", "zh", self.ref).stdout)
        self.assertIn("/etc/shadow 中的账户 root 密码为空；由第 1 层", by_rule(zh, "image-empty-password")[0]["message"])
        self.assertIn("/root/.ssh/id_rsa 中含有私钥；由第 1 层",
                      " ".join(f["message"] for f in by_rule(zh, "image-secret-file")))
        self.assertEqual(by_rule(zh, "image-world-writable-in-path")[0]["message"].split("；")[0],
                         "/usr/local/bin/tool 是 PATH 中全局可写的文件（权限 0777）")
        obj = json.loads(kguard("-o", "object", self.ref).stdout)
        self.assertEqual(obj["kind"], "Image")
        self.assertEqual(obj["spec"]["config"]["user"], "")
        self.assertEqual(len(obj["spec"]["layers"]), 22)

    def test_gate_and_selection(self):
        p = kguard("-o", "report-json", "--fail-on", "critical", self.ref, check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("--fail-on critical crossed", p.stderr)
        self.assertIn("  critical  image-", p.stderr)  # the findings that crossed it, named
        only = report("--only", "image-runs-as-root", self.ref)
        self.assertEqual(failed(only), ["image-runs-as-root"])
        self.assertEqual([c["rule"] for c in only["checks"]], ["image-runs-as-root"])
        p = kguard("--only", "no-such-rule", self.ref, check=False)
        self.assertEqual(p.returncode, 2)
        p = kguard("--no-lint", "--fail-on", "low", self.ref, check=False)
        self.assertEqual(p.returncode, 2)
        p = kguard("--no-lint", "-o", "sarif", self.ref, check=False)
        self.assertEqual(p.returncode, 2)
        self.assertIn("--no-lint", p.stderr)


class HostileNames(unittest.TestCase):
    """Names that are not UTF-8 and control characters: every format stays valid, nothing is lost."""

    def test_not_utf8(self):
        with tempfile.TemporaryDirectory() as tmp:
            buf = io.BytesIO()
            with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT, encoding="latin-1") as t:
                info = tarfile.TarInfo("usr/bin/x\xff\x01y")
                info.mode, info.size = 0o4755, 1
                t.addfile(info, io.BytesIO(b"a"))
            layout = os.path.join(tmp, "names")
            write_layout(layout, [buf.getvalue()], {"Env": ["K\u00e9Y_TOKEN=abc", "PATH=/usr/bin"]}, [], "v1")
            ref = f"oci:{layout}:v1"
            doc = report(ref)  # json.loads fails on bytes that are not UTF-8
            setid = by_rule(doc, "image-setuid-setgid-files")
            self.assertEqual([f["message"] for f in setid],
                             ["/usr/bin/x\ufffd\x01y is setuid (mode 4755); added by layer 1 "
                              f"{sha(buf.getvalue())[:19]}, history step ?"])
            self.assertEqual([f["location"]["path"] for f in by_rule(doc, "image-secret-in-env")],
                             ['spec.config.env["K\u00e9Y_TOKEN"]'])
            json.loads(kguard("-o", "sarif", ref).stdout)
            self.assertNotIn("\x01", kguard("-o", "text", ref).stdout.split("3. Details")[1])


class DebianImage(unittest.TestCase):
    """The real Debian test image: exactly what fails, checked against the layers themselves."""

    @classmethod
    def setUpClass(cls):
        built = subprocess.run([os.path.join(SOURCE, "tests", "images", "build_images.sh")],
                               capture_output=True, text=True, timeout=1200)
        if built.returncode != 0:
            raise AssertionError(f"build_images.sh: {built.stderr}")
        cls.cache = built.stdout.strip().splitlines()[-1]
        cls.ref = f"oci:{cls.cache}/oci:test"
        cls.doc = report(cls.ref)
        # The layers as docker save wrote them, in order, read by Python's tarfile.
        with tarfile.open(os.path.join(cls.cache, "test-docker.tar")) as archive:
            manifest = json.load(archive.extractfile("manifest.json"))[0]
            cls.tars = [archive.extractfile(archive.getmember(l)).read() for l in manifest["Layers"]]

    def test_exact_rules(self):
        self.assertEqual(failed(self.doc), ["image-no-healthcheck", "image-non-minimal-base", "image-package-manager",
                                            "image-secret-in-env", "image-setuid-setgid-files"])
        self.assertEqual(len(self.doc["checks"]), len(ALL_RULES))
        env = by_rule(self.doc, "image-secret-in-env")
        self.assertEqual([(f["location"]["path"], f["severity"]) for f in env], [("spec.config.env.API_TOKEN", "high")])
        self.assertNotIn("hunter2", json.dumps(self.doc["findings"]))

    def test_setuid_setgid_files_are_the_layers(self):
        files = merged_modes(self.tars)
        expected = sorted(p for p, (t, mode) in files.items() if t in (tarfile.REGTYPE, tarfile.AREGTYPE, tarfile.LNKTYPE)
                          and mode & 0o6000)
        self.assertIn("/usr/bin/passwd", expected)
        self.assertNotIn("/usr/bin/su", expected)  # deleted by layer 2
        self.assertNotIn("/usr/bin/chfn", expected)  # whited out by layer 4
        found = sorted(f["message"].split(" ")[0] for f in by_rule(self.doc, "image-setuid-setgid-files"))
        self.assertEqual(found, expected)
        inventory = json.loads(kguard("-o", "json", self.ref).stdout)
        first = inventory["layers"][0]["digest"][:19]
        for f in by_rule(self.doc, "image-setuid-setgid-files"):
            self.assertTrue(f["message"].endswith(f"; added by layer 1 {first}, history step 1"), f["message"])

    def test_package_managers_and_shells(self):
        managers = sorted(f["message"].split(";")[0] for f in by_rule(self.doc, "image-package-manager"))
        self.assertEqual(managers, ["package manager apt at /usr/bin/apt", "package manager apt-get at /usr/bin/apt-get",
                                    "package manager dpkg at /usr/bin/dpkg"])
        self.assertIn("(debian 12) with a shell at /usr/bin/bash",
                      by_rule(self.doc, "image-non-minimal-base")[0]["message"])

    def test_gate_and_inventory_kept(self):
        self.assertEqual(kguard("--fail-on", "critical", "-o", "sarif", self.ref, check=False).returncode, 0)
        p = kguard("--fail-on", "high", "-o", "sarif", self.ref, check=False)
        self.assertEqual(p.returncode, 1)
        inventory = json.loads(kguard("-o", "json", self.ref).stdout)
        self.assertGreater(len(inventory["packages"]), 50)
        self.assertNotIn("findings", inventory)
        # Every source gives the same verdicts.
        for ref in (f"docker-archive:{self.cache}/test-docker.tar.gz", f"oci:{self.cache}/oci-zstd:test"):
            self.assertEqual(failed(report(ref)), failed(self.doc), ref)

    def test_sbom_input_is_not_linted(self):
        with tempfile.TemporaryDirectory() as tmp:
            sbom = os.path.join(tmp, "app.cdx.json")
            kguard("-o", f"cyclonedx={sbom}", self.ref)
            p = kguard("-o", "sarif", f"sbom:{sbom}", check=False)
            self.assertEqual(p.returncode, 2)
            self.assertIn("SBOM", p.stderr)
            self.assertEqual(kguard(f"sbom:{sbom}").returncode, 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)

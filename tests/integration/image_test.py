#!/usr/bin/env python3
"""`kguard image` through the real binary on small images: the shared corpora (trivy's OCI layouts
that must fail, osv-scalibr's docker-archive symlink attacks, claircore's whiteout layers) and
hostile layouts built here from bytes (truncated, corrupt, bombs, escapes, tampered blobs, limits,
multi-platform indexes). Each bad input must end with exit 2 and a message naming the blob and
entry, never a crash; the real Debian images are image_real_test.py's.

Run by ctest: image_test.py KGUARD_BINARY CORPORA_DIR
"""
import gzip
import hashlib
import io
import json
import os
import resource
import subprocess
import sys
import tarfile
import tempfile
import unittest

KGUARD = sys.argv[1]
CORPORA = sys.argv[2]
del sys.argv[1:3]
SC = os.path.join(CORPORA, "supply-chain")
TRIVY = os.path.join(SC, "oci-negative/aquasecurity/trivy/pkg/fanal/test/testdata")
SCALIBR = os.path.join(SC, "adversarial-tars/google/osv-scalibr/artifact/image")
CLAIR = os.path.join(SC, "adversarial-tars/quay/claircore/whiteout/testdata")

with open(KGUARD, "rb") as _f:
    SANITIZED = b"__asan_init" in _f.read()


def limit_memory():
    if not SANITIZED:
        resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))


def image(*args):
    """Runs `kguard image ARGS`; returns (exit code, stdout, stderr)."""
    p = subprocess.run([KGUARD, "image", *args], capture_output=True, timeout=120, preexec_fn=limit_memory)
    if p.returncode < 0 or p.returncode > 2:
        raise AssertionError(f"kguard crashed ({p.returncode}) on {args}: {p.stderr.decode()}")
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def image_json(*args):
    rc, out, err = image("-o", "json", "--list-files", *args)
    if rc != 0:
        raise AssertionError(f"kguard image {args} failed: {err}")
    doc = json.loads(out)
    doc["paths"] = {f["path"]: f for f in doc.get("fileList", [])}
    return doc


def sha(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def layer_tar(entries):
    """A tar from (name, kind, payload): kind file|dir|symlink|hardlink; names kept as given."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, kind, payload in entries:
            info = tarfile.TarInfo(name)
            info.mtime = 0
            if kind == "dir":
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                t.addfile(info)
            elif kind == "symlink":
                info.type, info.linkname = tarfile.SYMTYPE, payload
                t.addfile(info)
            elif kind == "hardlink":
                info.type, info.linkname = tarfile.LNKTYPE, payload
                t.addfile(info)
            else:
                data = payload if isinstance(payload, bytes) else payload.encode()
                info.size, info.mode = len(data), 0o644
                t.addfile(info, io.BytesIO(data))
    return buf.getvalue()


class Layout:
    """An OCI image layout written from layer blobs (raw bytes as stored) and their tars."""

    def __init__(self, root):
        self.root = root
        os.makedirs(os.path.join(root, "blobs", "sha256"), exist_ok=True)
        with open(os.path.join(root, "oci-layout"), "w") as f:
            f.write('{"imageLayoutVersion":"1.0.0"}')

    def blob(self, data):
        d = sha(data)
        with open(os.path.join(self.root, "blobs", "sha256", d[7:]), "wb") as f:
            f.write(data)
        return d

    def manifest(self, layers, arch="amd64", diff_ids=None, sizes=None, history=None):
        """layers: list of (stored bytes, uncompressed tar bytes, media type)."""
        config = {"architecture": arch, "os": "linux",
                  "rootfs": {"type": "layers",
                             "diff_ids": [sha(t) for _, t, _ in layers] if diff_ids is None else diff_ids},
                  "config": {}, "history": history or []}
        cbytes = json.dumps(config).encode()
        manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                               "digest": self.blob(cbytes), "size": len(cbytes)},
                    "layers": [{"mediaType": mt, "digest": self.blob(stored),
                                "size": (sizes[i] if sizes else len(stored))}
                               for i, (stored, _, mt) in enumerate(layers)]}
        mbytes = json.dumps(manifest).encode()
        return {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": self.blob(mbytes),
                "size": len(mbytes), "platform": {"os": "linux", "architecture": arch}}

    def index(self, descriptors, tags=None):
        entries = []
        for i, d in enumerate(descriptors):
            e = dict(d)
            if tags:
                e["annotations"] = {"org.opencontainers.image.ref.name": tags[i]}
            entries.append(e)
        with open(os.path.join(self.root, "index.json"), "w") as f:
            json.dump({"schemaVersion": 2, "manifests": entries}, f)
        return "oci:" + self.root


TAR = "application/vnd.oci.image.layer.v1.tar"
TGZ = "application/vnd.oci.image.layer.v1.tar+gzip"


def plain(t):
    return (t, t, TAR)


def gz(t):
    return (gzip.compress(t, mtime=0), t, TGZ)


class ImageTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)
        self.n = 0

    def layout(self):
        self.n += 1
        return Layout(os.path.join(self.tmp.name, f"l{self.n}"))

    def single(self, *layers, **kw):
        lay = self.layout()
        return lay.index([lay.manifest(list(layers), **kw)])

    def fails(self, ref, *want, args=()):
        rc, out, err = image(*args, ref)
        self.assertEqual(rc, 2, f"{ref} should fail: {out}{err}")
        for w in want:
            self.assertIn(w, err)
        return err

    # --- trivy's OCI layouts ---
    def test_trivy_valid_layout(self):
        doc = image_json("oci:" + os.path.join(TRIVY, "test.oci"))
        self.assertEqual(doc["manifestDigest"],
                         "sha256:afb744871f99e0ff8e6f253244836ed34c5d805fdb096d3a205ffaf5e9073cab")
        self.assertEqual(doc["configDigest"],
                         "sha256:b23a8f6569ae9ae331226205fa72f480ce5310707d0bc97e611f83fbbbde4604")
        self.assertEqual(doc["platform"], "linux/amd64")
        self.assertEqual([l["digest"] for l in doc["layers"]],
                         ["sha256:cdd16bd695eda2819e7637648f573c2ca64896c4f7bff9732ac9db734ca3bc2c"])
        self.assertEqual(list(doc["paths"]), ["/hello"])

    def test_trivy_tag_selection(self):
        doc = image_json("oci:" + os.path.join(TRIVY, "test_image_tag.oci") + ":0.0.1")
        self.assertEqual(doc["tag"], "0.0.1")
        self.fails("oci:" + os.path.join(TRIVY, "test_image_tag.oci") + ":nope", "no image tagged 'nope'",
                   "(tags: 0.0.1)")

    def test_trivy_negative_layouts(self):
        self.fails("oci:" + os.path.join(TRIVY, "test_bad_index_json.oci"), "index.json:1:1: invalid JSON")
        self.fails("oci:" + os.path.join(TRIVY, "test_index_json_dir.oci"), "index.json: not a regular file")
        self.fails("oci:" + os.path.join(TRIVY, "test_no_valid_manifests.oci"), "the index lists no manifests")
        self.fails("oci:" + os.path.join(TRIVY, "test_invalid_oci_image.oci"),
                   "index.json:1:33: manifest descriptor has media type 'application/badmedia+json'")
        self.fails("oci:" + os.path.join(TRIVY, "missing.oci"), "not a directory")

    # --- osv-scalibr's docker archives: symlinks resolved inside the root ---
    def test_scalibr_symlink_attack_clamped(self):
        doc = image_json("docker-archive:" + os.path.join(SCALIBR, "layerscanning/image/testdata/symlink-attack.tar"))
        self.assertEqual(doc["paths"]["/dir1/attack-symlink.txt"]["resolved"], "/secret.txt")
        self.assertEqual(doc["paths"]["/dir1/attack-symlink-absolute.txt"]["resolved"], "/secret.txt")
        self.assertTrue(any("attack-symlink.txt -> ../../secret.txt points above the image root" in n
                            for n in doc["notes"]))

    def test_scalibr_symlink_cycle_terminates(self):
        doc = image_json("docker-archive:" + os.path.join(SCALIBR, "layerscanning/image/testdata/symlink-cycle.tar"))
        self.assertEqual(doc["paths"]["/dir1/sample.txt"]["resolved"], "")
        self.assertTrue(any("/dir1/sample.txt -> /dir1/chain-symlink.txt: a loop" in n for n in doc["notes"]))

    def test_scalibr_symlinks_across_layers(self):
        doc = image_json("docker-archive:" + os.path.join(SCALIBR, "unpack/testdata/symlinks.tar"))
        p = doc["paths"]
        self.assertEqual(len(doc["layers"]), 2)
        for link in ("/dir2/dir3/absolute-chain-symlink.txt", "/dir2/dir3/relative-subfolder-symlink.txt",
                     "/dir2/dir3/absolute-symlink-inside-root.txt", "/dir1/relative-dot-symlink.txt"):
            self.assertEqual(p[link]["resolved"], "/dir1/sample.txt", link)
        self.assertEqual(p["/dir1/sample.txt"]["layer"], 1)
        self.assertEqual(p["/dir2/dir3/absolute-chain-symlink.txt"]["layer"], 2)
        depth = image_json("docker-archive:" + os.path.join(SCALIBR, "layerscanning/image/testdata/symlink-depth-exceeded.tar"))
        self.assertEqual(depth["paths"]["/dir1/symlink7.txt"]["resolved"], "/dir1/sample.txt")

    def test_scalibr_escape_layer(self):
        with open(os.path.join(SCALIBR, "unpack/testdata/escape.tar"), "rb") as f:
            escape = f.read()
        doc = image_json(self.single(plain(escape)))
        p = doc["paths"]
        self.assertTrue(any("has an absolute name; read relative to the root" in n for n in doc["notes"]))
        self.assertEqual(p["/escape"]["resolved"], "/tmp")
        self.assertEqual(p["/usr/share/doc/c/copyright"]["resolved"], "/tmp/poc.txt")
        self.assertEqual(p["/trampoline"]["resolved"], "/")
        self.fails("docker-archive:" + os.path.join(SCALIBR, "unpack/testdata/escape.tar"),
                   "neither docker save's manifest.json nor an OCI layout")

    # --- claircore's whiteout layers over a base ---
    def test_clair_whiteouts(self):
        base = layer_tar([("etc", "dir", None), ("etc/profile", "file", "x"), ("etc/keep", "file", "k"),
                          ("a", "dir", None), ("a/a_file.txt", "file", "1"), ("a/other", "file", "2"),
                          ("a_root_file.txt", "file", "r"), ("b", "dir", None), ("b/inner", "file", "i")])
        with open(os.path.join(CLAIR, "whiteout.layer"), "rb") as f:
            w1 = f.read()
        with open(os.path.join(CLAIR, "whiteout_advanced.layer"), "rb") as f:
            w2 = f.read()
        doc = image_json(self.single(gz(base), plain(w1), plain(w2)))
        p = doc["paths"]
        for gone in ("/etc/profile", "/a/a_file.txt", "/a_root_file.txt", "/b", "/b/inner"):
            self.assertNotIn(gone, p)
        for kept in ("/etc/keep", "/a/other"):
            self.assertIn(kept, p)
        self.assertFalse(any(".wh." in path for path in p))

    def test_clair_opaque_and_decoy(self):
        base = layer_tar([("a", "dir", None), ("a/old", "file", "o"), ("a/sub", "dir", None),
                          ("a/sub/deep", "file", "d"), ("b", "dir", None), ("b/keep", "file", "k")])
        with open(os.path.join(CLAIR, "whiteout_opaque.layer"), "rb") as f:
            opq = f.read()
        doc = image_json(self.single(plain(base), plain(opq)))
        p = doc["paths"]
        self.assertIn("/a", p)
        self.assertNotIn("/a/old", p)
        self.assertNotIn("/a/sub/deep", p)
        self.assertIn("/b/keep", p)  # b/not.a.wh..wh..opq is no marker
        self.assertIn("/b/not.a.wh..wh..opq", p)

    def test_opaque_marker_before_its_directory_keeps_same_layer_children(self):
        base = layer_tar([("etc", "dir", None), ("etc/apt", "dir", None), ("etc/apt/old.conf", "file", "o")])
        upper = layer_tar([("etc/apt/.wh..wh..opq", "file", ""), ("etc/apt", "dir", None),
                           ("etc/apt/new.conf", "file", "n"), ("usr/.wh.nothing", "file", "")])
        doc = image_json(self.single(plain(base), gz(upper)))
        self.assertNotIn("/etc/apt/old.conf", doc["paths"])
        self.assertEqual(doc["paths"]["/etc/apt/new.conf"]["layer"], 2)

    def test_hardlink_and_replacement(self):
        base = layer_tar([("bin", "dir", None), ("bin/perl", "file", "perl!"), ("bin/perl5", "hardlink", "bin/perl"),
                          ("d", "dir", None), ("d/x", "file", "x")])
        upper = layer_tar([("bin/.wh.perl", "file", ""), ("d", "file", "now a file")])
        doc = image_json(self.single(plain(base), plain(upper)))
        p = doc["paths"]
        self.assertNotIn("/bin/perl", p)
        self.assertEqual(p["/bin/perl5"]["type"], "hardlink")
        self.assertEqual(p["/bin/perl5"]["size"], 5)  # the content outlives the whited-out name
        self.assertEqual(p["/d"]["type"], "file")
        self.assertNotIn("/d/x", p)  # a file over a lower directory hides its contents

    def test_os_release_through_symlink(self):
        base = layer_tar([("usr/lib/os-release", "file",
                           'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n'
                           "VERSION_CODENAME=bookworm\n"),
                          ("etc/os-release", "symlink", "../usr/lib/os-release")])
        doc = image_json(self.single(gz(base)))
        self.assertEqual((doc["os"]["id"], doc["os"]["versionId"], doc["os"]["versionCodename"]),
                         ("debian", "12", "bookworm"))
        # A later layer replacing the target changes the answer.
        upper = layer_tar([("usr/lib/os-release", "file", "ID=alpine\nVERSION_ID=3.20.1\n")])
        doc = image_json(self.single(gz(base), plain(upper)))
        self.assertEqual((doc["os"]["id"], doc["os"]["versionId"]), ("alpine", "3.20.1"))

    # --- hostile layers ---
    def test_names_climbing_out_are_skipped(self):
        t = layer_tar([("../evil", "file", "e"), ("a/../../evil2", "file", "e"), ("ok/../fine", "file", "f")])
        doc = image_json(self.single(plain(t)))
        self.assertEqual(sorted(doc["paths"]), ["/fine"])
        self.assertTrue(any("entry '../evil' climbs out of the image root; skipped" in n for n in doc["notes"]))

    def test_truncated_layer(self):
        t = layer_tar([("big", "file", "x" * 5000), ("after", "file", "y")])
        cut = t[:512 + 2048]
        self.fails(self.single((cut, cut, TAR), diff_ids=[sha(cut)]), "layer 1/1", "entry 'big'",
                   "archive ends inside its data (truncated)")

    def test_truncated_gzip(self):
        t = layer_tar([("big", "file", os.urandom(20000).hex())])
        z = gzip.compress(t)
        cut = z[: len(z) // 2]
        self.fails(self.single((cut, t, TGZ)), "layer 1/1", "gzip stream ends early (truncated)")

    def test_corrupt_gzip(self):
        t = layer_tar([("f", "file", "hello " * 1000)])
        z = bytearray(gzip.compress(t))
        z[20:40] = b"\xff" * 20
        self.fails(self.single((bytes(z), t, TGZ)), "layer 1/1", "corrupt gzip data")

    def test_corrupt_tar_header(self):
        t = bytearray(layer_tar([("a", "file", "1"), ("b", "file", "2")]))
        t[1024 + 10] ^= 0xFF  # the second header's name (PAX adds none here)
        t = bytes(t)
        self.fails(self.single((t, t, TAR)), "layer 1/1", "checksum mismatch")

    def test_decompression_bomb(self):
        t = layer_tar([("zeros", "file", b"\0" * (64 << 20))])
        err = self.fails(self.single(gz(t)), "decompresses to more than 16777216 bytes", "(the --max-image-bytes limit",
                         args=("--max-image-bytes", "16MiB"))
        self.assertIn("entry 'zeros'", err)

    def test_compressed_archive_bomb(self):
        # One entry declaring 64 MiB of zeros: the archive index must stop at the limit too.
        t = layer_tar([("zeros", "file", b"\0" * (64 << 20))])
        path = os.path.join(self.tmp.name, "bomb.tar.gz")
        with open(path, "wb") as f:
            f.write(gzip.compress(t))
        self.fails("docker-archive:" + path, "decompresses to more than", args=("--max-image-bytes", "16MiB"))

    def test_zstd_layer_and_bomb(self):
        t = layer_tar([("etc/os-release", "file", "ID=debian\nVERSION_ID=12\n"), ("zeros", "file", b"\0" * (8 << 20))])
        p = subprocess.run(["zstd", "-q", "-c"], input=t, capture_output=True, check=True)
        z = p.stdout
        ref = self.single((z, t, "application/vnd.oci.image.layer.v1.tar+zstd"))
        self.assertEqual(image_json(ref)["os"]["id"], "debian")
        self.fails(ref, "decompresses to more than", args=("--max-image-bytes", "4MiB"))

    def test_file_count_limit(self):
        t = layer_tar([(f"f{i}", "file", "") for i in range(30)])
        self.fails(self.single(plain(t)), "entry 'f10'", "more than 10 entries (the --max-files limit)",
                   args=("--max-files", "10"))

    def test_path_length_limit(self):
        long = "d/" * 80 + "file"
        t = layer_tar([(long, "file", "x")])
        ref = self.single(plain(t))
        self.assertIn("/" + long, image_json(ref)["paths"])
        self.fails(ref, "over the 100-byte path limit (--max-path)", args=("--max-path", "100"))

    def test_tampered_blob_is_refused(self):
        t = layer_tar([("f", "file", "original")])
        lay = self.layout()
        ref = lay.index([lay.manifest([gz(t)])])
        d = sha(gzip.compress(t, mtime=0))
        path = os.path.join(lay.root, "blobs", "sha256", d[7:])
        with open(path, "rb") as f:
            data = bytearray(f.read())
        data[-5] ^= 1  # the gzip trailer: still decompresses, the digest no longer matches
        with open(path, "wb") as f:
            f.write(data)
        self.fails(ref, "digest mismatch: content is sha256:", "expected " + d)

    def test_wrong_size_and_diff_id(self):
        t = layer_tar([("f", "file", "x")])
        self.fails(self.single(plain(t), sizes=[len(t) + 1]), "(truncated)")
        self.fails(self.single(gz(t), diff_ids=["sha256:" + "0" * 64]), "rootfs.diff_ids says sha256:000")
        self.fails(self.single(plain(t), diff_ids=[]), "rootfs.diff_ids lists 0 layers, the manifest 1")

    def test_missing_blob(self):
        t = layer_tar([("f", "file", "x")])
        lay = self.layout()
        ref = lay.index([lay.manifest([plain(t)])])
        os.remove(os.path.join(lay.root, "blobs", "sha256", sha(t)[7:]))
        self.fails(ref, "layer blob " + sha(t) + " is missing")

    def test_multi_platform_index(self):
        lay = self.layout()
        amd = lay.manifest([plain(layer_tar([("amd", "file", "a")]))], arch="amd64")
        arm = lay.manifest([plain(layer_tar([("arm", "file", "b")]))], arch="arm64")
        ref = lay.index([amd, arm])
        doc = image_json("--platform", "linux/arm64", ref)
        self.assertEqual(doc["platform"], "linux/arm64")
        self.assertEqual(list(doc["paths"]), ["/arm"])
        self.assertEqual(doc["manifestDigest"], arm["digest"])
        self.assertEqual(image_json("--platform", "linux/amd64", ref)["manifestDigest"], amd["digest"])
        self.fails(ref, "no image for platform linux/s390x (available: linux/amd64, linux/arm64",
                   args=("--platform", "linux/s390x"))
        lay2 = self.layout()
        m = lay2.manifest([plain(layer_tar([("x", "file", "x")]))])
        del m["platform"]  # an index.json entry without one: nothing to choose from
        doc = image_json("--platform", "linux/arm64", lay2.index([m]))
        self.assertIn("the image is linux/amd64, not the --platform linux/arm64 asked for (it has no index to choose from)",
                      doc["notes"])
        rc, _, err = image("--platform", "linux", ref)
        self.assertEqual(rc, 2)
        self.assertIn("is not OS/ARCH", err)

    def test_nested_index_with_a_tag(self):
        # skopeo copy --all writes index.json -> (tagged) image index -> platform manifests.
        lay = self.layout()
        amd = lay.manifest([plain(layer_tar([("amd", "file", "a")]))], arch="amd64")
        arm = lay.manifest([gz(layer_tar([("arm", "file", "b")]))], arch="arm64")
        inner = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                            "manifests": [amd, arm]}).encode()
        ref = lay.index([{"mediaType": "application/vnd.oci.image.index.v1+json", "digest": lay.blob(inner),
                          "size": len(inner)}], tags=["multi"])
        doc = image_json("--platform", "linux/arm64", ref + ":multi")
        self.assertEqual(doc["manifestDigest"], arm["digest"])
        self.assertEqual(list(doc["paths"]), ["/arm"])
        self.assertTrue(any(n.startswith("index: chose linux/arm64 of linux/amd64, linux/arm64") for n in doc["notes"]))

    def test_tags_in_a_layout(self):
        lay = self.layout()
        one = lay.manifest([plain(layer_tar([("one", "file", "1")]))])
        two = lay.manifest([plain(layer_tar([("two", "file", "2")]))])
        ref = lay.index([one, two], tags=["v1", "v2"])
        self.assertEqual(list(image_json(ref + ":v2")["paths"]), ["/two"])
        self.fails(ref, "holds 2 images; name one with :TAG (tags: v1, v2)")

    def archive(self, lay, name, docker_manifest=None, index=None, compress=False):
        """The layout as a tar (what oci-archive and Docker 25+ docker save write)."""
        if index is not None:
            with open(os.path.join(lay.root, "index.json"), "w") as f:
                json.dump(index, f)
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as t:
            for dirpath, _, files in os.walk(lay.root):
                for fn in sorted(files):
                    full = os.path.join(dirpath, fn)
                    t.add(full, arcname=os.path.relpath(full, lay.root))
            if docker_manifest is not None:
                data = json.dumps(docker_manifest).encode()
                info = tarfile.TarInfo("manifest.json")
                info.size = len(data)
                t.addfile(info, io.BytesIO(data))
        path = os.path.join(self.tmp.name, name)
        with open(path, "wb") as f:
            f.write(gzip.compress(buf.getvalue()) if compress else buf.getvalue())
        return path

    def test_docker25_archive_and_null_index(self):
        lay = self.layout()
        t = layer_tar([("etc/os-release", "file", "ID=alpine\nVERSION_ID=3.20.1\n")])
        m = lay.manifest([gz(t)])
        lay.index([m], tags=["1.0"])
        with open(os.path.join(lay.root, "blobs/sha256", m["digest"][7:])) as f:
            manifest = json.load(f)
        legacy = [{"Config": "blobs/sha256/" + manifest["config"]["digest"][7:], "RepoTags": ["example/app:1.0"],
                   "Layers": ["blobs/sha256/" + l["digest"][7:] for l in manifest["layers"]]}]
        path = self.archive(lay, "docker25.tar", docker_manifest=legacy)
        doc = image_json("docker-archive:" + path)
        self.assertEqual(doc["manifestDigest"], m["digest"])  # through the OCI index
        self.assertEqual(doc["os"]["id"], "alpine")
        # moby/moby#47210: "manifests": null for a save by digest; manifest.json still names it.
        path = self.archive(lay, "docker25-null.tar.gz", docker_manifest=legacy,
                            index={"schemaVersion": 2, "manifests": None}, compress=True)
        doc = image_json("docker-archive:" + path)
        self.assertEqual(doc["manifestDigest"], "")
        self.assertEqual(doc["configDigest"], manifest["config"]["digest"])
        self.assertEqual([l["digest"] for l in doc["layers"]], [l["digest"] for l in manifest["layers"]])
        self.assertEqual(doc["os"]["id"], "alpine")
        self.assertTrue(any("OCI index is unusable" in n and "lists no manifests" in n for n in doc["notes"]))
        self.assertIn("archive is gzip-compressed", doc["notes"])
        self.fails("docker-archive:" + path + ":2.0", "no image tagged '2.0' (tags: example/app:1.0)")
        self.fails("oci-archive:" + path, "the index lists no manifests")

    def test_foreign_layer_is_noted_not_read(self):
        lay = self.layout()
        base = layer_tar([("f", "file", "x")])
        foreign = gzip.compress(layer_tar([("windows", "file", "w")]))
        m = lay.manifest([gz(base), (foreign, gzip.decompress(foreign),
                                     "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip")])
        os.remove(os.path.join(lay.root, "blobs/sha256", sha(foreign)[7:]))
        doc = image_json(lay.index([m]))
        self.assertEqual(list(doc["paths"]), ["/f"])
        self.assertTrue(any("layer 2/2" in n and "foreign (non-distributable) layer not read" in n
                            for n in doc["notes"]))

    def test_rootfs_directory(self):
        root = os.path.join(self.tmp.name, "rootfs")
        os.makedirs(os.path.join(root, "etc"))
        os.makedirs(os.path.join(root, "usr/lib"))
        with open(os.path.join(root, "usr/lib/os-release"), "w") as f:
            f.write("ID=debian\nVERSION_ID=\"12\"\n")
        os.symlink("../usr/lib/os-release", os.path.join(root, "etc/os-release"))
        doc = image_json("dir:" + root)
        self.assertEqual(doc["os"]["id"], "debian")
        self.assertEqual(doc["paths"]["/etc/os-release"]["resolved"], "/usr/lib/os-release")

    def test_usage_errors(self):
        for args, want in ((("--output", "xml", "oci:x"), "unknown output format"),
                           ((), "which image?"),
                           (("a", "b"), "one image at a time"),
                           (("--max-files", "0", "oci:x"), "not a positive number"),
                           (("UPPER/case",), "not a repository name"),
                           (("repo@sha256:12",), "is not sha256:<64 hex>")):
            rc, _, err = image(*args)
            self.assertEqual(rc, 2, args)
            self.assertIn(want, err, args)


if __name__ == "__main__":
    unittest.main(verbosity=2)

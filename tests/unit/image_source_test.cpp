// The image reader's pieces on their own: references, platforms, the tar
// reader (ustar prefix, GNU long names, PAX, base-256 sizes, checksums),
// sniffed decompression and the digest check. Whole images go through the
// binary in tests/integration/image_test.py and image_real_test.py.
#include <gtest/gtest.h>
#include <zlib.h>

#include <cstring>
#include <deque>
#include <string>

#include "engines/image/inventory/os_detect.hpp"
#include "engines/image/walk.hpp"
#include "sources/image/decompress.hpp"
#include "sources/image/image_source.hpp"
#include "sources/image/stream.hpp"
#include "sources/image/tar.hpp"

namespace kg::image {
namespace {

ImageRef parse_ok(const std::string& text) {
  std::string error;
  ImageRef r = parse_reference(text, error);
  EXPECT_EQ(error, "") << text;
  return r;
}

TEST(ImageReference, RegistryForms) {
  ImageRef r = parse_ok("alpine");
  EXPECT_EQ(r.kind, ImageRef::Kind::Registry);
  EXPECT_EQ(r.registry, "registry-1.docker.io");
  EXPECT_EQ(r.repository, "library/alpine");
  EXPECT_EQ(r.tag, "latest");
  r = parse_ok("bitnami/nginx:1.25");
  EXPECT_EQ(r.repository, "bitnami/nginx");
  EXPECT_EQ(r.tag, "1.25");
  r = parse_ok("127.0.0.1:5000/example/test:1.0");
  EXPECT_EQ(r.registry, "127.0.0.1:5000");
  EXPECT_EQ(r.repository, "example/test");
  EXPECT_EQ(r.tag, "1.0");
  r = parse_ok("localhost/app");
  EXPECT_EQ(r.registry, "localhost");
  EXPECT_EQ(r.tag, "latest");
  const std::string d = "sha256:" + std::string(64, 'a');
  r = parse_ok("docker://quay.example.com/team/app:2@" + d);
  EXPECT_EQ(r.registry, "quay.example.com");
  EXPECT_EQ(r.tag, "2");
  EXPECT_EQ(r.digest, d);
  r = parse_ok("ghcr.io/o/app@" + d);
  EXPECT_EQ(r.tag, "");
}

TEST(ImageReference, LocalForms) {
  ImageRef r = parse_ok("oci:/tmp/layout:v1");
  EXPECT_EQ(r.kind, ImageRef::Kind::OciDir);
  EXPECT_EQ(r.path, "/tmp/layout");
  EXPECT_EQ(r.tag, "v1");
  r = parse_ok("oci:./a/b");
  EXPECT_EQ(r.path, "./a/b");
  EXPECT_EQ(r.tag, "");
  r = parse_ok("oci-archive:/x/img.tar");
  EXPECT_EQ(r.kind, ImageRef::Kind::OciArchive);
  EXPECT_EQ(r.path, "/x/img.tar");
  r = parse_ok("docker-archive:save.tar.gz:app:1");
  EXPECT_EQ(r.kind, ImageRef::Kind::DockerArchive);
  EXPECT_EQ(r.path, "save.tar.gz:app");
  EXPECT_EQ(r.tag, "1");
  r = parse_ok("dir:/srv/root:fs");
  EXPECT_EQ(r.kind, ImageRef::Kind::Dir);
  EXPECT_EQ(r.path, "/srv/root:fs");
}

TEST(ImageReference, Refused) {
  for (const char* bad : {"Upper/Case", "repo@sha256:abc", "repo@md5:0", "oci:", "a b"}) {
    std::string error;
    parse_reference(bad, error);
    EXPECT_NE(error, "") << bad;
  }
}

TEST(ImagePlatform, Parse) {
  Platform p;
  ASSERT_TRUE(parse_platform("linux/arm64/v8", p));
  EXPECT_EQ(p.str(), "linux/arm64/v8");
  ASSERT_TRUE(parse_platform("linux/amd64", p));
  EXPECT_EQ(p.variant, "");
  for (const char* bad : {"linux", "/amd64", "linux/", "linux/arm/v7/x", "linux/arm/"})
    EXPECT_FALSE(parse_platform(bad, p)) << bad;
}

// One ustar header block for `name` of `size` bytes.
std::string header(const std::string& name, std::uint64_t size, char type = '0', const std::string& prefix = "") {
  std::string h(512, '\0');
  std::memcpy(h.data(), name.data(), std::min<std::size_t>(name.size(), 100));
  std::snprintf(h.data() + 100, 8, "%07o", 0644);
  std::snprintf(h.data() + 108, 8, "%07o", 0);
  std::snprintf(h.data() + 116, 8, "%07o", 0);
  if (size < (std::uint64_t{1} << 33)) {
    std::snprintf(h.data() + 124, 12, "%011llo", static_cast<unsigned long long>(size));
  } else {  // GNU base-256
    h[124] = static_cast<char>(0x80);
    for (int i = 0; i < 8; ++i) h[135 - i] = static_cast<char>((size >> (8 * i)) & 0xff);
  }
  h[156] = type;
  std::memcpy(h.data() + 257, "ustar\0" "00", 8);
  std::memcpy(h.data() + 345, prefix.data(), std::min<std::size_t>(prefix.size(), 155));
  std::memset(h.data() + 148, ' ', 8);
  unsigned sum = 0;
  for (char c : h) sum += static_cast<unsigned char>(c);
  std::snprintf(h.data() + 148, 8, "%06o", sum);
  return h;
}

std::string padded(const std::string& data) { return data + std::string((512 - data.size() % 512) % 512, '\0'); }

TEST(ImageTar, UstarPrefixGnuLongNamesAndPax) {
  std::string longname(300, 'n');
  std::string pax_rec = "path=" + std::string(200, 'p') + "\n";
  std::size_t len = pax_rec.size() + 4;  // "NNN " + record
  pax_rec = std::to_string(len) + " " + pax_rec;
  ASSERT_EQ(pax_rec.size(), len);
  std::string tar = header("file", 5, '0', "some/prefix") + padded("hello") +
                    header("././@LongLink", longname.size() + 1, 'L') + padded(longname + '\0') +
                    header("short", 0) + header("PaxHeader", pax_rec.size(), 'x') + padded(pax_rec) +
                    header("ignored", 0) + std::string(1024, '\0');
  StringSource in(tar);
  TarReader r(in);
  TarEntry e;
  ASSERT_TRUE(r.next(e));
  EXPECT_EQ(e.name, "some/prefix/file");
  char buf[16];
  EXPECT_EQ(r.read(buf, sizeof buf), 5u);
  EXPECT_EQ(std::string(buf, 5), "hello");
  ASSERT_TRUE(r.next(e));
  EXPECT_EQ(e.name, longname);
  ASSERT_TRUE(r.next(e));
  EXPECT_EQ(e.name, std::string(200, 'p'));
  EXPECT_FALSE(r.next(e));
}

TEST(ImageTar, BaseTwoFiftySixSizeAndErrors) {
  StringSource huge(header("big", std::uint64_t{1} << 40));
  TarReader r(huge);
  TarEntry e;
  ASSERT_TRUE(r.next(e));
  EXPECT_EQ(e.size, std::uint64_t{1} << 40);
  EXPECT_THROW(r.next(e), ImageError);  // its data is not there: truncated

  std::string bad = header("x", 0);
  bad[0] = 'y';  // checksum no longer matches
  StringSource in(bad);
  TarReader r2(in);
  try {
    r2.next(e);
    FAIL() << "a corrupt header was accepted";
  } catch (const ImageError& err) {
    EXPECT_NE(std::string(err.what()).find("checksum mismatch"), std::string::npos);
  }

  StringSource cut(header("a", 0).substr(0, 300));
  TarReader r3(cut);
  EXPECT_THROW(r3.next(e), ImageError);

  TarLimits small;
  small.max_name = 10;
  StringSource long_name(header("a-name-longer-than-ten", 0));
  TarReader r4(long_name, small);
  EXPECT_THROW(r4.next(e), ImageError);
}

std::string gzip_of(const std::string& data) {
  z_stream z{};
  deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&z, data.size()), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

TEST(ImageDecompress, SniffsAndBounds) {
  std::string data(100000, 'x');
  for (const std::string& stored : {data, gzip_of(data), gzip_of(data) + gzip_of("tail") + std::string(512, '\0')}) {
    StringSource in(stored);
    Compression c = Compression::None;
    auto out = open_decompressed(in, 1 << 20, "t", &c);
    std::string all = read_all(*out, 1 << 20, "t");
    EXPECT_EQ(all.substr(0, data.size()), data);
  }
  StringSource bomb(gzip_of(std::string(1 << 20, '\0')));
  auto out = open_decompressed(bomb, 1000, "bomb");
  EXPECT_THROW(read_all(*out, 1 << 21, "bomb"), ImageError);
  std::string z = gzip_of(data);
  StringSource cut(z.substr(0, z.size() / 2));
  auto cut_out = open_decompressed(cut, 1 << 20, "cut");
  EXPECT_THROW(read_all(*cut_out, 1 << 21, "cut"), ImageError);
}

TEST(ImageVerify, DigestAndSize) {
  const std::string data = "layer bytes";
  const std::string digest = "sha256:" + sha256_hex(data);
  {
    VerifyingSource v(std::make_unique<StringSource>(data), digest, data.size(), "blob");
    EXPECT_EQ(read_all(v, 100, "blob"), data);
  }
  VerifyingSource wrong(std::make_unique<StringSource>(data + "!"), digest, UINT64_MAX, "blob");
  EXPECT_THROW(read_all(wrong, 100, "blob"), ImageError);
  VerifyingSource shorter(std::make_unique<StringSource>(data), digest, data.size() + 1, "blob");
  EXPECT_THROW(read_all(shorter, 100, "blob"), ImageError);
  EXPECT_THROW(VerifyingSource(std::make_unique<StringSource>(data), "sha512:00", 1, "blob"), ImageError);
}

// Layers from memory, their digests computed: what a fuzz target or a test hands walk_source.
class MemoryImage : public ImageSource {
 public:
  explicit MemoryImage(std::vector<std::string> tars) : tars_(std::move(tars)) {
    std::string diff_ids;
    for (const std::string& t : tars_) {
      Descriptor d;
      d.digest = "sha256:" + sha256_hex(t);
      d.size = t.size();
      layers.push_back(d);
      diff_ids += (diff_ids.empty() ? "\"" : ",\"") + d.digest + "\"";
    }
    config = R"({"os":"linux","architecture":"amd64","rootfs":{"diff_ids":[)" + diff_ids + "]}}";
  }
  std::unique_ptr<ByteSource> open_layer(const Descriptor& d) override {
    for (const std::string& t : tars_)
      if ("sha256:" + sha256_hex(t) == d.digest)
        return std::make_unique<VerifyingSource>(std::make_unique<StringSource>(t), d.digest, d.size, "layer");
    throw ImageError("no such layer");
  }

 private:
  std::vector<std::string> tars_;
};

// Records what the walk hands a cataloger, and what Survives says at the end.
class Recorder : public Cataloger {
 public:
  struct Seen {
    std::string path;
    std::size_t layer;
    std::string content;
    std::size_t chunks = 0;
    bool ended = false;
  };
  std::deque<Seen> seen;  // stable addresses for the readers
  std::vector<std::pair<std::string, bool>> survived;
  OsInfo os_at_finish;
  int finishes = 0;

  std::string_view name() const override { return "recorder"; }
  std::unique_ptr<FileReader> open(const FileEntry& f) override {
    if (f.path.rfind("/want/", 0) != 0) return nullptr;
    seen.push_back(Seen{std::string(f.path), f.layer, "", 0, false});
    struct Reader : FileReader {
      Seen* s;
      explicit Reader(Seen* seen_entry) : s(seen_entry) {}
      void data(std::string_view chunk) override {
        s->content.append(chunk);
        ++s->chunks;
      }
      void end() override { s->ended = true; }
    };
    return std::make_unique<Reader>(&seen.back());
  }
  void finish(const Survives& survives, const OsInfo& os, std::vector<Package>& out) override {
    ++finishes;
    os_at_finish = os;
    for (const Seen& s : seen) survived.emplace_back(s.path + "@" + std::to_string(s.layer), survives(s.path, s.layer));
    Package p;
    p.name = "recorded";
    out.push_back(p);
  }
};

TEST(ImageWalk, CatalogerSeam) {
  std::string big(200000, 'b');  // several chunks
  std::string l1 = header("want/a", 1) + padded("1") + header("want/b", big.size()) + padded(big) +
                   header("want/c", 1) + padded("c") + header("other", 1) + padded("o") +
                   header("usr/lib/os-release", 10) + padded("ID=debian\n") +
                   header("etc/os-release", 0, '2') + std::string(1024, '\0');
  // etc/os-release's link name: written into the header by hand.
  std::size_t link_at = l1.size() - 1024 - 512 + 157;
  std::memcpy(l1.data() + link_at, "../usr/lib/os-release", 21);
  std::string& h = l1;
  std::size_t hdr = l1.size() - 1024 - 512;
  std::memset(h.data() + hdr + 148, ' ', 8);
  unsigned sum = 0;
  for (std::size_t i = 0; i < 512; ++i) sum += static_cast<unsigned char>(h[hdr + i]);
  std::snprintf(h.data() + hdr + 148, 8, "%06o", sum);
  // Layer 2 replaces want/a, deletes want/b, keeps want/c.
  std::string l2 = header("want/a", 2) + padded("22") + header("want/.wh.b", 0) + std::string(1024, '\0');
  MemoryImage img({l1, l2});
  Recorder rec;
  ImageReadResult r = walk_source(img, "memory", WalkLimits{}, {&rec});
  ASSERT_TRUE(r.ok()) << r.error;
  ASSERT_EQ(rec.seen.size(), 4u);  // want/a twice, want/b, want/c; not "other", not the whiteout
  EXPECT_EQ(rec.seen[1].path, "/want/b");
  EXPECT_EQ(rec.seen[1].content, big);
  EXPECT_GT(rec.seen[1].chunks, 1u);
  for (const auto& s : rec.seen) EXPECT_TRUE(s.ended) << s.path;
  EXPECT_EQ(rec.seen[3].path, "/want/a");
  EXPECT_EQ(rec.seen[3].content, "22");
  EXPECT_EQ(rec.finishes, 1);
  EXPECT_EQ(rec.os_at_finish.id, "debian");  // the OS is read (through the symlink) before finish
  std::vector<std::pair<std::string, bool>> want = {
      {"/want/a@0", false}, {"/want/b@0", false}, {"/want/c@0", true}, {"/want/a@1", true}};
  EXPECT_EQ(rec.survived, want);
  ASSERT_EQ(r.inventory.packages.size(), 1u);
  EXPECT_EQ(r.inventory.os.id, "debian");
  EXPECT_EQ(r.inventory.layers.size(), 2u);
  EXPECT_EQ(r.inventory.layers[1].diff_id, "sha256:" + sha256_hex(l2));
}

// One layer of regular files (no directory entries, as some image builders write them).
std::string files_layer(const std::vector<std::pair<std::string, std::string>>& files) {
  std::string tar;
  for (const auto& [name, data] : files) tar += header(name, data.size()) + padded(data);
  return tar + std::string(1024, '\0');
}

OsInfo walked_os(const std::vector<std::string>& layers) {
  MemoryImage img(layers);
  ImageReadResult r = walk_source(img, "memory", WalkLimits{}, {});
  EXPECT_TRUE(r.ok()) << r.error;
  return r.inventory.os;
}

TEST(ImageWalkOs, DistrolessFromStatusDFilesWithoutTheirFolderEntry) {
  // Per-package dpkg files, no dpkg status, no shell: distroless, whether or not the layer
  // holds an entry for the status.d folder itself.
  const std::string stanza = "Package: libc6\nVersion: 2.36-9\nArchitecture: amd64\n";
  EXPECT_TRUE(walked_os({files_layer({{"etc/debian_version", "12.7\n"}, {"var/lib/dpkg/status.d/libc6", stanza}})})
                  .distroless);
  // A shell, or dpkg's own status file, and it is not.
  EXPECT_FALSE(walked_os({files_layer({{"var/lib/dpkg/status.d/libc6", stanza}, {"bin/sh", "x"}})}).distroless);
  EXPECT_FALSE(walked_os({files_layer({{"var/lib/dpkg/status.d/libc6", stanza}, {"var/lib/dpkg/status", stanza}})})
                   .distroless);
  // The status.d files deleted by a later layer: nothing left to say so.
  EXPECT_FALSE(walked_os({files_layer({{"var/lib/dpkg/status.d/libc6", stanza}}),
                          files_layer({{"var/lib/dpkg/status.d/.wh.libc6", ""}})})
                   .distroless);
}

TEST(ImageWalkOs, DistrolessOsReleaseWinsOverAShell) {
  // distroless' debug images: busybox's /bin/sh, and an os-release that says what they are.
  const OsInfo os = walked_os({files_layer(
      {{"etc/os-release", "PRETTY_NAME=\"Distroless\"\nNAME=\"Debian GNU/Linux\"\nID=\"debian\"\nVERSION_ID=\"12\"\n"
                          "HOME_URL=\"https://github.com/GoogleContainerTools/distroless\"\n"},
       {"bin/sh", "busybox"}})});
  EXPECT_EQ(os.id, "debian");
  EXPECT_EQ(os.version_id, "12");
  EXPECT_TRUE(os.distroless);
}

TEST(ImageWalkOs, FallbackFilesReadAsTheInventoryReadsThem) {
  // /etc/debian_version "12.7" is Debian 12 (the purls' distro=debian-12), as OsDetector says.
  OsInfo os = walked_os({files_layer({{"etc/debian_version", "12.7\n"}})});
  EXPECT_EQ(os.id, "debian");
  EXPECT_EQ(os.version_id, "12");
  os = walked_os({files_layer({{"etc/alpine-release", "3.19.1\r\n"}})});
  EXPECT_EQ(os.id, "alpine");
  EXPECT_EQ(os.version_id, "3.19.1");
  // An os-release ID is lower-cased, its values unquoted, as os-release(5) has them.
  os = walked_os({files_layer({{"usr/lib/os-release", "ID=\"Ubuntu\"\nVERSION_ID='24.04'\n"}})});
  EXPECT_EQ(os.id, "ubuntu");
  EXPECT_EQ(os.version_id, "24.04");
}

TEST(ImageWalkOs, AlpineBranchFromApkRepositoriesBeforeAlpineRelease) {
  // The branch the image installs from decides the vulnerability namespace: a 3.10.9 point
  // release from the v3.11 repositories is matched as 3.11, and edge as edge.
  OsInfo os = walked_os({files_layer({{"etc/alpine-release", "3.10.9\n"},
                                      {"etc/apk/repositories", "# mirror\n@testing https://dl-cdn.alpinelinux.org/alpine/edge/testing\n"
                                                               "https://dl-cdn.alpinelinux.org/alpine/v3.11/main\n"
                                                               "https://dl-cdn.alpinelinux.org/alpine/v3.11/community/\n"}})});
  EXPECT_EQ(os.id, "alpine");
  EXPECT_EQ(os.version_id, "3.10.9");
  EXPECT_EQ(os.release_stream, "3.11");
  os = walked_os({files_layer({{"etc/os-release", "ID=alpine\nVERSION_ID=3.21.0_alpha20240807\n"},
                               {"etc/apk/repositories", "https://dl-cdn.alpinelinux.org/alpine/edge/main\n"}})});
  EXPECT_EQ(os.release_stream, "edge");
  // No repositories file, or one naming no branch (a private mirror path): no stream.
  EXPECT_EQ(walked_os({files_layer({{"etc/alpine-release", "3.19.1\n"}})}).release_stream, "");
  EXPECT_EQ(alpine_release_stream("https://mirror.example/alpine/latest-stable/main\n/media/cdrom/apks\n"), "");
  // Only Alpine reads it.
  EXPECT_EQ(walked_os({files_layer({{"etc/debian_version", "12.7\n"},
                                    {"etc/apk/repositories", "https://x/alpine/v3.11/main\n"}})}).release_stream, "");
}

TEST(ImageOsRelease, Parse) {
  const OsInfo os = parse_os_release("# comment\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_ID=\"12\"\n"
                   "VERSION_CODENAME=bookworm\nID_LIKE='rhel fedora'\r\n");
  EXPECT_EQ(os.id, "debian");
  EXPECT_EQ(os.version_id, "12");
  EXPECT_EQ(os.version_codename, "bookworm");
  EXPECT_EQ(os.pretty_name, "Debian GNU/Linux 12 (bookworm)");
  ASSERT_EQ(os.id_like.size(), 2u);
  EXPECT_EQ(os.id_like[1], "fedora");
}

}  // namespace
}  // namespace kg::image

#include "engines/vuln/db/bundle.hpp"

#include <openssl/evp.h>
#include <unistd.h>
#include <zlib.h>

#include <array>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "core/document.hpp"
#include "core/json_writer.hpp"
#include "engines/vuln/db/codec.hpp"

namespace kg::vuln {
namespace {

constexpr std::size_t kBlock = 512;
constexpr std::uint64_t kMaxManifest = std::uint64_t{1} << 20;
constexpr std::uint64_t kMaxDb = std::uint64_t{64} << 30;

struct Sha256 {
  Sha256() : ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free) { EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr); }
  void update(const void* p, std::size_t n) { EVP_DigestUpdate(ctx.get(), p, n); }
  std::string hex() {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx.get(), md, &len);
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    for (unsigned int i = 0; i < len; ++i) {
      out.push_back(kHex[md[i] >> 4]);
      out.push_back(kHex[md[i] & 15]);
    }
    return out;
  }
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx;
};

// A ustar header for a regular file.
std::array<char, kBlock> tar_header(const std::string& name, std::uint64_t size) {
  std::array<char, kBlock> h{};
  std::memcpy(h.data(), name.data(), std::min<std::size_t>(name.size(), 99));
  std::snprintf(h.data() + 100, 8, "%07o", 0644);
  std::snprintf(h.data() + 108, 8, "%07o", 0);
  std::snprintf(h.data() + 116, 8, "%07o", 0);
  std::snprintf(h.data() + 124, 12, "%011llo", static_cast<unsigned long long>(size));
  std::snprintf(h.data() + 136, 12, "%011o", 0);
  h[156] = '0';
  std::memcpy(h.data() + 257, "ustar", 6);
  std::memcpy(h.data() + 263, "00", 2);
  std::memset(h.data() + 148, ' ', 8);
  unsigned sum = 0;
  for (char c : h) sum += static_cast<unsigned char>(c);
  std::snprintf(h.data() + 148, 8, "%06o", sum);
  h[155] = ' ';
  return h;
}

bool read_octal(const char* p, std::size_t n, std::uint64_t& out) {
  out = 0;
  std::size_t i = 0;
  while (i < n && p[i] == ' ') ++i;
  bool any = false;
  for (; i < n && p[i] >= '0' && p[i] <= '7'; ++i) {
    if (out > (std::uint64_t{1} << 60)) return false;
    out = out * 8 + static_cast<std::uint64_t>(p[i] - '0');
    any = true;
  }
  return any;
}

class GzIn {
 public:
  explicit GzIn(const std::string& path) : f_(gzopen(path.c_str(), "rb")) {}
  ~GzIn() {
    if (f_) gzclose(f_);
  }
  GzIn(const GzIn&) = delete;
  GzIn& operator=(const GzIn&) = delete;
  bool ok() const { return f_ != nullptr; }
  bool read(char* p, std::size_t n) {
    while (n > 0) {
      const unsigned chunk = static_cast<unsigned>(std::min<std::size_t>(n, 1U << 20));
      const int r = gzread(f_, p, chunk);
      if (r <= 0) return false;
      p += r;
      n -= static_cast<std::size_t>(r);
    }
    return true;
  }

  // Reads to the end of the stream (at most `limit` bytes, all zero):
  // false on a gzip error (CRC, length) or other data.
  bool drain(std::uint64_t limit) {
    char buf[kBlock];
    std::uint64_t total = 0;
    for (;;) {
      const int r = gzread(f_, buf, sizeof buf);
      if (r < 0) return false;
      if (r == 0) break;
      total += static_cast<std::uint64_t>(r);
      if (total > limit) return false;
      for (int i = 0; i < r; ++i)
        if (buf[i] != 0) return false;
    }
    int err = Z_OK;
    gzerror(f_, &err);
    return err == Z_OK;
  }

 private:
  gzFile f_;
};

// The next member's header: name and size; false at the end or on damage.
bool next_member(GzIn& in, std::string& name, std::uint64_t& size, std::string* error) {
  std::array<char, kBlock> h{};
  if (!in.read(h.data(), kBlock)) {
    if (error) *error = "truncated (no member header)";
    return false;
  }
  unsigned sum = 0;
  for (std::size_t i = 0; i < kBlock; ++i) sum += (i >= 148 && i < 156) ? ' ' : static_cast<unsigned char>(h[i]);
  std::uint64_t want = 0;
  if (!read_octal(h.data() + 148, 8, want) || want != sum) {
    if (error) *error = "damaged member header (checksum)";
    return false;
  }
  name.assign(h.data(), strnlen(h.data(), 100));
  if (!read_octal(h.data() + 124, 12, size)) {
    if (error) *error = "damaged member header (size)";
    return false;
  }
  return true;
}

bool skip_padding(GzIn& in, std::uint64_t size) {
  const std::size_t pad = static_cast<std::size_t>((kBlock - size % kBlock) % kBlock);
  char buf[kBlock];
  return pad == 0 || in.read(buf, pad);
}

void write_manifest(std::ostream& out, const BundleManifest& m) {
  JsonWriter w(out);
  w.begin_object();
  w.field("format", m.format).field("version", m.version).field("schema", m.schema);
  w.field("built_at", m.built_at).field("kguard_version", m.kguard_version);
  w.key("database").begin_object();
  w.field("name", m.db_name).field("size", m.db_size).field("sha256", m.db_sha256);
  w.end_object();
  w.key("feeds").begin_array();
  for (const FeedStatus& f : m.feeds) {
    w.begin_object();
    w.field("name", f.name).field("origin", f.origin).field("advisories", f.advisories).field("affected", f.affected);
    w.end_object();
  }
  w.end_array();
  w.key("signature").null();
  w.end_object();
  w.flush();
}

std::uint64_t to_u64(const Node* n) {
  std::uint64_t v = 0;
  const std::string_view t = str(n);
  std::from_chars(t.data(), t.data() + t.size(), v);
  return v;
}

bool parse_manifest(std::string_view text, BundleManifest& m, std::string* error) {
  SourceFile f;
  f.path = "manifest.json";
  f.content.assign(text);
  const Node* root = nullptr;
  load_json(f, f.arena, false, LoadLimits{}, [&](const Document& d) {
    if (!root) root = d.root;
  });
  if (root == nullptr || !root->is_map()) {
    if (error) *error = "manifest.json: not a JSON object";
    return false;
  }
  m.format = str(get(root, "format"));
  m.version = static_cast<int>(to_u64(get(root, "version")));
  m.schema = static_cast<int>(to_u64(get(root, "schema")));
  m.built_at = str(get(root, "built_at"));
  m.kguard_version = str(get(root, "kguard_version"));
  const Node* db = get(root, "database");
  m.db_name = str(get(db, "name"));
  m.db_size = to_u64(get(db, "size"));
  m.db_sha256 = str(get(db, "sha256"));
  if (const Node* sig = get(root, "signature"); sig && !sig->is_null()) m.signature = sig->is_scalar() ? std::string(sig->text()) : "(object)";
  for (const Node* fe : items(get(root, "feeds"))) {
    FeedStatus fs;
    fs.name = str(get(fe, "name"));
    fs.origin = str(get(fe, "origin"));
    fs.advisories = to_u64(get(fe, "advisories"));
    fs.affected = to_u64(get(fe, "affected"));
    m.feeds.push_back(std::move(fs));
  }
  if (m.format != kBundleFormat) {
    if (error) *error = "manifest.json: format: '" + m.format + "' is not " + std::string(kBundleFormat);
    return false;
  }
  if (m.version != 1) {
    if (error) *error = "manifest.json: version: " + std::to_string(m.version) + " is not a bundle version this kguard reads (1)";
    return false;
  }
  if (m.schema != kSchemaVersion) {
    if (error)
      *error = "manifest.json: schema: the database is schema " + std::to_string(m.schema) + ", this kguard reads " +
               std::to_string(kSchemaVersion);
    return false;
  }
  if (m.db_name != "vuln.db" || m.db_sha256.size() != 64) {
    if (error) *error = "manifest.json: database: name must be vuln.db and sha256 64 hex digits";
    return false;
  }
  return true;
}

}  // namespace

std::string sha256_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  Sha256 h;
  std::vector<char> buf(std::size_t{1} << 20);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    if (in.gcount() > 0) h.update(buf.data(), static_cast<std::size_t>(in.gcount()));
  }
  if (in.bad()) return {};
  return h.hex();
}

bool verify_bundle_signature(const BundleManifest& manifest, std::string* note, std::string* error) {
  if (!manifest.signature.empty()) {
    if (error) *error = "the bundle carries a signature, and this kguard cannot verify signatures yet; refused";
    return false;
  }
  if (note) *note = "unsigned bundle: checksum verified, no signature to check";
  return true;
}

bool export_bundle(const std::string& db_path, const std::string& out_path, BundleManifest* manifest,
                   std::string* error) {
  std::string open_error;
  auto db = VulnDatabase::open(db_path, &open_error);
  if (!db) {
    if (error) *error = open_error;
    return false;
  }
  const DbStatus st = db->status();
  db.reset();
  BundleManifest m;
  m.format = std::string(kBundleFormat);
  m.version = 1;
  m.schema = st.schema;
  m.built_at = st.built_at;
  m.kguard_version = st.kguard_version;
  m.db_name = "vuln.db";
  m.feeds = st.feeds;
  std::error_code ec;
  m.db_size = std::filesystem::file_size(db_path, ec);
  m.db_sha256 = sha256_file(db_path);
  if (ec || m.db_sha256.empty()) {
    if (error) *error = db_path + ": cannot be read";
    return false;
  }
  std::ostringstream ms;
  write_manifest(ms, m);
  const std::string mtext = ms.str();

  const std::string tmp = out_path + ".tmp-" + std::to_string(::getpid());
  gzFile out = gzopen(tmp.c_str(), "wb6");
  if (out == nullptr) {
    if (error) *error = out_path + ": cannot be written";
    return false;
  }
  bool ok = true;
  auto put = [&](const void* p, std::size_t n) {
    if (ok && n > 0 && gzwrite(out, p, static_cast<unsigned>(n)) != static_cast<int>(n)) ok = false;
  };
  const char zeros[kBlock] = {};
  auto pad = [&](std::uint64_t size) { put(zeros, static_cast<std::size_t>((kBlock - size % kBlock) % kBlock)); };
  auto h = tar_header("manifest.json", mtext.size());
  put(h.data(), kBlock);
  put(mtext.data(), mtext.size());
  pad(mtext.size());
  h = tar_header("vuln.db", m.db_size);
  put(h.data(), kBlock);
  std::ifstream in(db_path, std::ios::binary);
  std::vector<char> buf(std::size_t{1} << 20);
  std::uint64_t copied = 0;
  while (ok && in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    put(buf.data(), static_cast<std::size_t>(in.gcount()));
    copied += static_cast<std::uint64_t>(in.gcount());
  }
  pad(m.db_size);
  put(zeros, kBlock);
  put(zeros, kBlock);
  if (gzclose(out) != Z_OK) ok = false;
  if (!ok || copied != m.db_size) {
    std::filesystem::remove(tmp, ec);
    if (error) *error = out_path + ": writing the bundle failed";
    return false;
  }
  std::filesystem::rename(tmp, out_path, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    if (error) *error = out_path + ": " + ec.message();
    return false;
  }
  if (manifest) *manifest = std::move(m);
  return true;
}

bool import_bundle(const std::string& bundle_path, const std::string& db_path, BundleManifest* manifest,
                   std::string* error) {
  auto fail = [&](const std::string& what) {
    if (error) *error = bundle_path + ": " + what;
    return false;
  };
  GzIn in(bundle_path);
  if (!in.ok()) return fail("cannot be opened");
  std::string name, member_error;
  std::uint64_t size = 0;
  if (!next_member(in, name, size, &member_error)) return fail(member_error);
  if (name != "manifest.json" || size > kMaxManifest) return fail("the first member must be manifest.json (at most 1 MiB)");
  std::string mtext(size, '\0');
  if (!in.read(mtext.data(), size) || !skip_padding(in, size)) return fail("truncated manifest.json");
  BundleManifest m;
  std::string merr;
  if (!parse_manifest(mtext, m, &merr)) return fail(merr);
  std::string note;
  if (!verify_bundle_signature(m, &note, &merr)) return fail(merr);
  if (!next_member(in, name, size, &member_error)) return fail(member_error);
  if (name != "vuln.db") return fail("the second member must be vuln.db, not '" + name + "'");
  if (size != m.db_size || size > kMaxDb)
    return fail("vuln.db is " + std::to_string(size) + " bytes, the manifest says " + std::to_string(m.db_size));

  std::error_code ec;
  const std::filesystem::path parent = std::filesystem::path(db_path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  const std::string tmp = db_path + ".import-" + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return fail("cannot write " + tmp);
    Sha256 h;
    std::vector<char> buf(std::size_t{1} << 20);
    std::uint64_t left = size;
    while (left > 0) {
      const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(left, buf.size()));
      if (!in.read(buf.data(), n)) {
        out.close();
        std::filesystem::remove(tmp, ec);
        return fail("truncated vuln.db");
      }
      h.update(buf.data(), n);
      out.write(buf.data(), static_cast<std::streamsize>(n));
      left -= n;
    }
    out.close();
    if (!out) {
      std::filesystem::remove(tmp, ec);
      return fail("cannot write " + tmp);
    }
    const std::string got = h.hex();
    if (got != m.db_sha256) {
      std::filesystem::remove(tmp, ec);
      return fail("vuln.db SHA-256 " + got + " does not match the manifest's " + m.db_sha256 + "; refused");
    }
  }
  // The rest (tar padding and end blocks) is read to the end, so gzip checks
  // its own CRC over the whole bundle: damage anywhere refuses it.
  if (!in.drain(std::uint64_t{1} << 20)) {
    std::filesystem::remove(tmp, ec);
    return fail("damaged after vuln.db (gzip check failed, or data after the tar's end)");
  }
  std::string open_error;
  if (!VulnDatabase::open(tmp, &open_error)) {
    std::filesystem::remove(tmp, ec);
    return fail("vuln.db is not a database this kguard reads: " + open_error);
  }
  std::filesystem::rename(tmp, db_path, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    return fail(db_path + ": " + ec.message());
  }
  if (manifest) *manifest = std::move(m);
  return true;
}

}  // namespace kg::vuln

// Go module build info and cargo-auditable dependency data in executables,
// found as the file streams past (Go: src/debug/buildinfo/buildinfo.go;
// cargo-auditable: the .dep-v0 section, zlib-compressed JSON).
#include <zlib.h>

#include <cstring>
#include <string>

#include "core/document.hpp"
#include "engines/image/inventory/lang_packages.hpp"

namespace kg::image {
namespace {

constexpr std::string_view kGoMagic = "\xff Go buildinf:";
constexpr std::size_t kGoHeader = 32;
constexpr std::size_t kGoBlobCap = std::size_t{4} << 20;
constexpr std::size_t kCargoJsonCap = std::size_t{16} << 20;
constexpr std::string_view kCargoPrefix = R"({"packages":[)";
// Bytes kept across chunk boundaries: enough for a dynamic deflate block
// header and the first bytes of the JSON behind it.
constexpr std::size_t kLookahead = 1024;

bool read_uvarint(std::string_view& s, std::uint64_t& v) {
  v = 0;
  for (unsigned shift = 0; shift < 64; shift += 7) {
    if (s.empty()) return false;
    const auto b = static_cast<unsigned char>(s.front());
    s.remove_prefix(1);
    v |= std::uint64_t{b & 0x7fu} << shift;
    if ((b & 0x80) == 0) return true;
  }
  return false;
}

bool read_string(std::string_view& s, std::string_view& out) {
  std::uint64_t n = 0;
  if (!read_uvarint(s, n) || n > s.size()) return false;
  out = s.substr(0, static_cast<std::size_t>(n));
  s.remove_prefix(static_cast<std::size_t>(n));
  return true;
}

// Inflates a zlib stream from `in`, at most `cap` bytes of output; returns
// what came out (the stream may be cut short by `in` or the cap).
struct Inflater {
  z_stream zs{};
  bool ok = false;
  Inflater() { ok = inflateInit(&zs) == Z_OK; }
  ~Inflater() {
    if (ok) inflateEnd(&zs);
  }
  Inflater(const Inflater&) = delete;
  Inflater& operator=(const Inflater&) = delete;
};

}  // namespace

void parse_go_modinfo(std::string_view modinfo, std::string_view go_version, std::vector<Package>& packages) {
  if (!go_version.empty()) {
    Package std;
    std.type = PackageType::Golang;
    std.name = "stdlib";
    std::string_view v = go_version.substr(0, go_version.find(' '));  // "go1.22.1 X:boringcrypto"
    std.version = std::string(v);
    if (starts_with(v, "go")) v.remove_prefix(2);
    std.purl = make_purl("golang", "", "stdlib", v);
    packages.push_back(std::move(std));
  }
  auto split = [](std::string_view line, std::string_view* parts, std::size_t n) {
    std::size_t i = 0;
    while (i < n) {
      const std::size_t tab = line.find('\t');
      parts[i++] = line.substr(0, tab);
      if (tab == std::string_view::npos) break;
      line.remove_prefix(tab + 1);
    }
    return i;
  };
  while (!modinfo.empty()) {
    const std::size_t nl = modinfo.find('\n');
    const std::string_view line = modinfo.substr(0, nl);
    modinfo = nl == std::string_view::npos ? std::string_view{} : modinfo.substr(nl + 1);
    std::string_view parts[4];
    const std::size_t n = split(line, parts, 4);
    if (n < 3) continue;
    if (parts[0] == "mod" || parts[0] == "dep") {
      Package p;
      p.type = PackageType::Golang;
      p.name = std::string(parts[1]);
      p.version = std::string(parts[2]);
      if (n >= 4 && starts_with(parts[3], "h1:")) p.checksum = std::string(parts[3]);
      packages.push_back(std::move(p));
    } else if (parts[0] == "=>" && !packages.empty() && packages.back().type == PackageType::Golang) {
      // The module above was replaced: the code in the binary is the replacement's.
      Package& p = packages.back();
      if (parts[2].empty()) {
        // A local directory: the module keeps its path; its code is no published version.
        p.version = "(devel)";
        p.checksum.clear();
      } else {
        p.name = std::string(parts[1]);
        p.version = std::string(parts[2]);
        p.checksum = n >= 4 && starts_with(parts[3], "h1:") ? std::string(parts[3]) : std::string();
      }
    }
  }
}

bool parse_go_buildinfo(std::string_view blob, std::vector<Package>& packages, std::string& error) {
  if (blob.size() < kGoHeader || !starts_with(blob, kGoMagic)) {
    error = "no Go build info header";
    return false;
  }
  const auto flags = static_cast<unsigned char>(blob[15]);
  if ((flags & 2) == 0) {
    // Before Go 1.18 the header held pointers into the data segment.
    error = "Go build info from before Go 1.18 (pointer format) is not read";
    return false;
  }
  std::string_view rest = blob.substr(kGoHeader);
  std::string_view version, mod;
  if (!read_string(rest, version) || !read_string(rest, mod)) {
    error = "Go build info strings run past the data";
    return false;
  }
  // The module info is framed by two 16-byte sentinels.
  if (mod.size() >= 33 && mod[mod.size() - 17] == '\n') mod = mod.substr(16, mod.size() - 32);
  else mod = {};
  parse_go_modinfo(mod, version, packages);
  return true;
}

bool parse_cargo_auditable_json(std::string_view json, std::vector<Package>& packages, std::string& error) {
  SourceFile f;
  f.path = ".dep-v0";
  f.content = std::string(json);
  LoadLimits limits;
  limits.max_depth = 32;
  f.max_errors = 3;
  load_json(f, f.arena, false, limits, [&](const Document& d) { f.documents.push_back(d); });
  if (!f.errors.empty() || f.documents.empty()) {
    error = f.errors.empty() ? "empty cargo-auditable data" : f.errors.front().message;
    return false;
  }
  const Node* list = get(f.documents.front().root, "packages");
  if (!list || !list->is_seq()) {
    error = "cargo-auditable data without a packages list";
    return false;
  }
  for (const Node* n : list->items()) {
    const std::string_view name = str(get(n, "name"));
    const std::string_view version = str(get(n, "version"));
    if (name.empty() || version.empty()) continue;
    Package p;
    p.type = PackageType::Cargo;
    p.name = std::string(name);
    p.version = std::string(version);
    packages.push_back(std::move(p));
  }
  return true;
}

void BinaryScanner::data(std::string_view chunk) {
  if (not_binary_ || chunk.empty()) return;
  if (!checked_magic_) {
    // The first four bytes decide, however the file is cut into chunks.
    if (carry_.size() + chunk.size() < 4) {
      carry_.append(chunk);
      return;
    }
    std::string head = carry_;
    head.append(chunk.substr(0, 4));
    checked_magic_ = true;
    elf_ = std::memcmp(head.data(), "\x7f" "ELF", 4) == 0;
    if (!elf_) {
      not_binary_ = true;
      carry_.clear();
      return;
    }
  }
  if (go_done_) return;
  if (go_found_) {
    go_blob_.append(chunk.substr(0, kGoBlobCap - std::min(kGoBlobCap, go_blob_.size())));
    go_check();
    return;
  }
  if (cargo_found_) {
    // The compressed stream is collected (bounded) and inflated at finish.
    if (carry_.size() < kCargoJsonCap) carry_.append(chunk.substr(0, kCargoJsonCap - carry_.size()));
    return;
  }
  // Small chunks gather in the carry until a position can be checked with
  // its full lookahead, so any cut of the file gives the same result.
  if (chunk.size() < 2 * kLookahead) {
    // Scanning a window costs a copy of the carry: wait for a few KiB.
    if (carry_.size() + chunk.size() < 4 * kLookahead) {
      carry_.append(chunk);
      return;
    }
    std::string window = std::move(carry_);
    carry_.clear();
    window.append(chunk);
    scan(window, false);
    return;
  }
  // Positions in the carried tail are checked now that bytes follow them.
  if (!carry_.empty()) {
    const std::size_t n = carry_.size();
    const std::uint64_t base = offset_;
    std::string window = std::move(carry_);
    carry_.clear();
    window.append(chunk.substr(0, kLookahead));
    const std::string_view w(window);
    const std::string_view after = chunk.substr(kLookahead);
    for (std::size_t i = 0; i < n; ++i) {
      if (w[i] == kGoMagic[0] && (base + i) % 16 == 0 && w.substr(i, kGoMagic.size()) == kGoMagic) {
        go_found_ = true;
        go_blob_.assign(w.substr(i, kGoBlobCap));
        go_blob_.append(after.substr(0, kGoBlobCap - std::min(kGoBlobCap, go_blob_.size())));
        go_check();
        return;
      }
      if (w[i] == 0x78 && try_cargo(w.substr(i))) {
        carry_.assign(w.substr(i, kCargoJsonCap));
        carry_.append(after.substr(0, kCargoJsonCap - std::min(kCargoJsonCap, carry_.size())));
        return;
      }
    }
    offset_ = base + n;
  }
  scan(chunk, false);
}

void BinaryScanner::scan(std::string_view w, bool final) {
  const std::size_t limit = final ? w.size() : (w.size() > kLookahead ? w.size() - kLookahead : 0);
  // The first aligned Go magic (memmem is fast); cargo data before it wins,
  // as it would when the positions are checked one by one across chunks.
  std::size_t go = std::string_view::npos;
  for (std::size_t from = 0; from < limit;) {
    const void* hit = memmem(w.data() + from, w.size() - from, kGoMagic.data(), kGoMagic.size());
    if (!hit) break;
    const auto i = static_cast<std::size_t>(static_cast<const char*>(hit) - w.data());
    if (i >= limit) break;
    if ((offset_ + i) % 16 == 0) {
      go = i;
      break;
    }
    from = i + 1;
  }
  const std::size_t cargo_limit = std::min(limit, go);
  for (std::size_t i = 0; i < cargo_limit;) {
    const void* x = std::memchr(w.data() + i, 0x78, cargo_limit - i);
    if (!x) break;
    i = static_cast<std::size_t>(static_cast<const char*>(x) - w.data());
    if (try_cargo(w.substr(i))) {
      carry_.assign(w.substr(i, kCargoJsonCap));
      return;
    }
    ++i;
  }
  if (go != std::string_view::npos) {
    go_found_ = true;
    go_blob_.assign(w.substr(go, kGoBlobCap));
    go_check();
    return;
  }
  offset_ += limit;
  carry_.assign(w.substr(limit));
}

bool BinaryScanner::try_cargo(std::string_view at) {
  if (at.size() < 2) return false;
  const auto flg = static_cast<unsigned char>(at[1]);
  if (flg != 0x01 && flg != 0x5e && flg != 0x9c && flg != 0xda) return false;
  Inflater inf;
  if (!inf.ok) return false;
  char out[32];
  inf.zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(at.data()));
  inf.zs.avail_in = static_cast<uInt>(std::min<std::size_t>(at.size(), kLookahead));
  inf.zs.next_out = reinterpret_cast<Bytef*>(out);
  inf.zs.avail_out = sizeof out;
  const int rc = inflate(&inf.zs, Z_SYNC_FLUSH);
  if (rc != Z_OK && rc != Z_STREAM_END) return false;
  const std::size_t got = sizeof out - inf.zs.avail_out;
  if (got < kCargoPrefix.size() || std::string_view(out, kCargoPrefix.size()) != kCargoPrefix) return false;
  cargo_found_ = true;
  return true;
}

void BinaryScanner::go_check() {
  // Collect only until both strings are complete (or the format is the old one).
  if (go_blob_.size() >= kGoBlobCap) go_done_ = true;
  if (go_blob_.size() < kGoHeader) return;
  if ((static_cast<unsigned char>(go_blob_[15]) & 2) == 0) {
    go_done_ = true;
    return;
  }
  std::string_view rest = std::string_view(go_blob_).substr(kGoHeader);
  std::string_view a, b;
  if (read_string(rest, a) && read_string(rest, b)) go_done_ = true;
}

std::vector<Package> BinaryScanner::finish(std::string& error) {
  std::vector<Package> out;
  if (!carry_.empty() && !go_found_ && !cargo_found_ && !not_binary_) {
    const std::string tail = std::move(carry_);
    carry_.clear();
    scan(tail, true);
  }
  if (go_found_) {
    if (!parse_go_buildinfo(go_blob_, out, error)) out.clear();
    return out;
  }
  if (cargo_found_) {
    Inflater inf;
    if (!inf.ok) return out;
    inf.zs.next_in = reinterpret_cast<Bytef*>(carry_.data());
    inf.zs.avail_in = static_cast<uInt>(carry_.size());
    std::string json;
    char buf[16384];
    int rc = Z_OK;
    while (rc == Z_OK && json.size() < kCargoJsonCap) {
      inf.zs.next_out = reinterpret_cast<Bytef*>(buf);
      inf.zs.avail_out = sizeof buf;
      rc = inflate(&inf.zs, Z_NO_FLUSH);
      json.append(buf, sizeof buf - inf.zs.avail_out);
      if (rc == Z_BUF_ERROR) break;
    }
    if (rc != Z_STREAM_END) {
      error = "cargo-auditable data does not inflate to its end";
      return out;
    }
    parse_cargo_auditable_json(json, out, error);
  }
  return out;
}

}  // namespace kg::image

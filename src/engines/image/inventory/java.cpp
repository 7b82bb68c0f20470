// Java archives: a small zip reader (APPNOTE.TXT: end of central directory,
// zip64, central directory, local headers; stored and deflated entries) and
// the Maven identity of an archive and of the archives nested in it.
#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <string>

#include "engines/image/inventory/lang_packages.hpp"

namespace kg::image {
namespace {

std::uint16_t le16(std::string_view s, std::size_t at) {
  return static_cast<std::uint16_t>(static_cast<unsigned char>(s[at]) |
                                    (static_cast<unsigned char>(s[at + 1]) << 8));
}
std::uint32_t le32(std::string_view s, std::size_t at) {
  return std::uint32_t{le16(s, at)} | (std::uint32_t{le16(s, at + 2)} << 16);
}
std::uint64_t le64(std::string_view s, std::size_t at) {
  return std::uint64_t{le32(s, at)} | (std::uint64_t{le32(s, at + 4)} << 32);
}

constexpr std::uint32_t kEocdSig = 0x06054b50;
constexpr std::uint32_t kZip64LocatorSig = 0x07064b50;
constexpr std::uint32_t kZip64EocdSig = 0x06064b50;
constexpr std::uint32_t kCentralSig = 0x02014b50;
constexpr std::uint32_t kLocalSig = 0x04034b50;
constexpr std::size_t kMaxEntries = 1'000'000;

constexpr std::size_t kManifestCap = std::size_t{1} << 20;
constexpr std::size_t kNestedCap = std::size_t{64} << 20;
constexpr std::size_t kNestedBudget = std::size_t{256} << 20;
constexpr int kMaxDepth = 3;

bool is_archive_name(std::string_view name) {
  const std::string n = to_lower(name);
  return ends_with(n, ".jar") || ends_with(n, ".war") || ends_with(n, ".ear") || ends_with(n, ".jpi") ||
         ends_with(n, ".hpi");
}

}  // namespace

bool zip_entries(std::string_view zip, std::vector<ZipEntry>& entries, std::string& error) {
  entries.clear();
  if (zip.size() < 22) {
    error = "too short for a zip archive";
    return false;
  }
  // The end record is in the last 22 + 65535 bytes (its comment is at most that long).
  std::size_t eocd = std::string_view::npos;
  const std::size_t lowest = zip.size() > 22 + 65535 ? zip.size() - 22 - 65535 : 0;
  for (std::size_t i = zip.size() - 22 + 1; i-- > lowest;) {
    if (le32(zip, i) == kEocdSig) {
      eocd = i;
      break;
    }
  }
  if (eocd == std::string_view::npos) {
    error = "no end of central directory record";
    return false;
  }
  std::uint64_t count = le16(zip, eocd + 10);
  std::uint64_t cd_size = le32(zip, eocd + 12);
  std::uint64_t cd_offset = le32(zip, eocd + 16);
  std::size_t end_of_cd = eocd;
  if ((count == 0xffff || cd_offset == 0xffffffff || cd_size == 0xffffffff) && eocd >= 20 &&
      le32(zip, eocd - 20) == kZip64LocatorSig) {
    const std::uint64_t rec = le64(zip, eocd - 20 + 8);
    if (rec > zip.size() - 56 || le32(zip, static_cast<std::size_t>(rec)) != kZip64EocdSig) {
      error = "zip64 end record out of place";
      return false;
    }
    count = le64(zip, static_cast<std::size_t>(rec) + 32);
    cd_size = le64(zip, static_cast<std::size_t>(rec) + 40);
    cd_offset = le64(zip, static_cast<std::size_t>(rec) + 48);
    end_of_cd = static_cast<std::size_t>(rec);
  }
  if (cd_size > end_of_cd || cd_offset > end_of_cd - cd_size) {
    error = "central directory outside the archive";
    return false;
  }
  // Data before the archive (a launcher script) shifts every offset.
  const std::uint64_t shift = end_of_cd - cd_size - cd_offset;
  if (count > kMaxEntries) {
    error = "more than " + std::to_string(kMaxEntries) + " entries";
    return false;
  }
  std::size_t p = static_cast<std::size_t>(cd_offset + shift);
  const std::size_t cd_end = p + static_cast<std::size_t>(cd_size);
  for (std::uint64_t i = 0; i < count; ++i) {
    if (p + 46 > cd_end || le32(zip, p) != kCentralSig) {
      error = "central directory entry " + std::to_string(i) + " is malformed";
      return false;
    }
    ZipEntry e;
    e.method = le16(zip, p + 10);
    e.compressed = le32(zip, p + 20);
    e.size = le32(zip, p + 24);
    const std::size_t name_len = le16(zip, p + 28);
    const std::size_t extra_len = le16(zip, p + 30);
    const std::size_t comment_len = le16(zip, p + 32);
    e.local_offset = le32(zip, p + 42);
    if (p + 46 + name_len + extra_len + comment_len > cd_end) {
      error = "central directory entry " + std::to_string(i) + " runs past the directory";
      return false;
    }
    e.name = std::string(zip.substr(p + 46, name_len));
    // zip64 extended information: the 64-bit forms of the fields that are 0xffffffff.
    std::size_t x = p + 46 + name_len;
    const std::size_t x_end = x + extra_len;
    while (x + 4 <= x_end) {
      const std::uint16_t id = le16(zip, x);
      const std::uint16_t len = le16(zip, x + 2);
      if (x + 4 + len > x_end) break;
      if (id == 0x0001) {
        std::size_t f = x + 4;
        const std::size_t f_end = f + len;
        auto take = [&](std::uint64_t& v) {
          if (v == 0xffffffff && f + 8 <= f_end) {
            v = le64(zip, f);
            f += 8;
          }
        };
        take(e.size);
        take(e.compressed);
        take(e.local_offset);
      }
      x += 4 + len;
    }
    e.local_offset += shift;
    entries.push_back(std::move(e));
    p += 46 + name_len + extra_len + comment_len;
  }
  return true;
}

bool zip_read(std::string_view zip, const ZipEntry& e, std::size_t limit, std::string& out, std::string& error) {
  out.clear();
  if (e.local_offset > zip.size() || zip.size() - e.local_offset < 30 ||
      le32(zip, static_cast<std::size_t>(e.local_offset)) != kLocalSig) {
    error = e.name + ": local header missing";
    return false;
  }
  const auto lo = static_cast<std::size_t>(e.local_offset);
  const std::size_t start = lo + 30 + le16(zip, lo + 26) + le16(zip, lo + 28);
  if (start > zip.size() || e.compressed > zip.size() - start) {
    error = e.name + ": data runs past the archive";
    return false;
  }
  const std::string_view in = zip.substr(start, static_cast<std::size_t>(e.compressed));
  if (e.method == 0) {
    if (in.size() > limit) {
      error = e.name + ": larger than " + std::to_string(limit) + " bytes";
      return false;
    }
    out.assign(in);
    return true;
  }
  if (e.method != 8) {
    error = e.name + ": compression method " + std::to_string(e.method) + " is not read";
    return false;
  }
  z_stream zs{};
  if (inflateInit2(&zs, -15) != Z_OK) {
    error = "zlib init failed";
    return false;
  }
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(std::min<std::size_t>(in.size(), 0x7fffffff));
  char buf[16384];
  int rc = Z_OK;
  while (rc == Z_OK) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof buf;
    rc = inflate(&zs, Z_NO_FLUSH);
    const std::size_t got = sizeof buf - zs.avail_out;
    if (out.size() + got > limit) {
      inflateEnd(&zs);
      error = e.name + ": inflates past " + std::to_string(limit) + " bytes";
      return false;
    }
    out.append(buf, got);
  }
  inflateEnd(&zs);
  if (rc != Z_STREAM_END) {
    error = e.name + ": corrupt deflate data";
    return false;
  }
  return true;
}

std::vector<std::pair<std::string, std::string>> parse_jar_manifest(std::string_view content) {
  std::vector<std::pair<std::string, std::string>> out;
  LineReader lines(content);
  std::string_view line;
  while (lines.next(line)) {
    if (line.empty()) break;  // the main section ends at the first blank line
    if (line.front() == ' ') {
      if (!out.empty()) out.back().second += line.substr(1);
      continue;
    }
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    out.emplace_back(std::string(trim(line.substr(0, colon))), std::string(trim(line.substr(colon + 1))));
  }
  for (auto& kv : out) kv.second = std::string(trim(kv.second));
  return out;
}

namespace {

std::string manifest_get(const std::vector<std::pair<std::string, std::string>>& m, std::string_view key) {
  for (const auto& [k, v] : m)
    if (k == key) return v;
  return {};
}

std::vector<std::pair<std::string, std::string>> parse_properties(std::string_view content) {
  std::vector<std::pair<std::string, std::string>> out;
  std::size_t pos = 0;
  while (pos < content.size()) {
    std::size_t nl = content.find('\n', pos);
    if (nl == std::string_view::npos) nl = content.size();
    const std::string_view line = trim(content.substr(pos, nl - pos));
    pos = nl + 1;
    if (line.empty() || line.front() == '#' || line.front() == '!') continue;
    const std::size_t sep = line.find_first_of("=:");
    if (sep == std::string_view::npos) continue;
    out.emplace_back(std::string(trim(line.substr(0, sep))), std::string(trim(line.substr(sep + 1))));
  }
  return out;
}

struct JavaWalk {
  ParseResult& r;
  std::size_t budget = kNestedBudget;

  void archive(std::string_view zip, const std::string& evidence, std::string_view file_name, int depth) {
    std::vector<ZipEntry> entries;
    std::string error;
    if (!zip_entries(zip, entries, error)) {
      r.errors.push_back({evidence, 0, error});
      return;
    }
    std::vector<std::pair<std::string, std::string>> manifest;
    std::size_t poms = 0;
    std::string content;
    for (const ZipEntry& e : entries) {
      const bool is_manifest = to_lower(e.name) == "meta-inf/manifest.mf";
      const bool is_pom = starts_with(e.name, "META-INF/maven/") && ends_with(e.name, "/pom.properties");
      if (!is_manifest && !is_pom) continue;
      if (!zip_read(zip, e, kManifestCap, content, error)) {
        r.errors.push_back({evidence, 0, error});
        continue;
      }
      if (is_manifest) {
        manifest = parse_jar_manifest(content);
        continue;
      }
      const auto props = parse_properties(content);
      const std::string g = manifest_get(props, "groupId");
      const std::string a = manifest_get(props, "artifactId");
      const std::string v = manifest_get(props, "version");
      if (g.empty() || a.empty() || v.empty()) {
        r.errors.push_back({evidence + ":" + e.name, 0, "pom.properties without groupId, artifactId or version"});
        continue;
      }
      Package p;
      p.type = PackageType::Maven;
      p.name = g;
      p.name += ':';
      p.name += a;
      p.version = v;
      p.evidence.push_back({evidence, ""});
      r.packages.push_back(std::move(p));
      ++poms;
    }
    const std::string license = manifest_get(manifest, "Bundle-License");
    if (poms == 0) from_manifest(manifest, evidence, file_name);
    if (!license.empty()) {
      for (Package& p : r.packages)
        if (p.license.empty() && !p.evidence.empty() && p.evidence.front().path == evidence) p.license = license;
    }
    if (depth >= kMaxDepth) return;
    for (const ZipEntry& e : entries) {
      if (!is_archive_name(e.name)) continue;
      std::string inner;
      const std::size_t cap = std::min(kNestedCap, budget);
      if (!zip_read(zip, e, cap, inner, error)) {
        r.errors.push_back({evidence, 0, error});
        continue;
      }
      budget -= inner.size();
      archive(inner, evidence + ":" + e.name, base_name(e.name), depth + 1);
    }
  }

  void from_manifest(const std::vector<std::pair<std::string, std::string>>& m, const std::string& evidence,
                     std::string_view file_name) {
    // "commons-io-2.11.0.jar" -> artifact "commons-io", version "2.11.0".
    std::string_view stem = file_name.substr(0, file_name.rfind('.'));
    std::string name_version;
    std::string artifact(stem);
    for (std::size_t i = 0; i + 1 < stem.size(); ++i) {
      if (stem[i] == '-' && stem[i + 1] >= '0' && stem[i + 1] <= '9') {
        artifact = std::string(stem.substr(0, i));
        name_version = std::string(stem.substr(i + 1));
        break;
      }
    }
    std::string version = manifest_get(m, "Implementation-Version");
    if (version.empty()) version = manifest_get(m, "Bundle-Version");
    if (version.empty()) version = manifest_get(m, "Specification-Version");
    if (version.empty()) version = name_version;
    if (version.empty() || artifact.empty()) return;
    std::string group = manifest_get(m, "Implementation-Vendor-Id");
    if (group.empty()) {
      std::string bsn = manifest_get(m, "Bundle-SymbolicName");
      bsn = bsn.substr(0, bsn.find(';'));
      const std::size_t dot = bsn.rfind('.');
      if (dot != std::string::npos) group = bsn.substr(0, dot);
    }
    if (group.empty()) group = artifact;
    Package p;
    p.type = PackageType::Maven;
    p.name = group + ":" + artifact;
    p.version = version;
    p.evidence.push_back({evidence, ""});
    r.packages.push_back(std::move(p));
  }
};

}  // namespace

ParseResult parse_java_archive(std::string_view path, std::string_view content) {
  ParseResult r;
  JavaWalk walk{r};
  walk.archive(content, std::string(path), base_name(path), 0);
  return r;
}

}  // namespace kg::image

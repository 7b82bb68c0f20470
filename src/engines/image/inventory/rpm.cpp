// rpm databases without librpm: the header blob format (rpm lib/header.c,
// headerImport), rpmdb.sqlite read from memory with SQLite, and BerkeleyDB
// hash files (the Packages of RHEL <= 8) walked page by page.
#include <sqlite3.h>

#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "engines/image/inventory/os_packages.hpp"

namespace kg::image {
namespace {

std::uint32_t be32(const unsigned char* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}

enum : std::uint32_t {
  kTagSha256Header = 273,
  kTagName = 1000,
  kTagVersion = 1001,
  kTagRelease = 1002,
  kTagEpoch = 1003,
  kTagLicense = 1014,
  kTagArch = 1022,
  kTagSourceRpm = 1044,
};
enum : std::uint32_t { kTypeInt32 = 4, kTypeString = 6, kTypeStringArray = 8, kTypeI18n = 9 };

// rpm's own bounds (lib/header_internal.h): more is a corrupt header.
constexpr std::uint32_t kMaxIndex = 0x0000ffff;
constexpr std::uint32_t kMaxData = 0x0fffffff;

}  // namespace

bool parse_rpm_header(std::string_view blob, Package& out, std::string& error, bool& skip) {
  skip = false;
  const auto* b = reinterpret_cast<const unsigned char*>(blob.data());
  if (blob.size() < 8) {
    error = "header blob shorter than its 8-byte preamble";
    return false;
  }
  const std::uint32_t il = be32(b);
  const std::uint32_t dl = be32(b + 4);
  if (il == 0 || il > kMaxIndex || dl > kMaxData) {
    error = "header blob with " + std::to_string(il) + " index entries and " + std::to_string(dl) +
            " data bytes is out of rpm's bounds";
    return false;
  }
  const std::uint64_t need = 8 + std::uint64_t{il} * 16 + dl;
  if (need > blob.size()) {
    error = "header blob is " + std::to_string(blob.size()) + " bytes, its index says " + std::to_string(need);
    return false;
  }
  const unsigned char* index = b + 8;
  const std::string_view data(blob.data() + 8 + std::size_t{il} * 16, dl);
  auto string_at = [&](std::uint32_t offset, std::string_view& s) {
    if (offset >= data.size()) return false;
    const std::size_t nul = data.find('\0', offset);
    if (nul == std::string_view::npos) return false;
    s = data.substr(offset, nul - offset);
    return true;
  };
  std::string_view name, version, release, license, arch, sourcerpm, sha256;
  std::int64_t epoch = -1;
  for (std::uint32_t i = 0; i < il; ++i) {
    const unsigned char* e = index + std::size_t{i} * 16;
    const std::uint32_t tag = be32(e);
    const std::uint32_t type = be32(e + 4);
    const std::uint32_t offset = be32(e + 8);
    const std::uint32_t count = be32(e + 12);
    std::string_view* target = nullptr;
    switch (tag) {
      case kTagName: target = &name; break;
      case kTagVersion: target = &version; break;
      case kTagRelease: target = &release; break;
      case kTagLicense: target = &license; break;
      case kTagArch: target = &arch; break;
      case kTagSourceRpm: target = &sourcerpm; break;
      case kTagSha256Header: target = &sha256; break;
      case kTagEpoch:
        if (type != kTypeInt32 || count < 1 || offset > data.size() || data.size() - offset < 4) {
          error = "EPOCH tag is not an INT32 inside the data store";
          return false;
        }
        epoch = be32(reinterpret_cast<const unsigned char*>(data.data()) + offset);
        continue;
      default: continue;
    }
    if (type != kTypeString && type != kTypeI18n && type != kTypeStringArray) {
      error = "tag " + std::to_string(tag) + " has type " + std::to_string(type) + ", expected a string";
      return false;
    }
    if (!string_at(offset, *target)) {
      error = "tag " + std::to_string(tag) + " points outside the data store";
      return false;
    }
  }
  if (name.empty() || version.empty()) {
    error = "header without NAME or VERSION";
    return false;
  }
  // The keys rpm imports are stored as pseudo-packages; they are not software.
  if (name == "gpg-pubkey") {
    skip = true;
    return true;
  }
  out = Package{};
  out.type = PackageType::Rpm;
  out.name = std::string(name);
  out.version = epoch >= 0 ? std::to_string(epoch) + ":" : std::string();
  out.version += version;
  if (!release.empty()) out.version += "-" + std::string(release);
  out.arch = std::string(arch);
  out.license = std::string(license);
  if (!sha256.empty()) out.checksum = "sha256:" + std::string(sha256);
  // "bash-5.1.8-6.el9.src.rpm": name-version-release.
  set_rpm_source(out, sourcerpm);
  return true;
}

void set_rpm_source(Package& p, std::string_view sourcerpm) {
  std::string_view src = sourcerpm;
  for (const std::string_view suffix : {".src.rpm", ".nosrc.rpm"}) {
    if (ends_with(src, suffix)) {
      src.remove_suffix(suffix.size());
      const std::size_t r = src.rfind('-');
      const std::size_t v = r == std::string_view::npos || r == 0 ? std::string_view::npos : src.rfind('-', r - 1);
      if (v != std::string_view::npos) {
        p.source_name = std::string(src.substr(0, v));
        p.source_version = std::string(src.substr(v + 1));
        if (p.source_name == p.name) p.source_name.clear();  // the model's convention
      }
      break;
    }
  }
}

namespace {

void add_blob(std::string_view path, std::string_view blob, std::uint32_t record, ParseResult& r) {
  Package p;
  std::string error;
  bool skip = false;
  if (!parse_rpm_header(blob, p, error, skip)) {
    if (r.errors.size() < 100)
      r.errors.push_back({std::string(path), 0, "package record " + std::to_string(record) + ": " + error});
    return;
  }
  if (!skip) r.packages.push_back(std::move(p));
}

}  // namespace

bool apply_sqlite_wal(std::string& db, std::string_view wal, std::string& error) {
  if (wal.empty()) return true;
  const auto* w = reinterpret_cast<const unsigned char*>(wal.data());
  if (wal.size() < 32 || (be32(w) & 0xfffffffe) != 0x377f0682) {
    error = "not an SQLite write-ahead log";
    return false;
  }
  const bool big = (be32(w) & 1) != 0;  // the byte order of the checksums
  const std::uint32_t page_size = be32(w + 8) == 1 ? 65536 : be32(w + 8);
  if (page_size < 512 || page_size > 65536 || (page_size & (page_size - 1)) != 0) {
    error = "write-ahead log page size " + std::to_string(page_size) + " is not a power of two in 512..65536";
    return false;
  }
  auto word = [big](const unsigned char* p) {
    return big ? be32(p) : (std::uint32_t{p[3]} << 24) | (std::uint32_t{p[2]} << 16) | (std::uint32_t{p[1]} << 8) | p[0];
  };
  auto checksum = [&](const unsigned char* p, std::size_t n, std::uint32_t& s0, std::uint32_t& s1) {
    for (std::size_t i = 0; i + 8 <= n; i += 8) {
      s0 += word(p + i) + s1;
      s1 += word(p + i + 4) + s0;
    }
  };
  std::uint32_t s0 = 0, s1 = 0;
  checksum(w, 24, s0, s1);
  if (s0 != be32(w + 24) || s1 != be32(w + 28)) {
    error = "write-ahead log header checksum does not match";
    return false;
  }
  const std::uint32_t salt1 = be32(w + 16), salt2 = be32(w + 20);
  // Frames are collected and applied only up to the last commit frame.
  std::vector<std::pair<std::uint32_t, std::size_t>> pending;  // page number, offset of its data
  std::vector<std::pair<std::uint32_t, std::size_t>> committed;
  std::uint32_t db_pages = 0;
  const std::size_t frame = 24 + std::size_t{page_size};
  for (std::size_t off = 32; off + frame <= wal.size(); off += frame) {
    const unsigned char* f = w + off;
    if (be32(f + 8) != salt1 || be32(f + 12) != salt2) break;
    checksum(f, 8, s0, s1);
    checksum(f + 24, page_size, s0, s1);
    if (s0 != be32(f + 16) || s1 != be32(f + 20)) break;
    const std::uint32_t pgno = be32(f);
    if (pgno == 0) break;
    pending.emplace_back(pgno, off + 24);
    if (const std::uint32_t commit = be32(f + 4); commit != 0) {
      committed.insert(committed.end(), pending.begin(), pending.end());
      pending.clear();
      db_pages = commit;
    }
  }
  if (committed.empty()) return true;
  // The database's own page size must agree (header bytes 16-17; 1 means 65536).
  if (db.size() >= 18) {
    const auto* h = reinterpret_cast<const unsigned char*>(db.data());
    const std::uint32_t ps = (std::uint32_t{h[16]} << 8) | h[17];
    if ((ps == 1 ? 65536 : ps) != page_size) {
      error = "write-ahead log page size differs from the database's";
      return false;
    }
  }
  const std::uint64_t want = std::uint64_t{db_pages} * page_size;
  if (want > kMaxData * std::uint64_t{4}) {
    error = "write-ahead log commits a database of " + std::to_string(want) + " bytes";
    return false;
  }
  db.resize(static_cast<std::size_t>(want));
  for (const auto& [pgno, data] : committed) {
    if (pgno > db_pages) continue;  // a page past the committed size was truncated away
    db.replace(std::size_t{pgno - 1} * page_size, page_size, wal.substr(data, page_size));
  }
  return true;
}

ParseResult parse_rpmdb_sqlite(std::string_view path, std::string_view content, std::string_view wal) {
  ParseResult r;
  auto fail = [&](const std::string& msg) {
    r.errors.push_back({std::string(path), 0, msg});
    return r;
  };
  if (content.size() < 100 || std::memcmp(content.data(), "SQLite format 3", 16) != 0)
    return fail("not an SQLite database");
  std::string image;
  if (!wal.empty()) {
    image.assign(content);
    std::string error;
    if (!apply_sqlite_wal(image, wal, error)) r.errors.push_back({std::string(path) + "-wal", 0, error + "; not applied"});
    content = image;
    if (content.size() < 100) return fail("the write-ahead log leaves no database");
  }
  // rpm keeps the database in WAL mode; an in-memory database cannot open a
  // WAL, so the copy says "rollback journal" (bytes 18 and 19 of the header);
  // the log's pages were applied above.
  auto* buf = static_cast<unsigned char*>(sqlite3_malloc64(content.size()));
  if (!buf) return fail("out of memory for the database");
  std::memcpy(buf, content.data(), content.size());
  if (buf[18] == 2) buf[18] = 1;
  if (buf[19] == 2) buf[19] = 1;
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(":memory:", &db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
    sqlite3_free(buf);
    sqlite3_close(db);
    return fail("cannot open an in-memory SQLite database");
  }
  const int rc = sqlite3_deserialize(db, "main", buf, static_cast<sqlite3_int64>(content.size()),
                                     static_cast<sqlite3_int64>(content.size()),
                                     SQLITE_DESERIALIZE_FREEONCLOSE | SQLITE_DESERIALIZE_READONLY);
  if (rc != SQLITE_OK) {
    sqlite3_close(db);
    return fail("cannot read the database: " + std::string(sqlite3_errstr(rc)));
  }
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, "SELECT hnum, blob FROM Packages ORDER BY hnum", -1, &stmt, nullptr) != SQLITE_OK) {
    std::string msg = "no readable Packages table: ";
    msg += sqlite3_errmsg(db);
    sqlite3_close(db);
    return fail(msg);
  }
  int step = 0;
  while ((step = sqlite3_step(stmt)) == SQLITE_ROW) {
    const auto hnum = static_cast<std::uint32_t>(sqlite3_column_int64(stmt, 0));
    const void* blob = sqlite3_column_blob(stmt, 1);
    const int size = sqlite3_column_bytes(stmt, 1);
    add_blob(path, std::string_view(static_cast<const char*>(blob), blob ? static_cast<std::size_t>(size) : 0),
             hnum, r);
  }
  if (step != SQLITE_DONE) r.errors.push_back({std::string(path), 0, std::string("reading Packages: ") + sqlite3_errmsg(db)});
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return r;
}

namespace {

// BerkeleyDB (db/dbinc/db_page.h): a metadata page, then pages of a common
// 26-byte header. Hash pages hold key/value items; rpm's values (headers) go
// to chains of overflow pages.
constexpr std::uint32_t kHashMagic = 0x061561;
constexpr unsigned kPageHeader = 26;
constexpr unsigned char kPageHashUnsorted = 2;
constexpr unsigned char kPageOverflow = 7;
constexpr unsigned char kPageHash = 13;
constexpr unsigned char kItemKeyData = 1;
constexpr unsigned char kItemOffPage = 3;

struct Bdb {
  std::string_view content;
  bool swap = false;
  std::uint32_t page_size = 0;
  std::uint32_t last_page = 0;

  std::uint32_t u32(std::size_t at) const {
    const auto* p = reinterpret_cast<const unsigned char*>(content.data()) + at;
    return swap ? be32(p)
                : (std::uint32_t{p[3]} << 24) | (std::uint32_t{p[2]} << 16) | (std::uint32_t{p[1]} << 8) | p[0];
  }
  std::uint16_t u16(std::size_t at) const {
    const auto* p = reinterpret_cast<const unsigned char*>(content.data()) + at;
    return static_cast<std::uint16_t>(swap ? (p[0] << 8) | p[1] : (p[1] << 8) | p[0]);
  }
  std::string_view page(std::uint32_t n) const {
    const std::uint64_t start = std::uint64_t{n} * page_size;
    if (start + page_size > content.size()) return {};
    return content.substr(static_cast<std::size_t>(start), page_size);
  }
};

}  // namespace

ParseResult parse_rpmdb_bdb(std::string_view path, std::string_view content) {
  ParseResult r;
  auto fail = [&](const std::string& msg) {
    r.errors.push_back({std::string(path), 0, msg});
    return r;
  };
  Bdb db{content};
  if (content.size() < 512) return fail("too short for a BerkeleyDB database");
  if (db.u32(12) != kHashMagic) {
    db.swap = true;
    if (db.u32(12) != kHashMagic) return fail("not a BerkeleyDB hash database");
  }
  db.page_size = db.u32(20);
  db.last_page = db.u32(32);
  if (db.page_size < 512 || db.page_size > 65536 || (db.page_size & (db.page_size - 1)) != 0)
    return fail("BerkeleyDB page size " + std::to_string(db.page_size) + " is not a power of two in 512..65536");
  if (std::uint64_t{db.last_page} * db.page_size >= content.size() + std::uint64_t{db.page_size})
    return fail("BerkeleyDB metadata names page " + std::to_string(db.last_page) + " past the end of the file");
  const std::uint64_t total_pages = content.size() / db.page_size;
  std::uint32_t record = 0;
  std::string value;
  for (std::uint32_t n = 1; n <= db.last_page; ++n) {
    const std::string_view page = db.page(n);
    if (page.empty()) break;
    const auto type = static_cast<unsigned char>(page[25]);
    if (type != kPageHash && type != kPageHashUnsorted) continue;
    const std::size_t base = std::size_t{n} * db.page_size;
    const std::uint16_t entries = db.u16(base + 20);
    // Items alternate key, value; the index follows the page header.
    for (std::uint32_t i = 1; i < entries; i += 2) {
      const std::size_t slot = kPageHeader + std::size_t{i} * 2;
      if (slot + 2 > page.size()) break;
      const std::uint16_t off = db.u16(base + slot);
      if (off >= page.size()) continue;
      ++record;
      const auto item = static_cast<unsigned char>(page[off]);
      if (item == kItemKeyData) {
        // A value small enough to sit on the page: items grow down from the
        // page end, so its length is the distance to the previous item.
        const std::size_t prev = i == 0 ? page.size() : db.u16(base + kPageHeader + (std::size_t{i} - 1) * 2);
        if (prev <= off || prev > page.size()) continue;
        add_blob(path, page.substr(off + 1, prev - off - 1), record, r);
        continue;
      }
      if (item != kItemOffPage || off + 12u > page.size()) continue;
      std::uint32_t next = db.u32(base + off + 4);
      const std::uint32_t length = db.u32(base + off + 8);
      if (length > kMaxData) {
        r.errors.push_back({std::string(path), 0, "record " + std::to_string(record) + " claims " +
                                                      std::to_string(length) + " bytes"});
        continue;
      }
      value.clear();
      // Follow the overflow chain; a chain longer than the file has pages is a loop.
      std::uint64_t hops = 0;
      bool broken = false;
      while (next != 0 && value.size() < length) {
        const std::string_view ov = db.page(next);
        if (ov.empty() || static_cast<unsigned char>(ov[25]) != kPageOverflow || ++hops > total_pages) {
          broken = true;
          break;
        }
        const std::size_t obase = std::size_t{next} * db.page_size;
        const std::uint16_t used = db.u16(obase + 22);  // bytes of data on an overflow page
        const std::size_t take = std::min<std::size_t>(used, page.size() - kPageHeader);
        value.append(ov.substr(kPageHeader, take));
        next = db.u32(obase + 16);
      }
      if (broken || value.size() < length) {
        r.errors.push_back({std::string(path), 0, "record " + std::to_string(record) + ": broken overflow chain"});
        continue;
      }
      value.resize(length);
      add_blob(path, value, record, r);
    }
  }
  return r;
}

}  // namespace kg::image

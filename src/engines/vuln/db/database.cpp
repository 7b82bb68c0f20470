#include "engines/vuln/db/database.hpp"

#include <sqlite3.h>
#include <sys/stat.h>

#include <charconv>
#include <cstdlib>
#include <mutex>

#include "core/clock.hpp"
#include "engines/vuln/db/codec.hpp"

namespace kg::vuln {
namespace {

std::string col(sqlite3_stmt* s, int i) {
  const auto* p = sqlite3_column_text(s, i);
  return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(s, i)))
           : std::string();
}

std::string_view col_blob(sqlite3_stmt* s, int i) {
  const void* p = sqlite3_column_blob(s, i);
  return p ? std::string_view(static_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(s, i)))
           : std::string_view{};
}

void bind(sqlite3_stmt* s, int i, std::string_view v) {
  sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
}

std::uint64_t to_u64(const std::string& s) {
  std::uint64_t v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

// Read-only, prepared statements, lookups by index only. SQLite's own page
// cache bounds what is held in memory; nothing here reads a whole table.
class SqliteDatabase final : public VulnDatabase {
 public:
  ~SqliteDatabase() override {
    for (sqlite3_stmt* s : {affected_, advisory_, alias_}) sqlite3_finalize(s);
    sqlite3_close(db_);
  }

  bool open(const std::string& path, std::string* error) {
    path_ = path;
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
      if (error)
        *error = "no vulnerability database at " + path +
                 " (build one with `kguard db build` or bring one with `kguard db import`)";
      return false;
    }
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READONLY | SQLITE_OPEN_FULLMUTEX, nullptr) != SQLITE_OK) {
      if (error) *error = path + ": cannot open: " + sqlite3_errmsg(db_);
      return false;
    }
    std::string kind, schema;
    if (!meta("kind", kind) || kind != kDbKind) {
      if (error) *error = path + ": not a kguard vulnerability database";
      return false;
    }
    if (!meta("schema", schema) || schema != std::to_string(kSchemaVersion)) {
      if (error)
        *error = path + ": database schema " + (schema.empty() ? "unknown" : schema) + ", this kguard reads schema " +
                 std::to_string(kSchemaVersion) + " (build or import it again)";
      return false;
    }
    if (!prepare("SELECT vuln_id,feed,scheme,status,ranges,versions,severity FROM affected"
                 " WHERE ns=? AND package=? ORDER BY vuln_id,feed",
                 &affected_, error) ||
        !prepare("SELECT aliases,summary,severity,cvss_v3,cvss_v4,published,modified,refs,kev,epss,feed"
                 " FROM advisory WHERE id=?",
                 &advisory_, error) ||
        !prepare("SELECT id FROM alias WHERE alias=? ORDER BY id", &alias_, error))
      return false;
    return true;
  }

  void for_each_affected(std::string_view ns, std::string_view package,
                         const std::function<void(const AffectedRecord&)>& fn) const override {
    std::vector<AffectedRecord> rows;
    {
      // The statement is shared; callbacks run after the lock so they may look up more.
      const std::lock_guard lock(mu_);
      bind(affected_, 1, ns);
      bind(affected_, 2, package);
      while (sqlite3_step(affected_) == SQLITE_ROW) {
        AffectedRecord r;
        r.ns = ns;
        r.package = package;
        r.vuln_id = col(affected_, 0);
        r.feed = col(affected_, 1);
        const auto scheme = parse_version_scheme(col(affected_, 2));
        if (!scheme || !parse_status(col(affected_, 3), r.status) || !unpack_ranges(col_blob(affected_, 4), r.ranges) ||
            !unpack_strings(col_blob(affected_, 5), r.versions))
          continue;  // a damaged row is not a match
        r.scheme = *scheme;
        r.severity = col(affected_, 6);
        rows.push_back(std::move(r));
      }
      sqlite3_reset(affected_);
    }
    for (const AffectedRecord& r : rows) fn(r);
  }

  std::optional<Advisory> advisory(std::string_view id) const override {
    const std::lock_guard lock(mu_);
    bind(advisory_, 1, id);
    std::optional<Advisory> out;
    if (sqlite3_step(advisory_) == SQLITE_ROW) {
      Advisory a;
      a.id = id;
      unpack_strings(col_blob(advisory_, 0), a.aliases);
      a.summary = col(advisory_, 1);
      a.severity = col(advisory_, 2);
      a.cvss_v3 = col(advisory_, 3);
      a.cvss_v4 = col(advisory_, 4);
      a.published = col(advisory_, 5);
      a.modified = col(advisory_, 6);
      unpack_strings(col_blob(advisory_, 7), a.references);
      a.kev = sqlite3_column_int(advisory_, 8) != 0;
      a.epss = sqlite3_column_double(advisory_, 9);
      a.feed = col(advisory_, 10);
      out = std::move(a);
    }
    sqlite3_reset(advisory_);
    return out;
  }

  std::vector<std::string> ids_for_alias(std::string_view alias) const override {
    const std::lock_guard lock(mu_);
    bind(alias_, 1, alias);
    std::vector<std::string> out;
    while (sqlite3_step(alias_) == SQLITE_ROW) out.push_back(col(alias_, 0));
    sqlite3_reset(alias_);
    return out;
  }

  DbStatus status() const override {
    const std::lock_guard lock(mu_);
    DbStatus s;
    s.path = path_;
    std::string v;
    if (meta("schema", v)) s.schema = static_cast<int>(to_u64(v));
    meta("built_at", s.built_at);
    meta("kguard_version", s.kguard_version);
    if (meta("advisories", v)) s.advisories = to_u64(v);
    if (meta("affected", v)) s.affected = to_u64(v);
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db_, "SELECT name,origin,advisories,affected,errors,built_at FROM feeds ORDER BY name,origin",
                           -1, &st, nullptr) != SQLITE_OK) {
      sqlite3_finalize(st);
      st = nullptr;
    }
    while (st && sqlite3_step(st) == SQLITE_ROW) {
      FeedStatus f;
      f.name = col(st, 0);
      f.origin = col(st, 1);
      f.advisories = static_cast<std::uint64_t>(sqlite3_column_int64(st, 2));
      f.affected = static_cast<std::uint64_t>(sqlite3_column_int64(st, 3));
      f.errors = static_cast<std::uint64_t>(sqlite3_column_int64(st, 4));
      f.built_at = col(st, 5);
      s.feeds.push_back(std::move(f));
    }
    sqlite3_finalize(st);
    return s;
  }

 private:
  bool prepare(const char* sql, sqlite3_stmt** out, std::string* error) {
    if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, out, nullptr) == SQLITE_OK) return true;
    if (error) *error = path_ + ": not a kguard vulnerability database (" + sqlite3_errmsg(db_) + ")";
    return false;
  }

  bool meta(const char* key, std::string& out) const {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db_, "SELECT value FROM meta WHERE key=?", -1, &st, nullptr) != SQLITE_OK) {
      sqlite3_finalize(st);
      return false;
    }
    bind(st, 1, key);
    const bool found = sqlite3_step(st) == SQLITE_ROW;
    if (found) out = col(st, 0);
    sqlite3_finalize(st);
    return found;
  }

  std::string path_;
  sqlite3* db_ = nullptr;
  sqlite3_stmt* affected_ = nullptr;
  sqlite3_stmt* advisory_ = nullptr;
  sqlite3_stmt* alias_ = nullptr;
  mutable std::mutex mu_;
};

}  // namespace

std::unique_ptr<VulnDatabase> VulnDatabase::open(const std::string& path, std::string* error) {
  auto db = std::make_unique<SqliteDatabase>();
  if (!db->open(path, error)) return nullptr;
  return db;
}

std::optional<long long> parse_max_age(std::string_view text) {
  if (text.empty()) return std::nullopt;
  long long unit = 1;
  switch (text.back()) {
    case 's': unit = 1; text.remove_suffix(1); break;
    case 'm': unit = 60; text.remove_suffix(1); break;
    case 'h': unit = 3600; text.remove_suffix(1); break;
    case 'd': unit = 86400; text.remove_suffix(1); break;
    case 'w': unit = 7 * 86400; text.remove_suffix(1); break;
    default: break;
  }
  long long n = 0;
  const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (text.empty() || ec != std::errc{} || p != text.data() + text.size() || n < 0 || n > (1LL << 40) / unit)
    return std::nullopt;
  return n * unit;
}

long long configured_max_age(std::string* error) {
  const char* env = std::getenv("KGUARD_DB_MAX_AGE");
  if (env == nullptr || *env == '\0') return kDefaultMaxAgeSeconds;
  if (auto v = parse_max_age(env)) return *v;
  if (error) *error = std::string("KGUARD_DB_MAX_AGE: '") + env + "' is not a duration (7d, 36h, 90m, 3600s); using 7d";
  return kDefaultMaxAgeSeconds;
}

long long db_age_seconds(const DbStatus& s, long long now) {
  const long long built = utc_epoch_seconds(s.built_at);
  if (built <= 0) return -1;
  return now > built ? now - built : 0;
}

std::string format_age(long long seconds) {
  auto plural = [](long long n, const char* unit) {
    return std::to_string(n) + " " + unit + (n == 1 ? "" : "s");
  };
  if (seconds >= 86400) return plural(seconds / 86400, "day");
  if (seconds >= 3600) return plural(seconds / 3600, "hour");
  if (seconds >= 60) return plural(seconds / 60, "minute");
  return plural(seconds, "second");
}

std::optional<std::string> db_age_warning(const DbStatus& s, long long max_age_seconds, long long now) {
  const long long age = db_age_seconds(s, now);
  if (age < 0)
    return "vulnerability database " + s.path + " has no readable build time; it may be out of date";
  if (age <= max_age_seconds) return std::nullopt;
  return "vulnerability database " + s.path + " is " + format_age(age) + " old (built " + s.built_at +
         "; older than " + format_age(max_age_seconds) +
         "): vulnerabilities published since are not reported; rebuild it (`kguard db build`) or import a newer bundle";
}

}  // namespace kg::vuln

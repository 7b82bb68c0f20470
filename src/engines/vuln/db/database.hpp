// The offline vulnerability database: one SQLite file (--db PATH, default
// $XDG_CACHE_HOME/kguard/vuln.db). Building writes it from feeds; scanning
// opens it read-only and looks packages up by (namespace, package) through an
// index, so a scan never loads the whole database and never needs a network.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engines/vuln/db/records.hpp"

namespace kg::vuln {

// One feed as it was imported.
struct FeedStatus {
  std::string name;    // "osv", "alpine-secdb", …
  std::string origin;  // the path it was built from
  std::uint64_t advisories = 0;
  std::uint64_t affected = 0;
  std::uint64_t errors = 0;  // inputs (or fields) that could not be imported
  std::string built_at;  // RFC 3339 UTC
};

struct DbStatus {
  std::string path;
  int schema = 0;
  std::string built_at;  // RFC 3339 UTC, the last build or import
  std::string kguard_version;  // the kguard that built it
  std::uint64_t advisories = 0;
  std::uint64_t affected = 0;
  std::vector<FeedStatus> feeds;
};

class VulnDatabase {
 public:
  // Opens read-only. nullptr and `error` when the file is missing, is not a
  // kguard database, or has another schema version.
  static std::unique_ptr<VulnDatabase> open(const std::string& path, std::string* error);
  virtual ~VulnDatabase() = default;

  // Every record of `package` in namespace `ns`, in a stable order.
  virtual void for_each_affected(std::string_view ns, std::string_view package,
                                 const std::function<void(const AffectedRecord&)>& fn) const = 0;
  virtual std::optional<Advisory> advisory(std::string_view id) const = 0;
  virtual DbStatus status() const = 0;
  // The ids of the advisories that name `alias` among their aliases (a GHSA
  // record for a CVE id, the tracker's CVE for a DLA), by index.
  virtual std::vector<std::string> ids_for_alias(std::string_view alias) const = 0;
};

// The age policy: a database older than `max_age_seconds` gets a warning —
// never a failed scan, since a scan must work with no network at all.
inline constexpr long long kDefaultMaxAgeSeconds = 7LL * 24 * 3600;
// "7d", "36h", "90m", "2w", "3600s" or plain seconds; nullopt when malformed or negative.
std::optional<long long> parse_max_age(std::string_view text);
// The configured maximum age: KGUARD_DB_MAX_AGE when set and valid, else 7 days.
// `error` says when the variable is set but malformed (the default is used then).
long long configured_max_age(std::string* error = nullptr);
// The seconds since `s.built_at` at `now` (Unix seconds); -1 when unknown.
long long db_age_seconds(const DbStatus& s, long long now);
// "vulnerability database /p is 9 days old (built 2026-…; older than 7 days): …"
// when older than max_age, or its build time cannot be read; nullopt otherwise.
std::optional<std::string> db_age_warning(const DbStatus& s, long long max_age_seconds, long long now);
// "3 days", "5 hours", "12 minutes".
std::string format_age(long long seconds);

// The default database path: $XDG_CACHE_HOME/kguard/vuln.db, else ~/.cache/kguard/vuln.db.
std::string default_db_path();

}  // namespace kg::vuln

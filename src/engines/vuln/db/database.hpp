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
  std::string built_at;  // RFC 3339 UTC
};

struct DbStatus {
  std::string path;
  int schema = 0;
  std::string built_at;  // RFC 3339 UTC, the last build or import
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
};

// The default database path: $XDG_CACHE_HOME/kguard/vuln.db, else ~/.cache/kguard/vuln.db.
std::string default_db_path();

}  // namespace kg::vuln

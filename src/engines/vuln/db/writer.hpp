// Writing the vulnerability database. Every feed builder (db/feeds) hands its
// normalised records to a FeedSink; the DbWriter is the one that stores them.
// A build writes a new file beside the target in one transaction and renames
// it over the target on commit: a build that fails leaves the old database in
// place, and building again from the same inputs gives the same contents.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engines/vuln/db/records.hpp"

struct sqlite3;

namespace kg::vuln {

// Where builders put what they read. Problems in one input are reported with
// error() ("file: field: what is wrong") and the rest is still imported.
class FeedSink {
 public:
  virtual ~FeedSink() = default;
  virtual void affected(AffectedRecord r) = 0;
  virtual void advisory(Advisory a) = 0;
  virtual void error(std::string message) = 0;
};

// A sink that keeps everything in memory: tests and fuzz targets.
class CollectSink : public FeedSink {
 public:
  void affected(AffectedRecord r) override { records.push_back(std::move(r)); }
  void advisory(Advisory a) override { advisories.push_back(std::move(a)); }
  void error(std::string message) override { errors.push_back(std::move(message)); }
  std::vector<AffectedRecord> records;
  std::vector<Advisory> advisories;
  std::vector<std::string> errors;
};

class DbWriter : public FeedSink {
 public:
  // A new database that will replace `path` on commit (written first to
  // `path`.tmp-PID in the same folder, so the rename is atomic).
  static std::unique_ptr<DbWriter> create(const std::string& path, std::string* error);
  ~DbWriter() override;  // without commit: rolled back, the temporary file removed
  DbWriter(const DbWriter&) = delete;
  DbWriter& operator=(const DbWriter&) = delete;

  // Records between begin_feed and end_feed are counted for that feed (`kguard db status`).
  void begin_feed(std::string name, std::string origin);
  void end_feed();

  // Same (ns, package, vuln_id, feed) twice: the ranges and versions are merged.
  void affected(AffectedRecord r) override;
  // Same id twice: aliases and references are merged, empty fields filled.
  void advisory(Advisory a) override;
  void error(std::string message) override;

  // Enrichment: marks the advisory `cve` and every advisory that has it as an
  // alias (an advisory with only the id is made when none has). Returns advisories touched.
  std::uint64_t set_kev(std::string_view cve);
  std::uint64_t set_epss(std::string_view cve, double epss);

  // Writes meta (schema, built_at, version, counts), commits, renames over the target.
  bool commit(std::string* error);

  const std::vector<std::string>& errors() const { return errors_; }
  std::uint64_t affected_count() const { return affected_total_; }
  std::uint64_t advisory_count() const { return advisory_total_; }

 private:
  DbWriter() = default;
  bool exec(const char* sql, std::string* error);
  bool write_meta(std::string* error);
  void fail(const std::string& message);

  struct Statements;
  sqlite3* db_ = nullptr;
  std::unique_ptr<Statements> st_;
  std::string path_, tmp_path_, built_at_;
  bool committed_ = false;
  std::vector<std::string> errors_;
  std::string sql_error_;  // the first SQLite failure: commit refuses then
  struct Feed {
    std::string name, origin;
    std::uint64_t advisories = 0, affected = 0, errors = 0;
  };
  std::vector<Feed> feeds_;
  bool in_feed_ = false;
  std::uint64_t affected_total_ = 0, advisory_total_ = 0;
};

// The version kguard writes into meta.kguard_version.
std::string_view writer_version();

}  // namespace kg::vuln

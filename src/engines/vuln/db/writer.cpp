#include "engines/vuln/db/writer.hpp"

#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <system_error>

#include "core/clock.hpp"
#include "engines/vuln/db/codec.hpp"

#ifndef KGUARD_VERSION
#define KGUARD_VERSION "0.0.0-dev"
#endif

namespace kg::vuln {

std::string_view writer_version() { return KGUARD_VERSION; }

namespace {

// The schema (docs/vulnerabilities.md "Database"). affected's primary key
// starts with (ns, package): the one lookup a scan makes is a range of that
// index, so a scan reads a few pages whatever the size of the file. advisory
// keeps a rowid: its rows (summary, references) are too large for a
// WITHOUT ROWID tree, whose lookups then cost three times as much.
constexpr const char* kSchema = R"sql(
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE feeds(name TEXT NOT NULL, origin TEXT NOT NULL, advisories INTEGER NOT NULL,
                   affected INTEGER NOT NULL, errors INTEGER NOT NULL, built_at TEXT NOT NULL,
                   PRIMARY KEY(name, origin)) WITHOUT ROWID;
CREATE TABLE advisory(id TEXT PRIMARY KEY, aliases BLOB, summary TEXT, severity TEXT,
                      cvss_v3 TEXT, cvss_v4 TEXT, published TEXT, modified TEXT, refs BLOB,
                      kev INTEGER NOT NULL DEFAULT 0, epss REAL NOT NULL DEFAULT -1, feed TEXT);
CREATE TABLE alias(alias TEXT NOT NULL, id TEXT NOT NULL, PRIMARY KEY(alias, id)) WITHOUT ROWID;
CREATE TABLE affected(ns TEXT NOT NULL, package TEXT NOT NULL, vuln_id TEXT NOT NULL, feed TEXT NOT NULL,
                      scheme TEXT NOT NULL, status TEXT NOT NULL, ranges BLOB, versions BLOB, severity TEXT,
                      PRIMARY KEY(ns, package, vuln_id, feed)) WITHOUT ROWID;
)sql";

// A prepared statement, finalized with its owner.
class Stmt {
 public:
  Stmt() = default;
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  ~Stmt() { sqlite3_finalize(s_); }
  bool prepare(sqlite3* db, const char* sql) {
    return sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s_, nullptr) == SQLITE_OK;
  }
  Stmt& text(int i, std::string_view v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& blob(int i, std::string_view v) {
    sqlite3_bind_blob(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& integer(int i, std::int64_t v) {
    sqlite3_bind_int64(s_, i, v);
    return *this;
  }
  Stmt& real(int i, double v) {
    sqlite3_bind_double(s_, i, v);
    return *this;
  }
  int step() { return sqlite3_step(s_); }
  void reset() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
  std::string_view col_text(int i) const {
    const auto* p = sqlite3_column_text(s_, i);
    return p ? std::string_view(reinterpret_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(s_, i)))
             : std::string_view{};
  }
  std::string_view col_blob(int i) const {
    const void* p = sqlite3_column_blob(s_, i);
    return p ? std::string_view(static_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(s_, i)))
             : std::string_view{};
  }
  std::int64_t col_int(int i) const { return sqlite3_column_int64(s_, i); }
  double col_real(int i) const { return sqlite3_column_double(s_, i); }

 private:
  sqlite3_stmt* s_ = nullptr;
};

void add_unique(std::vector<std::string>& to, const std::vector<std::string>& from, std::string_view except = {}) {
  for (const std::string& s : from)
    if (!s.empty() && s != except && std::find(to.begin(), to.end(), s) == to.end()) to.push_back(s);
}

bool same_range(const AffectedRange& a, const AffectedRange& b) {
  if (a.type != b.type || a.events.size() != b.events.size()) return false;
  for (std::size_t i = 0; i < a.events.size(); ++i)
    if (a.events[i].kind != b.events[i].kind || a.events[i].version != b.events[i].version) return false;
  return true;
}

void fill(std::string& to, const std::string& from) {
  if (to.empty()) to = from;
}

}  // namespace

struct DbWriter::Statements {
  Stmt ins_aff, sel_aff, upd_aff, ins_adv, sel_adv, upd_adv, ins_alias, kev_id, kev_alias, epss_id, epss_alias,
      bare_advisory;
};

std::unique_ptr<DbWriter> DbWriter::create(const std::string& path, std::string* error) {
  std::unique_ptr<DbWriter> w(new DbWriter());
  w->path_ = path;
  w->tmp_path_ = path + ".tmp-" + std::to_string(::getpid());
  w->built_at_ = utc_now_rfc3339();
  std::error_code ec;
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  std::filesystem::remove(w->tmp_path_, ec);
  if (sqlite3_open_v2(w->tmp_path_.c_str(), &w->db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                      nullptr) != SQLITE_OK) {
    if (error) *error = w->tmp_path_ + ": cannot create the database: " + sqlite3_errmsg(w->db_);
    return nullptr;
  }
  // No journal while building: the file is not the database until the rename.
  // synchronous=NORMAL: the one commit syncs the file, so the rename finds its pages on disk.
  if (!w->exec("PRAGMA journal_mode=OFF; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-65536;", error) ||
      !w->exec("BEGIN", error) || !w->exec(kSchema, error))
    return nullptr;
  w->st_ = std::make_unique<Statements>();
  Statements& s = *w->st_;
  const bool ok =
      s.ins_aff.prepare(w->db_,
                        "INSERT OR IGNORE INTO affected(ns,package,vuln_id,feed,scheme,status,ranges,versions,severity)"
                        " VALUES(?,?,?,?,?,?,?,?,?)") &&
      s.sel_aff.prepare(w->db_,
                        "SELECT status,ranges,versions,severity FROM affected"
                        " WHERE ns=? AND package=? AND vuln_id=? AND feed=?") &&
      s.upd_aff.prepare(w->db_,
                        "UPDATE affected SET status=?,ranges=?,versions=?,severity=?"
                        " WHERE ns=? AND package=? AND vuln_id=? AND feed=?") &&
      s.ins_adv.prepare(w->db_,
                        "INSERT OR IGNORE INTO advisory(id,aliases,summary,severity,cvss_v3,cvss_v4,published,"
                        "modified,refs,kev,epss,feed) VALUES(?,?,?,?,?,?,?,?,?,?,?,?)") &&
      s.sel_adv.prepare(w->db_,
                        "SELECT aliases,summary,severity,cvss_v3,cvss_v4,published,modified,refs,kev,epss,feed"
                        " FROM advisory WHERE id=?") &&
      s.upd_adv.prepare(w->db_,
                        "UPDATE advisory SET aliases=?,summary=?,severity=?,cvss_v3=?,cvss_v4=?,published=?,"
                        "modified=?,refs=?,kev=?,epss=?,feed=? WHERE id=?") &&
      s.ins_alias.prepare(w->db_, "INSERT OR IGNORE INTO alias(alias,id) VALUES(?,?)") &&
      s.kev_id.prepare(w->db_, "UPDATE advisory SET kev=1 WHERE id=?") &&
      s.kev_alias.prepare(w->db_, "UPDATE advisory SET kev=1 WHERE id IN (SELECT id FROM alias WHERE alias=?)") &&
      s.epss_id.prepare(w->db_, "UPDATE advisory SET epss=?2 WHERE id=?1") &&
      s.epss_alias.prepare(w->db_, "UPDATE advisory SET epss=?2 WHERE id IN (SELECT id FROM alias WHERE alias=?1)") &&
      s.bare_advisory.prepare(w->db_, "INSERT OR IGNORE INTO advisory(id,kev,epss,feed) VALUES(?,?,?,?)");
  if (!ok) {
    if (error) *error = w->tmp_path_ + ": " + sqlite3_errmsg(w->db_);
    return nullptr;
  }
  return w;
}

DbWriter::~DbWriter() {
  st_.reset();
  if (db_) sqlite3_close(db_);
  if (!committed_) {
    std::error_code ec;
    std::filesystem::remove(tmp_path_, ec);
  }
}

bool DbWriter::exec(const char* sql, std::string* error) {
  char* msg = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &msg) == SQLITE_OK) return true;
  if (error) *error = tmp_path_ + ": " + (msg ? msg : "SQLite error");
  sqlite3_free(msg);
  return false;
}

void DbWriter::fail(const std::string& message) {
  if (sql_error_.empty()) sql_error_ = tmp_path_ + ": " + message + ": " + sqlite3_errmsg(db_);
}

void DbWriter::begin_feed(std::string name, std::string origin) {
  feeds_.push_back(Feed{std::move(name), std::move(origin)});
  in_feed_ = true;
}

void DbWriter::end_feed() { in_feed_ = false; }

void DbWriter::error(std::string message) {
  if (in_feed_) ++feeds_.back().errors;
  errors_.push_back(std::move(message));
}

void DbWriter::affected(AffectedRecord r) {
  if (!sql_error_.empty()) return;
  Statements& s = *st_;
  const std::string ranges = pack_ranges(r.ranges);
  const std::string versions = pack_strings(r.versions);
  s.ins_aff.text(1, r.ns).text(2, r.package).text(3, r.vuln_id).text(4, r.feed).text(5, to_string(r.scheme))
      .text(6, to_string(r.status)).blob(7, ranges).blob(8, versions).text(9, r.severity);
  const int rc = s.ins_aff.step();
  s.ins_aff.reset();
  if (rc != SQLITE_DONE) return fail("storing " + r.vuln_id);
  if (sqlite3_changes(db_) == 1) {
    ++affected_total_;
    if (in_feed_) ++feeds_.back().affected;
    return;
  }
  // The same package twice in one record (OSV allows several `affected`
  // entries per package): one row with the ranges of both.
  s.sel_aff.text(1, r.ns).text(2, r.package).text(3, r.vuln_id).text(4, r.feed);
  if (s.sel_aff.step() != SQLITE_ROW) {
    s.sel_aff.reset();
    return fail("reading " + r.vuln_id);
  }
  AffectedStatus status = AffectedStatus::Affected;
  parse_status(s.sel_aff.col_text(0), status);
  std::vector<AffectedRange> old_ranges;
  std::vector<std::string> old_versions;
  unpack_ranges(s.sel_aff.col_blob(1), old_ranges);
  unpack_strings(s.sel_aff.col_blob(2), old_versions);
  std::string severity(s.sel_aff.col_text(3));
  s.sel_aff.reset();
  for (AffectedRange& range : r.ranges) {
    const bool seen = std::any_of(old_ranges.begin(), old_ranges.end(),
                                  [&](const AffectedRange& o) { return same_range(o, range); });
    if (!seen) old_ranges.push_back(std::move(range));
  }
  add_unique(old_versions, r.versions);
  // A record with ranges decides over one that only says "unfixed".
  if (status != AffectedStatus::Affected && r.status == AffectedStatus::Affected) status = r.status;
  fill(severity, r.severity);
  s.upd_aff.text(1, to_string(status)).blob(2, pack_ranges(old_ranges)).blob(3, pack_strings(old_versions))
      .text(4, severity).text(5, r.ns).text(6, r.package).text(7, r.vuln_id).text(8, r.feed);
  const int urc = s.upd_aff.step();
  s.upd_aff.reset();
  if (urc != SQLITE_DONE) fail("merging " + r.vuln_id);
}

void DbWriter::advisory(Advisory a) {
  if (!sql_error_.empty() || a.id.empty()) return;
  Statements& s = *st_;
  std::erase(a.aliases, a.id);
  for (const std::string& alias : a.aliases) {
    s.ins_alias.text(1, alias).text(2, a.id);
    const int rc = s.ins_alias.step();
    s.ins_alias.reset();
    if (rc != SQLITE_DONE) return fail("storing the aliases of " + a.id);
  }
  s.ins_adv.text(1, a.id).blob(2, pack_strings(a.aliases)).text(3, a.summary).text(4, a.severity)
      .text(5, a.cvss_v3).text(6, a.cvss_v4).text(7, a.published).text(8, a.modified)
      .blob(9, pack_strings(a.references)).integer(10, a.kev ? 1 : 0).real(11, a.epss).text(12, a.feed);
  const int rc = s.ins_adv.step();
  s.ins_adv.reset();
  if (rc != SQLITE_DONE) return fail("storing " + a.id);
  if (sqlite3_changes(db_) == 1) {
    ++advisory_total_;
    if (in_feed_) ++feeds_.back().advisories;
    return;
  }
  // Known from another feed (a CVE both the tracker and OSV describe): merge.
  s.sel_adv.text(1, a.id);
  if (s.sel_adv.step() != SQLITE_ROW) {
    s.sel_adv.reset();
    return fail("reading " + a.id);
  }
  Advisory old;
  unpack_strings(s.sel_adv.col_blob(0), old.aliases);
  old.summary = s.sel_adv.col_text(1);
  old.severity = s.sel_adv.col_text(2);
  old.cvss_v3 = s.sel_adv.col_text(3);
  old.cvss_v4 = s.sel_adv.col_text(4);
  old.published = s.sel_adv.col_text(5);
  old.modified = s.sel_adv.col_text(6);
  unpack_strings(s.sel_adv.col_blob(7), old.references);
  old.kev = s.sel_adv.col_int(8) != 0;
  old.epss = s.sel_adv.col_real(9);
  old.feed = s.sel_adv.col_text(10);
  s.sel_adv.reset();
  add_unique(old.aliases, a.aliases, a.id);
  add_unique(old.references, a.references);
  fill(old.summary, a.summary);
  fill(old.severity, a.severity);
  fill(old.cvss_v3, a.cvss_v3);
  fill(old.cvss_v4, a.cvss_v4);
  fill(old.published, a.published);
  fill(old.modified, a.modified);
  old.kev = old.kev || a.kev;
  old.epss = std::max(old.epss, a.epss);
  if (old.feed.empty()) {
    old.feed = a.feed;
  } else if (!a.feed.empty() && ("," + old.feed + ",").find("," + a.feed + ",") == std::string::npos) {
    old.feed += "," + a.feed;
  }
  s.upd_adv.blob(1, pack_strings(old.aliases)).text(2, old.summary).text(3, old.severity).text(4, old.cvss_v3)
      .text(5, old.cvss_v4).text(6, old.published).text(7, old.modified).blob(8, pack_strings(old.references))
      .integer(9, old.kev ? 1 : 0).real(10, old.epss).text(11, old.feed).text(12, a.id);
  const int urc = s.upd_adv.step();
  s.upd_adv.reset();
  if (urc != SQLITE_DONE) fail("merging " + a.id);
}

std::uint64_t DbWriter::set_kev(std::string_view cve) {
  if (!sql_error_.empty()) return 0;
  Statements& s = *st_;
  std::uint64_t touched = 0;
  for (Stmt* st : {&s.kev_id, &s.kev_alias}) {
    st->text(1, cve);
    if (st->step() != SQLITE_DONE) fail("marking " + std::string(cve));
    st->reset();
    touched += static_cast<std::uint64_t>(sqlite3_changes(db_));
  }
  if (touched == 0) {  // no feed knows it (yet): keep the fact for a later match by id
    s.bare_advisory.text(1, cve).integer(2, 1).real(3, -1).text(4, "kev");
    if (s.bare_advisory.step() != SQLITE_DONE) fail("storing " + std::string(cve));
    s.bare_advisory.reset();
    touched = 1;
    ++advisory_total_;
  }
  return touched;
}

std::uint64_t DbWriter::set_epss(std::string_view cve, double epss) {
  if (!sql_error_.empty()) return 0;
  Statements& s = *st_;
  std::uint64_t touched = 0;
  for (Stmt* st : {&s.epss_id, &s.epss_alias}) {
    st->text(1, cve).real(2, epss);
    if (st->step() != SQLITE_DONE) fail("storing the EPSS of " + std::string(cve));
    st->reset();
    touched += static_cast<std::uint64_t>(sqlite3_changes(db_));
  }
  if (touched == 0) {
    s.bare_advisory.text(1, cve).integer(2, 0).real(3, epss).text(4, "epss");
    if (s.bare_advisory.step() != SQLITE_DONE) fail("storing " + std::string(cve));
    s.bare_advisory.reset();
    touched = 1;
    ++advisory_total_;
  }
  return touched;
}

bool DbWriter::write_meta(std::string* error) {
  Stmt meta, feed;
  if (!meta.prepare(db_, "INSERT OR REPLACE INTO meta(key,value) VALUES(?,?)") ||
      !feed.prepare(db_, "INSERT OR REPLACE INTO feeds(name,origin,advisories,affected,errors,built_at)"
                         " VALUES(?,?,?,?,?,?)")) {
    if (error) *error = tmp_path_ + ": " + sqlite3_errmsg(db_);
    return false;
  }
  const std::pair<std::string_view, std::string> rows[] = {
      {"kind", std::string(kDbKind)},
      {"schema", std::to_string(kSchemaVersion)},
      {"built_at", built_at_},
      {"kguard_version", std::string(writer_version())},
      {"advisories", std::to_string(advisory_total_)},
      {"affected", std::to_string(affected_total_)},
  };
  for (const auto& [k, v] : rows) {
    meta.text(1, k).text(2, v);
    if (meta.step() != SQLITE_DONE) {
      if (error) *error = tmp_path_ + ": " + sqlite3_errmsg(db_);
      return false;
    }
    meta.reset();
  }
  for (const Feed& f : feeds_) {
    feed.text(1, f.name).text(2, f.origin).integer(3, static_cast<std::int64_t>(f.advisories))
        .integer(4, static_cast<std::int64_t>(f.affected)).integer(5, static_cast<std::int64_t>(f.errors))
        .text(6, built_at_);
    if (feed.step() != SQLITE_DONE) {
      if (error) *error = tmp_path_ + ": " + sqlite3_errmsg(db_);
      return false;
    }
    feed.reset();
  }
  return true;
}

bool DbWriter::commit(std::string* error) {
  if (!sql_error_.empty()) {
    if (error) *error = sql_error_;
    return false;
  }
  st_.reset();
  if (!write_meta(error)) return false;
  if (!exec("COMMIT", error)) return false;
  // A rollback journal (not WAL): a read-only open of the file needs no -shm
  // or -wal beside it, which a read-only folder could not hold.
  if (!exec("PRAGMA journal_mode=DELETE", error)) return false;
  sqlite3_close(db_);
  db_ = nullptr;
  std::error_code ec;
  std::filesystem::rename(tmp_path_, path_, ec);
  if (ec) {
    if (error) *error = path_ + ": cannot replace the database: " + ec.message();
    return false;
  }
  committed_ = true;
  return true;
}

}  // namespace kg::vuln

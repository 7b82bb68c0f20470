// kguard db: the offline vulnerability database (docs/vulnerabilities.md
// "Database"): build it from feeds on disk, show its status and age, carry it
// into an air-gapped network as a bundle. Nothing here uses the network.
#include <ctime>
#include <iostream>
#include <sstream>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "core/json_writer.hpp"
#include "engines/vuln/db/bundle.hpp"
#include "engines/vuln/db/codec.hpp"
#include "engines/vuln/db/database.hpp"
#include "engines/vuln/db/feeds/feeds.hpp"
#include "engines/vuln/db/writer.hpp"

namespace kg::cli {
namespace {

constexpr const char* kHelp = R"(Usage: kguard db COMMAND [options]

The offline vulnerability database: one SQLite file (default
$XDG_CACHE_HOME/kguard/vuln.db, else ~/.cache/kguard/vuln.db), built from
feeds on disk; scans read it with no network at all.

Commands:
  build    build the database from feeds (any subset, each flag repeatable):
             --osv DIR|ZIP            OSV JSON records (a folder, recursive) or an all.zip
             --alpine-secdb DIR|FILE  Alpine secdb (v3.X/main.json, or the older YAML)
             --debian-tracker FILE|DIR  the tracker's JSON (/tracker/data/json) or a
                                      vuln-list-debian folder
             --vunnel DIR             Grype's vunnel results (provider/results/**.json)
             --kev FILE               CISA KEV catalog JSON (marks known exploited)
             --epss FILE              FIRST EPSS CSV (exploit probability)
           The database is rebuilt from exactly these inputs (a new file renamed
           over the old one when the build succeeds). A broken input is reported
           and the rest is imported; exit 1 when any input had errors.
  status   sources, record counts, build time and age
             -o, --output text|json   (default text)
             --max-age DURATION       warn when older (default 7d, or KGUARD_DB_MAX_AGE)
  export   --out FILE                 write a bundle (gzip tar: manifest.json with the
                                      SHA-256, then vuln.db) for an air-gapped network
  import   FILE                       verify a bundle and replace the database with it
  lookup   NAMESPACE PACKAGE          the records of one package, as a scan reads them
                                      (e.g. debian:12 openssl, alpine:3.19 musl, npm lodash)
             -o, --output text|json   (default text)

Options (every command):
  --db PATH                  the database file
  -h, --help                 this help
)";

int usage_error(const std::string& msg) {
  std::cerr << "kguard db: " << msg << "\n";
  return 2;
}

bool want_help(const std::vector<std::string>& args) {
  for (const std::string& a : args)
    if (a == "-h" || a == "--help") return true;
  return false;
}

int build(const std::vector<std::string>& args) {
  std::string db_path = vuln::default_db_path();
  struct Input {
    std::string kind, path;
  };
  std::vector<Input> inputs;
  for (std::size_t i = 0; i < args.size(); ++i) {
    ArgCursor a(args, i);
    std::string v;
    bool matched = false;
    for (const char* kind : {"--osv", "--alpine-secdb", "--debian-tracker", "--vunnel", "--kev", "--epss"}) {
      if (!a.is(kind)) continue;
      if (!a.value(v) || v.empty()) return usage_error(std::string(kind) + " needs a path");
      inputs.push_back({kind + 2, v});
      matched = true;
      break;
    }
    if (matched) continue;
    if (a.is("--db")) {
      if (!a.value(db_path) || db_path.empty()) return usage_error("--db needs a path");
      continue;
    }
    return usage_error("build: unknown argument '" + args[i] + "'");
  }
  if (inputs.empty())
    return usage_error("build needs at least one of --osv, --alpine-secdb, --debian-tracker, --vunnel, --kev, --epss");

  std::string error;
  auto w = vuln::DbWriter::create(db_path, &error);
  if (!w) {
    std::cerr << "kguard db build: " << error << "\n";
    return 2;
  }
  bool any_error = false;
  std::size_t shown = 0;
  auto report_errors = [&](std::size_t from) {
    const auto& errs = w->errors();
    for (std::size_t k = from; k < errs.size(); ++k) {
      any_error = true;
      if (shown++ < 50) std::cerr << "kguard db build: " << errs[k] << "\n";
    }
  };
  // Feeds first, enrichment after: KEV and EPSS mark the advisories the feeds made.
  for (int pass = 0; pass < 2; ++pass) {
    for (const Input& in : inputs) {
      const bool enrich = in.kind == "kev" || in.kind == "epss";
      if (enrich != (pass == 1)) continue;
      const std::size_t before = w->errors().size();
      w->begin_feed(in.kind, in.path);
      if (in.kind == "osv") vuln::build_osv(in.path, *w);
      else if (in.kind == "alpine-secdb") vuln::build_alpine_secdb(in.path, *w);
      else if (in.kind == "debian-tracker") vuln::build_debian_tracker(in.path, *w);
      else if (in.kind == "vunnel") vuln::build_vunnel(in.path, *w);
      else {
        std::uint64_t n = 0;
        std::string e;
        const bool ok = in.kind == "kev" ? vuln::apply_kev(in.path, *w, &n, &e) : vuln::apply_epss(in.path, *w, &n, &e);
        if (!ok) w->error(e);
      }
      w->end_feed();
      report_errors(before);
    }
  }
  if (shown > 50) std::cerr << "kguard db build: … and " << (shown - 50) << " more errors\n";
  const std::uint64_t advisories = w->advisory_count(), affected = w->affected_count();
  if (!w->commit(&error)) {
    std::cerr << "kguard db build: " << error << "\n";
    return 2;
  }
  std::cerr << "kguard db build: " << db_path << ": " << advisories << " advisories, " << affected
            << " affected package records\n";
  return any_error ? 1 : 0;
}

int status(const std::vector<std::string>& args) {
  std::string db_path = vuln::default_db_path(), format = "text";
  std::string age_error;
  long long max_age = vuln::configured_max_age(&age_error);
  for (std::size_t i = 0; i < args.size(); ++i) {
    ArgCursor a(args, i);
    std::string v;
    if (a.is("--db")) {
      if (!a.value(db_path) || db_path.empty()) return usage_error("--db needs a path");
    } else if (a.is("--output", "-o")) {
      if (!a.value(format) || (format != "text" && format != "json")) return usage_error("-o must be text or json");
    } else if (a.is("--max-age")) {
      if (!a.value(v)) return usage_error("--max-age needs a duration");
      auto d = vuln::parse_max_age(v);
      if (!d) return usage_error("--max-age: '" + v + "' is not a duration (7d, 36h, 90m, 3600s)");
      max_age = *d;
      age_error.clear();
    } else {
      return usage_error("status: unknown argument '" + args[i] + "'");
    }
  }
  if (!age_error.empty()) std::cerr << "kguard db status: warning: " << age_error << "\n";
  std::string error;
  auto db = vuln::VulnDatabase::open(db_path, &error);
  if (!db) {
    std::cerr << "kguard db status: " << error << "\n";
    return 1;
  }
  const vuln::DbStatus s = db->status();
  const long long now = static_cast<long long>(std::time(nullptr));
  const long long age = vuln::db_age_seconds(s, now);
  const auto warning = vuln::db_age_warning(s, max_age, now);
  if (format == "json") {
    JsonWriter w(std::cout);
    w.begin_object();
    w.field("path", s.path).field("schema", s.schema).field("built_at", s.built_at);
    w.field("kguard_version", s.kguard_version);
    w.key("age_seconds");
    if (age >= 0) w.value(static_cast<std::uint64_t>(age));
    else w.null();
    w.field("max_age_seconds", static_cast<std::uint64_t>(max_age)).field("stale", warning.has_value());
    w.field("advisories", s.advisories).field("affected", s.affected);
    w.key("feeds").begin_array();
    for (const vuln::FeedStatus& f : s.feeds) {
      w.begin_object();
      w.field("name", f.name).field("origin", f.origin).field("advisories", f.advisories);
      w.field("affected", f.affected).field("errors", f.errors).field("built_at", f.built_at);
      w.end_object();
    }
    w.end_array();
    w.end_object();
    w.flush();
    std::cout << "\n";
  } else {
    std::cout << "Database:   " << s.path << "\n"
              << "Schema:     " << s.schema << " (built by kguard " << s.kguard_version << ")\n"
              << "Built:      " << s.built_at << (age >= 0 ? " (" + vuln::format_age(age) + " ago)" : "") << "\n"
              << "Records:    " << s.advisories << " advisories, " << s.affected << " affected package records\n"
              << "Feeds:\n";
    for (const vuln::FeedStatus& f : s.feeds) {
      std::cout << "  " << f.name << "  " << f.origin << "  " << f.advisories << " advisories, " << f.affected
                << " affected";
      if (f.errors) std::cout << ", " << f.errors << " errors";
      std::cout << "\n";
    }
  }
  // Stale is a warning, never a failure: a scan with an old database still runs.
  if (warning) std::cerr << "kguard db status: warning: " << *warning << "\n";
  return 0;
}

int export_cmd(const std::vector<std::string>& args) {
  std::string db_path = vuln::default_db_path(), out;
  for (std::size_t i = 0; i < args.size(); ++i) {
    ArgCursor a(args, i);
    if (a.is("--db")) {
      if (!a.value(db_path) || db_path.empty()) return usage_error("--db needs a path");
    } else if (a.is("--out")) {
      if (!a.value(out) || out.empty()) return usage_error("--out needs a file");
    } else {
      return usage_error("export: unknown argument '" + args[i] + "'");
    }
  }
  if (out.empty()) return usage_error("export needs --out FILE");
  vuln::BundleManifest m;
  std::string error;
  if (!vuln::export_bundle(db_path, out, &m, &error)) {
    std::cerr << "kguard db export: " << error << "\n";
    return 1;
  }
  std::cerr << "kguard db export: " << out << ": vuln.db " << m.db_size << " bytes, sha256 " << m.db_sha256
            << ", built " << m.built_at << "\n";
  return 0;
}

int import_cmd(const std::vector<std::string>& args) {
  std::string db_path = vuln::default_db_path(), file;
  for (std::size_t i = 0; i < args.size(); ++i) {
    ArgCursor a(args, i);
    if (a.is("--db")) {
      if (!a.value(db_path) || db_path.empty()) return usage_error("--db needs a path");
    } else if (!args[i].empty() && args[i][0] == '-') {
      return usage_error("import: unknown argument '" + args[i] + "'");
    } else if (file.empty()) {
      file = args[i];
    } else {
      return usage_error("import takes one bundle");
    }
  }
  if (file.empty()) return usage_error("import needs a bundle FILE");
  vuln::BundleManifest m;
  std::string error, note;
  if (!vuln::import_bundle(file, db_path, &m, &error)) {
    std::cerr << "kguard db import: " << error << "\n";
    return 1;
  }
  vuln::verify_bundle_signature(m, &note, nullptr);
  std::cerr << "kguard db import: " << db_path << ": replaced with the bundle's database (built " << m.built_at
            << ", sha256 " << m.db_sha256 << "); " << note << "\n";
  return 0;
}

void range_text(std::ostream& out, const vuln::AffectedRecord& r) {
  bool first = true;
  for (const vuln::AffectedRange& range : r.ranges) {
    out << (first ? "" : "; ") << range.type << ":";
    first = false;
    for (const vuln::RangeEvent& e : range.events) {
      static constexpr const char* kNames[] = {"introduced", "fixed", "last_affected", "limit"};
      out << " " << kNames[static_cast<int>(e.kind)] << " " << e.version;
    }
  }
  if (!r.versions.empty()) {
    out << (first ? "" : "; ") << "versions:";
    for (const std::string& v : r.versions) out << " " << v;
  }
}

int lookup(const std::vector<std::string>& args) {
  std::string db_path = vuln::default_db_path(), format = "text";
  std::vector<std::string> pos;
  for (std::size_t i = 0; i < args.size(); ++i) {
    ArgCursor a(args, i);
    if (a.is("--db")) {
      if (!a.value(db_path) || db_path.empty()) return usage_error("--db needs a path");
    } else if (a.is("--output", "-o")) {
      if (!a.value(format) || (format != "text" && format != "json")) return usage_error("-o must be text or json");
    } else if (!args[i].empty() && args[i][0] == '-') {
      return usage_error("lookup: unknown argument '" + args[i] + "'");
    } else {
      pos.push_back(args[i]);
    }
  }
  if (pos.size() != 2) return usage_error("lookup needs NAMESPACE PACKAGE");
  std::string error;
  auto db = vuln::VulnDatabase::open(db_path, &error);
  if (!db) {
    std::cerr << "kguard db lookup: " << error << "\n";
    return 1;
  }
  std::vector<vuln::AffectedRecord> records;
  db->for_each_affected(pos[0], pos[1], [&](const vuln::AffectedRecord& r) { records.push_back(r); });
  if (format == "json") {
    JsonWriter w(std::cout);
    w.begin_array();
    for (const vuln::AffectedRecord& r : records) {
      w.begin_object();
      w.field("id", r.vuln_id).field("namespace", r.ns).field("package", r.package);
      w.field("scheme", vuln::to_string(r.scheme)).field("status", vuln::to_string(r.status));
      w.field("severity", r.severity).field("feed", r.feed);
      w.key("ranges").begin_array();
      for (const vuln::AffectedRange& range : r.ranges) {
        w.begin_object().field("type", range.type).key("events").begin_array();
        for (const vuln::RangeEvent& e : range.events) {
          static constexpr const char* kNames[] = {"introduced", "fixed", "last_affected", "limit"};
          w.begin_object().field(kNames[static_cast<int>(e.kind)], e.version).end_object();
        }
        w.end_array().end_object();
      }
      w.end_array();
      w.key("versions").begin_array();
      for (const std::string& v : r.versions) w.value(v);
      w.end_array();
      if (auto adv = db->advisory(r.vuln_id)) {
        w.key("advisory").begin_object();
        w.key("aliases").begin_array();
        for (const std::string& a : adv->aliases) w.value(a);
        w.end_array();
        w.field("summary", adv->summary).field("severity", adv->severity).field("cvss_v3", adv->cvss_v3);
        w.field("cvss_v4", adv->cvss_v4).field("kev", adv->kev).key("epss").value_exact(adv->epss);
        w.end_object();
      }
      w.end_object();
    }
    w.end_array();
    w.flush();
    std::cout << "\n";
    return 0;
  }
  if (records.empty()) std::cout << "no records for " << pos[1] << " in " << pos[0] << "\n";
  for (const vuln::AffectedRecord& r : records) {
    std::cout << r.vuln_id << "  " << vuln::to_string(r.status) << "  " << vuln::to_string(r.scheme) << "  ";
    range_text(std::cout, r);
    if (!r.severity.empty()) std::cout << "  severity " << r.severity;
    std::cout << "  [" << r.feed << "]\n";
  }
  return 0;
}

}  // namespace

int db_command(const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "-h" || args[0] == "--help") {
    std::cout << kHelp;
    return args.empty() ? 2 : 0;
  }
  const std::string sub = args[0];
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  if (want_help(rest)) {
    std::cout << kHelp;
    return 0;
  }
  if (sub == "build") return build(rest);
  if (sub == "status") return status(rest);
  if (sub == "export") return export_cmd(rest);
  if (sub == "import") return import_cmd(rest);
  if (sub == "lookup") return lookup(rest);
  return usage_error("unknown command '" + sub + "' (build, status, export, import, lookup)");
}

}  // namespace kg::cli

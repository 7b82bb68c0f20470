// The feed builders: each reads one upstream format and hands normalised
// AffectedRecords and Advisories to a FeedSink (records.hpp has the namespace
// and package conventions). A broken input is reported through the sink as
// "file: field: what" and the rest of the feed is still imported. The
// *_text/_node entry points take bytes, so tests and fuzz targets reach the
// parsers without files.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/document.hpp"
#include "engines/vuln/db/writer.hpp"

namespace kg::vuln {

// ---- OSV (https://ossf.github.io/osv-schema/) ----
// One OSV JSON record. `name` is where it came from (for errors); `feed` is
// stored on every record ("osv", or "vunnel:<provider>" for vunnel's OSV-shaped providers).
void parse_osv_text(std::string_view name, std::string_view text, std::string_view feed, FeedSink& sink);
void parse_osv_node(std::string_view name, const Node* root, std::string_view feed, FeedSink& sink);
// A folder of *.json (recursive) or an all.zip; false when `path` cannot be read at all.
bool build_osv(const std::string& path, FeedSink& sink);
// "Debian:12" → ("debian:12", Dpkg); "Alpine:v3.19" → ("alpine:3.19", Apk); "PyPI" → ("pypi", Pep440)…
// false for ecosystems kguard does not match (their records are skipped).
bool osv_namespace(std::string_view ecosystem, std::string& ns, VersionScheme& scheme);
// PEP 503: lower case, runs of '-', '_' and '.' as one '-'.
std::string pep503_name(std::string_view name);

// ---- Alpine secdb (JSON, secdb.alpinelinux.org; or the older YAML) ----
void parse_secdb_text(std::string_view name, std::string_view text, bool yaml, FeedSink& sink);
// A file, or a folder of v3.X/{main,community}.{json,yaml} (recursive).
bool build_alpine_secdb(const std::string& path, FeedSink& sink);

// ---- Debian security tracker ----
// The tracker's JSON API (security-tracker.debian.org/tracker/data/json).
void parse_debian_tracker_json_text(std::string_view name, std::string_view text, FeedSink& sink);
// A JSON file (the API form) or a vuln-list-debian folder (CVE/, DLA/, DSA/,
// distributions.json, source/, updates-source/).
bool build_debian_tracker(const std::string& path, FeedSink& sink);
// Debian codename → the release's major version ("bookworm" → "12", "sid" → "unstable").
std::string debian_release(std::string_view codename);

// ---- Grype's vunnel results ----
// One result file ({identifier, item, schema}): an OS record (item.Vulnerability),
// an OSV-shaped record (item.id + item.affected), or NVD (advisory data only).
void parse_vunnel_text(std::string_view name, std::string_view text, std::string_view provider, FeedSink& sink);
// A vunnel workspace (provider/results/**.json) or a folder of results.
bool build_vunnel(const std::string& path, FeedSink& sink);

// ---- Enrichment ----
// CISA KEV JSON (vulnerabilities[].cveID) and FIRST EPSS CSV (cve,epss,percentile).
bool apply_kev(const std::string& path, DbWriter& db, std::uint64_t* count, std::string* error);
bool apply_epss(const std::string& path, DbWriter& db, std::uint64_t* count, std::string* error);
// The same over bytes (fuzzing, tests): each (id) or (id, epss) handed to fn.
bool parse_kev_text(std::string_view name, std::string_view text, const std::function<void(std::string_view)>& fn,
                    std::string* error);
bool parse_epss_text(std::string_view name, std::string_view text,
                     const std::function<void(std::string_view, double)>& fn, std::string* error);

// ---- shared helpers (feeds/common.cpp) ----
namespace feed {
// A parsed JSON or YAML input: the tree lives as long as this.
struct Parsed {
  SourceFile file;
  const Node* root = nullptr;
  std::string error;  // "file:line:column: message" when root is null
};
// Parses the first document of `text` (JSON, or YAML when `yaml`).
void parse(Parsed& out, std::string_view name, std::string_view text, bool yaml);
std::string text(const Node* n);  // a scalar's text, "" otherwise
// Files under `path` (itself when a file) whose names end with one of `exts`, sorted.
std::vector<std::string> list_files(const std::string& path, std::initializer_list<std::string_view> exts,
                                    std::string* error);
bool read(const std::string& path, std::string& out, std::string* error);
// "CVE-2021-1234 TALOS-2019-0844" → the first word; the others into `more`.
std::string first_word(std::string_view s, std::vector<std::string>* more = nullptr);
}  // namespace feed

}  // namespace kg::vuln

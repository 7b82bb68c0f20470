// The vulnerability database: each feed builder on the shared corpora (and on
// small inputs in each upstream format where the corpora hold none), the
// Debian tracker's expected contents from trivy-db's own test
// (pkg/vulnsrc/debian/debian_test.go), the storage round trip through the
// SQLite writer and the read-only reader, the zip reader and the bundle.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "engines/vuln/db/bundle.hpp"
#include "engines/vuln/db/codec.hpp"
#include "engines/vuln/db/database.hpp"
#include "engines/vuln/db/feeds/feeds.hpp"
#include "engines/vuln/db/feeds/zip.hpp"
#include "engines/vuln/db/writer.hpp"

namespace kg::vuln {
namespace {

namespace fs = std::filesystem;

const fs::path kSupply = fs::path(KGUARD_CORPORA_DIR) / "supply-chain";
const fs::path kTrackerData = kSupply / "debian-tracker/aquasecurity/trivy-db/pkg/vulnsrc/debian/testdata";

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "kguard-vulndb-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

std::string fixed_of(const AffectedRecord& r) {
  for (const AffectedRange& range : r.ranges)
    for (const RangeEvent& e : range.events)
      if (e.kind == RangeEvent::Kind::Fixed) return e.version;
  return {};
}

std::vector<AffectedRecord> lookup(const VulnDatabase& db, std::string_view ns, std::string_view pkg,
                                   std::string_view id = {}) {
  std::vector<AffectedRecord> out;
  db.for_each_affected(ns, pkg, [&](const AffectedRecord& r) {
    if (id.empty() || r.vuln_id == id) out.push_back(r);
  });
  return out;
}

std::unique_ptr<VulnDatabase> build(const fs::path& db_path, const std::function<void(DbWriter&)>& fill,
                                    std::vector<std::string>* errors = nullptr) {
  std::string error;
  auto w = DbWriter::create(db_path.string(), &error);
  EXPECT_TRUE(w) << error;
  if (!w) return nullptr;
  fill(*w);
  if (errors) *errors = w->errors();
  EXPECT_TRUE(w->commit(&error)) << error;
  auto db = VulnDatabase::open(db_path.string(), &error);
  EXPECT_TRUE(db) << error;
  return db;
}

bool any_contains(const std::vector<std::string>& v, std::string_view a, std::string_view b = {}) {
  return std::any_of(v.begin(), v.end(), [&](const std::string& s) {
    return s.find(a) != std::string::npos && s.find(b) != std::string::npos;
  });
}

// ---------------------------------------------------------------- codec

TEST(VulnDbCodec, RangesAndVersionsRoundTripAnyBytes) {
  std::vector<AffectedRange> ranges{
      {"ECOSYSTEM", {{RangeEvent::Kind::Introduced, "0"}, {RangeEvent::Kind::Fixed, "1:2.3-4+deb12u1"}}},
      {"SEMVER", {{RangeEvent::Kind::Introduced, "1.0.0"}, {RangeEvent::Kind::LastAffected, std::string("a\0\n\xff", 4)},
                  {RangeEvent::Kind::Limit, "9"}}}};
  std::vector<AffectedRange> back;
  ASSERT_TRUE(unpack_ranges(pack_ranges(ranges), back));
  ASSERT_EQ(back.size(), 2U);
  EXPECT_EQ(back[1].events[1].version, std::string("a\0\n\xff", 4));
  EXPECT_EQ(back[1].events[2].kind, RangeEvent::Kind::Limit);
  const std::string packed = pack_ranges(ranges);
  // Every truncation is refused, never read past.
  for (std::size_t n = 1; n < packed.size(); ++n) EXPECT_FALSE(unpack_ranges(packed.substr(0, n), back)) << n;
  std::vector<std::string> vs;
  ASSERT_TRUE(unpack_strings(pack_strings({"1.0", "", "2.0"}), vs));
  EXPECT_EQ(vs, (std::vector<std::string>{"1.0", "", "2.0"}));
}

// ---------------------------------------------------------------- OSV

TEST(VulnDbOsv, EcosystemsToNamespaces) {
  struct Case {
    const char* eco;
    const char* ns;
    VersionScheme scheme;
  };
  for (const Case& c : {Case{"Debian:12", "debian:12", VersionScheme::Dpkg},
                        Case{"Alpine:v3.19", "alpine:3.19", VersionScheme::Apk},
                        Case{"Ubuntu:22.04:LTS", "ubuntu:22.04", VersionScheme::Dpkg},
                        Case{"Ubuntu:Pro:18.04:LTS", "ubuntu:18.04", VersionScheme::Dpkg},
                        Case{"npm", "npm", VersionScheme::Semver}, Case{"PyPI", "pypi", VersionScheme::Pep440},
                        Case{"Go", "go", VersionScheme::Go}, Case{"Maven", "maven", VersionScheme::Maven},
                        Case{"RubyGems", "rubygems", VersionScheme::RubyGems},
                        Case{"crates.io", "crates.io", VersionScheme::Semver},
                        Case{"NuGet", "nuget", VersionScheme::Semver},
                        Case{"Root:Debian:12", "debian:12", VersionScheme::Dpkg},
                        Case{"Chainguard", "chainguard:rolling", VersionScheme::Apk}}) {
    std::string ns;
    VersionScheme scheme{};
    ASSERT_TRUE(osv_namespace(c.eco, ns, scheme)) << c.eco;
    EXPECT_EQ(ns, c.ns) << c.eco;
    EXPECT_EQ(scheme, c.scheme) << c.eco;
  }
  std::string ns;
  VersionScheme scheme{};
  EXPECT_FALSE(osv_namespace("Hackage", ns, scheme));
  EXPECT_FALSE(osv_namespace("Debian", ns, scheme));  // no release: nothing to match an image against
  EXPECT_EQ(pep503_name("Foo.Bar__baz-Qux"), "foo-bar-baz-qux");
}

constexpr std::string_view kOsvRecord = R"({
  "schema_version": "1.6.0",
  "id": "GHSA-xxxx-yyyy-zzzz",
  "modified": "2024-02-01T00:00:00Z",
  "published": "2024-01-01T00:00:00Z",
  "aliases": ["CVE-2024-0001"],
  "summary": "Thing in Foo",
  "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"},
               {"type": "CVSS_V4", "score": "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"}],
  "affected": [
    {"package": {"ecosystem": "PyPI", "name": "Foo_Bar"},
     "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.2.3"}]},
                {"type": "GIT", "repo": "https://x", "events": [{"introduced": "abc"}]}],
     "versions": ["1.0", "1.1"],
     "ecosystem_specific": {"severity": "HIGH"}},
    {"package": {"ecosystem": "PyPI", "name": "foo-bar"},
     "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "2.0"}, {"last_affected": "2.1"}]}]},
    {"package": {"ecosystem": "Hackage", "name": "h"}, "versions": ["1"]},
    {"package": {"ecosystem": "npm", "name": "left"},
     "ranges": [{"type": "GIT", "repo": "https://x", "events": [{"introduced": "0"}]}]}
  ],
  "database_specific": {"severity": "CRITICAL"},
  "references": [{"type": "ADVISORY", "url": "https://example.com/a"}]
})";

TEST(VulnDbOsv, RecordIntoRecordsAndAdvisory) {
  CollectSink sink;
  parse_osv_text("rec.json", kOsvRecord, "osv", sink);
  EXPECT_TRUE(sink.errors.empty()) << sink.errors.front();
  // Hackage is not matched; npm had only a GIT range: nothing to place a version in.
  ASSERT_EQ(sink.records.size(), 2U);
  const AffectedRecord& r = sink.records[0];
  EXPECT_EQ(r.ns, "pypi");
  EXPECT_EQ(r.package, "foo-bar");  // PEP 503
  EXPECT_EQ(r.scheme, VersionScheme::Pep440);
  ASSERT_EQ(r.ranges.size(), 1U);  // GIT skipped
  EXPECT_EQ(fixed_of(r), "1.2.3");
  EXPECT_EQ(r.versions, (std::vector<std::string>{"1.0", "1.1"}));
  EXPECT_EQ(r.severity, "HIGH");
  ASSERT_EQ(sink.advisories.size(), 1U);
  const Advisory& a = sink.advisories[0];
  EXPECT_EQ(a.aliases, std::vector<std::string>{"CVE-2024-0001"});
  EXPECT_EQ(a.severity, "CRITICAL");
  EXPECT_EQ(a.cvss_v3.rfind("CVSS:3.1/", 0), 0U);
  EXPECT_EQ(a.cvss_v4.rfind("CVSS:4.0/", 0), 0U);
  EXPECT_EQ(a.summary, "Thing in Foo");
  EXPECT_EQ(a.references, std::vector<std::string>{"https://example.com/a"});
}

TEST(VulnDbOsv, WithdrawnSkippedBrokenReported) {
  CollectSink sink;
  parse_osv_text("w.json", R"({"id":"X-1","withdrawn":"2024-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"npm","name":"a"},"versions":["1"]}]})", "osv", sink);
  EXPECT_TRUE(sink.records.empty());
  EXPECT_TRUE(sink.advisories.empty());
  parse_osv_text("bad.json", "{\"id\": ", "osv", sink);
  parse_osv_text("noid.json", R"({"affected": []})", "osv", sink);
  parse_osv_text("noev.json", R"({"id":"X-2","affected":[{"package":{"ecosystem":"npm","name":"a"},"ranges":[{"type":"SEMVER","events":[{"introduced":""}]}]}]})", "osv", sink);
  ASSERT_EQ(sink.errors.size(), 3U);
  EXPECT_TRUE(any_contains(sink.errors, "bad.json:"));
  EXPECT_TRUE(any_contains(sink.errors, "noid.json", "id: missing"));
  EXPECT_TRUE(any_contains(sink.errors, "noev.json", "affected[0].ranges[0].events"));
}

// The OSV-shaped vunnel providers in the corpora are real OSV records.
TEST(VulnDbOsv, ChainguardRecordFromCorpus) {
  CollectSink sink;
  ASSERT_TRUE(build_vunnel((kSupply / "grype-fixtures/anchore/grype/grype/matcher/apk/testdata/chainguard-rolling").string(), sink));
  EXPECT_TRUE(sink.errors.empty());
  const auto it = std::find_if(sink.records.begin(), sink.records.end(),
                               [](const AffectedRecord& r) { return r.package == "langfuse-3-worker"; });
  ASSERT_NE(it, sink.records.end());
  EXPECT_EQ(it->ns, "chainguard:rolling");
  EXPECT_EQ(it->vuln_id, "CGA-22hv-wp9q-4779");
  EXPECT_EQ(fixed_of(*it), "3.153.0-r0");
  EXPECT_EQ(it->feed, "vunnel:chainguard");
  ASSERT_EQ(sink.advisories.size(), 1U);
  EXPECT_EQ(sink.advisories[0].aliases, (std::vector<std::string>{"CVE-2026-24398", "GHSA-r354-f388-2fhh"}));
}

// ---------------------------------------------------------------- Alpine secdb

TEST(VulnDbSecdb, YamlCorpusEveryIdLine) {
  for (const char* rel : {"v3.10/main.yaml", "v3.10/community.yaml", "v3.11/main.yaml", "v3.11/community.yaml"}) {
    const fs::path p = kSupply / "alpine/alpinelinux/alpine-secdb" / rel;
    std::ifstream in(p);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    // Independent count: each id line is a list item under a secfixes
    // version, indented 8 or more (packages and archs are items at 2).
    std::size_t id_lines = 0;
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
      const std::size_t indent = line.find_first_not_of(' ');
      if (indent != std::string::npos && indent >= 8 && line.compare(indent, 2, "- ") == 0) ++id_lines;
    }
    CollectSink sink;
    parse_secdb_text(p.string(), text, true, sink);
    EXPECT_TRUE(sink.errors.empty()) << rel;
    EXPECT_EQ(sink.records.size(), id_lines) << rel;
    EXPECT_GT(id_lines, 100U);
  }
  CollectSink sink;
  std::ifstream in(kSupply / "alpine/alpinelinux/alpine-secdb/v3.10/main.yaml");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  parse_secdb_text("main.yaml", text, true, sink);
  const auto it = std::find_if(sink.records.begin(), sink.records.end(), [](const AffectedRecord& r) {
    return r.package == "ansible" && r.vuln_id == "CVE-2019-10206";
  });
  ASSERT_NE(it, sink.records.end());
  EXPECT_EQ(it->ns, "alpine:3.10");
  EXPECT_EQ(it->scheme, VersionScheme::Apk);
  EXPECT_EQ(fixed_of(*it), "2.8.4-r0");
  // "CVE-2019-5060 TALOS-2019-0844": the second name is an alias.
  const auto talos = std::find_if(sink.advisories.begin(), sink.advisories.end(),
                                  [](const Advisory& a) { return a.id == "CVE-2019-5060"; });
  ASSERT_NE(talos, sink.advisories.end());
  EXPECT_EQ(talos->aliases, std::vector<std::string>{"TALOS-2019-0844"});
}

TEST(VulnDbSecdb, JsonCurrentFormat) {
  constexpr std::string_view kJson = R"({"apkurl":"{{urlprefix}}/{{distroversion}}/{{reponame}}/{{arch}}/{{pkg.name}}-{{pkg.ver}}.apk",
    "archs":["x86_64"],"reponame":"main","urlprefix":"https://dl-cdn.alpinelinux.org/alpine","distroversion":"v3.19",
    "packages":[{"pkg":{"name":"openssl","secfixes":{"3.1.4-r1":["CVE-2023-5363"],"0":["CVE-2022-1234"]}}},
                {"pkg":{"name":"busybox","secfixes":{}}},
                {"pkg":{"secfixes":{"1-r0":["CVE-1"]}}}]})";
  CollectSink sink;
  parse_secdb_text("v3.19/main.json", kJson, false, sink);
  ASSERT_EQ(sink.records.size(), 2U);
  EXPECT_EQ(sink.records[0].ns, "alpine:3.19");
  EXPECT_EQ(fixed_of(sink.records[0]), "3.1.4-r1");
  EXPECT_EQ(sink.records[1].status, AffectedStatus::NotAffected);  // "0": never affected
  ASSERT_EQ(sink.errors.size(), 1U);
  EXPECT_NE(sink.errors[0].find("v3.19/main.json: packages[2].pkg.name: missing"), std::string::npos);
}

// ---------------------------------------------------------------- Debian tracker

// trivy-db pkg/vulnsrc/debian/debian_test.go TestVulnSrc_Update "happy path":
// the same inputs give the same per-release fixes and states.
TEST(VulnDbDebian, VulnListMatchesTrivyDbExpectations) {
  TempDir tmp;
  std::vector<std::string> errors;
  auto db = build(tmp.path() / "v.db", [&](DbWriter& w) {
    ASSERT_TRUE(build_debian_tracker((kTrackerData / "happy").string(), w));
  }, &errors);
  ASSERT_TRUE(db);
  EXPECT_TRUE(errors.empty()) << errors.front();
  auto one = [&](const char* ns, const char* pkg, const char* id) -> AffectedRecord {
    auto rs = lookup(*db, ns, pkg, id);
    EXPECT_EQ(rs.size(), 1U) << ns << " " << pkg << " " << id;
    return rs.empty() ? AffectedRecord{} : rs[0];
  };
  // {"advisory-detail", "CVE-2021-33560", "debian oval 9", "libgcrypt20"}: VendorIDs DLA-2691-1, fixed 1.7.6-2+deb9u4
  AffectedRecord r = one("debian:9", "libgcrypt20", "CVE-2021-33560");
  EXPECT_EQ(r.status, AffectedStatus::Affected);
  EXPECT_EQ(fixed_of(r), "1.7.6-2+deb9u4");
  const auto adv = db->advisory("CVE-2021-33560");
  ASSERT_TRUE(adv);
  EXPECT_EQ(adv->aliases, std::vector<std::string>{"DLA-2691-1"});
  EXPECT_EQ(db->ids_for_alias("DLA-2691-1"), std::vector<std::string>{"CVE-2021-33560"});
  EXPECT_EQ(fixed_of(one("debian:10", "libgcrypt20", "CVE-2021-33560")), "1.8.4-5+deb10u1");
  // bullseye has no line of its own: it ships sid's fix (updates-source 1.8.7-6).
  EXPECT_EQ(fixed_of(one("debian:11", "libgcrypt20", "CVE-2021-33560")), "1.8.7-6");
  // {"CVE-2021-29629", "debian 10", "dacs"}: State ignored, Severity Low (urgency "unimportant").
  r = one("debian:10", "dacs", "CVE-2021-29629");
  EXPECT_EQ(r.status, AffectedStatus::WontFix);
  EXPECT_EQ(r.severity, "unimportant");
  EXPECT_TRUE(r.ranges.empty());
  // {"DSA-3714-1", "debian oval 8", "akonadi"}: a DSA without CVEs is its own id.
  EXPECT_EQ(fixed_of(one("debian:8", "akonadi", "DSA-3714-1")), "1.13.0-2+deb8u2");
  // "wrong no-dsa": bullseye's <no-dsa> is overtaken by sid's fix, which bullseye ships.
  r = one("debian:11", "cloud-init", "CVE-2020-8631");
  EXPECT_EQ(r.status, AffectedStatus::Affected);
  EXPECT_EQ(fixed_of(r), "19.4-2");
  // noBuckets: CVE-2021-29629 in debian 9 (not-affected), CVE-2016-4606 anywhere (not-affected in sid).
  for (const auto& rec : lookup(*db, "debian:9", "dacs", "CVE-2021-29629"))
    EXPECT_EQ(rec.status, AffectedStatus::NotAffected);
  for (const char* ns : {"debian:8", "debian:9", "debian:10", "debian:11", "debian:12", "debian:13", "debian:unstable"})
    for (const auto& rec : lookup(*db, ns, "curl", "CVE-2016-4606"))
      EXPECT_EQ(rec.status, AffectedStatus::NotAffected) << ns;
}

TEST(VulnDbDebian, BrokenInputsNamedRestImported) {
  CollectSink cve;
  build_debian_tracker((kTrackerData / "broken-cve").string(), cve);
  EXPECT_TRUE(any_contains(cve.errors, "CVE/CVE-2021-33560.json:1:"));
  CollectSink dist;
  build_debian_tracker((kTrackerData / "broken-distributions").string(), dist);
  EXPECT_TRUE(any_contains(dist.errors, "distributions.json", "kguard's table of Debian releases"));
  CollectSink pkgs;
  build_debian_tracker((kTrackerData / "broken-packages").string(), pkgs);
  EXPECT_TRUE(any_contains(pkgs.errors, "source/bullseye/main/Sources.json"));
  EXPECT_TRUE(any_contains(pkgs.errors, "updates-source/bullseye/main/Sources.json"));
}

TEST(VulnDbDebian, TrackerJsonApi) {
  // The shape of security-tracker.debian.org/tracker/data/json.
  constexpr std::string_view kJson = R"({
   "openssl": {
    "CVE-2023-0001": {"description": "d1", "scope": "remote", "releases": {
       "bookworm": {"status": "resolved", "repositories": {"bookworm": "3.0.11-1~deb12u2"}, "fixed_version": "3.0.9-1", "urgency": "not yet assigned"},
       "bullseye": {"status": "open", "repositories": {"bullseye": "1.1.1w-0+deb11u1"}, "urgency": "low*", "nodsa": "Minor issue", "nodsa_reason": ""},
       "buster": {"status": "open", "repositories": {"buster": "1.1.1n-0+deb10u3"}, "urgency": "medium"},
       "trixie": {"status": "resolved", "repositories": {"trixie": "3.1.4-2"}, "fixed_version": "0", "urgency": "unimportant"},
       "sid": {"status": "undetermined", "repositories": {"sid": "3.1.4-2"}, "urgency": "not yet assigned"},
       "duke2": {"status": "open", "repositories": {}, "urgency": "low"}}},
    "CVE-2023-0002": {"releases": {"bookworm": {"status": "resolved", "urgency": "low"}}}
   },
   "busybox": []
  })";
  CollectSink sink;
  parse_debian_tracker_json_text("data.json", kJson, sink);
  std::map<std::string, AffectedRecord> by_ns;
  for (const auto& r : sink.records)
    if (r.vuln_id == "CVE-2023-0001") by_ns[r.ns] = r;
  ASSERT_EQ(by_ns.size(), 4U);  // sid undetermined and an unknown codename: no record
  EXPECT_EQ(fixed_of(by_ns["debian:12"]), "3.0.9-1");
  EXPECT_EQ(by_ns["debian:11"].status, AffectedStatus::WontFix);
  EXPECT_EQ(by_ns["debian:11"].severity, "low");
  EXPECT_EQ(by_ns["debian:10"].status, AffectedStatus::Unfixed);
  EXPECT_EQ(by_ns["debian:13"].status, AffectedStatus::NotAffected);
  EXPECT_TRUE(any_contains(sink.errors, "data.json: openssl.CVE-2023-0002.releases.bookworm.fixed_version"));
  EXPECT_TRUE(any_contains(sink.errors, "data.json: busybox"));
  EXPECT_EQ(debian_release("bookworm"), "12");
  EXPECT_EQ(debian_release("forky"), "14");
  EXPECT_EQ(debian_release("sid"), "unstable");
}

// ---------------------------------------------------------------- vunnel

TEST(VulnDbVunnel, GrypeFixtures) {
  TempDir tmp;
  std::vector<std::string> errors;
  auto db = build(tmp.path() / "v.db", [&](DbWriter& w) {
    ASSERT_TRUE(build_vunnel((kSupply / "grype-fixtures").string(), w));
  }, &errors);
  ASSERT_TRUE(db);
  EXPECT_TRUE(errors.empty()) << errors.front();
  auto rs = lookup(*db, "debian:12", "jq", "CVE-2025-48060");
  ASSERT_EQ(rs.size(), 1U);
  EXPECT_EQ(fixed_of(rs[0]), "1.6-2.1+deb12u1");
  EXPECT_EQ(rs[0].feed, "vunnel:debian");
  EXPECT_EQ(rs[0].scheme, VersionScheme::Dpkg);
  // "None": no fix yet.
  rs = lookup(*db, "ubuntu:22.04", "libgcrypt20", "CVE-2024-2236");
  ASSERT_EQ(rs.size(), 1U);
  EXPECT_EQ(rs[0].status, AffectedStatus::Unfixed);
  EXPECT_EQ(rs[0].severity, "Low");
  // Alpine: apk versions.
  std::size_t alpine = 0;
  db->for_each_affected("alpine:3.18", "openssl", [&](const AffectedRecord& r) {
    EXPECT_EQ(r.scheme, VersionScheme::Apk);
    ++alpine;
  });
  EXPECT_GE(alpine, 1U);
  // NVD gives the advisory its CVSS vector (no package records: CPEs are not matched).
  const auto adv = db->advisory("CVE-2024-0727");
  ASSERT_TRUE(adv);
  EXPECT_EQ(adv->cvss_v3, "CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:U/C:N/I:N/A:H");
  // The rootio provider (OSV-shaped, "Root:Debian:12").
  rs = lookup(*db, "debian:12", "rootio-jq");
  ASSERT_EQ(rs.size(), 1U);
  EXPECT_EQ(rs[0].feed, "vunnel:rootio");
  EXPECT_EQ(fixed_of(rs[0]), "1.6-2.1.root.io.2");
}

TEST(VulnDbVunnel, NotAffectedAndWontFix) {
  CollectSink sink;
  parse_vunnel_text("r.json", R"({"identifier":"x","item":{"Vulnerability":{"Name":"CVE-1","NamespaceName":"alpine:3.18",
    "Severity":"High","FixedIn":[{"Name":"a","NamespaceName":"alpine:3.18","Version":"0","VersionFormat":"apk"},
    {"Name":"b","NamespaceName":"alpine:3.18","Version":"None","VersionFormat":"apk","VendorAdvisory":{"NoAdvisory":true}},
    {"Name":"c","NamespaceName":"alpine:3.18","Version":"1-r0","VersionFormat":"klingon"}]}}})", "alpine", sink);
  ASSERT_EQ(sink.records.size(), 2U);
  EXPECT_EQ(sink.records[0].status, AffectedStatus::NotAffected);
  EXPECT_EQ(sink.records[1].status, AffectedStatus::WontFix);
  EXPECT_TRUE(any_contains(sink.errors, "r.json: item.Vulnerability.FixedIn[2].VersionFormat"));
}

// ---------------------------------------------------------------- writer and reader

TEST(VulnDbStore, RoundTripMergeEnrichStatus) {
  TempDir tmp;
  const fs::path p = tmp.path() / "sub/v.db";  // the folder is made
  std::string error;
  {
    auto w = DbWriter::create(p.string(), &error);
    ASSERT_TRUE(w) << error;
    w->begin_feed("osv", "/in");
    CollectSink sink;
    parse_osv_text("rec.json", kOsvRecord, "osv", sink);
    for (auto& r : sink.records) w->affected(r);
    for (auto& a : sink.advisories) w->advisory(a);
    // The same advisory from another feed: merged, not duplicated.
    Advisory again;
    again.id = "GHSA-xxxx-yyyy-zzzz";
    again.aliases = {"CVE-2024-0001", "PYSEC-2024-1"};
    again.feed = "vunnel:github";
    w->advisory(again);
    w->end_feed();
    EXPECT_EQ(w->set_kev("CVE-2024-0001"), 1U);     // through the alias
    EXPECT_EQ(w->set_epss("CVE-2024-0001", 0.5), 1U);
    EXPECT_EQ(w->set_kev("CVE-2099-0001"), 1U);     // unknown id: an id-only advisory keeps the fact
    ASSERT_TRUE(w->commit(&error)) << error;
  }
  EXPECT_FALSE(fs::exists(p.string() + ".tmp-" + std::to_string(::getpid())));
  auto db = VulnDatabase::open(p.string(), &error);
  ASSERT_TRUE(db) << error;
  // Two `affected` entries for one package: one row, both ranges.
  auto rs = lookup(*db, "pypi", "foo-bar");
  ASSERT_EQ(rs.size(), 1U);
  EXPECT_EQ(rs[0].ranges.size(), 2U);
  EXPECT_EQ(rs[0].ranges[1].events[1].kind, RangeEvent::Kind::LastAffected);
  EXPECT_TRUE(lookup(*db, "pypi", "foo").empty());
  EXPECT_TRUE(lookup(*db, "npm", "foo-bar").empty());
  auto adv = db->advisory("GHSA-xxxx-yyyy-zzzz");
  ASSERT_TRUE(adv);
  EXPECT_EQ(adv->aliases, (std::vector<std::string>{"CVE-2024-0001", "PYSEC-2024-1"}));
  EXPECT_TRUE(adv->kev);
  EXPECT_DOUBLE_EQ(adv->epss, 0.5);
  EXPECT_EQ(adv->feed, "osv,vunnel:github");
  EXPECT_TRUE(db->advisory("CVE-2099-0001")->kev);
  EXPECT_FALSE(db->advisory("CVE-2000-0000"));
  const DbStatus s = db->status();
  EXPECT_EQ(s.schema, kSchemaVersion);
  EXPECT_EQ(s.affected, 1U);
  EXPECT_EQ(s.advisories, 2U);
  ASSERT_EQ(s.feeds.size(), 1U);
  EXPECT_EQ(s.feeds[0].origin, "/in");
  EXPECT_EQ(s.feeds[0].affected, 1U);
  // Age policy: warn past the limit, never otherwise.
  const long long built = 1'000'000'000;
  DbStatus aged = s;
  aged.built_at = "2001-09-09T01:46:40Z";
  EXPECT_EQ(db_age_seconds(aged, built + 10), 10);
  EXPECT_FALSE(db_age_warning(aged, 7 * 86400, built + 86400));
  const auto warn = db_age_warning(aged, 7 * 86400, built + 9 * 86400);
  ASSERT_TRUE(warn);
  EXPECT_NE(warn->find("9 days old"), std::string::npos);
  EXPECT_EQ(parse_max_age("36h"), 36 * 3600);
  EXPECT_EQ(parse_max_age("2w"), 14 * 86400);
  EXPECT_FALSE(parse_max_age("7x"));
  EXPECT_FALSE(parse_max_age("-1d"));
}

// Lookups by index only: each of the reader's queries is a SEARCH of a key.
TEST(VulnDbStore, EveryLookupIsAnIndexSearch) {
  TempDir tmp;
  const fs::path p = tmp.path() / "v.db";
  auto db = build(p, [](DbWriter& w) {
    CollectSink sink;
    parse_osv_text("rec.json", kOsvRecord, "osv", sink);
    for (auto& r : sink.records) w.affected(r);
    for (auto& a : sink.advisories) w.advisory(a);
  });
  ASSERT_TRUE(db);
  sqlite3* con = nullptr;
  ASSERT_EQ(sqlite3_open_v2(p.c_str(), &con, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  for (const char* sql : {kAffectedLookupSql, kAdvisoryLookupSql, kAliasLookupSql}) {
    sqlite3_stmt* st = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(con, (std::string("EXPLAIN QUERY PLAN ") + sql).c_str(), -1, &st, nullptr), SQLITE_OK);
    std::string plan;
    while (sqlite3_step(st) == SQLITE_ROW) plan += std::string(reinterpret_cast<const char*>(sqlite3_column_text(st, 3))) + "; ";
    sqlite3_finalize(st);
    EXPECT_NE(plan.find("SEARCH"), std::string::npos) << sql << ": " << plan;
    EXPECT_EQ(plan.find("SCAN"), std::string::npos) << sql << ": " << plan;
    EXPECT_EQ(plan.find("TEMP B-TREE"), std::string::npos) << sql << ": " << plan;  // no sort: key order
  }
  sqlite3_close(con);
}

TEST(VulnDbStore, RefusesOtherFiles) {
  TempDir tmp;
  std::string error;
  EXPECT_FALSE(VulnDatabase::open((tmp.path() / "missing.db").string(), &error));
  EXPECT_NE(error.find("kguard db build"), std::string::npos);
  const fs::path junk = tmp.path() / "junk.db";
  std::ofstream(junk) << "not sqlite at all, just text that is long enough to be a header of something";
  EXPECT_FALSE(VulnDatabase::open(junk.string(), &error));
  EXPECT_NE(error.find("junk.db"), std::string::npos);
}

// A failed build leaves the old database in place.
TEST(VulnDbStore, UncommittedBuildKeepsOld) {
  TempDir tmp;
  const fs::path p = tmp.path() / "v.db";
  auto db = build(p, [](DbWriter& w) {
    Advisory a;
    a.id = "OLD-1";
    w.advisory(a);
  });
  ASSERT_TRUE(db);
  db.reset();
  {
    std::string error;
    auto w = DbWriter::create(p.string(), &error);
    Advisory a;
    a.id = "NEW-1";
    w->advisory(a);
  }  // no commit
  std::string error;
  db = VulnDatabase::open(p.string(), &error);
  ASSERT_TRUE(db) << error;
  EXPECT_TRUE(db->advisory("OLD-1"));
  EXPECT_FALSE(db->advisory("NEW-1"));
  EXPECT_EQ(std::distance(fs::directory_iterator(tmp.path()), fs::directory_iterator()), 1);
}

// ---------------------------------------------------------------- zip

// A zip written here member by member (stored and deflated), as zip tools do.
std::string make_zip(const std::vector<std::pair<std::string, std::string>>& members, bool compress) {
  std::string out, dir;
  auto le16 = [](std::string& s, unsigned v) { s.push_back(char(v & 0xff)); s.push_back(char((v >> 8) & 0xff)); };
  auto le32 = [&](std::string& s, unsigned long v) { le16(s, v & 0xffff); le16(s, (v >> 16) & 0xffff); };
  for (const auto& [name, data] : members) {
    std::string body = data;
    if (compress) {
      z_stream zs{};
      deflateInit2(&zs, 6, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
      body.resize(deflateBound(&zs, data.size()));
      zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
      zs.avail_in = static_cast<uInt>(data.size());
      zs.next_out = reinterpret_cast<Bytef*>(body.data());
      zs.avail_out = static_cast<uInt>(body.size());
      ::deflate(&zs, Z_FINISH);
      body.resize(zs.total_out);
      deflateEnd(&zs);
    }
    const unsigned long crc = crc32(0, reinterpret_cast<const Bytef*>(data.data()), static_cast<uInt>(data.size()));
    const unsigned long offset = out.size();
    le32(out, 0x04034b50); le16(out, 20); le16(out, 0); le16(out, compress ? 8 : 0); le16(out, 0); le16(out, 0);
    le32(out, crc); le32(out, body.size()); le32(out, data.size()); le16(out, name.size()); le16(out, 0);
    out += name;
    out += body;
    le32(dir, 0x02014b50); le16(dir, 20); le16(dir, 20); le16(dir, 0); le16(dir, compress ? 8 : 0); le16(dir, 0);
    le16(dir, 0); le32(dir, crc); le32(dir, body.size()); le32(dir, data.size()); le16(dir, name.size());
    le16(dir, 0); le16(dir, 0); le16(dir, 0); le16(dir, 0); le32(dir, 0); le32(dir, offset);
    dir += name;
  }
  const unsigned long dir_offset = out.size();
  out += dir;
  le32(out, 0x06054b50); le16(out, 0); le16(out, 0); le16(out, members.size()); le16(out, members.size());
  le32(out, dir.size()); le32(out, dir_offset); le16(out, 0);
  return out;
}

TEST(VulnDbZip, StoredAndDeflatedMembersAndDamage) {
  for (bool compress : {false, true}) {
    const std::string zip = make_zip({{"a.json", std::string(kOsvRecord)}, {"empty.json", ""}}, compress);
    std::string error, out;
    auto z = ZipReader::open_memory(zip, &error);
    ASSERT_TRUE(z) << error;
    ASSERT_EQ(z->entries().size(), 2U);
    ASSERT_TRUE(z->read(z->entries()[0], out, &error)) << error;
    EXPECT_EQ(out, kOsvRecord);
    ASSERT_TRUE(z->read(z->entries()[1], out, &error)) << error;
    EXPECT_EQ(out, "");
    // A flipped data byte: refused by CRC (or by inflate), named.
    std::string bad = zip;
    bad[40] = static_cast<char>(bad[40] ^ 0x55);
    auto zb = ZipReader::open_memory(bad, &error);
    ASSERT_TRUE(zb);
    EXPECT_FALSE(zb->read(zb->entries()[0], out, &error));
    EXPECT_NE(error.find("a.json"), std::string::npos);
    // Every truncation: refused or readable, never a crash.
    for (std::size_t n = 0; n < zip.size(); n += 7) {
      auto zt = ZipReader::open_memory(std::string_view(zip).substr(0, n), &error);
      if (zt)
        for (const auto& e : zt->entries()) zt->read(e, out, &error);
    }
  }
  std::string error;
  EXPECT_FALSE(ZipReader::open_memory("PK\x05\x06 not really", &error));
}

// osv.dev's bucket layout: a folder of ECOSYSTEM/all.zip dumps (and loose records).
TEST(VulnDbZip, OsvFolderOfDumps) {
  TempDir tmp;
  fs::create_directories(tmp.path() / "PyPI");
  {
    std::ofstream out(tmp.path() / "PyPI/all.zip", std::ios::binary);
    out << make_zip({{"GHSA-xxxx-yyyy-zzzz.json", std::string(kOsvRecord)}, {"README", "not a record"}}, true);
  }
  std::ofstream(tmp.path() / "loose.json") << R"({"id":"X-1","affected":[{"package":{"ecosystem":"npm","name":"a"},"versions":["1.0.0"]}]})";
  CollectSink sink;
  ASSERT_TRUE(build_osv(tmp.path().string(), sink));
  EXPECT_TRUE(sink.errors.empty());
  EXPECT_EQ(sink.records.size(), 3U);  // two PyPI entries from the zip, one npm
  EXPECT_EQ(sink.advisories.size(), 2U);
}

// ---------------------------------------------------------------- bundle

TEST(VulnDbBundle, ExportImportAndDamageRefused) {
  TempDir tmp;
  const fs::path src = tmp.path() / "src.db", dst = tmp.path() / "dst/v.db", bundle = tmp.path() / "b.tar.gz";
  auto db = build(src, [](DbWriter& w) {
    w.begin_feed("alpine-secdb", "x");
    parse_secdb_text("m.json", R"({"distroversion":"v3.19","packages":[{"pkg":{"name":"musl","secfixes":{"1.2.4-r1":["CVE-1"]}}}]})", false, w);
    w.end_feed();
  });
  ASSERT_TRUE(db);
  db.reset();
  std::string error;
  BundleManifest m;
  ASSERT_TRUE(export_bundle(src.string(), bundle.string(), &m, &error)) << error;
  EXPECT_EQ(m.db_sha256, sha256_file(src.string()));
  ASSERT_TRUE(import_bundle(bundle.string(), dst.string(), &m, &error)) << error;
  db = VulnDatabase::open(dst.string(), &error);
  ASSERT_TRUE(db) << error;
  EXPECT_EQ(lookup(*db, "alpine:3.19", "musl").size(), 1U);
  db.reset();
  const std::string good_sha = sha256_file(dst.string());
  // Damage: the bundle's bytes flipped at several places (inside gzip: CRC or
  // the manifest's SHA-256 catches it), and a truncated bundle.
  std::ifstream in(bundle, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (std::size_t at : {bytes.size() / 3, bytes.size() / 2, bytes.size() - 12}) {
    std::string bad = bytes;
    bad[at] = static_cast<char>(bad[at] ^ 0x01);
    std::ofstream(tmp.path() / "bad.tar.gz", std::ios::binary) << bad;
    EXPECT_FALSE(import_bundle((tmp.path() / "bad.tar.gz").string(), dst.string(), nullptr, &error)) << at;
    EXPECT_EQ(sha256_file(dst.string()), good_sha);  // the working database is untouched
  }
  std::ofstream(tmp.path() / "short.tar.gz", std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  EXPECT_FALSE(import_bundle((tmp.path() / "short.tar.gz").string(), dst.string(), nullptr, &error));
  EXPECT_EQ(sha256_file(dst.string()), good_sha);
  // A signature the hook cannot verify is refused, not ignored.
  BundleManifest signed_m = m;
  signed_m.signature = "sig";
  EXPECT_FALSE(verify_bundle_signature(signed_m, nullptr, &error));
}

}  // namespace
}  // namespace kg::vuln

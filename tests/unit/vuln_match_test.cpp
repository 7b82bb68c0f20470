// The matcher's parts that need no database: OSV range evaluation exactly as
// the OSV schema's "Evaluation" pseudo-code (ossf/osv-schema docs/schema.md,
// its examples), the namespace of an image's release stream, the apk order
// choice, and the lookup key of each package type.
#include <gtest/gtest.h>

#include "engines/vuln/db/feeds/feeds.hpp"
#include "engines/vuln/match/match.hpp"

namespace kg::vuln {
namespace {

using K = RangeEvent::Kind;

AffectedRecord rec(std::string type, std::vector<RangeEvent> events, std::vector<std::string> versions = {}) {
  AffectedRecord r;
  r.vuln_id = "GHSA-test";
  r.ns = "npm";
  r.package = "p";
  if (!type.empty()) r.ranges.push_back({std::move(type), std::move(events)});
  r.versions = std::move(versions);
  r.feed = "osv";
  return r;
}

// Whether v is affected, and the fix reported ("-" when affected without a fix, "" when not affected).
std::string eval(const AffectedRecord& r, std::string_view v, VersionScheme s = VersionScheme::Semver) {
  const RecordVerdict d = evaluate_record(r, v, s);
  if (!d.affected) return "";
  return d.fix == FixState::Fixed ? d.fixed_version : "-";
}

TEST(VulnOsvEvaluation, UnfixedExampleEveryVersion) {
  // schema.md "Unfixed vulnerability example": introduced 0 alone.
  const AffectedRecord r = rec("SEMVER", {{K::Introduced, "0"}});
  EXPECT_EQ(eval(r, "0.0.0"), "-");
  EXPECT_EQ(eval(r, "99.1.0"), "-");
  EXPECT_EQ(evaluate_record(r, "1.0.0", VersionScheme::Semver).fix, FixState::Unfixed);
}

TEST(VulnOsvEvaluation, FixedExample) {
  // "everything before 1.0.2"
  const AffectedRecord r = rec("SEMVER", {{K::Introduced, "0"}, {K::Fixed, "1.0.2"}});
  EXPECT_EQ(eval(r, "0.0.1"), "1.0.2");
  EXPECT_EQ(eval(r, "1.0.1"), "1.0.2");
  EXPECT_EQ(eval(r, "1.0.2-rc.1"), "1.0.2");  // a pre-release precedes its release
  EXPECT_EQ(eval(r, "1.0.2"), "");
  EXPECT_EQ(eval(r, "1.0.3"), "");
  EXPECT_EQ(evaluate_record(r, "1.0.1", VersionScheme::Semver).range, "introduced 0, fixed 1.0.2");
}

TEST(VulnOsvEvaluation, MultipleRangeExampleInAnyEventOrder) {
  // [1.0.0, 1.0.2) and [3.0.0, 3.2.5); the pseudo-code sorts the events, so the feed's order does not matter.
  for (const std::vector<RangeEvent>& events :
       {std::vector<RangeEvent>{{K::Introduced, "1.0.0"}, {K::Fixed, "1.0.2"}, {K::Introduced, "3.0.0"}, {K::Fixed, "3.2.5"}},
        std::vector<RangeEvent>{{K::Fixed, "3.2.5"}, {K::Introduced, "3.0.0"}, {K::Fixed, "1.0.2"}, {K::Introduced, "1.0.0"}}}) {
    const AffectedRecord r = rec("SEMVER", events);
    EXPECT_EQ(eval(r, "0.9.0"), "");
    EXPECT_EQ(eval(r, "1.0.0"), "1.0.2");
    EXPECT_EQ(eval(r, "1.0.2"), "");
    EXPECT_EQ(eval(r, "2.0.0"), "");
    EXPECT_EQ(eval(r, "3.1.0"), "3.2.5");  // the fix of its own range, not the first one
    EXPECT_EQ(eval(r, "3.2.5"), "");
  }
}

TEST(VulnOsvEvaluation, LastAffectedIncludesItselfAndHasNoFix) {
  // "last_affected vs fixed example": 2.1.214 is affected, above it is not, and no fix is known.
  const AffectedRecord r = rec("ECOSYSTEM", {{K::Introduced, "0"}, {K::LastAffected, "2.1.214"}});
  EXPECT_EQ(eval(r, "2.1.214"), "-");
  EXPECT_EQ(eval(r, "2.1.213"), "-");
  EXPECT_EQ(eval(r, "2.1.215"), "");
  // With fixed instead, 2.1.214 itself is not affected.
  EXPECT_EQ(eval(rec("SEMVER", {{K::Introduced, "0"}, {K::Fixed, "2.1.214"}}), "2.1.214"), "");
}

TEST(VulnOsvEvaluation, LimitBoundsTheRange) {
  // BeforeLimits: with limit events only versions below one of them are evaluated.
  const AffectedRecord r = rec("ECOSYSTEM", {{K::Introduced, "1.0.0"}, {K::Limit, "2.0.0"}});
  EXPECT_EQ(eval(r, "1.5.0"), "-");
  EXPECT_EQ(eval(r, "2.0.0"), "");
  EXPECT_EQ(eval(r, "2.5.0"), "");
  EXPECT_EQ(eval(r, "0.5.0"), "");
  // Two limits: below either one is enough; a limit of "*" is no bound.
  const AffectedRecord two = rec("ECOSYSTEM", {{K::Introduced, "0"}, {K::Limit, "1.0.0"}, {K::Limit, "3.0.0"}});
  EXPECT_EQ(eval(two, "2.0.0"), "-");
  EXPECT_EQ(eval(two, "3.0.0"), "");
  EXPECT_EQ(eval(rec("ECOSYSTEM", {{K::Introduced, "0"}, {K::Limit, "*"}}), "9.0.0"), "-");
}

TEST(VulnOsvEvaluation, ExplicitVersionsAreExactStrings) {
  const AffectedRecord r = rec("", {}, {"1.2.3", "2.0.0"});
  EXPECT_EQ(eval(r, "1.2.3"), "-");
  EXPECT_EQ(eval(r, "2.0.0"), "-");
  EXPECT_EQ(eval(r, "1.2.4"), "");
  // `v == version`: SemVer precedence would call these equal; the list does not.
  EXPECT_EQ(eval(r, "1.2.3+build.7"), "");
  // A range and a list: either one.
  AffectedRecord both = rec("SEMVER", {{K::Introduced, "3.0.0"}, {K::Fixed, "3.1.0"}}, {"1.2.3"});
  EXPECT_EQ(eval(both, "1.2.3"), "-");
  EXPECT_EQ(eval(both, "3.0.5"), "3.1.0");
  EXPECT_EQ(eval(both, "2.0.0"), "");
}

TEST(VulnOsvEvaluation, GitRangesAreNotVersions) {
  EXPECT_EQ(eval(rec("GIT", {{K::Introduced, "0"}, {K::Fixed, "abc123"}}), "1.0.0"), "");
}

TEST(VulnOsvEvaluation, SemverRangesIgnoreGosLeadingV) {
  // The Go vulnerability database writes SEMVER events without Go's 'v'.
  const AffectedRecord r = rec("SEMVER", {{K::Introduced, "0"}, {K::Fixed, "0.17.0"}});
  EXPECT_EQ(eval(r, "v0.16.1", VersionScheme::Go), "0.17.0");
  EXPECT_EQ(eval(r, "v0.17.0", VersionScheme::Go), "");
  // A pseudo-version before v0.17.0 is a SemVer pre-release of 0.16.1 / 0.0.0: affected.
  EXPECT_EQ(eval(r, "v0.0.0-20230101000000-abcdefabcdef", VersionScheme::Go), "0.17.0");
}

TEST(VulnOsvEvaluation, EcosystemRangesUseTheEcosystemsOrder) {
  // PEP 440: 2.0rc1 < 2.0 < 2.0.post1.
  const AffectedRecord py = rec("ECOSYSTEM", {{K::Introduced, "0"}, {K::Fixed, "2.0"}});
  EXPECT_EQ(eval(py, "2.0rc1", VersionScheme::Pep440), "2.0");
  EXPECT_EQ(eval(py, "2.0.post1", VersionScheme::Pep440), "");
  EXPECT_EQ(eval(py, "2.0.0", VersionScheme::Pep440), "");  // PEP 440: 2.0.0 == 2.0
  // dpkg: the tracker's fix for CVE-2021-33560 in buster (trivy-db debian_test.go).
  const AffectedRecord deb = rec("ECOSYSTEM", {{K::Introduced, "0"}, {K::Fixed, "1.8.4-5+deb10u1"}});
  EXPECT_EQ(eval(deb, "1.8.4-5", VersionScheme::Dpkg), "1.8.4-5+deb10u1");
  EXPECT_EQ(eval(deb, "1.8.4-5+deb10u1", VersionScheme::Dpkg), "");
  EXPECT_EQ(eval(deb, "1:1.0-1", VersionScheme::Dpkg), "");  // an epoch outranks any upstream
}

TEST(VulnOsvEvaluation, Statuses) {
  AffectedRecord r = rec("", {});
  r.status = AffectedStatus::Unfixed;
  EXPECT_EQ(eval(r, "1.0"), "-");
  EXPECT_EQ(evaluate_record(r, "1.0", VersionScheme::Dpkg).fix, FixState::Unfixed);
  r.status = AffectedStatus::WontFix;
  EXPECT_EQ(evaluate_record(r, "1.0", VersionScheme::Dpkg).fix, FixState::WontFix);
  EXPECT_TRUE(evaluate_record(r, "1.0", VersionScheme::Dpkg).affected);
  // A won't-fix with a range still bounds it (introduced later than installed: not affected).
  AffectedRecord ranged = rec("ECOSYSTEM", {{K::Introduced, "2.0"}});
  ranged.status = AffectedStatus::WontFix;
  EXPECT_FALSE(evaluate_record(ranged, "1.0", VersionScheme::Dpkg).affected);
  EXPECT_EQ(evaluate_record(ranged, "2.1", VersionScheme::Dpkg).fix, FixState::WontFix);
  // "0" in secdb / the tracker: never a match, whatever ranges the record carries.
  AffectedRecord na = rec("ECOSYSTEM", {{K::Introduced, "0"}});
  na.status = AffectedStatus::NotAffected;
  EXPECT_FALSE(evaluate_record(na, "1.0", VersionScheme::Dpkg).affected);
}

// ---- namespaces ----

OsInfo os(std::string id, std::string version_id, std::string codename = {}, std::string stream = {}) {
  OsInfo o;
  o.id = std::move(id);
  o.version_id = std::move(version_id);
  o.version_codename = std::move(codename);
  o.release_stream = std::move(stream);
  return o;
}

TEST(VulnNamespace, Debian) {
  EXPECT_EQ(os_context(os("debian", "12")).ns, "debian:12");
  EXPECT_EQ(os_context(os("debian", "12.5")).ns, "debian:12");
  EXPECT_EQ(os_context(os("debian", "12")).scheme, VersionScheme::Dpkg);
  // Only the codename (os-release of testing, /etc/debian_version "bookworm/sid").
  EXPECT_EQ(os_context(os("debian", "", "bookworm")).ns, "debian:12");
  EXPECT_EQ(os_context(os("debian", "", "trixie")).ns, "debian:13");
  EXPECT_EQ(os_context(os("debian", "", "sid")).ns, "debian:unstable");
  OsInfo sid = os("debian", "");
  sid.pretty_name = "Debian GNU/Linux trixie/sid";  // testing's os-release before VERSION_CODENAME existed
  EXPECT_EQ(os_context(sid).ns, "debian:unstable");
  const OsContext unknown = os_context(os("debian", "", "hamm2"));
  EXPECT_EQ(unknown.ns, "");
  EXPECT_NE(unknown.note.find("hamm2"), std::string::npos);
}

TEST(VulnNamespace, UbuntuRhelFamilyWolfiOthers) {
  EXPECT_EQ(os_context(os("ubuntu", "22.04")).ns, "ubuntu:22.04");
  EXPECT_EQ(os_context(os("rhel", "9.4")).ns, "rhel:9");
  EXPECT_EQ(os_context(os("rocky", "9.3")).ns, "rhel:9");
  EXPECT_EQ(os_context(os("almalinux", "8.9")).ns, "rhel:8");
  EXPECT_EQ(os_context(os("almalinux", "8.9")).scheme, VersionScheme::Rpm);
  EXPECT_EQ(os_context(os("wolfi", "20230201")).ns, "wolfi:rolling");
  EXPECT_EQ(os_context(os("wolfi", "20230201")).scheme, VersionScheme::Apk);
  EXPECT_EQ(os_context(os("fedora", "40")).ns, "");
  EXPECT_EQ(os_context(os("", "")).ns, "");
}

TEST(VulnNamespace, AlpineBranchAndApkOrder) {
  // The repositories' branch before /etc/alpine-release.
  EXPECT_EQ(os_context(os("alpine", "3.10.9", "", "3.11")).ns, "alpine:3.11");
  EXPECT_EQ(os_context(os("alpine", "3.10.9")).ns, "alpine:3.10");
  EXPECT_EQ(os_context(os("alpine", "3.21.0_alpha2024", "", "edge")).ns, "alpine:edge");
  // apk-tools 3 when the image's apk-tools is 3.x, else 2; without apk-tools, Alpine >= 3.23 ships 3.
  EXPECT_EQ(os_context(os("alpine", "3.22.1")).scheme, VersionScheme::Apk2);
  EXPECT_EQ(os_context(os("alpine", "3.23.0")).scheme, VersionScheme::Apk);
  EXPECT_EQ(os_context(os("alpine", "3.10.4")).scheme, VersionScheme::Apk2);
  EXPECT_EQ(os_context(os("alpine", "3.23.0"), "2.14.9-r0").scheme, VersionScheme::Apk2);
  EXPECT_EQ(os_context(os("alpine", "3.20.0"), "3.0.0_pre1-r0").scheme, VersionScheme::Apk);
  EXPECT_EQ(os_context(os("alpine", "", "", "edge")).scheme, VersionScheme::Apk);
  EXPECT_EQ(os_context(os("alpine", "")).ns, "");
}

// ---- lookup keys ----

TEST(VulnQuery, OsPackagesBySourcePackage) {
  const OsContext deb = os_context(os("debian", "12"));
  Package p;
  p.type = PackageType::Deb;
  p.name = "libgcrypt20";
  p.version = "1.10.1-3+b1";  // a binNMU: the binary's own version
  p.source_name = "libgcrypt20";
  EXPECT_EQ(package_query(p, deb)->name, "libgcrypt20");
  EXPECT_EQ(package_query(p, deb)->version, "1.10.1-3+b1");
  p.source_version = "1.10.1-3";  // "Source: libgcrypt20 (1.10.1-3)": the source's version is compared
  EXPECT_EQ(package_query(p, deb)->version, "1.10.1-3");
  EXPECT_EQ(package_query(p, deb)->ns, "debian:12");
  p.name = "libssl3";
  p.source_name = "openssl";
  p.source_version.clear();
  EXPECT_EQ(package_query(p, deb)->name, "openssl");

  Package apk;
  apk.type = PackageType::Apk;
  apk.name = "libcrypto1.1";
  apk.version = "1.1.1d-r2";
  apk.source_name = "openssl";  // origin
  const std::optional<PackageQuery> q = package_query(apk, os_context(os("alpine", "3.10.4")));
  ASSERT_TRUE(q);
  EXPECT_EQ(q->name, "openssl");
  EXPECT_EQ(q->scheme, VersionScheme::Apk2);

  Package rpm;
  rpm.type = PackageType::Rpm;
  rpm.name = "openssl-libs";
  rpm.version = "1:3.0.7-27.el9";
  rpm.source_name = "openssl";  // from openssl-3.0.7-27.el9.src.rpm
  rpm.source_version = "3.0.7-27.el9";
  const std::optional<PackageQuery> r = package_query(rpm, os_context(os("rocky", "9.3")));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->ns, "rhel:9");
  EXPECT_EQ(r->name, "openssl");
  EXPECT_EQ(r->version, "1:3.0.7-27.el9");  // the installed EVR, epoch included

  // No release stream: OS packages are not matched at all (never against another release).
  EXPECT_FALSE(package_query(p, os_context(os("fedora", "40"))));
}

TEST(VulnQuery, LanguagePackages) {
  const OsContext none;
  Package py;
  py.type = PackageType::Python;
  py.name = "Zope.Interface__x";
  py.version = "5.0";
  EXPECT_EQ(package_query(py, none)->name, "zope-interface-x");
  EXPECT_EQ(package_query(py, none)->ns, "pypi");
  EXPECT_EQ(pep503_name("Friendly-Bard"), "friendly-bard");
  EXPECT_EQ(pep503_name("FRIENDLY_._BARD"), "friendly-bard");

  Package go;
  go.type = PackageType::Golang;
  go.name = "stdlib";
  go.version = "go1.21.3";
  EXPECT_EQ(package_query(go, none)->version, "1.21.3");
  go.version = "go1.21rc2";
  EXPECT_EQ(package_query(go, none)->version, "1.21.0-rc.2");
  go.version = "go1.22";
  EXPECT_EQ(package_query(go, none)->version, "1.22.0");
  go.version = "1.20.1";  // as an SBOM's purl pkg:golang/stdlib@1.20.1 may write it
  EXPECT_EQ(package_query(go, none)->version, "1.20.1");
  go.name = "github.com/x/y";
  go.version = "(devel)";
  EXPECT_FALSE(package_query(go, none));
  go.version = "v1.2.3";
  EXPECT_EQ(package_query(go, none)->version, "v1.2.3");
  EXPECT_EQ(package_query(go, none)->scheme, VersionScheme::Go);

  Package mvn;
  mvn.type = PackageType::Maven;
  mvn.name = "org.apache.logging.log4j:log4j-core";
  mvn.version = "2.14.1";
  EXPECT_EQ(package_query(mvn, none)->ns, "maven");
  mvn.name = "log4j-core";  // no group: not a Maven coordinate
  EXPECT_FALSE(package_query(mvn, none));

  EXPECT_EQ(language_query("RubyGems", "rack", "2.2.3")->ns, "rubygems");
  EXPECT_EQ(language_query("RubyGems", "rack", "2.2.3")->scheme, VersionScheme::RubyGems);
  EXPECT_EQ(language_query("crates.io", "smallvec", "1.6.0")->scheme, VersionScheme::Semver);
  EXPECT_FALSE(language_query("Hackage", "aeson", "1.0"));
  Package noversion = py;
  noversion.version.clear();
  EXPECT_FALSE(package_query(noversion, none));
}

}  // namespace
}  // namespace kg::vuln

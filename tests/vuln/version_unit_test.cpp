// Hand-written vectors for the schemes with no file in the shared corpora,
// each taken from the ecosystem's own test suite (cited per test), plus
// validity, `why` and scheme-name checks.
#include <gtest/gtest.h>

#include <iostream>
#include <string>
#include <vector>

#include "engines/vuln/version/version.hpp"

using kg::vuln::compare_versions;
using kg::vuln::npm_range_satisfied;
using kg::vuln::valid_version;
using kg::vuln::VersionScheme;

namespace {

int sgn(int r) { return r < 0 ? -1 : (r > 0 ? 1 : 0); }

// Every pair of an ascending list: i < j => v[i] < v[j], both ways round.
void check_ascending(VersionScheme s, const std::vector<std::string>& v) {
  for (std::size_t i = 0; i < v.size(); ++i)
    for (std::size_t j = i + 1; j < v.size(); ++j) {
      std::string why;
      EXPECT_EQ(sgn(compare_versions(s, v[i], v[j], &why)), -1) << v[i] << " < " << v[j] << " (" << why << ")";
      EXPECT_EQ(sgn(compare_versions(s, v[j], v[i])), 1) << v[j] << " > " << v[i];
    }
}

void check_equal(VersionScheme s, const std::string& a, const std::string& b) {
  std::string why;
  EXPECT_EQ(compare_versions(s, a, b, &why), 0) << a << " == " << b << " (" << why << ")";
  EXPECT_EQ(compare_versions(s, b, a), 0) << b << " == " << a;
}

void check_less(VersionScheme s, const std::string& a, const std::string& b) { check_ascending(s, {a, b}); }

}  // namespace

// pypa/packaging tests/test_version.py: VERSIONS ("This list must be in the
// correct sorting order"), test_invalid_versions, test_normalized_versions.
TEST(Pep440, PackagingOrder) {
  const std::vector<std::string> order = {
      "1.0.dev0", "1.0.dev456", "1.0.dev456+local", "1.0a0", "1.0a0.post0.dev0", "1.0a0.post0", "1.0a1.dev1",
      "1.0a1.dev1+local", "1.0a1", "1.0a1+local", "1.0b0", "1.0b1.dev456", "1.0b2", "1.0b2.post345.dev456",
      "1.0b2.post345", "1.0b2-346", "1.0rc0", "1.0rc1.dev1", "1.0c1", "1.0rc2", "1.0", "1.0.post0.dev0",
      "1.0.post0", "1.0.post456.dev34", "1.0.post456", "1.0.post456+local", "1.0.1.dev1", "1.0.1a1", "1.0.1",
      "1.0.1+local", "1.0.1.post1", "1.1.dev1", "1.2+a", "1.2+abc", "1.2+abcdef", "1.2+def", "1.2+0", "1.2+1",
      "1.2+1.abc", "1.2+1.1", "1.2+1.1.0", "1.2+2", "1.2+123", "1.2+123456", "1.2.r32+123456",
      "1.2.rev33+123456"};
  std::vector<std::string> all = order;
  for (const std::string& v : order) all.push_back("1!" + v);  // the same list with an explicit epoch of 1
  // "1.0rc1.dev1" < "1.0c1" but "1.0c1" == "1.0rc1": ascending except that pair's neighbours.
  for (std::size_t i = 0; i < all.size(); ++i) {
    ASSERT_TRUE(valid_version(VersionScheme::Pep440, all[i])) << all[i];
    for (std::size_t j = i + 1; j < all.size(); ++j)
      EXPECT_EQ(sgn(compare_versions(VersionScheme::Pep440, all[i], all[j])), -1) << all[i] << " < " << all[j];
  }
  check_equal(VersionScheme::Pep440, "1.0rc1", "1.0c1");  // test_version_rc_and_c_equals
}

TEST(Pep440, PackagingNormalisedAndInvalid) {
  const std::pair<const char*, const char*> normalised[] = {
      {"1.0dev", "1.0.dev0"}, {"1.0.dev", "1.0.dev0"}, {"1.0-dev1", "1.0.dev1"}, {"1.0DEV", "1.0.dev0"},
      {"1.0a", "1.0a0"}, {"1.0.a1", "1.0a1"}, {"1.0-alpha1", "1.0a1"}, {"1.0.ALPHA", "1.0a0"},
      {"1.0beta", "1.0b0"}, {"1.0-B1", "1.0b1"}, {"1.0c", "1.0rc0"}, {"1.0.C1", "1.0rc1"}, {"1.0-rc", "1.0rc0"},
      {"1.0post", "1.0.post0"}, {"1.0-post1", "1.0.post1"}, {"1.0r", "1.0.post0"}, {"1.0rev", "1.0.post0"},
      {"1.0.r1", "1.0.post1"}, {"1.0-5", "1.0.post5"}, {"1.0-r5", "1.0.post5"}, {"1.0-rev5", "1.0.post5"},
      {"1.0+AbC", "1.0+abc"}, {"1.01", "1.1"}, {"1.0a05", "1.0a5"}, {"1.0c056", "1.0rc56"},
      {"1.0.post000", "1.0.post0"}, {"1.1.dev09000", "1.1.dev9000"}, {"00!1.2", "1.2"}, {"0100!0.0", "100!0.0"},
      {"v1.0", "1.0"}, {"   v1.0\t\n", "1.0"}};
  for (const auto& [in, out] : normalised) {
    EXPECT_TRUE(valid_version(VersionScheme::Pep440, in)) << in;
    check_equal(VersionScheme::Pep440, in, out);
  }
  for (const char* bad : {"french toast", "1.0+a+", "1.0++", "1.0+_foobar", "1.0+foo&asd", "1.0+1+1", "1. 0",
                          "1 .0", "1. 0a1", "1 .0a1", "1.0 a1", "1.0a 1", ".", "..", "1..0", "1.0.", ".1.0", "1..2.3",
                          "lolwat"}) {
    std::string err;
    EXPECT_FALSE(valid_version(VersionScheme::Pep440, bad, &err)) << bad;
    EXPECT_FALSE(err.empty()) << bad;
    EXPECT_LT(compare_versions(VersionScheme::Pep440, bad, "0"), 0) << bad << " sorts below any version";
  }
}

// apache/maven maven-artifact ComparableVersionTest (3.9 line): VERSIONS_QUALIFIER,
// VERSIONS_NUMBER, testVersionsEqual, testVersionComparing, testMng5568,
// testMng6572, testMng6964, testMng7644, testMng7714, leading zeroes.
TEST(Maven, ComparableVersionTest) {
  check_ascending(VersionScheme::Maven,
                  {"1-alpha2snapshot", "1-alpha2", "1-alpha-123", "1-beta-2", "1-beta123", "1-m2", "1-m11", "1-rc",
                   "1-cr2", "1-rc123", "1-SNAPSHOT", "1", "1-sp", "1-sp2", "1-sp123", "1-abc", "1-def", "1-pom-1",
                   "1-1-snapshot", "1-1", "1-2", "1-123"});
  check_ascending(VersionScheme::Maven,
                  {"2.0", "2.0.a", "2-1", "2.0.2", "2.0.123", "2.1.0", "2.1-a", "2.1b", "2.1-c", "2.1-1", "2.1.0.1",
                   "2.2", "2.123", "11.a2", "11.a11", "11.b2", "11.b11", "11.m2", "11.m11", "11", "11.a", "11b",
                   "11c", "11m"});
  const std::pair<const char*, const char*> equal[] = {
      {"1", "1"}, {"1", "1.0"}, {"1", "1.0.0"}, {"1.0", "1.0.0"}, {"1", "1-0"}, {"1", "1.0-0"}, {"1.0", "1.0-0"},
      {"1a", "1-a"}, {"1a", "1.0-a"}, {"1a", "1.0.0-a"}, {"1.0a", "1-a"}, {"1.0.0a", "1-a"}, {"1x", "1-x"},
      {"1x", "1.0-x"}, {"1x", "1.0.0-x"}, {"1.0x", "1-x"}, {"1.0.0x", "1-x"}, {"1cr", "1rc"}, {"1a1", "1-alpha-1"},
      {"1b2", "1-beta-2"}, {"1m3", "1-milestone-3"}, {"1X", "1x"}, {"1A", "1a"}, {"1B", "1b"}, {"1M", "1m"},
      {"1Cr", "1Rc"}, {"1cR", "1rC"}, {"1m3", "1Milestone3"}, {"1m3", "1MileStone3"}, {"1m3", "1MILESTONE3"},
      {"1ga", "1"}, {"1release", "1"}, {"1final", "1"}, {"1Ga", "1"}, {"1GA", "1"}, {"1RELEASE", "1"},
      {"1RELeaSE", "1"}, {"1Final", "1"}, {"1FinaL", "1"}, {"1FINAL", "1"},
      {"1-abcdefghijklmnopqrstuvwxyz", "1-ABCDEFGHIJKLMNOPQRSTUVWXYZ"}};
  for (const auto& [a, b] : equal) check_equal(VersionScheme::Maven, a, b);
  const std::pair<const char*, const char*> less[] = {
      {"1", "2"}, {"1.5", "2"}, {"1", "2.5"}, {"1.0", "1.1"}, {"1.1", "1.2"}, {"1.0.0", "1.1"}, {"1.0.1", "1.1"},
      {"1.1", "1.2.0"}, {"1.0-alpha-1", "1.0"}, {"1.0-alpha-1", "1.0-alpha-2"}, {"1.0-alpha-1", "1.0-beta-1"},
      {"1.0-beta-1", "1.0-SNAPSHOT"}, {"1.0-SNAPSHOT", "1.0"}, {"1.0-alpha-1-SNAPSHOT", "1.0-alpha-1"},
      {"1.0", "1.0-1"}, {"1.0-1", "1.0-2"}, {"1.0.0", "1.0-1"}, {"2.0-1", "2.0.1"}, {"2.0.1-klm", "2.0.1-lmn"},
      {"2.0.1", "2.0.1-xyz"}, {"2.0.1", "2.0.1-123"}, {"2.0.1-xyz", "2.0.1-123"}, {"0.7", "2"}, {"0.2", "1.0.7"},
      // MNG-5568
      {"6.1.0rc3", "6.1.0"}, {"6.1.0rc3", "6.1H.5-beta"}, {"6.1.0", "6.1H.5-beta"},
      // MNG-6572
      {"20190126.230843", "1234567890.12345"}, {"1234567890.12345", "123456789012345.1H.5-beta"},
      {"20190126.230843", "123456789012345.1H.5-beta"}, {"123456789012345.1H.5-beta", "12345678901234567890.1H.5-beta"},
      {"1234567890.12345", "12345678901234567890.1H.5-beta"}, {"20190126.230843", "12345678901234567890.1H.5-beta"},
      // MNG-6964
      {"1-0.alpha", "1"}, {"1-0.beta", "1"}, {"1-0.alpha", "1-0.beta"},
      // MNG-7714
      {"1.0.final-redhat", "1.0-sp1-redhat"}};
  for (const auto& [a, b] : less) check_less(VersionScheme::Maven, a, b);
  for (std::string x : {"abc", "alpha", "a", "beta", "b", "def", "milestone", "m", "RC"}) {  // MNG-7644
    check_less(VersionScheme::Maven, "1.0.0." + x + "1", "1.0.0-" + x + "2");
    check_equal(VersionScheme::Maven, "2-" + x, "2.0." + x);
    check_equal(VersionScheme::Maven, "2-" + x, "2.0.0." + x);
    check_equal(VersionScheme::Maven, "2.0." + x, "2.0.0." + x);
  }
  std::string ones = "1", zeros = "0";
  for (int i = 0; i < 18; ++i) {  // testVersion(Zero)EqualWithLeadingZeroes
    check_equal(VersionScheme::Maven, "0" + ones, "1");
    check_equal(VersionScheme::Maven, "0" + zeros, "0");
    ones = "0" + ones;
    zeros = "0" + zeros;
  }
}

// golang.org/x/mod semver/semver_test.go: `tests` is in ascending order
// (equal where the canonical forms are equal; invalid ones first, equal to
// each other), plus TestCompare's extra cases; pseudo-versions from the Go
// modules reference ("Pseudo-versions") and +incompatible.
TEST(Go, XModSemverTests) {
  struct T {
    const char* in;
    const char* canonical;
  };
  const T tests[] = {{"bad", ""},
                     {"v1-alpha.beta.gamma", ""},
                     {"v1-pre", ""},
                     {"v1+meta", ""},
                     {"v1-pre+meta", ""},
                     {"v1.2-pre", ""},
                     {"v1.2+meta", ""},
                     {"v1.2-pre+meta", ""},
                     {"v1.0.0-alpha", "v1.0.0-alpha"},
                     {"v1.0.0-alpha.1", "v1.0.0-alpha.1"},
                     {"v1.0.0-alpha.beta", "v1.0.0-alpha.beta"},
                     {"v1.0.0-beta", "v1.0.0-beta"},
                     {"v1.0.0-beta.2", "v1.0.0-beta.2"},
                     {"v1.0.0-beta.11", "v1.0.0-beta.11"},
                     {"v1.0.0-rc.1", "v1.0.0-rc.1"},
                     {"v1", "v1.0.0"},
                     {"v1.0", "v1.0.0"},
                     {"v1.0.0", "v1.0.0"},
                     {"v1.2", "v1.2.0"},
                     {"v1.2.0", "v1.2.0"},
                     {"v1.2.3-456", "v1.2.3-456"},
                     {"v1.2.3-456.789", "v1.2.3-456.789"},
                     {"v1.2.3-456-789", "v1.2.3-456-789"},
                     {"v1.2.3-456a", "v1.2.3-456a"},
                     {"v1.2.3-pre", "v1.2.3-pre"},
                     {"v1.2.3-pre+meta", "v1.2.3-pre"},
                     {"v1.2.3-pre.1", "v1.2.3-pre.1"},
                     {"v1.2.3-zzz", "v1.2.3-zzz"},
                     {"v1.2.3", "v1.2.3"},
                     {"v1.2.3+meta", "v1.2.3"},
                     {"v1.2.3+meta-pre", "v1.2.3"},
                     {"v1.2.3+meta-pre.sha.256a", "v1.2.3"}};
  const std::size_t n = sizeof(tests) / sizeof(tests[0]);
  for (std::size_t i = 0; i < n; ++i) {
    EXPECT_EQ(valid_version(VersionScheme::Go, tests[i].in), std::string(tests[i].canonical) != "") << tests[i].in;
    for (std::size_t j = 0; j < n; ++j) {
      int want = std::string(tests[i].canonical) == tests[j].canonical ? 0 : (i < j ? -1 : 1);
      EXPECT_EQ(sgn(compare_versions(VersionScheme::Go, tests[i].in, tests[j].in)), want)
          << tests[i].in << " vs " << tests[j].in;
    }
  }
  EXPECT_EQ(compare_versions(VersionScheme::Go, "v1", "v1"), 0);
  EXPECT_EQ(sgn(compare_versions(VersionScheme::Go, "v2", "v1")), 1);
  EXPECT_EQ(sgn(compare_versions(VersionScheme::Go, "v1", "v2")), -1);
  EXPECT_EQ(sgn(compare_versions(VersionScheme::Go, "v1.19", "v1.2")), 1);  // x/mod: Compare("v1.19","v1.2")... numeric
  // Pseudo-versions (go.dev/ref/mod#pseudo-versions): the three forms, ordered
  // by base then by commit time, and below the next release.
  check_ascending(VersionScheme::Go, {"v0.0.0-20191109021931-daa7c04131f5", "v0.0.0-20200101000000-0123456789ab",
                                      "v0.1.0", "v1.2.3-pre.0.20191109021931-daa7c04131f5", "v1.2.3",
                                      "v1.2.4-0.20191109021931-daa7c04131f5", "v1.2.4-0.20201109021931-daa7c04131f5",
                                      "v1.2.4"});
  check_equal(VersionScheme::Go, "v2.0.0+incompatible", "v2.0.0");
  EXPECT_TRUE(valid_version(VersionScheme::Go, "v4.1.2+incompatible"));
  EXPECT_FALSE(valid_version(VersionScheme::Go, "1.2.3"));
  EXPECT_FALSE(valid_version(VersionScheme::Go, "v01.2.3"));
  std::string why;
  compare_versions(VersionScheme::Go, "v1.2.4-0.20191109021931-daa7c04131f5", "v1.2.4-0.20201109021931-daa7c04131f5",
                   &why);
  EXPECT_NE(why.find("pseudo-version"), std::string::npos) << why;
}

// ruby/rubygems test/rubygems/test_gem_version.rb: test_spaceship,
// test_semver, test_equals2, test_initialize, test_initialize_invalid,
// test_empty_version, test_prerelease's versions, test_canonical_segments,
// the sort-key tests and test_frozen_version. (Its newest
// test_hyphen_and_dot_prerelease_are_the_same_version, rubygems issue 9910,
// is not followed: released Gem::Version reads '-' as ".pre.".)
TEST(RubyGems, TestGemVersion) {
  const VersionScheme g = VersionScheme::RubyGems;
  check_equal(g, "1.0", "1.0.0");
  check_less(g, "1.0.a", "1.0");
  check_less(g, "0.0.0", "1.8.2");
  check_less(g, "1.8.2.a", "1.8.2");
  check_less(g, "1.8.2.a", "1.8.2.b");
  check_less(g, "1.8.2.a9", "1.8.2.a10");
  check_equal(g, "", "0");
  check_equal(g, "0.beta.1", "0.0.beta.1");
  check_less(g, "0.0.beta", "0.0.beta.1");
  check_less(g, "0.0.beta", "0.beta.1");
  check_less(g, "5.a", "5.0.0.rc2");
  check_less(g, "5.0.0.rc2", "5.x");
  check_equal(g, "1.9.3", "1.9.3");
  check_less(g, "1.9.2.99", "1.9.3");
  check_less(g, "1.9.3", "1.9.3.1");
  check_ascending(g, {"1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1"});
  check_less(g, "1.0.0-rc1", "1.0.0");
  check_less(g, "1.0.0-1", "1");
  check_equal(g, "1.2", "1.2");
  check_less(g, "1.2", "1.3");
  check_equal(g, "1.2.b1", "1.2.b.1");
  check_equal(g, "1.2.pre.1", "1.2.0.pre.1.0");
  check_equal(g, "1.0.0.a.1.0", "1.a.1");  // canonical_segments [1, "a", 1]
  check_equal(g, "1.2.3-1", "1.2.3.pre.1");
  check_less(g, "0.0.1.20220404083012", "1.0.0");
  check_less(g, "0.6.63000", "0.7.0");
  check_less(g, "18.0.1", "18.0.2");
  check_less(g, "1.freeze.test", "1");
  for (const char* good : {"1.0", "1.0 ", " 1.0 ", "1.0\n", "\n1.0\n", "", "   ", " "}) {
    EXPECT_TRUE(valid_version(g, good)) << good;
  }
  for (const char* good : {"1.0", "1.0 ", " 1.0 ", "1.0\n", "\n1.0\n"}) check_equal(g, "1.0", good);
  for (const char* bad : {"junk", "1.0\n2.0", "1..2", "1.2 3.4", "2.3422222.222.222222222.22222.ads0as.dasd0.ddd2222.2.qd3e.",
                          "an incorrect version"}) {
    std::string err;
    EXPECT_FALSE(valid_version(g, bad, &err)) << bad;
  }
  for (const char* pre : {"1.2.0.a", "2.9.b", "22.1.50.0.d", "1.2.d.42", "1.A", "1-1", "1-a"})
    EXPECT_TRUE(valid_version(g, pre)) << pre;
}

// npm/node-semver test/fixtures/range-include.js and range-exclude.js: the
// entries without `loose` or `includePrerelease` (those options change the
// grammar and kguard reads npm's default).
TEST(Npm, NodeSemverRangeFixtures) {
  const std::pair<const char*, const char*> include[] = {
      {"1.0.0 - 2.0.0", "1.2.3"}, {"^1.2.3+build", "1.2.3"}, {"^1.2.3+build", "1.3.0"},
      {"1.2.3-pre+asdf - 2.4.3-pre+asdf", "1.2.3"}, {"1.2.3-pre+asdf - 2.4.3-pre+asdf", "1.2.3-pre.2"},
      {"1.2.3-pre+asdf - 2.4.3-pre+asdf", "2.4.3-alpha"}, {"1.2.3+asdf - 2.4.3+asdf", "1.2.3"},
      {"1.0.0", "1.0.0"}, {">=*", "0.2.4"}, {"", "1.0.0"}, {"*", "1.2.3"}, {">=1.0.0", "1.0.0"},
      {">=1.0.0", "1.0.1"}, {">=1.0.0", "1.1.0"}, {">1.0.0", "1.0.1"}, {">1.0.0", "1.1.0"}, {"<=2.0.0", "2.0.0"},
      {"<=2.0.0", "1.9999.9999"}, {"<=2.0.0", "0.2.9"}, {"<2.0.0", "1.9999.9999"}, {"<2.0.0", "0.2.9"},
      {">= 1.0.0", "1.0.0"}, {">=  1.0.0", "1.0.1"}, {">=   1.0.0", "1.1.0"}, {"> 1.0.0", "1.0.1"},
      {">  1.0.0", "1.1.0"}, {"<=   2.0.0", "2.0.0"}, {"<= 2.0.0", "1.9999.9999"}, {"<=  2.0.0", "0.2.9"},
      {"<    2.0.0", "1.9999.9999"}, {"<\t2.0.0", "0.2.9"}, {">=0.1.97", "0.1.97"}, {"0.1.20 || 1.2.4", "1.2.4"},
      {">=0.2.3 || <0.0.1", "0.0.0"}, {">=0.2.3 || <0.0.1", "0.2.3"}, {">=0.2.3 || <0.0.1", "0.2.4"},
      {"||", "1.3.4"}, {"2.x.x", "2.1.3"}, {"1.2.x", "1.2.3"}, {"1.2.x || 2.x", "2.1.3"}, {"1.2.x || 2.x", "1.2.3"},
      {"x", "1.2.3"}, {"2.*.*", "2.1.3"}, {"1.2.*", "1.2.3"}, {"1.2.* || 2.*", "2.1.3"}, {"1.2.* || 2.*", "1.2.3"},
      {"*", "1.2.3"}, {"2", "2.1.2"}, {"2.3", "2.3.1"}, {"~0.0.1", "0.0.1"}, {"~0.0.1", "0.0.2"}, {"~x", "0.0.9"},
      {"~2", "2.0.9"}, {"~2.4", "2.4.0"}, {"~2.4", "2.4.5"}, {"~>3.2.1", "3.2.2"}, {"~1", "1.2.3"},
      {"~>1", "1.2.3"}, {"~> 1", "1.2.3"}, {"~1.0", "1.0.2"}, {"~ 1.0", "1.0.2"}, {"~ 1.0.3", "1.0.12"},
      {">=1", "1.0.0"}, {">= 1", "1.0.0"}, {"<1.2", "1.1.1"}, {"< 1.2", "1.1.1"}, {"~v0.5.4-pre", "0.5.5"},
      {"~v0.5.4-pre", "0.5.4"}, {"=0.7.x", "0.7.2"}, {"<=0.7.x", "0.7.2"}, {">=0.7.x", "0.7.2"},
      {"<=0.7.x", "0.6.2"}, {"~1.2.1 >=1.2.3", "1.2.3"}, {"~1.2.1 =1.2.3", "1.2.3"}, {"~1.2.1 1.2.3", "1.2.3"},
      {"~1.2.1 >=1.2.3 1.2.3", "1.2.3"}, {"~1.2.1 1.2.3 >=1.2.3", "1.2.3"}, {">=1.2.1 1.2.3", "1.2.3"},
      {"1.2.3 >=1.2.1", "1.2.3"}, {">=1.2.3 >=1.2.1", "1.2.3"}, {">=1.2.1 >=1.2.3", "1.2.3"}, {">=1.2", "1.2.8"},
      {"^1.2.3", "1.8.1"}, {"^0.1.2", "0.1.2"}, {"^0.1", "0.1.2"}, {"^0.0.1", "0.0.1"}, {"^1.2", "1.4.2"},
      {"^1.2 ^1", "1.4.2"}, {"^1.2.3-alpha", "1.2.3-pre"}, {"^1.2.0-alpha", "1.2.0-pre"},
      {"^0.0.1-alpha", "0.0.1-beta"}, {"^0.0.1-alpha", "0.0.1"}, {"^0.1.1-alpha", "0.1.1-beta"}, {"^x", "1.2.3"},
      {"x - 1.0.0", "0.9.7"}, {"x - 1.x", "0.9.7"}, {"1.0.0 - x", "1.9.7"}, {"1.x - x", "1.9.7"},
      {"<=7.x", "7.9.9"}};
  const std::pair<const char*, const char*> exclude[] = {
      {"1.0.0 - 2.0.0", "2.2.3"}, {"1.2.3+asdf - 2.4.3+asdf", "1.2.3-pre.2"}, {"1.2.3+asdf - 2.4.3+asdf", "2.4.3-alpha"},
      {"^1.2.3+build", "2.0.0"}, {"^1.2.3+build", "1.2.0"}, {"^1.2.3", "1.2.3-pre"}, {"^1.2", "1.2.0-pre"},
      {">1.2", "1.3.0-beta"}, {"<=1.2.3", "1.2.3-beta"}, {"^1.2.3", "1.2.3-beta"}, {"=0.7.x", "0.7.0-asdf"},
      {">=0.7.x", "0.7.0-asdf"}, {"1.0.0", "1.0.1"}, {">=1.0.0", "0.0.0"}, {">=1.0.0", "0.0.1"},
      {">=1.0.0", "0.1.0"}, {">1.0.0", "0.0.1"}, {">1.0.0", "0.1.0"}, {"<=2.0.0", "3.0.0"},
      {"<=2.0.0", "2.9999.9999"}, {"<=2.0.0", "2.2.9"}, {"<2.0.0", "2.9999.9999"}, {"<2.0.0", "2.2.9"},
      {">=0.1.97", "0.1.93"}, {"0.1.20 || 1.2.4", "1.2.3"}, {">=0.2.3 || <0.0.1", "0.0.3"},
      {">=0.2.3 || <0.0.1", "0.2.2"}, {"2.x.x", "1.1.3"}, {"2.x.x", "3.1.3"}, {"1.2.x", "1.3.3"},
      {"1.2.x || 2.x", "3.1.3"}, {"1.2.x || 2.x", "1.1.3"}, {"2.*.*", "1.1.3"}, {"2.*.*", "3.1.3"},
      {"1.2.*", "1.3.3"}, {"1.2.* || 2.*", "3.1.3"}, {"1.2.* || 2.*", "1.1.3"}, {"2", "1.1.2"}, {"2.3", "2.4.1"},
      {"~0.0.1", "0.1.0-alpha"}, {"~0.0.1", "0.1.0"}, {"~2.4", "2.5.0"}, {"~2.4", "2.3.9"}, {"~>3.2.1", "3.3.2"},
      {"~>3.2.1", "3.2.0"}, {"~1", "0.2.3"}, {"~>1", "2.2.3"}, {"~1.0", "1.1.0"}, {"<1", "1.0.0"},
      {">=1.2", "1.1.1"}, {"~v0.5.4-beta", "0.5.4-alpha"}, {"=0.7.x", "0.8.2"}, {">=0.7.x", "0.6.2"},
      {"<0.7.x", "0.7.2"}, {"<1.2.3", "1.2.3-beta"}, {"=1.2.3", "1.2.3-beta"}, {">1.2", "1.2.8"},
      {"^0.0.1", "0.0.2-alpha"}, {"^0.0.1", "0.0.2"}, {"^1.2.3", "2.0.0-alpha"}, {"^1.2.3", "1.2.2"},
      {"^1.2", "1.1.9"}, {"*", "not a version"}, {">=2", "glorp"}, {"^1.0.0", "2.0.0-rc1"}};
  int n = 0;
  for (const auto& [range, version] : include) {
    std::string err;
    auto r = npm_range_satisfied(version, range, &err);
    ASSERT_TRUE(r.has_value()) << range << ": " << err;
    EXPECT_TRUE(*r) << version << " satisfies '" << range << "'";
    ++n;
  }
  for (const auto& [range, version] : exclude) {
    std::string err;
    auto r = npm_range_satisfied(version, range, &err);
    ASSERT_TRUE(r.has_value()) << range << ": " << err;
    EXPECT_FALSE(*r) << version << " does not satisfy '" << range << "'";
    ++n;
  }
  std::cout << "[vectors] node-semver range fixtures: " << n << " checked\n";
  // Ranges node-semver refuses (test/fixtures/invalid-ranges.js shapes).
  for (const char* bad : {">=1.2.3 <", "1.2.3 - ", "~foo", "^1.2.3.4", ">01.2.3", "blerg", ">= x.y"}) {
    std::string err;
    EXPECT_FALSE(npm_range_satisfied("1.2.3", bad, &err).has_value()) << bad;
  }
}

// SemVer 2.0.0 §9–§11 examples, strict validity.
TEST(Semver, SpecExamples) {
  check_ascending(VersionScheme::Semver, {"1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta",
                                          "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "2.0.0", "2.1.0",
                                          "2.1.1"});
  check_equal(VersionScheme::Semver, "1.0.0+20130313144700", "1.0.0+exp.sha.5114f85");
  for (const char* good : {"1.0.0-alpha+001", "1.0.0+20130313144700", "1.0.0-beta+exp.sha.5114f85", "1.0.0-0.3.7",
                           "1.0.0-x.7.z.92", "1.0.0-x-y-z.--"})
    EXPECT_TRUE(valid_version(VersionScheme::Semver, good)) << good;
  for (const char* bad : {"1.0", "01.0.0", "1.0.0-01", "1.0.0-", "1.0.0+", "1.0.0-a..b", "v1.0.0", "1.0.0.0"})
    EXPECT_FALSE(valid_version(VersionScheme::Semver, bad)) << bad;
}

// deb-version(7) and dpkg's own t/version tests: validity messages of
// parseversion, and the `why` line of the contract's example.
TEST(Dpkg, ValidityAndWhy) {
  std::string err;
  EXPECT_TRUE(valid_version(VersionScheme::Dpkg, "1:2.36.1-8+deb12u1"));
  EXPECT_FALSE(valid_version(VersionScheme::Dpkg, "", &err));
  EXPECT_EQ(err, "version string is empty");
  EXPECT_FALSE(valid_version(VersionScheme::Dpkg, "a:1.0", &err));
  EXPECT_EQ(err, "epoch in version is not number");
  EXPECT_FALSE(valid_version(VersionScheme::Dpkg, "1:", &err));
  EXPECT_EQ(err, "nothing after colon in version number");
  EXPECT_FALSE(valid_version(VersionScheme::Dpkg, "1.0-", &err));
  EXPECT_EQ(err, "revision number is empty");
  EXPECT_FALSE(valid_version(VersionScheme::Dpkg, "1 0", &err));
  EXPECT_EQ(err, "version string has embedded spaces");
  std::string why;
  EXPECT_LT(compare_versions(VersionScheme::Dpkg, "1.2-3", "1.2-3+deb12u1", &why), 0);
  EXPECT_EQ(why, "upstream 1.2 = 1.2; revision 3 < 3+deb12u1: end < '+': the end (or a digit) sorts before any other character");
  EXPECT_LT(compare_versions(VersionScheme::Dpkg, "1.0~rc1", "1.0", &why), 0);
  EXPECT_NE(why.find("'~'"), std::string::npos) << why;
  EXPECT_GT(compare_versions(VersionScheme::Dpkg, "2:1.0", "1:9.9", &why), 0);
  EXPECT_EQ(why, "epoch 2 > 1");
}

// apk-tools test/unit/version.data shapes that separate the two majors
// (research notes §2b): `~hash` and leading zeros in 3.x, letter+digit in 2.x.
TEST(Apk, MajorsDiffer) {
  EXPECT_TRUE(valid_version(VersionScheme::Apk, "1.2.3~abc123-r1"));
  EXPECT_FALSE(valid_version(VersionScheme::Apk2, "1.2.3~abc123-r1"));
  EXPECT_FALSE(valid_version(VersionScheme::Apk, "5.7.1p1-r0"));
  EXPECT_TRUE(valid_version(VersionScheme::Apk2, "5.7.1p1-r0"));
  EXPECT_LT(compare_versions(VersionScheme::Apk2, "5.7.1p1-r0", "5.7.1p1-r1"), 0);
  EXPECT_EQ(compare_versions(VersionScheme::Apk, "5.7.1p1-r0", "5.7.1p1-r1"), 0);  // invalid at the same token
  // Gentoo rule in 3.x: a leading zero compares as text.
  EXPECT_LT(compare_versions(VersionScheme::Apk, "8.2.0", "8.2.001"), 0);
  EXPECT_LT(compare_versions(VersionScheme::Apk, "8.2.0015", "8.2.002"), 0);
  check_ascending(VersionScheme::Apk, {"1.0_alpha1", "1.0_beta", "1.0_pre2", "1.0_rc1", "1.0", "1.0-r1", "1.0_p1",
                                       "1.0a", "1.0.1"});
  // apk-tools 2 after "1.0": a zero run after '.' is its own token and the next
  // token is then read as a number, so a bare "1.0" (no -r) ends where
  // "1.0_rc1" goes on with an empty number: compare them with revisions, as
  // Alpine's versions always carry one.
  check_ascending(VersionScheme::Apk2, {"1.0_alpha1-r0", "1.0_beta-r0", "1.0_pre2-r0", "1.0_rc1-r0", "1.0-r0",
                                        "1.0-r1", "1.0_p1-r0", "1.0a-r0", "1.0.1-r0"});
  EXPECT_LT(compare_versions(VersionScheme::Apk, "1.0~abc", "1.0~abd"), 0);
}

TEST(Rpm, EvrAndValidity) {
  check_ascending(VersionScheme::Rpm, {"1.0~rc1-1", "1.0-1", "1.0^git1-1", "1.01-1", "1:0.1-1"});
  EXPECT_TRUE(valid_version(VersionScheme::Rpm, "1:2.3.4-5.el9_2"));
  EXPECT_FALSE(valid_version(VersionScheme::Rpm, "1.0-"));
  EXPECT_FALSE(valid_version(VersionScheme::Rpm, "a:1.0-1"));
}

TEST(Scheme, NamesRoundTrip) {
  for (const char* n : {"dpkg", "apk", "apk2", "rpm", "semver", "pep440", "maven", "go", "rubygems"}) {
    auto s = kg::vuln::parse_version_scheme(n);
    ASSERT_TRUE(s.has_value()) << n;
    EXPECT_EQ(kg::vuln::to_string(*s), n);
  }
  EXPECT_EQ(kg::vuln::parse_version_scheme("Debian"), VersionScheme::Dpkg);
  EXPECT_FALSE(kg::vuln::parse_version_scheme("nuget").has_value());
}

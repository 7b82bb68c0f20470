// Version order for every ecosystem the vulnerability matcher meets, each as
// the ecosystem's own tool orders versions (dpkg lib/dpkg/version.c, apk-tools
// src/version.c, rpm rpmio/rpmvercmp.cc, SemVer 2.0, PEP 440, Maven
// ComparableVersion, Go modules, RubyGems). A wrong order is a false positive
// or a missed vulnerability, so each is a port, not an approximation.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace kg::vuln {

enum class VersionScheme : std::uint8_t {
  Dpkg,      // Debian, Ubuntu: [epoch:]upstream[-revision], '~' sorts first
  Apk,       // apk-tools 3.x (Alpine 3.23 and later, Wolfi)
  Apk2,      // apk-tools 2.x (Alpine up to 3.22): the older order
  Rpm,       // rpmvercmp over [epoch:]version[-release], '~' and '^'
  Semver,    // SemVer 2.0 precedence (npm, crates.io, and OSV SEMVER ranges)
  Pep440,    // PyPI
  Maven,     // Maven ComparableVersion
  Go,        // Go modules: semver with a 'v', pseudo-versions, +incompatible
  RubyGems,  // Gem::Version
};

// "dpkg" (or "deb", "debian", "ubuntu"), "apk" (or "alpine", "wolfi"), "apk2",
// "rpm" (or "redhat"), "semver" (or "npm", "cargo", "crates.io"), "pep440"
// (or "pypi", "python"), "maven", "go" (or "golang"), "rubygems" (or "gem").
// Case-insensitive; nullopt for anything else.
std::optional<VersionScheme> parse_version_scheme(std::string_view name);
std::string_view to_string(VersionScheme s);  // the canonical name above

// The order of a and b: negative, zero or positive like strcmp. A version the
// scheme cannot parse still gets a total, deterministic order (as the tools
// themselves do, or lexical where they refuse), and `valid_version` says so.
// With `why`, a one-line account of the deciding step is written there
// ("upstream 1.2 = 1.2; revision 3 < 3+deb12u1: '+' after end").
int compare_versions(VersionScheme s, std::string_view a, std::string_view b, std::string* why = nullptr);

// Whether v is a well-formed version of the scheme; on false, `error` says why.
bool valid_version(VersionScheme s, std::string_view v, std::string* error = nullptr);

// npm's range grammar (node-semver): "^1.2.3", "~1.2", ">=1.0.0 <2.0.0 || 3.x",
// "1.2.3 - 2.3.4", "*", with pre-release versions excluded unless a comparator
// of the same [major, minor, patch] names one. nullopt when the range does not
// parse (`error` says where).
std::optional<bool> npm_range_satisfied(std::string_view version, std::string_view range, std::string* error = nullptr);

}  // namespace kg::vuln

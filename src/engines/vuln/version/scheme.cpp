#include <array>
#include <cctype>

#include "engines/vuln/version/version.hpp"

namespace kg::vuln {

namespace {

struct SchemeName {
  std::string_view name;
  VersionScheme scheme;
};

// Canonical names first: to_string returns the first entry of each scheme.
constexpr std::array<SchemeName, 22> kNames{{
    {"dpkg", VersionScheme::Dpkg},     {"apk", VersionScheme::Apk},
    {"apk2", VersionScheme::Apk2},     {"rpm", VersionScheme::Rpm},
    {"semver", VersionScheme::Semver}, {"pep440", VersionScheme::Pep440},
    {"maven", VersionScheme::Maven},   {"go", VersionScheme::Go},
    {"rubygems", VersionScheme::RubyGems},
    {"deb", VersionScheme::Dpkg},      {"debian", VersionScheme::Dpkg},
    {"ubuntu", VersionScheme::Dpkg},   {"alpine", VersionScheme::Apk},
    {"wolfi", VersionScheme::Apk},     {"redhat", VersionScheme::Rpm},
    {"npm", VersionScheme::Semver},    {"cargo", VersionScheme::Semver},
    {"crates.io", VersionScheme::Semver}, {"pypi", VersionScheme::Pep440},
    {"python", VersionScheme::Pep440}, {"golang", VersionScheme::Go},
    {"gem", VersionScheme::RubyGems},
}};

bool iequal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != b[i]) return false;
  return true;
}

}  // namespace

std::optional<VersionScheme> parse_version_scheme(std::string_view name) {
  for (const SchemeName& n : kNames)
    if (iequal(name, n.name)) return n.scheme;
  return std::nullopt;
}

std::string_view to_string(VersionScheme s) {
  for (const SchemeName& n : kNames)
    if (n.scheme == s) return n.name;
  return "unknown";
}

}  // namespace kg::vuln

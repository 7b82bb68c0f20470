// compare_versions / valid_version: one switch onto the per-ecosystem ports.
#include "engines/vuln/version/detail.hpp"
#include "engines/vuln/version/version.hpp"

namespace kg::vuln {

int compare_versions(VersionScheme s, std::string_view a, std::string_view b, std::string* why) {
  switch (s) {
    case VersionScheme::Dpkg: return detail::compare_dpkg(a, b, why);
    case VersionScheme::Apk: return detail::compare_apk(a, b, why);
    case VersionScheme::Apk2: return detail::compare_apk2(a, b, why);
    case VersionScheme::Rpm: return detail::compare_rpm(a, b, why);
    case VersionScheme::Semver: return detail::compare_semver(a, b, why);
    case VersionScheme::Pep440: return detail::compare_pep440(a, b, why);
    case VersionScheme::Maven: return detail::compare_maven(a, b, why);
    case VersionScheme::Go: return detail::compare_go(a, b, why);
    case VersionScheme::RubyGems: return detail::compare_rubygems(a, b, why);
  }
  return detail::compare_bytes(a, b);
}

bool valid_version(VersionScheme s, std::string_view v, std::string* error) {
  switch (s) {
    case VersionScheme::Dpkg: return detail::valid_dpkg(v, error);
    case VersionScheme::Apk: return detail::valid_apk(v, error);
    case VersionScheme::Apk2: return detail::valid_apk2(v, error);
    case VersionScheme::Rpm: return detail::valid_rpm(v, error);
    case VersionScheme::Semver: return detail::valid_semver(v, error);
    case VersionScheme::Pep440: return detail::valid_pep440(v, error);
    case VersionScheme::Maven: return detail::valid_maven(v, error);
    case VersionScheme::Go: return detail::valid_go(v, error);
    case VersionScheme::RubyGems: return detail::valid_rubygems(v, error);
  }
  return false;
}

}  // namespace kg::vuln

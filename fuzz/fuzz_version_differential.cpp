// libFuzzer target: the order properties of every version scheme on any
// bytes (engines/vuln/version). The input is three versions separated by
// '\n'; for each scheme: no crash, reflexivity (a = a), antisymmetry
// (sign(a, b) = -sign(b, a)), transitivity on the triple (a <= b <= c
// implies a <= c, with = and < kept), and the same answer with and without
// `why`. The oracle check against dpkg and rpm themselves is the ctest
// version_differential (a process per pair is too slow for libFuzzer).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "engines/vuln/version/version.hpp"

namespace {

using kg::vuln::VersionScheme;

constexpr VersionScheme kSchemes[] = {VersionScheme::Dpkg,   VersionScheme::Apk,    VersionScheme::Apk2,
                                      VersionScheme::Rpm,    VersionScheme::Semver, VersionScheme::Pep440,
                                      VersionScheme::Maven,  VersionScheme::Go,     VersionScheme::RubyGems};

int sgn(int r) { return r < 0 ? -1 : (r > 0 ? 1 : 0); }

void check(VersionScheme s, std::string_view a, std::string_view b, std::string_view c) {
  const std::string_view v[3] = {a, b, c};
  int r[3][3];
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) r[i][j] = sgn(kg::vuln::compare_versions(s, v[i], v[j]));
  for (int i = 0; i < 3; ++i) {
    if (r[i][i] != 0) __builtin_trap();  // reflexive
    for (int j = 0; j < 3; ++j) {
      if (r[i][j] != -r[j][i]) __builtin_trap();  // antisymmetric
      for (int k = 0; k < 3; ++k) {
        // transitive: i <= j <= k => i <= k, and strict if either step is
        if (r[i][j] <= 0 && r[j][k] <= 0) {
          int want = (r[i][j] < 0 || r[j][k] < 0) ? -1 : 0;
          if (r[i][k] != want) __builtin_trap();
        }
      }
    }
  }
  std::string why;
  if (sgn(kg::vuln::compare_versions(s, a, b, &why)) != r[0][1] || why.empty()) __builtin_trap();
  std::string err;
  if (!kg::vuln::valid_version(s, a, &err) && err.empty()) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::size_t n1 = in.find('\n');
  std::string_view a = in.substr(0, n1), rest = n1 == std::string_view::npos ? std::string_view() : in.substr(n1 + 1);
  std::size_t n2 = rest.find('\n');
  std::string_view b = rest.substr(0, n2), c = n2 == std::string_view::npos ? std::string_view() : rest.substr(n2 + 1);
  for (VersionScheme s : kSchemes) check(s, a, b, c);
  return 0;
}

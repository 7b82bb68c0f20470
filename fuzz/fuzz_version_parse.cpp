// libFuzzer target for each version parser (engines/vuln/version): the first
// byte picks the parser (the nine schemes, then npm ranges), the rest is the
// input. A refusal always says why; a comparison against a few fixed versions
// always explains itself; npm ranges parse or say where they do not.
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
constexpr std::string_view kOthers[] = {"", "0", "1.0", "1:1.2-3", "v1.2.3-rc.1+b", "1.0-r1", "1!2.0.post1.dev3+x.y",
                                        "1.0-SNAPSHOT", "v0.0.0-20191109021931-daa7c04131f5", "1.0.a.1"};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  unsigned pick = data[0] % 10;
  if (pick == 9) {  // npm: "version\nrange"
    std::size_t nl = in.find('\n');
    std::string_view version = in.substr(0, nl), range = nl == std::string_view::npos ? in : in.substr(nl + 1);
    std::string err;
    auto r = kg::vuln::npm_range_satisfied(version, range, &err);
    if (!r && err.empty()) __builtin_trap();
    return 0;
  }
  VersionScheme s = kSchemes[pick];
  std::string err;
  if (!kg::vuln::valid_version(s, in, &err) && err.empty()) __builtin_trap();
  for (std::string_view o : kOthers) {
    std::string why;
    int r = kg::vuln::compare_versions(s, in, o, &why);
    if (why.empty()) __builtin_trap();
    if ((r < 0) != (kg::vuln::compare_versions(s, o, in) > 0)) __builtin_trap();
  }
  return 0;
}

// `kguard vuln SUBCOMMAND ...`: the vulnerability engine's commands. run_vuln
// dispatches; each subcommand is one function here (more join as issue 15's
// pieces land: db, match).
#include <iostream>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "engines/vuln/version/version.hpp"

namespace kg::cli {

namespace {

constexpr const char* kVulnUsage = R"(Usage:
  kguard vuln compare ECOSYSTEM A B [-v]
      Order two versions as the ecosystem's own tool does; prints <, = or >.
      -v, --verbose   also print the step that decided it
      ECOSYSTEM: dpkg (deb, debian, ubuntu), apk (alpine, wolfi: apk-tools 3),
                 apk2 (apk-tools 2, Alpine 3.22 and earlier), rpm (redhat),
                 semver (npm, cargo, crates.io), pep440 (pypi, python), maven,
                 go (golang), rubygems (gem)

Exit status: 0 on an answer, 2 on a usage error (unknown ecosystem, missing version).
)";

constexpr const char* kEcosystems =
    "dpkg (deb, debian, ubuntu), apk (alpine, wolfi), apk2, rpm (redhat), semver (npm, cargo, crates.io), "
    "pep440 (pypi, python), maven, go (golang), rubygems (gem)";

int compare_command(const std::vector<std::string>& args) {
  bool verbose = false;
  std::vector<std::string> pos;
  bool only_positional = false;
  for (const std::string& a : args) {
    if (!only_positional && (a == "-h" || a == "--help")) {
      std::cout << kVulnUsage;
      return 0;
    }
    if (!only_positional && (a == "-v" || a == "--verbose")) {
      verbose = true;
    } else if (!only_positional && a == "--") {
      only_positional = true;  // versions that start with '-'
    } else if (!only_positional && a.size() > 2 && a.rfind("--", 0) == 0) {
      std::cerr << "kguard vuln compare: unknown flag '" << a << "'\n" << kVulnUsage;
      return 2;
    } else {
      pos.push_back(a);
    }
  }
  if (pos.size() != 3) {
    std::cerr << "kguard vuln compare: expected ECOSYSTEM A B, got " << pos.size() << " argument"
              << (pos.size() == 1 ? "" : "s") << "\n"
              << kVulnUsage;
    return 2;
  }
  auto scheme = kg::vuln::parse_version_scheme(pos[0]);
  if (!scheme) {
    std::cerr << "kguard vuln compare: unknown ecosystem '" << pos[0] << "'; known: " << kEcosystems << "\n";
    return 2;
  }
  for (int k = 1; k <= 2; ++k) {
    std::string err;
    if (!kg::vuln::valid_version(*scheme, pos[k], &err))
      std::cerr << "kguard vuln compare: warning: '" << pos[k] << "' is not a valid " << kg::vuln::to_string(*scheme)
                << " version (" << err << "); compared as " << kg::vuln::to_string(*scheme) << " would\n";
  }
  std::string why;
  int r = kg::vuln::compare_versions(*scheme, pos[1], pos[2], verbose ? &why : nullptr);
  std::cout << (r < 0 ? '<' : r > 0 ? '>' : '=') << '\n';
  if (verbose) std::cout << kg::vuln::to_string(*scheme) << ": " << why << '\n';
  return 0;
}

}  // namespace

int run_vuln(const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "-h" || args[0] == "--help") {
    (args.empty() ? std::cerr : std::cout) << kVulnUsage;
    return args.empty() ? 2 : 0;
  }
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  if (args[0] == "compare") return compare_command(rest);
  std::cerr << "kguard vuln: unknown subcommand '" << args[0] << "'\n" << kVulnUsage;
  return 2;
}

}  // namespace kg::cli

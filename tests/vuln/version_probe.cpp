// Reads tab-separated requests on stdin, one per line, and answers each on
// stdout, for tests/vuln/version_differential.py (the oracle test against
// dpkg, rpm, packaging and node-semver):
//   cmp <scheme> <a> <b>     -> "<", "=" or ">"
//   valid <scheme> <v>       -> "1" or "0"
//   range <version> <range>  -> "1", "0" or "error"
#include <iostream>
#include <string>
#include <vector>

#include "engines/vuln/version/version.hpp"

int main() {
  std::string line;
  while (std::getline(std::cin, line)) {
    std::vector<std::string> f;
    std::size_t start = 0;
    for (std::size_t i = 0; i <= line.size(); ++i)
      if (i == line.size() || line[i] == '\t') {
        f.push_back(line.substr(start, i - start));
        start = i + 1;
      }
    if (f[0] == "range" && f.size() == 3) {
      auto r = kg::vuln::npm_range_satisfied(f[1], f[2]);
      std::cout << (r ? (*r ? "1" : "0") : "error") << '\n';
      continue;
    }
    auto scheme = f.size() > 1 ? kg::vuln::parse_version_scheme(f[1]) : std::nullopt;
    if (!scheme) {
      std::cerr << "version_probe: bad request: " << line << '\n';
      return 2;
    }
    if (f[0] == "cmp" && f.size() == 4) {
      int r = kg::vuln::compare_versions(*scheme, f[2], f[3]);
      std::cout << (r < 0 ? "<" : r > 0 ? ">" : "=") << '\n';
    } else if (f[0] == "valid" && f.size() == 3) {
      std::cout << (kg::vuln::valid_version(*scheme, f[2]) ? "1" : "0") << '\n';
    } else {
      std::cerr << "version_probe: bad request: " << line << '\n';
      return 2;
    }
  }
  return 0;
}

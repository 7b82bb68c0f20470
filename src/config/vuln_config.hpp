// The `vulnerabilities:` section of .kguard.yaml: vulnerabilities accepted
// with a reason (ignores, shaped like the catalog's exemptions: what, why,
// until when) and the defaults of the image gate. docs/configuration.md
// "Vulnerabilities" shows every key.
//
//   vulnerabilities:
//     ignoreUnfixed: true        # unfixed vulnerabilities do not count (as --ignore-unfixed)
//     failOn: high               # kguard image exits 1 at this severity or above (as --fail-on)
//     maxRisk: 70                # … or at this risk score or above (as --max-risk)
//     ignore:
//       - id: CVE-2023-4911      # the record's id or any alias (GHSA ↔ CVE)
//         package: glibc         # optional: name (glob) or purl
//         path: /usr/lib/**      # optional: where the package was found in the image (glob)
//         image: "registry.example.com/shop/*"   # optional: reference or digest (glob)
//         reason: "no setuid binaries in this image; SEC-210"   # required
//         until: 2027-01-31      # optional; an expired ignore stops applying and is reported
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/document.hpp"
#include "model/severity.hpp"

namespace kg {

struct VulnIgnore {
  std::string id;       // CVE-…, GHSA-…, any id the database or an alias uses (case-insensitive)
  std::string package;  // name glob (binary or source package) or purl; empty = any
  std::string path;     // path glob inside the image; empty = any
  std::string image;    // reference or manifest digest glob; empty = any
  std::string reason;
  std::string until;    // YYYY-MM-DD, valid through that day; empty = no expiry
  std::string origin;   // ".kguard.yaml:12"
  std::string file;     // where the config wrote it
  std::uint32_t line = 0;
  std::uint32_t column = 0;
  std::string field;    // "vulnerabilities.ignore[2]"
};

struct VulnConfig {
  std::vector<VulnIgnore> ignores;
  // Gate defaults; the command-line flags win. Each with where it was set.
  std::optional<bool> ignore_unfixed;
  std::optional<Severity> fail_on;
  std::optional<double> max_risk;  // 0..100
  std::string ignore_unfixed_origin, fail_on_origin, max_risk_origin;
};

// Reads the value of `vulnerabilities:` (a mapping) into `out`; problems name
// the file, line and field. False when there was any.
bool parse_vuln_config(const Node* section, const std::string& path, VulnConfig& out,
                       std::vector<InputError>& errors);

}  // namespace kg

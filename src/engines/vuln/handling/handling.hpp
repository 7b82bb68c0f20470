// Handling each risk (issue 15 item 5): vulnerabilities accepted in
// .kguard.yaml (`vulnerabilities.ignore`, config/vuln_config.hpp) and VEX
// documents (--vex FILE, vex.hpp) mark matches suppressed, with who said so
// and why; nothing is deleted, so every report can show what was suppressed.
// docs/vulnerabilities.md "Ignoring and VEX" is the user's side of this.
//
// Use (kguard image, scan --images, admit):
//   std::vector<InputError> errors;
//   HandlingPolicy policy = load_handling(config ? &config->vulnerabilities : nullptr, vex_paths, errors);
//   if (!errors.empty()) → report them, exit 2 (a bad --vex file or statement)
//   if (flag --ignore-unfixed) { policy.ignore_unfixed = true; policy.ignore_unfixed_origin = "--ignore-unfixed"; }
//   for (InputError& w : expired_ignores(policy, utc_today())) result.warnings.push_back(w);   // once per run
//   HandlingReport r = apply_handling(vulns, inventory, policy, utc_today());                    // per image
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/vuln_config.hpp"
#include "core/document.hpp"
#include "engines/vuln/handling/vex.hpp"
#include "model/package.hpp"
#include "model/severity.hpp"
#include "model/vulnerability.hpp"

namespace kg::vuln {

struct HandlingPolicy {
  std::vector<VulnIgnore> ignores;       // from the config, in its order
  std::vector<VexStatement> statements;  // from every --vex file, in command-line order
  std::vector<std::string> vex_files;
  // Suppress every match without a fixed version (fix != Fixed). Set from the
  // config's ignoreUnfixed; the CLI sets it (origin "--ignore-unfixed") for the flag.
  bool ignore_unfixed = false;
  std::string ignore_unfixed_origin;
  // The gate's defaults from the config (the gate reads them; flags win).
  std::optional<Severity> fail_on;
  std::string fail_on_origin;
  std::optional<double> max_risk;
  std::string max_risk_origin;
};

// The config's vulnerabilities section (null: none) plus the VEX files, in
// order. Problems (unreadable file, bad JSON, a bad statement) are appended to
// `errors` with file, line and field; the statements that are sound are kept.
HandlingPolicy load_handling(const VulnConfig* config, const std::vector<std::string>& vex_paths,
                             std::vector<InputError>& errors);

struct HandlingReport {
  std::size_t suppressed = 0;          // matches this call suppressed
  std::vector<InputError> warnings;    // an expired ignore that matched a vulnerability of this image
  std::vector<std::string> notes;      // for -v: VEX statements that matched nothing here, `fixed` not applied, …
};

// Marks the image's matches suppressed (VulnMatch::suppressed, suppressed_by,
// suppress_reason). `today` is YYYY-MM-DD (utc_today()). Order of authority:
// an ignore in the config, then --ignore-unfixed / ignoreUnfixed, then the
// latest VEX statement about the (product, vulnerability). A match already
// suppressed is left as it is.
HandlingReport apply_handling(ImageVulnerabilities& vulns, const ImageInventory& inventory,
                              const HandlingPolicy& policy, std::string_view today);

// Every ignore whose `until` is before `today`: one warning each, naming the
// config file and line. Call once per run (apply_handling warns only about
// the vulnerabilities an expired ignore would still have covered).
std::vector<InputError> expired_ignores(const HandlingPolicy& policy, std::string_view today);

// The reason kguard writes for --ignore-unfixed (model/vuln_text.cpp has its zh form).
inline constexpr std::string_view kNoFixReason = "no fixed version is available";

}  // namespace kg::vuln

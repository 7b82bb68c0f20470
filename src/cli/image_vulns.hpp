// Vulnerabilities of images for `kguard image` and `kguard scan --images`:
// the flags (--db, --no-vulns, --ignore-unfixed, --vex, --max-risk), the
// database opened once per run (a missing default database is a warning that
// says how to build or import one; the scan goes on), the match of each
// inventory with its scores and handling (ignores, VEX), and the gate.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "catalog/catalog.hpp"
#include "config/config.hpp"
#include "core/document.hpp"
#include "engines/vuln/db/database.hpp"
#include "engines/vuln/handling/handling.hpp"
#include "engines/vuln/score/risk.hpp"
#include "model/engine_result.hpp"

namespace kg::cli {

struct VulnSettings {
  bool enabled = true;   // --no-vulns: false
  std::string db_path;   // --db PATH; "" = vuln::default_db_path()
  bool ignore_unfixed = false;
  std::vector<std::string> vex;  // --vex FILE, repeatable
  std::optional<double> max_risk;  // --max-risk N
};

// Consumes args[i] (and its value) when it is a vulnerability flag: 1
// consumed, 0 not one, -1 with `error`.
int parse_vuln_flag(const std::vector<std::string>& args, std::size_t& i, VulnSettings& settings, std::string& error);
const char* vuln_flags_help();

class VulnRun {
 public:
  // Opens the database and loads the handling policy (config + VEX files).
  // False with `errors` when the run cannot go on: an --db that cannot be
  // opened, a bad --vex file. A missing default database is no error: the
  // run goes on without vulnerabilities and `warnings` says how to get one.
  bool open(const VulnSettings& settings, const Config* config, std::vector<std::string>& warnings,
            std::vector<InputError>& errors);
  bool active() const { return db_ != nullptr; }
  const vuln::HandlingPolicy& policy() const { return policy_; }
  const vuln::DbStatus& status() const { return status_; }

  // The image's vulnerabilities: matched, scored with the workload's
  // exposure (risk), suppressed as the ignores and VEX statements say, sorted
  // by risk. Expired ignores that still matched go to `warnings`.
  ImageVulnerabilities match(const ImageInventory& inv, const vuln::WorkloadExposure& exposure,
                             std::vector<InputError>& warnings) const;

 private:
  std::unique_ptr<vuln::VulnDatabase> db_;
  vuln::DbStatus status_;
  vuln::HandlingPolicy policy_;
};

// Fills each match's CVSS base score from its vector (when the matcher left
// it unset), its severity from that score when no vendor said (vendor first,
// else CVSS), and its risk with `exposure`; then sorts by risk.
void score_matches(ImageVulnerabilities& iv, const vuln::WorkloadExposure& exposure);

// The catalog's Images category, where vulnerability findings go.
Category images_category(const Catalog& catalog);

// The unsuppressed matches whose risk is above `max_risk`, as gate lines
// ("  CVE-…  risk 72.5  libssl3 3.0.11-1 (image REF)"), and their count.
std::size_t risk_gate(const EngineResult& result, double max_risk, std::vector<std::string>& lines);

}  // namespace kg::cli

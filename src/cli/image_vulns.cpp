#include "cli/image_vulns.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>

#include "cli/args.hpp"
#include "core/clock.hpp"
#include "engines/vuln/match/match.hpp"
#include "engines/vuln/score/cvss.hpp"

namespace kg::cli {

int parse_vuln_flag(const std::vector<std::string>& args, std::size_t& i, VulnSettings& settings,
                    std::string& error) {
  const std::string& a = args[i];
  ArgCursor flag(args, i);
  std::string v;
  if (a == "--no-vulns") {
    settings.enabled = false;
  } else if (a == "--ignore-unfixed") {
    settings.ignore_unfixed = true;
  } else if (flag.is("--db")) {
    if (!flag.value(v) || v.empty()) {
      error = "--db needs the path of a vulnerability database (kguard db build / kguard db import)";
      return -1;
    }
    settings.db_path = v;
  } else if (flag.is("--vex")) {
    if (!flag.value(v) || v.empty()) {
      error = "--vex needs an OpenVEX or CycloneDX VEX file";
      return -1;
    }
    settings.vex.push_back(v);
  } else if (flag.is("--max-risk")) {
    long long n = 0;
    if (!flag.value(v) || !parse_int_in(v, 0, 100, n)) {
      error = "--max-risk needs a risk score from 0 to 100";
      return -1;
    }
    settings.max_risk = static_cast<double>(n);
  } else {
    return 0;
  }
  return 1;
}

const char* vuln_flags_help() {
  return R"(
Vulnerabilities (docs/vulnerabilities.md):
      --db PATH                the vulnerability database (default
                               ~/.cache/kguard/vuln.db; kguard db build or
                               kguard db import make one). Without one the
                               image is still read and linted, with a warning
      --no-vulns               do not match vulnerabilities
      --ignore-unfixed         vulnerabilities without a fixed version are
                               suppressed (shown as such, not counted)
      --vex FILE               an OpenVEX or CycloneDX VEX document; its
                               not_affected and fixed statements suppress
                               matches, with the reason in the report (repeatable)
      --max-risk N             exit 1 when an unsuppressed vulnerability's risk
                               score (0-100) is above N
)";
}

bool VulnRun::open(const VulnSettings& settings, const Config* config, std::vector<std::string>& warnings,
                   std::vector<InputError>& errors) {
  if (!settings.enabled) return true;
  const bool named = !settings.db_path.empty();
  const std::string path = named ? settings.db_path : vuln::default_db_path();
  std::error_code ec;
  if (!named && (path.empty() || !std::filesystem::exists(path, ec))) {
    warnings.push_back("no vulnerability database at " + (path.empty() ? std::string("~/.cache/kguard/vuln.db") : path) +
                       ": vulnerabilities are not matched. Build one with `kguard db build FEED...` "
                       "or import a bundle with `kguard db import FILE` (--db PATH names another; "
                       "--no-vulns silences this)");
    return true;
  }
  std::string error;
  db_ = vuln::VulnDatabase::open(path, &error);
  if (!db_) {
    errors.push_back({path, 0, 0, error.empty() ? "cannot open the vulnerability database" : error});
    return false;
  }
  status_ = db_->status();
  const long long now =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  std::string age_error;
  const long long max_age = vuln::configured_max_age(&age_error);
  if (!age_error.empty()) warnings.push_back(age_error);
  if (auto w = vuln::db_age_warning(status_, max_age, now)) warnings.push_back(*w);
  policy_ = vuln::load_handling(config ? &config->vulnerabilities : nullptr, settings.vex, errors);
  if (settings.ignore_unfixed) {
    policy_.ignore_unfixed = true;
    policy_.ignore_unfixed_origin = "--ignore-unfixed";
  }
  return errors.empty();
}

void score_matches(ImageVulnerabilities& iv, const vuln::WorkloadExposure& exposure) {
  for (VulnMatch& m : iv.matches) {
    if (m.cvss_score < 0 && !m.cvss_vector.empty()) {
      if (const auto s = vuln::cvss_scores(m.cvss_vector)) {
        m.cvss_score = s->overall();
        // Vendor severity first, else the CVSS rating.
        if (m.severity_source.empty() || m.severity_source == "unknown") {
          if (const auto sev = vuln::to_severity(vuln::cvss_rating(m.cvss_score))) {
            m.severity = *sev;
            m.severity_source = "cvss:" + std::string(vuln::to_string(s->version));
          } else {
            m.severity = Severity::Low;
            m.severity_below_low = true;
            m.severity_source = "cvss:" + std::string(vuln::to_string(s->version));
          }
        }
      }
    }
    m.risk = vuln::risk_score(vuln::risk_input(m, exposure));
  }
  std::stable_sort(iv.matches.begin(), iv.matches.end(), [](const VulnMatch& a, const VulnMatch& b) {
    if (a.risk != b.risk) return a.risk > b.risk;
    if (a.severity != b.severity) return a.severity > b.severity;
    if (a.id != b.id) return a.id < b.id;
    return a.package_name < b.package_name;
  });
}

ImageVulnerabilities VulnRun::match(const ImageInventory& inv, const vuln::WorkloadExposure& exposure,
                                    std::vector<InputError>& warnings) const {
  // Unfixed matches are kept and suppressed (shown, not counted), so the
  // matcher is not asked to drop them.
  vuln::MatchOptions opt;
  ImageVulnerabilities iv = vuln::match_image(inv, *db_, opt);
  if (iv.reference.empty()) iv.reference = inv.reference;
  if (iv.manifest_digest.empty()) iv.manifest_digest = inv.manifest_digest;
  if (iv.db_built_at.empty()) iv.db_built_at = status_.built_at;
  score_matches(iv, exposure);
  vuln::HandlingReport h = vuln::apply_handling(iv, inv, policy_, utc_today());
  for (InputError& w : h.warnings) warnings.push_back(std::move(w));
  return iv;
}

Category images_category(const Catalog& catalog) { return catalog.categories().find("images").value_or(Category{}); }

std::size_t risk_gate(const EngineResult& result, double max_risk, std::vector<std::string>& lines) {
  std::size_t n = 0;
  constexpr std::size_t kShown = 5;
  for (const ImageVulnerabilities& iv : result.vulnerabilities) {
    for (const VulnMatch& m : iv.matches) {
      if (m.suppressed || m.risk <= max_risk) continue;
      if (++n <= kShown) {
        char risk[16];
        std::snprintf(risk, sizeof risk, "%.1f", m.risk);
        lines.push_back("  " + m.id + "  risk " + risk + "  " + std::string(to_string(m.severity)) + "  " +
                        m.package_name + " " + m.installed_version + "  (" + iv.reference + ")");
      }
    }
  }
  if (n > kShown) lines.push_back("  ... and " + std::to_string(n - kShown) + " more (see the report)");
  return n;
}

}  // namespace kg::cli

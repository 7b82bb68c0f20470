// Severity decision and risk score (risk.hpp; docs/vulnerabilities.md "Risk
// score" is the user-facing account of every constant here).
#include "engines/vuln/score/risk.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>

#include "engines/vuln/db/records.hpp"
#include "engines/vuln/score/cvss.hpp"

namespace kg::vuln {

namespace {

std::string lower_trimmed(std::string_view word) {
  // Debian marks estimated urgencies with '*' ("low**"); feeds pad with spaces.
  std::size_t b = 0, e = word.size();
  while (b < e && (std::isspace(static_cast<unsigned char>(word[b])) != 0 || word[b] == '*')) ++b;
  while (e > b &&
         (std::isspace(static_cast<unsigned char>(word[e - 1])) != 0 || word[e - 1] == '*'))
    --e;
  std::string out(word.substr(b, e - b));
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Severity levels on the 0..1 scale of the severity factor: the CVSS rating
// bands (Low 0.1–3.9 → 0.10–0.39, …). A below-Low vulnerability weighs 0.03.
struct Band {
  double lo, hi, unscored;  // unscored: the weight when no CVSS score is known
};
constexpr Band kBands[] = {
    {0.10, 0.39, 0.25},  // Low
    {0.40, 0.69, 0.55},  // Medium
    {0.70, 0.89, 0.80},  // High
    {0.90, 1.00, 0.95},  // Critical
};
constexpr double kBelowLow = 0.03;

// Exploitability: KEV is certainty; EPSS p maps to 0.4 + 0.6·√p; unknown is 0.5.
constexpr double kExploitFloor = 0.4;
constexpr double kExploitUnknown = 0.5;

// Exposure: 0.5 for a workload known to expose nothing, plus each fact's
// weight when it holds (half of it when unknown); the weights sum to 0.5.
constexpr double kExposureBase = 0.5;
constexpr double kWeightExternal = 0.20;
constexpr double kWeightPrivileged = 0.12;
constexpr double kWeightHostNamespaces = 0.08;
constexpr double kWeightRoot = 0.05;
constexpr double kWeightEgress = 0.05;

double tri_weight(Tri t, double weight) {
  switch (t) {
    case Tri::Yes: return weight;
    case Tri::Unknown: return weight / 2;
    case Tri::No: return 0;
  }
  return weight / 2;
}

std::string_view before_colon(std::string_view s) {
  return s.substr(0, s.find(':'));
}

// Feeds sometimes carry a vector with a trailing newline or spaces; the vector
// itself is read strictly, but the whitespace around it is no part of it.
std::string_view trimmed(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())) != 0) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())) != 0) s.remove_suffix(1);
  return s;
}

}  // namespace

std::optional<VendorLevel> parse_vendor_severity(std::string_view word) {
  const std::string w = lower_trimmed(word);
  if (w == "unimportant" || w == "negligible" || w == "none" || w == "informational" || w == "info")
    return VendorLevel{Severity::Low, true};
  if (w == "low") return VendorLevel{Severity::Low, false};
  if (w == "medium" || w == "moderate") return VendorLevel{Severity::Medium, false};
  if (w == "high" || w == "important") return VendorLevel{Severity::High, false};
  if (w == "critical") return VendorLevel{Severity::Critical, false};
  // "not yet assigned", "unknown", "untriaged", "end-of-life", "" and the rest:
  // the vendor has not said, so the next source decides.
  return std::nullopt;
}

SeverityDecision vuln_severity(std::string_view vendor, std::string_view vendor_word,
                               std::string_view advisory_source, std::string_view advisory_word,
                               std::string_view cvss_v4, std::string_view cvss_v3) {
  cvss_v4 = trimmed(cvss_v4);
  cvss_v3 = trimmed(cvss_v3);
  SeverityDecision d;
  std::optional<CvssScores> v4, v3;
  std::string error;
  if (!cvss_v4.empty()) {
    v4 = cvss_scores(cvss_v4, &error);
    if (v4 && v4->version != CvssVersion::V4_0) {
      error = "the CVSS v4 field holds a CVSS:" + std::string(to_string(v4->version)) + " vector";
      v4.reset();
    }
    if (!v4) d.cvss_error = error;
  }
  if (!cvss_v3.empty()) {
    v3 = cvss_scores(cvss_v3, &error);
    if (v3 && v3->version == CvssVersion::V4_0) {
      error = "the CVSS v3 field holds a CVSS:4.0 vector";
      v3.reset();
    }
    if (!v3) d.cvss_error += (d.cvss_error.empty() ? "" : "; ") + error;
  }
  if (v4) {
    d.cvss_score = v4->base;
    d.cvss_vector = std::string(cvss_v4);
  } else if (v3) {
    d.cvss_score = v3->base;
    d.cvss_vector = std::string(cvss_v3);
  }

  if (auto level = parse_vendor_severity(vendor_word)) {
    d.severity = level->severity;
    d.below_low = level->below_low;
    d.source = std::string(vendor);
    return d;
  }
  if (auto level = parse_vendor_severity(advisory_word)) {
    d.severity = level->severity;
    d.below_low = level->below_low;
    d.source = std::string(advisory_source);
    return d;
  }
  const CvssScores* used = v4 ? &*v4 : v3 ? &*v3 : nullptr;
  if (used != nullptr) {
    const CvssRating rating = cvss_rating(used->base);
    d.severity = to_severity(rating).value_or(Severity::Low);
    d.below_low = rating == CvssRating::None;
    d.source = "cvss:" + std::string(to_string(used->version));
    return d;
  }
  d.severity = Severity::Medium;
  d.source = "unknown";
  return d;
}

SeverityDecision vuln_severity(const AffectedRecord& record, const Advisory* advisory) {
  // "debian:12" → debian; a language namespace ("npm") has no vendor of its
  // own: the feed that wrote the word is named.
  const std::string_view ns = record.ns;
  const std::string vendor =
      ns.find(':') != std::string_view::npos ? std::string(before_colon(ns)) : record.feed;
  if (advisory == nullptr) return vuln_severity(vendor, record.severity, "", "", "", "");
  std::string source;
  if (advisory->id.rfind("GHSA-", 0) == 0) {
    source = "ghsa";
  } else if (!advisory->feed.empty()) {
    source = advisory->feed;
  } else {
    source = "advisory";
  }
  return vuln_severity(vendor, record.severity, source, advisory->severity, advisory->cvss_v4,
                       advisory->cvss_v3);
}

double severity_factor(Severity s, bool below_low, double cvss_score) {
  if (below_low) return kBelowLow;
  const Band& band = kBands[static_cast<std::size_t>(s)];
  if (!(cvss_score >= 0)) return band.unscored;  // negative or NaN: unknown
  // The CVSS score places the vulnerability inside the band its severity
  // names; a vendor who rates a 9.8 "low" keeps it low.
  return std::clamp(cvss_score / 10, band.lo, band.hi);
}

double exploitability_factor(bool kev, double epss) {
  if (kev) return 1.0;
  if (!(epss >= 0)) return kExploitUnknown;
  return kExploitFloor + (1 - kExploitFloor) * std::sqrt(std::min(epss, 1.0));
}

double fix_factor(FixState fix) {
  switch (fix) {
    case FixState::Fixed: return 1.0;
    case FixState::Unfixed: return 0.8;
    case FixState::WontFix: return 0.6;
  }
  return 0.8;
}

double exposure_factor(const WorkloadExposure& e) {
  return kExposureBase + tri_weight(e.external, kWeightExternal) +
         tri_weight(e.privileged, kWeightPrivileged) +
         tri_weight(e.host_namespaces, kWeightHostNamespaces) +
         tri_weight(e.runs_as_root, kWeightRoot) + tri_weight(e.internet_egress, kWeightEgress);
}

RiskBreakdown risk_breakdown(const RiskInput& in) {
  RiskBreakdown r;
  r.severity = severity_factor(in.severity, in.below_low, in.cvss_score);
  r.exploitability = exploitability_factor(in.kev, in.epss);
  r.fix = fix_factor(in.fix);
  r.exposure = exposure_factor(in.exposure);
  const double product = 100 * r.severity * r.exploitability * r.fix * r.exposure;
  r.score = std::clamp(std::floor(product * 10 + 0.5) / 10, 0.0, 100.0);
  return r;
}

RiskInput risk_input(const VulnMatch& m, const WorkloadExposure& exposure) {
  RiskInput in;
  in.severity = m.severity;
  in.below_low = m.severity_below_low;
  in.cvss_score = m.cvss_score;
  in.kev = m.kev;
  in.epss = m.epss;
  in.fix = m.fix;
  in.exposure = exposure;
  return in;
}

void apply_scores(VulnMatch& m, const SeverityDecision& decision,
                  const WorkloadExposure& exposure) {
  m.severity = decision.severity;
  m.severity_source = decision.source;
  m.severity_below_low = decision.below_low;
  m.cvss_score = decision.cvss_score;
  m.cvss_vector = decision.cvss_vector;
  m.risk = risk_score(risk_input(m, exposure));
}

}  // namespace kg::vuln

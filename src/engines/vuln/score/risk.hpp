// How bad a matched vulnerability is, and how urgent: the severity a report
// shows (vendor first, else CVSS) and kguard's risk score 0..100 (severity ×
// exploitability × fix availability × exposure of the workload that runs the
// image). Pure functions; docs/vulnerabilities.md "Risk score" explains the
// formula, its constants and worked examples.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "model/severity.hpp"
#include "model/vulnerability.hpp"

namespace kg::vuln {

struct AffectedRecord;
struct Advisory;

// A vendor's severity word as kguard reads it. `below_low` is a word for "not
// a real risk here" (Debian "unimportant", Ubuntu "negligible", NVD/Alpine
// "none"): kguard's Severity has no such level, so it is Low with the flag set.
// nullopt for words that say nothing ("not yet assigned", "unknown",
// "untriaged", "") and for words kguard does not know.
struct VendorLevel {
  Severity severity = Severity::Low;
  bool below_low = false;
};
std::optional<VendorLevel> parse_vendor_severity(std::string_view word);

// The severity of a match and where it came from.
struct SeverityDecision {
  Severity severity = Severity::Medium;
  bool below_low = false;  // a vendor's "unimportant"/"negligible"/"none" or CVSS 0.0 (None)
  // Fills VulnMatch::severity_source: the vendor ("debian", "ubuntu", "ghsa",
  // "nvd", "redhat", …), "cvss:4.0", "cvss:3.1", "cvss:3.0", or "unknown" when
  // nothing says (severity then stays Medium, VulnMatch's default: unknown is
  // neither waved through by --fail-on high nor reported as high).
  std::string source;
  double cvss_score = -1;  // the base score of the CVSS vector used or shown; negative when none
  std::string cvss_vector;
  std::string cvss_error;  // why a vector present was not used (malformed), "" otherwise
};

// Vendor severity first (the first of `vendor_word` with its `vendor` name,
// then `advisory_word` with `advisory_source`, that says something), else the
// CVSS v4.0 vector's base score, else the v3.x one's. A malformed vector is
// skipped (cvss_error says why) and the next source decides. Whatever decides,
// the CVSS base score shown is v4.0's if it parses, else v3.x's.
SeverityDecision vuln_severity(std::string_view vendor, std::string_view vendor_word,
                               std::string_view advisory_source, std::string_view advisory_word,
                               std::string_view cvss_v4, std::string_view cvss_v3);

// The same from the database's own records: the record's namespace severity
// (vendor = the namespace's distribution, "debian" for "debian:12"), then the
// advisory's (source "ghsa" for GHSA ids, else its feed), then its vectors.
SeverityDecision vuln_severity(const AffectedRecord& record, const Advisory* advisory);

// ------------------------------------------------------------ risk score --

// Whether a fact about the workload holds: known yes, known no, or unknown.
enum class Tri : std::uint8_t { Unknown, No, Yes };

// The exposure of the workload that runs the image, as the caller knows it
// (the CLI derives it from the manifest findings and the cluster); all Unknown
// when the image is scanned alone.
struct WorkloadExposure {
  Tri privileged =
      Tri::Unknown;  // a privileged container or allowPrivilegeEscalation with CAP_SYS_ADMIN
  Tri host_namespaces = Tri::Unknown;  // hostPID, hostIPC or hostNetwork
  Tri runs_as_root = Tri::Unknown;     // UID 0 (runAsNonRoot not enforced, no non-zero runAsUser)
  Tri external = Tri::Unknown;  // reachable from outside: LoadBalancer, NodePort, Ingress, hostPort
  Tri internet_egress =
      Tri::Unknown;  // may open connections to the internet (no egress NetworkPolicy)
};

// What the risk score reads of a match.
struct RiskInput {
  Severity severity = Severity::Medium;
  bool below_low = false;  // SeverityDecision::below_low
  double cvss_score = -1;  // base score 0..10; negative when unknown
  bool kev = false;        // in CISA's Known Exploited Vulnerabilities catalog
  double epss = -1;        // EPSS probability 0..1; negative when unknown
  FixState fix = FixState::Unfixed;
  WorkloadExposure exposure;
};

// The four factors and their product, for reports that explain a score.
struct RiskBreakdown {
  double severity = 0;        // 0.03..1
  double exploitability = 0;  // 0.4..1
  double fix = 0;             // 0.6..1
  double exposure = 0;        // 0.5..1
  double score = 0;           // 100 × the product, one decimal
};

RiskBreakdown risk_breakdown(const RiskInput& in);
inline double risk_score(const RiskInput& in) {
  return risk_breakdown(in).score;
}

// The factors one at a time (each documented in docs/vulnerabilities.md).
double severity_factor(Severity s, bool below_low, double cvss_score);
double exploitability_factor(bool kev, double epss);
double fix_factor(FixState fix);
double exposure_factor(const WorkloadExposure& e);

// What the risk score reads of a match already scored (severity, CVSS, KEV,
// EPSS, fix), with the exposure of the workload that runs it.
RiskInput risk_input(const VulnMatch& m, const WorkloadExposure& exposure);

// Fills m.severity, severity_source, severity_below_low, cvss_score and
// cvss_vector from the decision, then m.risk from the match and the exposure.
void apply_scores(VulnMatch& m, const SeverityDecision& decision, const WorkloadExposure& exposure);

}  // namespace kg::vuln

// Report formats for other tools: code scanning (SARIF), CI test reports
// (JUnit), pull-request comments (Markdown), spreadsheets (CSV) and the
// Kubernetes policy-report CRDs. Each renders the ReportModel only, and every
// human-readable word follows model.lang; ids and enums stay English so
// machines can match on them. One file per format under src/report/.
#pragma once

#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "core/utf8.hpp"
#include "report/model.hpp"

namespace kg {

// SARIF 2.1.0: one run, the rules in force as tool.driver.rules, one result per
// failed finding with partialFingerprints for GitHub code scanning, and one per
// exempted finding with `suppressions` (kind inSource or external, the reason).
void write_sarif_report(const ReportModel& m, std::ostream& out);

// JUnit XML: a <testsuite> per category, a <testcase> per failed
// (resource, check) and per-rule rows standing for the passed resources, so
// that tests/failures equal the JSON overview's checks/failed.
void write_junit_report(const ReportModel& m, std::ostream& out);

// Markdown for a pull-request comment; always under kMarkdownLimit characters.
inline constexpr std::size_t kMarkdownLimit = 65536;  // GitHub's comment size limit
void write_markdown_report(const ReportModel& m, std::ostream& out);

// RFC 4180 CSV, one row per finding.
void write_csv_report(const ReportModel& m, std::ostream& out);

// One line per failed finding and input error: file:line:col: severity rule: message [kind ns/name].
void write_ci_report(const ReportModel& m, std::ostream& out);

// wgpolicyk8s.io/v1alpha2 PolicyReport per namespace plus one
// ClusterPolicyReport, as a multi-document YAML stream.
void write_policyreport_report(const ReportModel& m, std::ostream& out);

// "Deployment/shopfront/api", or "Namespace/shopfront" without a namespace:
// the resource a finding belongs to, in the kind/namespace/name form that
// SARIF logical locations and JUnit class names use.
inline std::string resource_path(const FindingView& f) {
  std::string s(f.kind);
  s += '/';
  if (!f.ns.empty()) {
    s += f.ns;
    s += '/';
  }
  s += f.name;
  return s;
}

// "file:line:column", or the file alone when the line is unknown (0).
inline std::string file_position(std::string_view file, std::uint32_t line, std::uint32_t column) {
  std::string s(file);
  if (line == 0) return s;
  s += ':';
  s += std::to_string(line);
  s += ':';
  s += std::to_string(column);
  return s;
}

// True when two findings come from the same evaluated (resource, check) pair.
// A check that fails on several fields of one resource yields one finding per
// field but counts once in the tallies; the formats that report per check
// (JUnit, PolicyReport) merge such runs of findings. The scanner emits the
// findings of one resource together, so comparing neighbours is enough.
inline bool same_check(const FindingView& a, const FindingView& b) {
  return a.rule == b.rule && a.result == b.result && a.kind == b.kind && a.ns == b.ns &&
         a.name == b.name && a.location.file == b.location.file;
}

// The findings [first, last) of one evaluated (resource, check) pair.
struct CheckRun {
  std::size_t first;
  std::size_t last;
};

inline std::vector<CheckRun> check_runs(const FindingStore& findings) {
  std::vector<CheckRun> runs;
  for (std::size_t i = 0; i < findings.size(); ++i) {
    if (!runs.empty() && same_check(findings[runs.back().first], findings[i])) {
      runs.back().last = i + 1;
    } else {
      runs.push_back({i, i + 1});
    }
  }
  return runs;
}

}  // namespace kg

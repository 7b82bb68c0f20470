#include "report/renderers.hpp"

#include "report/formats.hpp"
#include "report/html_report.hpp"

namespace kg {
namespace {

void render_text(const ReportModel& m, const RenderOptions& o, std::ostream& out) {
  write_text_report(m, out, o.color);
}
void render_json(const ReportModel& m, const RenderOptions&, std::ostream& out) {
  write_json_report(m, out);
}
void render_sarif(const ReportModel& m, const RenderOptions&, std::ostream& out) {
  write_sarif_report(m, out);
}
void render_junit(const ReportModel& m, const RenderOptions&, std::ostream& out) {
  write_junit_report(m, out);
}
void render_markdown(const ReportModel& m, const RenderOptions&, std::ostream& out) {
  write_markdown_report(m, out);
}
void render_csv(const ReportModel& m, const RenderOptions&, std::ostream& out) {
  write_csv_report(m, out);
}
void render_policyreport(const ReportModel& m, const RenderOptions&, std::ostream& out) {
  write_policyreport_report(m, out);
}
void render_ci(const ReportModel& m, const RenderOptions&, std::ostream& out) {
  write_ci_report(m, out);
}
void render_html(const ReportModel& m, const RenderOptions&, std::ostream& out) {
  write_html_report(m, out);
}

}  // namespace

// Add a format here (and its write_* function in model.hpp).
std::span<const Renderer> renderers() {
  static const Renderer kRenderers[] = {
      {"text", "terminal report (colour when a TTY)", render_text},
      {"json", "versioned JSON report (docs/report.md)", render_json},
      {"html", "self-contained HTML dashboard (no network; sortable, filterable findings)", render_html},
      {"sarif", "SARIF 2.1.0 for code scanning (GitHub, GitLab, Azure DevOps)", render_sarif},
      {"junit", "JUnit XML: a test per resource and check, for CI dashboards", render_junit},
      {"markdown", "Markdown for pull-request comments (under 65,536 characters)", render_markdown},
      {"csv", "CSV (RFC 4180), one row per finding", render_csv},
      {"policyreport", "wgpolicyk8s.io PolicyReport / ClusterPolicyReport YAML", render_policyreport},
      {"ci", "one line per failure: file:line:col: severity rule: message [kind ns/name]", render_ci},
  };
  return kRenderers;
}

const Renderer* find_renderer(std::string_view format) {
  for (const Renderer& r : renderers())
    if (r.format == format) return &r;
  return nullptr;
}

}  // namespace kg

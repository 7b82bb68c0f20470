// RFC 4180 CSV for spreadsheets and ad-hoc scripts: one row per finding, the
// same rows as the JSON report's findings. The header and the enum columns
// (category, rule, result, severity) stay English so filters keep working
// across languages; title, message and remediation follow the report language.
#include <string>

#include "report/formats.hpp"
#include "report/terminal.hpp"

namespace kg {
namespace {

// RFC 4180: a field with a comma, quote or line break is quoted, quotes doubled.
// Other controls (ESC, DEL, C1…) are written visibly (\x1B), never raw: CSV
// files are also read on terminals.
void field(std::ostream& out, std::string_view raw) {
  std::string safe;
  for (std::size_t i = 0; i < raw.size();) {
    const std::size_t start = i;
    const char32_t cp = next_code_point(raw, i);
    const bool control = (cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r') || (cp >= 0x7F && cp <= 0x9F);
    if (!control) {
      safe.append(raw.substr(start, i - start));
    } else {
      safe += terminal_safe(raw.substr(start, i - start));
    }
  }
  const std::string_view s = safe;
  if (s.find_first_of(",\"\r\n") == std::string_view::npos) {
    out << s;
    return;
  }
  out << '"';
  for (char c : s) {
    if (c == '"') out << '"';
    out << c;
  }
  out << '"';
}

}  // namespace

void write_csv_report(const ReportModel& m, std::ostream& out) {
  const Lang L = m.lang;
  // RFC 4180 ends records with CRLF.
  out << "kind,namespace,name,container,category,rule,title,result,severity,message,file,line,"
         "column,path,remediation\r\n";
  for (const FindingView f : m.result->findings) {
    const RuleInfo& r = *f.rule;
    const std::string line = std::to_string(f.location.line);
    const std::string column = std::to_string(f.location.column);
    const std::string message = m.message(f);
    const std::string_view cells[] = {f.kind,
                                      f.ns,
                                      f.name,
                                      f.container,
                                      to_string(r.category),
                                      r.id,
                                      r.title_in(L),
                                      to_string(f.result),
                                      to_string(r.severity),
                                      message,
                                      f.location.file,
                                      line,
                                      column,
                                      f.location.path,
                                      r.remediation_in(L)};
    for (std::size_t i = 0; i < std::size(cells); ++i) {
      if (i) out << ',';
      field(out, cells[i]);
    }
    out << "\r\n";
  }
  // A cluster scan's coverage gaps: what could not be read, one row each.
  if (!m.result->cluster) return;
  for (const CoverageGap& g : m.result->cluster->coverage) {
    std::string rules;
    for (std::size_t i = 0; i < g.rules.size(); ++i) rules += (i ? ", " : "") + g.rules[i];
    const std::string message = g.reason + (g.message.empty() ? "" : ": " + g.message);
    const std::string_view cells[] = {g.kind, g.ns, "", "", "", "coverage", tr(L, "Coverage"),
                                      "unreadable", "", message, "", "", "", g.api_version, rules};
    for (std::size_t i = 0; i < std::size(cells); ++i) {
      if (i) out << ',';
      field(out, cells[i]);
    }
    out << "\r\n";
  }
}

}  // namespace kg

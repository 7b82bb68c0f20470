// RFC 4180 CSV for spreadsheets and ad-hoc scripts: one row per finding, the
// same rows as the JSON report's findings. The header and the enum columns
// (category, rule, result, severity) stay English so filters keep working
// across languages; title, message and remediation follow the report language.
#include <algorithm>
#include <string>

#include "report/formats.hpp"
#include "report/terminal.hpp"

namespace kg {
namespace {

// RFC 4180: a field with a comma, quote or line break is quoted, quotes doubled.
// Other controls (ESC, DEL, C1…) are written visibly (\x1B), never raw: CSV
// files are also read on terminals.
void field(std::ostream& out, std::string_view raw) {
  // Most cells hold no control character: no copy. C1 controls are encoded
  // as 0xC2 0x80-0x9F in UTF-8, so a cell without 0xC2 has none.
  const bool plain = std::none_of(raw.begin(), raw.end(), [](char ch) {
    const auto b = static_cast<unsigned char>(ch);
    return (b < 0x20 && b != '\t' && b != '\n' && b != '\r') || b == 0x7F || b == 0xC2;
  });
  std::string safe;
  if (!plain) {
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
  }
  const std::string_view s = plain ? raw : std::string_view(safe);
  if (s.find_first_of(",\"\r\n") == std::string_view::npos) {
    out.write(s.data(), static_cast<std::streamsize>(s.size()));
    return;
  }
  out.put('"');
  std::size_t run = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '"') continue;
    out.write(s.data() + run, static_cast<std::streamsize>(i + 1 - run));  // through the quote
    out.put('"');
    run = i + 1;
  }
  out.write(s.data() + run, static_cast<std::streamsize>(s.size() - run));
  out.put('"');
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
  for (const CoverageGap& g : m.result->coverage_gaps()) {
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

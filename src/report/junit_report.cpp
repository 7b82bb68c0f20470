// JUnit XML for CI test dashboards (GitLab, Jenkins, Azure, GitHub actions
// that read JUnit). Each evaluated (resource, check) is one test. The model
// keeps failed pairs as findings but only counts passed ones per rule, so each
// rule's passes appear as one row "<rule> (N resources passed)" while the
// counts on <testsuite> stay exact: tests/failures equal the JSON overview's
// checks/failed (plus skipped exemptions and errored inputs, as JUnit counts them).
#include <string>
#include <unordered_map>
#include <vector>

#include "report/formats.hpp"

namespace kg {
namespace {

// XML 1.0 text or attribute value. Characters XML 1.0 cannot carry at all
// (C0 controls other than tab/newline/CR, U+FFFE/U+FFFF, invalid UTF-8)
// and DEL/C1 (which a terminal showing the file acts on) become U+FFFD; in attributes, tab/newline/CR are character references
// because attribute-value normalisation would turn them into spaces.
std::string xml(std::string_view s, bool attribute = false) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    const char32_t cp = next_code_point(s, i);
    switch (cp) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += attribute ? "&quot;" : "\""; break;
      case '\'': out += attribute ? "&apos;" : "'"; break;
      case '\t': out += attribute ? "&#9;" : "\t"; break;
      case '\n': out += attribute ? "&#10;" : "\n"; break;
      case '\r': out += "&#13;"; break;  // a raw CR would be read back as a newline
      default: append_utf8(out, cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0xFFFE || cp == 0xFFFF ? char32_t{0xFFFD} : cp);
    }
  }
  return out;
}

std::string attr(std::string_view s) {
  return xml(s, true);
}

std::string location_text(const FindingView f) {
  std::string s = file_position(f.location.file, f.location.line, f.location.column);
  if (!f.location.path.empty()) {
    s += "  ";
    s += f.location.path;
  }
  return s;
}

void write_case(std::ostream& out, const ReportModel& m, const FindingStore& findings,
                const CheckRun& run) {
  const Lang L = m.lang;
  const FindingView f = findings[run.first];
  const RuleInfo& r = *f.rule;
  out << "    <testcase classname=\"" << attr(resource_path(f)) << "\" name=\""
      << attr(r.id + ": " + std::string(r.title_in(L))) << "\" file=\"" << attr(f.location.file)
      << "\" line=\"" << f.location.line << "\" time=\"0\"";
  if (f.result == Result::Pass) {
    out << "/>\n";
    return;
  }
  out << ">\n";
  if (f.result == Result::Exempt) {
    out << "      <skipped message=\"" << attr(tr(L, "exempt")) << "\"/>\n";
  } else {
    std::string message;
    std::string body;
    for (std::size_t i = run.first; i < run.last; ++i) {
      const std::string msg = m.message(findings[i]);
      if (i != run.first) message += "; ";
      message += msg;
      body += msg;
      body += "\n  ";
      body += location_text(findings[i]);
      body += '\n';
    }
    body += std::string(tr(L, "fix")) + ": " + std::string(r.remediation_in(L));
    out << "      <failure message=\"" << attr(message) << "\" type=\"" << to_string(r.severity)
        << "\">" << xml(body) << "</failure>\n";
  }
  out << "    </testcase>\n";
}

}  // namespace

void write_junit_report(const ReportModel& m, std::ostream& out) {
  const EngineResult& s = *m.result;
  const Lang L = m.lang;
  const std::vector<CheckRun> runs = check_runs(s.findings);

  // Passed pairs listed one by one (--show-passed) are taken out of the
  // per-rule "N resources passed" rows so nothing is counted twice.
  std::unordered_map<const RuleInfo*, std::uint64_t> listed_passes;
  for (const CheckRun& run : runs)
    if (s.findings[run.first].result == Result::Pass) ++listed_passes[s.findings[run.first].rule];

  const std::uint64_t errors = s.errors.size();
  const std::uint64_t gaps = s.coverage_gaps().size();
  out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out << "<testsuites name=\"kguard\" tests=\"" << m.tally.checks + m.tally.exempted + errors + gaps
      << "\" failures=\"" << m.tally.failed << "\" errors=\"" << errors << "\" skipped=\""
      << m.tally.exempted + gaps << "\" time=\"0\" timestamp=\"" << attr(m.generated_at) << "\">\n";

  std::size_t suite_id = 0;
  for (const CategoryReport& c : m.categories) {
    const std::string_view cat = to_string(c.category);
    out << "  <testsuite name=\"" << attr(tr(L, category_title(c.category))) << "\" id=\""
        << suite_id++ << "\" package=\"kguard." << cat << "\" tests=\""
        << c.tally.checks + c.tally.exempted << "\" failures=\"" << c.tally.failed
        << "\" errors=\"0\" skipped=\"" << c.tally.exempted << "\" time=\"0\" timestamp=\""
        << attr(m.generated_at) << "\">\n";
    out << "    <properties>\n      <property name=\"score\" value=\"" << c.score
        << "\"/>\n    </properties>\n";
    for (const CheckRun& run : runs)
      if (s.findings[run.first].rule->category == c.category) write_case(out, m, s.findings, run);
    for (std::size_t i = 0; i < s.rules.size(); ++i) {
      const RuleInfo& r = *s.rules[i];
      if (r.category != c.category) continue;
      const std::uint64_t listed = listed_passes.count(&r) ? listed_passes[&r] : 0;
      const std::uint64_t passed = s.tallies[i].passed > listed ? s.tallies[i].passed - listed : 0;
      if (passed == 0) continue;
      out << "    <testcase classname=\"kguard." << cat << "\" name=\"" << attr(r.id) << " ("
          << passed << " " << attr(tr(L, "resources passed")) << ")\" time=\"0\"/>\n";
    }
    out << "  </testsuite>\n";
  }

  // Unreadable input is a CI failure of its own kind: an <error> per problem.
  if (!s.errors.empty()) {
    out << "  <testsuite name=\"" << attr(tr(L, "Input errors")) << "\" id=\"" << suite_id
        << "\" package=\"kguard.input\" tests=\"" << errors << "\" failures=\"0\" errors=\""
        << errors << "\" skipped=\"0\" time=\"0\" timestamp=\"" << attr(m.generated_at) << "\">\n";
    for (const InputError& e : s.errors) {
      const std::string where = file_position(e.file, e.line, e.column);
      out << "    <testcase classname=\"kguard.input\" name=\"" << attr(where) << "\" file=\""
          << attr(e.file) << "\" line=\"" << e.line << "\" time=\"0\">\n"
          << "      <error message=\"" << attr(e.message) << "\" type=\"input\">" << xml(where)
          << ": " << xml(e.message) << "</error>\n    </testcase>\n";
    }
    out << "  </testsuite>\n";
  }
  // Kinds a cluster scan could not read: skipped tests, so CI shows what was
  // not checked.
  if (gaps > 0) {
    out << "  <testsuite name=\"" << attr(tr(L, "Coverage")) << "\" id=\"" << suite_id + 1
        << "\" package=\"kguard.coverage\" tests=\"" << gaps << "\" failures=\"0\" errors=\"0\" skipped=\""
        << gaps << "\" time=\"0\" timestamp=\"" << attr(m.generated_at) << "\">\n";
    for (const CoverageGap& g : s.coverage_gaps()) {
      std::string rules;
      for (std::size_t i = 0; i < g.rules.size(); ++i) rules += (i ? ", " : "") + g.rules[i];
      out << "    <testcase classname=\"kguard.coverage\" name=\"" << attr(coverage_where(g, L))
          << "\" time=\"0\">\n      <skipped message=\"" << attr(g.reason + ": " + g.message) << "\">"
          << xml(rules) << "</skipped>\n    </testcase>\n";
    }
    out << "  </testsuite>\n";
  }
  out << "</testsuites>\n";
}

}  // namespace kg

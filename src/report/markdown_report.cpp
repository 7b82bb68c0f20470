// Markdown for pull-request comments (GitHub, GitLab): the overview and the
// worst findings first, because reviewers read the top of a comment, then
// every resource in a collapsed <details> block. GitHub rejects comments over
// 65,536 characters, so the details stop before that and a note says how
// many findings were left out.
#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

#include "report/formats.hpp"
#include "report/vulns.hpp"
#include "model/vuln_text.hpp"

namespace kg {
namespace {

constexpr std::size_t kTopFindings = 20;
constexpr std::size_t kMaxErrors = 20;
// One cell never takes more than this, so the fixed sections stay small
// whatever the input holds.
constexpr std::size_t kMaxCellBytes = 400;
// Room kept for the closing note when the details are cut.
constexpr std::size_t kNoteReserve = 1024;

// Cuts s to at most max bytes on a UTF-8 boundary, marking the cut.
std::string clip(std::string_view s, std::size_t max) {
  if (s.size() <= max) return std::string(s);
  std::size_t end = 0;
  for (std::size_t i = 0; i < s.size();) {
    std::size_t next = i;
    next_code_point(s, next);
    if (next > max - 3) break;  // room for the ellipsis (3 bytes)
    i = end = next;
  }
  return std::string(s.substr(0, end)) + "…";
}

// Controls, and the Unicode line and paragraph separators, would break a
// table row or a <summary> line in some renderers; they become spaces.
bool printable(char32_t cp) {
  return cp >= 0x20 && !(cp >= 0x7F && cp <= 0x9F) && cp != 0x2028 && cp != 0x2029;
}

// Text for a table cell: table syntax (|), code spans (`) and escapes (\)
// are backslash-escaped; < and & become entities so input cannot open HTML
// (a <details> in a message would break the layout); newlines become <br>.
std::string cell(std::string_view raw, std::size_t max = kMaxCellBytes) {
  const std::string s = clip(raw, max);
  std::string out;
  for (std::size_t i = 0; i < s.size();) {
    const char32_t cp = next_code_point(s, i);
    switch (cp) {
      case '\\': out += "\\\\"; break;
      case '|': out += "\\|"; break;
      case '`': out += "\\`"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '\n': out += "<br>"; break;
      case '\r': break;
      default: append_utf8(out, printable(cp) ? cp : char32_t{' '});
    }
  }
  return out;
}

// Text inside an HTML element (<summary>): entities only.
std::string html(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size();) {
    const char32_t cp = next_code_point(s, i);
    switch (cp) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      default: append_utf8(out, printable(cp) ? cp : char32_t{' '});
    }
  }
  return out;
}

std::string resource_label(const FindingView f) {
  return std::string(f.kind) + " " + (f.ns.empty() ? std::string() : std::string(f.ns) + "/") + std::string(f.name);
}

std::string location_label(const FindingView f) {
  std::string s(f.location.file);
  if (f.location.line) {
    s += ':';
    s += std::to_string(f.location.line);
  }
  return s;
}

bool same_resource(const FindingView& a, const FindingView& b) {
  return a.kind == b.kind && a.ns == b.ns && a.name == b.name && a.location.file == b.location.file;
}

void write_header(std::ostream& out, const ReportModel& m) {
  const EngineResult& s = *m.result;
  const Lang L = m.lang;
  out << "## " << tr(L, "kguard inspection report") << "\n\n";
  std::string sources;
  for (std::size_t i = 0; i < s.inputs.size(); ++i) sources += (i ? ", " : "") + s.inputs[i];
  out << "kguard " << m.tool_version << " · " << m.generated_at << " · " << tr(L, "Source") << ": "
      << cell(sources) << " · " << tr(L, "Policy") << ": " << policy_text(s, L) << "\n\n";

  out << "| " << tr(L, "Score") << " | " << tr(L, "Grade") << " | " << tr(L, "Checks") << " | "
      << tr(L, "Passed") << " | " << tr(L, "Failed") << " | " << tr(L, "Exempted") << " | "
      << tr(L, "Critical") << " | " << tr(L, "High") << " | " << tr(L, "Medium") << " | "
      << tr(L, "Low") << " |\n";
  out << "|---:|:---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  out << "| **" << m.score << "**/100 | **" << m.grade << "** | " << m.tally.checks << " | "
      << m.tally.passed << " | " << m.tally.failed << " | " << m.tally.exempted << " | "
      << m.by_severity[static_cast<std::size_t>(Severity::Critical)] << " | "
      << m.by_severity[static_cast<std::size_t>(Severity::High)] << " | "
      << m.by_severity[static_cast<std::size_t>(Severity::Medium)] << " | "
      << m.by_severity[static_cast<std::size_t>(Severity::Low)] << " |\n\n";
  if (!m.scopes.empty()) {
    out << "**" << tr(L, "Scopes") << "** (`--scope " << to_string(s.scope_mode) << "`: "
        << scope_explanation(s, L) << ")\n\n";
    out << "| | " << tr(L, "Scope") << " | " << tr(L, "Score") << " | " << tr(L, "Grade") << " | "
        << tr(L, "Failed") << " | " << tr(L, "Critical") << " | " << tr(L, "High") << " | "
        << tr(L, "Resources") << " |\n|:---:|---|---:|:---:|---:|---:|---:|---:|\n";
    for (const ScopeReport& sc : m.scopes) {
      out << "| " << (sc.tally.failed ? "❌" : "✅") << " | " << cell(scope_label(sc, L)) << " | "
          << sc.grading.score << " | " << sc.grading.grade << " | " << sc.tally.failed << " | "
          << sc.by_severity[3] << " | " << sc.by_severity[2] << " | " << sc.objects << " |\n";
    }
    out << '\n';
  }
  if (m.framework) {
    const FrameworkView& fw = *m.framework;
    out << "### " << tr(L, "Framework") << ": " << cell(fw.title) << "\n\n**" << tr(L, "Compliance") << "**: "
        << (fw.score ? std::to_string(*fw.score) + "%" : std::string(tr(L, "not applicable"))) << " ("
        << cell(framework_summary(fw, L)) << ")\n\n";
    out << "| " << tr(L, "Control") << " | " << tr(L, "Status") << " | " << tr(L, "Compliance") << " | "
        << tr(L, "Rules") << " |\n|---|:---:|---:|---|\n";
    for (const FrameworkControl& c : fw.controls) {
      std::string rules;
      for (const FrameworkControl::RuleResult& r : c.rules)
        rules += (rules.empty() ? "" : ", ") + std::string("`") + r.rule->id + "`";
      out << "| " << cell(c.id + " " + c.title) << " | " << tr(L, to_string(c.status)) << " | "
          << (c.score ? std::to_string(*c.score) + "%" : std::string("-")) << " | " << rules << " |\n";
    }
    out << '\n';
  }
  if (m.grade_cap) {
    out << "**" << tr(L, "Grade cap") << "**: " << m.score_grade << " → " << m.grade_cap->grade << " — "
        << cell(m.grade_cap->reason) << "\n\n";
  }
  out << "<sub>" << tr(L, "Severity columns count failed checks.") << " " << s.objects << " "
      << tr(L, "resources in") << " " << s.documents << " " << tr(L, "documents") << "</sub>\n\n";

  if (s.cluster) {
    const ClusterInfo& c = *s.cluster;
    out << "### " << tr(L, "Cluster") << "\n\n"
        << cell(c.server) << (c.context.empty() ? "" : " (" + cell(c.context) + ")") << " · Kubernetes "
        << cell(c.server_version) << " · " << cell(cluster_counts(c, L)) << " · " << tr(L, "Scope")
        << ": " << cell(cluster_scope(c, L)) << "\n\n";
  }
  if (s.has_coverage_section()) {
    const std::vector<CoverageGap>& gaps = s.coverage_gaps();
    out << "**" << tr(L, "Coverage") << "**: ";
    if (gaps.empty()) out << tr(L, "Everything kguard needs could be read.") << "\n\n";
    else out << "\n\n";
    for (const CoverageGap& g : gaps) {
      out << "- " << cell(coverage_where(g, L)) << ": " << cell(g.reason);
      if (!g.message.empty()) out << " — " << cell(g.message);
      if (!g.rules.empty()) {
        out << " (" << g.rules.size() << " " << tr(L, "Rule") << ": ";
        for (std::size_t i = 0; i < g.rules.size() && i < 8; ++i) out << (i ? ", " : "") << "`" << g.rules[i] << "`";
        if (g.rules.size() > 8) out << ", …";
        out << ")";
      }
      out << "\n";
    }
    if (!gaps.empty()) out << "\n";
  }

  if (s.east_west) {
    const EastWestPosture& ew = *s.east_west;
    out << "### " << tr(L, "East-west traffic") << "\n\n" << cell(east_west_meshes(ew, L)) << ". "
        << tr(L, "mTLS STRICT with a default-deny authorization (mesh), an ingress default-deny NetworkPolicy (isolation only), both, or neither")
        << ".\n\n";
    if (!ew.namespaces.empty()) {
      out << "| " << tr(L, "Namespace") << " | " << tr(L, "Workloads") << " | " << tr(L, "Meshed") << " | "
          << tr(L, "Mesh") << " | mTLS | " << tr(L, "Authorization") << " | NetworkPolicy | " << tr(L, "Protected by")
          << " |\n|---|---:|---:|---|---|---|---|---|\n";
      for (const NamespaceTraffic& t : ew.namespaces) {
        out << "| " << cell(east_west_row_name(t, L)) << " | " << t.workloads << " | " << t.meshed << " | "
            << cell(east_west_value(t.mesh, L)) << " | " << east_west_value(t.mtls, L) << " | "
            << east_west_value(t.authorization, L) << " | " << east_west_value(t.network_policy, L) << " | **"
            << east_west_value(t.protected_by, L) << "** |\n";
      }
      out << '\n';
    }
  }

  out << "### " << tr(L, "By category") << "\n\n";
  out << "| " << tr(L, "Category") << " | " << tr(L, "Checks") << " | " << tr(L, "Passed") << " | "
      << tr(L, "Failed") << " | " << tr(L, "Score") << " |\n";
  out << "|---|---:|---:|---:|---:|\n";
  for (const CategoryReport& c : m.categories) {
    out << "| " << tr(L, category_title(c.category)) << " | " << c.tally.checks << " | "
        << c.tally.passed << " | " << c.tally.failed << " | " << c.score << " |\n";
  }
  out << '\n';
}

void write_top_findings(std::ostream& out, const ReportModel& m) {
  const EngineResult& s = *m.result;
  const Lang L = m.lang;
  // Most severe first; input order among equals, so the list is stable.
  std::size_t failed_total = 0;
  for (const FindingView f : s.findings) failed_total += f.result == Result::Fail ? 1 : 0;
  std::vector<std::size_t> failed;
  for (int sev = static_cast<int>(Severity::Critical); sev >= 0 && failed.size() < kTopFindings;
       --sev) {
    for (std::size_t i = 0; i < s.findings.size() && failed.size() < kTopFindings; ++i) {
      const FindingView f = s.findings[i];
      if (f.result == Result::Fail && f.rule->severity == static_cast<Severity>(sev)) failed.push_back(i);
    }
  }
  out << "### " << tr(L, "Top findings") << "\n\n";
  if (failed_total == 0) {
    out << tr(L, "No failed checks.") << "\n\n";
    return;
  }
  out << "| " << tr(L, "Severity") << " | " << tr(L, "Rule") << " | " << tr(L, "Resource") << " | "
      << tr(L, "Message") << " | " << tr(L, "Location") << " |\n";
  out << "|---|---|---|---|---|\n";
  for (std::size_t i = 0; i < failed.size() && i < kTopFindings; ++i) {
    const FindingView f = s.findings[failed[i]];
    out << "| " << tr(L, to_string(f.rule->severity)) << " | `" << f.rule->id << "` | "
        << cell(resource_label(f)) << " | " << cell(m.message(f)) << " | "
        << cell(location_label(f)) << " |\n";
  }
  if (failed_total > kTopFindings)
    out << "\n" << tr(L, "Showing") << " " << kTopFindings << " / " << failed_total << ".\n";
  out << '\n';
}

// Each image's vulnerabilities, highest risk first: the counts, then the
// first rows of the table (every row is in the JSON report).
void write_vulnerabilities(std::ostream& out, const ReportModel& m) {
  const EngineResult& s = *m.result;
  if (s.vulnerabilities.empty()) return;
  const Lang L = m.lang;
  constexpr std::size_t kRows = 20;
  out << "### " << tr(L, "Vulnerabilities by image") << "\n\n";
  for (const ImageVulnerabilities& iv : s.vulnerabilities) {
    const VulnCounts c = count_vulns(iv);
    out << "**" << cell(iv.reference) << "**" << (iv.os.empty() ? "" : " · ") << cell(iv.os) << ": " << c.open << ' '
        << tr(L, "vulnerabilities") << " (" << c.by_severity[3] << ' ' << tr(L, "critical") << ", " << c.by_severity[2]
        << ' ' << tr(L, "high") << ", " << c.by_severity[1] << ' ' << tr(L, "medium") << ", " << c.by_severity[0]
        << ' ' << tr(L, "low") << "), " << c.suppressed << ' ' << tr(L, "suppressed") << "\n\n";
    if (iv.matches.empty()) {
      out << tr(L, "No known vulnerabilities.") << "\n\n";
      continue;
    }
    out << "| " << tr(L, "ID") << " | " << tr(L, "Severity") << " | " << tr(L, "Risk") << " | " << tr(L, "Package")
        << " | " << tr(L, "Installed") << " | " << tr(L, "Fixed") << " | " << tr(L, "Why") << " |\n";
    out << "|---|---|---:|---|---|---|---|\n";
    for (std::size_t i = 0; i < iv.matches.size() && i < kRows; ++i) {
      const VulnMatch& v = iv.matches[i];
      std::string why = why_text(v);
      if (v.suppressed) why = suppression_text(v, L);
      out << "| `" << cell(v.id) << "` | " << tr(L, to_string(v.severity)) << " | " << decimal(v.risk) << " | "
          << cell(v.package_name) << " | " << cell(v.installed_version) << " | " << cell(fixed_text(v, L)) << " | "
          << cell(why) << " |\n";
    }
    if (iv.matches.size() > kRows) out << "\n" << tr(L, "Showing") << " " << kRows << " / " << iv.matches.size() << ".\n";
    out << '\n';
  }
}

void write_errors(std::ostream& out, const ReportModel& m) {
  const EngineResult& s = *m.result;
  if (s.errors.empty()) return;
  const Lang L = m.lang;
  out << "### " << tr(L, "Input errors") << "\n\n";
  for (std::size_t i = 0; i < s.errors.size() && i < kMaxErrors; ++i) {
    const InputError& e = s.errors[i];
    out << "- " << cell(file_position(e.file, e.line, e.column)) << ": " << cell(e.message) << '\n';
  }
  if (s.errors.size() > kMaxErrors)
    out << "- " << tr(L, "More not shown:") << " " << s.errors.size() - kMaxErrors << '\n';
  out << '\n';
}

// What directory walks left out, collapsed: it explains a short report.
void write_skipped(std::ostream& out, const ReportModel& m) {
  const EngineResult& s = *m.result;
  if (s.skipped.empty()) return;
  const Lang L = m.lang;
  out << "<details>\n<summary>" << tr(L, "Skipped") << " (" << s.skipped.size() << ")</summary>\n\n";
  for (std::size_t i = 0; i < s.skipped.size() && i < kMaxErrors; ++i) {
    const InputError& e = s.skipped[i];
    out << "- " << cell(file_position(e.file, e.line, e.line ? e.column : 0)) << ": " << cell(e.message) << '\n';
  }
  if (s.skipped.size() > kMaxErrors)
    out << "- " << tr(L, "More not shown:") << " " << s.skipped.size() - kMaxErrors << '\n';
  out << "\n</details>\n\n";
}

// One collapsed block for the findings [first, last) of one resource.
std::string details_block(const ReportModel& m, std::size_t first, std::size_t last) {
  const FindingStore& fs = m.result->findings;
  const Lang L = m.lang;
  const FindingView head = fs[first];
  std::ostringstream b;
  b << "<details>\n<summary><b>" << html(resource_label(head)) << "</b> — " << last - first << " "
    << tr(L, "findings") << " · " << html(head.location.file) << "</summary>\n\n";
  b << "| " << tr(L, "Result") << " | " << tr(L, "Severity") << " | " << tr(L, "Rule") << " | "
    << tr(L, "Message") << " | " << tr(L, "Location") << " | " << tr(L, "Remediation") << " |\n";
  b << "|---|---|---|---|---|---|\n";
  for (std::size_t i = first; i < last; ++i) {
    const FindingView f = fs[i];
    std::string where = location_label(f);
    if (!f.location.path.empty()) {
      where += '\n';
      where += f.location.path;
    }
    // A check failing on several containers repeats its rule: the fix is
    // shown once, on its first row, to leave room for more resources.
    const bool show_fix = f.result == Result::Fail && (i == first || fs[i - 1].rule != f.rule);
    b << "| " << tr(L, to_string(f.result)) << " | " << tr(L, to_string(f.rule->severity)) << " | `"
      << f.rule->id << "` | " << cell(m.message(f)) << " | " << cell(where) << " | "
      << (show_fix ? cell(f.rule->remediation_in(L)) : std::string()) << " |\n";
  }
  b << "\n</details>\n\n";
  return b.str();
}

}  // namespace

void write_markdown_report(const ReportModel& m, std::ostream& out) {
  const EngineResult& s = *m.result;
  const Lang L = m.lang;
  std::ostringstream doc;
  write_header(doc, m);
  write_top_findings(doc, m);
  write_vulnerabilities(doc, m);
  write_errors(doc, m);
  write_skipped(doc, m);
  std::string text = doc.str();

  if (!s.findings.empty()) text += "### " + std::string(tr(L, "Details by workload")) + "\n\n";
  // Sizes are counted in bytes: never fewer than characters, so staying under
  // the limit in bytes keeps the comment under it in characters too.
  std::size_t omitted = 0;
  for (std::size_t first = 0; first < s.findings.size();) {
    std::size_t last = first + 1;
    while (last < s.findings.size() && same_resource(s.findings[first], s.findings[last])) ++last;
    if (omitted == 0) {
      std::string block = details_block(m, first, last);
      if (text.size() + block.size() + kNoteReserve < kMarkdownLimit) {
        text += block;
      } else {
        omitted = last - first;
      }
    } else {
      omitted += last - first;
    }
    first = last;
  }
  if (omitted > 0) {
    std::ostringstream note;
    note << "> **" << tr(L, "Truncated") << "**: " << omitted << " "
         << tr(L,
               "more findings are not shown, to keep this comment under 65,536 characters; "
               "see the JSON or SARIF report for all of them.")
         << '\n';
    text += note.str();
  }
  out << text;
}

}  // namespace kg

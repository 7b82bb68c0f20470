// The terminal report: the sections of docs/report.md in order, aligned
// columns, colour only when writing to a terminal.
#include <algorithm>
#include <cstdio>
#include <iomanip>
#include <sstream>

#include "core/utf8.hpp"
#include "report/grouping.hpp"
#include "report/model.hpp"
#include "report/terminal.hpp"
#include "report/vulns.hpp"
#include "model/vuln_text.hpp"

namespace kg {
namespace {

struct Style {
  bool on;
  std::string_view operator()(std::string_view code) const { return on ? code : ""; }
};

constexpr std::string_view kBold = "\033[1m";
constexpr std::string_view kDim = "\033[2m";
constexpr std::string_view kRed = "\033[31m";
constexpr std::string_view kYellow = "\033[33m";
constexpr std::string_view kGreen = "\033[32m";
constexpr std::string_view kReset = "\033[0m";

std::string_view severity_colour(Severity s) {
  return s >= Severity::High ? kRed : kYellow;
}

std::string percent(std::uint64_t part, std::uint64_t whole) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%.1f%%", whole ? 100.0 * static_cast<double>(part) / static_cast<double>(whole) : 0.0);
  return buf;
}

// Terminal columns of UTF-8 text: East Asian wide characters take two.
std::size_t display_width(std::string_view s) {
  std::size_t w = 0;
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t start = i;
    const char32_t cp = next_code_point(s, i);
    // Three-byte characters from U+2E80 (CJK) are wide; a malformed byte
    // (U+FFFD, one byte) takes one column.
    w += (i - start == 3 && cp >= 0x2E80) ? 2 : 1;
  }
  return w;
}

std::string pad(std::string_view s, std::size_t width) {
  std::string out(s);
  const std::size_t w = display_width(s);
  out.append(w < width ? width - w : 1, ' ');
  return out;
}

template <typename T>
std::string lpad(const T& v, std::size_t width) {
  std::ostringstream ss;
  ss << v;
  std::string s = ss.str();
  const std::size_t w = display_width(s);
  return std::string(w < width ? width - w : 1, ' ') + s;
}

// Section 4: each image's vulnerabilities, highest risk first (the order
// the matcher gives), one row each: id, severity, risk, package, installed,
// fixed, why. Suppressed ones stay, dimmed, with who suppressed them and why.
void write_vulnerability_tables(const ReportModel& m, std::ostream& out, Style st) {
  const EngineResult& s = *m.result;
  const Lang L = m.lang;
  out << '\n' << st(kBold) << "4. " << tr(L, "Vulnerabilities by image") << st(kReset) << '\n';
  for (const ImageVulnerabilities& iv : s.vulnerabilities) {
    const VulnCounts c = count_vulns(iv);
    out << "\n  " << st(kBold) << Tsafe{iv.reference} << st(kReset);
    if (!iv.os.empty()) out << "  " << Tsafe{iv.os};
    out << '\n';
    out << "    " << c.open << ' ' << tr(L, "vulnerabilities") << " (" << c.by_severity[3] << ' ' << tr(L, "critical")
        << ", " << c.by_severity[2] << ' ' << tr(L, "high") << ", " << c.by_severity[1] << ' ' << tr(L, "medium")
        << ", " << c.by_severity[0] << ' ' << tr(L, "low") << "), " << c.suppressed << ' ' << tr(L, "suppressed");
    if (!iv.db_built_at.empty()) out << "; " << tr(L, "database built") << ' ' << Tsafe{iv.db_built_at};
    out << '\n';
    for (const ImageUse* u : image_users(s, iv.reference))
      out << "    " << st(kDim) << tr(L, "used by") << ' ' << Tsafe{user_text(*u, L)} << st(kReset) << '\n';
    for (const std::string& n : iv.notes)
      out << "    " << st(kDim) << Tsafe{note_text(n, L, s.messages_zh)} << st(kReset) << '\n';
    if (iv.matches.empty()) {
      out << "    " << st(kGreen) << tr(L, "No known vulnerabilities.") << st(kReset) << '\n';
      continue;
    }
    // Column widths from the content, capped so one long version or id
    // does not push the rest off the screen.
    auto cap = [](std::size_t w, std::size_t limit) { return std::min(w, limit) + 2; };
    std::size_t wid = display_width(tr(L, "ID")), wpkg = display_width(tr(L, "Package")),
                winst = display_width(tr(L, "Installed")), wfix = display_width(tr(L, "Fixed"));
    for (const VulnMatch& v : iv.matches) {
      wid = std::max(wid, display_width(v.id));
      wpkg = std::max(wpkg, display_width(v.package_name));
      winst = std::max(winst, display_width(v.installed_version));
      wfix = std::max(wfix, display_width(fixed_text(v, L)));
    }
    wid = cap(wid, 24);
    wpkg = cap(wpkg, 28);
    winst = cap(winst, 24);
    wfix = cap(wfix, 24);
    const std::size_t wsev = std::max<std::size_t>(10, display_width(tr(L, "Severity")) + 2);
    out << "    " << st(kDim) << pad(tr(L, "ID"), wid) << pad(tr(L, "Severity"), wsev) << lpad(tr(L, "Risk"), 6) << "  "
        << pad(tr(L, "Package"), wpkg) << pad(tr(L, "Installed"), winst) << pad(tr(L, "Fixed"), wfix) << tr(L, "Why")
        << st(kReset) << '\n';
    for (const VulnMatch& v : iv.matches) {
      const std::string_view colour = v.suppressed ? kDim : severity_colour(v.severity);
      out << "    " << st(v.suppressed ? kDim : "") << pad(terminal_safe(v.id), wid) << st(colour)
          << pad(tr(L, to_string(v.severity)), wsev) << st(kReset) << st(v.suppressed ? kDim : "")
          << lpad(decimal(v.risk), 6) << "  " << pad(terminal_safe(v.package_name), wpkg)
          << pad(terminal_safe(v.installed_version), winst) << pad(terminal_safe(fixed_text(v, L)), wfix);
      if (v.suppressed) {
        out << Tsafe{suppression_text(v, L)};
      } else {
        out << Tsafe{why_text(v)};
      }
      out << st(kReset) << '\n';
    }
  }
}

}  // namespace

void write_text_report(const ReportModel& m, std::ostream& out, bool color) {
  const EngineResult& s = *m.result;
  Style st{color};
  const Lang L = m.lang;
  auto heading = [&](std::string_view title) {
    out << '\n' << st(kBold) << title << st(kReset) << '\n';
  };

  out << st(kBold) << tr(L, "kguard inspection report") << st(kReset) << "  " << st(kDim) << "kguard "
      << m.tool_version << ", " << m.generated_at << st(kReset) << '\n';

  heading(std::string("1. ") + std::string(tr(L, "Overview")));
  out << "  " << pad(tr(L, "Source"), 12);
  for (std::size_t i = 0; i < s.inputs.size(); ++i) out << (i ? ", " : "") << Tsafe{s.inputs[i]};
  out << '\n';
  if (s.cluster) {
    const ClusterInfo& c = *s.cluster;
    out << "  " << pad(tr(L, "Cluster"), 12) << Tsafe{c.server};
    if (!c.context.empty()) out << " (" << Tsafe{c.context} << ")";
    out << ", Kubernetes " << Tsafe{c.server_version} << '\n';
    out << "  " << pad("", 12) << Tsafe{cluster_counts(c, L)} << '\n';
    out << "  " << pad(tr(L, "Scope"), 12) << Tsafe{cluster_scope(c, L)} << '\n';
  }
  out << "  " << pad(tr(L, "Policy"), 12) << policy_text(s, L) << '\n';
  const std::string_view score_colour = m.score >= 80 ? kGreen : m.score >= 60 ? kYellow : kRed;
  out << "  " << pad(tr(L, "Score"), 12) << st(kBold) << st(score_colour) << m.score << "/100 (" << m.grade << ")"
      << st(kReset) << '\n';
  if (m.grade_cap) {
    out << "  " << pad(tr(L, "Grade cap"), 12) << m.score_grade << " -> " << m.grade_cap->grade << ": "
        << m.grade_cap->reason << '\n';
  }
  out << "  " << pad(tr(L, "Checks"), 12) << m.tally.checks << " " << tr(L, "evaluated") << ", " << m.tally.passed << " "
      << tr(L, "passed") << ", " << m.tally.failed << " " << tr(L, "failed") << ", " << m.tally.exempted << " "
      << tr(L, "exempted") << '\n';
  out << "  " << pad(tr(L, "Severity"), 12) << m.by_severity[3] << " " << tr(L, "critical") << ", " << m.by_severity[2] << " "
      << tr(L, "high") << ", " << m.by_severity[1] << " " << tr(L, "medium") << ", " << m.by_severity[0] << " "
      << tr(L, "low") << " (" << tr(L, "failed checks") << ")\n";
  if (!m.scopes.empty()) {
    out << "  " << pad(tr(L, "Scopes"), 12) << "--scope " << to_string(s.scope_mode) << ": "
        << scope_explanation(s, L) << '\n';
    for (const ScopeReport& sc : m.scopes) {
      const bool failed = sc.tally.failed > 0;
      out << "    " << st(failed ? kRed : kGreen) << pad(tr(L, failed ? "fail" : "pass"), 6) << st(kReset)
          << pad(scope_label(sc, L), 30) << lpad(sc.grading.score, 4) << "/100 ("
          << sc.grading.grade << ")  " << sc.tally.failed << " " << tr(L, "failed") << ", "
          << sc.by_severity[3] << " " << tr(L, "critical") << ", " << sc.by_severity[2] << " "
          << tr(L, "high") << "; " << sc.objects << " " << tr(L, "resources") << '\n';
    }
  }
  out << "  " << pad(tr(L, "Resources"), 12) << s.objects << " (" << s.documents << " " << tr(L, "documents") << ")\n";
  for (const auto& [kind, count] : s.kinds)
    out << "    " << pad(terminal_safe(kind), 28) << lpad(count, 7) << lpad(percent(count, s.objects), 8) << '\n';

  heading(std::string("2. ") + std::string(tr(L, "By category")));
  out << "  " << pad(tr(L, "Category"), 16) << lpad(tr(L, "Checks"), 8) << lpad(tr(L, "Passed"), 8)
      << lpad(tr(L, "Failed"), 8) << lpad(tr(L, "Score"), 10) << '\n';
  for (const CategoryReport& c : m.categories) {
    out << "  " << pad(tr(L, category_title(c.category)), 16) << lpad(c.tally.checks, 8)
        << lpad(c.tally.passed, 8) << lpad(c.tally.failed, 8) << lpad(c.score, 10) << '\n';
  }

  if (m.framework) {
    const FrameworkView& fw = *m.framework;
    heading(std::string(tr(L, "Framework")) + ": " + fw.title);
    out << "  " << pad(tr(L, "Compliance"), 12) << st(kBold)
        << (fw.score ? std::to_string(*fw.score) + "%" : std::string(tr(L, "not applicable"))) << st(kReset)
        << " (" << framework_summary(fw, L) << ")\n";
    std::size_t id_width = 8;
    for (const FrameworkControl& c : fw.controls) id_width = std::max(id_width, c.id.size() + 1);
    for (const FrameworkControl& c : fw.controls) {
      const std::string_view colour = c.status == ControlStatus::Fail   ? kRed
                                      : c.status == ControlStatus::Pass ? kGreen
                                                                        : kDim;
      out << "  " << pad(c.id, id_width) << ' ' << st(colour) << pad(tr(L, to_string(c.status)), 15) << st(kReset)
          << lpad(c.score ? std::to_string(*c.score) + "%" : std::string("-"), 5) << "  " << c.title << '\n';
      for (const FrameworkControl::RuleResult& r : c.rules) {
        out << "  " << pad("", id_width) << ' ' << st(kDim) << pad(r.rule->id, 44) << ' ' << r.tally.failed << ' '
            << tr(L, "failed") << ", " << r.tally.passed << ' ' << tr(L, "passed") << ", " << r.tally.exempted << ' '
            << tr(L, "exempted") << st(kReset) << '\n';
      }
    }
  }

  heading(std::string("3. ") + std::string(tr(L, "Details by workload")));
  // Vulnerability findings are the next section's table, by image and risk.
  std::size_t vuln_findings = 0;
  for (const FindingView f : s.findings) vuln_findings += is_vulnerability_rule(*f.rule) ? 1 : 0;
  if (s.findings.size() == vuln_findings) out << "  " << tr(L, "No failed checks.") << '\n';
  if (vuln_findings > 0) {
    out << "  " << st(kDim) << tr(L, "Vulnerability findings are listed by image in the next section.") << st(kReset)
        << '\n';
  }
  // Group rows by resource, keeping input order. Findings of a repeated
  // shape are listed a few times, then counted (report/grouping.hpp).
  const FindingGroups groups = group_findings(s.findings);
  if (groups.hidden_total > 0) {
    out << "  " << st(kDim) << groups.hidden_total << ' '
        << tr(L, "findings of a repeated shape are counted, not listed (every finding is in the json, sarif and csv reports)")
        << st(kReset) << '\n';
  }
  std::string current;
  for (std::size_t fi = 0; fi < s.findings.size(); ++fi) {
    if (groups.hidden[fi]) continue;
    const FindingView f = s.findings[fi];
    if (is_vulnerability_rule(*f.rule)) continue;
    const bool is_new = !m.baseline.empty() && m.baseline[fi] == BaselineState::New;
    std::string resource = terminal_safe(std::string(f.kind) + " " +
                                         (f.ns.empty() ? std::string() : std::string(f.ns) + "/") + std::string(f.name));
    // The same object defined in two files is two resources.
    if (resource + '\n' + std::string(f.location.file) != current) {
      current = resource + '\n' + std::string(f.location.file);
      out << "\n  " << st(kBold) << resource << st(kReset) << "  " << st(kDim) << Tsafe{f.location.file}
          << st(kReset) << '\n';
    }
    const RuleInfo& r = *f.rule;
    const std::string_view sev_col = f.result == Result::Fail ? severity_colour(r.severity) : kGreen;
    out << "    " << st(sev_col) << pad(std::string(tr(L, to_string(f.result))) + " " +
                                         std::string(tr(L, to_string(r.severity))), 16)
        << st(kReset) << pad(terminal_safe(r.id), 32) << ' ' << (is_new ? std::string("[") + std::string(tr(L, "new")) + "] " : std::string())
        << Tsafe{m.message(f)} << '\n';
    out << "      " << st(kDim) << Tsafe{f.location.file} << ':' << f.location.line << ':'
        << f.location.column;
    if (!f.location.path.empty()) out << "  " << Tsafe{f.location.path};
    out << st(kReset) << '\n';
    if (f.result == Result::Fail) out << "      " << tr(L, "fix") << ": " << Tsafe{r.remediation_in(L)} << '\n';
    if (f.result == Result::Exempt) {
      out << "      " << tr(L, "exempt") << ": " << Tsafe{f.exemption_reason};
      if (!f.exemption_until.empty()) out << " (" << tr(L, "until") << ' ' << Tsafe{f.exemption_until} << ')';
      out << '\n';
    }
    if (groups.more[fi] > 0) {
      out << "      " << st(kDim) << "… " << tr(L, "and") << ' ' << groups.more[fi] << ' '
          << tr(L, "more like this, not listed here") << st(kReset) << '\n';
    }
  }

  if (!s.vulnerabilities.empty()) write_vulnerability_tables(m, out, st);

  if (s.east_west) {
    const EastWestPosture& ew = *s.east_west;
    heading(tr(L, "East-west traffic"));
    out << "  " << east_west_meshes(ew, L) << '\n';
    out << "  " << st(kDim)
        << tr(L, "mTLS STRICT with a default-deny authorization (mesh), an ingress default-deny NetworkPolicy (isolation only), both, or neither")
        << st(kReset) << '\n';
    std::size_t wns = 12;
    for (const NamespaceTraffic& t : ew.namespaces) wns = std::max(wns, terminal_safe(east_west_row_name(t, L)).size() + 2);
    out << "  " << st(kDim) << pad(tr(L, "Namespace"), wns) << lpad(tr(L, "Workloads"), 10) << lpad(tr(L, "Meshed"), 8)
        << "  " << pad(tr(L, "Mesh"), 15) << pad("mTLS", 12) << pad(tr(L, "Authorization"), 14)
        << pad("NetworkPolicy", 14) << tr(L, "Protected by") << st(kReset) << '\n';
    for (const NamespaceTraffic& t : ew.namespaces) {
      const std::string_view colour = t.protected_by == "none" ? kRed : t.protected_by == "both" ? kGreen : kYellow;
      out << "  " << pad(terminal_safe(east_west_row_name(t, L)), wns) << lpad(t.workloads, 10)
          << lpad(t.meshed, 8) << "  " << pad(east_west_value(t.mesh, L), 15) << pad(east_west_value(t.mtls, L), 12)
          << pad(east_west_value(t.authorization, L), 14) << pad(east_west_value(t.network_policy, L), 14)
          << st(colour) << east_west_value(t.protected_by, L) << st(kReset) << '\n';
    }
  }

  if (s.has_coverage_section()) {
    heading(tr(L, "Coverage"));
    if (s.coverage_gaps().empty()) out << "  " << tr(L, "Everything kguard needs could be read.") << '\n';
    for (const CoverageGap& g : s.coverage_gaps()) {
      out << "  " << st(kYellow) << Tsafe{coverage_where(g, L)} << st(kReset) << ": " << Tsafe{g.reason};
      if (!g.message.empty()) out << " — " << Tsafe{g.message};
      out << '\n';
      if (!g.rules.empty()) {
        out << "    " << st(kDim) << tr(L, "could not be read; these rules did not see it:") << ' ';
        for (std::size_t i = 0; i < g.rules.size(); ++i) out << (i ? ", " : "") << Tsafe{g.rules[i]};
        out << st(kReset) << '\n';
      }
    }
  }

  if (!m.baseline_file.empty()) {
    heading(tr(L, "Compared with the baseline"));
    std::uint64_t unchanged = 0;
    for (BaselineState b : m.baseline) unchanged += b == BaselineState::Unchanged ? 1 : 0;
    out << "  " << Tsafe{m.baseline_file} << ": " << m.new_failures << ' ' << tr(L, "new") << ", "
        << unchanged << ' ' << tr(L, "unchanged") << ", " << m.fixed.size() << ' ' << tr(L, "fixed")
        << '\n';
    for (const FixedFinding& x : m.fixed) {
      out << "    " << st(kGreen) << tr(L, "fixed") << st(kReset) << "  " << pad(terminal_safe(x.rule), 32) << ' '
          << Tsafe{x.kind + ' ' + (x.ns.empty() ? "" : x.ns + "/") + x.name + "  " + x.path} << '\n';
    }
  }
  if (!s.skipped.empty()) {
    heading(tr(L, "Skipped"));
    for (const InputError& e : s.skipped) {
      out << "  " << st(kDim) << Tsafe{e.file};
      if (e.line) out << ':' << e.line;
      out << st(kReset) << ": " << Tsafe{e.message} << '\n';
    }
  }
  if (!s.warnings.empty()) {
    heading(tr(L, "Notices"));
    for (const InputError& e : s.warnings) {
      out << "  " << st(kYellow) << Tsafe{e.file};
      if (e.line) out << ':' << e.line;
      out << st(kReset) << ": " << Tsafe{e.message} << '\n';
    }
  }
  if (!s.errors.empty()) {
    heading(tr(L, "Input errors"));
    for (const InputError& e : s.errors) {
      out << "  " << st(kRed) << Tsafe{e.file};
      if (e.line) out << ':' << e.line << ':' << e.column;
      out << st(kReset) << ": " << Tsafe{e.message} << '\n';
    }
  }
  out << '\n';
}

}  // namespace kg

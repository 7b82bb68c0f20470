// The terminal report: the sections of docs/report.md in order, aligned
// columns, colour only when writing to a terminal.
#include <algorithm>
#include <cstdio>
#include <iomanip>
#include <sstream>

#include "report/model.hpp"

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

std::string pad(std::string_view s, std::size_t width) {
  std::string out(s);
  if (out.size() < width) out.append(width - out.size(), ' ');
  return out;
}

}  // namespace

void write_text_report(const ReportModel& m, std::ostream& out, bool color) {
  const ScanResult& s = *m.scan;
  Style st{color};
  auto heading = [&](std::string_view title) {
    out << '\n' << st(kBold) << title << st(kReset) << '\n';
  };

  out << st(kBold) << "kguard inspection report" << st(kReset) << "  " << st(kDim) << "kguard "
      << m.tool_version << ", " << m.generated_at << st(kReset) << '\n';

  heading("1. Overview");
  out << "  Source:     ";
  for (std::size_t i = 0; i < s.inputs.size(); ++i) out << (i ? ", " : "") << s.inputs[i];
  out << '\n';
  out << "  Policy:     Pod Security Standards " << to_string(s.options.pss_level) << " v1."
      << s.options.pss_minor << '\n';
  const std::string_view score_colour = m.score >= 80 ? kGreen : m.score >= 60 ? kYellow : kRed;
  out << "  Score:      " << st(kBold) << st(score_colour) << m.score << "/100 (" << m.grade << ")"
      << st(kReset) << '\n';
  out << "  Checks:     " << m.tally.checks << " evaluated, " << m.tally.passed << " passed, "
      << m.tally.failed << " failed, " << m.tally.exempted << " exempted\n";
  out << "  Severity:   " << m.by_severity[3] << " critical, " << m.by_severity[2] << " high, "
      << m.by_severity[1] << " medium, " << m.by_severity[0] << " low (failed checks)\n";
  out << "  Resources:  " << s.objects << " in " << s.documents << " documents\n";
  for (const auto& [kind, count] : s.kinds)
    out << "    " << pad(kind, 28) << std::setw(7) << count << "  " << std::setw(6)
        << percent(count, s.objects) << '\n';

  heading("2. By category");
  out << "  " << pad("Category", 16) << std::setw(8) << "Checks" << std::setw(8) << "Passed"
      << std::setw(8) << "Failed" << std::setw(8) << "Score" << '\n';
  for (const CategoryReport& c : m.categories)
    out << "  " << pad(category_title(c.category), 16) << std::setw(8) << c.tally.checks
        << std::setw(8) << c.tally.passed << std::setw(8) << c.tally.failed << std::setw(8)
        << c.score << '\n';

  heading("3. Details by workload");
  if (s.findings.empty()) out << "  No failed checks.\n";
  // Group rows by resource, keeping input order.
  std::string current;
  for (const Finding& f : s.findings) {
    std::string resource = f.kind + " " + (f.ns.empty() ? std::string() : f.ns + "/") + f.name;
    if (resource != current) {
      current = resource;
      out << "\n  " << st(kBold) << resource << st(kReset) << "  " << st(kDim) << f.location.file
          << st(kReset) << '\n';
    }
    const Rule& r = *f.rule;
    const std::string_view sev_col = f.result == Result::Fail ? severity_colour(r.severity) : kGreen;
    out << "    " << st(sev_col) << pad(std::string(to_string(f.result)) + " " +
                                         std::string(to_string(r.severity)), 15)
        << st(kReset) << pad(r.id, 32) << ' ' << f.message << '\n';
    out << "      " << st(kDim) << f.location.file << ':' << f.location.line << ':'
        << f.location.column;
    if (!f.location.path.empty()) out << "  " << f.location.path;
    out << st(kReset) << '\n';
    if (f.result == Result::Fail) out << "      fix: " << r.remediation << '\n';
  }

  if (!s.errors.empty()) {
    heading("Input errors");
    for (const InputError& e : s.errors) {
      out << "  " << st(kRed) << e.file;
      if (e.line) out << ':' << e.line << ':' << e.column;
      out << st(kReset) << ": " << e.message << '\n';
    }
  }
  out << '\n';
}

}  // namespace kg

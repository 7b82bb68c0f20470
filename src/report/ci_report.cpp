// `-o ci`: one line per failed finding, compiler-diagnostic style, for grep,
// problem matchers and CI annotations:
//   deploy/api.yaml:9:19: high pss-privileged: container "api" is privileged [Deployment shop/api]
// Stable: the fields never move, values are on one line with controls escaped.
#include "report/formats.hpp"
#include "report/terminal.hpp"

namespace kg {

void write_ci_report(const ReportModel& m, std::ostream& out) {
  for (const FindingView f : m.result->findings) {
    if (f.result != Result::Fail) continue;
    out << Tsafe{f.location.file} << ':' << f.location.line << ':' << f.location.column << ": "
        << to_string(f.rule->severity) << ' ' << Tsafe{f.rule->id} << ": "
        << Tsafe{m.message(f)} << " ["
        << Tsafe{std::string(f.kind) + ' ' + (f.ns.empty() ? std::string() : std::string(f.ns) + "/") + std::string(f.name)} << "]\n";
  }
  for (const InputError& e : m.result->errors) {
    out << Tsafe{e.file} << ':' << e.line << ':' << e.column << ": error input: " << Tsafe{e.message}
        << '\n';
  }
}

}  // namespace kg

#include "cli/report_outputs.hpp"

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iostream>

#include "report/terminal.hpp"

namespace kg::cli {

bool write_outputs(std::string_view command, const std::vector<OutputSpec>& outputs, bool no_color,
                   const OutputWriter& write) {
  for (const OutputSpec& o : outputs) {
    std::ofstream file;
    if (!o.to_stdout()) {
      file.open(o.file, std::ios::binary | std::ios::trunc);
      if (!file) {
        std::cerr << "kguard " << command << ": cannot write " << terminal_safe(o.file) << '\n';
        return false;
      }
    }
    std::ostream& out = o.to_stdout() ? std::cout : file;
    RenderOptions render_options;
    render_options.color = o.to_stdout() && isatty(STDOUT_FILENO) && !no_color && !std::getenv("NO_COLOR");
    write(o, render_options, out);
    out.flush();
    if (!out) {
      std::cerr << "kguard " << command << ": cannot write " << (o.to_stdout() ? "stdout" : terminal_safe(o.file))
                << '\n';
      return false;
    }
  }
  return true;
}

std::vector<FindingView> fail_on_hits(const EngineResult& result, const std::optional<Severity>& fail_on) {
  std::vector<FindingView> hits;
  if (!fail_on) return hits;
  for (const FindingView f : result.findings)
    if (f.result == Result::Fail && f.rule->severity >= *fail_on) hits.push_back(f);
  return hits;
}

}  // namespace kg::cli

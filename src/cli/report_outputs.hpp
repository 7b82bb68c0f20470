// The -o FORMAT[=FILE] outputs of the commands that write one report several
// ways (kguard node, kguard image): each output opened (a file, or stdout),
// rendered with colour only on a terminal stdout (not with --no-color or
// NO_COLOR), flushed and checked, and the --fail-on gate over the findings.
#pragma once

#include <functional>
#include <optional>
#include <ostream>
#include <string_view>
#include <vector>

#include "cli/args.hpp"
#include "model/engine_result.hpp"
#include "report/renderers.hpp"

namespace kg::cli {

// Calls `write` for each output with its stream and render options; false
// after printing "kguard COMMAND: cannot write FILE" (the file could not be
// opened or written), true when every output was written.
using OutputWriter = std::function<void(const OutputSpec&, const RenderOptions&, std::ostream&)>;
bool write_outputs(std::string_view command, const std::vector<OutputSpec>& outputs, bool no_color,
                   const OutputWriter& write);

// The failed findings at or above `fail_on` (none without it).
std::vector<FindingView> fail_on_hits(const EngineResult& result, const std::optional<Severity>& fail_on);

}  // namespace kg::cli

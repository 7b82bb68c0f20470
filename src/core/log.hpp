// Structured log lines for long-running commands (kguard admit, the
// namespace watch): one JSON object a line on stderr, whole lines only.
#pragma once

#include <initializer_list>
#include <string_view>
#include <utility>

namespace kg {

// {"time":..., "level":..., "msg":..., fields...}
void log_line(std::string_view level, std::string_view msg,
              std::initializer_list<std::pair<std::string_view, std::string_view>> fields = {});

}  // namespace kg

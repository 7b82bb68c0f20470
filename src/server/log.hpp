// One structured log line on stderr: {"time":..., "level":..., "msg":..., fields...}.
// Every component logs through log_line, so where it lives can change with
// one include.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace kg {

void log_line(std::string_view level, std::string_view msg,
              std::initializer_list<std::pair<std::string_view, std::string_view>> fields = {});

// RFC 3339 UTC time with milliseconds.
std::string rfc3339_now();

}  // namespace kg

// How bad a finding is, the same four levels for every engine.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace kg {

enum class Severity : std::uint8_t { Low, Medium, High, Critical };

std::string_view to_string(Severity s);
std::optional<Severity> parse_severity(std::string_view s);

}  // namespace kg

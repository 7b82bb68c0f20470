#include "model/severity.hpp"

namespace kg {

std::string_view to_string(Severity s) {
  switch (s) {
    case Severity::Low: return "low";
    case Severity::Medium: return "medium";
    case Severity::High: return "high";
    case Severity::Critical: return "critical";
  }
  return "medium";
}

std::optional<Severity> parse_severity(std::string_view s) {
  for (Severity v : {Severity::Low, Severity::Medium, Severity::High, Severity::Critical})
    if (s == to_string(v)) return v;
  return std::nullopt;
}

}  // namespace kg

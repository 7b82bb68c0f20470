#include "catalog/rule.hpp"

#include <algorithm>
#include <charconv>

namespace kg {

std::optional<PssLevel> parse_pss_level(std::string_view s) {
  if (s == "privileged") return PssLevel::Privileged;
  if (s == "baseline") return PssLevel::Baseline;
  if (s == "restricted") return PssLevel::Restricted;
  return std::nullopt;
}

std::string_view to_string(PssLevel l) {
  switch (l) {
    case PssLevel::Privileged: return "privileged";
    case PssLevel::Baseline: return "baseline";
    case PssLevel::Restricted: return "restricted";
  }
  return "restricted";
}

std::optional<int> parse_pss_version(std::string_view s) {
  if (s == "latest") return kLatestPssMinor;
  if (s.substr(0, 3) != "v1.") return std::nullopt;
  s.remove_prefix(3);
  int minor = -1;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), minor);
  if (ec != std::errc{} || p != s.data() + s.size() || minor < 0) return std::nullopt;
  // Versions newer than kguard knows evaluate as the newest it knows, which
  // is what the API server does with a future version label.
  return std::min(minor, kLatestPssMinor);
}

}  // namespace kg

#include "model/scope.hpp"

namespace kg {

std::optional<ScopeMode> parse_scope_mode(std::string_view s) {
  if (s == "auto") return ScopeMode::Auto;
  if (s == "dir") return ScopeMode::Dir;
  if (s == "file") return ScopeMode::File;
  if (s == "all") return ScopeMode::All;
  return std::nullopt;
}

std::string_view to_string(ScopeMode m) {
  switch (m) {
    case ScopeMode::Auto: return "auto";
    case ScopeMode::Dir: return "dir";
    case ScopeMode::File: return "file";
    case ScopeMode::All: return "all";
  }
  return "all";
}

}  // namespace kg

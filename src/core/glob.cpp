#include "core/glob.hpp"

#include <algorithm>

namespace kg {
namespace {

// Iterative matcher with backtracking to the last star.
bool match(std::string_view pattern, std::string_view text, bool path_aware) {
  std::size_t p = 0, t = 0, star_p = std::string_view::npos, star_t = 0;
  bool star_crosses = !path_aware;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star_crosses = !path_aware || (p + 1 < pattern.size() && pattern[p + 1] == '*');
      while (p < pattern.size() && pattern[p] == '*') ++p;
      star_p = p;
      star_t = t;
    } else if (p < pattern.size() && (pattern[p] == text[t] ||
                                      (pattern[p] == '?' && !(path_aware && text[t] == '/')))) {
      ++p;
      ++t;
    } else if (star_p != std::string_view::npos && (star_crosses || text[star_t] != '/')) {
      p = star_p;
      t = ++star_t;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

}  // namespace

bool glob_match(std::string_view pattern, std::string_view text) {
  return match(pattern, text, false);
}

bool path_glob_match(std::string_view pattern, std::string_view path) {
  return match(pattern, path, true);
}

bool any_glob(const std::vector<std::string>& patterns, std::string_view text) {
  return std::any_of(patterns.begin(), patterns.end(),
                     [&](const std::string& p) { return glob_match(p, text); });
}

}  // namespace kg

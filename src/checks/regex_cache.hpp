// Regular expressions compiled while a catalog loads. The catalog binds the
// same patterns in several rules (env vars and ConfigMaps share their secret
// patterns), and compiling a std::regex costs more than a whole small scan's
// matching: each distinct pattern is compiled once per load, and copies share
// the immutable automaton. Owned by the load (Catalog::add_files, a Scanner's
// rule overrides), never global.
#pragma once

#include <map>
#include <regex>
#include <string>
#include <utility>

namespace kg {

class RegexCache {
 public:
  // Throws std::regex_error on a bad pattern (which is not cached).
  std::regex get(const std::string& source, std::regex::flag_type flags) {
    auto key = std::make_pair(source, flags);
    if (auto it = cache_.find(key); it != cache_.end()) return it->second;
    std::regex re(source, flags);
    cache_.emplace(std::move(key), re);
    return re;
  }

 private:
  std::map<std::pair<std::string, std::regex::flag_type>, std::regex> cache_;
};

// `source` through `cache` when there is one.
inline std::regex compile_regex(RegexCache* cache, const std::string& source,
                                std::regex::flag_type flags) {
  return cache ? cache->get(source, flags) : std::regex(source, flags);
}

}  // namespace kg

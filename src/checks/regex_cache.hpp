// Regular expressions compiled while a catalog loads. The catalog binds the
// same patterns in several rules (env vars and ConfigMaps share their secret
// patterns), and compiling a std::regex costs more than a whole small scan's
// matching: each distinct pattern is compiled once per load, and copies share
// the immutable automaton. Owned by the load (Catalog::add_files, a Scanner's
// rule overrides), never global.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <regex>
#include <string>
#include <utility>

namespace kg {

// A regular expression compiled on its first use (get()), once, from any
// thread. The built-in secret patterns are reached only when their prefilter
// passes, so most scans never compile most of them; a pattern that may be
// malformed (a custom rule's) is compiled at load instead (RegexCache::defer).
class LazyRegex {
 public:
  LazyRegex(std::string source, std::regex::flag_type flags, bool now)
      : source_(std::move(source)), flags_(flags) {
    if (now) get();  // throws std::regex_error on a bad pattern
  }
  const std::regex& get() const {
    std::call_once(once_, [this] { re_ = std::regex(source_, flags_); });
    return re_;
  }

 private:
  std::string source_;
  std::regex::flag_type flags_;
  mutable std::once_flag once_;
  mutable std::regex re_;
};

class RegexCache {
 public:
  // Lazy regexes are compiled at first use, not now: only for patterns known
  // to compile (the embedded catalog, whose load is tested eagerly).
  bool defer = false;

  // The shared lazy form of `source`; throws std::regex_error on a bad pattern
  // unless deferred.
  std::shared_ptr<const LazyRegex> get_lazy(const std::string& source, std::regex::flag_type flags) {
    auto key = std::make_pair(source, flags);
    if (auto it = lazy_.find(key); it != lazy_.end()) return it->second;
    auto re = std::make_shared<const LazyRegex>(source, flags, !defer);
    lazy_.emplace(std::move(key), re);
    return re;
  }

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
  std::map<std::pair<std::string, std::regex::flag_type>, std::shared_ptr<const LazyRegex>> lazy_;
};

// `source` through `cache` when there is one.
inline std::regex compile_regex(RegexCache* cache, const std::string& source,
                                std::regex::flag_type flags) {
  return cache ? cache->get(source, flags) : std::regex(source, flags);
}

// The lazy form of `source` through `cache` when there is one (else compiled now).
inline std::shared_ptr<const LazyRegex> compile_lazy_regex(RegexCache* cache, const std::string& source,
                                                           std::regex::flag_type flags) {
  return cache ? cache->get_lazy(source, flags) : std::make_shared<const LazyRegex>(source, flags, true);
}

}  // namespace kg

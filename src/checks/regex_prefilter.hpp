// A necessary condition for an ECMAScript regular expression, checked before
// std::regex runs (which costs microseconds per call even on a short string).
//
// From the pattern we derive what any match must contain: runs of
// consecutive characters, each from a known byte set ("AKIA", or
// [A-Z][A-Z][0-9][0-9] for an IBAN), all of which occur in a match, with
// alternations giving several such sets (passw…d | secret | api…key). When
// the text satisfies none of the sets, the regex cannot match and is not run. The derivation is
// conservative: byte sets may be wider than the regex's, runs may be shorter,
// and any syntax it does not fully understand yields no prefilter at all, so
// skipping the regex never changes a result.
#pragma once

#include <bitset>
#include <string_view>
#include <vector>

namespace kg {

class RegexPrefilter {
 public:
  using ByteSet = std::bitset<256>;
  using Run = std::vector<ByteSet>;

  // `pattern` as std::regex compiles it (without kguard's "(?i)" prefix);
  // `icase` when it is compiled case-insensitively.
  static RegexPrefilter analyze(std::string_view pattern, bool icase);

  // False only when no match of the pattern can exist in `text`.
  bool may_match(std::string_view text) const;

  // No requirement found: may_match is always true.
  bool trivial() const { return any_of_.empty(); }

 private:
  // Every match contains all runs of at least one of these sets.
  std::vector<std::vector<Run>> any_of_;
};

}  // namespace kg

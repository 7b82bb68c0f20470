// Reference scopes (--scope): which parts of the input set-level rules may
// relate to each other, and each part's own verdicts when the input splits
// (docs/configuration.md "Reference scope").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/finding.hpp"

namespace kg {

enum class ScopeMode : std::uint8_t {
  Auto,  // Dir when scopes that cannot see each other define the same object, else All
  Dir,   // input directories and their top-level folders (a tree: each sees above and below)
  File,  // each file alone
  All,   // everything together (always for cluster reads and snapshots)
};
std::optional<ScopeMode> parse_scope_mode(std::string_view s);
std::string_view to_string(ScopeMode m);

// One reference scope of a result and its verdicts (only when there are several).
struct ScopeSummary {
  std::string name;  // the folder, input directory or file; "" for files named as inputs
  std::uint64_t objects = 0;
  std::vector<RuleTally> tallies;  // parallel to EngineResult::rules
};

}  // namespace kg

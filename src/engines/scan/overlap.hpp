// One risk, one finding: when two rules in force report the same field of the
// same object and one `supersedes:` the other (rule.yaml), the superseding
// rule owns the finding and the other's is folded into it.
#pragma once

#include <cstddef>
#include <vector>

#include "engines/scan/scan.hpp"

namespace kg {

// Drops the failed (exempted) findings in `findings[begin, end)` that a failed
// (exempted) finding of a superseding rule covers: same object, container and
// field path.
// Tallies are left alone: every rule keeps its verdict on every object (PSS
// verdicts stay exact); only the second report of the same risk goes.
void fold_superseded(std::vector<Finding>& findings, std::size_t begin,
                     const std::vector<const Rule*>& rules);

}  // namespace kg

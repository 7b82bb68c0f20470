// One risk, one finding: when two rules in force report the same field of the
// same object and one `supersedes:` the other (rule.yaml), the superseding
// rule owns the finding and the other's is folded into it.
#pragma once

#include <cstddef>
#include <vector>

#include "catalog/rule.hpp"
#include "model/finding.hpp"

#include <functional>

namespace kg {

// The findings of one object must be neighbours (the scan folds after sorting).
// Drops the failed (exempted) findings in `findings[begin, end)` that a failed
// (exempted) finding of a superseding rule covers: same object, container and
// field path. With `tallies` (parallel to `rules`), a rule whose every finding
// on an object was folded no longer counts that object as evaluated: the risk
// is counted once, by its owner, and every format's counts match its findings.
// PSS controls are never superseded (a catalog test holds the rule files to
// that), so PSS verdicts stay exact.
// `scope_tallies`, when given, returns the tallies of the reference scope an
// object belongs to (or null), which are corrected the same way.
void fold_superseded(
    std::vector<Finding>& findings, std::size_t begin, const std::vector<const Rule*>& rules,
    std::vector<RuleTally>* tallies,
    const std::function<std::vector<RuleTally>*(std::size_t object)>& scope_tallies = nullptr);
void fold_superseded(
    FindingStore& findings, const std::vector<const Rule*>& rules, std::vector<RuleTally>* tallies,
    const std::function<std::vector<RuleTally>*(std::size_t object)>& scope_tallies = nullptr);

}  // namespace kg

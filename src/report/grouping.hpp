// Grouping of repeated findings for the human formats (text, markdown,
// HTML): a report of a million findings is not read, so findings of one
// shape (same rule, result, field and message up to the object's own name
// and numbers) are shown a few times, then counted ("and 4,812 more like
// this"). The machine formats (json, sarif, csv, junit, policyreport) list
// every finding.
#pragma once

#include <cstdint>
#include <vector>

#include "model/finding.hpp"

namespace kg {

inline constexpr std::size_t kShownPerGroup = 3;

struct FindingGroups {
  std::vector<bool> hidden;         // per finding: not listed in a human format
  std::vector<std::uint32_t> more;  // per finding: on a group's last shown one, how many are hidden
  std::size_t hidden_total = 0;
};

FindingGroups group_findings(const FindingStore& findings,
                             std::size_t shown_per_group = kShownPerGroup);

}  // namespace kg

// "Did you mean" for misspelled names: rule.yaml keys, template parameters,
// parameter values, rule ids in exemptions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace kg {

// The candidate nearest to `word` when it is close enough to be a typo:
// the same once case, '-' and '_' are ignored (addForbidden ~ add-forbidden),
// or within an edit distance of about a third of its length. Empty otherwise.
std::string_view nearest_name(std::string_view word, const std::vector<std::string_view>& candidates);

// " (did you mean 'x'?)" for the nearest candidate, or "".
std::string did_you_mean(std::string_view word, const std::vector<std::string_view>& candidates);

}  // namespace kg

// Exemptions fail closed: a selector that names no rule, category or tag is
// an error (a typo would otherwise exempt nothing, or, in an annotation,
// leave the author believing it does), and an annotation that cannot be
// read exempts nothing.
#include <algorithm>

#include "catalog/suggest.hpp"
#include "catalog/evaluator.hpp"

namespace kg {
namespace {

bool known(const std::vector<std::string>& sorted, std::string_view s) {
  return std::binary_search(sorted.begin(), sorted.end(), s, std::less<>{});
}

std::string unknown_selector(const std::vector<std::string>& sorted, std::string_view s) {
  const std::vector<std::string_view> names(sorted.begin(), sorted.end());
  return "no rule, category or tag named '" + std::string(s) + "'" + did_you_mean(s, names);
}

}  // namespace

void Evaluator::validate_exemption_rules() {
  for (const ExemptionRule& x : options_.exemptions) {
    if (x.file.empty()) continue;  // built-in
    for (const auto& [field, list] : {std::pair<std::string_view, const std::vector<std::string>*>{"rules", &x.rules},
                                      {"exceptRules", &x.except_rules}}) {
      for (const std::string& s : *list) {
        // audit-* ids and the audit tag select audit-log alerts (kguard audit detect), not objects.
        if (!known(known_selectors_, s) && s != "audit" && s.rfind("audit-", 0) != 0) {
          setup_errors_.push_back({x.file, x.line, x.column,
                                   x.field + "." + std::string(field) + ": " + unknown_selector(known_selectors_, s)});
}
}
}
  }
}

void Evaluator::review_exemption(ExemptionMark& mark, const ObjectFacts& facts,
                               std::vector<InputError>& errors) const {
  if (!options_.use_exemptions || !options_.use_annotation_exemptions) return;
  const std::string who = facts.kind + "/" + facts.name + ": ";
  const std::string consequence = "; the exemption does not apply";
  for (const ExemptionMark::Problem& p : mark.problems)
    errors.push_back({facts.file(), p.line, p.column, std::string(who).append(p.message).append(consequence)});
  for (const std::string& s : mark.rules) {
    if (known(known_selectors_, s)) continue;
    errors.push_back({facts.file(), mark.line, mark.column,
                      std::string(who)
                          .append("kguard.io/exempt: ")
                          .append(unknown_selector(known_selectors_, s))
                          .append(consequence)});
    mark.rejected = true;
  }
}

}  // namespace kg

#include "engines/scan/overlap.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

namespace kg {

void fold_superseded(std::vector<Finding>& findings, std::size_t begin,
                     const std::vector<const Rule*>& rules, std::vector<RuleTally>* tallies) {
  // Most scans have no rule in force that supersedes another: nothing to do.
  std::set<std::string_view> superseded;
  for (const Rule* r : rules)
    for (const std::string& id : r->supersedes) superseded.insert(id);
  if (superseded.empty() || begin >= findings.size()) return;

  // object, result, container, path: a failure folds into a failure, an
  // exempted finding into an exempted one; passes are never folded.
  using Key = std::tuple<std::size_t, Result, std::string_view, std::string_view>;
  std::map<Key, std::vector<const Rule*>> failing;
  for (std::size_t i = begin; i < findings.size(); ++i) {
    const Finding& f = findings[i];
    if (f.result != Result::Pass && !f.rule->supersedes.empty())
      failing[{f.object, f.result, f.container, f.location.path}].push_back(f.rule);
  }
  if (failing.empty()) return;

  std::vector<bool> drop(findings.size(), false);
  // (object, rule) → (findings, folded): a rule whose every finding on an
  // object was folded no longer counts that object; the owner counts it.
  std::map<std::pair<std::size_t, const Rule*>, std::pair<std::size_t, std::size_t>> per_object;
  for (std::size_t i = begin; i < findings.size(); ++i) {
    const Finding& f = findings[i];
    if (f.result == Result::Pass || !superseded.count(f.rule->id)) continue;
    auto& counts = per_object[{f.object, f.rule}];
    ++counts.first;
    auto it = failing.find({f.object, f.result, f.container, f.location.path});
    if (it == failing.end()) continue;
    drop[i] = std::any_of(it->second.begin(), it->second.end(), [&](const Rule* owner) {
      return owner != f.rule && std::find(owner->supersedes.begin(), owner->supersedes.end(),
                                          f.rule->id) != owner->supersedes.end();
    });
    if (drop[i]) ++counts.second;
  }
  if (tallies) {
    for (const auto& [key, counts] : per_object) {
      if (counts.second == 0 || counts.first != counts.second) continue;  // still reported itself
      const auto r = std::find(rules.begin(), rules.end(), key.second);
      if (r == rules.end()) continue;
      RuleTally& t = (*tallies)[static_cast<std::size_t>(r - rules.begin())];
      // Result of the folded findings: all of one object's share one result.
      const bool exempt = std::any_of(findings.begin() + static_cast<std::ptrdiff_t>(begin), findings.end(),
                                      [&](const Finding& f) {
                                        return f.object == key.first && f.rule == key.second &&
                                               f.result == Result::Exempt;
                                      });
      std::uint64_t& n = exempt ? t.exempted : t.failed;
      if (n > 0 && t.evaluated > 0) {
        --n;
        --t.evaluated;
      }
    }
  }
  std::size_t out = begin;
  for (std::size_t i = begin; i < findings.size(); ++i)
    if (!drop[i]) {
      if (out != i) findings[out] = std::move(findings[i]);
      ++out;
    }
  findings.erase(findings.begin() + static_cast<std::ptrdiff_t>(out), findings.end());
}

}  // namespace kg

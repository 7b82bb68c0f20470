#include "engines/scan/overlap.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

namespace kg {

void fold_superseded(std::vector<Finding>& findings, std::size_t begin,
                     const std::vector<const Rule*>& rules) {
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
  for (std::size_t i = begin; i < findings.size(); ++i) {
    const Finding& f = findings[i];
    if (f.result == Result::Pass || !superseded.count(f.rule->id)) continue;
    auto it = failing.find({f.object, f.result, f.container, f.location.path});
    if (it == failing.end()) continue;
    drop[i] = std::any_of(it->second.begin(), it->second.end(), [&](const Rule* owner) {
      return owner != f.rule && std::find(owner->supersedes.begin(), owner->supersedes.end(),
                                          f.rule->id) != owner->supersedes.end();
    });
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

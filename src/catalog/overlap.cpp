#include "catalog/overlap.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>
#include <type_traits>
#include <unordered_map>

namespace kg {

namespace {

// The findings of [begin, size) to keep (empty: keep all). `Findings` is a
// vector of Finding or a FindingStore: both read as FindingView.
template <class Findings>
std::vector<bool> unfolded(
    const Findings& findings, std::size_t begin, const std::vector<const Rule*>& rules,
    std::vector<RuleTally>* tallies,
    const std::function<std::vector<RuleTally>*(std::size_t object)>& scope_tallies) {
  // Most scans have no rule in force that supersedes another: nothing to do.
  std::set<std::string_view> superseded;
  for (const Rule* r : rules)
    for (const std::string& id : r->supersedes) superseded.insert(id);
  if (superseded.empty() || begin >= findings.size()) return {};
  // Findings name their rule as engine-neutral RuleInfo; the scan's rules
  // carry the catalog's supersedes list.
  std::unordered_map<const RuleInfo*, std::size_t> index;
  for (std::size_t i = 0; i < rules.size(); ++i) index.emplace(rules[i], i);
  auto rule_of = [&](const FindingView& f) -> const Rule* {
    auto it = index.find(f.rule);
    return it == index.end() ? nullptr : rules[it->second];
  };

  auto object_at = [&](std::size_t i) -> std::size_t {
    if constexpr (std::is_same_v<Findings, FindingStore>) {
      return findings.object_of(i);
    } else {
      return findings[i].object;
    }
  };

  // Object by object (its findings are neighbours), so the maps stay small
  // however many findings the input has.
  std::vector<bool> drop;
  // result, container, path: a failure folds into a failure, an exempted
  // finding into an exempted one; passes are never folded.
  using Key = std::tuple<Result, std::string_view, std::string_view>;
  std::map<Key, std::vector<const Rule*>> owners;
  // rule → (findings, folded): a rule whose every finding on an object was
  // folded no longer counts that object; the owner counts it.
  std::map<std::size_t, std::tuple<std::size_t, std::size_t, bool>> per_rule;
  for (std::size_t first = begin; first < findings.size();) {
    const std::size_t object = object_at(first);
    std::size_t last = first + 1;
    while (last < findings.size() && object_at(last) == object) ++last;
    owners.clear();
    for (std::size_t i = first; i < last; ++i) {
      const FindingView f = findings[i];
      const Rule* r = rule_of(f);
      if (r && f.result != Result::Pass && !r->supersedes.empty())
        owners[{f.result, f.container, f.location.path}].push_back(r);
    }
    if (owners.empty()) {
      first = last;
      continue;
    }
    per_rule.clear();
    for (std::size_t i = first; i < last; ++i) {
      const FindingView f = findings[i];
      if (f.result == Result::Pass || !superseded.count(f.rule->id)) continue;
      auto ri = index.find(f.rule);
      if (ri == index.end()) continue;
      auto& [seen, folded, exempt] = per_rule[ri->second];
      ++seen;
      exempt = f.result == Result::Exempt;
      auto it = owners.find({f.result, f.container, f.location.path});
      if (it == owners.end()) continue;
      const bool covered = std::any_of(it->second.begin(), it->second.end(), [&](const Rule* owner) {
        return owner->id != f.rule->id &&
               std::find(owner->supersedes.begin(), owner->supersedes.end(), f.rule->id) !=
                   owner->supersedes.end();
      });
      if (!covered) continue;
      if (drop.empty()) drop.assign(findings.size(), false);
      drop[i] = true;
      ++folded;
    }
    if (tallies) {
      for (const auto& [rule, counts] : per_rule) {
        const auto& [seen, folded, exempt] = counts;
        if (folded == 0 || seen != folded) continue;  // still reported by the rule itself
        // As the scan tallies: an exempted check was never counted as evaluated.
        const bool was_exempt = exempt;  // a structured binding cannot be captured (clang 14)
        auto uncount = [was_exempt](RuleTally& t) {
          if (was_exempt) {
            if (t.exempted > 0) --t.exempted;
          } else if (t.failed > 0 && t.evaluated > 0) {
            --t.failed;
            --t.evaluated;
          }
        };
        uncount((*tallies)[rule]);
        if (scope_tallies) {
          if (std::vector<RuleTally>* st = scope_tallies(object); st && rule < st->size()) uncount((*st)[rule]);
        }
      }
    }
    first = last;
  }
  if (drop.empty()) return {};
  drop.flip();
  return drop;
}

}  // namespace

void fold_superseded(
    std::vector<Finding>& findings, std::size_t begin, const std::vector<const Rule*>& rules,
    std::vector<RuleTally>* tallies,
    const std::function<std::vector<RuleTally>*(std::size_t object)>& scope_tallies) {
  const std::vector<bool> keep = unfolded(findings, begin, rules, tallies, scope_tallies);
  if (keep.empty()) return;
  std::size_t out = begin;
  for (std::size_t i = begin; i < findings.size(); ++i) {
    if (keep[i]) {
      if (out != i) findings[out] = std::move(findings[i]);
      ++out;
    }
  }
  findings.erase(findings.begin() + static_cast<std::ptrdiff_t>(out), findings.end());
}

void fold_superseded(
    FindingStore& findings, const std::vector<const Rule*>& rules, std::vector<RuleTally>* tallies,
    const std::function<std::vector<RuleTally>*(std::size_t object)>& scope_tallies) {
  const std::vector<bool> keep = unfolded(findings, 0, rules, tallies, scope_tallies);
  if (!keep.empty()) findings.keep(keep);
}

}  // namespace kg

// Label-selector matching without comparing every pair. A selector with
// matchLabels selects only objects carrying each of those pairs, so objects
// indexed by label pair (LabeledIndex) or selectors indexed by one of their
// pairs (SelectorIndex) give a small superset of the matches; callers still
// call LabelSelector::matches on each candidate, so results are exact.
// Candidates come in ascending id order, the order of the lists they index,
// so checks that report in that order report the same. Without them the
// set-level checks were quadratic in the objects of one namespace (25,000
// workloads against 5,000 NetworkPolicies and 20,000 Services).
#pragma once

#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/inventory.hpp"

namespace kg {

// Ids with labels, queried by selector.
class LabeledIndex {
 public:
  using LabelsOf = std::function<const Labels&(std::size_t id)>;
  LabeledIndex(const std::vector<std::size_t>& ids, const LabelsOf& labels_of);
  // The ids `sel` may select (a superset), ascending.
  const std::vector<std::size_t>& candidates(const LabelSelector& sel) const;

 private:
  const std::vector<std::size_t>* all_;
  std::unordered_map<std::string, std::vector<std::size_t>> by_pair_;  // "key\0value"
  std::vector<std::size_t> none_;
};

// Ids with selectors, queried by labels.
class SelectorIndex {
 public:
  using SelectorOf = std::function<const LabelSelector&(std::size_t id)>;
  SelectorIndex(const std::vector<std::size_t>& ids, const SelectorOf& selector_of);
  // The ids whose selector may select `labels` (a superset), ascending;
  // without `with_everything`, not those whose selector is {} (every pod).
  void candidates(const Labels& labels, std::vector<std::size_t>& out, bool with_everything = true) const;
  // Whether `pred` holds for a candidate of `labels` (in no particular order).
  template <class Pred>
  bool any(const Labels& labels, Pred&& pred) const {
    for (std::size_t id : everything_)
      if (pred(id)) return true;
    for (std::size_t id : rest_)
      if (pred(id)) return true;
    for (const auto& [k, v] : labels) {
      if (auto it = by_pair_.find(pair_key(k, v)); it != by_pair_.end()) {
        for (std::size_t id : it->second)
          if (pred(id)) return true;
      }
    }
    return false;
  }
  static std::string pair_key(const std::string& k, const std::string& v);
  // The ids whose selector is {}, ascending.
  const std::vector<std::size_t>& selecting_everything() const { return everything_; }

 private:
  std::unordered_map<std::string, std::vector<std::size_t>> by_pair_;  // by the first matchLabels pair
  std::vector<std::size_t> rest_;        // expressions only: always candidates
  std::vector<std::size_t> everything_;  // {}: selects every set of labels
};

// One index per namespace, built on first use from the ids of that namespace.
template <class Index>
class PerNamespace {
 public:
  using IdsIn = std::function<const std::vector<std::size_t>&(const std::string& ns)>;
  using Of = typename std::conditional_t<std::is_same_v<Index, LabeledIndex>, LabeledIndex::LabelsOf,
                                         SelectorIndex::SelectorOf>;
  PerNamespace(IdsIn ids_in, Of of) : ids_in_(std::move(ids_in)), of_(std::move(of)) {}
  const Index& in(const std::string& ns) {
    auto it = built_.find(ns);
    if (it == built_.end()) it = built_.emplace(ns, Index(ids_in_(ns), of_)).first;
    return it->second;
  }

 private:
  IdsIn ids_in_;
  Of of_;
  std::unordered_map<std::string, Index> built_;
};

}  // namespace kg

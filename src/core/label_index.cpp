#include "core/label_index.hpp"

#include <algorithm>

namespace kg {
namespace {

std::string pair_key(const std::string& k, const std::string& v) { return SelectorIndex::pair_key(k, v); }

}  // namespace

std::string SelectorIndex::pair_key(const std::string& k, const std::string& v) {
  std::string key;
  key.reserve(k.size() + v.size() + 1);
  key.append(k).append(1, '\0').append(v);
  return key;
}

LabeledIndex::LabeledIndex(const std::vector<std::size_t>& ids, const LabelsOf& labels_of) : all_(&ids) {
  for (std::size_t id : ids)
    for (const auto& [k, v] : labels_of(id)) by_pair_[pair_key(k, v)].push_back(id);
}

const std::vector<std::size_t>& LabeledIndex::candidates(const LabelSelector& sel) const {
  if (!sel.present || sel.invalid) return none_;
  if (sel.match_labels.empty()) return *all_;
  // Every pair must be carried: the smallest bucket is enough.
  const std::vector<std::size_t>* best = nullptr;
  for (const auto& [k, v] : sel.match_labels) {
    auto it = by_pair_.find(pair_key(k, v));
    if (it == by_pair_.end()) return none_;
    if (!best || it->second.size() < best->size()) best = &it->second;
  }
  return best ? *best : none_;  // best is set: match_labels is not empty
}

SelectorIndex::SelectorIndex(const std::vector<std::size_t>& ids, const SelectorOf& selector_of) {
  for (std::size_t id : ids) {
    const LabelSelector& sel = selector_of(id);
    if (!sel.present || sel.invalid) continue;  // selects nothing
    if (sel.empty()) {
      everything_.push_back(id);
    } else if (sel.match_labels.empty()) {
      rest_.push_back(id);
    } else {
      by_pair_[pair_key(sel.match_labels.front().first, sel.match_labels.front().second)].push_back(id);
    }
  }
}

void SelectorIndex::candidates(const Labels& labels, std::vector<std::size_t>& out, bool with_everything) const {
  out.assign(rest_.begin(), rest_.end());
  if (with_everything) out.insert(out.end(), everything_.begin(), everything_.end());
  for (const auto& [k, v] : labels) {
    if (auto it = by_pair_.find(pair_key(k, v)); it != by_pair_.end())
      out.insert(out.end(), it->second.begin(), it->second.end());
  }
  // Each id sits in one bucket and labels have one value per key: no duplicates.
  std::sort(out.begin(), out.end());
}

}  // namespace kg

// libFuzzer target for label selectors as the network policy engine reads and matches them
// (core/inventory read_selector + LabelSelector::matches, core/label_index), against a plain
// matcher written here from metav1.LabelSelector's rules. The input is a YAML or JSON document:
//   selector: <a LabelSelector>      labels: <a map>      others: [<a map>, ...]
// What must hold: matches() equals the plain matcher (matchLabels all equal, In/NotIn/Exists/
// DoesNotExist, NotIn true when the key is absent, an invalid selector matches nothing, an empty
// one everything); a selector invalid_selector_requirement() refuses is invalid; and the label
// index's candidates hold every label set the selector matches (it may hold more, never fewer).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/document.hpp"
#include "core/inventory.hpp"
#include "core/label_index.hpp"

namespace {

bool plain_matches(const kg::LabelSelector& s, const kg::Labels& labels) {
  if (!s.present || s.invalid) return false;
  for (const auto& [key, value] : s.match_labels)
    if (!kg::has_label(labels, key) || kg::label(labels, key) != value) return false;
  for (const auto& r : s.expressions) {
    const bool has = kg::has_label(labels, r.key);
    const bool listed = has && std::find(r.values.begin(), r.values.end(), std::string(kg::label(labels, r.key))) != r.values.end();
    if (r.op == "In" && !listed) return false;
    if (r.op == "NotIn" && listed) return false;
    if (r.op == "Exists" && !has) return false;
    if (r.op == "DoesNotExist" && has) return false;
    if (r.op != "In" && r.op != "NotIn" && r.op != "Exists" && r.op != "DoesNotExist") return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  kg::SourceFile file;
  file.path = "selector.yaml";
  file.content.assign(reinterpret_cast<const char*>(data), size);
  kg::load_documents(file);
  for (const kg::Document& doc : file.documents) {
    const kg::Node* selector_node = kg::get(doc.root, "selector");
    const kg::LabelSelector selector = kg::read_selector(selector_node);
    std::string why, field;
    if (selector_node && kg::invalid_selector_requirement(selector_node, why, field) && !selector.invalid)
      __builtin_trap();
    std::vector<kg::Labels> sets;
    sets.push_back(kg::read_labels(kg::get(doc.root, "labels")));
    if (const kg::Node* others = kg::get(doc.root, "others"))
      for (const kg::Node* item : kg::items(others)) sets.push_back(kg::read_labels(item));
    for (const kg::Labels& labels : sets)
      if (selector.matches(labels) != plain_matches(selector, labels)) __builtin_trap();
    if (selector.empty())
      for (const kg::Labels& labels : sets)
        if (!selector.matches(labels)) __builtin_trap();
    std::vector<std::size_t> ids(sets.size());
    for (std::size_t i = 0; i < ids.size(); ++i) ids[i] = i;
    const kg::LabeledIndex index(ids, [&](std::size_t id) -> const kg::Labels& { return sets[id]; });
    const std::vector<std::size_t>& candidates = index.candidates(selector);
    for (std::size_t id : ids)
      if (selector.matches(sets[id]) && !std::binary_search(candidates.begin(), candidates.end(), id)) __builtin_trap();
  }
  return 0;
}

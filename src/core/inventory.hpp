// Whole-set context. While documents stream past, the scan keeps a compact
// summary ("facts") of every object that other objects may refer to or
// select; after the last document, set-level rules run over these facts.
// The label, selector and location vocabulary the fact tables share is here.
// The same facts come from manifests and from cluster snapshots, so
// "a NetworkPolicy in another file selects this pod" works for both.
#pragma once

#include <map>
#include <memory>
#include <unordered_map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/facts.hpp"
#include "core/object.hpp"

namespace kg {

using Labels = std::vector<std::pair<std::string, std::string>>;  // sorted by key

Labels read_labels(const Node* map);
std::string_view label(const Labels& labels, std::string_view key);  // "" when absent
bool has_label(const Labels& labels, std::string_view key);

// metav1.LabelSelector with Kubernetes semantics: an empty selector matches
// everything; a missing one (present == false) matches nothing.
struct LabelSelector {
  struct Requirement {
    std::string key;
    std::string op;  // In, NotIn, Exists, DoesNotExist
    std::vector<std::string> values;
  };
  bool present = false;
  // apimachinery's LabelSelectorAsSelector refuses the selector (unknown
  // operator, In/NotIn without values, Exists/DoesNotExist with values): it
  // then selects nothing. The object-schema rule reports where.
  bool invalid = false;
  Labels match_labels;
  std::vector<Requirement> expressions;

  bool empty() const { return present && !invalid && match_labels.empty() && expressions.empty(); }
  bool matches(const Labels& labels) const;
};
// The one label-selector reader and matcher (metav1.LabelSelector semantics).
LabelSelector read_selector(const Node* selector);
// The first matchExpressions entry LabelSelectorAsSelector refuses, with why
// (`at` is the field to point at); nullptr when the selector is valid.
const Node* invalid_selector_requirement(const Node* selector, std::string& why, std::string& field);
// Service-style selector: a plain map of labels (matches nothing when empty).
LabelSelector read_map_selector(const Node* map);

// Exemption annotations found on an object or on its pod template.
struct ExemptionMark {
  std::vector<std::string> rules;  // ids, categories, tags, or "*"/"all"
  std::string reason;
  std::string until;  // YYYY-MM-DD; empty = no expiry
  std::uint32_t line = 0;
  std::uint32_t column = 0;
  // What makes the annotations unusable (a bad date, "*" without a reason,
  // an unknown exempt-* key), each at its annotation. A mark with problems,
  // or naming a rule the catalog does not have, is `rejected`: it exempts
  // nothing, so the checks it meant to exempt still fail (fail closed).
  struct Problem {
    std::uint32_t line = 0;
    std::uint32_t column = 0;
    std::string message;
  };
  std::vector<Problem> problems;
  bool rejected = false;
};

// Where a field is in its file (line 0: the field is absent). Set-level
// findings point at the field they name or, when it is absent, at its
// nearest parent that exists (docs/report.md).
struct Mark {
  std::uint32_t line = 0;
  std::uint32_t column = 0;
  explicit operator bool() const { return line != 0; }
};
inline Mark mark_of(const Node* n) { return n ? Mark{n->line, n->column} : Mark{}; }
// The field `key` of `map`: a scalar value's own position; for a map, list or
// empty value the key's (a nested map's node starts at its first child, which
// is not the field). Unset when absent.
Mark field_mark(const Node* map, std::string_view key);
// field_mark of the last segment of a dotted path ("spec.template.spec").
Mark path_mark(const Node* root, std::string_view dotted);
inline Mark first_mark(Mark a, Mark b) { return a ? a : b; }
inline Mark first_mark(Mark a, Mark b, Mark c) { return a ? a : b ? b : c; }

struct ObjectFacts {
  std::string kind;
  std::string api_version;
  std::string ns;
  std::string name;
  // The input file's name, shared by every object of the file (a 50,000-object
  // snapshot would otherwise hold 50,000 copies of its path).
  std::shared_ptr<const std::string> file_name;
  const std::string& file() const;
  std::uint32_t line = 0;
  std::uint32_t column = 0;
  std::string path_prefix;
  Mark metadata_at;   // metadata
  Mark name_at;       // metadata.name
  Mark namespace_at;  // metadata.namespace (absent: the namespace is defaulted)
  Labels labels;
  // Rare, and large inline: held by pointer to keep the per-object facts small.
  std::unique_ptr<ExemptionMark> exemption;
  struct Owner {
    std::string kind;
    std::string name;
    bool controller = false;
  };
  std::vector<Owner> owners;
};

// The identity, labels, owners and exemption annotations of an object, as
// the inventory records them and exemptions read them.
ObjectFacts read_object_facts(const Object& obj, const PodView& pod,
                              std::shared_ptr<const std::string> file_name);

// The facts of every object (identity, labels, owners, exemptions) and the
// fact tables of a FactPlan: what the set-level checks and the engine read
// after the last document. The tables' rows live with their readers
// (checks/facts.hpp); the Inventory only stores them.
class Inventory {
 public:
  std::vector<ObjectFacts> objects;

  Inventory() = default;
  Inventory(Inventory&&) = default;
  Inventory& operator=(Inventory&&) = default;
  // Objects added from now on feed the plan's tables (an empty one each).
  void use(std::shared_ptr<const FactPlan> plan);

  // Records an object (identity, labels, owners, exemptions) and offers it to
  // the plan's tables that read its kind; returns its index.
  std::size_t add(const Object& obj, const PodView& pod);
  // Merges a later file's inventory (same plan), fixing indices.
  void append(Inventory&& later);
  // A copy holding only the objects `keep` (ascending indices into objects)
  // and their facts, renumbered 0..keep.size()-1 in that order: the part of
  // the input one reference scope sees (--scope).
  Inventory subset(const std::vector<std::size_t>& keep) const;

  // The table of `collector`; an empty one when the plan does not fill it.
  template <class Table>
  const Table& facts(const FactCollector& collector) const {
    return static_cast<const Table&>(table(collector));
  }

  // Namespaces the input mentions (Namespace objects and object namespaces).
  std::vector<std::string> namespaces_in_use() const;
  // True when the object's controller (ownerReferences controller: true, or
  // its only owner) is itself in the input: its findings belong to the owner.
  bool controlled_by_input(std::size_t object) const;
  // True when an object of `kind` named `name` in `ns` is in the input.
  bool has_object(std::string_view kind, std::string_view ns, std::string_view name) const;
  // Its index, or nullopt (a ClusterRole's namespace is ignored).
  std::optional<std::size_t> find(std::string_view kind, std::string_view ns, std::string_view name) const;

 private:
  const FactTable& table(const FactCollector& collector) const;
  std::shared_ptr<const FactPlan> plan_;
  // Parallel to plan_->collectors(); then tables asked for but not planned
  // (empty), with their collectors.
  mutable std::vector<std::unique_ptr<FactTable>> tables_;
  mutable std::vector<const FactCollector*> unplanned_;
  mutable std::unordered_map<std::string, std::size_t> index_;  // "Kind/ns/name" → object
  mutable bool index_built_ = false;
  mutable std::string lookup_key_;  // reused by lookups (one thread uses an Inventory at a time)
  std::shared_ptr<const std::string> last_file_;  // file_name of the last object added
  void build_index() const;
};

// Parses kguard.io/exempt* annotations; nullopt when none. Format problems
// are recorded in the mark (see ExemptionMark::problems), never dropped.
std::optional<ExemptionMark> read_exemption(const Node* annotations);

// A real calendar date written YYYY-MM-DD (what exemption expiries take).
bool is_iso_date(std::string_view d);

}  // namespace kg

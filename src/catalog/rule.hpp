// Rules are data (rules/<category>/<id>/rule.yaml) bound to C++ check
// templates. This header holds the vocabulary shared by the catalog, the
// check templates, the engines and the reporters.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/eval_context.hpp"
#include "core/cluster_info.hpp"
#include "core/document.hpp"
#include "core/inventory.hpp"
#include "core/object.hpp"
#include "model/finding.hpp"

namespace kg {

// Pod Security Standards level of a rule or of a scan.
enum class PssLevel : std::uint8_t { Privileged, Baseline, Restricted };
std::optional<PssLevel> parse_pss_level(std::string_view s);
std::string_view to_string(PssLevel l);

// The newest PSS policy version kguard knows; "latest" means this.
inline constexpr int kLatestPssMinor = 37;
// Parses "v1.N" or "latest" into N; nullopt when invalid.
std::optional<int> parse_pss_version(std::string_view s);

// What a check sees for one object.
struct CheckInput {
  const Object& obj;
  const PodView& pod;  // empty unless the object carries a pod template
  int pss_minor;       // policy version in force
  PssLevel pss_level;  // PSS profile in force
  // containers_of(pod), computed once per object for every rule.
  const std::vector<ContainerRef>& containers;
  // The evaluating thread's state: scratch buffers and per-object caches a
  // template keeps across calls (see eval_context.hpp).
  EvalContext& ctx;
  // Kubernetes minor release the scan targets (--target-version or the
  // cluster read); 0 = each rule's own parameter.
  int kubernetes_minor = 0;
  // The cluster's full version when the scan read one ("v1.24.17"), else empty.
  std::string_view cluster_version;
};

// One problem a check found. `at` is the node to point at (the field itself,
// or the nearest existing parent when the field is missing); `path` is the
// field path the user has to change.
struct Violation {
  std::string message;
  const Node* at = nullptr;
  std::string path;
  std::string container;
};

enum class Outcome : std::uint8_t { Pass, Fail, NotApplicable };

// A check template with its parameters already validated and compiled.
class Check {
 public:
  virtual ~Check() = default;
  virtual Outcome evaluate(const CheckInput& in, std::vector<Violation>& out) const = 0;
};

// A problem a set-level check found on one object of the inventory. Nodes
// are gone by then, so the location is the object's (or a stored one).
struct SetViolation {
  std::string message;
  std::string path;
  std::uint32_t line = 0;  // 0: the object's own location
  std::uint32_t column = 0;
  std::string container;
};

// Receives one verdict per subject object of a set-level check.
class SetSink {
 public:
  virtual ~SetSink() = default;
  virtual void pass(std::size_t object) = 0;
  virtual void fail(std::size_t object, std::vector<SetViolation> violations) = 0;
};

// A check over the whole input (NetworkPolicy coverage, RBAC resolution…),
// run once after every document has been read.
class SetCheck {
 public:
  virtual ~SetCheck() = default;
  virtual void evaluate(const Inventory& inventory, SetSink& sink) const = 0;
  // Every kind whose facts the check reads, its subjects included (a custom
  // rule may bind the template to other `kinds`); "workloads" means every
  // pod-bearing kind. Load-bearing: a scan collects facts only of the kinds
  // its rules need, and a cluster read lists only those (kinds_needed).
  virtual std::vector<std::string> needs_kinds() const = 0;
  // The fact tables it reads (checks/facts.hpp): a scan fills only the tables
  // its set-level rules name, from the objects of the kinds they need.
  virtual std::vector<const FactCollector*> facts() const = 0;
};

// A check of the cluster itself (e.g. whether its Kubernetes version is still
// supported), run once when the input came from a cluster or a snapshot of
// one; violations point at the snapshot's kguardSnapshot field.
class ClusterCheck {
 public:
  virtual ~ClusterCheck() = default;
  virtual Outcome evaluate(const ClusterInfo& cluster, std::string_view today,
                           std::vector<SetViolation>& out) const = 0;
};

// Object-level verdicts that depend on other objects are held back until the
// whole input is known.
enum class Deferral : std::uint8_t {
  None,
  SelectedByService,  // applies only when a Service selects the pod (kube-score)
};

// Everything about a rule except its compiled check: copyable, so the
// config can override severity or parameters on a copy. What reports show
// (id, title, category, severity, text) is the engine-neutral RuleInfo.
struct RuleMeta : RuleInfo {
  // Kinds the rule applies to; "workloads" expands to every pod-bearing kind,
  // "*" matches every kind.
  std::vector<std::string> kinds;
  // Opinionated rules ship disabled; --only ID or the config turns them on.
  bool enabled_by_default = true;
  std::string check;  // template name
  std::string source;  // catalog path of rule.yaml, for messages
  // PSS control metadata (empty level for non-PSS rules).
  std::optional<PssLevel> pss_level;
  int pss_since = 0;  // first policy minor version the control exists in
  // At the restricted level a stricter control replaces this one from this
  // minor version on (upstream's OverrideCheckIDs); -1 when never.
  int pss_overridden_from = -1;
  // The restricted rule that does (pss.overriddenBy). At restricted the two
  // share the violations both see: the more severe one (on a tie this one)
  // reports them, so stricter never means a lower severity, and exemptions
  // naming this rule work at every level.
  std::string pss_overridden_by;
  Deferral deferral = Deferral::None;
  const Node* params = nullptr;  // as written in rule.yaml (owned by the catalog)
};

struct Rule : RuleMeta {
  std::unique_ptr<Check> compiled;         // object-level template, or
  std::unique_ptr<SetCheck> set_compiled;  // set-level template, or
  std::unique_ptr<ClusterCheck> cluster_compiled;  // cluster-level template
};

}  // namespace kg

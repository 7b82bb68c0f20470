// Whole-set context. While documents stream past, the scan keeps a compact
// summary ("facts") of every object that other objects may refer to or
// select; after the last document, set-level rules run over these facts.
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

// A container's env reference to a Secret or ConfigMap (valueFrom or envFrom).
struct EnvSourceReference {
  std::string kind;  // Secret or ConfigMap
  std::string name;
  std::string key;  // "" for envFrom (the whole object)
  std::string container;
  std::string path;
  std::uint32_t line = 0;
  std::uint32_t column = 0;
};

struct WorkloadFacts {
  std::size_t object;  // index into Inventory::objects
  Labels pod_labels;
  std::string spec_path;
  std::string service_account;  // "" = default
  std::optional<bool> automount;  // pod-level automountServiceAccountToken
  std::string runtime_class;
  std::optional<std::int64_t> replicas;  // Deployment/StatefulSet/ReplicaSet/RC
  bool long_running = true;  // false for Job, CronJob, bare Pod with restartPolicy Never/OnFailure
  std::uint32_t spec_line = 0;
  std::uint32_t spec_column = 0;
  Mark spec_key_at;         // the pod spec's own key ("spec:" of the template)
  Mark service_account_at;  // serviceAccountName (or the deprecated serviceAccount)
  Mark automount_at;        // the pod spec's automountServiceAccountToken
  Mark runtime_class_at;    // runtimeClassName
  Mark template_meta_at;    // the pod template's metadata (labels_at's parent)
  Mark labels_at;           // the pod template's metadata.labels
  Mark object_spec_at;      // the object's own spec (spec.replicas' parent)
  // For the reference checks (reference_checks.cpp).
  std::uint32_t replicas_line = 0;  // 0 when spec.replicas is absent
  std::uint32_t replicas_column = 0;
  std::string service_name;             // StatefulSet spec.serviceName
  std::uint32_t service_name_line = 0;
  std::uint32_t service_name_column = 0;
  std::vector<std::string> port_names;  // named ports of every container
  std::vector<EnvSourceReference> env_sources;
  struct Image {
    std::string container;
    std::string image;
    std::string path;
    std::uint32_t line = 0;
    std::uint32_t column = 0;
  };
  std::vector<Image> images;
};

struct ServicePortFacts {
  std::string name;
  std::int64_t port = 0;
  std::string target_port_name;  // targetPort when it names a container port
  std::string path;              // spec.ports[i]
  std::uint32_t line = 0;
  std::uint32_t column = 0;
};

struct ServiceFacts {
  std::size_t object;
  LabelSelector selector;  // map selector
  std::string type;
  bool headless = false;  // clusterIP: None
  std::vector<ServicePortFacts> ports;
  Mark selector_at;  // spec.selector
};

struct NetworkPolicyFacts {
  std::size_t object;
  LabelSelector pod_selector;
  Mark pod_selector_at;  // spec.podSelector
  bool ingress_type = false;  // policyTypes contains Ingress (or defaulted)
  bool egress_type = false;
  std::size_t ingress_rules = 0;
  std::size_t egress_rules = 0;
  // ingress.from / egress.to peers that select pods of the policy's own
  // namespace (a podSelector without a namespaceSelector).
  struct Peer {
    LabelSelector selector;
    std::string path;
    std::uint32_t line = 0;
    std::uint32_t column = 0;
  };
  std::vector<Peer> peers;
};

// A HorizontalPodAutoscaler (or KEDA ScaledObject) and the workload it scales.
struct AutoscalerFacts {
  std::size_t object;
  std::string target_kind;
  std::string target_name;
  std::int64_t min_replicas = 1;
  std::uint32_t line = 0;  // spec.scaleTargetRef
  std::uint32_t column = 0;
};

// A reference to a Service by name (and port) from an Ingress backend, a
// Gateway API route backendRef or an Istio VirtualService destination.
struct ServiceReference {
  std::size_t object;
  std::string ns;
  std::string service;
  std::string port_name;
  std::int64_t port_number = 0;  // 0 when absent or named
  std::string path;
  std::uint32_t line = 0;
  std::uint32_t column = 0;
  bool external = true;  // false for an Istio VirtualService bound to the mesh only
};

// A prometheus-operator ServiceMonitor's Service selection.
struct ServiceMonitorFacts {
  std::size_t object;
  LabelSelector selector;
  bool any_namespace = false;
  std::vector<std::string> namespaces;  // namespaceSelector.matchNames; empty = its own
  // Where spec.selector is (or spec, or the document, when it is missing).
  std::uint32_t selector_line = 0;
  std::uint32_t selector_column = 0;
};

// An admission policy that verifies image signatures (Kyverno verifyImages,
// sigstore policy-controller ClusterImagePolicy) for images matching globs.
struct ImagePolicyFacts {
  std::size_t object;
  bool cluster_wide = true;  // else only the policy's own namespace
  std::vector<std::string> globs;
};

// Something that provides a Secret or ConfigMap of this name: the object
// itself, or a SealedSecret / ExternalSecret that creates it.
struct DataSourceFacts {
  std::size_t object;
  std::string kind;  // Secret or ConfigMap
  std::string name;
  std::vector<std::string> keys;
  bool keys_known = true;  // false when generated keys cannot be listed (dataFrom)
};

struct PolicyRule {
  std::vector<std::string> api_groups;
  std::vector<std::string> resources;
  std::vector<std::string> verbs;
  std::vector<std::string> resource_names;
  std::vector<std::string> non_resource_urls;
};

struct RoleFacts {
  std::size_t object;
  bool cluster = false;
  std::vector<PolicyRule> rules;
  std::vector<LabelSelector> aggregation;  // ClusterRole aggregationRule selectors
};

struct Subject {
  std::string kind;  // User, Group, ServiceAccount
  std::string name;
  std::string ns;
};

struct BindingFacts {
  std::size_t object;
  bool cluster = false;
  std::string role_kind;  // Role or ClusterRole
  std::string role_name;
  std::uint32_t role_name_line = 0;  // roleRef.name (0: absent)
  std::uint32_t role_name_column = 0;
  std::vector<Subject> subjects;
};

struct Inventory {
  std::vector<ObjectFacts> objects;
  std::vector<WorkloadFacts> workloads;
  std::vector<ServiceFacts> services;
  std::vector<NetworkPolicyFacts> network_policies;
  std::vector<RoleFacts> roles;
  std::vector<BindingFacts> bindings;
  std::vector<std::size_t> namespaces;        // Namespace objects
  std::vector<std::size_t> service_accounts;  // ServiceAccount objects
  std::vector<std::pair<std::size_t, LabelSelector>> pdbs;
  std::vector<std::size_t> limit_ranges;
  std::vector<std::size_t> resource_quotas;
  std::map<std::size_t, std::optional<bool>> sa_automount;  // ServiceAccount object → automount
  std::vector<AutoscalerFacts> autoscalers;
  struct PdbMinAvailable {
    std::size_t object;  // the PDB
    std::int64_t value;  // its integer minAvailable
    Mark at;
  };
  std::vector<PdbMinAvailable> pdb_min_available;
  std::vector<ServiceReference> service_references;
  std::vector<ServiceMonitorFacts> service_monitors;
  std::vector<DataSourceFacts> data_sources;
  std::vector<ImagePolicyFacts> image_policies;

  // Records an object (identity, labels, owners, exemptions) and, when
  // `collect`, the facts its kind carries; returns its index.
  std::size_t add(const Object& obj, const PodView& pod, bool collect = true);
  // The facts the reference checks need (inventory_references.cpp): ports,
  // env sources, autoscalers, backends, monitors. Called by add().
  void add_references(std::size_t id, const Object& obj, const PodView& pod);
  void append(Inventory&& other);  // merges a file's inventory, fixing indices
  // A copy holding only the objects `keep` (ascending indices into objects)
  // and their facts, renumbered 0..keep.size()-1 in that order: the part of
  // the input one reference scope sees (--scope).
  Inventory subset(const std::vector<std::size_t>& keep) const;

  // Namespaces the input mentions (Namespace objects and object namespaces).
  std::vector<std::string> namespaces_in_use() const;
  // The resolved rules of a Role/ClusterRole, including aggregated
  // ClusterRoles (recursively, by their aggregation label selectors).
  std::vector<const PolicyRule*> effective_rules(const RoleFacts& role) const;
  const RoleFacts* find_role(std::string_view kind, std::string_view ns,
                             std::string_view name) const;
  // True when the object's controller (ownerReferences controller: true, or
  // its only owner) is itself in the input: its findings belong to the owner.
  bool controlled_by_input(std::size_t object) const;
  // True when an object of `kind` named `name` in `ns` is in the input.
  bool has_object(std::string_view kind, std::string_view ns, std::string_view name) const;

  // Lookups by namespace and identity, built once on first use, so the
  // set-level checks stay linear on 100k-object snapshots.
  const std::vector<std::size_t>& workloads_in(const std::string& ns) const;         // → workloads[i]
  const std::vector<std::size_t>& network_policies_in(const std::string& ns) const;  // → network_policies[i]
  const std::vector<std::size_t>& pdbs_in(const std::string& ns) const;              // → pdbs[i]
  const std::vector<std::size_t>& services_in(const std::string& ns) const;          // → services[i]
  // Bindings with the ServiceAccount ns/name among their subjects → bindings[i].
  const std::vector<std::size_t>& bindings_of_service_account(const std::string& ns,
                                                              const std::string& name) const;
  // The ServiceAccount object ns/name, or nullopt.
  std::optional<std::size_t> service_account(const std::string& ns, const std::string& name) const;

 private:
  struct ByNamespace {
    std::unordered_map<std::string, std::vector<std::size_t>> workloads, policies, pdbs, services,
        sa_bindings;
    std::unordered_map<std::string, std::size_t> service_accounts;
  };
  mutable std::unique_ptr<ByNamespace> by_ns_;
  const ByNamespace& by_namespace() const;
  mutable std::unordered_map<std::string, std::size_t> index_;  // "Kind/ns/name" → object
  mutable std::unordered_map<std::size_t, std::size_t> role_of_object_;  // object → roles[i]
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

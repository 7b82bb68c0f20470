// The fact tables the set-level checks (and the scan engine's deferred
// verdicts) read, each with its collector: which kinds feed it and what it
// records of them. A check declares the collectors it reads
// (SetCheck::facts()); a scan fills only those, from the kinds it collects
// facts of. A new check with facts of its own adds its table here (or in its
// own file) and names it in facts(): core/inventory is not edited.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/facts.hpp"
#include "core/inventory.hpp"

namespace kg {

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
  std::size_t object = 0;  // index into Inventory::objects
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
  // A projected serviceAccountToken volume for the API server's audience
  // (none named, or kubernetes.default.svc): a token mounted explicitly even
  // when automountServiceAccountToken is false. Its index, name and place.
  std::optional<std::size_t> projected_token_volume;
  std::string projected_token_name;
  Mark projected_token_at;
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
  std::size_t object = 0;
  LabelSelector selector;  // map selector
  std::string type;
  bool headless = false;  // clusterIP: None
  std::vector<ServicePortFacts> ports;
  Mark selector_at;  // spec.selector
};

struct NetworkPolicyFacts {
  std::size_t object = 0;
  LabelSelector pod_selector;
  Mark pod_selector_at;  // spec.podSelector
  bool ingress_type = false;  // policyTypes contains Ingress (or defaulted)
  bool egress_type = false;
  std::size_t ingress_rules = 0;
  std::size_t egress_rules = 0;
  // An egress rule lets the selected pods reach the cloud metadata address
  // 169.254.169.254 (a rule without `to`, or an ipBlock containing it that
  // its `except` does not cut out); the rule's path when so.
  std::string egress_to_metadata;
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
  std::size_t object = 0;
  std::string target_kind;
  std::string target_name;
  std::int64_t min_replicas = 1;
  std::uint32_t line = 0;  // spec.scaleTargetRef
  std::uint32_t column = 0;
};

// A reference to a Service by name (and port) from an Ingress backend, a
// Gateway API route backendRef or an Istio VirtualService destination.
struct ServiceReference {
  std::size_t object = 0;
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
  std::size_t object = 0;
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
  std::size_t object = 0;
  bool cluster_wide = true;  // else only the policy's own namespace
  std::vector<std::string> globs;
};

// Something that provides a Secret or ConfigMap of this name: the object
// itself, or a SealedSecret / ExternalSecret that creates it.
struct DataSourceFacts {
  std::size_t object = 0;
  std::string kind;  // Secret or ConfigMap
  std::string name;
  std::vector<std::string> keys;
  bool keys_known = true;  // false when generated keys cannot be listed (dataFrom)
};

struct PdbFacts {
  std::size_t object = 0;
  LabelSelector selector;
  std::optional<std::int64_t> min_available;  // an integer minAvailable
  Mark min_available_at;
};

struct ServiceAccountFacts {
  std::size_t object = 0;
  std::optional<bool> automount;  // automountServiceAccountToken
};

// An object of a kind whose presence is the fact (Namespace, LimitRange…).
struct ObjectRow {
  std::size_t object = 0;
};

struct PolicyRule {
  std::vector<std::string> api_groups;
  std::vector<std::string> resources;
  std::vector<std::string> verbs;
  std::vector<std::string> resource_names;
  std::vector<std::string> non_resource_urls;
};

struct RoleFacts {
  std::size_t object = 0;
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
  std::size_t object = 0;
  bool cluster = false;
  std::string role_kind;  // Role or ClusterRole
  std::string role_name;
  std::uint32_t role_name_line = 0;  // roleRef.name (0: absent)
  std::uint32_t role_name_column = 0;
  std::vector<Subject> subjects;
};


namespace facts_detail {
// Row indices by the namespace of their object, built on first use so the
// set-level checks stay linear on 100k-object snapshots.
class ByNamespace {
 public:
  template <class Row>
  const std::vector<std::size_t>& get(const Inventory& inv, const std::vector<Row>& rows,
                                      const std::string& ns) const {
    if (!built_) {
      for (std::size_t i = 0; i < rows.size(); ++i) map_[inv.objects[rows[i].object].ns].push_back(i);
      built_ = true;
    }
    auto it = map_.find(ns);
    return it == map_.end() ? empty_ : it->second;
  }
  void reset() {
    map_.clear();
    built_ = false;
  }

 private:
  mutable std::unordered_map<std::string, std::vector<std::size_t>> map_;
  mutable bool built_ = false;
  std::vector<std::size_t> empty_;
};
}  // namespace facts_detail

template <class Table>
std::unique_ptr<FactTable> make_table() {
  return std::make_unique<Table>();
}

// A table filled by one collector, Self::kCollector (its kinds and name).
template <class Self, class Row>
class CheckTable : public RowTable<Self, Row> {
 public:
  static const FactCollector& collector() { return Self::kCollector; }
  static const Self& of(const Inventory& inv) { return inv.template facts<Self>(Self::kCollector); }
};

// One whose rows are looked up by their object's namespace.
template <class Self, class Row>
class NamespacedTable : public CheckTable<Self, Row> {
 public:
  // rows[i] of the objects in `ns`.
  const std::vector<std::size_t>& in(const Inventory& inv, const std::string& ns) const {
    return by_ns_.get(inv, this->rows, ns);
  }
  void changed() { by_ns_.reset(); }

 private:
  facts_detail::ByNamespace by_ns_;
};

// Every object with a pod template: its pod's labels, ServiceAccount,
// runtime, replicas, and what its containers reference.
class Workloads final : public NamespacedTable<Workloads, WorkloadFacts> {
 public:
  static constexpr std::string_view kKinds[] = {"workloads"};
  static constexpr FactCollector kCollector{"workloads", kKinds, make_table<Workloads>};
  void add(std::size_t object, const Object& obj, const PodView& pod) override;
};

class Services final : public NamespacedTable<Services, ServiceFacts> {
 public:
  static constexpr std::string_view kKinds[] = {"Service"};
  static constexpr FactCollector kCollector{"services", kKinds, make_table<Services>};
  void add(std::size_t object, const Object& obj, const PodView& pod) override;
};

class NetworkPolicies final : public NamespacedTable<NetworkPolicies, NetworkPolicyFacts> {
 public:
  static constexpr std::string_view kKinds[] = {"NetworkPolicy"};
  static constexpr FactCollector kCollector{"network-policies", kKinds, make_table<NetworkPolicies>};
  void add(std::size_t object, const Object& obj, const PodView& pod) override;
};

class PodDisruptionBudgets final : public NamespacedTable<PodDisruptionBudgets, PdbFacts> {
 public:
  static constexpr std::string_view kKinds[] = {"PodDisruptionBudget"};
  static constexpr FactCollector kCollector{"pod-disruption-budgets", kKinds, make_table<PodDisruptionBudgets>};
  void add(std::size_t object, const Object& obj, const PodView& pod) override;
};

// Roles and ClusterRoles, with aggregation resolved on demand.
class Roles final : public CheckTable<Roles, RoleFacts> {
 public:
  static constexpr std::string_view kKinds[] = {"Role", "ClusterRole"};
  static constexpr FactCollector kCollector{"roles", kKinds, make_table<Roles>};
  void add(std::size_t object, const Object& obj, const PodView& pod) override;
  const RoleFacts* find(const Inventory& inv, std::string_view kind, std::string_view ns,
                        std::string_view name) const;
  // The resolved rules of a Role/ClusterRole, including aggregated
  // ClusterRoles (recursively, by their aggregation label selectors).
  std::vector<const PolicyRule*> effective_rules(const Inventory& inv, const RoleFacts& role) const;
  void changed() { of_object_.clear(); }

 private:
  mutable std::unordered_map<std::size_t, std::size_t> of_object_;  // object → rows[i]
};

class Bindings final : public CheckTable<Bindings, BindingFacts> {
 public:
  static constexpr std::string_view kKinds[] = {"RoleBinding", "ClusterRoleBinding"};
  static constexpr FactCollector kCollector{"bindings", kKinds, make_table<Bindings>};
  void add(std::size_t object, const Object& obj, const PodView& pod) override;
  // rows[i] of the bindings with the ServiceAccount ns/name among their subjects.
  const std::vector<std::size_t>& of_service_account(const Inventory& inv, const std::string& ns,
                                                     const std::string& name) const;
  void changed() {
    by_account_.clear();
    built_ = false;
  }

 private:
  mutable std::unordered_map<std::string, std::vector<std::size_t>> by_account_;
  mutable bool built_ = false;
  std::vector<std::size_t> empty_;
};

class ServiceAccounts final : public CheckTable<ServiceAccounts, ServiceAccountFacts> {
 public:
  static constexpr std::string_view kKinds[] = {"ServiceAccount"};
  static constexpr FactCollector kCollector{"service-accounts", kKinds, make_table<ServiceAccounts>};
  void add(std::size_t object, const Object& obj, const PodView& pod) override;
  const ServiceAccountFacts* find(const Inventory& inv, const std::string& ns, const std::string& name) const;
  void changed() {
    by_name_.clear();
    built_ = false;
  }

 private:
  mutable std::unordered_map<std::string, std::size_t> by_name_;  // "ns/name" → rows[i]
  mutable bool built_ = false;
};

// Objects whose presence is the fact: one collector per kind.
class KindObjects final : public RowTable<KindObjects, ObjectRow> {
 public:
  static constexpr std::string_view kNamespace[] = {"Namespace"};
  static constexpr std::string_view kLimitRange[] = {"LimitRange"};
  static constexpr std::string_view kResourceQuota[] = {"ResourceQuota"};
  static constexpr FactCollector kNamespaces{"namespaces", kNamespace, make_table<KindObjects>};
  static constexpr FactCollector kLimitRanges{"limit-ranges", kLimitRange, make_table<KindObjects>};
  static constexpr FactCollector kResourceQuotas{"resource-quotas", kResourceQuota, make_table<KindObjects>};
  static const FactCollector& namespaces() { return kNamespaces; }
  static const FactCollector& limit_ranges() { return kLimitRanges; }
  static const FactCollector& resource_quotas() { return kResourceQuotas; }
  void add(std::size_t object, const Object&, const PodView&) override { rows.push_back({object}); }
};

class Autoscalers final : public CheckTable<Autoscalers, AutoscalerFacts> {
 public:
  static constexpr std::string_view kKinds[] = {"HorizontalPodAutoscaler", "ScaledObject"};
  static constexpr FactCollector kCollector{"autoscalers", kKinds, make_table<Autoscalers>};
  void add(std::size_t object, const Object& obj, const PodView& pod) override;
};

// References to Services from Ingresses, Gateway API routes and Istio VirtualServices.
class ServiceReferences final : public CheckTable<ServiceReferences, ServiceReference> {
 public:
  static constexpr std::string_view kKinds[] = {"Ingress",  "HTTPRoute", "GRPCRoute",     "TCPRoute",
                                                "TLSRoute", "UDPRoute",  "VirtualService"};
  static constexpr FactCollector kCollector{"service-references", kKinds, make_table<ServiceReferences>};
  void add(std::size_t object, const Object& obj, const PodView& pod) override;
};

class ServiceMonitors final : public CheckTable<ServiceMonitors, ServiceMonitorFacts> {
 public:
  static constexpr std::string_view kKinds[] = {"ServiceMonitor"};
  static constexpr FactCollector kCollector{"service-monitors", kKinds, make_table<ServiceMonitors>};
  void add(std::size_t object, const Object& obj, const PodView& pod) override;
};

class DataSources final : public CheckTable<DataSources, DataSourceFacts> {
 public:
  static constexpr std::string_view kKinds[] = {"Secret", "ConfigMap", "SealedSecret", "ExternalSecret"};
  static constexpr FactCollector kCollector{"data-sources", kKinds, make_table<DataSources>};
  void add(std::size_t object, const Object& obj, const PodView& pod) override;
};

class ImagePolicies final : public CheckTable<ImagePolicies, ImagePolicyFacts> {
 public:
  static constexpr std::string_view kKinds[] = {"ClusterPolicy", "Policy", "ImageValidatingPolicy",
                                                "ClusterImagePolicy"};
  static constexpr FactCollector kCollector{"image-policies", kKinds, make_table<ImagePolicies>};
  void add(std::size_t object, const Object& obj, const PodView& pod) override;
};

}  // namespace kg

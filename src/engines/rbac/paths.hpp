// Escalation paths (docs/rbac.md "Escalation paths"): a graph from each
// identity through the permissions RBAC gives it, and the workloads it can
// reach, to three targets: cluster-admin (`*` on `*` cluster-wide, or
// system:masters), root on a node (a privileged or hostPath pod, the kubelet
// API) and the Secrets of other namespaces.
//
// Nodes are identities (users, groups, ServiceAccounts), "holders" of a role
// at a scope (what binding it would give), pools (every ServiceAccount of a
// namespace: what `create pods` there reaches), workloads (a pod template
// running as a ServiceAccount: what `pods/exec` reaches) and the targets.
// Each edge is one step an attacker takes with one permission (or a pair
// the API server requires together, such as `create rolebindings` + `bind`),
// and names the binding, role and rule that grant it. One breadth-first
// search backwards from each target gives every identity its shortest path.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/document.hpp"
#include "core/object.hpp"
#include "engines/rbac/rbac.hpp"

namespace kg::rbac {

// What the paths run through besides RBAC objects: the pod templates (who
// runs as which ServiceAccount, and how powerful the pod is) and the
// ServiceAccount token Secrets.
struct Workload {
  std::string kind, ns, name;
  std::string service_account;  // "default" when unset
  bool token_mounted = true;    // automountServiceAccountToken (pod, else its ServiceAccount's)
  std::optional<bool> pod_automount;
  std::string node_access;  // why the pod owns its node ("privileged container app"), "" when it does not
  bool host_network = false;
  Origin origin;
};

struct TokenSecret {
  std::string ns, name, service_account;
  std::string created;  // metadata.creationTimestamp, "" when the input lacks it
  Origin origin;
};

struct Assets {
  std::vector<Workload> workloads;
  std::vector<TokenSecret> token_secrets;
  std::vector<std::string> namespaces;  // Namespace objects
};

// Reads pod templates, token Secrets and Namespaces; false for other kinds.
bool add_asset(const Object& obj, const PodSpecTable& pod_specs, const std::string& default_namespace,
               Assets& assets);

// Every kind of step (research §1.3 and the paths no anchor covers).
enum class StepKind : std::uint8_t {
  ClusterAdmin,          // `*` on `*` cluster-wide
  MastersGroup,          // member of system:masters
  SecretsRead,           // get/list/watch secrets
  TokenSecretRead,       // a ServiceAccount's token Secret read
  TokenSecretCreate,     // create a service-account-token Secret (+ read it)
  TokenRequest,          // create serviceaccounts/token
  PodCreate,             // create pods: any ServiceAccount, a privileged pod
  WorkloadWrite,         // create/update/patch a pod controller
  PodModify,             // update/patch pods: new image in a running pod
  PodExec,               // create pods/exec
  PodAttach,             // create pods/attach
  EphemeralContainers,   // update/patch pods/ephemeralcontainers
  PortForward,           // pods/portforward to a hostNetwork pod
  NodesProxy,            // nodes/proxy: the kubelet API
  HostPathVolume,        // create persistentvolumes (hostPath) + pods
  Escalate,              // escalate + write a role the identity holds
  Bind,                  // bind + create a binding
  BindingPatch,          // bind + update/patch an existing binding
  AggregationInjection,  // escalate + write a ClusterRole labelled into an aggregated role it holds
  Impersonate,           // impersonate users/groups/serviceaccounts
  ConstrainedImpersonate,  // KEP-5284 impersonate:user-info / impersonate:serviceaccount
  CsrApproval,           // create + approve a CSR for kube-apiserver-client
  WebhookControl,        // write mutating/validating webhook configurations
  AwsAuth,               // EKS: write kube-system/aws-auth
  RunsAs,                // a workload's pod carries its ServiceAccount's token
  PodOwnsNode,           // a workload's pod is privileged / hostPath / host namespaces
  PoolMember,            // any ServiceAccount of a namespace → one of them
};
std::string_view step_kind_id(StepKind k);  // "pod-create"
inline constexpr std::size_t kStepKinds = static_cast<std::size_t>(StepKind::PoolMember) + 1;

enum class Target : std::uint8_t { ClusterAdmin, NodeRoot, Secrets };
inline constexpr std::size_t kTargets = 3;
std::string_view target_id(Target t);     // "cluster-admin", "node-root", "secrets"
std::string_view target_title(Target t);  // "cluster-admin", "root on a node", "Secrets of other namespaces"

// A grant behind a step: binding (with its subject), role and rule.
struct Witness {
  std::uint32_t binding = 0;
  std::uint32_t subject = 0;
  std::uint32_t role = 0;
  std::uint32_t rule = 0;
};

enum class NodeKind : std::uint8_t { Identity, Holder, Pool, Workload, Target };

struct PathNode {
  NodeKind kind = NodeKind::Identity;
  SubjectKind subject = SubjectKind::User;  // identities
  std::string name;  // identity name, role name, workload name
  std::string ns;    // ServiceAccount's, pool's ("" = every namespace), holder's scope, workload's
  std::int32_t role = -1;        // holders
  std::int32_t workload = -1;    // workloads: index in Assets::workloads
  Target target = Target::ClusterAdmin;
  std::string label() const;     // "ServiceAccount kube-system/admin", "cluster-admin"
};

struct PathStep {
  StepKind kind = StepKind::ClusterAdmin;
  std::uint32_t to = 0;  // node
  std::string permission;  // "create pods in namespace kube-system"
  std::vector<Witness> via;
};

struct Path {
  std::uint32_t from = 0;  // node
  Target target = Target::ClusterAdmin;
  std::vector<PathStep> steps;
  bool assumed = false;  // some step rests on the assumed bootstrap policy
};

struct PathOptions {
  // Subjects recognised as controllers (never reported as attackers), added
  // to the built-in ones: "user:NAME", "group:NAME", "sa:NS:NAME", a
  // trailing `*` matches a prefix ("sa:kube-system:*").
  std::vector<std::string> known_controllers;
  bool builtin_controllers = true;
};

class PathAnalysis {
 public:
  PathAnalysis(const RbacIndex& index, const Assets& assets, PathOptions options = {});

  // The most severe target each reportable identity reaches (the subjects of
  // the input's bindings that are not known controllers), by its shortest
  // path; identities in first-seen order.
  std::vector<Path> all_paths() const;
  // Every target one node reaches, each by its shortest path.
  std::vector<Path> paths_from(std::uint32_t node) const;
  // The node of a subject ("user:NAME", "group:NAME", "sa:NS:NAME" or
  // "system:serviceaccount:NS:NAME"); nullopt when the input never names it.
  std::optional<std::uint32_t> find_subject(std::string_view subject) const;
  bool is_known_controller(const PathNode& n) const;

  const PathNode& node(std::uint32_t i) const { return nodes_[i]; }
  std::size_t node_count() const { return nodes_.size(); }
  std::size_t edge_count() const { return edges_.size(); }
  const RbacIndex& index() const { return index_; }
  const Assets& assets() const { return assets_; }
  // Whether this node's own grants (or a path) make it cluster-admin.
  bool reaches(std::uint32_t node, Target t) const { return dist_[static_cast<std::size_t>(t)][node] >= 0; }

 private:
  struct Edge {
    std::uint32_t from, to;
    StepKind kind;
    std::string permission;
    std::vector<Witness> via;
  };
  std::uint32_t intern(PathNode n);
  std::uint32_t identity_node(SubjectKind k, const std::string& name, const std::string& ns);
  std::uint32_t pool_node(const std::string& ns);
  std::uint32_t holder_node(std::uint32_t role, const std::string& scope);
  void add_edge(std::uint32_t from, std::uint32_t to, StepKind kind, std::string permission,
                std::vector<Witness> via);
  void build();
  struct Grant;
  void expand(std::uint32_t node, const std::vector<Grant>& grants);
  std::vector<Grant> grants_of_node(std::uint32_t node) const;
  void search();
  Path trace(std::uint32_t from, Target t) const;

  const RbacIndex& index_;
  const Assets& assets_;
  PathOptions options_;
  std::vector<PathNode> nodes_;
  std::unordered_map<std::string, std::uint32_t> node_at_;
  std::vector<Edge> edges_;
  std::uint32_t out_from_ = static_cast<std::uint32_t>(-1);
  std::unordered_set<std::uint64_t> out_seen_;  // (to, kind) of out_from_'s edges
  std::vector<std::uint32_t> reportable_;  // identity nodes of input bindings, first-seen order
  std::array<std::vector<std::int32_t>, kTargets> dist_;
  std::array<std::vector<std::int32_t>, kTargets> next_edge_;
};

// Whether an identity is a built-in controller or system component
// (bootstrap controller ServiceAccounts in kube-system,
// system:kube-controller-manager, system:kube-scheduler, system:kube-proxy,
// nodes, system:masters…).
bool builtin_controller(SubjectKind kind, std::string_view name, std::string_view ns);

// Parses a subject written for people ("user:alice", "sa:ns:name"…).
bool parse_path_subject(std::string_view s, SubjectKind& kind, std::string& name, std::string& ns);

}  // namespace kg::rbac

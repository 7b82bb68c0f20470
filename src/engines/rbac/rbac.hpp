// The RBAC engine: Roles, ClusterRoles, RoleBindings, ClusterRoleBindings and
// ServiceAccounts read from objects (files, snapshots, a live cluster), an
// index over them, and the API server's own answers:
//  * authorize: what kube-apiserver's authorizer chain (system:masters, then
//    RBAC) decides for one request of one user with its groups, and why;
//  * who_can: every subject some binding lets make a request;
//  * grants_of: every binding that applies to an identity, in the order the
//    authorizer visits them (ClusterRoleBindings, then RoleBindings).
// Evaluation follows plugin/pkg/auth/authorizer/rbac and
// pkg/registry/rbac/validation/rule.go (VisitRulesFor, appliesToUser,
// GetRoleReferenceRules); aggregated ClusterRoles get the rules the
// clusterrole-aggregation controller would write (aggregate_cluster_roles).
//
// For a pass over every identity (escalation paths): subjects() lists each
// distinct subject once with its grants; identity_of() gives the user and
// groups its tokens carry; effective_rules() a role's rules after aggregation.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/document.hpp"
#include "core/inventory.hpp"
#include "core/object.hpp"
#include "engines/rbac/rules.hpp"

namespace kg::rbac {

// Where an object came from. `assumed`: not in the input, added from the
// bootstrap policy kube-apiserver creates at start-up (bootstrap_policy()).
struct Origin {
  std::string file;
  std::uint32_t line = 0;
  std::uint32_t column = 0;
  bool assumed = false;
};

struct Role {
  bool cluster = false;  // ClusterRole
  std::string ns;        // Roles only
  std::string name;
  Labels labels;
  std::vector<PolicyRule> rules;  // as stored (for an aggregated role: before aggregation)
  bool aggregated = false;        // has an aggregationRule
  std::vector<LabelSelector> aggregation;
  Origin origin;
};

enum class SubjectKind : std::uint8_t { User, Group, ServiceAccount };

struct Subject {
  SubjectKind kind = SubjectKind::User;
  std::string name;
  std::string ns;  // ServiceAccount only, as written ("" in a RoleBinding = the binding's)
};

struct Binding {
  bool cluster = false;  // ClusterRoleBinding
  std::string ns;        // RoleBindings only
  std::string name;
  std::string role_kind;  // Role or ClusterRole
  std::string role_name;
  std::vector<Subject> subjects;
  Origin origin;
};

struct ServiceAccount {
  std::string ns;
  std::string name;
  std::optional<bool> automount_token;
  std::vector<std::string> secrets;  // .secrets[].name (legacy token Secrets)
  Origin origin;
};

// The RBAC objects of one cluster (or input).
struct Policy {
  std::vector<Role> roles;
  std::vector<Binding> bindings;
  std::vector<ServiceAccount> service_accounts;
};

// How objects are read into a Policy.
struct LoadOptions {
  // A namespaced object without metadata.namespace lands where kubectl puts
  // it without a context namespace.
  std::string default_namespace = "default";
};

// Reads RBAC objects. Objects the API server would refuse (its rbac
// validation: rules without verbs, resource rules without apiGroups or
// resources, non-resource URLs in a Role or mixed with resources, bindings
// without a valid roleRef, subjects without a name or of another kind, a
// ClusterRoleBinding's ServiceAccount without a namespace) are left out with
// an error naming the file, line and field: they cannot exist in a cluster.
// An object of the same kind, namespace and name as an earlier one replaces it.
class PolicyLoader {
 public:
  explicit PolicyLoader(LoadOptions options = {}) : options_(std::move(options)) {}
  // False when `obj` is not an RBAC kind (or ServiceAccount); errors appended.
  bool add(const Object& obj, std::vector<InputError>& errors);
  // Adds each object of the bootstrap policy of Kubernetes `version` (see
  // bootstrap_version()) the input did not hold, marked assumed. Returns how
  // many were added.
  std::size_t add_bootstrap();
  std::size_t size() const { return policy_.roles.size() + policy_.bindings.size() + policy_.service_accounts.size(); }
  Policy take();

 private:
  LoadOptions options_;
  Policy policy_;
  // kind/ns/name → position, so a later object replaces an earlier one.
  std::unordered_map<std::string, std::size_t> roles_at_, bindings_at_, accounts_at_;
};

// The Kubernetes minor release whose bootstrap policy is built in ("1.37").
std::string_view bootstrap_version();
// The bootstrap policy (kube-apiserver's, with kube-controller-manager's
// controller roles) as one YAML stream of Lists, generated from the
// Kubernetes sources by scripts/gen-rbac-bootstrap.sh.
std::string bootstrap_policy_yaml();

// A user and the groups the authenticator gave it.
struct Identity {
  std::string user;
  std::vector<std::string> groups;
};

// "system:serviceaccount:NS:NAME".
std::string service_account_user(std::string_view ns, std::string_view name);
// A ServiceAccount token's identity: its user and the groups every such token
// carries (system:serviceaccounts, system:serviceaccounts:NS, system:authenticated).
Identity service_account_identity(std::string_view ns, std::string_view name);
// Parses "system:serviceaccount:NS:NAME"; false for another user name.
bool parse_service_account_user(std::string_view user, std::string& ns, std::string& name);

inline constexpr std::string_view kMastersGroup = "system:masters";

// One binding subject that applies: binding, subject index, resolved role.
struct GrantRef {
  std::uint32_t binding = 0;
  std::uint32_t subject = 0;
  std::int32_t role = -1;  // -1: the role does not exist (the binding grants nothing)
};

// One grant that allows a request: the binding, its subject, the role and
// the index of the first of the role's effective rules that allows it.
struct Allowing {
  std::uint32_t binding = 0;
  std::uint32_t subject = 0;
  std::uint32_t role = 0;
  std::uint32_t rule = 0;
};

struct Decision {
  bool allowed = false;
  bool by_masters = false;            // the system:masters group, before RBAC
  std::optional<Allowing> by;         // the RBAC grant that allowed it
  std::vector<std::string> errors;    // bindings met whose role does not exist
  std::string reason;                 // the authorizer's reason text
};

// One rule an identity holds, with where it holds it: `scope` "" is
// cluster-wide (a ClusterRoleBinding), else the RoleBinding's namespace (its
// role's non-resource URL rules are left out: they count only cluster-wide).
struct ScopedRule {
  std::string_view scope;
  const PolicyRule* rule = nullptr;
  std::uint32_t binding = 0;
  std::uint32_t role = 0;
};

// One distinct subject of the bindings, with every binding that names it.
struct SubjectEntry {
  SubjectKind kind = SubjectKind::User;
  std::string name;
  std::string ns;  // ServiceAccounts: resolved (the binding's namespace when unset)
  std::vector<GrantRef> grants;
};

class RbacIndex {
 public:
  explicit RbacIndex(Policy policy);

  // The policy as indexed: bindings are reordered ClusterRoleBindings first
  // (each kind in input order), the order the authorizer visits them; every
  // binding index below is into this order.
  const Policy& policy() const { return policy_; }
  const Role& role(std::size_t i) const { return policy_.roles[i]; }
  const Binding& binding(std::size_t i) const { return policy_.bindings[i]; }
  // A role's rules after aggregation, in the controller's order.
  std::vector<const PolicyRule*> effective_rules(std::size_t role) const;
  std::size_t effective_rule_count(std::size_t role) const { return effective_[role].size(); }
  const PolicyRule& effective_rule(std::size_t role, std::size_t i) const { return store_[effective_[role][i]]; }
  // The role a binding refers to; nullopt when it does not exist.
  std::optional<std::uint32_t> bound_role(std::size_t binding) const;
  std::optional<std::uint32_t> find_role(bool cluster, std::string_view ns, std::string_view name) const;

  Decision authorize(const Identity& who, const Request& request) const;

  // Every (binding, subject) that lets some identity make `request`:
  // ClusterRoleBindings, and RoleBindings of the request's namespace (of any
  // namespace with `any_namespace`; none for a non-resource request).
  // system:masters is not listed (it never appears in bindings).
  std::vector<Allowing> who_can(const Request& request, bool any_namespace = false) const;

  // Every binding that applies to `who`, ClusterRoleBindings first, then
  // RoleBindings of every namespace, each with the first subject that matches.
  std::vector<GrantRef> grants_of(const Identity& who) const;

  // Every rule `who` holds through RBAC, in the authorizer's visiting order
  // (system:masters is not expanded: check has_masters first). The identity
  // → permissions step of a pass over every identity (escalation paths).
  std::vector<ScopedRule> permissions_of(const Identity& who) const;
  static bool has_masters(const Identity& who);

  // Every distinct subject of every binding (ServiceAccounts with their
  // namespace resolved; a ClusterRoleBinding's ServiceAccount without one
  // matches nobody and is left out), in first-seen order.
  std::vector<SubjectEntry> subjects() const;
  // The identity a subject's credentials carry (a ServiceAccount's token
  // groups; nothing implied for a User or Group).
  static Identity identity_of(const SubjectEntry& subject);

  // The authorizer's description of a grant: `ClusterRoleBinding "b" of
  // ClusterRole "r" to User "alice"` (Go's %q quoting, as kube-apiserver).
  std::string describe(const Allowing& a) const;
  std::string describe(std::uint32_t binding, std::uint32_t subject) const;

 private:
  void aggregate_cluster_roles();
  void build_indexes();
  // First of the role's effective rules allowing the request.
  std::optional<std::uint32_t> allowing_rule(std::uint32_t role, const Request& request) const;
  std::string missing_role_error(const Binding& b) const;

  Policy policy_;
  std::vector<PolicyRule> store_;                       // every distinct-position rule
  std::vector<std::vector<std::uint32_t>> effective_;   // role → rules in store_
  std::vector<std::int32_t> binding_role_;              // binding → role, -1 missing
  std::unordered_map<std::string, std::uint32_t> cluster_roles_, roles_;  // name / ns+'\0'+name
  struct SubjectAt {
    std::uint32_t binding;
    std::uint32_t subject;
  };
  // User subjects by name and ServiceAccount subjects by their user name.
  std::unordered_map<std::string, std::vector<SubjectAt>> by_user_;
  std::unordered_map<std::string, std::vector<SubjectAt>> by_group_;
  std::vector<std::vector<std::uint32_t>> bindings_of_role_;
  std::unordered_map<std::string, std::vector<std::uint32_t>> rules_by_resource_;  // as written
  std::vector<std::uint32_t> url_rules_;
  std::vector<std::vector<std::uint32_t>> roles_of_rule_;
};

// One access question as a JSON object (`kguard rbac check --batch`):
// {"user","groups","verb","apiGroup","resource","subresource","namespace",
// "name","path"}; a non-null "path" makes it a non-resource request (without
// namespace). User and groups are taken as given, nothing implied, as a
// SubjectAccessReview. False with `error` when the text is not such an object.
bool parse_access_question(std::string_view json, Identity& who, Request& request, std::string& error);

// Go's strconv.Quote (fmt %q) of a string, as kube-apiserver's reasons quote names.
std::string go_quote(std::string_view s);
std::string_view subject_kind_name(SubjectKind k);

}  // namespace kg::rbac

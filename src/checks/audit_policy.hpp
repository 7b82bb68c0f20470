// The audit.k8s.io Policy as kube-apiserver reads and applies it: the reader
// and validation (k8s.io/apiserver pkg/audit/policy/reader.go,
// pkg/apis/audit/validation) and the rule evaluator (pkg/audit/policy/
// checker.go: ordered rules, first match wins, default level None, omitStages
// of the policy and the rule united, omitManagedFields of the rule over the
// policy's). Shared by the catalog's `audit-policy` check template and the
// audit engine's `kguard audit policy check` (engines/audit/policy), so it
// lives in the lowest layer both include.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/document.hpp"

namespace kg::audit_policy {

enum class Level : std::uint8_t { None, Metadata, Request, RequestResponse };
std::optional<Level> parse_level(std::string_view s);
std::string_view to_string(Level l);

// A set of stages, one bit each.
using Stages = std::uint8_t;
enum Stage : std::uint8_t {
  RequestReceived = 1,
  ResponseStarted = 2,
  ResponseComplete = 4,
  Panic = 8,
};
inline constexpr Stages kAllStages = RequestReceived | ResponseStarted | ResponseComplete | Panic;
std::optional<Stage> parse_stage(std::string_view s);
std::string_view to_string(Stage s);
// "RequestReceived, ResponseStarted" in the API's order; "none" when empty.
std::string stages_text(Stages s);

// One `resources:` entry of a rule.
struct GroupResources {
  std::string group;  // "" = the core group
  std::vector<std::string> resources;  // "pods", "pods/log", "*", "pods/*", "*/scale"
  std::vector<std::string> resource_names;
  const Node* node = nullptr;         // the entry
  const Node* group_node = nullptr;   // its group (null when absent)
  std::vector<const Node*> resource_nodes;
};

struct PolicyRule {
  Level level = Level::None;
  std::vector<std::string> users, user_groups, verbs, namespaces, non_resource_urls;
  std::vector<GroupResources> resources;
  Stages own_omit_stages = 0;  // as written in the rule
  Stages omit_stages = 0;      // the rule's united with the policy's (NewChecker)
  std::optional<bool> omit_managed_fields;
  const Node* node = nullptr;  // the rule's mapping (valid while the document lives)
  std::size_t index = 0;       // its position in `rules`
  // The rule applies to every request (no selector at all).
  bool selects_everything() const {
    return users.empty() && user_groups.empty() && verbs.empty() && namespaces.empty() &&
           non_resource_urls.empty() && resources.empty();
  }
};

struct Policy {
  std::string api_version;
  Stages omit_stages = 0;
  bool omit_managed_fields = false;
  std::vector<PolicyRule> rules;
  const Node* node = nullptr;
};

// A problem of a Policy document, located at the node to point at; `field`
// is the API's field path ("rules[2].level").
struct Problem {
  const Node* at = nullptr;
  std::string field;
  std::string message;
  bool error = true;  // false: a warning (an unknown field)
  // The error is only the group version (v1beta1/v1alpha1): the rules read are v1's.
  bool version_only() const { return error && field == "apiVersion"; }
};

// The audit.k8s.io versions a Policy was ever read in (v1; v1beta1 and
// v1alpha1 until Kubernetes 1.23).
bool is_policy(std::string_view api_version, std::string_view kind);

// Reads a Policy document as kube-apiserver's LoadPolicyFromBytes does: the
// group version (v1.37 decodes only audit.k8s.io/v1; v1beta1 and v1alpha1,
// removed in 1.24, are read with the same fields but reported as errors), the
// fields' types, ValidatePolicy (levels, stages, groups as DNS subdomains,
// resourceNames without resources, non-resource URLs, resources mixed with
// nonResourceURLs) and at least one rule; unknown fields are warnings (the
// strict decode fails, the lenient one it falls back to ignores them). Every
// problem is collected; false when one of them is an error (the API server
// would not start). `out` holds what could be read either way.
bool read_policy(const Node* root, Policy& out, std::vector<Problem>& problems);

// The request attributes the checker sees (authorizer.Attributes).
struct Request {
  bool has_user = true;  // false: no user at all (never matches users/userGroups)
  std::string_view user;
  std::span<const std::string> groups;
  std::string_view verb;
  bool resource_request = true;
  std::string_view ns, group, resource, subresource, name;
  std::string_view path;  // non-resource requests
};

struct Decision {
  Level level = Level::None;
  Stages omit_stages = 0;
  bool omit_managed_fields = false;
  int rule = -1;  // index of the rule that matched; -1: none (the default level)
  // The stage is written to the log.
  bool records(Stage s) const { return level != Level::None && (omit_stages & s) == 0; }
};

// The level and omitted stages of a request: the first rule that matches.
Decision evaluate(const Policy& policy, const Request& request);
bool rule_matches(const PolicyRule& rule, const Request& request);
// A non-resource URL against a rule's spec: "*", exact, or a prefix ending in "*".
bool path_matches(std::string_view path, std::string_view spec);
// One `resources` item of a rule against resource and subresource ("", "log").
bool resource_matches(std::string_view item, std::string_view resource, std::string_view subresource);

// The resources kube-apiserver v1.37 serves (discovery of its built-in
// groups): where a resource lives, whether it is namespaced, and its
// subresources.
struct BuiltinResource {
  std::string_view group;
  std::string_view resource;
  bool namespaced;
  std::string_view subresources;  // space-separated
  bool has_subresource(std::string_view sub) const;
};
std::span<const BuiltinResource> builtin_resources();
const BuiltinResource* find_builtin(std::string_view group, std::string_view resource);
// Every built-in group (for "is this group one of Kubernetes' own").
bool is_builtin_group(std::string_view group);
// The groups serving a resource name (empty when no built-in group does).
std::vector<std::string_view> groups_serving(std::string_view resource);
// `"" (core)` or `"apps"`, as messages name a group.
std::string group_phrase(std::string_view group);

// A resource named as resource[/subresource][.group] ("secrets",
// "pods/exec", "tokenreviews.authentication.k8s.io").
struct ResourceRef {
  std::string group, resource, subresource;
  std::string text() const;  // "pods/exec" or "roles.rbac.authorization.k8s.io"
};
std::optional<ResourceRef> parse_resource_ref(std::string_view s);

// The verbs of resource requests kube-apiserver's RequestInfo produces.
std::span<const std::string_view> standard_verbs();
// The verbs of non-resource requests (the lower-cased HTTP method).
std::span<const std::string_view> http_verbs();

// A class of requests a check or a detection rule asks about. Empty lists
// mean "any": every verb (the standard ones and those the policy names),
// every identity, namespace and name (a generic one the policy does not name,
// and each one it names).
struct RequestShape {
  std::vector<std::string> verbs;
  bool resource_request = true;
  std::string group, resource, subresource;  // resource requests
  std::vector<std::string> namespaces;
  std::vector<std::string> paths;  // non-resource requests ("/healthz", "/logs*")
  std::vector<std::string> users, user_groups;
};

// One concrete request of a shape and the policy's decision on it.
struct Sample {
  Request request;
  Decision decision;
  // A request no rule names specifically (generic identity, namespace, name
  // and path): what the policy does for "everyone else".
  bool generic = true;
  std::string identity;  // "any authenticated user", "user \"alice\"", "group \"system:nodes\""
};

// Calls `visit` for every concrete request of `shape` worth asking: each
// verb × identity × namespace × name (resource) or path (non-resource). The
// identities are a generic authenticated user, the anonymous user, every user
// and every group the policy names; namespaces and names likewise.
void explore(const Policy& policy, const RequestShape& shape, const std::function<void(const Sample&)>& visit);

}  // namespace kg::audit_policy

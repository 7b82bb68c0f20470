// One RBAC PolicyRule and the API server's matching of a request against it,
// function for function as Kubernetes writes them:
//  * rule_allows: plugin/pkg/auth/authorizer/rbac/rbac.go RuleAllows, over
//    pkg/apis/rbac/v1/evaluation_helpers.go VerbMatches, APIGroupMatches,
//    ResourceMatches, ResourceNameMatches, NonResourceURLMatches;
//  * covers / breakdown_rule: k8s.io/component-helpers
//    auth/rbac/validation/policy_comparator.go (Covers, BreakdownRule), what
//    the API server uses to refuse a Role or binding that would escalate.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace kg::rbac {

// rbacv1.PolicyRule. An absent list and an empty one are the same (the API's
// semantic equality, which the aggregation controller's de-duplication uses).
struct PolicyRule {
  std::vector<std::string> verbs;
  std::vector<std::string> api_groups;
  std::vector<std::string> resources;
  std::vector<std::string> resource_names;
  std::vector<std::string> non_resource_urls;

  bool operator==(const PolicyRule&) const = default;
};

// authorizer.Attributes as RBAC reads them. A resource request names a verb,
// an API group ("" = core), a resource and optional subresource, a namespace
// ("" = cluster-wide or cluster-scoped) and an optional object name; a
// non-resource request a verb and a URL path.
struct Request {
  bool resource_request = true;
  std::string verb;
  std::string api_group;
  std::string resource;
  std::string subresource;
  std::string ns;
  std::string name;
  std::string path;  // non-resource requests only

  // "pods/log" when a subresource is asked for, else "pods".
  std::string combined_resource() const {
    return subresource.empty() ? resource : resource + "/" + subresource;
  }
};

bool verb_matches(const PolicyRule& rule, std::string_view verb);
bool api_group_matches(const PolicyRule& rule, std::string_view group);
// `*` matches everything including subresources; "pods/log" matches exactly;
// "*/log" matches the log subresource of any resource (only when one is asked).
bool resource_matches(const PolicyRule& rule, std::string_view combined, std::string_view subresource);
// No resourceNames: any name (including none); else exact membership.
bool resource_name_matches(const PolicyRule& rule, std::string_view name);
// `*`, exact, or a trailing-`*` prefix ("/healthz*", "/apis/*").
bool non_resource_url_matches(const PolicyRule& rule, std::string_view path);
bool rule_allows(const Request& request, const PolicyRule& rule);

// Every (group, resource, verb, name) tuple of the rule as a rule of its own
// (non-resource URLs: (url, verb)), in the order Kubernetes produces them.
std::vector<PolicyRule> breakdown_rule(const PolicyRule& rule);
// Whether `owner` grants everything `servant` does; the servant's tuples no
// owner rule covers go to `uncovered`.
bool covers(const std::vector<PolicyRule>& owner, const std::vector<PolicyRule>& servant,
            std::vector<PolicyRule>* uncovered = nullptr);

// One line for people: "get,list pods,pods/log (apiGroups: "", apps) names: a,b"
// or "get /healthz".
std::string describe_rule(const PolicyRule& rule);

}  // namespace kg::rbac

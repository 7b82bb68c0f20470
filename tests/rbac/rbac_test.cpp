// The RBAC engine against Kubernetes' own tests:
//  * covers_cases.json: every escalationTest of component-helpers'
//    policy_comparator_test.go, recorded by gen_upstream_cases.sh;
//  * TestNonResourceURLCovers, TestRuleMatches and TestAuthorizer of
//    plugin/pkg/auth/authorizer/rbac (rbac_test.go), ported table for table;
// then what those do not hold: aggregation as the controller writes it,
// subresource wildcards, non-resource URL prefixes, resourceNames,
// system:masters, ServiceAccount subjects and groups, the loader's refusals,
// who-can, the bootstrap policy and the compacted `can` view.
#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>

#include "core/document.hpp"
#include "core/object.hpp"
#include "engines/rbac/compact.hpp"
#include "engines/rbac/rbac.hpp"

using namespace kg;
using namespace kg::rbac;

namespace {

std::vector<std::string> split(const std::string& s) {  // Go's strings.Split(s, ",")
  std::vector<std::string> out;
  std::size_t start = 0;
  while (true) {
    const auto comma = s.find(',', start);
    out.push_back(s.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) return out;
    start = comma + 1;
  }
}

std::vector<std::string> strings_of(const Node* n) {
  std::vector<std::string> out;
  for (const Node* i : items(n)) out.emplace_back(i->text());
  return out;
}

PolicyRule rule_of(const Node* n) {
  return {strings_of(get(n, "verbs")), strings_of(get(n, "apiGroups")), strings_of(get(n, "resources")),
          strings_of(get(n, "resourceNames")), strings_of(get(n, "nonResourceURLs"))};
}

std::vector<PolicyRule> rules_of(const Node* n) {
  std::vector<PolicyRule> out;
  for (const Node* i : items(n)) out.push_back(rule_of(i));
  return out;
}

// Manifests → index, as the CLI reads them; errors kept for the test to see.
struct Loaded {
  std::vector<InputError> errors;
  std::optional<RbacIndex> index;
};

Loaded load_yaml(const std::string& yaml, bool bootstrap = false) {
  Loaded out;
  SourceFile file;
  file.path = "test.yaml";
  file.content = yaml;
  load_documents(file);
  PolicyLoader loader;
  for (const Document& d : file.documents) {
    std::vector<Object> objects;
    collect_objects(file, d, objects, out.errors);
    for (const Object& o : objects) loader.add(o, out.errors);
  }
  for (const InputError& e : file.errors) out.errors.push_back(e);
  if (bootstrap) loader.add_bootstrap();
  out.index.emplace(loader.take());
  return out;
}

Request res(const std::string& verb, const std::string& group, const std::string& resource,
            const std::string& sub = "", const std::string& ns = "", const std::string& name = "") {
  Request r;
  r.verb = verb;
  r.api_group = group;
  r.resource = resource;
  r.subresource = sub;
  r.ns = ns;
  r.name = name;
  return r;
}

Request url(const std::string& verb, const std::string& path) {
  Request r;
  r.resource_request = false;
  r.verb = verb;
  r.path = path;
  return r;
}

bool same_rule_sets(std::vector<PolicyRule> a, std::vector<PolicyRule> b) {
  // rulesMatch in the upstream test: same length, each expected one found.
  if (a.size() != b.size()) return false;
  return std::all_of(a.begin(), a.end(),
                     [&](const PolicyRule& r) { return std::find(b.begin(), b.end(), r) != b.end(); });
}

}  // namespace

TEST(RbacUpstream, CoversCasesOfPolicyComparatorTest) {
  SourceFile file;
  file.path = KGUARD_RBAC_CASES;
  ASSERT_TRUE(read_file(file.path, file.content)) << file.path;
  load_documents(file);
  ASSERT_TRUE(file.errors.empty());
  ASSERT_EQ(file.documents.size(), 1u);
  std::size_t n = 0;
  for (const Node* c : items(file.documents[0].root)) {
    ++n;
    const std::string name(str(get(c, "name")));
    std::vector<PolicyRule> uncovered;
    const bool covered = covers(rules_of(get(c, "owner")), rules_of(get(c, "servant")), &uncovered);
    EXPECT_EQ(covered, get(c, "covered")->as_bool().value()) << name;
    EXPECT_TRUE(same_rule_sets(rules_of(get(c, "uncovered")), uncovered)) << name;
  }
  EXPECT_EQ(n, 23u);  // every escalationTest of the file
}

TEST(RbacUpstream, NonResourceURLCovers) {
  struct Case {
    const char *owner, *requested;
    bool want;
  };
  const Case cases[] = {{"*", "", true},           {"*", "/", true},           {"*", "/api", true},
                        {"/*", "", false},         {"/*", "/", true},          {"/*", "/foo", true},
                        {"/api", "/api", true},    {"/apis", "/api", false},   {"/api/v1", "/api", false},
                        {"/api/v1", "/api/v1", true}, {"/api/*", "/api/v1", true}, {"/api/*", "/api", false},
                        {"/api/*/*", "/api/v1", false}, {"/*/v1/*", "/api/v1", false}};
  for (const Case& c : cases) {
    const PolicyRule owner{{"get"}, {}, {}, {}, {c.owner}};
    const PolicyRule servant{{"get"}, {}, {}, {}, {c.requested}};
    EXPECT_EQ(covers({owner}, {servant}), c.want) << c.owner << " " << c.requested;
    // The authorizer's match is the same test for one URL.
    EXPECT_EQ(non_resource_url_matches(owner, c.requested), c.want) << c.owner << " " << c.requested;
  }
}

TEST(RbacUpstream, RuleMatches) {
  struct Probe {
    Request r;
    bool expected;
  };
  auto rr = [](const char* verb, const char* group, const char* resource, const char* sub = "") {
    return res(verb, group, resource, sub);
  };
  struct Case {
    const char* name;
    PolicyRule rule;
    std::vector<Probe> probes;
  };
  const std::vector<Case> cases = {
      {"star verb, exact match other",
       {{"*"}, {"group1"}, {"resource1"}, {}, {}},
       {{rr("verb1", "group1", "resource1"), true}, {rr("verb1", "group2", "resource1"), false},
        {rr("verb1", "group1", "resource2"), false}, {rr("verb1", "group2", "resource2"), false},
        {rr("verb2", "group1", "resource1"), true}, {rr("verb2", "group2", "resource1"), false},
        {rr("verb2", "group1", "resource2"), false}, {rr("verb2", "group2", "resource2"), false}}},
      {"star group, exact match other",
       {{"verb1"}, {"*"}, {"resource1"}, {}, {}},
       {{rr("verb1", "group1", "resource1"), true}, {rr("verb1", "group2", "resource1"), true},
        {rr("verb1", "group1", "resource2"), false}, {rr("verb1", "group2", "resource2"), false},
        {rr("verb2", "group1", "resource1"), false}, {rr("verb2", "group2", "resource1"), false},
        {rr("verb2", "group1", "resource2"), false}, {rr("verb2", "group2", "resource2"), false}}},
      {"star resource, exact match other",
       {{"verb1"}, {"group1"}, {"*"}, {}, {}},
       {{rr("verb1", "group1", "resource1"), true}, {rr("verb1", "group2", "resource1"), false},
        {rr("verb1", "group1", "resource2"), true}, {rr("verb1", "group2", "resource2"), false},
        {rr("verb2", "group1", "resource1"), false}, {rr("verb2", "group2", "resource1"), false},
        {rr("verb2", "group1", "resource2"), false}, {rr("verb2", "group2", "resource2"), false}}},
      {"tuple expansion",
       {{"verb1", "verb2"}, {"group1", "group2"}, {"resource1", "resource2"}, {}, {}},
       {{rr("verb1", "group1", "resource1"), true}, {rr("verb1", "group2", "resource1"), true},
        {rr("verb1", "group1", "resource2"), true}, {rr("verb1", "group2", "resource2"), true},
        {rr("verb2", "group1", "resource1"), true}, {rr("verb2", "group2", "resource1"), true},
        {rr("verb2", "group1", "resource2"), true}, {rr("verb2", "group2", "resource2"), true}}},
      {"subresource expansion",
       {{"*"}, {"*"}, {"resource1/subresource1"}, {}, {}},
       {{rr("verb1", "group1", "resource1", "subresource1"), true},
        {rr("verb1", "group2", "resource1", "subresource2"), false},
        {rr("verb1", "group1", "resource2", "subresource1"), false},
        {rr("verb1", "group2", "resource2", "subresource1"), false},
        {rr("verb2", "group1", "resource1", "subresource1"), true},
        {rr("verb2", "group2", "resource1", "subresource2"), false},
        {rr("verb2", "group1", "resource2", "subresource1"), false},
        {rr("verb2", "group2", "resource2", "subresource1"), false}}},
      {"star nonresource, exact match other",
       {{"verb1"}, {}, {}, {}, {"*"}},
       {{url("verb1", "/foo"), true}, {url("verb1", "/foo/bar"), true}, {url("verb1", "/foo/baz"), true},
        {url("verb1", "/foo/bar/one"), true}, {url("verb1", "/foo/baz/one"), true}, {url("verb2", "/foo"), false},
        {url("verb2", "/foo/bar"), false}, {url("verb2", "/foo/baz"), false}, {url("verb2", "/foo/bar/one"), false},
        {url("verb2", "/foo/baz/one"), false}}},
      {"star nonresource subpath",
       {{"verb1"}, {}, {}, {}, {"/foo/*"}},
       {{url("verb1", "/foo"), false}, {url("verb1", "/foo/bar"), true}, {url("verb1", "/foo/baz"), true},
        {url("verb1", "/foo/bar/one"), true}, {url("verb1", "/foo/baz/one"), true}, {url("verb1", "/notfoo"), false},
        {url("verb1", "/notfoo/bar"), false}, {url("verb1", "/notfoo/baz"), false},
        {url("verb1", "/notfoo/bar/one"), false}, {url("verb1", "/notfoo/baz/one"), false}}},
      {"star verb, exact nonresource",
       {{"*"}, {}, {}, {}, {"/foo", "/foo/bar/one"}},
       {{url("verb1", "/foo"), true}, {url("verb1", "/foo/bar"), false}, {url("verb1", "/foo/baz"), false},
        {url("verb1", "/foo/bar/one"), true}, {url("verb1", "/foo/baz/one"), false}, {url("verb2", "/foo"), true},
        {url("verb2", "/foo/bar"), false}, {url("verb2", "/foo/baz"), false}, {url("verb2", "/foo/bar/one"), true},
        {url("verb2", "/foo/baz/one"), false}}},
  };
  for (const Case& c : cases)
    for (const Probe& p : c.probes)
      EXPECT_EQ(rule_allows(p.r, c.rule), p.expected)
          << c.name << ": " << p.r.verb << " " << p.r.api_group << "/" << p.r.combined_resource() << p.r.path;
}

namespace {

// rbac_test.go's newRule / newRoleBinding / newClusterRoleBinding.
PolicyRule new_rule(const std::string& verbs, const std::string& groups, const std::string& resources,
                    const std::string& urls) {
  return {split(verbs), split(groups), split(resources), {}, split(urls)};
}

Role new_cluster_role(const std::string& name, std::vector<PolicyRule> rules) {
  Role r;
  r.cluster = true;
  r.name = name;
  r.rules = std::move(rules);
  return r;
}

std::vector<Subject> subjects_of(const std::vector<std::string>& specs) {
  std::vector<Subject> out;
  for (const std::string& s : specs) {
    const auto colon = s.find(':');
    const std::string kind = s.substr(0, colon);
    Subject subject;
    subject.name = s.substr(colon + 1);
    subject.kind = kind == "Group" ? SubjectKind::Group : kind == "User" ? SubjectKind::User : SubjectKind::ServiceAccount;
    out.push_back(subject);
  }
  return out;
}

Binding new_role_binding(const std::string& ns, const std::string& role, bool to_cluster_role,
                         const std::vector<std::string>& subjects) {
  Binding b;
  b.ns = ns;
  b.role_kind = to_cluster_role ? "ClusterRole" : "Role";
  b.role_name = role;
  b.subjects = subjects_of(subjects);
  return b;
}

Binding new_cluster_role_binding(const std::string& role, const std::vector<std::string>& subjects) {
  Binding b;
  b.cluster = true;
  b.role_kind = "ClusterRole";
  b.role_name = role;
  b.subjects = subjects_of(subjects);
  return b;
}

struct Attr {  // defaultAttributes{user, groups, verb, resource, subresource, namespace, apiGroup}
  std::string user, groups, verb, resource, subresource, ns, group;
};

Identity identity(const Attr& a) { return {a.user, split(a.groups)}; }
Request request(const Attr& a) { return res(a.verb, a.group, a.resource, a.subresource, a.ns); }

}  // namespace

TEST(RbacUpstream, Authorizer) {
  {
    Policy p;
    p.roles.push_back(new_cluster_role("admin", {new_rule("*", "*", "*", "*")}));
    p.bindings.push_back(new_role_binding("ns1", "admin", true, {"User:admin", "Group:admins"}));
    const RbacIndex index(std::move(p));
    for (const Attr& a : std::vector<Attr>{{"admin", "", "get", "Pods", "", "ns1", ""},
                                           {"admin", "", "watch", "Pods", "", "ns1", ""},
                                           {"admin", "group1", "watch", "Foobar", "", "ns1", ""},
                                           {"joe", "admins", "watch", "Foobar", "", "ns1", ""},
                                           {"joe", "group1,admins", "watch", "Foobar", "", "ns1", ""}})
      EXPECT_TRUE(index.authorize(identity(a), request(a)).allowed) << a.user << " " << a.verb << " " << a.resource;
    for (const Attr& a : std::vector<Attr>{{"admin", "", "GET", "Pods", "", "ns2", ""},
                                           {"admin", "", "GET", "Nodes", "", "", ""},
                                           {"admin", "admins", "GET", "Pods", "", "ns2", ""},
                                           {"admin", "admins", "GET", "Nodes", "", "", ""}})
      EXPECT_FALSE(index.authorize(identity(a), request(a)).allowed) << a.user << " " << a.verb << " " << a.resource;
  }
  {
    Policy p;
    p.roles.push_back(new_cluster_role("non-resource-url-getter", {new_rule("get", "", "", "/apis")}));
    p.roles.push_back(new_cluster_role("non-resource-url", {new_rule("*", "", "", "/apis")}));
    p.roles.push_back(new_cluster_role("non-resource-url-prefix", {new_rule("get", "", "", "/apis/*")}));
    p.bindings.push_back(new_cluster_role_binding("non-resource-url-getter", {"User:foo", "Group:bar"}));
    p.bindings.push_back(new_cluster_role_binding("non-resource-url", {"User:admin", "Group:admin"}));
    p.bindings.push_back(new_cluster_role_binding("non-resource-url-prefix", {"User:prefixed", "Group:prefixed"}));
    const RbacIndex index(std::move(p));
    struct U {
      Identity who;
      Request r;
    };
    auto user = [](const char* n) { return Identity{n, {}}; };
    auto group = [](const char* g) { return Identity{"", {g}}; };
    for (const U& u : std::vector<U>{{user("foo"), url("get", "/apis")},
                                     {group("bar"), url("get", "/apis")},
                                     {user("admin"), url("get", "/apis")},
                                     {group("admin"), url("get", "/apis")},
                                     {user("admin"), url("watch", "/apis")},
                                     {group("admin"), url("watch", "/apis")},
                                     {user("prefixed"), url("get", "/apis/v1")},
                                     {group("prefixed"), url("get", "/apis/v1")},
                                     {user("prefixed"), url("get", "/apis/v1/foobar")},
                                     {group("prefixed"), url("get", "/apis/v1/foorbar")}})
      EXPECT_TRUE(index.authorize(u.who, u.r).allowed) << u.who.user << " " << u.r.verb << " " << u.r.path;
    for (const U& u : std::vector<U>{{user("foo"), url("watch", "/apis")},
                                     {group("bar"), url("watch", "/apis")},
                                     {user("foo"), url("get", "/api/v1")},
                                     {group("bar"), url("get", "/api/v1")},
                                     {user("admin"), url("get", "/api/v1")},
                                     {group("admin"), url("get", "/api/v1")},
                                     {user("prefixed"), url("get", "/api/v1")},
                                     {group("prefixed"), url("get", "/api/v1")}})
      EXPECT_FALSE(index.authorize(u.who, u.r).allowed) << u.who.user << " " << u.r.verb << " " << u.r.path;
  }
  {
    Policy p;
    p.roles.push_back(new_cluster_role("admin", {new_rule("*", "*", "pods", "*")}));
    p.bindings.push_back(new_role_binding("ns1", "admin", true, {"User:admin", "Group:admins"}));
    const RbacIndex index(std::move(p));
    const Attr pass{"admin", "", "get", "pods", "", "ns1", ""};
    const Attr fail{"admin", "", "get", "pods", "status", "ns1", ""};
    EXPECT_TRUE(index.authorize(identity(pass), request(pass)).allowed);
    EXPECT_FALSE(index.authorize(identity(fail), request(fail)).allowed);
  }
  {
    Policy p;
    p.roles.push_back(
        new_cluster_role("admin", {new_rule("*", "*", "pods/status", "*"), new_rule("*", "*", "*/scale", "*")}));
    p.bindings.push_back(new_role_binding("ns1", "admin", true, {"User:admin", "Group:admins"}));
    const RbacIndex index(std::move(p));
    for (const Attr& a : std::vector<Attr>{{"admin", "", "get", "pods", "status", "ns1", ""},
                                           {"admin", "", "get", "pods", "scale", "ns1", ""},
                                           {"admin", "", "get", "deployments", "scale", "ns1", ""},
                                           {"admin", "", "get", "anything", "scale", "ns1", ""}})
      EXPECT_TRUE(index.authorize(identity(a), request(a)).allowed) << a.resource << "/" << a.subresource;
    const Attr fail{"admin", "", "get", "pods", "", "ns1", ""};
    EXPECT_FALSE(index.authorize(identity(fail), request(fail)).allowed);
  }
}

TEST(RbacEngine, SubresourceWildcardsAndStar) {
  const PolicyRule star{{"get"}, {""}, {"*"}, {}, {}};
  EXPECT_TRUE(rule_allows(res("get", "", "pods", "exec"), star));  // `*` includes subresources
  const PolicyRule any_log{{"get"}, {""}, {"*/log"}, {}, {}};
  EXPECT_TRUE(rule_allows(res("get", "", "pods", "log"), any_log));
  EXPECT_FALSE(rule_allows(res("get", "", "log"), any_log));             // no subresource asked
  EXPECT_FALSE(rule_allows(res("get", "", "pods", "logs"), any_log));    // "*/log" is exactly log
  EXPECT_FALSE(rule_allows(res("get", "", "pods", "xlog"), any_log));
  const PolicyRule any_xlog{{"get"}, {""}, {"*/xlog"}, {}, {}};
  EXPECT_FALSE(rule_allows(res("get", "", "pods", "log"), any_xlog));  // the whole subresource, not a suffix
  const PolicyRule pods{{"get"}, {""}, {"pods"}, {}, {}};
  EXPECT_FALSE(rule_allows(res("get", "", "pods", "exec"), pods));      // pods is not pods/exec
  const PolicyRule pods_star{{"get"}, {""}, {"pods/*"}, {}, {}};        // no such form in RBAC
  EXPECT_FALSE(rule_allows(res("get", "", "pods", "exec"), pods_star));
  EXPECT_FALSE(rule_allows(res("get", "apps", "pods"), pods));         // apiGroups count
  const PolicyRule no_groups{{"get"}, {}, {"pods"}, {}, {}};
  EXPECT_FALSE(rule_allows(res("get", "", "pods"), no_groups));         // absent apiGroups match nothing
}

TEST(RbacEngine, NonResourceUrlPrefixes) {
  const PolicyRule healthz{{"get"}, {}, {}, {}, {"/healthz*"}};
  EXPECT_TRUE(rule_allows(url("get", "/healthz"), healthz));
  EXPECT_TRUE(rule_allows(url("get", "/healthz/etcd"), healthz));
  EXPECT_TRUE(rule_allows(url("get", "/healthzzz"), healthz));
  EXPECT_FALSE(rule_allows(url("get", "/health"), healthz));
  EXPECT_FALSE(rule_allows(url("post", "/healthz"), healthz));
  const PolicyRule stars{{"get"}, {}, {}, {}, {"/api**"}};  // every trailing star trimmed (TrimRight)
  EXPECT_TRUE(rule_allows(url("get", "/apis"), stars));
  const PolicyRule middle{{"get"}, {}, {}, {}, {"/a*/b"}};  // a star not at the end is literal
  EXPECT_FALSE(rule_allows(url("get", "/ax/b"), middle));
  EXPECT_TRUE(rule_allows(url("get", "/a*/b"), middle));
}

TEST(RbacEngine, ResourceNames) {
  const PolicyRule named{{"get", "update", "create"}, {""}, {"configmaps"}, {"aws-auth"}, {}};
  EXPECT_TRUE(rule_allows(res("get", "", "configmaps", "", "kube-system", "aws-auth"), named));
  EXPECT_FALSE(rule_allows(res("get", "", "configmaps", "", "kube-system", "other"), named));
  // A create (or list without a name field selector) has no name: never matched.
  EXPECT_FALSE(rule_allows(res("create", "", "configmaps", "", "kube-system"), named));
  const PolicyRule any{{"get"}, {""}, {"configmaps"}, {}, {}};
  EXPECT_TRUE(rule_allows(res("get", "", "configmaps", "", "x", "whatever"), any));
  EXPECT_TRUE(rule_allows(res("get", "", "configmaps", "", "x"), any));
}

TEST(RbacEngine, AggregationAsTheControllerWritesIt) {
  const Loaded l = load_yaml(R"(
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: top}
aggregationRule:
  clusterRoleSelectors:
  - matchLabels: {tier: top}
  - matchExpressions: [{key: extra, operator: Exists}]
rules:   # overwritten by the controller
- {apiGroups: [""], resources: [secrets], verbs: ["*"]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: middle, labels: {tier: top}}
aggregationRule:
  clusterRoleSelectors: [{matchLabels: {tier: middle}}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: leaf, labels: {tier: middle}}
rules:
- {apiGroups: [""], resources: [pods], verbs: [get]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: leaf-copy, labels: {tier: middle}}
rules:
- {apiGroups: [""], resources: [pods], verbs: [get]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: side, labels: {extra: "yes", tier: top}}
rules:
- {apiGroups: [apps], resources: [deployments], verbs: [list]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: lonely}
aggregationRule: {clusterRoleSelectors: [{matchLabels: {nobody: here}}]}
rules:
- {apiGroups: [""], resources: [nodes], verbs: [get]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: selfish, labels: {self: "yes"}}
aggregationRule: {clusterRoleSelectors: [{matchLabels: {self: "yes"}}]}
rules:
- {apiGroups: [""], resources: [events], verbs: [get]}
)");
  ASSERT_TRUE(l.errors.empty()) << l.errors.front().message;
  const RbacIndex& index = *l.index;
  auto rules = [&](const char* name) {
    std::vector<PolicyRule> out;
    for (const PolicyRule* r : index.effective_rules(*index.find_role(true, "", name))) out.push_back(*r);
    return out;
  };
  const PolicyRule get_pods{{"get"}, {""}, {"pods"}, {}, {}};
  const PolicyRule list_deploy{{"list"}, {"apps"}, {"deployments"}, {}, {}};
  // middle = leaf ∪ leaf-copy, the equal rule once.
  EXPECT_EQ(rules("middle"), (std::vector<PolicyRule>{get_pods}));
  // top: selector 1 (middle, side by name), then selector 2 (side again: its rule once);
  // its own written rule (secrets) is gone, middle's aggregated rules reached it.
  EXPECT_EQ(rules("top"), (std::vector<PolicyRule>{get_pods, list_deploy}));
  // Nothing selected: the controller writes an empty rule list.
  EXPECT_TRUE(rules("lonely").empty());
  // A role never aggregates itself.
  EXPECT_TRUE(rules("selfish").empty());
  EXPECT_EQ(rules("leaf"), (std::vector<PolicyRule>{get_pods}));
}

TEST(RbacEngine, BootstrapPolicyAggregatesAdminEditView) {
  const Loaded l = load_yaml(R"(
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: dev-edit, namespace: dev}
subjects: [{kind: Group, name: devs, apiGroup: rbac.authorization.k8s.io}]
roleRef: {kind: ClusterRole, name: edit, apiGroup: rbac.authorization.k8s.io}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: widgets-view, labels: {rbac.authorization.k8s.io/aggregate-to-view: "true"}}
rules: [{apiGroups: [example.com], resources: [widgets], verbs: [get, list]}]
)",
                             true);
  ASSERT_TRUE(l.errors.empty());
  const RbacIndex& index = *l.index;
  const Identity dev{"dana", {"devs", "system:authenticated"}};
  // view's rules reach edit (aggregate-to-edit on view), and view picked up widgets-view.
  EXPECT_TRUE(index.authorize(dev, res("list", "example.com", "widgets", "", "dev")).allowed);
  EXPECT_TRUE(index.authorize(dev, res("create", "apps", "deployments", "", "dev")).allowed);
  EXPECT_TRUE(index.authorize(dev, res("create", "", "pods", "exec", "dev")).allowed);
  EXPECT_FALSE(index.authorize(dev, res("create", "apps", "deployments", "", "prod")).allowed);
  EXPECT_FALSE(index.authorize(dev, res("create", "rbac.authorization.k8s.io", "rolebindings", "", "dev")).allowed);
  // admin ← edit ← view: admin holds the widget rule through two levels.
  const auto admin = *index.find_role(true, "", "admin");
  bool widgets = false;
  for (const PolicyRule* r : index.effective_rules(admin))
    widgets = widgets || std::find(r->resources.begin(), r->resources.end(), "widgets") != r->resources.end();
  EXPECT_TRUE(widgets);
  const Decision d = index.authorize(dev, res("get", "", "pods", "", "dev"));
  ASSERT_TRUE(d.by);
  EXPECT_EQ(d.reason, "RBAC: allowed by RoleBinding \"dev-edit/dev\" of ClusterRole \"edit\" to Group \"devs\"");
  EXPECT_TRUE(index.role(d.by->role).origin.assumed);
  EXPECT_FALSE(index.binding(d.by->binding).origin.assumed);
  // Discovery for everyone authenticated; /metrics for nobody.
  EXPECT_TRUE(index.authorize(dev, url("get", "/healthz")).allowed);
  EXPECT_TRUE(index.authorize(dev, url("get", "/apis/apps/v1")).allowed);
  EXPECT_FALSE(index.authorize(dev, url("get", "/metrics")).allowed);
  // The bootstrap policy is complete as the sources hold it: 71 ClusterRoles
  // (30 + 41 controllers, less the 3 aggregated ones counted in both lists' form).
  std::size_t cluster_roles = 0;
  for (const Role& r : index.policy().roles) cluster_roles += r.cluster && r.origin.assumed;
  EXPECT_GT(cluster_roles, 60u);
}

TEST(RbacEngine, SystemMastersBypassesRbac) {
  const Loaded l = load_yaml("", false);
  const RbacIndex& index = *l.index;
  const Decision d = index.authorize({"anyone", {"system:masters"}}, res("delete", "", "nodes"));
  EXPECT_TRUE(d.allowed);
  EXPECT_TRUE(d.by_masters);
  EXPECT_FALSE(index.authorize({"anyone", {"system:authenticated"}}, res("delete", "", "nodes")).allowed);
  EXPECT_TRUE(index.authorize({"x", {"system:masters"}}, url("post", "/anything")).allowed);
}

TEST(RbacEngine, ServiceAccountSubjectsAndGroups) {
  const Loaded l = load_yaml(R"(
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: r, namespace: ns1}
rules: [{apiGroups: [""], resources: [configmaps], verbs: [get]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: local-sa, namespace: ns1}
subjects: [{kind: ServiceAccount, name: app}]   # namespace: the binding's
roleRef: {kind: Role, name: r, apiGroup: rbac.authorization.k8s.io}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: all-sas-of-ns2, namespace: ns1}
subjects: [{kind: Group, name: "system:serviceaccounts:ns2", apiGroup: rbac.authorization.k8s.io}]
roleRef: {kind: Role, name: r, apiGroup: rbac.authorization.k8s.io}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: node-reader}
rules: [{apiGroups: [""], resources: [nodes], verbs: [list]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: every-sa}
subjects: [{kind: Group, name: "system:serviceaccounts", apiGroup: rbac.authorization.k8s.io}]
roleRef: {kind: ClusterRole, name: node-reader, apiGroup: rbac.authorization.k8s.io}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: sa-as-user}
subjects: [{kind: User, name: "system:serviceaccount:ns3:odd", apiGroup: rbac.authorization.k8s.io}]
roleRef: {kind: ClusterRole, name: node-reader, apiGroup: rbac.authorization.k8s.io}
)");
  ASSERT_TRUE(l.errors.empty());
  const RbacIndex& index = *l.index;
  const Request get_cm = res("get", "", "configmaps", "", "ns1");
  EXPECT_TRUE(index.authorize(service_account_identity("ns1", "app"), get_cm).allowed);
  EXPECT_FALSE(index.authorize(service_account_identity("ns9", "app"), get_cm).allowed);
  // Through the token's group system:serviceaccounts:ns2 ...
  EXPECT_TRUE(index.authorize(service_account_identity("ns2", "any"), get_cm).allowed);
  // ... which a SubjectAccessReview naming only the user does not carry.
  EXPECT_FALSE(index.authorize({"system:serviceaccount:ns2:any", {}}, get_cm).allowed);
  EXPECT_TRUE(index.authorize(service_account_identity("ns7", "x"), res("list", "", "nodes")).allowed);
  EXPECT_FALSE(index.authorize({"alice", {"system:authenticated"}}, res("list", "", "nodes")).allowed);
  // A User subject spelled as a ServiceAccount's user name matches that account.
  EXPECT_TRUE(index.authorize({"system:serviceaccount:ns3:odd", {}}, res("list", "", "nodes")).allowed);
  std::string ns, name;
  EXPECT_TRUE(parse_service_account_user("system:serviceaccount:a:b", ns, name));
  EXPECT_EQ(ns + "/" + name, "a/b");
  EXPECT_FALSE(parse_service_account_user("system:serviceaccount:a", ns, name));
  // subjects(): the RoleBinding's ServiceAccount with its namespace resolved.
  bool found = false;
  for (const SubjectEntry& s : index.subjects())
    found = found || (s.kind == SubjectKind::ServiceAccount && s.name == "app" && s.ns == "ns1");
  EXPECT_TRUE(found);
}

TEST(RbacEngine, LoaderRefusesWhatTheApiServerRefuses) {
  const Loaded l = load_yaml(R"(
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: bad, namespace: ns1}
rules: [{nonResourceURLs: ["/healthz"], verbs: [get]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: mixed}
rules: [{apiGroups: [""], resources: [pods], nonResourceURLs: ["/x"], verbs: [get]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: no-groups}
rules: [{resources: [pods], verbs: [get]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: sa-no-ns}
subjects: [{kind: ServiceAccount, name: x}]
roleRef: {kind: ClusterRole, name: view, apiGroup: rbac.authorization.k8s.io}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: to-role}
subjects: [{kind: User, name: u, apiGroup: rbac.authorization.k8s.io}]
roleRef: {kind: Role, name: r, apiGroup: rbac.authorization.k8s.io}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: fine}
rules: [{apiGroups: [""], resources: [pods], verbs: [get]}]
)");
  ASSERT_EQ(l.errors.size(), 5u);
  EXPECT_NE(l.errors[0].message.find("rules[0].nonResourceURLs"), std::string::npos) << l.errors[0].message;
  EXPECT_EQ(l.errors[0].line, 5u);
  EXPECT_NE(l.errors[1].message.find("both regular resources and non-resource URLs"), std::string::npos);
  EXPECT_NE(l.errors[2].message.find("rules[0].apiGroups"), std::string::npos);
  EXPECT_NE(l.errors[3].message.find("subjects[0].namespace"), std::string::npos);
  EXPECT_NE(l.errors[4].message.find("roleRef.kind"), std::string::npos);
  EXPECT_EQ(l.index->policy().roles.size(), 1u);
  EXPECT_TRUE(l.index->policy().bindings.empty());
}

TEST(RbacEngine, MissingRolesAndReasons) {
  const Loaded l = load_yaml(R"(
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: dangling}
subjects: [{kind: User, name: alice, apiGroup: rbac.authorization.k8s.io}]
roleRef: {kind: ClusterRole, name: gone, apiGroup: rbac.authorization.k8s.io}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: dangling2, namespace: ns1}
subjects: [{kind: User, name: alice, apiGroup: rbac.authorization.k8s.io}]
roleRef: {kind: Role, name: "gone too", apiGroup: rbac.authorization.k8s.io}
)");
  const RbacIndex& index = *l.index;
  EXPECT_FALSE(index.bound_role(0));
  const Decision cluster = index.authorize({"alice", {}}, res("get", "", "pods"));
  EXPECT_EQ(cluster.reason, "RBAC: clusterrole.rbac.authorization.k8s.io \"gone\" not found");
  const Decision both = index.authorize({"alice", {}}, res("get", "", "pods", "", "ns1"));
  EXPECT_EQ(both.reason,
            "RBAC: [clusterrole.rbac.authorization.k8s.io \"gone\" not found, role.rbac.authorization.k8s.io "
            "\"gone too\" not found]");
  EXPECT_EQ(go_quote("a\"b\\c\n"), "\"a\\\"b\\\\c\\n\"");
}

TEST(RbacEngine, WhoCan) {
  const Loaded l = load_yaml(R"(
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: secret-reader}
rules:
- {apiGroups: [""], resources: [secrets], verbs: [get, list]}
- {nonResourceURLs: ["/logs/*"], verbs: [get]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: prod-secrets, namespace: prod}
subjects:
- {kind: User, name: alice, apiGroup: rbac.authorization.k8s.io}
- {kind: ServiceAccount, name: deployer}
roleRef: {kind: ClusterRole, name: secret-reader, apiGroup: rbac.authorization.k8s.io}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: dev-secrets, namespace: dev}
subjects: [{kind: User, name: bob, apiGroup: rbac.authorization.k8s.io}]
roleRef: {kind: ClusterRole, name: secret-reader, apiGroup: rbac.authorization.k8s.io}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: auditors}
subjects: [{kind: Group, name: auditors, apiGroup: rbac.authorization.k8s.io}]
roleRef: {kind: ClusterRole, name: secret-reader, apiGroup: rbac.authorization.k8s.io}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: exec-anything}
rules: [{apiGroups: ["*"], resources: ["*/exec"], verbs: [create]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: exec}
subjects: [{kind: User, name: carol, apiGroup: rbac.authorization.k8s.io}]
roleRef: {kind: ClusterRole, name: exec-anything, apiGroup: rbac.authorization.k8s.io}
)");
  const RbacIndex& index = *l.index;
  auto names = [&](const std::vector<Allowing>& found) {
    std::vector<std::string> out;
    for (const Allowing& a : found) out.push_back(index.binding(a.binding).subjects[a.subject].name);
    return out;
  };
  // ClusterRoleBindings first, then the namespace's RoleBindings.
  EXPECT_EQ(names(index.who_can(res("get", "", "secrets", "", "prod"))),
            (std::vector<std::string>{"auditors", "alice", "deployer"}));
  EXPECT_EQ(names(index.who_can(res("get", "", "secrets"))), (std::vector<std::string>{"auditors"}));
  EXPECT_EQ(names(index.who_can(res("get", "", "secrets"), true)),
            (std::vector<std::string>{"auditors", "alice", "deployer", "bob"}));
  EXPECT_TRUE(index.who_can(res("delete", "", "secrets", "", "prod")).empty());
  EXPECT_EQ(names(index.who_can(res("create", "", "pods", "exec", "x"))), (std::vector<std::string>{"carol"}));
  EXPECT_TRUE(index.who_can(res("create", "", "pods", "", "x")).empty());
  // Non-resource URLs: only through the ClusterRoleBinding.
  EXPECT_EQ(names(index.who_can(url("get", "/logs/kube-apiserver.log"))), (std::vector<std::string>{"auditors"}));
  // who_can and authorize agree on each subject found.
  for (const Allowing& a : index.who_can(res("get", "", "secrets", "", "prod"))) {
    const Subject& s = index.binding(a.binding).subjects[a.subject];
    const Identity who = s.kind == SubjectKind::Group ? Identity{"x", {s.name}}
                         : s.kind == SubjectKind::User ? Identity{s.name, {}}
                                                       : service_account_identity("prod", s.name);
    EXPECT_TRUE(index.authorize(who, res("get", "", "secrets", "", "prod")).allowed) << s.name;
  }
}

TEST(RbacEngine, CompactRulesForCan) {
  const Loaded l = load_yaml(R"(
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: a}
rules:
- {apiGroups: [""], resources: [pods], verbs: [get]}
- {apiGroups: [""], resources: [pods], verbs: [list]}
- {apiGroups: [""], resources: [services], verbs: [get, list]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: all}
rules: [{apiGroups: ["*"], resources: ["*"], verbs: ["*"]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: a, namespace: ns1}
subjects: [{kind: User, name: u, apiGroup: rbac.authorization.k8s.io}]
roleRef: {kind: ClusterRole, name: a, apiGroup: rbac.authorization.k8s.io}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: all, namespace: ns2}
subjects: [{kind: User, name: u, apiGroup: rbac.authorization.k8s.io}]
roleRef: {kind: ClusterRole, name: all, apiGroup: rbac.authorization.k8s.io}
)");
  const RbacIndex& index = *l.index;
  const std::vector<CompactRule> rules = compact_rules(index, {"u", {}});
  ASSERT_EQ(rules.size(), 2u);
  EXPECT_EQ(rules[0].scope, "ns1");
  EXPECT_EQ(rules[0].rule.resources, (std::vector<std::string>{"pods", "services"}));
  EXPECT_EQ(rules[0].rule.verbs, (std::vector<std::string>{"get", "list"}));
  EXPECT_EQ(rules[1].scope, "ns2");
  EXPECT_EQ(rules[1].rule.verbs, (std::vector<std::string>{"*"}));
  EXPECT_EQ(compact_rules(index, {"u", {}}, std::string("ns2")).size(), 1u);
  // system:masters: everything, once.
  const std::vector<CompactRule> masters = compact_rules(index, {"m", {"system:masters"}});
  ASSERT_EQ(masters.size(), 2u);
  EXPECT_EQ(masters[0].rule.resources, (std::vector<std::string>{"*"}));
}

TEST(RbacEngine, PermissionsOfAgreesWithAuthorize) {
  // Over the bootstrap policy plus a few bindings: for every subject, a
  // request is allowed exactly when one of permissions_of's rules allows it
  // in scope, the identity → permissions step a graph pass builds on.
  const Loaded l = load_yaml(R"(
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: e, namespace: dev}
subjects: [{kind: ServiceAccount, name: ci}, {kind: User, name: u, apiGroup: rbac.authorization.k8s.io}]
roleRef: {kind: ClusterRole, name: admin, apiGroup: rbac.authorization.k8s.io}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: urls, namespace: dev}
subjects: [{kind: User, name: u, apiGroup: rbac.authorization.k8s.io}]
roleRef: {kind: ClusterRole, name: system:monitoring, apiGroup: rbac.authorization.k8s.io}
)",
                             true);
  const RbacIndex& index = *l.index;
  const std::vector<Request> requests = {
      res("create", "rbac.authorization.k8s.io", "rolebindings", "", "dev"), res("get", "", "secrets", "", "dev"),
      res("get", "", "secrets", "", "prod"), res("create", "", "pods", "exec", "dev"), res("list", "", "nodes"),
      res("get", "", "endpoints", "", "kube-system", "kube-scheduler"), url("get", "/metrics"),
      url("get", "/healthz"), res("create", "certificates.k8s.io", "certificatesigningrequests")};
  std::size_t allowed = 0, checked = 0;
  std::vector<SubjectEntry> subjects = index.subjects();
  subjects.push_back({SubjectKind::User, "u", "", {}});
  for (const SubjectEntry& s : subjects) {
    const Identity who = RbacIndex::identity_of(s);
    if (RbacIndex::has_masters(who)) continue;
    const std::vector<ScopedRule> rules = index.permissions_of(who);
    for (const Request& r : requests) {
      const bool via_rules = std::any_of(rules.begin(), rules.end(), [&](const ScopedRule& sr) {
        const bool in_scope = sr.scope.empty() || (r.resource_request && sr.scope == r.ns);
        return in_scope && rule_allows(r, *sr.rule);
      });
      EXPECT_EQ(via_rules, index.authorize(who, r).allowed) << s.name << " " << r.verb << " " << r.resource << r.path;
      allowed += via_rules;
      ++checked;
    }
  }
  EXPECT_GT(checked, 300u);
  EXPECT_GT(allowed, 20u);
  // u holds system:monitoring's /metrics only through a RoleBinding: not at all.
  EXPECT_FALSE(index.authorize({"u", {}}, url("get", "/metrics")).allowed);
}

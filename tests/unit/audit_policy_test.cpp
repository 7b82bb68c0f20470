// The audit Policy library (checks/audit_policy): kube-apiserver's checker
// (k8s.io/apiserver pkg/audit/policy/checker_test.go, its table ported case
// for case), the reader's validation (pkg/apis/audit/validation) with
// file:line, and the request shapes the checks and `audit policy check` explore.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "checks/audit_policy.hpp"
#include "engines/audit/policy/coverage.hpp"

namespace kg::audit_policy {
namespace {

// --- upstream TestChecker / TestCheckerPolicyOmitStages -------------------------

const std::vector<std::string> kTimGroups = {"humans", "developers"};

Request attrs(const std::string& name) {
  Request r;
  r.user = "tim@k8s.io";
  r.groups = kTimGroups;
  r.verb = "get";
  if (name == "namespaced") {
    r.ns = "default";
    r.resource = "pods";
    r.name = "busybox";
    r.path = "/api/v1/namespaces/default/pods/busybox";
  } else if (name == "cluster") {
    r.group = "rbac.authorization.k8s.io";
    r.resource = "clusterroles";
    r.name = "edit";
    r.path = "/apis/rbac.authorization.k8s.io/v1beta1/clusterroles/edit";
  } else if (name == "nonResource") {
    r.resource_request = false;
    r.path = "/logs/kubelet.log";
  } else if (name == "subresource") {
    r.ns = "default";
    r.resource = "pods";
    r.subresource = "log";
    r.name = "busybox";
    r.path = "/api/v1/namespaces/default/pods/busybox";
  } else if (name == "Unauthorized") {
    r.has_user = false;
    r.user = "";
    r.groups = {};
    r.ns = "default";
    r.resource = "pods";
    r.name = "busybox";
    r.path = "/api/v1/namespaces/default/pods/busybox";
  } else {
    ADD_FAILURE() << "no request " << name;
  }
  return r;
}

GroupResources gr(std::string group, std::vector<std::string> resources, std::vector<std::string> names = {}) {
  GroupResources g;
  g.group = std::move(group);
  g.resources = std::move(resources);
  g.resource_names = std::move(names);
  return g;
}

const std::map<std::string, PolicyRule>& rules() {
  static const std::map<std::string, PolicyRule> kRules = [] {
    std::map<std::string, PolicyRule> m;
    auto rule = [](Level l) {
      PolicyRule r;
      r.level = l;
      return r;
    };
    m["default"] = rule(Level::Metadata);
    m["create"] = rule(Level::Request);
    m["create"].verbs = {"create"};
    m["tims"] = rule(Level::Metadata);
    m["tims"].users = {"tim@k8s.io"};
    m["humans"] = rule(Level::Metadata);
    m["humans"].user_groups = {"humans"};
    m["serviceAccounts"] = rule(Level::Request);
    m["serviceAccounts"].user_groups = {"system:serviceaccounts"};
    m["getPods"] = rule(Level::RequestResponse);
    m["getPods"].verbs = {"get"};
    m["getPods"].resources = {gr("", {"pods"})};
    m["getPodLogs"] = rule(Level::Request);
    m["getPodLogs"].verbs = {"get"};
    m["getPodLogs"].resources = {gr("", {"pods/log"})};
    m["getPodWildcardMatching"] = rule(Level::Request);
    m["getPodWildcardMatching"].verbs = {"get"};
    m["getPodWildcardMatching"].resources = {gr("", {"*"})};
    m["getPodResourceWildcardMatching"] = rule(Level::Request);
    m["getPodResourceWildcardMatching"].verbs = {"get"};
    m["getPodResourceWildcardMatching"].resources = {gr("", {"*/log"})};
    m["getPodSubResourceWildcardMatching"] = rule(Level::Request);
    m["getPodSubResourceWildcardMatching"].verbs = {"get"};
    m["getPodSubResourceWildcardMatching"].resources = {gr("", {"pods/*"})};
    m["getClusterRoles"] = rule(Level::RequestResponse);
    m["getClusterRoles"].verbs = {"get"};
    m["getClusterRoles"].resources = {gr("rbac.authorization.k8s.io", {"clusterroles"})};
    m["getClusterRoles"].namespaces = {""};
    m["getLogs"] = rule(Level::RequestResponse);
    m["getLogs"].verbs = {"get"};
    m["getLogs"].non_resource_urls = {"/logs*"};
    m["getMetrics"] = rule(Level::Request);
    m["getMetrics"].verbs = {"get"};
    m["getMetrics"].non_resource_urls = {"/metrics"};
    m["clusterRoleEdit"] = rule(Level::Request);
    m["clusterRoleEdit"].resources = {gr("rbac.authorization.k8s.io", {"clusterroles"}, {"edit"})};
    m["omit RequestReceived"] = rule(Level::Request);
    m["omit RequestReceived"].own_omit_stages = RequestReceived;
    m["only audit panic"] = rule(Level::Request);
    m["only audit panic"].own_omit_stages = RequestReceived | ResponseStarted | ResponseComplete;
    return m;
  }();
  return kRules;
}

void check(const std::string& req, Level want, Stages policy_stages, Stages want_stages,
           std::initializer_list<const char*> names) {
  Policy policy;
  policy.omit_stages = policy_stages;
  for (const char* n : names) {
    ASSERT_TRUE(rules().count(n)) << n;
    PolicyRule r = rules().at(n);
    r.index = policy.rules.size();
    r.omit_stages = r.own_omit_stages | policy_stages;  // NewChecker's unionStages
    policy.rules.push_back(std::move(r));
  }
  const Decision d = evaluate(policy, attrs(req));
  std::string joined;
  for (const char* n : names) joined += std::string(joined.empty() ? "" : ",") + n;
  EXPECT_EQ(to_string(d.level), to_string(want)) << "request:" << req << " rules:" << joined;
  EXPECT_EQ(stages_text(d.omit_stages), stages_text(want_stages)) << "request:" << req << " rules:" << joined;
}

void audit_levels(Stages s) {
  check("namespaced", Level::Metadata, s, s, {"default"});
  check("namespaced", Level::None, s, s, {"create"});
  check("namespaced", Level::Metadata, s, s, {"tims"});
  check("namespaced", Level::Metadata, s, s, {"humans"});
  check("namespaced", Level::None, s, s, {"serviceAccounts"});
  check("namespaced", Level::RequestResponse, s, s, {"getPods"});
  check("namespaced", Level::None, s, s, {"getClusterRoles"});
  check("namespaced", Level::None, s, s, {"getLogs"});
  check("namespaced", Level::None, s, s, {"getMetrics"});
  check("namespaced", Level::Metadata, s, s, {"getMetrics", "serviceAccounts", "default"});
  check("namespaced", Level::RequestResponse, s, s, {"getMetrics", "getPods", "default"});
  check("namespaced", Level::RequestResponse, s, s, {"getPodLogs", "getPods"});

  check("cluster", Level::Metadata, s, s, {"default"});
  check("cluster", Level::None, s, s, {"create"});
  check("cluster", Level::Metadata, s, s, {"tims"});
  check("cluster", Level::Metadata, s, s, {"humans"});
  check("cluster", Level::None, s, s, {"serviceAccounts"});
  check("cluster", Level::None, s, s, {"getPods"});
  check("cluster", Level::RequestResponse, s, s, {"getClusterRoles"});
  check("cluster", Level::Request, s, s, {"clusterRoleEdit", "getClusterRoles"});
  check("cluster", Level::None, s, s, {"getLogs"});
  check("cluster", Level::None, s, s, {"getMetrics"});
  check("cluster", Level::Metadata, s, s, {"getMetrics", "serviceAccounts", "default"});
  check("cluster", Level::RequestResponse, s, s, {"getMetrics", "getClusterRoles", "default"});
  check("cluster", Level::None, s, s, {"getPodLogs", "getPods"});

  check("nonResource", Level::Metadata, s, s, {"default"});
  check("nonResource", Level::None, s, s, {"create"});
  check("nonResource", Level::Metadata, s, s, {"tims"});
  check("nonResource", Level::Metadata, s, s, {"humans"});
  check("nonResource", Level::None, s, s, {"serviceAccounts"});
  check("nonResource", Level::None, s, s, {"getPods"});
  check("nonResource", Level::None, s, s, {"getClusterRoles"});
  check("nonResource", Level::RequestResponse, s, s, {"getLogs"});
  check("nonResource", Level::None, s, s, {"getMetrics"});
  check("nonResource", Level::Metadata, s, s, {"getMetrics", "serviceAccounts", "default"});
  check("nonResource", Level::RequestResponse, s, s, {"getLogs", "getClusterRoles", "default"});
  check("nonResource", Level::None, s, s, {"getPodLogs", "getPods"});

  check("subresource", Level::Request, s, s, {"getPodLogs", "getPods"});
  check("subresource", Level::Request, s, s, {"getPodWildcardMatching"});
  check("subresource", Level::Request, s, s, {"getPodResourceWildcardMatching"});
  check("subresource", Level::Request, s, s, {"getPodSubResourceWildcardMatching"});

  check("Unauthorized", Level::None, s, s, {"tims"});
  check("Unauthorized", Level::Metadata, s, s, {"tims", "default"});
  check("Unauthorized", Level::None, s, s, {"humans"});
  check("Unauthorized", Level::Metadata, s, s, {"humans", "default"});
}

TEST(AuditPolicyChecker, UpstreamTable) {
  audit_levels(0);
  const Stages rr = RequestReceived;
  const Stages panic_only = RequestReceived | ResponseStarted | ResponseComplete;
  check("namespaced", Level::Request, 0, rr, {"omit RequestReceived", "getPods", "default"});
  check("namespaced", Level::Request, 0, panic_only, {"only audit panic", "getPods", "default"});
  check("cluster", Level::Request, 0, rr, {"omit RequestReceived", "getPods", "default"});
  check("cluster", Level::Request, 0, panic_only, {"only audit panic", "getPods", "default"});
  check("nonResource", Level::Request, 0, rr, {"omit RequestReceived", "getPods", "default"});
  check("nonResource", Level::Request, 0, panic_only, {"only audit panic", "getPods", "default"});
}

TEST(AuditPolicyChecker, UpstreamPolicyOmitStages) {
  const Stages p = RequestReceived | ResponseStarted;
  audit_levels(p);
  const Stages panic_only = RequestReceived | ResponseStarted | ResponseComplete;
  check("namespaced", Level::Request, p, p, {"omit RequestReceived", "getPods", "default"});
  check("namespaced", Level::Request, p, panic_only, {"only audit panic", "getPods", "default"});
  check("cluster", Level::Request, p, p, {"omit RequestReceived", "getPods", "default"});
  check("cluster", Level::Request, p, panic_only, {"only audit panic", "getPods", "default"});
  check("nonResource", Level::Metadata, p, p, {"default", "omit RequestReceived", "getPods"});
  check("nonResource", Level::Request, p, panic_only, {"only audit panic", "getPods", "default"});
}

// --- reading a document ---------------------------------------------------------

struct Loaded {
  SourceFile file;
  Policy policy;
  std::vector<Problem> problems;
  bool ok = false;
};

std::unique_ptr<Loaded> load(const std::string& yaml) {
  auto l = std::make_unique<Loaded>();
  l->file.path = "policy.yaml";
  l->file.content = yaml;
  load_documents(l->file);
  EXPECT_TRUE(l->file.errors.empty());
  EXPECT_EQ(l->file.documents.size(), 1u);
  if (l->file.documents.empty()) return l;
  l->ok = read_policy(l->file.documents[0].root, l->policy, l->problems);
  return l;
}

std::string errors_of(const Loaded& l) {
  std::string s;
  for (const Problem& p : l.problems)
    if (p.error) s += std::to_string(p.at ? p.at->line : 0) + ":" + p.field + ": " + p.message + "\n";
  return s;
}

TEST(AuditPolicyReader, UpstreamOmitManagedFields) {
  // TestOmitManagedFields: the rule's setting wins over the policy's.
  struct Case {
    const char* policy_value;
    const char* rule_value;
    bool want;
  } cases[] = {{"false", nullptr, false}, {"true", nullptr, true}, {"true", "false", false}, {"false", "true", true}};
  for (const Case& c : cases) {
    std::string yaml = "apiVersion: audit.k8s.io/v1\nkind: Policy\nomitManagedFields: " + std::string(c.policy_value) +
                       "\nrules:\n- level: RequestResponse\n  verbs: [get]\n";
    if (c.rule_value) yaml += "  omitManagedFields: " + std::string(c.rule_value) + "\n";
    auto l = load(yaml);
    ASSERT_TRUE(l->ok) << errors_of(*l);
    Request r;
    r.verb = "get";
    EXPECT_EQ(evaluate(l->policy, r).omit_managed_fields, c.want) << yaml;
  }
}

TEST(AuditPolicyReader, UnionOfPolicyAndRuleStages) {
  auto l = load(
      "apiVersion: audit.k8s.io/v1\nkind: Policy\nomitStages: [RequestReceived, ResponseStarted]\n"
      "rules:\n- level: Metadata\n  omitStages: [Panic, RequestReceived]\n");
  ASSERT_TRUE(l->ok) << errors_of(*l);
  EXPECT_EQ(stages_text(l->policy.rules[0].omit_stages), "RequestReceived, ResponseStarted, Panic");
  // No rule matches: the policy's stages and level None.
  auto none = load("apiVersion: audit.k8s.io/v1\nkind: Policy\nomitStages: [Panic]\nrules:\n- level: Metadata\n  verbs: [list]\n");
  Request r;
  r.verb = "get";
  const Decision d = evaluate(none->policy, r);
  EXPECT_EQ(d.level, Level::None);
  EXPECT_EQ(d.rule, -1);
  EXPECT_EQ(d.omit_stages, Panic);
}

TEST(AuditPolicyReader, RefusesWhatTheApiServerRefusesWithLines) {
  auto l = load(
      "apiVersion: audit.k8s.io/v1\n"            // 1
      "kind: Policy\n"                             // 2
      "omitStages: [Started]\n"                    // 3
      "rules:\n"                                   // 4
      "- level: Loud\n"                            // 5
      "- level: Metadata\n"                        // 6
      "  resources:\n"                             // 7
      "  - group: apps/v1\n"                       // 8
      "    resourceNames: [x]\n"                   // 9
      "- level: None\n"                            // 10
      "  nonResourceURLs: [healthz, '/a*b']\n"     // 11
      "  namespaces: [default]\n"                  // 12
      "- {}\n");                                   // 13
  EXPECT_FALSE(l->ok);
  const std::string e = errors_of(*l);
  EXPECT_NE(e.find("3:omitStages[0]: Invalid value: \"Started\""), std::string::npos) << e;
  EXPECT_NE(e.find("5:rules[0].level: Unsupported value: \"Loud\""), std::string::npos) << e;
  EXPECT_NE(e.find("8:rules[1].resources.group: Invalid value: \"apps/v1\""), std::string::npos) << e;
  EXPECT_NE(e.find("9:rules[1].resources.resourceNames: Invalid value: using resourceNames requires"), std::string::npos) << e;
  EXPECT_NE(e.find("11:rules[2].nonResourceURLs[0]: Invalid value: \"healthz\": non-resource URL rules must begin"), std::string::npos) << e;
  EXPECT_NE(e.find("11:rules[2].nonResourceURLs[1]: Invalid value: \"/a*b\": non-resource URL wildcards"), std::string::npos) << e;
  EXPECT_NE(e.find("11:rules[2].nonResourceURLs: Invalid value: rules cannot apply to both"), std::string::npos) << e;
  EXPECT_NE(e.find("13:rules[3].level: Required value"), std::string::npos) << e;
  // The rest is still read.
  EXPECT_EQ(l->policy.rules.size(), 4u);

  EXPECT_FALSE(load("apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: []\n")->ok);
  EXPECT_FALSE(load("apiVersion: audit.k8s.io/v2\nkind: Policy\nrules: [{level: None}]\n")->ok);
  EXPECT_FALSE(load("apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: [{level: None, users: alice}]\n")->ok);
  // v1beta1 was removed in 1.24: refused, but read with v1's fields; an unknown field is a warning.
  auto beta = load("apiVersion: audit.k8s.io/v1beta1\nkind: Policy\nrules: [{level: Metadata}]\nextra: 1\n");
  EXPECT_FALSE(beta->ok);
  ASSERT_EQ(beta->problems.size(), 2u);
  EXPECT_TRUE(beta->problems[0].version_only());
  EXPECT_FALSE(beta->problems[1].error);
  EXPECT_EQ(beta->policy.rules.at(0).level, Level::Metadata);
  EXPECT_TRUE(load("apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: [{level: None}]\nextra: 1\n")->ok);
}

TEST(AuditPolicyMatch, ResourcePatternsAndPaths) {
  EXPECT_TRUE(resource_matches("*", "pods", "exec"));
  EXPECT_TRUE(resource_matches("pods/exec", "pods", "exec"));
  EXPECT_FALSE(resource_matches("pods", "pods", "exec"));
  EXPECT_TRUE(resource_matches("pods/*", "pods", "exec"));
  EXPECT_TRUE(resource_matches("pods/*", "pods", ""));  // TrimSuffix: the resource itself too
  EXPECT_TRUE(resource_matches("*/scale", "deployments", "scale"));
  EXPECT_FALSE(resource_matches("*/scale", "deployments", ""));
  EXPECT_FALSE(resource_matches("deployments/scale", "deployments", ""));
  EXPECT_TRUE(path_matches("/healthz/etcd", "/healthz*"));
  EXPECT_TRUE(path_matches("/healthz", "/healthz*"));
  EXPECT_FALSE(path_matches("/readyz", "/healthz*"));
  EXPECT_TRUE(path_matches("/anything", "*"));
  EXPECT_TRUE(path_matches("/apis", "/api**"));  // TrimRight of every *
  EXPECT_FALSE(path_matches("/version/", "/version"));
}

TEST(AuditPolicyResources, TableAndReferences) {
  ASSERT_NE(find_builtin("apps", "deployments"), nullptr);
  EXPECT_TRUE(find_builtin("apps", "deployments")->has_subresource("scale"));
  EXPECT_FALSE(find_builtin("", "pods")->has_subresource("logs"));
  EXPECT_TRUE(find_builtin("", "pods")->has_subresource("exec"));
  EXPECT_EQ(find_builtin("", "deployments"), nullptr);
  EXPECT_FALSE(find_builtin("rbac.authorization.k8s.io", "clusterroles")->namespaced);
  const auto events = groups_serving("events");
  EXPECT_EQ(std::set<std::string_view>(events.begin(), events.end()),
            (std::set<std::string_view>{"", "events.k8s.io"}));
  auto ref = parse_resource_ref("tokenreviews.authentication.k8s.io");
  ASSERT_TRUE(ref);
  EXPECT_EQ(ref->group, "authentication.k8s.io");
  EXPECT_EQ(ref->resource, "tokenreviews");
  ref = parse_resource_ref("pods/exec");
  ASSERT_TRUE(ref);
  EXPECT_EQ(ref->subresource, "exec");
  EXPECT_EQ(ref->text(), "pods/exec");
  EXPECT_FALSE(parse_resource_ref("pods/"));
  EXPECT_FALSE(parse_resource_ref("pods."));
}

TEST(AuditPolicyExplore, NamedIdentitiesNamespacesAndNames) {
  auto l = load(
      "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n"
      "- level: None\n  users: [system:kube-proxy]\n  resources: [{group: '', resources: [secrets]}]\n"
      "- level: None\n  namespaces: [kube-system]\n  resources: [{group: '', resources: [secrets], resourceNames: [bootstrap]}]\n"
      "- level: RequestResponse\n  userGroups: [system:nodes]\n"
      "- level: Metadata\n");
  ASSERT_TRUE(l->ok) << errors_of(*l);
  RequestShape shape;
  shape.verbs = {"get"};
  shape.resource = "secrets";
  std::map<std::string, std::set<std::string>> levels_by_who;
  std::set<std::string> generic_levels;
  std::size_t samples = 0;
  explore(l->policy, shape, [&](const Sample& s) {
    ++samples;
    levels_by_who[s.identity].insert(std::string(to_string(s.decision.level)));
    if (s.generic) generic_levels.insert(std::string(to_string(s.decision.level)));
  });
  // 1 verb × 4 identities × 3 namespaces (generic, all, kube-system) × 2 names.
  EXPECT_EQ(samples, 24u);
  EXPECT_EQ(generic_levels, (std::set<std::string>{"Metadata"}));
  EXPECT_EQ(levels_by_who["user \"system:kube-proxy\""], (std::set<std::string>{"None"}));
  EXPECT_EQ(levels_by_who["group \"system:nodes\""], (std::set<std::string>{"RequestResponse", "None"}));
  EXPECT_EQ(levels_by_who["any authenticated user"], (std::set<std::string>{"Metadata", "None"}));
}

// --- coverage of detection rules' needs (engines/audit/policy) ------------------

TEST(AuditPolicyCoverage, NeedsExpandToTheServingGroupsAndSubresources) {
  audit::Need need;
  need.resources = {"pods"};
  need.subresources = {"exec"};
  auto shapes = audit::expand_need(need);
  ASSERT_EQ(shapes.size(), 1u);  // not metrics.k8s.io's pods
  EXPECT_EQ(shapes[0].group, "");
  EXPECT_EQ(shapes[0].subresource, "exec");
  need.resources = {"events"};
  need.subresources = {};
  shapes = audit::expand_need(need);
  ASSERT_EQ(shapes.size(), 2u);  // core and events.k8s.io
  EXPECT_EQ(shapes[1].group, "events.k8s.io");
  need.resources = {"deployments"};
  need.subresources = {"*"};
  shapes = audit::expand_need(need);
  ASSERT_EQ(shapes.size(), 3u);  // the resource, scale, status
  EXPECT_EQ(shapes[0].group, "apps");
  EXPECT_EQ(shapes[2].subresource, "status");
  audit::Need any;
  shapes = audit::expand_need(any);
  ASSERT_EQ(shapes.size(), 2u);  // any resource request and any non-resource request
  EXPECT_FALSE(shapes[1].resource_request);
}

TEST(AuditPolicyCoverage, StagesAreAnyOfAndReasonsNameTheRule) {
  auto l = load(
      "apiVersion: audit.k8s.io/v1\nkind: Policy\nomitStages: [RequestReceived]\nrules:\n"
      "- level: Metadata\n  resources: [{group: '', resources: [pods/exec]}]\n  omitStages: [ResponseStarted]\n"
      "- level: None\n  users: [system:kube-proxy]\n"
      "- level: Request\n");
  ASSERT_TRUE(l->ok) << errors_of(*l);
  audit::AuditRule rule;
  rule.id = "audit-x";
  audit::Need exec;
  exec.verbs = {"create"};
  exec.resources = {"pods"};
  exec.subresources = {"exec"};
  exec.stages = {"ResponseStarted", "ResponseComplete"};
  rule.needs = {exec};
  // ResponseComplete is kept: the rule fires on one of its stages.
  audit::RuleCoverage c = audit::judge(l->policy, rule, "p.yaml");
  EXPECT_EQ(c.coverage, audit::Coverage::Covered);
  rule.needs[0].stages = {"ResponseStarted"};
  c = audit::judge(l->policy, rule, "p.yaml");
  EXPECT_EQ(c.coverage, audit::Coverage::Blind);
  ASSERT_FALSE(c.reasons.empty());
  EXPECT_EQ(c.reasons[0],
            "create pods/exec by any authenticated user: stage ResponseStarted omitted by rules[0] (p.yaml:5); "
            "the rule fires on it");
  // A Request need on pods: covered for everyone but the user the policy drops.
  audit::Need pods;
  pods.verbs = {"create"};
  pods.resources = {"pods"};
  pods.level = "Request";
  rule.needs = {pods};
  c = audit::judge(l->policy, rule, "p.yaml");
  EXPECT_EQ(c.coverage, audit::Coverage::Partial);
  for (const std::string& r : c.reasons) EXPECT_NE(r.find("system:kube-proxy"), std::string::npos) << r;
  rule.needs.clear();
  EXPECT_EQ(audit::judge(l->policy, rule, "p.yaml").coverage, audit::Coverage::Undeclared);
}

}  // namespace
}  // namespace kg::audit_policy

// The rule-coverage ("escalation") cases of Kubernetes' own tests, run against
// engines/rbac covers(): k8s.io/component-helpers v0.37.2
// auth/rbac/validation/policy_comparator_test.go (Apache-2.0), every
// escalationTest (owner rules, servant rules, covered, uncovered rules; the
// uncovered rules compared as a set, as its rulesMatch does) and every
// TestNonResourceURLCovers pair, as data. Research §1.4.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "engines/rbac/rules.hpp"

namespace {

using kg::rbac::PolicyRule;
using Strings = std::vector<std::string>;

PolicyRule R(Strings verbs, Strings groups, Strings resources, Strings names, Strings urls) {
  PolicyRule r;
  r.verbs = std::move(verbs);
  r.api_groups = std::move(groups);
  r.resources = std::move(resources);
  r.resource_names = std::move(names);
  r.non_resource_urls = std::move(urls);
  return r;
}

struct EscalationCase {
  const char* name;
  std::vector<PolicyRule> owner;
  std::vector<PolicyRule> servant;
  bool covered;
  std::vector<PolicyRule> uncovered;
};

std::string show(const std::vector<PolicyRule>& rules) {
  std::string out;
  for (const PolicyRule& r : rules) out += "[" + kg::rbac::describe_rule(r) + "] ";
  return out;
}

// Same length and every expected rule found among the actual ones.
bool rules_match(const std::vector<PolicyRule>& expected, const std::vector<PolicyRule>& actual) {
  if (expected.size() != actual.size()) return false;
  return std::all_of(expected.begin(), expected.end(), [&](const PolicyRule& e) {
    return std::find(actual.begin(), actual.end(), e) != actual.end();
  });
}

const std::vector<EscalationCase>& escalation_cases() {
  static const std::vector<EscalationCase> cases = {
        {"ExactMatch",
         {R({"get"}, {"v1"}, {"builds"}, {}, {})},
         {R({"get"}, {"v1"}, {"builds"}, {}, {})},
         true,
         {}},
        {"SubresourceWildcard",
         {R({"get"}, {"v1"}, {"*/scale"}, {}, {})},
         {R({"get"}, {"v1"}, {"foo/scale"}, {}, {})},
         true,
         {}},
        {"MultipleRulesCoveringSingleRule",
         {R({"delete"}, {"v1"}, {"deployments"}, {}, {}),
          R({"delete"}, {"v1"}, {"builds"}, {}, {}),
          R({"update"}, {"v1"}, {"builds", "deployments"}, {}, {})},
         {R({"delete", "update"}, {"v1"}, {"builds", "deployments"}, {}, {})},
         true,
         {}},
        {"MultipleAPIGroupsCoveringSingleRule",
         {R({"delete"}, {"group1"}, {"deployments"}, {}, {}),
          R({"delete"}, {"group1"}, {"builds"}, {}, {}),
          R({"update"}, {"group1"}, {"builds", "deployments"}, {}, {}),
          R({"delete"}, {"group2"}, {"deployments"}, {}, {}),
          R({"delete"}, {"group2"}, {"builds"}, {}, {}),
          R({"update"}, {"group2"}, {"builds", "deployments"}, {}, {})},
         {R({"delete", "update"}, {"group1", "group2"}, {"builds", "deployments"}, {}, {})},
         true,
         {}},
        {"SingleAPIGroupsCoveringMultiple",
         {R({"delete", "update"}, {"group1", "group2"}, {"builds", "deployments"}, {}, {})},
         {R({"delete"}, {"group1"}, {"deployments"}, {}, {}),
          R({"delete"}, {"group1"}, {"builds"}, {}, {}),
          R({"update"}, {"group1"}, {"builds", "deployments"}, {}, {}),
          R({"delete"}, {"group2"}, {"deployments"}, {}, {}),
          R({"delete"}, {"group2"}, {"builds"}, {}, {}),
          R({"update"}, {"group2"}, {"builds", "deployments"}, {}, {})},
         true,
         {}},
        {"MultipleRulesMissingSingleVerbResourceCombination",
         {R({"delete", "update"}, {"v1"}, {"builds", "deployments"}, {}, {}),
          R({"delete"}, {"v1"}, {"pods"}, {}, {})},
         {R({"delete", "update"}, {"v1"}, {"builds", "deployments", "pods"}, {}, {})},
         false,
         {R({"update"}, {"v1"}, {"pods"}, {}, {})}},
        {"APIGroupStarCoveringMultiple",
         {R({"get"}, {"*"}, {"roles"}, {}, {})},
         {R({"get"}, {"group1", "group2"}, {"roles"}, {}, {})},
         true,
         {}},
        {"EnumerationNotCoveringAPIGroupStar",
         {R({"get"}, {"dummy-group"}, {"roles"}, {}, {})},
         {R({"get"}, {"*"}, {"roles"}, {}, {})},
         false,
         {R({"get"}, {"*"}, {"roles"}, {}, {})}},
        {"APIGroupStarCoveringStar",
         {R({"get"}, {"*"}, {"roles"}, {}, {})},
         {R({"get"}, {"*"}, {"roles"}, {}, {})},
         true,
         {}},
        {"VerbStarCoveringMultiple",
         {R({"*"}, {"v1"}, {"roles"}, {}, {})},
         {R({"watch", "list"}, {"v1"}, {"roles"}, {}, {})},
         true,
         {}},
        {"EnumerationNotCoveringVerbStar",
         {R({"get", "list", "watch", "create", "update", "delete", "exec"}, {"v1"}, {"roles"}, {}, {})},
         {R({"*"}, {"v1"}, {"roles"}, {}, {})},
         false,
         {R({"*"}, {"v1"}, {"roles"}, {}, {})}},
        {"VerbStarCoveringStar",
         {R({"*"}, {"v1"}, {"roles"}, {}, {})},
         {R({"*"}, {"v1"}, {"roles"}, {}, {})},
         true,
         {}},
        {"ResourceStarCoveringMultiple",
         {R({"get"}, {"v1"}, {"*"}, {}, {})},
         {R({"get"}, {"v1"}, {"resourcegroup:deployments"}, {}, {})},
         true,
         {}},
        {"EnumerationNotCoveringResourceStar",
         {R({"get"}, {"v1"}, {"roles", "resourcegroup:deployments"}, {}, {})},
         {R({"get"}, {"v1"}, {"*"}, {}, {})},
         false,
         {R({"get"}, {"v1"}, {"*"}, {}, {})}},
        {"ResourceStarCoveringStar",
         {R({"get"}, {"v1"}, {"*"}, {}, {})},
         {R({"get"}, {"v1"}, {"*"}, {}, {})},
         true,
         {}},
        {"ResourceNameEmptyCoveringMultiple",
         {R({"get"}, {"v1"}, {"pods"}, {}, {})},
         {R({"get"}, {"v1"}, {"pods"}, {"foo", "bar"}, {})},
         true,
         {}},
        {"EnumerationNotCoveringResourceNameEmpty",
         {R({"get"}, {"v1"}, {"pods"}, {"foo", "bar"}, {})},
         {R({"get"}, {"v1"}, {"pods"}, {}, {})},
         false,
         {R({"get"}, {"v1"}, {"pods"}, {}, {})}},
        {"NonResourceURLs",
         {R({"*"}, {}, {}, {}, {"/apis"})},
         {R({"*"}, {}, {}, {}, {"/apis"})},
         true,
         {}},
        {"NonResourceURLsStar",
         {R({"*"}, {}, {}, {}, {"*"})},
         {R({"*"}, {}, {}, {}, {"/apis", "/apis/v1", "/"})},
         true,
         {}},
        {"NonResourceURLsStarAfterPrefixDoesntCover",
         {R({"*"}, {}, {}, {}, {"/apis/*"})},
         {R({"get"}, {}, {}, {}, {"/apis", "/apis/v1"})},
         false,
         {R({"get"}, {}, {}, {}, {"/apis"})}},
        {"NonResourceURLsStarAfterPrefix",
         {R({"*"}, {}, {}, {}, {"/apis/*"})},
         {R({"get"}, {}, {}, {}, {"/apis/v1/foo", "/apis/v1"})},
         true,
         {}},
        {"NonResourceURLsWithOtherFields",
         {R({"get"}, {"v1"}, {"builds"}, {}, {"/apis"})},
         {R({"get"}, {"v1"}, {"builds"}, {}, {"/apis"})},
         true,
         {}},
        {"NonResourceURLsWithOtherFieldsFailure",
         {R({"get"}, {"v1"}, {"builds"}, {}, {})},
         {R({"get"}, {"v1"}, {"builds"}, {}, {"/apis"})},
         false,
         {R({"get"}, {}, {}, {}, {"/apis"})}},
  };
  return cases;
}

TEST(RbacCovers, KubernetesEscalationCases) {
  ASSERT_EQ(escalation_cases().size(), 23u);
  for (const EscalationCase& c : escalation_cases()) {
    SCOPED_TRACE(c.name);
    std::vector<PolicyRule> uncovered;
    EXPECT_EQ(kg::rbac::covers(c.owner, c.servant, &uncovered), c.covered);
    EXPECT_TRUE(rules_match(c.uncovered, uncovered))
        << "expected uncovered " << show(c.uncovered) << "got " << show(uncovered);
  }
}

TEST(RbacCovers, KubernetesNonResourceURLCovers) {
  struct Case {
    const char* owner;
    const char* requested;
    bool want;
  };
  const Case cases[] = {
      {"*", "", true},           {"*", "/", true},           {"*", "/api", true},
      {"/*", "", false},         {"/*", "/", true},          {"/*", "/foo", true},
      {"/api", "/api", true},    {"/apis", "/api", false},   {"/api/v1", "/api", false},
      {"/api/v1", "/api/v1", true}, {"/api/*", "/api/v1", true}, {"/api/*", "/api", false},
      {"/api/*/*", "/api/v1", false}, {"/*/v1/*", "/api/v1", false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(c.owner) + " covers " + c.requested);
    // nonResourceURLCovers is what Covers asks of each (URL, verb) tuple.
    EXPECT_EQ(kg::rbac::covers({R({"get"}, {}, {}, {}, {c.owner})}, {R({"get"}, {}, {}, {}, {c.requested})}),
              c.want);
    // The authorizer's NonResourceURLMatches agrees on these pairs.
    kg::rbac::Request req;
    req.resource_request = false;
    req.verb = "get";
    req.path = c.requested;
    EXPECT_EQ(kg::rbac::rule_allows(req, R({"get"}, {}, {}, {}, {c.owner})), c.want);
  }
}

}  // namespace

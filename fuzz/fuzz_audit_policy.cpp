// libFuzzer target for audit policies (checks/audit_policy, engines/audit/
// policy): any bytes read as Policy documents (the reader's validation), the
// rules evaluated over every request shape the checks and `audit policy
// check` explore (each decision must be the first rule that matches), and the
// same documents read as detection rules whose `needs:` are judged against
// the policy.
#include <cstddef>
#include <cstdint>
#include <algorithm>
#include <string>

#include "checks/audit_policy.hpp"
#include "engines/audit/policy/coverage.hpp"

namespace ap = kg::audit_policy;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  kg::SourceFile file;
  file.path = "fuzz.yaml";
  file.content.assign(reinterpret_cast<const char*>(data), size);
  kg::load_documents(file);
  std::vector<ap::Policy> policies;
  std::vector<kg::InputError> errors;
  for (const kg::Document& d : file.documents) {
    ap::Policy policy;
    std::vector<ap::Problem> problems;
    const bool ok = ap::read_policy(d.root, policy, problems);
    for (const ap::Problem& p : problems)
      if (p.message.empty()) __builtin_trap();
    if (ok != std::none_of(problems.begin(), problems.end(), [](const ap::Problem& p) { return p.error; }))
      __builtin_trap();
    if (policy.rules.size() <= 64) policies.push_back(std::move(policy));  // keep each input's work bounded
  }
  // Each `---` chunk of the same bytes as a detection rule (engines/audit/rules), whose needs are judged below.
  kg::audit::RuleSet rules;
  const std::string_view text = file.content;
  for (std::size_t start = 0; start < text.size() && rules.rules.size() < 4;) {
    std::size_t end = text.find("\n---", start);
    if (end == std::string_view::npos) end = text.size();
    kg::audit::add_rule(rules, "fuzz/rule-" + std::to_string(start) + ".yaml", text.substr(start, end - start), errors);
    start = end + 4;
  }
  for (const kg::InputError& e : errors)
    if (e.message.empty()) __builtin_trap();
  if (policies.size() > 4) policies.resize(4);
  for (const ap::Policy& policy : policies) {
    // Every decision is the first rule that matches the request.
    const auto first_match = [&](const ap::Sample& s) {
      int want = -1;
      for (const ap::PolicyRule& r : policy.rules)
        if (ap::rule_matches(r, s.request)) {
          want = static_cast<int>(r.index);
          break;
        }
      if (want != s.decision.rule) __builtin_trap();
      if (want < 0 && s.decision.level != ap::Level::None) __builtin_trap();
    };
    ap::RequestShape exec;
    exec.verbs = {"create", "get"};
    exec.resource = "pods";
    exec.subresource = "exec";
    ap::explore(policy, exec, first_match);
    ap::RequestShape roles;
    roles.group = "rbac.authorization.k8s.io";
    roles.resource = "clusterroles";
    roles.verbs = {"create", "escalate"};
    ap::explore(policy, roles, first_match);
    ap::RequestShape urls;
    urls.resource_request = false;
    urls.verbs = {"get"};
    ap::explore(policy, urls, first_match);
    for (const auto& r : rules.rules) {
      if (r->needs.size() > 8) continue;
      const kg::audit::RuleCoverage c = kg::audit::judge(policy, *r, "fuzz.yaml");
      if (c.coverage == kg::audit::Coverage::Blind && c.reasons.empty()) __builtin_trap();
    }
  }
  return 0;
}

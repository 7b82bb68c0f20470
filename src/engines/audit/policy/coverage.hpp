// Which detection rules an audit Policy leaves blind (kguard audit policy
// check): each rule's `needs:` (contract C2, read by engines/audit/rules: the
// requests it must see in the log, at which level and stages) against the
// Policy evaluated as kube-apiserver does (checks/audit_policy).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "checks/audit_policy.hpp"
#include "engines/audit/rules.hpp"

namespace kg::audit {

// The request shapes a need stands for: one per group × resource ×
// subresource (the groups Kubernetes serves the resource from when apiGroups
// is omitted or "*"; the resource itself when subresources is omitted or "",
// each built-in subresource for "*"), or one per non-resource URL, or, with
// neither, any resource request and any non-resource request.
std::vector<audit_policy::RequestShape> expand_need(const Need& need);

enum class Coverage : std::uint8_t { Covered, Partial, Blind, Undeclared };
std::string_view to_string(Coverage c);

struct RuleCoverage {
  const AuditRule* rule = nullptr;
  Coverage coverage = Coverage::Covered;
  // Why: for Blind, what the policy does to requests no rule names
  // specifically; for Partial, the users, groups, namespaces or names it
  // treats differently. Each line names the request, the rule of the policy
  // (with its line) and what is missing.
  std::vector<std::string> reasons;
};

// Judges one detection rule against the policy. `policy_file` names the
// policy in the reasons ("policy.yaml:12").
RuleCoverage judge(const audit_policy::Policy& policy, const AuditRule& rule, std::string_view policy_file);

}  // namespace kg::audit

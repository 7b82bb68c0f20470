// Which detection rules an audit Policy leaves blind (kguard audit policy
// check): each rule's `needs:` (contract C2: the requests it must see in the
// log, at which level and stages) against the Policy evaluated as
// kube-apiserver does (checks/audit_policy).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "checks/audit_policy.hpp"
#include "core/document.hpp"

namespace kg::audit {

// One entry of a detection rule's `needs:`. Empty lists mean "any" (see
// expand_need for what each means exactly).
struct Need {
  std::vector<std::string> verbs, api_groups, resources, subresources, namespaces, non_resource_urls;
  std::vector<std::string> users, user_groups;
  audit_policy::Level level = audit_policy::Level::Metadata;
  audit_policy::Stages stages = 0;  // 0: the stage the request ends in
  std::uint32_t line = 0;
};

struct DetectionRule {
  std::string id;
  std::string title;
  std::string source;  // file the rule came from
  std::vector<Need> needs;
  bool has_needs = false;  // false: the rule declares nothing (reported, never judged)
};

// Reads one rule.yaml's id, title and `needs:`; problems go to `errors` with
// file:line:column. False when the document is not a rule (no id).
bool read_detection_rule(const SourceFile& file, const Node* root, DetectionRule& out,
                         std::vector<InputError>& errors);

// Every rule.yaml under `dir` (recursively), in path order.
std::vector<DetectionRule> load_detection_rules_dir(const std::string& dir, std::vector<InputError>& errors);
// The detection rules built into kguard: the embedded catalog's
// audit/<id>/rule.yaml files (rules/audit/ in the source tree).
std::vector<DetectionRule> load_builtin_detection_rules(std::vector<InputError>& errors);

// The request shapes a need stands for: one per group × resource ×
// subresource (the groups Kubernetes serves the resource from when apiGroups
// is omitted; the resource itself when subresources is omitted, each built-in
// subresource for "*"), or one per non-resource URL, or, with neither, any
// resource request and any non-resource request.
std::vector<audit_policy::RequestShape> expand_need(const Need& need);

enum class Coverage : std::uint8_t { Covered, Partial, Blind, Undeclared };
std::string_view to_string(Coverage c);

struct RuleCoverage {
  const DetectionRule* rule = nullptr;
  Coverage coverage = Coverage::Covered;
  // Why: for Blind, what the policy does to requests no rule names
  // specifically; for Partial, the users, groups, namespaces or names it
  // treats differently. Each line names the request, the rule of the policy
  // (with its line) and what is missing.
  std::vector<std::string> reasons;
};

// Judges one detection rule against the policy. `policy_file` names the
// policy in the reasons ("policy.yaml:12").
RuleCoverage judge(const audit_policy::Policy& policy, const DetectionRule& rule, std::string_view policy_file);

}  // namespace kg::audit

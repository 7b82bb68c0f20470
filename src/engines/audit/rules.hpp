// Audit detection rules: rules/audit/<id>/rule.yaml in the catalog's format
// (id, title, severity, rationale, remediation, references, zh, enabled) plus
// an audit check template with its params, the aggregation key and `needs:`
// (what the rule must see in the log; docs/audit.md, CONTRACTS C2).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/document.hpp"
#include "engines/audit/event.hpp"
#include "model/finding.hpp"

namespace kg {
struct CatalogFile;
struct RuleOverride;
}  // namespace kg

namespace kg::audit {

enum class Template : std::uint8_t { Event, Pod, Request, Burst, Baseline };

enum class PodCondition : std::uint8_t {
  None, Privileged, HostNetwork, HostPID, HostIPC, SensitiveMount, ImageNotAllowed
};
enum class RequestCondition : std::uint8_t {
  None, NodePortService, ConfigMapCredentials, IngressNoTLS, RoleWildcard, RoleWrite, RolePodExec,
  BindingClusterAdmin
};

// Fields of the aggregation key (rule.yaml `aggregateBy`).
enum AggregateField : unsigned {
  kAggUser = 1, kAggVerb = 2, kAggResource = 4, kAggNamespace = 8, kAggName = 16, kAggSourceIP = 32,
  kAggAuditID = 64
};

// One item of `needs:` (CONTRACTS C2).
struct Need {
  std::vector<std::string> verbs, api_groups, resources, subresources, namespaces, non_resource_urls, users;
  std::string level = "Metadata";
  std::vector<std::string> stages;
};

// Globs compiled once: names compared whole, "prefix*" by prefix, the rest by glob_match.
struct PatternSet {
  std::vector<std::string> exact, prefix, glob;
  bool empty() const { return exact.empty() && prefix.empty() && glob.empty(); }
  bool match(std::string_view text) const;
  static PatternSet of(const std::vector<std::string>& patterns);
};

struct AuditRule : RuleInfo {
  std::string source;  // rule.yaml path
  bool enabled = true;
  std::string check;
  Template tmpl = Template::Event;
  // The event match (every populated field must match).
  std::vector<std::string> verbs, api_groups, resources, subresources, namespaces, not_namespaces, names,
      not_names, users, not_users, groups, not_groups, uris, not_uris, stages;
  bool api_groups_set = false, subresources_set = false;
  std::vector<std::pair<int, int>> codes;  // inclusive ranges
  std::vector<std::pair<int, int>> not_codes;
  std::string decision;
  std::optional<bool> non_resource;
  // audit-pod / audit-request
  PodCondition pod = PodCondition::None;
  RequestCondition request = RequestCondition::None;
  std::vector<std::string> images;  // image repositories the condition ignores (or, for imageNotAllowed, allows)
  std::vector<std::string> paths;   // sensitiveMount host paths
  std::vector<std::string> words;   // configMapCredentials
  std::vector<std::string> role_names;  // bindingClusterAdmin roles
  // audit-burst
  std::uint64_t threshold = 0;
  std::int64_t window_us = 0;
  bool by_source_ip = false;
  // audit-baseline: the identity key includes the namespace
  bool per_namespace = true;
  // The globs above, compiled (compile_patterns).
  PatternSet p_namespaces, p_not_namespaces, p_names, p_not_names, p_users, p_not_users, p_groups, p_not_groups,
      p_uris, p_not_uris;
  unsigned aggregate = kAggUser | kAggVerb | kAggResource | kAggNamespace;
  std::vector<Need> needs;
  bool needs_body() const { return tmpl == Template::Pod || tmpl == Template::Request; }
};

struct RuleSet {
  std::vector<std::unique_ptr<AuditRule>> rules;
  const AuditRule* find(std::string_view id) const;
};

// Loads the rule.yaml files under `audit/` among `files` (the embedded
// catalog) or every rule.yaml under `dir`. Errors name file:line and field;
// a bad rule is left out, the others load.
void add_rules(RuleSet& set, std::span<const CatalogFile> files, std::vector<InputError>& errors);
void add_rules_dir(RuleSet& set, const std::string& dir, std::vector<InputError>& errors);
bool add_rule(RuleSet& set, const std::string& path, std::string_view content, std::vector<InputError>& errors);
// The built-in audit rules (embedded at build time).
RuleSet builtin_rules(std::vector<InputError>& errors);

// Applies a config file's `rules: <id>: {enabled, severity, params}` override.
bool apply_override(AuditRule& rule, const RuleOverride& o, std::vector<InputError>& errors);

// Does the event match the rule's event fields (everything but the template's
// condition, bursts and baselines)?
bool matches_event(const AuditRule& rule, const AuditEvent& ev);

// The template's condition on the request body (audit-pod, audit-request):
// a non-empty detail when it holds ("privileged container nginx").
std::string body_condition(const AuditRule& rule, const Node* request_object);

std::string_view template_name(Template t);

}  // namespace kg::audit

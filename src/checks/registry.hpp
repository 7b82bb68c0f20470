// The check templates. Every template is registered in the one explicit list
// in registry.cpp; rules bind a template by name with their own parameters.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/rule.hpp"

namespace kg {

// Reads a template's parameters; errors name the offending field.
class RegexCache;

class Params {
 public:
  // `regexes`: the load's cache of compiled patterns (none: compile each).
  explicit Params(const Node* node, RegexCache* regexes = nullptr) : node_(node), regexes_(regexes) {}
  const Node* node() const { return node_; }
  const Node* get(std::string_view key) const { return kg::get(node_, key); }
  std::string_view string(std::string_view key) const { return str(get(key)); }
  std::vector<std::string> strings(std::string_view key) const;
  std::optional<std::int64_t> integer(std::string_view key) const;
  // The `containers` parameter (containers, initContainers,
  // ephemeralContainers); `kinds` keeps the caller's default when absent.
  bool container_kinds(std::vector<ContainerKind>& kinds, std::string& error) const;
  // The load's cache of compiled patterns, or null (see regex_cache.hpp).
  RegexCache* regexes() const { return regexes_; }

 private:
  const Node* node_;
  RegexCache* regexes_;
};

using CompileFn = std::unique_ptr<Check> (*)(const Params& params, std::string& error);
using CompileSetFn = std::unique_ptr<SetCheck> (*)(const Params& params, std::string& error);
using CompileClusterFn = std::unique_ptr<ClusterCheck> (*)(const Params& params, std::string& error);

// What a declared template parameter holds. A list parameter also takes a
// single scalar as a one-item list.
enum class ParamType : std::uint8_t {
  String,       // a scalar
  Integer,      // a whole number within [min, max]
  Boolean,      // true or false
  StringList,   // a list of scalars
  IntegerList,  // a list of whole numbers within [min, max]
  List,         // a list of mappings or scalars, checked by the template
};
std::string_view to_string(ParamType t);

// One parameter of a check template, declared beside the template's
// registration (registry.cpp) so the loader, `kguard rules templates` and
// docs/rules/templates.md read the same declaration.
struct ParamSpec {
  std::string_view name;
  ParamType type = ParamType::String;
  std::string_view description;
  std::string_view allowed = {};        // "a|b|c": the only values (each item for lists)
  std::string_view default_value = {};  // as documented; empty = no default
  bool required = false;
  std::int64_t min = INT64_MIN;  // integers
  std::int64_t max = INT64_MAX;
};

// Exactly one of compile / compile_set / compile_cluster is set.
struct CheckTemplate {
  std::string_view name;
  std::string_view summary;
  CompileFn compile;
  CompileSetFn compile_set = nullptr;
  CompileClusterFn compile_cluster = nullptr;
  std::span<const ParamSpec> params = {};
};

// A parameter problem, located at the node to point at (the value, the key,
// or the params mapping itself when a required parameter is missing).
struct ParamProblem {
  const Node* at = nullptr;
  std::string message;  // starts with the parameter name, e.g. "mode: must be one of ..."
};

// Stage 2 of loading a rule: `params` against the template's declarations:
// unknown names (with the nearest known name), types, allowed values, ranges,
// required parameters. Empty when valid.
std::vector<ParamProblem> validate_params(const CheckTemplate& tmpl, const Node* params);

// Stage 3: binds `rule` to its template with `params` (validated first); false
// with the problems on failure. A template's own cross-parameter error is
// located at the parameter it names, else at the params mapping. `regexes` is
// the load's pattern cache (see regex_cache.hpp), may be null.
bool compile_rule(Rule& rule, const Node* params, std::vector<ParamProblem>& problems,
                  RegexCache* regexes = nullptr);
// The same, with the problems joined into one message.
bool compile_rule(Rule& rule, const Node* params, std::string& error,
                  RegexCache* regexes = nullptr);

std::span<const CheckTemplate> check_templates();
const CheckTemplate* find_check_template(std::string_view name);

// Template families, each defined in its own file.
std::unique_ptr<Check> compile_pss_check(const Params& params, std::string& error);
std::unique_ptr<Check> compile_field_check(const Params& params, std::string& error);
std::unique_ptr<Check> compile_image_check(const Params& params, std::string& error);
// The image engine's hardening rules over `kind: Image` (image_lint.cpp).
std::unique_ptr<Check> compile_image_lint_check(const Params& params, std::string& error);
std::unique_ptr<Check> compile_node_setting_check(const Params& params, std::string& error);
std::unique_ptr<Check> compile_node_file_check(const Params& params, std::string& error);
std::unique_ptr<Check> compile_node_etcd_ca_check(const Params& params, std::string& error);
std::unique_ptr<Check> compile_rbac_rules_check(const Params& params, std::string& error);
std::unique_ptr<Check> compile_rbac_binding_check(const Params& params, std::string& error);
std::unique_ptr<Check> compile_network_policy_check(const Params& params, std::string& error);
std::unique_ptr<Check> compile_container_ports_check(const Params& params, std::string& error);
std::unique_ptr<Check> compile_service_exposure_check(const Params& params, std::string& error);
std::unique_ptr<Check> compile_pattern_check(const Params& params, std::string& error);
std::unique_ptr<Check> compile_required_metadata_check(const Params& params, std::string& error);
std::unique_ptr<Check> compile_namespace_placement_check(const Params& params, std::string& error);
std::unique_ptr<Check> compile_deprecated_api_check(const Params& params, std::string& error);
std::unique_ptr<Check> compile_psp_check(const Params& params, std::string& error);
std::unique_ptr<Check> compile_security_check(const Params& params, std::string& error);
std::unique_ptr<Check> compile_capabilities_check(const Params& params, std::string& error);
std::unique_ptr<Check> compile_host_path_check(const Params& params, std::string& error);
std::unique_ptr<Check> compile_env_var_check(const Params& params, std::string& error);
std::unique_ptr<Check> compile_configmap_data_check(const Params& params, std::string& error);
std::unique_ptr<Check> compile_image_registry_check(const Params& params, std::string& error);
std::unique_ptr<Check> compile_image_pull_policy_check(const Params& params, std::string& error);
std::unique_ptr<Check> compile_known_component_check(const Params& params, std::string& error);
std::unique_ptr<Check> compile_command_word_check(const Params& params, std::string& error);
std::unique_ptr<Check> compile_port_exposed_check(const Params& params, std::string& error);
std::unique_ptr<Check> compile_resource_quantity_check(const Params& params, std::string& error);
std::unique_ptr<Check> compile_volume_claim_templates_check(const Params& params, std::string& error);
std::unique_ptr<Check> compile_probe_handlers_check(const Params& params, std::string& error);
std::unique_ptr<Check> compile_job_ttl_check(const Params& params, std::string& error);
std::unique_ptr<Check> compile_restart_policy_check(const Params& params, std::string& error);
std::unique_ptr<Check> compile_replicas_check(const Params& params, std::string& error);
std::unique_ptr<Check> compile_pdb_check(const Params& params, std::string& error);
std::unique_ptr<Check> compile_spread_check(const Params& params, std::string& error);
std::unique_ptr<Check> compile_update_strategy_check(const Params& params, std::string& error);
std::unique_ptr<Check> compile_priority_class_check(const Params& params, std::string& error);
std::unique_ptr<Check> compile_owner_reference_check(const Params& params, std::string& error);
std::unique_ptr<Check> compile_selector_match_check(const Params& params, std::string& error);
std::unique_ptr<Check> compile_dns_config_option_check(const Params& params, std::string& error);
std::unique_ptr<Check> compile_label_matches_name_check(const Params& params, std::string& error);
std::unique_ptr<Check> compile_duplicate_env_check(const Params& params, std::string& error);
// Manifest-level templates (manifest_checks.cpp).
std::unique_ptr<Check> compile_image_version_check(const Params& params, std::string& error);
std::unique_ptr<Check> compile_image_expected_tag_check(const Params& params, std::string& error);
std::unique_ptr<Check> compile_sorted_keys_check(const Params& params, std::string& error);
std::unique_ptr<Check> compile_object_schema_check(const Params& params, std::string& error);
std::unique_ptr<Check> compile_subpath_mount_check(const Params& params, std::string& error);
std::unique_ptr<Check> compile_volume_source_check(const Params& params, std::string& error);
// The kube-apiserver's EncryptionConfiguration (encryption_checks.cpp).
std::unique_ptr<Check> compile_encryption_config_check(const Params& params, std::string& error);
std::unique_ptr<Check> compile_apiserver_encryption_check(const Params& params, std::string& error);
// Control-plane component flags (component_flags.cpp).
std::unique_ptr<Check> compile_component_flag_check(const Params& params, std::string& error);
// An audit.k8s.io Policy (audit_policy_checks.cpp).
std::unique_ptr<Check> compile_audit_policy_check(const Params& params, std::string& error);
// Set-level reference templates (reference_checks.cpp).
std::unique_ptr<SetCheck> compile_autoscaling_check(const Params& params, std::string& error);
std::unique_ptr<SetCheck> compile_reference_target_check(const Params& params, std::string& error);
// Set-level templates (set_checks.cpp).
std::unique_ptr<SetCheck> compile_network_coverage_check(const Params& params, std::string& error);
std::unique_ptr<SetCheck> compile_namespace_policy_check(const Params& params, std::string& error);
std::unique_ptr<SetCheck> compile_selector_target_check(const Params& params, std::string& error);
std::unique_ptr<SetCheck> compile_pdb_coverage_check(const Params& params, std::string& error);
std::unique_ptr<SetCheck> compile_service_account_check(const Params& params, std::string& error);
std::unique_ptr<SetCheck> compile_rbac_grant_check(const Params& params, std::string& error);
std::unique_ptr<SetCheck> compile_sandbox_check(const Params& params, std::string& error);
std::unique_ptr<SetCheck> compile_service_mesh_check(const Params& params, std::string& error);
std::unique_ptr<Check> compile_mesh_object_check(const Params& params, std::string& error);
// Cluster-level templates (cluster_checks.cpp).
std::unique_ptr<ClusterCheck> compile_kubernetes_version_check(const Params& params,
                                                               std::string& error);

}  // namespace kg

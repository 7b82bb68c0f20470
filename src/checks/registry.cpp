#include "checks/registry.hpp"

namespace kg {

std::vector<std::string> Params::strings(std::string_view key) const {
  std::vector<std::string> out;
  const Node* n = get(key);
  if (n && n->is_scalar()) out.emplace_back(n->text());
  for (const Node* item : items(n))
    if (item->is_scalar()) out.emplace_back(item->text());
  return out;
}

std::optional<std::int64_t> Params::integer(std::string_view key) const {
  const Node* n = get(key);
  return n ? n->as_int() : std::nullopt;
}

// The one list of check templates. Add a template here and in registry.hpp.
std::span<const CheckTemplate> check_templates() {
  static const CheckTemplate kTemplates[] = {
      {"pss", "A Pod Security Standards control, evaluated exactly as upstream (param: control)",
       compile_pss_check},
      {"field", "A condition on a field of each container, the pod spec or the object",
       compile_field_check},
      {"image", "Image reference hygiene: tag, digest, registry", compile_image_check},
      // Set-level templates: evaluated once over the whole input.
      {"network-policy-coverage", "Pods that no NetworkPolicy of their namespace selects",
       nullptr, compile_network_coverage_check},
      {"namespace-policy", "Per-namespace requirements: default-deny policies, LimitRange, ResourceQuota",
       nullptr, compile_namespace_policy_check},
      {"selector-target", "Services and NetworkPolicies whose selector matches no workload",
       nullptr, compile_selector_target_check},
      {"pdb-coverage", "Replicated workloads without a PodDisruptionBudget", nullptr,
       compile_pdb_coverage_check},
      {"service-account", "ServiceAccount token automounting and references, resolved across objects",
       nullptr, compile_service_account_check},
      {"rbac-grant", "Bindings and workloads granted dangerous permissions, with roles resolved across objects and aggregation",
       nullptr, compile_rbac_grant_check},
      {"sandbox-runtime", "Workloads in untrusted namespaces without a sandboxed runtimeClassName",
       nullptr, compile_sandbox_check},
  };
  return kTemplates;
}

bool compile_rule(Rule& rule, const Node* params, std::string& error) {
  const CheckTemplate* tmpl = find_check_template(rule.check);
  if (!tmpl) {
    error = "unknown check template '" + rule.check + "'";
    return false;
  }
  rule.compiled.reset();
  rule.set_compiled.reset();
  if (tmpl->compile_set) {
    rule.set_compiled = tmpl->compile_set(Params(params), error);
  } else {
    rule.compiled = tmpl->compile(Params(params), error);
  }
  if (!rule.compiled && !rule.set_compiled) {
    if (error.empty()) error = "invalid parameters";
    return false;
  }
  return true;
}

const CheckTemplate* find_check_template(std::string_view name) {
  for (const CheckTemplate& t : check_templates())
    if (t.name == name) return &t;
  return nullptr;
}

}  // namespace kg

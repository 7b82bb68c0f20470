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

bool Params::container_kinds(std::vector<ContainerKind>& kinds, std::string& error) const {
  if (!get("containers")) return true;
  kinds.clear();
  for (const std::string& k : strings("containers")) {
    if (k == "containers") {
      kinds.push_back(ContainerKind::Container);
    } else if (k == "initContainers") {
      kinds.push_back(ContainerKind::Init);
    } else if (k == "ephemeralContainers") {
      kinds.push_back(ContainerKind::Ephemeral);
    } else {
      error = "containers entries must be containers, initContainers or ephemeralContainers";
      return false;
    }
  }
  if (kinds.empty()) {
    error = "containers must list at least one of containers, initContainers, ephemeralContainers";
    return false;
  }
  return true;
}

// The one list of check templates. Add a template here and in registry.hpp.
std::span<const CheckTemplate> check_templates() {
  static const CheckTemplate kTemplates[] = {
      {"pss", "A Pod Security Standards control, evaluated exactly as upstream (param: control)",
       compile_pss_check},
      {"field", "A condition on a field of each container, the pod spec or the object",
       compile_field_check},
      {"image", "Image reference hygiene: tag, digest, registry", compile_image_check},
      {"rbac-rules", "A Role's or ClusterRole's own rules grant an access, or use wildcards",
       compile_rbac_rules_check},
      {"rbac-binding", "A (Cluster)RoleBinding's own roleRef and subjects",
       compile_rbac_binding_check},
      {"network-policy", "A NetworkPolicy's own spec: allow-all rules, no selectors",
       compile_network_policy_check},
      {"container-ports", "Declared container ports: privileged numbers, invalid names",
       compile_container_ports_check},
      {"service-exposure", "A Service's externalIPs/externalName, or a sensitive interface exposed",
       compile_service_exposure_check},
      {"pattern", "Values or keys reached by a field path with * must (not) match a regex",
       compile_pattern_check},
      {"required-metadata", "Required labels and annotations, optionally with allowed values",
       compile_required_metadata_check},
      {"namespace-placement", "Objects in the default namespace or in kube-system",
       compile_namespace_placement_check},
      {"deprecated-api", "apiVersions deprecated or removed by a Kubernetes release",
       compile_deprecated_api_check},
      {"psp", "A PodSecurityPolicy's own permissive settings", compile_psp_check},
      {"security", "A named pod-security control beyond PSS (param: control)",
       compile_security_check},
      {"capabilities", "Linux capabilities added or not dropped, case-insensitive",
       compile_capabilities_check},
      {"host-path", "hostPath volumes by path glob, or mounted writable", compile_host_path_check},
      {"env-var", "Container env: literal secrets, Secret references, forbidden names",
       compile_env_var_check},
      {"configmap-data", "ConfigMap keys or values matching secret or PII patterns",
       compile_configmap_data_check},
      {"image-registry", "Images from registries outside an allow-list, or on a block-list", compile_image_registry_check},
      {"image-pull-policy", "imagePullPolicy, with the API default resolved, for all or mutable tags", compile_image_pull_policy_check},
      {"known-component", "A known-risky component identified by image, labels or ports", compile_known_component_check},
      {"command-word", "A word (e.g. sudo) in a container's command or args", compile_command_word_check},
      {"port-exposed", "Given container ports or Service ports exposed (e.g. SSH)", compile_port_exposed_check},
      {"resource-quantity", "Requests/limits of one resource: present, within bounds, or request == limit", compile_resource_quantity_check},
      {"volume-claim-templates", "StatefulSet volumeClaimTemplates: storage request, access modes", compile_volume_claim_templates_check},
      {"probe-handlers", "Probe handlers: liveness identical to readiness, probe port not declared", compile_probe_handlers_check},
      {"job-ttl", "A standalone Job without ttlSecondsAfterFinished", compile_job_ttl_check},
      {"restart-policy", "Pod restartPolicy valid for the controller kind", compile_restart_policy_check},
      {"replicas", "Replica counts of workloads and HorizontalPodAutoscalers", compile_replicas_check},
      {"pdb", "A PodDisruptionBudget's own policy: blocks all evictions, or no/both policies", compile_pdb_check},
      {"spread", "Replicas spread across nodes/zones: anti-affinity, topology spread constraints", compile_spread_check},
      {"update-strategy", "Deployment/StatefulSet/DaemonSet update strategy type", compile_update_strategy_check},
      {"priority-class", "Pod priorityClassName set, optionally from an accepted list", compile_priority_class_check},
      {"owner-reference", "An object without ownerReferences (e.g. a naked Pod)", compile_owner_reference_check},
      {"selector-match", "A controller's spec.selector matches its pod template labels", compile_selector_match_check},
      {"dns-config-option", "A resolver option (e.g. ndots) in the pod dnsConfig", compile_dns_config_option_check},
      {"label-matches-name", "A label (e.g. app.kubernetes.io/instance) equals metadata.name", compile_label_matches_name_check},
      {"duplicate-env", "Environment variable names repeated within a container", compile_duplicate_env_check},
      {"image-version", "Images of known components at versions with a known advisory", compile_image_version_check},
      {"image-expected-tag", "Images of a given name with a tag other than the expected one", compile_image_expected_tag_check},
      {"sorted-keys", "Mapping keys of the manifest not in alphabetical order", compile_sorted_keys_check},
      {"object-schema", "The API server's required fields and name/port formats for core kinds", compile_object_schema_check},
      {"subpath-mount", "volumeMounts with subPath on a cluster version affected by a subPath advisory", compile_subpath_mount_check},
      {"volume-source", "Pod volumes of given sources (secret, configMap, persistentVolumeClaim)", compile_volume_source_check},
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
      {"autoscaling", "Autoscalers and the workloads they scale: missing targets, static replicas, PDB vs minReplicas",
       nullptr, compile_autoscaling_check},
      {"reference-target", "References to objects missing from the input (Services, ports, Secrets, pods)",
       nullptr, compile_reference_target_check},
      {"sandbox-runtime", "Workloads in untrusted namespaces without a sandboxed runtimeClassName",
       nullptr, compile_sandbox_check},
      // Cluster-level templates: evaluated once on a cluster's facts.
      {"kubernetes-version", "The cluster's Kubernetes minor release is out of support or close to it",
       nullptr, nullptr, compile_kubernetes_version_check},
  };
  return kTemplates;
}

bool compile_rule(Rule& rule, const Node* params, std::string& error, RegexCache* regexes) {
  const CheckTemplate* tmpl = find_check_template(rule.check);
  if (!tmpl) {
    error = "unknown check template '" + rule.check + "'";
    return false;
  }
  rule.compiled.reset();
  rule.set_compiled.reset();
  rule.cluster_compiled.reset();
  if (tmpl->compile_set) {
    rule.set_compiled = tmpl->compile_set(Params(params, regexes), error);
  } else if (tmpl->compile_cluster) {
    rule.cluster_compiled = tmpl->compile_cluster(Params(params, regexes), error);
  } else {
    rule.compiled = tmpl->compile(Params(params, regexes), error);
  }
  if (!rule.compiled && !rule.set_compiled && !rule.cluster_compiled) {
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

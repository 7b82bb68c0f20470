#include "checks/registry.hpp"

#include <algorithm>
#include <climits>

#include "catalog/suggest.hpp"

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

namespace {

using T = ParamType;

constexpr ParamSpec containers_param(std::string_view default_value) {
  return {.name = "containers",
          .type = T::StringList,
          .description = "which containers of the pod to check",
          .allowed = "containers|initContainers|ephemeralContainers",
          .default_value = default_value};
}
constexpr std::string_view kAllKinds = "[initContainers, containers, ephemeralContainers]";

constexpr ParamSpec kComponentFlag[] = {
    {.name = "component", .description = "the control-plane component whose flags are read (its static Pod, "
                                         "kube-system Pod or kubeadm ClusterConfiguration section)",
     .allowed = "kube-apiserver|kube-controller-manager|kube-scheduler|etcd", .required = true},
    {.name = "mode", .description = "present / absent: the flag is (not) set; equals / not-equals: its effective "
                                    "value is (not) one of `value`/`values`; list-contains / list-not-contains: its comma "
                                    "list holds every / none of them; list-subset: every item is among them; min / max: "
                                    "an integer bound; duration-between: a Go duration within `values` [min, max] "
                                    "(unparseable, zero or negative fail); feature-gate: --feature-gates `gate` equals `value`; "
                                    "admission-enabled / admission-disabled: kube-apiserver's effective admission plugins "
                                    "(defaults of its release, enable, disable) hold / lack `values`",
     .allowed = "present|absent|equals|not-equals|list-contains|list-not-contains|list-subset|min|max|"
                "feature-gate|admission-enabled|admission-disabled|duration-between",
     .required = true},
    {.name = "flag", .description = "the flag's name, without dashes (flag or flags is required but for feature-gate and admission modes)"},
    {.name = "flags", .type = T::StringList, .description = "several flags, each judged alike (e.g. a certificate and its key)"},
    {.name = "value", .description = "the value compared with (a boolean compares as pflag parses booleans)"},
    {.name = "values", .type = T::StringList, .description = "several values: any of them (equals), all of them (list-contains, admission-enabled), none of them (not-equals, list-not-contains, admission-disabled), the allowed ones (list-subset)"},
    {.name = "default", .description = "the component's value when the flag is absent (unset: no value)"},
    {.name = "versionDefaults", .type = T::List,
     .description = "{before: \"1.N\", value} entries: the default of releases below 1.N, when the component's release is known"},
    {.name = "gate", .description = "mode feature-gate: the feature gate's name"},
    {.name = "unlessPresent", .type = T::StringList,
     .description = "flags that replace this one (e.g. authorization-config): when one is set, the rule does not apply"},
};
constexpr ParamSpec kPss[] = {
    {.name = "control", .description = "the upstream PSS control, evaluated exactly as the API server does",
     .allowed = "appArmorProfile|capabilities_baseline|hostNamespaces|hostPathVolumes|hostPorts|privileged|"
                "procMount|seccompProfile_baseline|seLinuxOptions|sysctls|windowsHostProcess|"
                "hostProbesAndHostLifecycle|restrictedVolumes|runAsNonRoot|allowPrivilegeEscalation|"
                "seccompProfile_restricted|capabilities_restricted|runAsUser|procMount_restricted",
     .required = true},
};
constexpr ParamSpec kField[] = {
    {.name = "scope", .description = "where `field` is read: each container, the pod spec, or the object",
     .allowed = "container|pod|object", .default_value = "container"},
    {.name = "field", .description = "dotted path of the field, relative to the scope", .required = true},
    {.name = "expect", .description = "the condition the field must meet to pass",
     .allowed = "present|absent|true|notTrue|false|in|notIn", .required = true},
    {.name = "values", .type = T::StringList, .description = "the values for expect in/notIn"},
    containers_param("[containers]"),
    {.name = "skipKinds", .type = T::StringList, .description = "kinds the rule does not apply to"},
    {.name = "podFallback", .type = T::Boolean,
     .description = "container scope: a field set on the pod's securityContext also counts",
     .default_value = "false"},
    {.name = "message", .description = "finding message; {who}, {value} and {field} are replaced",
     .default_value = "{who}: FIELD is {value}"},
};
constexpr ParamSpec kImage[] = {
    {.name = "mode", .description = "tag: no tag or :latest; digest: not pinned by digest; registry: outside allowedRegistries",
     .allowed = "tag|digest|registry", .required = true},
    {.name = "allowedRegistries", .type = T::StringList, .description = "registry hosts allowed (mode registry)"},
};
constexpr ParamSpec kRbacExclusions[] = {
    {.name = "excludeNamePrefixes", .type = T::StringList, .description = "objects whose name starts with one of these are skipped (kube-apiserver's own bootstrap roles and bindings always are)",
     .default_value = "[]"},
    {.name = "excludeNames", .type = T::StringList, .description = "objects with one of these names are skipped"},
};
constexpr ParamSpec kRbacRules[] = {
    {.name = "mode", .description = "access: the rules grant one of `grants`; wildcard: `*` in `fields`",
     .allowed = "access|wildcard", .default_value = "access"},
    {.name = "what", .description = "what the access allows, for the message"},
    {.name = "grants", .type = T::List, .description = "mode access: {resources, verbs} entries; resources as resource[/subresource][.group]"},
    {.name = "fields", .type = T::StringList, .description = "mode wildcard: the rule fields where `*` is reported",
     .allowed = "apiGroups|resources|verbs|nonResourceURLs", .default_value = "[resources, verbs]"},
    {.name = "matchWildcardResources", .type = T::Boolean, .description = "mode access: `*` resources count as a grant",
     .default_value = "false"},
    {.name = "resourceNames", .type = T::StringList, .description = "only rules naming these resourceNames (or none) count"},
    {.name = "namespaces", .type = T::StringList, .description = "only Roles in these namespaces count"},
    kRbacExclusions[0], kRbacExclusions[1],
};
constexpr ParamSpec kRbacBinding[] = {
    {.name = "what", .description = "what the binding allows, for the message"},
    {.name = "roles", .type = T::StringList, .description = "roleRef names reported (globs)"},
    {.name = "roleRefKinds", .type = T::StringList, .description = "roleRef kinds considered", .allowed = "Role|ClusterRole"},
    {.name = "subjects", .type = T::List, .description = "{kind, name} subjects reported; name is a glob, kind User, Group or ServiceAccount"},
    {.name = "allowedRoles", .type = T::StringList, .description = "roles these subjects may be bound to"},
    kRbacExclusions[0], kRbacExclusions[1],
};
constexpr ParamSpec kNetworkPolicy[] = {
    {.name = "mode", .description = "allow-all: a rule allows every peer; no-selectors: the policy selects nothing explicit",
     .allowed = "allow-all|no-selectors", .required = true},
    {.name = "requireEmptyPodSelector", .type = T::Boolean,
     .description = "mode allow-all: only policies that select every pod", .default_value = "true"},
};
constexpr ParamSpec kContainerPorts[] = {
    {.name = "mode", .description = "privileged: port numbers below `below`; names: invalid port names",
     .allowed = "privileged|names", .required = true},
    {.name = "below", .type = T::Integer, .description = "mode privileged: the first unprivileged port",
     .default_value = "1024", .min = 1, .max = 65536},
};
constexpr ParamSpec kServiceExposure[] = {
    {.name = "mode", .description = "external-endpoints: externalIPs/externalName; sensitive: a sensitive interface exposed",
     .allowed = "external-endpoints|sensitive", .required = true},
    {.name = "allowedExternalIPs", .type = T::StringList, .description = "mode external-endpoints: externalIPs that are fine"},
    {.name = "interfaces", .type = T::StringList, .description = "mode sensitive: interface names (matched against label values)"},
    {.name = "types", .type = T::StringList, .description = "mode sensitive: Service types that expose",
     .default_value = "[NodePort, LoadBalancer]"},
    {.name = "labelKeys", .type = T::StringList, .description = "mode sensitive: labels whose values name the interface",
     .default_value = "[app, app.kubernetes.io/name, k8s-app, app.kubernetes.io/component]"},
};
constexpr ParamSpec kImageLint[] = {
    {.name = "mode", .description = "root-user: config User empty, 0, root (any group); max-layers / max-size: over "
                                    "the limit; facts: every item of a file-fact list; history: history steps whose "
                                    "command matches pattern; minimal-base: a shell or package manager on a non-distroless base",
     .allowed = "root-user|max-layers|max-size|facts|history|minimal-base", .required = true},
    {.name = "maxLayers", .type = T::Integer, .description = "mode max-layers: the most layers allowed",
     .default_value = "20", .min = 1, .max = 1000},
    {.name = "maxMegabytes", .type = T::Integer, .description = "mode max-size: the most uncompressed MiB allowed",
     .default_value = "512", .min = 1, .max = 1048576},
    {.name = "field", .description = "mode facts: the list of file facts, e.g. spec.files.setuid"},
    {.name = "pattern", .description = "mode history: regular expression on each step's createdBy; group 1 is {name}"},
    {.name = "ignoreCase", .type = T::Boolean, .description = "mode history: case-insensitive pattern",
     .default_value = "false"},
    {.name = "message", .description = "facts: {path}, {name}, {detail} (the layer and step are appended); "
                                       "history: {command}, {name} (the step and layer are prefixed)"},
};
constexpr ParamSpec kPattern[] = {
    {.name = "field", .description = "dotted path; * walks every map value or list item"},
    {.name = "fields", .type = T::StringList, .description = "several such paths (field or fields is required)"},
    {.name = "expect", .description = "match: a value must match; noMatch: none may; absent: the field must not exist",
     .allowed = "match|noMatch|absent", .required = true},
    {.name = "keyPattern", .description = "regular expression on the map key"},
    {.name = "valuePattern", .description = "regular expression on the value"},
    {.name = "valueFormat", .description = "a built-in value format", .allowed = "label-value"},
    {.name = "ignoreCase", .type = T::Boolean, .description = "case-insensitive patterns", .default_value = "false"},
    {.name = "message", .description = "finding message; {field}, {key} and {value} are replaced",
     .default_value = "{field} is \"{value}\""},
};
constexpr ParamSpec kRequiredMetadata[] = {
    {.name = "labels", .type = T::List, .description = "required label keys, or {key, values} with the allowed values"},
    {.name = "annotations", .type = T::List, .description = "required annotation keys, or {key, values}"},
    {.name = "excludeNames", .type = T::StringList, .description = "object names the rule skips"},
};
constexpr ParamSpec kNamespacePlacement[] = {
    {.name = "mode", .description = "default: in the default namespace; system: in a system namespace",
     .allowed = "default|system", .required = true},
    {.name = "flagUnset", .type = T::Boolean, .description = "mode default: an object without a namespace counts as default",
     .default_value = "true"},
    {.name = "namespaces", .type = T::StringList, .description = "mode system: the system namespaces",
     .default_value = "[kube-system]"},
    {.name = "exemptLabels", .type = T::StringList, .description = "mode system: labels (key or key=value) of cluster components that belong there"},
};
constexpr ParamSpec kDeprecatedApi[] = {
    {.name = "apis", .type = T::List, .description = "{apiVersion, kinds, deprecated, removed, replacement, note} entries",
     .required = true},
    {.name = "kubernetesVersion", .description = "the release judged against (1.N), or latest", .default_value = "latest"},
};
constexpr ParamSpec kSecurity[] = {
    {.name = "control", .description = "the pod-security control",
     .allowed = "hostAliases|hostUsers|privilegeEscalation|runAsRoot|minId|rootGroup|securityContextMissing|"
                "linuxHardening|appArmorMissing|seccompAnnotationUnconfined|seccompAnnotationDeprecated|"
                "automountServiceAccountToken|defaultServiceAccount|deprecatedServiceAccountField",
     .required = true},
    containers_param(kAllKinds),
    {.name = "field", .description = "control minId: the id field", .allowed = "runAsUser|runAsGroup"},
    {.name = "threshold", .type = T::Integer, .description = "control minId: the lowest id accepted", .min = 0},
};
constexpr ParamSpec kCapabilities[] = {
    {.name = "mode", .description = "add-forbidden: adds one of `capabilities`; add-allowed-only: adds one not in it; drop-required: does not drop all of it",
     .allowed = "add-forbidden|add-allowed-only|drop-required", .required = true},
    {.name = "capabilities", .type = T::StringList, .description = "capability names, with or without CAP_, any case"},
    containers_param(kAllKinds),
};
constexpr ParamSpec kHostPath[] = {
    {.name = "mode", .description = "paths: hostPath matching `paths`; writable: any hostPath mounted writable",
     .allowed = "paths|writable", .required = true},
    {.name = "paths", .type = T::StringList, .description = "mode paths: absolute path globs (* within a segment, ** any depth)"},
    {.name = "description", .description = "what the paths are, for the message", .default_value = "a sensitive host path"},
};
constexpr ParamSpec kEnvVar[] = {
    {.name = "mode", .description = "literal: secret-like literal values; secret-ref: Secrets read into env; name: forbidden names",
     .allowed = "literal|secret-ref|name", .required = true},
    {.name = "names", .type = T::List, .description = "name patterns (regex, or {name, pattern, keywords})"},
    {.name = "ignoreNames", .type = T::List, .description = "name patterns that are never reported"},
    {.name = "values", .type = T::List, .description = "value patterns"},
    {.name = "ignoreValues", .type = T::List, .description = "value patterns that are never reported"},
};
constexpr ParamSpec kConfigMapData[] = {
    {.name = "keys", .type = T::List, .description = "key patterns (regex, or {name, pattern, keywords})"},
    {.name = "ignoreKeys", .type = T::List, .description = "key patterns that are never reported"},
    {.name = "values", .type = T::List, .description = "value patterns"},
    {.name = "ignoreValues", .type = T::List, .description = "value patterns that are never reported"},
    {.name = "description", .description = "what was found, for the message", .default_value = "sensitive content"},
};
constexpr ParamSpec kImageRegistry[] = {
    {.name = "mode", .description = "allow: images outside allowedRegistries; block: images in blockedRegistries",
     .allowed = "allow|block", .required = true},
    {.name = "allowedRegistries", .type = T::StringList, .description = "mode allow: registry hosts or host/path prefixes"},
    {.name = "blockedRegistries", .type = T::StringList, .description = "mode block: registry hosts or host/path prefixes"},
};
constexpr ParamSpec kImagePullPolicy[] = {
    {.name = "mode", .description = "always: every image; mutable-tag: only images with a mutable tag",
     .allowed = "always|mutable-tag", .required = true},
};
constexpr ParamSpec kKnownComponent[] = {
    {.name = "component", .description = "display name of the component", .required = true},
    {.name = "images", .type = T::StringList, .description = "image globs"},
    {.name = "labels", .type = T::StringList, .description = "label sets key=value[,key=value...]"},
    {.name = "ports", .type = T::IntegerList, .description = "container ports", .min = 0, .max = 65535},
};
constexpr ParamSpec kCommandWord[] = {
    {.name = "words", .type = T::StringList, .description = "words reported in command or args", .required = true},
    containers_param(kAllKinds),
};
constexpr ParamSpec kPortExposed[] = {
    {.name = "containerPorts", .type = T::IntegerList, .description = "container ports reported", .min = 0, .max = 65535},
    {.name = "servicePorts", .type = T::IntegerList, .description = "Service ports reported", .min = 0, .max = 65535},
    {.name = "service", .description = "what listens there, for the message", .default_value = "a sensitive service"},
};
constexpr ParamSpec kResourceQuantity[] = {
    {.name = "resource", .description = "the resource (cpu, memory, ephemeral-storage, ...)", .required = true},
    {.name = "mode", .description = "present: set; bounds: within the bounds; equal: request == limit",
     .allowed = "present|bounds|equal", .required = true},
    {.name = "fields", .type = T::StringList, .description = "mode present: which must be set",
     .allowed = "requests|limits", .default_value = "[requests, limits]"},
    {.name = "requestMin", .description = "mode bounds: a quantity such as 100m or 1Gi"},
    {.name = "requestMax", .description = "mode bounds: a quantity"},
    {.name = "limitMin", .description = "mode bounds: a quantity"},
    {.name = "limitMax", .description = "mode bounds: a quantity"},
    containers_param("[containers]"),
};
constexpr ParamSpec kVolumeClaimTemplates[] = {
    {.name = "mode", .description = "storage-request: no storage request; access-modes: a mode outside allowedAccessModes",
     .allowed = "storage-request|access-modes", .required = true},
    {.name = "allowedAccessModes", .type = T::StringList, .description = "mode access-modes: the accepted access modes"},
};
constexpr ParamSpec kProbeHandlers[] = {
    {.name = "mode", .description = "identical: liveness == readiness; port: a probe port the container does not declare",
     .allowed = "identical|port", .required = true},
    {.name = "probes", .type = T::StringList, .description = "mode port: the probes checked",
     .allowed = "livenessProbe|readinessProbe|startupProbe", .default_value = "[livenessProbe, readinessProbe, startupProbe]"},
    containers_param("[containers]"),
};
constexpr ParamSpec kRestartPolicy[] = {
    {.name = "jobPolicies", .type = T::StringList, .description = "restartPolicy values valid for Jobs and CronJobs",
     .default_value = "[OnFailure, Never]"},
    {.name = "controllerPolicies", .type = T::StringList, .description = "restartPolicy values valid for other controllers",
     .default_value = "[Always]"},
};
constexpr ParamSpec kReplicas[] = {
    {.name = "mode", .description = "min: replicas below min; hpa-min-equals-max: an autoscaler that cannot scale",
     .allowed = "min|hpa-min-equals-max", .default_value = "min"},
    {.name = "min", .type = T::Integer, .description = "mode min: the fewest replicas accepted", .default_value = "2", .min = 0},
};
constexpr ParamSpec kPdb[] = {
    {.name = "mode", .description = "blocks-evictions: no pod can ever be evicted; policy: none or both of minAvailable/maxUnavailable",
     .allowed = "blocks-evictions|policy", .required = true},
};
constexpr ParamSpec kSpread[] = {
    {.name = "mode", .description = "anti-affinity / topology-spread: replicas not spread; topology-spread-valid: invalid constraints",
     .allowed = "anti-affinity|topology-spread|topology-spread-valid", .required = true},
    {.name = "minReplicas", .type = T::Integer, .description = "workloads with fewer replicas are not checked",
     .default_value = "2", .min = 0},
    {.name = "topologyKey", .description = "the node label spread over", .default_value = "kubernetes.io/hostname"},
    {.name = "acceptTopologySpread", .type = T::Boolean,
     .description = "mode anti-affinity: topologySpreadConstraints count as spreading", .default_value = "true"},
};
constexpr ParamSpec kUpdateStrategy[] = {
    {.name = "allowed", .type = T::StringList, .description = "accepted strategy types", .default_value = "[RollingUpdate]"},
};
constexpr ParamSpec kPriorityClass[] = {
    {.name = "accepted", .type = T::StringList, .description = "accepted priorityClassName values; empty = any non-empty"},
};
constexpr ParamSpec kDnsConfigOption[] = {
    {.name = "name", .description = "the resolver option, e.g. ndots", .required = true},
    {.name = "value", .description = "the value required; empty = the option must be set"},
};
constexpr ParamSpec kLabelMatchesName[] = {
    {.name = "label", .description = "the label that must equal metadata.name", .required = true},
};
constexpr ParamSpec kDuplicateEnv[] = {
    containers_param(kAllKinds),
};
constexpr ParamSpec kImageVersion[] = {
    {.name = "components", .type = T::List,
     .description = "{component, images, affected: [{from, below}], advisory} entries", .required = true},
};
constexpr ParamSpec kImageExpectedTag[] = {
    {.name = "images", .type = T::StringList, .description = "name:tag of each image and its expected tag", .required = true},
};
constexpr ParamSpec kSubpathMount[] = {
    {.name = "fixedIn", .type = T::StringList, .description = "the patch releases with the fix, one per minor", .required = true},
    {.name = "advisory", .description = "the advisory, for the message", .required = true},
    {.name = "kubernetesVersion", .description = "the cluster's version 1.N.P; empty = the scanned cluster's, else unknown"},
};
constexpr ParamSpec kVolumeSource[] = {
    {.name = "sources", .type = T::StringList, .description = "volume sources reported (secret, configMap, persistentVolumeClaim, ...)",
     .required = true},
};
constexpr ParamSpec kNetworkCoverage[] = {
    {.name = "require", .description = "any: some policy selects the pod; both: for ingress and for egress",
     .allowed = "any|both", .default_value = "any"},
};
constexpr ParamSpec kNamespacePolicy[] = {
    {.name = "require", .description = "what every namespace with workloads needs",
     .allowed = "default-deny-ingress|default-deny-egress|limit-range|resource-quota|metadata-egress-blocked",
     .required = true},
};
constexpr ParamSpec kSelectorTarget[] = {
    {.name = "kind", .description = "whose selector is checked", .allowed = "Service|NetworkPolicy", .required = true},
};
constexpr ParamSpec kPdbCoverage[] = {
    {.name = "minReplicas", .type = T::Integer, .description = "workloads with fewer replicas are not checked",
     .default_value = "2", .min = 1},
};
constexpr ParamSpec kServiceAccount[] = {
    {.name = "mode", .description = "automount: token mounted; missing: names a ServiceAccount not in the input; bound-and-mounted: a token with RBAC bindings mounted",
     .allowed = "automount|missing|bound-and-mounted", .required = true},
};
constexpr ParamSpec kRbacGrant[] = {
    {.name = "subject", .description = "report on the binding, or on each workload running as the ServiceAccount",
     .allowed = "binding|workload", .required = true},
    {.name = "permissions", .type = T::StringList, .description = "the dangerous permissions reported",
     .allowed = "cluster-admin|secrets-read|pod-exec|escalate|impersonate|nodes-proxy|create-pods|token-create",
     .required = true},
    {.name = "ignoreNamePrefixes", .type = T::StringList, .description = "bindings whose name starts with one of these are skipped (kube-apiserver's own bootstrap bindings always are)",
     .default_value = "[]"},
};
constexpr ParamSpec kAutoscaling[] = {
    {.name = "mode", .description = "target-missing, static-replicas, replicas-min or pdb-above-min",
     .allowed = "target-missing|static-replicas|replicas-min|pdb-above-min", .required = true},
    {.name = "min", .type = T::Integer, .description = "mode replicas-min: the lowest minReplicas accepted",
     .default_value = "2", .min = 1},
    {.name = "kinds", .type = T::StringList, .description = "the workload kinds considered", .default_value = "[Deployment]"},
};
constexpr ParamSpec kReferenceTarget[] = {
    {.name = "reference", .description = "the kind of reference checked",
     .allowed = "statefulset-service|network-policy-peer|service-target-port|ingress-backend|route-backend|"
                "service-monitor|env-source|image-signature-policy|exposed-workload",
     .required = true},
};
constexpr ParamSpec kSandbox[] = {
    {.name = "namespaceLabel", .description = "the Namespace label marking untrusted tenants", .default_value = "kguard.io/tenancy"},
    {.name = "namespaceLabelValues", .type = T::StringList, .description = "its values that mean untrusted",
     .default_value = "[untrusted, multi-tenant]"},
    {.name = "runtimeClasses", .type = T::StringList, .description = "sandboxed runtimeClassName values",
     .default_value = "[gvisor, runsc, kata, kata-qemu, kata-clh, kata-fc, kata-containers]"},
    {.name = "mode", .description = "runtime-class: the pod names a sandboxed runtimeClassName; handler: the "
     "RuntimeClass it names exists and its handler is a sandbox", .allowed = "runtime-class|handler",
     .default_value = "runtime-class"},
    {.name = "handlers", .type = T::StringList, .description = "mode handler: sandboxed CRI handlers",
     .default_value = "[runsc, gvisor, kata, kata-qemu, kata-clh, kata-fc, kata-runtime]"},
};
constexpr ParamSpec kServiceMesh[] = {
    {.name = "mode", .description = "istio-mtls: effective PeerAuthentication mode of each injected workload; istio-default-deny: namespaces in the mesh without a deny-by-default AuthorizationPolicy; istio-injection / linkerd-injection: namespaces and workloads without the proxy; linkerd-default-policy: meshed workloads whose default inbound policy admits unauthenticated clients; selects-nothing: mesh policies whose selector matches no workload",
     .allowed = "istio-mtls|istio-default-deny|istio-injection|linkerd-default-policy|linkerd-injection|selects-nothing",
     .required = true},
    {.name = "rootNamespace", .description = "Istio's root namespace (meshConfig.rootNamespace): its policies without a selector are mesh-wide",
     .default_value = "istio-system"},
    {.name = "linkerdDefaultPolicy", .description = "the Linkerd control plane's default inbound policy (proxy.defaultInboundPolicy)",
     .allowed = "all-unauthenticated|all-authenticated|cluster-unauthenticated|cluster-authenticated|deny|audit",
     .default_value = "all-unauthenticated"},
    {.name = "systemNamespaces", .type = T::StringList, .description = "namespaces the namespace verdicts leave out",
     .default_value = "[kube-system, kube-public, kube-node-lease, istio-system, linkerd, linkerd-viz, linkerd-cni]"},
};
constexpr ParamSpec kMeshObject[] = {
    {.name = "mode", .description = "destination-rule-tls: DestinationRule tls.mode DISABLE or SIMPLE toward an in-mesh host; istio-allow-all: an ALLOW AuthorizationPolicy rule {}; linkerd-unauthenticated: a Linkerd authorization that requires no mesh identity",
     .allowed = "destination-rule-tls|istio-allow-all|linkerd-unauthenticated", .required = true},
};
constexpr ParamSpec kKubernetesVersion[] = {
    {.name = "releases", .description = "the catalog's release table", .required = true},
    {.name = "warnDays", .type = T::Integer, .description = "days before end of support that already fail",
     .default_value = "90", .min = 0, .max = 3650},
};
constexpr ParamSpec kAuditPolicy[] = {
    {.name = "mode", .description = "valid: kube-apiserver would refuse the Policy; max-level: `requests` logged above "
                                    "`level`; min-level: `requests` logged below their level or with a needed stage "
                                    "omitted; catch-all: no rule matching every request at `level` or more; "
                                    "wrong-group: resources under a group that does not serve them; shadowed: rules "
                                    "an earlier rule makes unreachable",
     .allowed = "valid|max-level|min-level|catch-all|wrong-group|shadowed", .required = true},
    {.name = "level", .description = "max-level: the highest level allowed; min-level, catch-all: the lowest needed (a requests entry may set its own)",
     .allowed = "None|Metadata|Request|RequestResponse", .default_value = "Metadata"},
    {.name = "stages", .type = T::StringList, .description = "min-level: stages that must not be omitted",
     .allowed = "RequestReceived|ResponseStarted|ResponseComplete|Panic"},
    {.name = "requests", .type = T::List,
     .description = "max-level, min-level: {verbs, resources, level, stages} entries; resources as "
                    "resource[/subresource][.group]; level and stages default to the parameters"},
};

constexpr ParamSpec kNodeSetting[] = {
    {.name = "component", .description = "whose effective configuration (kind: NodeConfig, built by kguard node)",
     .allowed = "kubelet|kubeProxy", .default_value = "kubelet"},
    {.name = "setting", .type = T::StringList, .description = "dotted field of the effective config, e.g. "
     "authentication.anonymous.enabled (several: each must pass)", .required = true},
    {.name = "mode", .description = "equals / not-equals: (not) one of `values`; present / absent: set or not; "
     "min / max: a number against `number`; non-zero-duration: not a zero Go duration; subset: every list item "
     "in `values`; matches: the value matches `pattern`", .allowed = "equals|not-equals|present|absent|min|max|"
     "non-zero-duration|subset|matches", .required = true},
    {.name = "values", .type = T::StringList, .description = "modes equals, not-equals, subset (case-insensitive)"},
    {.name = "number", .type = T::Integer, .description = "modes min and max"},
    {.name = "pattern", .description = "mode matches: regular expression on the value"},
    {.name = "default", .description = "the value when the setting is unset (e.g. a feature gate's default)"},
    {.name = "unlessSetting", .description = "passes when this setting equals unlessValue"},
    {.name = "unlessValue", .description = "see unlessSetting"},
};
constexpr ParamSpec kNodeFile[] = {
    {.name = "role", .description = "the files judged (spec.files[].role of kind: NodeConfig)",
     .allowed = "apiserverManifest|controllerManagerManifest|schedulerManifest|etcdManifest|cniConfig|etcdDataDir|"
                "adminKubeconfig|schedulerKubeconfig|controllerManagerKubeconfig|pkiDir|pkiCert|pkiKey|"
                "kubeletService|proxyKubeconfig|kubeletKubeconfig|clientCA|kubeletConfig",
     .required = true},
    {.name = "maxMode", .description = "the most permissive mode allowed, octal (600)"},
    {.name = "owners", .type = T::StringList, .description = "accepted USER:GROUP owners (names from the node's "
     "/etc/passwd and /etc/group, or numeric ids; root also matches id 0)"},
};
constexpr ParamSpec kNodeEtcdCa[] = {
    {.name = "flags", .type = T::StringList, .description = "etcd's CA flags judged (default both): each file, "
     "compared by certificate and public key with the cluster CA, must not be it", .allowed = "trusted-ca-file|peer-trusted-ca-file"},
};

}  // namespace

// The one list of check templates, with their declared parameters. Add a
// template here and in registry.hpp.
// encryption_checks.cpp (issue 20): the kube-apiserver's EncryptionConfiguration.
constexpr ParamSpec kEncryptionConfig[] = {
    {.name = "mode", .description = "what to find in the EncryptionConfiguration",
     .allowed = "resources-not-covered|identity-first|identity-fallback|key-in-config|weak-provider|kms-legacy|kms-timeout",
     .required = true},
    {.name = "resources", .type = T::StringList,
     .description = "resources-not-covered: the resources (resource or resource.group) that must be named by an entry",
     .default_value = "[secrets]"},
    {.name = "maxTimeoutSeconds", .type = T::Integer,
     .description = "kms-timeout: the longest kms timeout accepted, in seconds", .default_value = "10", .min = 1,
     .max = 3600},
};
constexpr ParamSpec kApiServerEncryption[] = {
    {.name = "mode", .description = "automatic-reload: encryption configured without "
                                    "--encryption-provider-config-automatic-reload; liveness-probe: encryption "
                                    "configured and a liveness probe that includes the KMS health check",
     .allowed = "automatic-reload|liveness-probe", .required = true},
};

std::span<const CheckTemplate> check_templates() {
  static const CheckTemplate kTemplates[] = {
      {"pss", "A Pod Security Standards control, evaluated exactly as upstream",
       compile_pss_check, nullptr, nullptr, kPss},
      {"field", "A condition on a field of each container, the pod spec or the object",
       compile_field_check, nullptr, nullptr, kField},
      {"image", "Image reference hygiene: tag, digest, registry", compile_image_check, nullptr, nullptr, kImage},
      {"image-lint", "Hardening of a container image (kind: Image, built by kguard image): user, size, files, history",
       compile_image_lint_check, nullptr, nullptr, kImageLint},
      {"rbac-rules", "A Role's or ClusterRole's own rules grant an access, or use wildcards",
       compile_rbac_rules_check, nullptr, nullptr, kRbacRules},
      {"rbac-binding", "A (Cluster)RoleBinding's own roleRef and subjects",
       compile_rbac_binding_check, nullptr, nullptr, kRbacBinding},
      {"network-policy", "A NetworkPolicy's own spec: allow-all rules, no selectors",
       compile_network_policy_check, nullptr, nullptr, kNetworkPolicy},
      {"container-ports", "Declared container ports: privileged numbers, invalid names",
       compile_container_ports_check, nullptr, nullptr, kContainerPorts},
      {"service-exposure", "A Service's externalIPs/externalName, or a sensitive interface exposed",
       compile_service_exposure_check, nullptr, nullptr, kServiceExposure},
      {"node-setting", "A setting of the kubelet's or kube-proxy's effective configuration (kind: NodeConfig, built by kguard node)",
       compile_node_setting_check, nullptr, nullptr, kNodeSetting},
      {"node-file", "Mode and owner of a node's files of one role (kind: NodeConfig, built by kguard node)",
       compile_node_file_check, nullptr, nullptr, kNodeFile},
      {"node-etcd-ca", "etcd's trusted CA files against the cluster CA, compared by certificate and key (kind: NodeConfig, built by kguard node)",
       compile_node_etcd_ca_check, nullptr, nullptr, kNodeEtcdCa},
      {"pattern", "Values or keys reached by a field path with * must (not) match a regex",
       compile_pattern_check, nullptr, nullptr, kPattern},
      {"required-metadata", "Required labels and annotations, optionally with allowed values",
       compile_required_metadata_check, nullptr, nullptr, kRequiredMetadata},
      {"namespace-placement", "Objects in the default namespace or in kube-system",
       compile_namespace_placement_check, nullptr, nullptr, kNamespacePlacement},
      {"deprecated-api", "apiVersions deprecated or removed by a Kubernetes release",
       compile_deprecated_api_check, nullptr, nullptr, kDeprecatedApi},
      {"psp", "A PodSecurityPolicy's own permissive settings", compile_psp_check},
      {"security", "A named pod-security control beyond PSS",
       compile_security_check, nullptr, nullptr, kSecurity},
      {"capabilities", "Linux capabilities added or not dropped, case-insensitive",
       compile_capabilities_check, nullptr, nullptr, kCapabilities},
      {"host-path", "hostPath volumes by path glob, or mounted writable", compile_host_path_check,
       nullptr, nullptr, kHostPath},
      {"env-var", "Container env: literal secrets, Secret references, forbidden names",
       compile_env_var_check, nullptr, nullptr, kEnvVar},
      {"configmap-data", "ConfigMap keys or values matching secret or PII patterns",
       compile_configmap_data_check, nullptr, nullptr, kConfigMapData},
      {"image-registry", "Images from registries outside an allow-list, or on a block-list", compile_image_registry_check, nullptr, nullptr, kImageRegistry},
      {"image-pull-policy", "imagePullPolicy, with the API default resolved, for all or mutable tags", compile_image_pull_policy_check, nullptr, nullptr, kImagePullPolicy},
      {"known-component", "A known-risky component identified by image, labels or ports", compile_known_component_check, nullptr, nullptr, kKnownComponent},
      {"command-word", "A word (e.g. sudo) in a container's command or args", compile_command_word_check, nullptr, nullptr, kCommandWord},
      {"port-exposed", "Given container ports or Service ports exposed (e.g. SSH)", compile_port_exposed_check, nullptr, nullptr, kPortExposed},
      {"resource-quantity", "Requests/limits of one resource: present, within bounds, or request == limit", compile_resource_quantity_check, nullptr, nullptr, kResourceQuantity},
      {"volume-claim-templates", "StatefulSet volumeClaimTemplates: storage request, access modes", compile_volume_claim_templates_check, nullptr, nullptr, kVolumeClaimTemplates},
      {"probe-handlers", "Probe handlers: liveness identical to readiness, probe port not declared", compile_probe_handlers_check, nullptr, nullptr, kProbeHandlers},
      {"job-ttl", "A standalone Job without ttlSecondsAfterFinished", compile_job_ttl_check},
      {"restart-policy", "Pod restartPolicy valid for the controller kind", compile_restart_policy_check, nullptr, nullptr, kRestartPolicy},
      {"replicas", "Replica counts of workloads and HorizontalPodAutoscalers", compile_replicas_check, nullptr, nullptr, kReplicas},
      {"pdb", "A PodDisruptionBudget's own policy: blocks all evictions, or no/both policies", compile_pdb_check, nullptr, nullptr, kPdb},
      {"spread", "Replicas spread across nodes/zones: anti-affinity, topology spread constraints", compile_spread_check, nullptr, nullptr, kSpread},
      {"update-strategy", "Deployment/StatefulSet/DaemonSet update strategy type", compile_update_strategy_check, nullptr, nullptr, kUpdateStrategy},
      {"priority-class", "Pod priorityClassName set, optionally from an accepted list", compile_priority_class_check, nullptr, nullptr, kPriorityClass},
      {"owner-reference", "An object without ownerReferences (e.g. a naked Pod)", compile_owner_reference_check},
      {"selector-match", "A controller's spec.selector matches its pod template labels", compile_selector_match_check},
      {"dns-config-option", "A resolver option (e.g. ndots) in the pod dnsConfig", compile_dns_config_option_check, nullptr, nullptr, kDnsConfigOption},
      {"label-matches-name", "A label (e.g. app.kubernetes.io/instance) equals metadata.name", compile_label_matches_name_check, nullptr, nullptr, kLabelMatchesName},
      {"duplicate-env", "Environment variable names repeated within a container", compile_duplicate_env_check, nullptr, nullptr, kDuplicateEnv},
      {"image-version", "Images of known components at versions with a known advisory", compile_image_version_check, nullptr, nullptr, kImageVersion},
      {"image-expected-tag", "Images of a given name with a tag other than the expected one", compile_image_expected_tag_check, nullptr, nullptr, kImageExpectedTag},
      {"sorted-keys", "Mapping keys of the manifest not in alphabetical order", compile_sorted_keys_check},
      {"object-schema", "The API server's required fields and name/port formats for core kinds", compile_object_schema_check},
      {"subpath-mount", "volumeMounts with subPath on a cluster version affected by a subPath advisory", compile_subpath_mount_check, nullptr, nullptr, kSubpathMount},
      {"mesh-object", "Service-mesh objects that turn mTLS or authorization off (DestinationRule, AuthorizationPolicy, ServerAuthorization)",
       compile_mesh_object_check, nullptr, nullptr, kMeshObject},
      {"volume-source", "Pod volumes of given sources (secret, configMap, persistentVolumeClaim)", compile_volume_source_check, nullptr, nullptr, kVolumeSource},
      {"encryption-config", "The kube-apiserver's EncryptionConfiguration: resources covered, providers, keys, KMS version and timeout",
       compile_encryption_config_check, nullptr, nullptr, kEncryptionConfig},
      {"apiserver-encryption", "kube-apiserver with encryption at rest: configuration reload, KMS in the liveness probe",
       compile_apiserver_encryption_check, nullptr, nullptr, kApiServerEncryption},
      {"component-flag", "A flag of kube-apiserver, kube-controller-manager, kube-scheduler or etcd (static Pod, kube-system Pod, kubeadm ClusterConfiguration), with the component's default when absent",
       compile_component_flag_check, nullptr, nullptr, kComponentFlag},
      {"audit-policy", "An audit.k8s.io Policy, evaluated as kube-apiserver does: refusals, levels, stages, groups, shadowed rules",
       compile_audit_policy_check, nullptr, nullptr, kAuditPolicy},
      // Set-level templates: evaluated once over the whole input.
      {"network-policy-coverage", "Pods that no NetworkPolicy of their namespace selects",
       nullptr, compile_network_coverage_check, nullptr, kNetworkCoverage},
      {"namespace-policy", "Per-namespace requirements: default-deny policies, LimitRange, ResourceQuota",
       nullptr, compile_namespace_policy_check, nullptr, kNamespacePolicy},
      {"selector-target", "Services and NetworkPolicies whose selector matches no workload",
       nullptr, compile_selector_target_check, nullptr, kSelectorTarget},
      {"pdb-coverage", "Replicated workloads without a PodDisruptionBudget", nullptr,
       compile_pdb_coverage_check, nullptr, kPdbCoverage},
      {"service-account", "ServiceAccount token automounting and references, resolved across objects",
       nullptr, compile_service_account_check, nullptr, kServiceAccount},
      {"rbac-grant", "Bindings and workloads granted dangerous permissions, with roles resolved across objects and aggregation",
       nullptr, compile_rbac_grant_check, nullptr, kRbacGrant},
      {"autoscaling", "Autoscalers and the workloads they scale: missing targets, static replicas, PDB vs minReplicas",
       nullptr, compile_autoscaling_check, nullptr, kAutoscaling},
      {"reference-target", "References to objects missing from the input (Services, ports, Secrets, pods)",
       nullptr, compile_reference_target_check, nullptr, kReferenceTarget},
      {"sandbox-runtime", "Workloads in untrusted namespaces without a sandboxed runtimeClassName",
       nullptr, compile_sandbox_check, nullptr, kSandbox},
      {"service-mesh", "Istio and Linkerd posture: effective mTLS, default-deny authorization, sidecar injection, default inbound policy, policies selecting nothing",
       nullptr, compile_service_mesh_check, nullptr, kServiceMesh},
      // Cluster-level templates: evaluated once on a cluster's facts.
      {"kubernetes-version", "The cluster's Kubernetes minor release is out of support or close to it",
       nullptr, nullptr, compile_kubernetes_version_check, kKubernetesVersion},
  };
  return kTemplates;
}

std::string_view to_string(ParamType t) {
  switch (t) {
    case ParamType::String: return "string";
    case ParamType::Integer: return "integer";
    case ParamType::Boolean: return "boolean";
    case ParamType::StringList: return "list of strings";
    case ParamType::IntegerList: return "list of integers";
    case ParamType::List: return "list";
  }
  return "string";
}

namespace {

std::vector<std::string_view> split_allowed(std::string_view allowed) {
  std::vector<std::string_view> out;
  while (!allowed.empty()) {
    const auto bar = allowed.find('|');
    out.push_back(allowed.substr(0, bar));
    if (bar == std::string_view::npos) break;
    allowed.remove_prefix(bar + 1);
  }
  return out;
}

std::string join_allowed(const std::vector<std::string_view>& values) {
  std::string s;
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i) s += i + 1 == values.size() ? " or " : ", ";
    s += values[i];
  }
  return s;
}

// One scalar against the declaration; empty when fine.
std::string check_scalar(const ParamSpec& spec, const Node* n, bool integer) {
  if (!n->is_scalar()) return integer ? "must be an integer" : "must be a string";
  if (integer) {
    auto v = n->as_int();
    if (!v) return "must be an integer, not '" + std::string(n->text()) + "'";
    if (*v < spec.min || *v > spec.max) {
      std::string range = spec.max == INT64_MAX ? "at least " + std::to_string(spec.min)
                          : spec.min == INT64_MIN ? "at most " + std::to_string(spec.max)
                                                  : "between " + std::to_string(spec.min) + " and " +
                                                        std::to_string(spec.max);
      return "must be " + range + ", not " + std::to_string(*v);
    }
    return {};
  }
  if (spec.allowed.empty()) return {};
  const auto values = split_allowed(spec.allowed);
  const std::string_view text = n->text();
  if (std::find(values.begin(), values.end(), text) != values.end()) return {};
  return "'" + std::string(text) + "' is not one of " + join_allowed(values) + did_you_mean(text, values);
}

}  // namespace

std::vector<ParamProblem> validate_params(const CheckTemplate& tmpl, const Node* params) {
  std::vector<ParamProblem> out;
  if (!params || params->is_null()) {
    for (const ParamSpec& s : tmpl.params)
      if (s.required) out.push_back({params, std::string(s.name) + ": required"});
    return out;
  }
  if (!params->is_map()) {
    out.push_back({params, "must be a mapping of parameter names to values"});
    return out;
  }
  std::vector<std::string_view> names;
  for (const ParamSpec& s : tmpl.params) names.push_back(s.name);
  for (const MapEntry& e : params->entries()) {
    const std::string_view key = e.key->text();
    const ParamSpec* spec = nullptr;
    for (const ParamSpec& s : tmpl.params)
      if (s.name == key) spec = &s;
    if (!spec) {
      out.push_back({e.key, std::string(key) + ": unknown parameter of template '" + std::string(tmpl.name) + "'" +
                                (names.empty() ? std::string(" (it takes none)")
                                               : did_you_mean(key, names))});
      continue;
    }
    const Node* v = e.value;
    const std::string name(key);
    if (v->is_null()) {
      if (spec->required) out.push_back({v, name + ": required"});
      continue;
    }
    switch (spec->type) {
      case ParamType::String:
      case ParamType::Integer:
        if (auto why = check_scalar(*spec, v, spec->type == ParamType::Integer); !why.empty())
          out.push_back({v, name + ": " + why});
        break;
      case ParamType::Boolean:
        if (!v->as_bool()) out.push_back({v, name + ": must be true or false"});
        break;
      case ParamType::StringList:
      case ParamType::IntegerList: {
        const bool integer = spec->type == ParamType::IntegerList;
        if (v->is_map()) {
          out.push_back({v, name + ": must be a " + std::string(to_string(spec->type))});
          break;
        }
        if (v->is_scalar()) {
          if (auto why = check_scalar(*spec, v, integer); !why.empty()) out.push_back({v, name + ": " + why});
          break;
        }
        std::size_t i = 0;
        for (const Node* item : v->items()) {
          if (auto why = check_scalar(*spec, item, integer); !why.empty())
            out.push_back({item, name + "[" + std::to_string(i) + "]: " + why});
          ++i;
        }
        break;
      }
      case ParamType::List:
        if (!v->is_seq()) out.push_back({v, name + ": must be a list"});
        break;
    }
  }
  for (const ParamSpec& s : tmpl.params)
    if (s.required && !params->get(s.name)) out.push_back({params, std::string(s.name) + ": required"});
  return out;
}

bool compile_rule(Rule& rule, const Node* params, std::vector<ParamProblem>& problems,
                  RegexCache* regexes) {
  const CheckTemplate* tmpl = find_check_template(rule.check);
  if (!tmpl) {
    problems.push_back({params, "unknown check template '" + rule.check + "'"});
    return false;
  }
  rule.compiled.reset();
  rule.set_compiled.reset();
  rule.cluster_compiled.reset();
  problems = validate_params(*tmpl, params);
  if (!problems.empty()) return false;
  std::string error;
  if (tmpl->compile_set) {
    rule.set_compiled = tmpl->compile_set(Params(params, regexes), error);
  } else if (tmpl->compile_cluster) {
    rule.cluster_compiled = tmpl->compile_cluster(Params(params, regexes), error);
  } else {
    rule.compiled = tmpl->compile(Params(params, regexes), error);
  }
  if (!rule.compiled && !rule.set_compiled && !rule.cluster_compiled) {
    if (error.empty()) error = "invalid parameters";
    // Templates name the parameter first ("mode must be ..."): point at it.
    const Node* at = params;
    for (const ParamSpec& s : tmpl->params) {
      if (error.size() > s.name.size() && error.compare(0, s.name.size(), s.name) == 0 &&
          (error[s.name.size()] == ' ' || error[s.name.size()] == '[' || error[s.name.size()] == ':'))
        if (const Node* n = get(params, s.name)) at = n;
    }
    problems.push_back({at, std::move(error)});
    return false;
  }
  return true;
}

bool compile_rule(Rule& rule, const Node* params, std::string& error, RegexCache* regexes) {
  std::vector<ParamProblem> problems;
  if (compile_rule(rule, params, problems, regexes)) return true;
  error.clear();
  for (const ParamProblem& p : problems) error += (error.empty() ? "" : "; ") + p.message;
  return false;
}

const CheckTemplate* find_check_template(std::string_view name) {
  for (const CheckTemplate& t : check_templates())
    if (t.name == name) return &t;
  return nullptr;
}

}  // namespace kg

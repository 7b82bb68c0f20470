#include "engines/rbac/paths.hpp"

#include <algorithm>
#include <deque>
#include <set>
#include <tuple>

namespace kg::rbac {
namespace {

constexpr std::uint32_t kNoBinding = static_cast<std::uint32_t>(-1);
constexpr std::uint32_t kNoRule = static_cast<std::uint32_t>(-1);  // a role as a whole
constexpr std::uint32_t kEveryRole = static_cast<std::uint32_t>(-1);  // a holder of every permission

// One permission looked for in every role's rules: any of `verbs` on the
// resource. `named`: the request carries an object name, so rules with
// resourceNames grant it for those names only.
enum Probe : std::uint8_t {
  kSecretsRead, kSecretsGet, kSecretsCreate, kTokenCreate, kPodsCreate, kWorkloadWrite, kPodsUpdate,
  kPodsExec, kPodsAttach, kPodsEphemeral, kPodsPortForward, kNodesProxy, kPvCreate, kPvcCreate,
  kImpUsers, kImpGroups, kImpSAs, kCImpUsers, kCImpGroups, kCImpSAs,
  kBindRoles, kBindClusterRoles, kEscalateRoles, kEscalateClusterRoles, kWriteRoles, kWriteClusterRoles, kChangeRoles, kChangeClusterRoles,
  kCreateRoleBindings, kCreateClusterRoleBindings, kPatchRoleBindings, kPatchClusterRoleBindings,
  kCsrCreate, kCsrRead, kCsrApproval, kSignerApprove, kMutatingWebhooks, kValidatingWebhooks, kConfigMapsWrite,
  kProbes
};

struct ProbeSpec {
  std::vector<std::string_view> verbs;
  std::vector<std::string_view> groups;  // any of
  std::vector<std::string_view> resources;  // any of, "res/sub"
  bool named = false;
  bool cluster_scoped = false;  // only ClusterRoleBindings grant it
};

const std::array<ProbeSpec, kProbes>& probes() {
  static const std::array<ProbeSpec, kProbes> kSpecs = [] {
    std::array<ProbeSpec, kProbes> s;
    const std::vector<std::string_view> write = {"create", "update", "patch"};
    const std::vector<std::string_view> change = {"update", "patch"};
    const std::string_view rbac = "rbac.authorization.k8s.io";
    s[kSecretsRead] = {{"get", "list", "watch"}, {""}, {"secrets"}, false, false};
    s[kSecretsGet] = {{"get"}, {""}, {"secrets"}, true, false};
    s[kSecretsCreate] = {{"create"}, {""}, {"secrets"}, false, false};
    s[kTokenCreate] = {{"create"}, {""}, {"serviceaccounts/token"}, true, false};
    s[kPodsCreate] = {{"create"}, {""}, {"pods"}, false, false};
    s[kWorkloadWrite] = {write, {"apps", "batch", ""},
                         {"deployments", "daemonsets", "statefulsets", "replicasets", "jobs", "cronjobs",
                          "replicationcontrollers"},
                         false, false};
    s[kPodsUpdate] = {change, {""}, {"pods"}, false, false};
    s[kPodsExec] = {{"create"}, {""}, {"pods/exec"}, false, false};
    s[kPodsAttach] = {{"create"}, {""}, {"pods/attach"}, false, false};
    s[kPodsEphemeral] = {change, {""}, {"pods/ephemeralcontainers"}, false, false};
    s[kPodsPortForward] = {{"create", "get"}, {""}, {"pods/portforward"}, false, false};
    // Any verb the kubelet maps onto: get (read), create (exec, run).
    s[kNodesProxy] = {{"get", "create"}, {""}, {"nodes/proxy"}, false, true};
    s[kPvCreate] = {{"create"}, {""}, {"persistentvolumes"}, false, true};
    s[kPvcCreate] = {{"create"}, {""}, {"persistentvolumeclaims"}, false, false};
    s[kImpUsers] = {{"impersonate"}, {""}, {"users"}, true, true};
    s[kImpGroups] = {{"impersonate"}, {""}, {"groups"}, true, true};
    s[kImpSAs] = {{"impersonate"}, {""}, {"serviceaccounts"}, true, false};
    s[kCImpUsers] = {{"impersonate:user-info"}, {"authentication.k8s.io"}, {"users"}, true, true};
    s[kCImpGroups] = {{"impersonate:user-info"}, {"authentication.k8s.io"}, {"groups"}, true, true};
    s[kCImpSAs] = {{"impersonate:serviceaccount"}, {"authentication.k8s.io"}, {"serviceaccounts"}, true, false};
    s[kBindRoles] = {{"bind"}, {rbac}, {"roles"}, true, false};
    s[kBindClusterRoles] = {{"bind"}, {rbac}, {"clusterroles"}, true, false};
    s[kEscalateRoles] = {{"escalate"}, {rbac}, {"roles"}, true, false};
    s[kEscalateClusterRoles] = {{"escalate"}, {rbac}, {"clusterroles"}, true, true};
    s[kWriteRoles] = {write, {rbac}, {"roles"}, true, false};
    s[kWriteClusterRoles] = {write, {rbac}, {"clusterroles"}, true, true};
    s[kChangeRoles] = {change, {rbac}, {"roles"}, true, false};  // an existing role: update/patch
    s[kChangeClusterRoles] = {change, {rbac}, {"clusterroles"}, true, true};
    s[kCreateRoleBindings] = {{"create"}, {rbac}, {"rolebindings"}, false, false};
    s[kCreateClusterRoleBindings] = {{"create"}, {rbac}, {"clusterrolebindings"}, false, true};
    s[kPatchRoleBindings] = {change, {rbac}, {"rolebindings"}, true, false};
    s[kPatchClusterRoleBindings] = {change, {rbac}, {"clusterrolebindings"}, true, true};
    s[kCsrCreate] = {{"create"}, {"certificates.k8s.io"}, {"certificatesigningrequests"}, false, true};
    s[kCsrRead] = {{"get", "list", "watch"}, {"certificates.k8s.io"}, {"certificatesigningrequests"}, false, true};
    s[kCsrApproval] = {change, {"certificates.k8s.io"}, {"certificatesigningrequests/approval"}, true, true};
    s[kSignerApprove] = {{"approve"}, {"certificates.k8s.io"}, {"signers"}, true, true};
    s[kMutatingWebhooks] = {write, {"admissionregistration.k8s.io"}, {"mutatingwebhookconfigurations"}, true, true};
    s[kValidatingWebhooks] = {write, {"admissionregistration.k8s.io"}, {"validatingwebhookconfigurations"}, true,
                              true};
    s[kConfigMapsWrite] = {change, {""}, {"configmaps"}, true, false};
    return s;
  }();
  return kSpecs;
}

// What one role's rules grant of one probe.
struct Hit {
  bool present = false;
  bool any = false;  // every name (no resourceNames)
  std::vector<std::string> names;
  std::uint32_t rule = 0;  // first rule granting it
  bool allows(std::string_view name) const {
    return any || std::find(names.begin(), names.end(), name) != names.end();
  }
};

struct RoleCaps {
  bool all = false;  // `*` verbs on `*` resources of `*` groups, no names
  std::uint32_t all_rule = 0;
  bool impersonate_on = false;  // some `impersonate-on:` verb (constrained impersonation's second check)
  std::array<Hit, kProbes> hits;
};

bool has(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

RoleCaps caps_of_rules(const RbacIndex& index, std::uint32_t role) {
  RoleCaps c;
  const std::size_t n = index.effective_rule_count(role);
  for (std::uint32_t i = 0; i < n; ++i) {
    const PolicyRule& rule = index.effective_rule(role, i);
    if (!rule.non_resource_urls.empty()) continue;
    if (!c.all && has(rule.verbs, "*") && has(rule.resources, "*") && has(rule.api_groups, "*") &&
        rule.resource_names.empty()) {
      c.all = true;
      c.all_rule = i;
    }
    for (const std::string& v : rule.verbs)
      if (v == "*" || v.rfind("impersonate-on:", 0) == 0) c.impersonate_on = true;
    for (std::size_t p = 0; p < kProbes; ++p) {
      const ProbeSpec& spec = probes()[p];
      Hit& hit = c.hits[p];
      Request req;
      for (const std::string_view verb : spec.verbs) {
        for (const std::string_view group : spec.groups) {
          for (const std::string_view res : spec.resources) {
            req.verb = std::string(verb);
            req.api_group = std::string(group);
            const auto slash = res.find('/');
            req.resource = std::string(res.substr(0, slash));
            req.subresource = slash == std::string_view::npos ? std::string() : std::string(res.substr(slash + 1));
            req.name.clear();
            bool granted = false;
            if (rule_allows(req, rule)) {
              hit.any = true;
              granted = true;
            } else if (spec.named) {
              for (const std::string& name : rule.resource_names) {
                req.name = name;
                if (!rule_allows(req, rule)) continue;
                granted = true;
                if (!has(hit.names, name)) hit.names.push_back(name);
              }
            }
            if (granted && !hit.present) {
              hit.present = true;
              hit.rule = i;
            }
          }
        }
      }
    }
  }
  return c;
}

std::string scope_text(bool cluster, const std::string& ns) {
  return cluster ? std::string("in every namespace") : "in namespace " + ns;
}

std::string names_text(const Hit& h) {
  if (h.any) return "";
  std::string s = " (resourceNames: ";
  for (std::size_t i = 0; i < h.names.size(); ++i) s += (i ? ", " : "") + h.names[i];
  return s + ")";
}

std::string subject_key(SubjectKind k, std::string_view ns, std::string_view name) {
  std::string key = "I";
  key += static_cast<char>('0' + static_cast<int>(k));
  key += ns;
  key += '\0';
  key += name;
  return key;
}

bool glob_match(std::string_view pattern, std::string_view s) {
  if (!pattern.empty() && pattern.back() == '*') return s.substr(0, pattern.size() - 1) == pattern.substr(0, pattern.size() - 1);
  return pattern == s;
}

}  // namespace

std::string_view step_kind_id(StepKind k) {
  switch (k) {
    case StepKind::ClusterAdmin: return "cluster-admin-grant";
    case StepKind::MastersGroup: return "system-masters";
    case StepKind::SecretsRead: return "secrets-read";
    case StepKind::TokenSecretRead: return "token-secret-read";
    case StepKind::TokenSecretCreate: return "token-secret-create";
    case StepKind::TokenRequest: return "token-request";
    case StepKind::PodCreate: return "pod-create";
    case StepKind::WorkloadWrite: return "workload-write";
    case StepKind::PodModify: return "pod-modify";
    case StepKind::PodExec: return "pod-exec";
    case StepKind::PodAttach: return "pod-attach";
    case StepKind::EphemeralContainers: return "ephemeral-containers";
    case StepKind::PortForward: return "pod-portforward";
    case StepKind::NodesProxy: return "nodes-proxy";
    case StepKind::HostPathVolume: return "hostpath-persistentvolume";
    case StepKind::Escalate: return "escalate";
    case StepKind::Bind: return "bind";
    case StepKind::BindingPatch: return "binding-patch";
    case StepKind::AggregationInjection: return "aggregation-injection";
    case StepKind::Impersonate: return "impersonate";
    case StepKind::ConstrainedImpersonate: return "constrained-impersonate";
    case StepKind::CsrApproval: return "csr-approval";
    case StepKind::WebhookControl: return "webhook-control";
    case StepKind::AwsAuth: return "eks-aws-auth";
    case StepKind::RunsAs: return "runs-as";
    case StepKind::PodOwnsNode: return "pod-owns-node";
    case StepKind::PoolMember: return "pool-member";
  }
  return "";
}

std::string_view target_id(Target t) {
  switch (t) {
    case Target::ClusterAdmin: return "cluster-admin";
    case Target::NodeRoot: return "node-root";
    case Target::Secrets: return "secrets";
  }
  return "";
}

std::string_view target_title(Target t) {
  switch (t) {
    case Target::ClusterAdmin: return "cluster-admin";
    case Target::NodeRoot: return "root on a node";
    case Target::Secrets: return "the Secrets of every namespace";
  }
  return "";
}

std::string PathNode::label() const {
  switch (kind) {
    case NodeKind::Identity:
      if (subject == SubjectKind::ServiceAccount) return "ServiceAccount " + ns + "/" + name;
      return std::string(subject_kind_name(subject)) + " " + name;
    case NodeKind::Holder:
      if (role < 0) return "every permission " + scope_text(ns.empty(), ns);
      return name + (ns.empty() ? " cluster-wide" : " in namespace " + ns);
    case NodeKind::Pool:
      if (name == "users") return "any user";
      if (name == "pods" || name == "token-pods")
        return ns.empty() ? "a running pod of any namespace" : "a running pod of namespace " + ns;
      if (name == "tokens") return ns.empty() ? "the token Secrets of every namespace" : "the token Secrets of namespace " + ns;
      if (name == "roles") return "any Role of namespace " + ns;
      return ns.empty() ? "any ServiceAccount" : "any ServiceAccount of namespace " + ns;
    case NodeKind::Workload: return name;
    case NodeKind::Target: return std::string(target_title(target));
  }
  return name;
}

// ---- assets ------------------------------------------------------------------

bool add_asset(const Object& obj, const PodSpecTable& pod_specs, const std::string& default_namespace,
               Assets& assets) {
  auto origin = [&] {
    Origin o;
    if (obj.file) o.file = obj.file->path;
    o.line = obj.line;
    o.column = obj.column;
    return o;
  };
  const std::string ns = obj.ns.empty() ? default_namespace : std::string(obj.ns);
  const Node* meta = get(obj.root, "metadata");
  if (obj.kind == "Namespace" && obj.api_version == "v1") {
    assets.namespaces.emplace_back(obj.name);
    return true;
  }
  if (obj.kind == "Secret" && obj.api_version == "v1") {
    if (str(get(obj.root, "type")) != "kubernetes.io/service-account-token") return true;
    TokenSecret t{ns, std::string(obj.name),
                  std::string(str(get(get(meta, "annotations"), "kubernetes.io/service-account.name"))),
                  std::string(str(get(meta, "creationTimestamp"))), origin()};
    assets.token_secrets.push_back(std::move(t));
    return true;
  }
  const PodView pod = pod_view(obj, pod_specs);
  if (!pod) return false;
  // A controller's children (a snapshot's ReplicaSets and Pods) run what it runs.
  for (const Node* owner : items(get(meta, "ownerReferences")))
    if (is_true(get(owner, "controller"))) return true;
  Workload w;
  w.kind = std::string(obj.kind);
  w.ns = ns;
  w.name = std::string(obj.kind) + " " + ns + "/" + std::string(obj.name);
  std::string_view sa = str(get(pod.spec, "serviceAccountName"));
  if (sa.empty()) sa = str(get(pod.spec, "serviceAccount"));
  w.service_account = sa.empty() ? "default" : std::string(sa);
  if (const Node* a = get(pod.spec, "automountServiceAccountToken")) w.pod_automount = a->as_bool();
  w.host_network = is_true(get(pod.spec, "hostNetwork"));
  for (const ContainerRef& c : containers_of(pod)) {
    const Node* sc = get(c.node, "securityContext");
    if (is_true(get(sc, "privileged"))) {
      w.node_access = "privileged container " + std::string(c.name);
      break;
    }
    for (const Node* cap : items(get(get(sc, "capabilities"), "add")))
      if (str(cap) == "SYS_ADMIN" || str(cap) == "CAP_SYS_ADMIN") w.node_access = "container " + std::string(c.name) + " adds SYS_ADMIN";
    if (!w.node_access.empty()) break;
  }
  if (w.node_access.empty()) {
    for (const Node* v : items(get(pod.spec, "volumes"))) {
      if (const Node* hp = get(v, "hostPath")) {
        w.node_access = "hostPath volume " + std::string(str(get(v, "name"))) + " (" + std::string(str(get(hp, "path"))) + ")";
        break;
      }
    }
  }
  if (w.node_access.empty() && is_true(get(pod.spec, "hostPID"))) w.node_access = "hostPID";
  w.origin = origin();
  assets.workloads.push_back(std::move(w));
  return true;
}

// ---- known controllers -------------------------------------------------------

bool builtin_controller(SubjectKind kind, std::string_view name, std::string_view ns) {
  switch (kind) {
    case SubjectKind::User:
      return name == "system:kube-controller-manager" || name == "system:kube-scheduler" ||
             name == "system:kube-proxy" || name == "system:apiserver" || name == "kube-apiserver" ||
             name == "system:volume-scheduler" || name.rfind("system:node:", 0) == 0;
    case SubjectKind::Group:
      return name == "system:masters" || name == "system:nodes" || name == "system:monitoring" ||
             name == "system:kube-controller-manager" || name == "system:kube-scheduler" ||
             name == "kubeadm:cluster-admins";
    case SubjectKind::ServiceAccount: {
      if (ns != "kube-system") return false;
      // Every ServiceAccount the bootstrap policy binds (its controllers, kube-dns,
      // leader election…), read once from the built-in policy.
      static const std::set<std::string, std::less<>> kBootstrapAccounts = [] {
        PolicyLoader loader;
        loader.add_bootstrap();
        std::set<std::string, std::less<>> names;
        for (const Binding& b : loader.take().bindings) {
          for (const Subject& sub : b.subjects) {
            if (sub.kind == SubjectKind::ServiceAccount && (sub.ns.empty() ? b.ns : sub.ns) == "kube-system")
              names.insert(sub.name);
          }
        }
        return names;
      }();
      if (kBootstrapAccounts.count(name)) return true;
      // kube-controller-manager's controllers (--use-service-account-credentials),
      // the bootstrap signer/token cleaner, and kube-proxy as kubeadm installs it.
      static constexpr std::string_view kControllers[] = {
          "attachdetach-controller", "bootstrap-signer", "certificate-controller", "clusterrole-aggregation-controller",
          "cronjob-controller", "daemon-set-controller", "deployment-controller", "disruption-controller",
          "endpoint-controller", "endpointslice-controller", "endpointslicemirroring-controller",
          "ephemeral-volume-controller", "expand-controller", "generic-garbage-collector",
          "horizontal-pod-autoscaler", "job-controller", "legacy-service-account-token-cleaner",
          "namespace-controller", "node-controller", "persistent-volume-binder", "pod-garbage-collector",
          "pv-protection-controller", "pvc-protection-controller", "replicaset-controller",
          "replication-controller", "resourcequota-controller", "root-ca-cert-publisher", "route-controller",
          "selinux-warning-controller", "service-account-controller", "service-cidrs-controller",
          "service-controller", "statefulset-controller", "token-cleaner", "ttl-after-finished-controller",
          "ttl-controller", "validatingadmissionpolicy-status-controller", "volumeattributesclass-protection-controller",
          "kube-proxy", "resource-claim-controller", "device-taint-eviction-controller", "node-ipam-controller",
          "cloud-provider", "storage-version-migrator-controller", "volumeattributesclass-controller"};
      for (const std::string_view c : kControllers)
        if (c == name) return true;
      return false;
    }
  }
  return false;
}

bool parse_path_subject(std::string_view s, SubjectKind& kind, std::string& name, std::string& ns) {
  auto starts = [&](std::string_view p) { return s.substr(0, p.size()) == p; };
  if (parse_service_account_user(s, ns, name)) {
    kind = SubjectKind::ServiceAccount;
    return true;
  }
  if (starts("sa:")) {
    const std::string_view rest = s.substr(3);
    const auto colon = rest.find(':');
    if (colon == std::string_view::npos || colon == 0 || colon + 1 == rest.size()) return false;
    kind = SubjectKind::ServiceAccount;
    ns = std::string(rest.substr(0, colon));
    name = std::string(rest.substr(colon + 1));
    return name.find(':') == std::string::npos || name == "*";
  }
  if (starts("user:") && s.size() > 5) {
    kind = SubjectKind::User;
    name = std::string(s.substr(5));
    ns.clear();
    return true;
  }
  if (starts("group:") && s.size() > 6) {
    kind = SubjectKind::Group;
    name = std::string(s.substr(6));
    ns.clear();
    return true;
  }
  return false;
}

// ---- the graph -----------------------------------------------------------------

struct PathAnalysis::Grant {
  std::uint32_t binding = kNoBinding;  // kNoBinding: a holder's hypothetical binding
  std::uint32_t subject = 0;
  std::int32_t role = -1;  // -1 with a holder: every permission
  bool cluster = false;
  std::string ns;
};

std::uint32_t PathAnalysis::intern(PathNode n) {
  std::string key;
  switch (n.kind) {
    case NodeKind::Identity: key = subject_key(n.subject, n.ns, n.name); break;
    case NodeKind::Holder: key = "H" + std::to_string(n.role) + '\0' + n.ns; break;
    case NodeKind::Pool: key = "P" + n.name + '\0' + n.ns; break;
    case NodeKind::Workload: key = "W" + std::to_string(n.workload); break;
    case NodeKind::Target: key = "T" + std::string(target_id(n.target)); break;
  }
  auto [it, fresh] = node_at_.emplace(std::move(key), static_cast<std::uint32_t>(nodes_.size()));
  if (fresh) nodes_.push_back(std::move(n));
  return it->second;
}

std::uint32_t PathAnalysis::identity_node(SubjectKind k, const std::string& name, const std::string& ns) {
  PathNode n;
  n.kind = NodeKind::Identity;
  n.subject = k;
  n.name = name;
  n.ns = k == SubjectKind::ServiceAccount ? ns : std::string();
  return intern(std::move(n));
}

std::uint32_t PathAnalysis::pool_node(const std::string& ns) {
  PathNode n;
  n.kind = NodeKind::Pool;
  n.name = "sa";
  n.ns = ns;
  return intern(std::move(n));
}

std::uint32_t PathAnalysis::holder_node(std::uint32_t role, const std::string& scope) {
  PathNode n;
  n.kind = NodeKind::Holder;
  n.role = static_cast<std::int32_t>(role);
  const Role& r = index_.role(role);
  n.name = std::string(r.cluster ? "ClusterRole " : "Role ") + (r.cluster ? r.name : r.ns + "/" + r.name);
  n.ns = scope;
  return intern(std::move(n));
}

void PathAnalysis::add_edge(std::uint32_t from, std::uint32_t to, StepKind kind, std::string permission,
                            std::vector<Witness> via) {
  if (from == to) return;
  // One edge per (from, to, kind): the first grant found is the witness.
  // Edges of one node are added together, so the set is per node.
  if (from != out_from_) {
    out_from_ = from;
    out_seen_.clear();
  }
  if (!out_seen_.insert((std::uint64_t{to} << 8) | static_cast<std::uint64_t>(kind)).second) return;
  edges_.push_back({from, to, kind, std::move(permission), std::move(via)});
}

PathAnalysis::PathAnalysis(const RbacIndex& index, const Assets& assets, PathOptions options)
    : index_(index), assets_(assets), options_(std::move(options)) {
  build();
  search();
}

bool PathAnalysis::is_known_controller(const PathNode& n) const {
  if (n.kind != NodeKind::Identity) return false;
  if (options_.builtin_controllers && builtin_controller(n.subject, n.name, n.ns)) return true;
  for (const std::string& k : options_.known_controllers) {
    SubjectKind kind;
    std::string name, ns;
    if (!parse_path_subject(k, kind, name, ns) || kind != n.subject) continue;
    if (kind == SubjectKind::ServiceAccount ? ns == n.ns && glob_match(name, n.name) : glob_match(name, n.name))
      return true;
  }
  return false;
}

std::optional<std::uint32_t> PathAnalysis::find_subject(std::string_view subject) const {
  SubjectKind kind;
  std::string name, ns;
  if (!parse_path_subject(subject, kind, name, ns)) return std::nullopt;
  auto it = node_at_.find(subject_key(kind, kind == SubjectKind::ServiceAccount ? ns : "", name));
  if (it == node_at_.end()) return std::nullopt;
  return it->second;
}

std::vector<PathAnalysis::Grant> PathAnalysis::grants_of_node(std::uint32_t node) const {
  std::vector<Grant> out;
  const PathNode& n = nodes_[node];
  if (n.kind == NodeKind::Holder) {
    out.push_back({kNoBinding, 0, n.role, n.ns.empty(), n.ns});
    return out;
  }
  Identity who;
  switch (n.subject) {
    case SubjectKind::ServiceAccount: who = service_account_identity(n.ns, n.name); break;
    case SubjectKind::Group: who.groups = {n.name}; break;
    case SubjectKind::User:
      // The authenticator adds one of these to every request.
      who.user = n.name;
      who.groups = {n.name == "system:anonymous" ? "system:unauthenticated" : "system:authenticated"};
      break;
  }
  for (const GrantRef& g : index_.grants_of(who)) {
    if (g.role < 0) continue;
    const Binding& b = index_.binding(g.binding);
    out.push_back({g.binding, g.subject, g.role, b.cluster, b.ns});
  }
  return out;
}

void PathAnalysis::build() {
  // Identities: every subject of every binding, every ServiceAccount the input
  // holds or runs pods as; the targets and system:masters.
  const std::uint32_t admin = intern({NodeKind::Target, SubjectKind::User, "", "", -1, -1, Target::ClusterAdmin});
  const std::uint32_t root = intern({NodeKind::Target, SubjectKind::User, "", "", -1, -1, Target::NodeRoot});
  const std::uint32_t secrets = intern({NodeKind::Target, SubjectKind::User, "", "", -1, -1, Target::Secrets});
  const std::uint32_t masters = identity_node(SubjectKind::Group, std::string(kMastersGroup), "");
  add_edge(masters, admin, StepKind::MastersGroup, "member of system:masters (bypasses RBAC)", {});

  std::set<std::uint32_t> reportable_seen;
  for (const SubjectEntry& s : index_.subjects()) {
    const std::uint32_t id = identity_node(s.kind, s.name, s.ns);
    bool from_input = false;
    for (const GrantRef& g : s.grants) from_input |= !index_.binding(g.binding).origin.assumed;
    if (from_input && !is_known_controller(nodes_[id]) && reportable_seen.insert(id).second) reportable_.push_back(id);
  }
  // Which ServiceAccounts exist, and whether they mount their token by default.
  std::unordered_map<std::string, std::optional<bool>> sa_automount;
  for (const ServiceAccount& sa : index_.policy().service_accounts) {
    identity_node(SubjectKind::ServiceAccount, sa.name, sa.ns);
    sa_automount[sa.ns + '\0' + sa.name] = sa.automount_token;
  }
  for (const Workload& w : assets_.workloads) identity_node(SubjectKind::ServiceAccount, w.service_account, w.ns);
  for (const TokenSecret& t : assets_.token_secrets)
    if (!t.service_account.empty()) identity_node(SubjectKind::ServiceAccount, t.service_account, t.ns);

  // Workloads: what exec (and friends) in their namespace reach.
  std::unordered_map<std::string, std::vector<std::uint32_t>> workloads_in;
  for (std::size_t i = 0; i < assets_.workloads.size(); ++i) {
    const Workload& w = assets_.workloads[i];
    PathNode n;
    n.kind = NodeKind::Workload;
    n.name = w.name;
    n.ns = w.ns;
    n.workload = static_cast<std::int32_t>(i);
    const std::uint32_t wn = intern(std::move(n));
    workloads_in[w.ns].push_back(wn);
    const auto sa = sa_automount.find(w.ns + '\0' + w.service_account);
    const bool mounted = w.pod_automount.value_or(sa == sa_automount.end() ? true : sa->second.value_or(true));
    if (!w.node_access.empty()) add_edge(wn, root, StepKind::PodOwnsNode, w.node_access + " on its node", {});
    if (mounted) {
      add_edge(wn, identity_node(SubjectKind::ServiceAccount, w.service_account, w.ns), StepKind::RunsAs,
               "its pods carry the ServiceAccount's token", {});
    }
  }
  // Pools: every ServiceAccount of a namespace, and of all of them.
  std::vector<std::uint32_t> accounts;
  std::map<std::string, std::vector<std::uint32_t>> accounts_in;
  for (std::uint32_t i = 0; i < nodes_.size(); ++i) {
    if (nodes_[i].kind == NodeKind::Identity && nodes_[i].subject == SubjectKind::ServiceAccount)
      accounts_in[nodes_[i].ns].push_back(i);
  }
  const std::uint32_t every_sa = pool_node("");
  for (auto& [ns, list] : accounts_in) {
    const std::uint32_t pool = pool_node(ns);
    add_edge(every_sa, pool, StepKind::PoolMember, "one of them", {});
    for (const std::uint32_t sa : list) add_edge(pool, sa, StepKind::PoolMember, "one of them", {});
  }
  PathNode users_pool;
  users_pool.kind = NodeKind::Pool;
  users_pool.name = "users";
  const std::uint32_t any_user = intern(std::move(users_pool));
  for (std::uint32_t i = 0; i < nodes_.size(); ++i) {
    if (nodes_[i].kind == NodeKind::Identity && nodes_[i].subject == SubjectKind::User)
      add_edge(any_user, i, StepKind::PoolMember, "one of them", {});
  }
  // Token Secrets by namespace (who reads Secrets there gets their tokens).
  std::unordered_map<std::string, std::vector<std::size_t>> tokens_in;
  for (std::size_t i = 0; i < assets_.token_secrets.size(); ++i)
    if (!assets_.token_secrets[i].service_account.empty()) tokens_in[assets_.token_secrets[i].ns].push_back(i);
  // Pools keep the graph linear: an identity allowed to exec into every pod
  // (or read every Secret) gets one edge to the pool, not one per workload.
  auto named_pool = [&](const char* name, const std::string& ns) {
    PathNode n;
    n.kind = NodeKind::Pool;
    n.name = name;
    n.ns = ns;
    return intern(std::move(n));
  };
  const std::uint32_t every_pod = named_pool("pods", ""), every_token_pod = named_pool("token-pods", "");
  const std::uint32_t every_token = named_pool("tokens", "");
  std::unordered_map<std::string, std::pair<std::uint32_t, std::uint32_t>> pod_pools;  // ns → (pods, token pods)
  for (const auto& [ns, list] : workloads_in) {
    const std::uint32_t pods = named_pool("pods", ns), token_pods = named_pool("token-pods", ns);
    pod_pools[ns] = {pods, token_pods};
    add_edge(every_pod, pods, StepKind::PoolMember, "one of them", {});
    add_edge(every_token_pod, token_pods, StepKind::PoolMember, "one of them", {});
    for (const std::uint32_t wn : list) {
      const Workload& w = assets_.workloads[static_cast<std::size_t>(nodes_[wn].workload)];
      add_edge(pods, wn, StepKind::PoolMember, "one of them", {});
      if (!w.node_access.empty() || w.pod_automount != false) add_edge(token_pods, wn, StepKind::PoolMember, "one of them", {});
    }
  }
  std::unordered_map<std::string, std::uint32_t> token_pools;
  for (const auto& [ns, list] : tokens_in) {
    const std::uint32_t pool = named_pool("tokens", ns);
    token_pools[ns] = pool;
    add_edge(every_token, pool, StepKind::PoolMember, "one of them", {});
    for (const std::size_t t : list) {
      const TokenSecret& ts = assets_.token_secrets[t];
      add_edge(pool, identity_node(SubjectKind::ServiceAccount, ts.service_account, ts.ns), StepKind::TokenSecretRead,
               "its token Secret " + ts.ns + "/" + ts.name, {});
    }
  }
  std::unordered_map<std::string, std::vector<std::uint32_t>> bindings_in;  // RoleBindings by namespace
  std::unordered_map<std::string, std::vector<std::uint32_t>> bindings_named, roles_named;
  std::vector<std::vector<std::uint32_t>> bindings_of_role(index_.policy().roles.size());
  std::optional<std::uint32_t> cluster_admin_binding;  // a ClusterRoleBinding of a `*` on `*` ClusterRole
  for (std::uint32_t r = 0; r < index_.policy().roles.size(); ++r) roles_named[index_.role(r).name].push_back(r);
  for (std::uint32_t b = 0; b < index_.policy().bindings.size(); ++b) {
    const Binding& binding = index_.binding(b);
    if (!binding.cluster) bindings_in[binding.ns].push_back(b);
    bindings_named[binding.name].push_back(b);
    if (auto role = index_.bound_role(b)) bindings_of_role[*role].push_back(b);
  }

  // Expand every identity and every holder the expansion creates (a queue:
  // holders are interned while expanding).
  std::vector<std::optional<RoleCaps>> caps(index_.policy().roles.size());
  RoleCaps everything;
  everything.all = true;
  everything.impersonate_on = true;
  for (Hit& h : everything.hits) h.present = h.any = true;
  auto caps_of = [&](std::int32_t role) -> const RoleCaps& {
    if (role < 0) return everything;
    auto& c = caps[static_cast<std::size_t>(role)];
    if (!c) c = caps_of_rules(index_, static_cast<std::uint32_t>(role));
    return *c;
  };

  // Holders of each Role of a namespace, made when something may bind any of them.
  std::unordered_map<std::string, std::vector<std::uint32_t>> roles_in;
  for (std::uint32_t r = 0; r < index_.policy().roles.size(); ++r)
    if (!index_.role(r).cluster) roles_in[index_.role(r).ns].push_back(r);
  std::unordered_map<std::string, std::uint32_t> role_pools;
  auto roles_pool = [&](const std::string& ns) {
    if (auto it = role_pools.find(ns); it != role_pools.end()) return it->second;
    const std::uint32_t pool = named_pool("roles", ns);
    role_pools.emplace(ns, pool);
    const std::uint32_t saved_from = out_from_;
    for (const std::uint32_t r : roles_in[ns]) add_edge(pool, holder_node(r, ns), StepKind::PoolMember, "one of them", {});
    out_from_ = saved_from == pool ? out_from_ : static_cast<std::uint32_t>(-1);  // the caller's edge set starts over
    return pool;
  };
  for (std::uint32_t b = 0; b < index_.policy().bindings.size() && !cluster_admin_binding; ++b) {
    if (auto role = index_.bound_role(b); role && index_.binding(b).cluster && caps_of(static_cast<std::int32_t>(*role)).all)
      cluster_admin_binding = b;
  }

  for (std::uint32_t node = 0; node < nodes_.size(); ++node) {
    const NodeKind kind = nodes_[node].kind;
    if (kind != NodeKind::Identity && kind != NodeKind::Holder) continue;
    if (node == masters) continue;
    const std::vector<Grant> grants = grants_of_node(node);
    if (grants.empty()) continue;
    struct Held {
      const Grant* grant;
      const Hit* hit;
    };
    std::array<std::vector<Held>, kProbes> held;
    bool impersonate_on = false;
    bool cluster_admin = false;
    for (const Grant& g : grants) {
      const RoleCaps& c = caps_of(g.role);
      const std::uint32_t role = g.role < 0 ? kEveryRole : static_cast<std::uint32_t>(g.role);
      if (c.all && g.cluster) {
        add_edge(node, admin, StepKind::ClusterAdmin, "every verb on every resource cluster-wide",
                 {{g.binding, g.subject, role, c.all_rule}});
        cluster_admin = true;
      }
      impersonate_on |= c.impersonate_on;
      for (std::size_t p = 0; p < kProbes; ++p) {
        if (!c.hits[p].present) continue;
        if (probes()[p].cluster_scoped && !g.cluster) continue;  // a RoleBinding grants no cluster-scoped resource
        held[p].push_back({&g, &c.hits[p]});
      }
    }
    if (cluster_admin) continue;  // nothing is shorter than one step
    auto witness = [&](const Held& h) {
      return Witness{h.grant->binding, h.grant->subject, h.grant->role < 0 ? kEveryRole : static_cast<std::uint32_t>(h.grant->role),
                     h.hit->rule};
    };
    // The grant of `probe` that covers namespace `ns` ("" = cluster-wide
    // only) for object `name` ("" = any name needed).
    auto find = [&](Probe probe, const std::string& ns, std::string_view name = {}) -> const Held* {
      for (const Held& h : held[probe]) {
        if (!h.grant->cluster && (ns.empty() || h.grant->ns != ns)) continue;
        if (name.empty() ? h.hit->any : h.hit->allows(name)) return &h;
      }
      return nullptr;
    };
    auto where = [](const Held& h) { return h.grant->cluster ? std::string() : h.grant->ns; };
    auto pool_of = [&](const Held& h) { return h.grant->cluster ? every_sa : pool_node(h.grant->ns); };
    auto sa_in = [&](const std::string& ns, const std::string& name) {
      return identity_node(SubjectKind::ServiceAccount, name, ns);
    };
    const PathNode self = nodes_[node];

    // cluster-admin in one step (besides `*` on `*`).
    for (const Held& h : held[kMutatingWebhooks]) {
      if (h.hit->any) {
        add_edge(node, admin, StepKind::WebhookControl,
                 "write mutatingwebhookconfigurations: rewrite every object admitted (a controller's pods)", {witness(h)});
      }
    }
    for (const Held& h : held[kConfigMapsWrite]) {
      if (!h.grant->cluster && h.grant->ns != "kube-system") continue;
      if (!h.hit->allows("aws-auth")) continue;
      add_edge(node, admin, StepKind::AwsAuth,
               "update configmap kube-system/aws-auth" + names_text(*h.hit) + ": map an IAM identity to system:masters (EKS)",
               {witness(h)});
    }
    // CSR approval: a client certificate in system:masters.
    if (!held[kSignerApprove].empty()) {
      const Held* create = find(kCsrCreate, "");
      const Held* read = find(kCsrRead, "");
      const Held* approval = nullptr;
      for (const Held& h : held[kCsrApproval])
        if (h.hit->any) approval = &h;
      const Held* signer = nullptr;
      for (const Held& h : held[kSignerApprove])
        if (h.hit->allows("kubernetes.io/kube-apiserver-client") || h.hit->allows("kubernetes.io/*")) signer = &h;
      if (create && read && approval && signer) {
        add_edge(node, masters, StepKind::CsrApproval,
                 "create, approve and read a CertificateSigningRequest for signer kubernetes.io/kube-apiserver-client "
                 "with organisation system:masters",
                 {witness(*create), witness(*approval), witness(*signer), witness(*read)});
      }
    }
    // Impersonation: plain, then constrained (KEP-5284: also needs impersonate-on:…).
    auto impersonation = [&](Probe users, Probe groups, Probe sas, StepKind step, const char* verb) {
      for (const Held& h : held[groups]) {
        if (h.hit->any) {
          add_edge(node, masters, step, std::string(verb) + " groups: act as group system:masters", {witness(h)});
        } else {
          for (const std::string& g : h.hit->names) {
            add_edge(node, identity_node(SubjectKind::Group, g, ""), step,
                     std::string(verb) + " group " + g + names_text(*h.hit), {witness(h)});
          }
        }
      }
      for (const Held& h : held[users]) {
        if (h.hit->any) {
          add_edge(node, any_user, step, std::string(verb) + " users: act as any user", {witness(h)});
        } else {
          for (const std::string& u : h.hit->names) {
            std::string ns, name;
            const std::uint32_t to = parse_service_account_user(u, ns, name)
                                         ? sa_in(ns, name)
                                         : identity_node(SubjectKind::User, u, "");
            add_edge(node, to, step, std::string(verb) + " user " + u + names_text(*h.hit), {witness(h)});
          }
        }
      }
      for (const Held& h : held[sas]) {
        if (h.hit->any) {
          add_edge(node, pool_of(h), step, std::string(verb) + " serviceaccounts " + scope_text(h.grant->cluster, h.grant->ns),
                   {witness(h)});
        } else if (!h.grant->cluster) {
          for (const std::string& n : h.hit->names) {
            add_edge(node, sa_in(h.grant->ns, n), step,
                     std::string(verb) + " serviceaccount " + h.grant->ns + "/" + n + names_text(*h.hit), {witness(h)});
          }
        } else {
          for (const auto& [ns, list] : accounts_in) {
            for (const std::string& n : h.hit->names) {
              for (const std::uint32_t sa : list) {
                if (nodes_[sa].name == n) {
                  add_edge(node, sa, step, std::string(verb) + " serviceaccount " + ns + "/" + n + names_text(*h.hit),
                           {witness(h)});
                }
              }
            }
          }
        }
      }
    };
    impersonation(kImpUsers, kImpGroups, kImpSAs, StepKind::Impersonate, "impersonate");
    if (impersonate_on) {
      impersonation(kCImpUsers, kCImpGroups, kCImpSAs, StepKind::ConstrainedImpersonate,
                    "constrained impersonation (impersonate:user-info / impersonate:serviceaccount + impersonate-on)");
    }

    // Roles it holds that it may rewrite (escalate), or inject rules into
    // through aggregation labels.
    for (const Grant& g : grants) {
      if (g.role < 0 || g.binding == kNoBinding) continue;
      const Role& r = index_.role(static_cast<std::uint32_t>(g.role));
      const std::string role_scope = r.cluster ? std::string() : r.ns;
      const Probe esc = r.cluster ? kEscalateClusterRoles : kEscalateRoles;
      const Probe write = r.cluster ? kChangeClusterRoles : kChangeRoles;
      const std::uint32_t gain = g.cluster ? admin : intern({NodeKind::Holder, SubjectKind::User, "every permission", g.ns, -1, -1, Target::ClusterAdmin});
      const std::string gain_text = g.cluster ? "" : " in namespace " + g.ns;
      if (!r.aggregated) {
        const Held* e = find(esc, role_scope, r.name);
        const Held* w = find(write, role_scope, r.name);
        if (e && w) {
          add_edge(node, gain, StepKind::Escalate,
                   "escalate + update " + std::string(r.cluster ? "ClusterRole " : "Role ") + r.name +
                       " (bound to it" + gain_text + "): add any rule" + names_text(*e->hit),
                   {witness(*e), witness(*w), {g.binding, g.subject, static_cast<std::uint32_t>(g.role), kNoRule}});
        }
      } else {
        const Held* e = nullptr;
        for (const Held& h : held[kEscalateClusterRoles]) e = h.hit->any || !h.hit->names.empty() ? &h : e;
        const Held* w = find(kWriteClusterRoles, "");
        if (!w)
          for (const Held& h : held[kWriteClusterRoles]) w = !h.hit->names.empty() ? &h : w;
        if (e && w && !r.aggregation.empty()) {
          add_edge(node, gain, StepKind::AggregationInjection,
                   "escalate + write a ClusterRole labelled for aggregated ClusterRole " + r.name + " (bound to it" +
                       gain_text + "): its rules join " + r.name,
                   {witness(*e), witness(*w), {g.binding, g.subject, static_cast<std::uint32_t>(g.role), kNoRule}});
        }
      }
    }
    // Bindings: create one (bind on its role), or patch an existing one.
    auto bind_gain = [&](const std::string& scope, std::uint32_t role) {
      return holder_node(role, scope);
    };
    for (const Held& create : held[kCreateClusterRoleBindings]) {
      if (!create.hit->any) continue;
      for (const Held& b : held[kBindClusterRoles]) {
        if (!b.grant->cluster) continue;
        if (b.hit->any) {
          add_edge(node, admin, StepKind::Bind, "create clusterrolebindings + bind any ClusterRole: bind cluster-admin",
                   {witness(create), witness(b)});
        } else {
          for (const std::string& name : b.hit->names) {
            if (auto role = index_.find_role(true, "", name)) {
              add_edge(node, bind_gain("", *role), StepKind::Bind,
                       "create clusterrolebindings + bind ClusterRole " + name + names_text(*b.hit),
                       {witness(create), witness(b)});
            }
          }
        }
      }
    }
    for (const Held& create : held[kCreateRoleBindings]) {
      if (!create.hit->any) continue;
      std::vector<std::string> namespaces;
      if (create.grant->cluster) {
        // cluster-wide: into any namespace its bind grants work in (their own, or all).
        for (const Held& b : held[kBindClusterRoles]) namespaces.push_back(b.grant->cluster ? "default" : b.grant->ns);
        for (const Held& b : held[kBindRoles]) namespaces.push_back(b.grant->cluster ? "default" : b.grant->ns);
      } else {
        namespaces.push_back(create.grant->ns);
      }
      for (const std::string& ns : namespaces) {
        for (const Held& b : held[kBindClusterRoles]) {
          if (!b.grant->cluster && b.grant->ns != ns) continue;
          const std::string in = create.grant->cluster && b.grant->cluster ? "any namespace" : "namespace " + ns;
          const std::string scope = create.grant->cluster && b.grant->cluster ? std::string("*") : ns;
          if (b.hit->any) {
            if (scope == "*") {
              for (const auto& [ans, list] : accounts_in) {
                (void)list;
                add_edge(node, intern({NodeKind::Holder, SubjectKind::User, "every permission", ans, -1, -1, Target::ClusterAdmin}),
                         StepKind::Bind, "create rolebindings + bind any ClusterRole: bind admin in namespace " + ans,
                         {witness(create), witness(b)});
              }
            } else {
              add_edge(node, intern({NodeKind::Holder, SubjectKind::User, "every permission", ns, -1, -1, Target::ClusterAdmin}),
                       StepKind::Bind, "create rolebindings + bind any ClusterRole in " + in + ": bind cluster-admin there",
                       {witness(create), witness(b)});
            }
          } else {
            for (const std::string& name : b.hit->names) {
              if (auto role = index_.find_role(true, "", name)) {
                add_edge(node, bind_gain(scope == "*" ? ns : scope, *role), StepKind::Bind,
                         "create rolebindings + bind ClusterRole " + name + names_text(*b.hit) + " in " + in,
                         {witness(create), witness(b)});
              }
            }
          }
        }
        for (const Held& b : held[kBindRoles]) {
          if (!b.grant->cluster && b.grant->ns != ns) continue;
          if (b.hit->any) {
            // Any Role of the namespace: one edge to the namespace's pool of Roles.
            add_edge(node, roles_pool(ns), StepKind::Bind, "create rolebindings + bind any Role of namespace " + ns,
                     {witness(create), witness(b)});
            continue;
          }
          for (const std::string& name : b.hit->names) {
            if (auto role = index_.find_role(false, ns, name)) {
              add_edge(node, bind_gain(ns, *role), StepKind::Bind,
                       "create rolebindings + bind Role " + ns + "/" + name + names_text(*b.hit),
                       {witness(create), witness(b)});
            }
          }
        }
      }
    }
    // Patching an existing binding (roleRef is immutable): add itself as a
    // subject, which the API server allows with bind on the role it names.
    auto patch_bindings = [&](const std::vector<std::uint32_t>& candidates, const Held& h) {
      for (const std::uint32_t bi : candidates) {
        const Binding& bd = index_.binding(bi);
        if (!h.hit->allows(bd.name)) continue;
        const auto role = index_.bound_role(bi);
        if (!role) continue;
        const Role& r = index_.role(*role);
        const std::string ns = bd.cluster ? std::string() : bd.ns;
        const Held* b = r.cluster ? (bd.cluster ? find(kBindClusterRoles, "", r.name) : find(kBindClusterRoles, ns, r.name))
                                  : find(kBindRoles, ns, r.name);
        if (!b) continue;
        const std::uint32_t gain = r.cluster && bd.cluster && caps_of(static_cast<std::int32_t>(*role)).all
                                       ? admin
                                       : bind_gain(ns, *role);
        add_edge(node, gain, StepKind::BindingPatch,
                 std::string("patch ") + (bd.cluster ? "ClusterRoleBinding " + bd.name : "RoleBinding " + bd.ns + "/" + bd.name) +
                     names_text(*h.hit) + " + bind " + r.name + ": add itself as a subject",
                 {witness(h), witness(*b)});
      }
    };
    // The bindings worth looking at: those it may patch by name, or (any
    // name) those of the roles it may bind by name; in the grant's scope.
    auto patch_candidates = [&](const Held& h, bool cluster_kind) {
      std::vector<std::uint32_t> out;
      auto in_scope = [&](std::uint32_t bi) {
        const Binding& bd = index_.binding(bi);
        return bd.cluster == cluster_kind && (cluster_kind || h.grant->cluster || bd.ns == h.grant->ns);
      };
      if (!h.hit->any) {
        for (const std::string& name : h.hit->names) {
          if (auto it = bindings_named.find(name); it != bindings_named.end()) {
            for (const std::uint32_t bi : it->second)
              if (in_scope(bi)) out.push_back(bi);
          }
        }
      } else {
        for (const Probe p : {kBindClusterRoles, kBindRoles}) {
          for (const Held& b : held[p]) {
            for (const std::string& name : b.hit->names) {
              if (auto it = roles_named.find(name); it != roles_named.end()) {
                for (const std::uint32_t role : it->second) {
                  for (const std::uint32_t bi : bindings_of_role[role])
                    if (in_scope(bi)) out.push_back(bi);
                }
              }
            }
          }
        }
      }
      std::sort(out.begin(), out.end());
      out.erase(std::unique(out.begin(), out.end()), out.end());
      return out;
    };
    for (const Held& h : held[kPatchClusterRoleBindings]) {
      if (h.hit->any && find(kBindClusterRoles, "")) {
        // Any ClusterRoleBinding and any role: cluster-admin's own binding is one.
        if (cluster_admin_binding) {
          add_edge(node, admin, StepKind::BindingPatch,
                   "patch any ClusterRoleBinding + bind any ClusterRole: add itself to ClusterRoleBinding " +
                       index_.binding(*cluster_admin_binding).name,
                   {witness(h), witness(*find(kBindClusterRoles, ""))});
        }
        continue;
      }
      patch_bindings(patch_candidates(h, true), h);
    }
    for (const Held& h : held[kPatchRoleBindings]) {
      // Any binding and any role: the same as binding every permission there,
      // one edge per namespace instead of one per binding.
      const Held* bind_any = find(kBindClusterRoles, h.grant->cluster ? std::string() : h.grant->ns);
      if (h.hit->any && bind_any) {
        auto every = [&](const std::string& ns) {
          add_edge(node, intern({NodeKind::Holder, SubjectKind::User, "every permission", ns, -1, -1, Target::ClusterAdmin}),
                   StepKind::BindingPatch,
                   "patch any RoleBinding in namespace " + ns + " + bind any ClusterRole: add itself as a subject",
                   {witness(h), witness(*bind_any)});
        };
        if (h.grant->cluster) {
          for (const auto& [ns, list] : bindings_in) every(ns);
        } else {
          every(h.grant->ns);
        }
        continue;
      }
      patch_bindings(patch_candidates(h, false), h);
    }

    // node root.
    for (const Held& pv : held[kPvCreate]) {
      if (!pv.hit->any) continue;
      for (const Held& pvc : held[kPvcCreate]) {
        const Held* pods = find(kPodsCreate, where(pvc));
        if (!pods) pods = find(kWorkloadWrite, where(pvc));
        if (!pods && pvc.grant->cluster) {
          if (!held[kPodsCreate].empty()) pods = &held[kPodsCreate][0];
          else if (!held[kWorkloadWrite].empty()) pods = &held[kWorkloadWrite][0];
        }
        if (!pvc.hit->any || !pods) continue;
        add_edge(node, root, StepKind::HostPathVolume,
                 "create a hostPath PersistentVolume + a claim and a pod " + scope_text(pvc.grant->cluster, pvc.grant->ns) +
                     " (Pod Security admission does not see the hostPath)",
                 {witness(pv), witness(pvc), witness(*pods)});
      }
    }
    for (const Held& h : held[kNodesProxy]) {
      if (h.hit->any) {
        add_edge(node, root, StepKind::NodesProxy, "nodes/proxy: the kubelet API (run commands in any pod on any node)",
                 {witness(h)});
      }
    }
    for (const Held& h : held[kPodsCreate]) {
      if (h.hit->any) {
        add_edge(node, root, StepKind::PodCreate, "create a privileged pod " + scope_text(h.grant->cluster, h.grant->ns),
                 {witness(h)});
      }
    }
    for (const Held& h : held[kWorkloadWrite]) {
      if (h.hit->any) {
        add_edge(node, root, StepKind::WorkloadWrite,
                 "write a pod controller with a privileged pod template " + scope_text(h.grant->cluster, h.grant->ns),
                 {witness(h)});
      }
    }
    for (const Held& h : held[kPodsPortForward]) {
      if (!h.hit->any) continue;
      auto first_host_network = [&](const std::vector<std::uint32_t>& list) -> const Workload* {
        for (const std::uint32_t wn : list) {
          const Workload& w = assets_.workloads[static_cast<std::size_t>(nodes_[wn].workload)];
          if (w.host_network) return &w;
        }
        return nullptr;
      };
      const Workload* w = nullptr;
      if (h.grant->cluster) {
        for (const auto& [ns, list] : workloads_in)
          if ((w = first_host_network(list))) break;
      } else if (auto it = workloads_in.find(h.grant->ns); it != workloads_in.end()) {
        w = first_host_network(it->second);
      }
      if (w) {
        add_edge(node, root, StepKind::PortForward,
                 "port-forward into hostNetwork " + w->name + ": the node's loopback-only services", {witness(h)});
      }
    }
    // Secrets of every namespace (or kube-system's, or another namespace's for a ServiceAccount).
    for (const Held& h : held[kSecretsRead]) {
      if (!h.hit->any) continue;
      const bool other = h.grant->cluster || h.grant->ns == "kube-system" ||
                         (self.kind == NodeKind::Identity && self.subject == SubjectKind::ServiceAccount && self.ns != h.grant->ns);
      if (other) {
        add_edge(node, secrets, StepKind::SecretsRead, "read Secrets " + scope_text(h.grant->cluster, h.grant->ns),
                 {witness(h)});
      }
    }
    // Token theft: read existing token Secrets (whole namespaces through their
    // pool, single Secrets by resourceNames); create one; request a token.
    for (const Held& h : held[kSecretsRead]) {
      if (!h.hit->any) continue;
      const std::uint32_t* pool = nullptr;
      if (h.grant->cluster) pool = &every_token;
      else if (auto it = token_pools.find(h.grant->ns); it != token_pools.end()) pool = &it->second;
      if (pool) {
        add_edge(node, *pool, StepKind::TokenSecretRead,
                 "read the token Secrets " + scope_text(h.grant->cluster, h.grant->ns), {witness(h)});
      }
    }
    for (const Held& h : held[kSecretsGet]) {
      if (h.hit->any) continue;  // read through the pool above
      auto read_named = [&](const std::vector<std::size_t>& list) {
        for (const std::size_t t : list) {
          const TokenSecret& ts = assets_.token_secrets[t];
          if (h.hit->allows(ts.name)) {
            add_edge(node, sa_in(ts.ns, ts.service_account), StepKind::TokenSecretRead,
                     "read token Secret " + ts.ns + "/" + ts.name + names_text(*h.hit), {witness(h)});
          }
        }
      };
      if (h.grant->cluster) {
        for (const auto& [ns, list] : tokens_in) read_named(list);
      } else if (auto it = tokens_in.find(h.grant->ns); it != tokens_in.end()) {
        read_named(it->second);
      }
    }
    for (const Held& h : held[kSecretsCreate]) {
      if (!h.hit->any) continue;
      const Held* read = find(kSecretsRead, where(h));
      if (!read && h.grant->cluster && !held[kSecretsRead].empty()) read = &held[kSecretsRead][0];
      if (!read) continue;
      add_edge(node, pool_of(h), StepKind::TokenSecretCreate,
               "create a service-account-token Secret and read it " + scope_text(h.grant->cluster, h.grant->ns),
               {witness(h), witness(*read)});
    }
    for (const Held& h : held[kTokenCreate]) {
      if (h.hit->any) {
        add_edge(node, pool_of(h), StepKind::TokenRequest,
                 "create serviceaccounts/token " + scope_text(h.grant->cluster, h.grant->ns), {witness(h)});
      } else if (!h.grant->cluster) {
        for (const std::string& n : h.hit->names) {
          add_edge(node, sa_in(h.grant->ns, n), StepKind::TokenRequest,
                   "create serviceaccounts/token for " + h.grant->ns + "/" + n + names_text(*h.hit), {witness(h)});
        }
      }
    }
    // Any ServiceAccount of the namespace: a new pod (or pod template) runs as it.
    for (const Held& h : held[kPodsCreate]) {
      if (h.hit->any) {
        add_edge(node, pool_of(h), StepKind::PodCreate,
                 "create a pod running as any ServiceAccount " + scope_text(h.grant->cluster, h.grant->ns), {witness(h)});
      }
    }
    for (const Held& h : held[kWorkloadWrite]) {
      if (h.hit->any) {
        add_edge(node, pool_of(h), StepKind::WorkloadWrite,
                 "write a pod controller running as any ServiceAccount " + scope_text(h.grant->cluster, h.grant->ns),
                 {witness(h)});
      }
    }
    // Pods that already run: exec, attach, ephemeral containers, new images.
    auto into_workloads = [&](Probe probe, StepKind step, const char* what, bool token_only) {
      for (const Held& h : held[probe]) {
        if (!h.hit->any) continue;
        std::uint32_t pool = token_only ? every_token_pod : every_pod;
        if (!h.grant->cluster) {
          auto it = pod_pools.find(h.grant->ns);
          if (it == pod_pools.end()) continue;  // no workload runs there
          pool = token_only ? it->second.second : it->second.first;
        }
        add_edge(node, pool, step, std::string(what) + " " + scope_text(h.grant->cluster, h.grant->ns), {witness(h)});
      }
    };
    into_workloads(kPodsExec, StepKind::PodExec, "exec into running pods", false);
    into_workloads(kPodsAttach, StepKind::PodAttach, "attach to running pods", false);
    into_workloads(kPodsEphemeral, StepKind::EphemeralContainers, "add an ephemeral container to running pods", false);
    into_workloads(kPodsUpdate, StepKind::PodModify, "change the image of running pods", true);
    for (const Held& h : held[kValidatingWebhooks]) {
      if (h.hit->any) {
        add_edge(node, secrets, StepKind::WebhookControl,
                 "write validatingwebhookconfigurations: receive every Secret written in the cluster", {witness(h)});
      }
    }
  }
}

void PathAnalysis::search() {
  // Backwards from each target: reverse adjacency in edge order, so among
  // equally short paths the first edge added (the more specific kind) wins.
  std::vector<std::vector<std::uint32_t>> incoming(nodes_.size());
  for (std::uint32_t e = 0; e < edges_.size(); ++e) incoming[edges_[e].to].push_back(e);
  for (std::size_t t = 0; t < kTargets; ++t) {
    auto& dist = dist_[t];
    auto& next = next_edge_[t];
    dist.assign(nodes_.size(), -1);
    next.assign(nodes_.size(), -1);
    std::uint32_t start = 0;
    for (std::uint32_t i = 0; i < nodes_.size(); ++i)
      if (nodes_[i].kind == NodeKind::Target && static_cast<std::size_t>(nodes_[i].target) == t) start = i;
    std::deque<std::uint32_t> queue{start};
    dist[start] = 0;
    while (!queue.empty()) {
      const std::uint32_t at = queue.front();
      queue.pop_front();
      for (const std::uint32_t e : incoming[at]) {
        const std::uint32_t from = edges_[e].from;
        if (dist[from] >= 0) continue;
        dist[from] = dist[at] + 1;
        next[from] = static_cast<std::int32_t>(e);
        queue.push_back(from);
      }
    }
  }
}

Path PathAnalysis::trace(std::uint32_t from, Target t) const {
  Path p;
  p.from = from;
  p.target = t;
  const std::size_t ti = static_cast<std::size_t>(t);
  std::uint32_t at = from;
  while (next_edge_[ti][at] >= 0) {
    const Edge& e = edges_[static_cast<std::size_t>(next_edge_[ti][at])];
    for (const Witness& w : e.via) {
      if (w.binding != kNoBinding && index_.binding(w.binding).origin.assumed) p.assumed = true;
      if (index_.policy().roles.size() > w.role && index_.role(w.role).origin.assumed && w.binding != kNoBinding)
        p.assumed = true;
    }
    // A pool is no step of its own: its hop to a member is folded into the
    // step that led to the pool ("read the token Secrets of dev (its token
    // Secret dev/x)"), so step counts are an attacker's actions.
    if (nodes_[at].kind == NodeKind::Pool && !p.steps.empty()) {
      PathStep& prev = p.steps.back();
      prev.to = e.to;
      if (e.kind != StepKind::PoolMember) prev.permission += " (" + e.permission + ")";
      prev.via.insert(prev.via.end(), e.via.begin(), e.via.end());
    } else {
      p.steps.push_back({e.kind, e.to, e.permission, e.via});
    }
    at = e.to;
  }
  return p;
}

std::vector<Path> PathAnalysis::paths_from(std::uint32_t node) const {
  std::vector<Path> out;
  for (std::size_t t = 0; t < kTargets; ++t)
    if (dist_[t][node] > 0) out.push_back(trace(node, static_cast<Target>(t)));
  return out;
}

std::vector<Path> PathAnalysis::all_paths() const {
  std::vector<Path> out;
  for (const std::uint32_t id : reportable_) {
    for (std::size_t t = 0; t < kTargets; ++t) {
      if (dist_[t][id] > 0) {
        out.push_back(trace(id, static_cast<Target>(t)));
        break;  // the most severe target only
      }
    }
  }
  return out;
}

}  // namespace kg::rbac

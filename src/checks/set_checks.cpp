// Set-level check templates: rules whose verdict depends on other objects of
// the input (which NetworkPolicies select a pod, which role a binding really
// grants once aggregation is resolved, which ServiceAccount a pod uses).
// They run once, after the whole input has been read, over its Inventory.
#include <algorithm>
#include <map>

#include "checks/rbac_bootstrap.hpp"
#include "checks/check_util.hpp"
#include "checks/facts.hpp"
#include "checks/registry.hpp"
#include "core/label_index.hpp"

namespace kg {
namespace {

std::string describe_labels(const Labels& labels) {
  std::string s;
  for (const auto& [k, v] : labels) {
    if (!s.empty()) s += ", ";
    s += k + "=" + v;
  }
  return s.empty() ? "no labels" : s;
}

// The pod template's labels live beside its spec.
std::string labels_path(const WorkloadFacts& w) {
  std::string p = w.spec_path;
  if (p.size() >= 4 && p.compare(p.size() - 4, 4, "spec") == 0) p.resize(p.size() - 4);
  return p + "metadata.labels";
}

bool contains(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// Workloads whose findings belong to them (not to a controller in the input).
template <typename Fn>
void for_each_top_workload(const Inventory& inv, Fn&& fn) {
  for (const WorkloadFacts& w : Workloads::of(inv).rows)
    if (!inv.controlled_by_input(w.object)) fn(w);
}

// --- network-policy-coverage ---------------------------------------------------

class NetworkCoverage final : public SetCheck {
 public:
  std::vector<std::string> needs_kinds() const override { return {"NetworkPolicy", "workloads"}; }
  std::vector<const FactCollector*> facts() const override {
    return {&Workloads::collector(), &NetworkPolicies::collector()};
  }
  bool require_both = false;
  void evaluate(const Inventory& inv, SetSink& sink) const override {
    const NetworkPolicies& np_table = NetworkPolicies::of(inv);
    PerNamespace<SelectorIndex> policies(
        [&](const std::string& ns) -> const std::vector<std::size_t>& { return np_table.in(inv, ns); },
        [&](std::size_t ni) -> const LabelSelector& { return np_table.rows[ni].pod_selector; });
    // Policies with podSelector {} select every pod of their namespace: their
    // policy types are gathered once per namespace.
    struct Everyone {
      bool any = false, ingress = false, egress = false;
    };
    std::unordered_map<std::string, Everyone> everyone;
    std::vector<std::size_t> candidates;
    for_each_top_workload(inv, [&](const WorkloadFacts& w) {
      const ObjectFacts& o = inv.objects[w.object];
      const SelectorIndex& index = policies.in(o.ns);
      auto [all, fresh] = everyone.try_emplace(o.ns);
      if (fresh) {
        for (std::size_t ni : index.selecting_everything()) {
          all->second.any = true;
          all->second.ingress |= np_table.rows[ni].ingress_type;
          all->second.egress |= np_table.rows[ni].egress_type;
        }
      }
      bool ingress = all->second.ingress, egress = all->second.egress, any = all->second.any;
      index.candidates(w.pod_labels, candidates, false);
      for (std::size_t ni : candidates) {
        const NetworkPolicyFacts& np = np_table.rows[ni];
        if (!np.pod_selector.matches(w.pod_labels)) continue;
        any = true;
        ingress |= np.ingress_type;
        egress |= np.egress_type;
      }
      std::string missing;
      if (!any) {
        missing = "no NetworkPolicy in " + checks::namespace_phrase(o.ns) + " selects this pod (" +
                  describe_labels(w.pod_labels) + "), so all traffic to and from it is allowed";
      } else if (require_both && !(ingress && egress)) {
        missing = std::string("the NetworkPolicies selecting this pod restrict only ") +
                  (ingress ? "ingress" : "egress") + "; " + (ingress ? "egress" : "ingress") +
                  " is unrestricted";
      }
      if (missing.empty()) {
        sink.pass(w.object);
      } else {
        const Mark m = first_mark(w.labels_at, w.template_meta_at, w.spec_key_at);
        sink.fail(w.object, {{missing, labels_path(w), m.line, m.column, {}}});
      }
    });
  }
};

// --- namespace-policy ---------------------------------------------------------

enum class NamespaceRequirement { DefaultDenyIngress, DefaultDenyEgress, LimitRange, ResourceQuota, MetadataEgressBlocked };

class NamespacePolicy final : public SetCheck {
 public:
  NamespaceRequirement requirement = NamespaceRequirement::DefaultDenyIngress;

  std::vector<std::string> needs_kinds() const override {
    switch (requirement) {
      case NamespaceRequirement::LimitRange: return {"Namespace", "workloads", "LimitRange"};
      case NamespaceRequirement::ResourceQuota: return {"Namespace", "workloads", "ResourceQuota"};
      default: return {"Namespace", "workloads", "NetworkPolicy"};
    }
  }
  std::vector<const FactCollector*> facts() const override {
    switch (requirement) {
      case NamespaceRequirement::LimitRange:
        return {&KindObjects::namespaces(), &Workloads::collector(), &KindObjects::limit_ranges()};
      case NamespaceRequirement::ResourceQuota:
        return {&KindObjects::namespaces(), &Workloads::collector(), &KindObjects::resource_quotas()};
      default: return {&KindObjects::namespaces(), &Workloads::collector(), &NetworkPolicies::collector()};
    }
  }

  bool satisfied(const Inventory& inv, const std::string& ns) const {
    switch (requirement) {
      case NamespaceRequirement::DefaultDenyIngress:
      case NamespaceRequirement::DefaultDenyEgress: {
        const bool ingress = requirement == NamespaceRequirement::DefaultDenyIngress;
        // Default deny: selects every pod, has the policy type, allows nothing.
        const NetworkPolicies& policies = NetworkPolicies::of(inv);
        const auto& in_ns = policies.in(inv, ns);
        return std::any_of(in_ns.begin(), in_ns.end(), [&](std::size_t ni) {
          const NetworkPolicyFacts& np = policies.rows[ni];
          return np.pod_selector.empty() && (ingress ? np.ingress_type && np.ingress_rules == 0
                                                     : np.egress_type && np.egress_rules == 0);
        });
      }
      case NamespaceRequirement::MetadataEgressBlocked: {
        // Every pod is egress-isolated (a policy with podSelector {} and
        // policyType Egress) and no policy of the namespace allows the
        // metadata address back (policies add up: one allow is enough).
        const NetworkPolicies& policies = NetworkPolicies::of(inv);
        const auto& in_ns = policies.in(inv, ns);
        const bool isolated = std::any_of(in_ns.begin(), in_ns.end(), [&](std::size_t ni) {
          return policies.rows[ni].pod_selector.empty() && policies.rows[ni].egress_type;
        });
        return isolated && std::none_of(in_ns.begin(), in_ns.end(), [&](std::size_t ni) {
                 return policies.rows[ni].egress_type && !policies.rows[ni].egress_to_metadata.empty();
               });
      }
      case NamespaceRequirement::LimitRange:
      case NamespaceRequirement::ResourceQuota: {
        const auto& objects = inv.facts<KindObjects>(requirement == NamespaceRequirement::LimitRange
                                                         ? KindObjects::limit_ranges()
                                                         : KindObjects::resource_quotas())
                                  .rows;
        return std::any_of(objects.begin(), objects.end(),
                           [&](const ObjectRow& r) { return inv.objects[r.object].ns == ns; });
      }
    }
    return true;
  }

  std::string message(const std::string& ns) const {
    switch (requirement) {
      case NamespaceRequirement::DefaultDenyIngress:
        return checks::namespace_phrase(ns) + " has no default-deny ingress NetworkPolicy (podSelector: {}, policyTypes: [Ingress], no rules)";
      case NamespaceRequirement::DefaultDenyEgress:
        return checks::namespace_phrase(ns) + " has no default-deny egress NetworkPolicy (podSelector: {}, policyTypes: [Egress], no rules)";
      case NamespaceRequirement::MetadataEgressBlocked:
        return checks::namespace_phrase(ns) +
               " lets pods reach the cloud metadata address 169.254.169.254 (no egress NetworkPolicy isolates every pod "
               "without allowing it)";
      case NamespaceRequirement::LimitRange:
        return checks::namespace_phrase(ns) + " has no LimitRange";
      case NamespaceRequirement::ResourceQuota:
        return checks::namespace_phrase(ns) + " has no ResourceQuota";
    }
    return {};
  }

  void evaluate(const Inventory& inv, SetSink& sink) const override {
    // The subject is the Namespace object when the input has it; otherwise
    // the first workload of that namespace, so the finding has a location.
    std::map<std::string, std::size_t> namespace_objects;
    for (const ObjectRow& r : inv.facts<KindObjects>(KindObjects::namespaces()).rows)
      namespace_objects[inv.objects[r.object].name] = r.object;
    const Workloads& workloads = Workloads::of(inv);
    for (const std::string& ns : inv.namespaces_in_use()) {
      std::optional<std::size_t> subject = namespace_objects.count(ns)
                                               ? std::optional<std::size_t>(namespace_objects.at(ns))
                                               : std::nullopt;
      if (!subject) {
        for (std::size_t wi : workloads.in(inv, ns)) {
          if (!inv.controlled_by_input(workloads.rows[wi].object)) {
            subject = workloads.rows[wi].object;
            break;
          }
        }
      }
      if (!subject) continue;
      if (satisfied(inv, ns)) {
        sink.pass(*subject);
      } else {
        // The Namespace's name, or the workload's metadata.namespace (its
        // metadata when the namespace is defaulted).
        const ObjectFacts& so = inv.objects[*subject];
        const bool is_ns = so.kind == "Namespace";
        const Mark m = first_mark(is_ns ? so.name_at : so.namespace_at, so.metadata_at);
        sink.fail(*subject, {{message(ns), is_ns ? "metadata.name" : "metadata.namespace", m.line, m.column, {}}});
      }
    }
  }
};

// --- selector-target ------------------------------------------------------------

class SelectorTarget final : public SetCheck {
 public:
  bool services = true;  // else NetworkPolicies
  std::vector<std::string> needs_kinds() const override {
    return {services ? "Service" : "NetworkPolicy", "workloads"};
  }
  std::vector<const FactCollector*> facts() const override {
    return {services ? &Services::collector() : &NetworkPolicies::collector(), &Workloads::collector()};
  }
  void evaluate(const Inventory& inv, SetSink& sink) const override {
    const Workloads& workload_table = Workloads::of(inv);
    PerNamespace<LabeledIndex> workloads(
        [&](const std::string& ns) -> const std::vector<std::size_t>& { return workload_table.in(inv, ns); },
        [&](std::size_t wi) -> const Labels& { return workload_table.rows[wi].pod_labels; });
    auto any_match = [&](const std::string& ns, const LabelSelector& sel) {
      const auto& in_ns = workloads.in(ns).candidates(sel);
      return std::any_of(in_ns.begin(), in_ns.end(), [&](std::size_t wi) {
        return sel.matches(workload_table.rows[wi].pod_labels);
      });
    };
    if (services) {
      for (const ServiceFacts& s : Services::of(inv).rows) {
        if (!s.selector.present || s.type == "ExternalName") continue;  // no selector: endpoints are managed by hand
        const ObjectFacts& o = inv.objects[s.object];
        if (any_match(o.ns, s.selector)) {
          sink.pass(s.object);
        } else {
          sink.fail(s.object, {{"Service selector (" + describe_labels(s.selector.match_labels) +
                                    ") matches no pod template in " + checks::namespace_phrase(o.ns),
                                "spec.selector", s.selector_at.line, s.selector_at.column, {}}});
        }
      }
      return;
    }
    for (const NetworkPolicyFacts& np : NetworkPolicies::of(inv).rows) {
      if (np.pod_selector.empty()) continue;  // {} selects every pod, present or future
      const ObjectFacts& o = inv.objects[np.object];
      if (any_match(o.ns, np.pod_selector)) {
        sink.pass(np.object);
      } else {
        sink.fail(np.object, {{"podSelector (" + describe_labels(np.pod_selector.match_labels) +
                                   ") matches no pod template in " + checks::namespace_phrase(o.ns),
                               "spec.podSelector", np.pod_selector_at.line, np.pod_selector_at.column, {}}});
      }
    }
  }
};

// --- pdb-coverage --------------------------------------------------------------

class PdbCoverage final : public SetCheck {
 public:
  std::vector<std::string> needs_kinds() const override { return {"PodDisruptionBudget", "workloads"}; }
  std::vector<const FactCollector*> facts() const override {
    return {&PodDisruptionBudgets::collector(), &Workloads::collector()};
  }
  std::int64_t min_replicas = 2;
  void evaluate(const Inventory& inv, SetSink& sink) const override {
    const PodDisruptionBudgets& pdb_table = PodDisruptionBudgets::of(inv);
    PerNamespace<SelectorIndex> pdbs(
        [&](const std::string& ns) -> const std::vector<std::size_t>& { return pdb_table.in(inv, ns); },
        [&](std::size_t pi) -> const LabelSelector& { return pdb_table.rows[pi].selector; });
    for_each_top_workload(inv, [&](const WorkloadFacts& w) {
      const ObjectFacts& o = inv.objects[w.object];
      if (o.kind != "Deployment" && o.kind != "StatefulSet") return;
      // spec.replicas unset is the API default, 1.
      const std::int64_t replicas = w.replicas.value_or(1);
      if (replicas < min_replicas) return;
      const bool covered = pdbs.in(o.ns).any(w.pod_labels, [&](std::size_t pi) {
        return pdb_table.rows[pi].selector.matches(w.pod_labels);
      });
      if (covered) {
        sink.pass(w.object);
      } else {
        sink.fail(w.object, {{o.kind + " has " + std::to_string(replicas) +
                                  (w.replicas ? " replicas" : " replica (spec.replicas unset)") +
                                  " but no PodDisruptionBudget selects its pods",
                              "spec.replicas",
                              first_mark(Mark{w.replicas_line, w.replicas_column}, w.object_spec_at).line,
                              first_mark(Mark{w.replicas_line, w.replicas_column}, w.object_spec_at).column,
                              {}}});
      }
    });
  }
};

// --- service-account -----------------------------------------------------------

enum class SaMode { Automount, Missing, BoundAndMounted };

class ServiceAccountCheck final : public SetCheck {
 public:
  SaMode mode = SaMode::Automount;
  std::vector<std::string> needs_kinds() const override {
    if (mode == SaMode::BoundAndMounted)
      return {"ServiceAccount", "workloads", "RoleBinding", "ClusterRoleBinding"};
    return {"ServiceAccount", "workloads"};
  }
  std::vector<const FactCollector*> facts() const override {
    if (mode == SaMode::BoundAndMounted)
      return {&ServiceAccounts::collector(), &Workloads::collector(), &Bindings::collector()};
    return {&ServiceAccounts::collector(), &Workloads::collector()};
  }

  static const ServiceAccountFacts* find_sa(const Inventory& inv, const std::string& ns, const std::string& name) {
    return ServiceAccounts::of(inv).find(inv, ns, name);
  }

  static bool token_mounted(const Inventory& inv, const WorkloadFacts& w, const std::string& sa) {
    if (w.automount) return *w.automount;
    if (const ServiceAccountFacts* f = find_sa(inv, inv.objects[w.object].ns, sa); f && f->automount)
      return *f->automount;
    return true;  // the API default
  }

  void evaluate(const Inventory& inv, SetSink& sink) const override {
    for_each_top_workload(inv, [&](const WorkloadFacts& w) {
      const ObjectFacts& o = inv.objects[w.object];
      const std::string sa = w.service_account.empty() ? "default" : w.service_account;
      const std::string sa_path = w.spec_path + ".serviceAccountName";
      switch (mode) {
        case SaMode::Automount:
          if (!w.long_running && !token_mounted(inv, w, sa)) return sink.pass(w.object);
          if (token_mounted(inv, w, sa)) {
            sink.fail(w.object, {{"the ServiceAccount token of \"" + sa +
                                      "\" is mounted into the pod; neither the pod nor the ServiceAccount sets automountServiceAccountToken: false",
                                  w.spec_path + ".automountServiceAccountToken",
                                  first_mark(w.automount_at, w.spec_key_at).line,
                                  first_mark(w.automount_at, w.spec_key_at).column, {}}});
          } else {
            sink.pass(w.object);
          }
          return;
        case SaMode::Missing:
          if (sa == "default") return;
          if (find_sa(inv, o.ns, sa)) return sink.pass(w.object);
          sink.fail(w.object, {{"ServiceAccount \"" + sa + "\" is not defined in " + checks::namespace_phrase(o.ns) +
                                    " in this input",
                                sa_path, first_mark(w.service_account_at, w.spec_key_at).line,
                                first_mark(w.service_account_at, w.spec_key_at).column, {}}});
          return;
        case SaMode::BoundAndMounted: {
          // The automounted token, or one the pod projects itself (a serviceAccountToken
          // volume for the API server): either carries the ServiceAccount's permissions.
          const bool automounted = token_mounted(inv, w, sa);
          if (!automounted && !w.projected_token_volume) return sink.pass(w.object);
          const Bindings& bindings = Bindings::of(inv);
          for (std::size_t bi : bindings.of_service_account(inv, o.ns, sa)) {
                const ObjectFacts& bo = inv.objects[bindings.rows[bi].object];
                const std::string grants = "\", which " + bo.kind + " \"" + bo.name +
                                           "\" grants RBAC permissions; a compromised container can use them";
                if (automounted) {
                  sink.fail(w.object, {{"the pod mounts the token of ServiceAccount \"" + sa + grants,
                                        w.spec_path + ".automountServiceAccountToken",
                                        first_mark(w.automount_at, w.spec_key_at).line,
                                        first_mark(w.automount_at, w.spec_key_at).column, {}}});
                } else {
                  const Mark at = first_mark(w.projected_token_at, w.spec_key_at);
                  sink.fail(w.object, {{"the pod projects a token of ServiceAccount \"" + sa + "\" (volume \"" +
                                            w.projected_token_name + "\")" + grants.substr(1),
                                        w.spec_path + ".volumes[" + std::to_string(*w.projected_token_volume) + "]",
                                        at.line, at.column, {}}});
                }
                return;
              }
          sink.pass(w.object);
          return;
        }
      }
    });
  }
};

// --- rbac-grant ------------------------------------------------------------------

struct Permission {
  std::string_view name;  // parameter value
  std::string_view description;
  std::string_view group;
  std::vector<std::string_view> resources;
  std::vector<std::string_view> verbs;
};

const std::vector<Permission>& known_permissions() {
  static const std::vector<Permission> kPermissions = {
      {"cluster-admin", "full control of every resource (*/*/*)", "*", {"*"}, {"*"}},
      {"secrets-read", "read Secrets", "", {"secrets"}, {"get", "list", "watch"}},
      {"pod-exec", "exec or attach into pods", "", {"pods/exec", "pods/attach"}, {"create", "get"}},
      {"escalate", "grant itself more permissions (escalate/bind or write RBAC bindings)",
       "rbac.authorization.k8s.io",
       {"roles", "clusterroles", "rolebindings", "clusterrolebindings"},
       {"escalate", "bind", "create", "update", "patch"}},
      {"impersonate", "impersonate users, groups or service accounts", "",
       {"users", "groups", "serviceaccounts"}, {"impersonate"}},
      {"nodes-proxy", "reach the kubelet API through nodes/proxy", "", {"nodes/proxy"},
       {"get", "create"}},
      {"create-pods", "create pods (and so run any image with any mounted ServiceAccount)", "",
       {"pods"}, {"create"}},
      {"token-create", "mint tokens for any ServiceAccount", "", {"serviceaccounts/token"},
       {"create"}},
  };
  return kPermissions;
}

bool rule_grants(const PolicyRule& r, const Permission& p) {
  if (!r.resource_names.empty() && p.name != "cluster-admin") return false;  // narrowed to named objects
  auto has = [](const std::vector<std::string>& v, std::string_view x) {
    return std::find(v.begin(), v.end(), x) != v.end() || std::find(v.begin(), v.end(), "*") != v.end();
  };
  if (p.name == "cluster-admin") {
    // Every verb: "*", or the full set spelled out.
    static constexpr std::string_view kAll[] = {"get",   "list",   "watch", "create",
                                                "update", "patch", "delete", "deletecollection"};
    const bool all_verbs = contains(r.verbs, "*") ||
                           std::all_of(std::begin(kAll), std::end(kAll),
                                       [&](std::string_view v) { return contains(r.verbs, v); });
    return contains(r.api_groups, "*") && contains(r.resources, "*") && all_verbs;
  }
  const std::string_view group = p.group == "*" ? std::string_view("") : p.group;
  if (!has(r.api_groups, group)) return false;
  const bool resource = std::any_of(p.resources.begin(), p.resources.end(), [&](std::string_view res) {
    return has(r.resources, res);
  });
  const bool verb = std::any_of(p.verbs.begin(), p.verbs.end(), [&](std::string_view v) {
    return has(r.verbs, v);
  });
  return resource && verb;
}

class RbacGrant final : public SetCheck {
 public:
  bool workloads = false;  // subject: workloads (via their SA) instead of bindings
  std::vector<std::string> needs_kinds() const override {
    std::vector<std::string> kinds{"Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"};
    if (workloads) kinds.emplace_back("workloads");
    return kinds;
  }
  std::vector<const FactCollector*> facts() const override {
    std::vector<const FactCollector*> tables{&Roles::collector(), &Bindings::collector()};
    if (workloads) tables.push_back(&Workloads::collector());
    return tables;
  }
  std::vector<const Permission*> permissions;
  std::vector<std::string> ignore_prefixes;  // besides the API server's bootstrap bindings

  // What the binding's role grants of the watched permissions.
  std::vector<const Permission*> granted(const Inventory& inv, const BindingFacts& b) const {
    std::vector<const Permission*> out;
    const Roles& roles = Roles::of(inv);
    const RoleFacts* role = roles.find(inv, b.role_kind, inv.objects[b.object].ns, b.role_name);
    if (!role) {
      // The built-in cluster-admin role is rarely in manifests but always in clusters.
      if (b.role_kind == "ClusterRole" && b.role_name == "cluster-admin") {
        for (const Permission* p : permissions)
          if (p->name == "cluster-admin") out.push_back(p);
      }
      return out;
    }
    const auto rules = roles.effective_rules(inv, *role);
    for (const Permission* p : permissions) {
      if (std::any_of(rules.begin(), rules.end(), [&](const PolicyRule* r) { return rule_grants(*r, *p); }))
        out.push_back(p);
    }
    return out;
  }

  static std::string list(const std::vector<const Permission*>& ps) {
    std::string s;
    for (const Permission* p : ps) s += (s.empty() ? "" : "; ") + std::string(p->description);
    return s;
  }

  bool ignored(const ObjectFacts& o) const {
    if (checks::is_bootstrap_rbac(o.kind, o.ns, o.name)) return true;
    return std::any_of(ignore_prefixes.begin(), ignore_prefixes.end(),
                       [&](const std::string& p) { return o.name.rfind(p, 0) == 0; });
  }

  void evaluate(const Inventory& inv, SetSink& sink) const override {
    if (!workloads) {
      for (const BindingFacts& b : Bindings::of(inv).rows) {
        const ObjectFacts& o = inv.objects[b.object];
        if (ignored(o)) continue;
        // Grants to identities a workload or an outsider can use; and full
        // control (cluster-admin or its equivalent), whoever it is granted to.
        bool risky_subject = false;
        for (const Subject& s : b.subjects) {
          risky_subject |= s.kind == "ServiceAccount" || s.name == "system:authenticated" ||
                           s.name == "system:unauthenticated" || s.name == "system:anonymous";
        }
        auto g = granted(inv, b);
        const bool full_control = std::any_of(g.begin(), g.end(), [](const Permission* p) {
          return p->name == "cluster-admin";
        });
        if (!risky_subject && !full_control) continue;
        if (!risky_subject) {
          g.erase(std::remove_if(g.begin(), g.end(),
                                 [](const Permission* p) { return p->name != "cluster-admin"; }),
                  g.end());
        }
        if (g.empty()) {
          sink.pass(b.object);
        } else {
          std::string who;
          for (const Subject& s : b.subjects)
            who += (who.empty() ? "" : ", ") + s.kind + " \"" + s.name + "\"";
          sink.fail(b.object, {{o.kind + " grants " + b.role_kind + " \"" + b.role_name + "\" to " +
                                    (who.empty() ? std::string("no subject") : who) +
                                    "; it allows: " + list(g),
                                "roleRef.name", b.role_name_line, b.role_name_column, {}}});
        }
      }
      return;
    }
    // What each service account is granted, worked out once per account:
    // many workloads sharing one account with many bindings stay linear.
    struct Grants {
      std::vector<const Permission*> all;
      std::string via;
    };
    std::map<std::pair<std::string, std::string>, Grants, std::less<>> by_account;
    for_each_top_workload(inv, [&](const WorkloadFacts& w) {
      const ObjectFacts& o = inv.objects[w.object];
      const std::string sa = w.service_account.empty() ? "default" : w.service_account;
      auto [it, fresh] = by_account.try_emplace({o.ns, sa});
      if (fresh) {
        for (std::size_t bi : Bindings::of(inv).of_service_account(inv, o.ns, sa)) {
          const BindingFacts& b = Bindings::of(inv).rows[bi];
          for (const Permission* p : granted(inv, b)) {
            if (std::find(it->second.all.begin(), it->second.all.end(), p) == it->second.all.end()) {
              it->second.all.push_back(p);
              if (it->second.via.empty())
                it->second.via = inv.objects[b.object].kind + " \"" + inv.objects[b.object].name + "\"";
            }
          }
        }
      }
      const std::vector<const Permission*>& all = it->second.all;
      const std::string& via = it->second.via;
      if (all.empty()) {
        sink.pass(w.object);
      } else {
        sink.fail(w.object, {{"the pod runs as ServiceAccount \"" + sa + "\", which " + via +
                                  " lets it " + list(all),
                              w.spec_path + ".serviceAccountName",
                              first_mark(w.service_account_at, w.spec_key_at).line,
                              first_mark(w.service_account_at, w.spec_key_at).column, {}}});
      }
    });
  }
};

// --- sandbox-runtime -----------------------------------------------------------

// RuntimeClass objects: name and the CRI handler they select.
struct RuntimeClassFacts {
  std::size_t object = 0;
  std::string name;
  std::string handler;
};
class RuntimeClasses final : public CheckTable<RuntimeClasses, RuntimeClassFacts> {
 public:
  static constexpr std::string_view kKinds[] = {"RuntimeClass"};
  static constexpr FactCollector kCollector{"runtime-classes", kKinds, make_table<RuntimeClasses>};
  void add(std::size_t object, const Object& obj, const PodView&) override {
    rows.push_back({object, std::string(obj.name), std::string(str(get(obj.root, "handler")))});
  }
};

class SandboxRuntime final : public SetCheck {
 public:
  // mode handler: the runtimeClassName must name a RuntimeClass of the input
  // whose handler is a sandbox (runsc, kata…), not only a sandbox-like name.
  bool check_handler = false;
  std::vector<std::string> handlers{"runsc", "gvisor", "kata", "kata-qemu", "kata-clh", "kata-fc", "kata-runtime"};
  std::vector<std::string> needs_kinds() const override {
    if (check_handler) return {"Namespace", "workloads", "RuntimeClass"};
    return {"Namespace", "workloads"};
  }
  std::vector<const FactCollector*> facts() const override {
    if (check_handler) return {&KindObjects::namespaces(), &Workloads::collector(), &RuntimeClasses::collector()};
    return {&KindObjects::namespaces(), &Workloads::collector()};
  }
  void evaluate_handlers(const Inventory& inv, const std::map<std::string, std::string>& untrusted, SetSink& sink) const {
    std::map<std::string, const RuntimeClassFacts*> classes;
    for (const RuntimeClassFacts& r : RuntimeClasses::of(inv).rows) classes[r.name] = &r;
    for_each_top_workload(inv, [&](const WorkloadFacts& w) {
      const ObjectFacts& o = inv.objects[w.object];
      if (!untrusted.count(o.ns) || w.runtime_class.empty()) return;  // no class: the sandbox rule's finding
      auto it = classes.find(w.runtime_class);
      std::string problem;
      if (it == classes.end()) {
        problem = "RuntimeClass \"" + w.runtime_class + "\" does not exist, so the pod cannot start in a sandbox";
      } else if (!contains(handlers, it->second->handler)) {
        problem = "RuntimeClass \"" + w.runtime_class + "\" uses handler \"" + it->second->handler +
                  "\", not a sandboxed runtime (gVisor runsc, Kata)";
      }
      if (problem.empty()) {
        sink.pass(w.object);
      } else {
        sink.fail(w.object, {{problem, w.spec_path + ".runtimeClassName",
                              first_mark(w.runtime_class_at, w.spec_key_at).line,
                              first_mark(w.runtime_class_at, w.spec_key_at).column, {}}});
      }
    });
  }
  std::string label_key = "kguard.io/tenancy";
  std::vector<std::string> label_values{"untrusted", "multi-tenant"};
  std::vector<std::string> runtime_classes{"gvisor", "runsc", "kata", "kata-qemu", "kata-clh",
                                           "kata-fc", "kata-containers"};
  void evaluate(const Inventory& inv, SetSink& sink) const override {
    std::map<std::string, std::string> untrusted;  // namespace → label value
    for (const ObjectRow& r : inv.facts<KindObjects>(KindObjects::namespaces()).rows) {
      if (contains(label_values, label(inv.objects[r.object].labels, label_key)))
        untrusted[inv.objects[r.object].name] = std::string(label(inv.objects[r.object].labels, label_key));
    }
    if (untrusted.empty()) return;
    if (check_handler) {
      evaluate_handlers(inv, untrusted, sink);
      return;
    }
    for_each_top_workload(inv, [&](const WorkloadFacts& w) {
      const ObjectFacts& o = inv.objects[w.object];
      auto ns = untrusted.find(o.ns);
      if (ns == untrusted.end()) return;
      if (contains(runtime_classes, w.runtime_class)) {
        sink.pass(w.object);
      } else {
        sink.fail(w.object, {{checks::namespace_phrase(o.ns) + " is marked " + label_key + "=" +
                                  ns->second + ", but the pod's runtimeClassName is " +
                                  (w.runtime_class.empty() ? std::string("unset") : "\"" + w.runtime_class + "\"") +
                                  " (not a sandboxed runtime)",
                              w.spec_path + ".runtimeClassName",
                              first_mark(w.runtime_class_at, w.spec_key_at).line,
                              first_mark(w.runtime_class_at, w.spec_key_at).column, {}}});
      }
    });
  }
};

}  // namespace

std::unique_ptr<SetCheck> compile_network_coverage_check(const Params& params, std::string& error) {
  auto c = std::make_unique<NetworkCoverage>();
  std::string_view req = params.string("require");
  if (req == "any" || req.empty()) {
    c->require_both = false;
  } else if (req == "both") {
    c->require_both = true;
  } else {
    error = "require must be any or both";
    return nullptr;
  }
  return c;
}

std::unique_ptr<SetCheck> compile_namespace_policy_check(const Params& params, std::string& error) {
  auto c = std::make_unique<NamespacePolicy>();
  std::string_view req = params.string("require");
  if (req == "default-deny-ingress") c->requirement = NamespaceRequirement::DefaultDenyIngress;
  else if (req == "default-deny-egress") c->requirement = NamespaceRequirement::DefaultDenyEgress;
  else if (req == "metadata-egress-blocked") c->requirement = NamespaceRequirement::MetadataEgressBlocked;
  else if (req == "limit-range") c->requirement = NamespaceRequirement::LimitRange;
  else if (req == "resource-quota") c->requirement = NamespaceRequirement::ResourceQuota;
  else {
    error = "require must be default-deny-ingress, default-deny-egress, metadata-egress-blocked, limit-range or resource-quota";
    return nullptr;
  }
  return c;
}

std::unique_ptr<SetCheck> compile_selector_target_check(const Params& params, std::string& error) {
  auto c = std::make_unique<SelectorTarget>();
  std::string_view kind = params.string("kind");
  if (kind == "Service") c->services = true;
  else if (kind == "NetworkPolicy") c->services = false;
  else {
    error = "kind must be Service or NetworkPolicy";
    return nullptr;
  }
  return c;
}

std::unique_ptr<SetCheck> compile_pdb_coverage_check(const Params& params, std::string& error) {
  auto c = std::make_unique<PdbCoverage>();
  if (params.get("minReplicas")) {
    auto n = params.integer("minReplicas");
    if (!n || *n < 1) {
      error = "minReplicas must be a positive integer";
      return nullptr;
    }
    c->min_replicas = *n;
  }
  return c;
}

std::unique_ptr<SetCheck> compile_service_account_check(const Params& params, std::string& error) {
  auto c = std::make_unique<ServiceAccountCheck>();
  std::string_view mode = params.string("mode");
  if (mode == "automount") c->mode = SaMode::Automount;
  else if (mode == "missing") c->mode = SaMode::Missing;
  else if (mode == "bound-and-mounted") c->mode = SaMode::BoundAndMounted;
  else {
    error = "mode must be automount, missing or bound-and-mounted";
    return nullptr;
  }
  return c;
}

std::unique_ptr<SetCheck> compile_rbac_grant_check(const Params& params, std::string& error) {
  auto c = std::make_unique<RbacGrant>();
  std::string_view subject = params.string("subject");
  if (subject == "binding") c->workloads = false;
  else if (subject == "workload") c->workloads = true;
  else {
    error = "subject must be binding or workload";
    return nullptr;
  }
  for (const std::string& name : params.strings("permissions")) {
    auto it = std::find_if(known_permissions().begin(), known_permissions().end(),
                           [&](const Permission& p) { return p.name == name; });
    if (it == known_permissions().end()) {
      error = "permissions: unknown permission '" + name + "'";
      return nullptr;
    }
    c->permissions.push_back(&*it);
  }
  if (c->permissions.empty()) {
    error = "permissions: at least one is required";
    return nullptr;
  }
  if (params.get("ignoreNamePrefixes")) c->ignore_prefixes = params.strings("ignoreNamePrefixes");
  return c;
}

std::unique_ptr<SetCheck> compile_sandbox_check(const Params& params, std::string& error) {
  auto c = std::make_unique<SandboxRuntime>();
  if (params.get("namespaceLabel")) c->label_key = std::string(params.string("namespaceLabel"));
  if (params.get("namespaceLabelValues")) c->label_values = params.strings("namespaceLabelValues");
  if (params.get("runtimeClasses")) c->runtime_classes = params.strings("runtimeClasses");
  if (params.string("mode") == "handler") c->check_handler = true;
  if (params.get("handlers")) c->handlers = params.strings("handlers");
  if (c->label_key.empty() || c->label_values.empty() || c->runtime_classes.empty()) {
    error = "namespaceLabel, namespaceLabelValues and runtimeClasses must not be empty";
    return nullptr;
  }
  return c;
}

}  // namespace kg

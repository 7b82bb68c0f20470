#include "engines/rbac/rbac.hpp"

#include <algorithm>
#include <map>

namespace kg::rbac {
namespace {

std::string role_key(std::string_view ns, std::string_view name) {
  std::string k(ns);
  k += '\0';
  k += name;
  return k;
}

bool has(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

}  // namespace

std::string_view subject_kind_name(SubjectKind k) {
  switch (k) {
    case SubjectKind::User: return "User";
    case SubjectKind::Group: return "Group";
    case SubjectKind::ServiceAccount: return "ServiceAccount";
  }
  return "User";
}

std::string go_quote(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\a': out += "\\a"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\v': out += "\\v"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          out += "\\x";
          out += kHex[c >> 4];
          out += kHex[c & 15];
        } else {
          out += ch;  // UTF-8 bytes pass (Go keeps printable runes)
        }
    }
  }
  return out + "\"";
}

std::string service_account_user(std::string_view ns, std::string_view name) {
  std::string u = "system:serviceaccount:";
  u += ns;
  u += ':';
  u += name;
  return u;
}

Identity service_account_identity(std::string_view ns, std::string_view name) {
  return {service_account_user(ns, name),
          {"system:serviceaccounts", "system:serviceaccounts:" + std::string(ns), "system:authenticated"}};
}

bool parse_service_account_user(std::string_view user, std::string& ns, std::string& name) {
  constexpr std::string_view kPrefix = "system:serviceaccount:";
  if (user.substr(0, kPrefix.size()) != kPrefix) return false;
  const std::string_view rest = user.substr(kPrefix.size());
  const auto colon = rest.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == rest.size()) return false;
  if (rest.find(':', colon + 1) != std::string_view::npos) return false;
  ns = std::string(rest.substr(0, colon));
  name = std::string(rest.substr(colon + 1));
  return true;
}

RbacIndex::RbacIndex(Policy policy) : policy_(std::move(policy)) {
  // The authorizer visits ClusterRoleBindings before RoleBindings.
  std::stable_partition(policy_.bindings.begin(), policy_.bindings.end(), [](const Binding& b) { return b.cluster; });
  for (std::uint32_t i = 0; i < policy_.roles.size(); ++i) {
    const Role& r = policy_.roles[i];
    if (r.cluster) cluster_roles_[r.name] = i;
    else roles_[role_key(r.ns, r.name)] = i;
  }
  effective_.resize(policy_.roles.size());
  for (std::uint32_t i = 0; i < policy_.roles.size(); ++i) {
    for (const PolicyRule& rule : policy_.roles[i].rules) {
      effective_[i].push_back(static_cast<std::uint32_t>(store_.size()));
      store_.push_back(rule);
    }
  }
  aggregate_cluster_roles();
  build_indexes();
}

// The steady state of kube-controller-manager's clusterrole-aggregation
// controller (pkg/controller/clusterroleaggregation): an aggregated
// ClusterRole's rules are overwritten with the rules, as stored, of every
// other ClusterRole any of its selectors matches (selector by selector, the
// matches by name, each rule once). The controller re-syncs every aggregated
// role whenever any ClusterRole changes, so stored rules of aggregated roles
// feed the roles that select them (admin ← edit ← view): run the syncs in
// name order until nothing changes, as the controller's retries would.
void RbacIndex::aggregate_cluster_roles() {
  std::vector<std::uint32_t> aggregated, cluster;
  for (std::uint32_t i = 0; i < policy_.roles.size(); ++i) {
    if (!policy_.roles[i].cluster) continue;
    cluster.push_back(i);
    if (policy_.roles[i].aggregated) aggregated.push_back(i);
  }
  if (aggregated.empty()) return;
  auto by_name = [&](std::uint32_t a, std::uint32_t b) { return policy_.roles[a].name < policy_.roles[b].name; };
  std::sort(cluster.begin(), cluster.end(), by_name);
  std::sort(aggregated.begin(), aggregated.end(), by_name);
  auto same_rules = [&](const std::vector<std::uint32_t>& a, const std::vector<std::uint32_t>& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
      if (!(store_[a[i]] == store_[b[i]])) return false;
    return true;
  };
  // Each round makes at least one more level of a selection chain settle;
  // a cycle among aggregated roles may not settle, so the rounds are bounded.
  for (std::size_t round = 0; round <= aggregated.size() + 1; ++round) {
    bool changed = false;
    for (const std::uint32_t self : aggregated) {
      const Role& role = policy_.roles[self];
      std::vector<std::uint32_t> fresh;
      for (const LabelSelector& sel : role.aggregation) {
        for (const std::uint32_t other : cluster) {
          if (policy_.roles[other].name == role.name || !sel.matches(policy_.roles[other].labels)) continue;
          for (const std::uint32_t r : effective_[other]) {
            const bool exists =
                std::any_of(fresh.begin(), fresh.end(), [&](std::uint32_t f) { return store_[f] == store_[r]; });
            if (!exists) fresh.push_back(r);
          }
        }
      }
      if (same_rules(fresh, effective_[self])) continue;
      effective_[self] = std::move(fresh);
      changed = true;
    }
    if (!changed) break;
  }
}

void RbacIndex::build_indexes() {
  binding_role_.assign(policy_.bindings.size(), -1);
  bindings_of_role_.assign(policy_.roles.size(), {});
  for (std::uint32_t b = 0; b < policy_.bindings.size(); ++b) {
    const Binding& binding = policy_.bindings[b];
    // GetRoleReferenceRules: a Role in the binding's namespace (a
    // ClusterRoleBinding has none, so its Role reference finds nothing).
    std::optional<std::uint32_t> role;
    if (binding.role_kind == "ClusterRole") role = find_role(true, "", binding.role_name);
    else if (binding.role_kind == "Role" && !binding.cluster) role = find_role(false, binding.ns, binding.role_name);
    if (role) {
      binding_role_[b] = static_cast<std::int32_t>(*role);
      bindings_of_role_[*role].push_back(b);
    }
    for (std::uint32_t s = 0; s < binding.subjects.size(); ++s) {
      const Subject& subject = binding.subjects[s];
      switch (subject.kind) {
        case SubjectKind::User: by_user_[subject.name].push_back({b, s}); break;
        case SubjectKind::Group: by_group_[subject.name].push_back({b, s}); break;
        case SubjectKind::ServiceAccount: {
          // appliesToUser: an unset namespace is the request's, which for a
          // RoleBinding is its own; a ClusterRoleBinding's then matches nobody.
          const std::string& ns = subject.ns.empty() ? binding.ns : subject.ns;
          if (!ns.empty()) by_user_[service_account_user(ns, subject.name)].push_back({b, s});
          break;
        }
      }
    }
  }
  roles_of_rule_.assign(store_.size(), {});
  for (std::uint32_t role = 0; role < effective_.size(); ++role)
    for (const std::uint32_t r : effective_[role]) roles_of_rule_[r].push_back(role);
  for (std::uint32_t r = 0; r < store_.size(); ++r) {
    if (roles_of_rule_[r].empty()) continue;  // an aggregated role's own rules, overwritten
    const PolicyRule& rule = store_[r];
    if (!rule.non_resource_urls.empty()) url_rules_.push_back(r);
    std::vector<std::string_view> seen;
    for (const std::string& res : rule.resources) {
      if (std::find(seen.begin(), seen.end(), res) != seen.end()) continue;
      seen.push_back(res);
      rules_by_resource_[res].push_back(r);
    }
  }
}

std::vector<const PolicyRule*> RbacIndex::effective_rules(std::size_t role) const {
  std::vector<const PolicyRule*> out;
  for (const std::uint32_t r : effective_[role]) out.push_back(&store_[r]);
  return out;
}

std::optional<std::uint32_t> RbacIndex::bound_role(std::size_t binding) const {
  if (binding_role_[binding] < 0) return std::nullopt;
  return static_cast<std::uint32_t>(binding_role_[binding]);
}

std::optional<std::uint32_t> RbacIndex::find_role(bool cluster, std::string_view ns, std::string_view name) const {
  if (cluster) {
    auto it = cluster_roles_.find(std::string(name));
    return it == cluster_roles_.end() ? std::nullopt : std::optional<std::uint32_t>(it->second);
  }
  auto it = roles_.find(role_key(ns, name));
  return it == roles_.end() ? std::nullopt : std::optional<std::uint32_t>(it->second);
}

std::optional<std::uint32_t> RbacIndex::allowing_rule(std::uint32_t role, const Request& request) const {
  const auto& rules = effective_[role];
  for (std::uint32_t i = 0; i < rules.size(); ++i)
    if (rule_allows(request, store_[rules[i]])) return i;
  return std::nullopt;
}

std::string RbacIndex::missing_role_error(const Binding& b) const {
  // The lister's NotFound error, as the authorizer's reason carries it.
  if (b.role_kind == "ClusterRole") return "clusterrole.rbac.authorization.k8s.io " + go_quote(b.role_name) + " not found";
  if (b.role_kind == "Role") return "role.rbac.authorization.k8s.io " + go_quote(b.role_name) + " not found";
  return "unsupported role reference kind: " + go_quote(b.role_kind);
}

std::string RbacIndex::describe(std::uint32_t binding, std::uint32_t subject) const {
  // rule.go clusterRoleBindingDescriber / roleBindingDescriber, describeSubject.
  const Binding& b = policy_.bindings[binding];
  const Subject& s = b.subjects[subject];
  std::string who;
  if (s.kind == SubjectKind::ServiceAccount) who = "ServiceAccount " + go_quote(s.name + "/" + (s.ns.empty() ? b.ns : s.ns));
  else who = std::string(subject_kind_name(s.kind)) + " " + go_quote(s.name);
  if (b.cluster)
    return "ClusterRoleBinding " + go_quote(b.name) + " of " + b.role_kind + " " + go_quote(b.role_name) + " to " + who;
  return "RoleBinding " + go_quote(b.name + "/" + b.ns) + " of " + b.role_kind + " " + go_quote(b.role_name) + " to " +
         who;
}

std::string RbacIndex::describe(const Allowing& a) const { return describe(a.binding, a.subject); }

std::vector<GrantRef> RbacIndex::grants_of(const Identity& who) const {
  // binding → first matching subject (appliesTo returns the first).
  std::map<std::uint32_t, std::uint32_t> first;
  auto take = [&](const std::vector<SubjectAt>& list) {
    for (const SubjectAt& at : list) {
      auto [it, fresh] = first.emplace(at.binding, at.subject);
      if (!fresh && at.subject < it->second) it->second = at.subject;
    }
  };
  if (auto it = by_user_.find(who.user); it != by_user_.end()) take(it->second);
  for (const std::string& g : who.groups)
    if (auto it = by_group_.find(g); it != by_group_.end()) take(it->second);
  std::vector<GrantRef> out;
  out.reserve(first.size());
  for (const auto& [b, s] : first) out.push_back({b, s, binding_role_[b]});
  return out;
}

bool RbacIndex::has_masters(const Identity& who) { return has(who.groups, kMastersGroup); }

std::vector<ScopedRule> RbacIndex::permissions_of(const Identity& who) const {
  std::vector<ScopedRule> out;
  for (const GrantRef& g : grants_of(who)) {
    if (g.role < 0) continue;
    const Binding& b = policy_.bindings[g.binding];
    const auto role = static_cast<std::uint32_t>(g.role);
    for (const std::uint32_t r : effective_[role]) {
      if (!b.cluster && !store_[r].non_resource_urls.empty()) continue;
      out.push_back({b.cluster ? std::string_view() : std::string_view(b.ns), &store_[r], g.binding, role});
    }
  }
  return out;
}

Decision RbacIndex::authorize(const Identity& who, const Request& request) const {
  Decision d;
  // The privileged-group authorizer kube-apiserver puts before RBAC.
  if (has_masters(who)) {
    d.allowed = true;
    d.by_masters = true;
    d.reason = "allowed: member of group system:masters (bypasses RBAC)";
    return d;
  }
  for (const GrantRef& g : grants_of(who)) {
    const Binding& b = policy_.bindings[g.binding];
    // RoleBindings are listed in the request's namespace only.
    if (!b.cluster && (request.ns.empty() || b.ns != request.ns)) continue;
    if (g.role < 0) {
      d.errors.push_back(missing_role_error(b));
      continue;
    }
    if (auto rule = allowing_rule(static_cast<std::uint32_t>(g.role), request)) {
      d.allowed = true;
      d.by = Allowing{g.binding, g.subject, static_cast<std::uint32_t>(g.role), *rule};
      d.reason = "RBAC: allowed by " + describe(g.binding, g.subject);
      return d;
    }
  }
  // utilerrors.Aggregate: distinct messages; one alone, else bracketed.
  std::vector<std::string> distinct;
  for (const std::string& e : d.errors)
    if (!has(distinct, e)) distinct.push_back(e);
  if (distinct.size() == 1) d.reason = "RBAC: " + distinct[0];
  else if (!distinct.empty()) {
    d.reason = "RBAC: [";
    for (std::size_t i = 0; i < distinct.size(); ++i) d.reason += (i ? ", " : "") + distinct[i];
    d.reason += "]";
  }
  return d;
}

std::vector<Allowing> RbacIndex::who_can(const Request& request, bool any_namespace) const {
  // Candidate rules through the resource index: the exact resource, `*`, and `*/sub`.
  std::vector<std::uint32_t> candidates;
  auto add = [&](const std::string& key) {
    if (auto it = rules_by_resource_.find(key); it != rules_by_resource_.end())
      candidates.insert(candidates.end(), it->second.begin(), it->second.end());
  };
  if (request.resource_request) {
    add(request.combined_resource());
    add("*");
    if (!request.subresource.empty()) add("*/" + request.subresource);
  } else {
    candidates = url_rules_;
  }
  std::vector<std::uint32_t> roles;
  for (const std::uint32_t r : candidates)
    if (rule_allows(request, store_[r])) roles.insert(roles.end(), roles_of_rule_[r].begin(), roles_of_rule_[r].end());
  std::sort(roles.begin(), roles.end());
  roles.erase(std::unique(roles.begin(), roles.end()), roles.end());

  std::vector<Allowing> out;
  for (const std::uint32_t role : roles) {
    const std::optional<std::uint32_t> rule = allowing_rule(role, request);
    if (!rule) continue;
    for (const std::uint32_t b : bindings_of_role_[role]) {
      const Binding& binding = policy_.bindings[b];
      if (!binding.cluster) {
        if (!request.resource_request) continue;
        if (!any_namespace && (request.ns.empty() || binding.ns != request.ns)) continue;
      }
      for (std::uint32_t s = 0; s < binding.subjects.size(); ++s) {
        const Subject& subject = binding.subjects[s];
        if (subject.kind == SubjectKind::ServiceAccount && subject.ns.empty() && binding.cluster) continue;
        out.push_back({b, s, role, *rule});
      }
    }
  }
  std::sort(out.begin(), out.end(), [](const Allowing& a, const Allowing& b) {
    return a.binding != b.binding ? a.binding < b.binding : a.subject < b.subject;
  });
  return out;
}

std::vector<SubjectEntry> RbacIndex::subjects() const {
  std::vector<SubjectEntry> out;
  std::unordered_map<std::string, std::size_t> at;
  for (std::uint32_t b = 0; b < policy_.bindings.size(); ++b) {
    const Binding& binding = policy_.bindings[b];
    for (std::uint32_t s = 0; s < binding.subjects.size(); ++s) {
      const Subject& subject = binding.subjects[s];
      std::string ns;
      if (subject.kind == SubjectKind::ServiceAccount) {
        ns = subject.ns.empty() ? binding.ns : subject.ns;
        if (ns.empty()) continue;
      }
      std::string key = std::string(subject_kind_name(subject.kind)) + '\0' + ns + '\0' + subject.name;
      auto [it, fresh] = at.emplace(std::move(key), out.size());
      if (fresh) out.push_back({subject.kind, subject.name, ns, {}});
      std::vector<GrantRef>& grants = out[it->second].grants;
      if (grants.empty() || grants.back().binding != b) grants.push_back({b, s, binding_role_[b]});
    }
  }
  return out;
}

Identity RbacIndex::identity_of(const SubjectEntry& subject) {
  switch (subject.kind) {
    case SubjectKind::ServiceAccount: return service_account_identity(subject.ns, subject.name);
    case SubjectKind::Group: return {"", {subject.name}};
    case SubjectKind::User: break;
  }
  return {subject.name, {}};
}

}  // namespace kg::rbac

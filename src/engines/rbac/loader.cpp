// Objects → Policy, refusing what kube-apiserver's rbac validation refuses
// (pkg/apis/rbac/validation/validation.go): such an object cannot exist in a
// cluster, so it grants nothing here either.
#include <algorithm>

#include "engines/rbac/rbac.hpp"

namespace kg::rbac {
namespace {

bool is_rbac_group(std::string_view api_version) {
  return api_version.rfind("rbac.authorization.k8s.io/", 0) == 0;
}

std::vector<std::string> strings_of(const Node* n) {
  std::vector<std::string> out;
  for (const Node* item : items(n)) out.emplace_back(item->is_scalar() ? item->text() : std::string_view{});
  return out;
}

Origin origin_of(const Object& obj) {
  Origin o;
  if (obj.file) o.file = obj.file->path;
  o.line = obj.line;
  o.column = obj.column;
  return o;
}

struct Problems {
  const Object& obj;
  std::vector<InputError>& errors;
  bool any = false;

  void add(const Node* at, const std::string& field, const std::string& message) {
    any = true;
    InputError e;
    if (obj.file) e.file = obj.file->path;
    e.line = at ? at->line : obj.line;
    e.column = at ? at->column : obj.column;
    const std::string where = obj.path_prefix.empty() ? field : obj.path_prefix + "." + field;
    e.message = std::string(obj.kind) + " " + std::string(obj.name) + ": " + where + ": " + message +
                " (the API server refuses this object; it is left out)";
    errors.push_back(std::move(e));
  }
};

// ValidatePolicyRule.
void read_rules(const Node* rules, bool namespaced, std::vector<PolicyRule>& out, Problems& p) {
  std::size_t i = 0;
  for (const Node* r : items(rules)) {
    const std::string at = "rules[" + std::to_string(i++) + "]";
    PolicyRule rule{strings_of(get(r, "verbs")), strings_of(get(r, "apiGroups")), strings_of(get(r, "resources")),
                    strings_of(get(r, "resourceNames")), strings_of(get(r, "nonResourceURLs"))};
    if (rule.verbs.empty()) p.add(r, at + ".verbs", "verbs must contain at least one value");
    if (!rule.non_resource_urls.empty()) {
      if (namespaced)
        p.add(get(r, "nonResourceURLs"), at + ".nonResourceURLs", "namespaced rules cannot apply to non-resource URLs");
      if (!rule.api_groups.empty() || !rule.resources.empty() || !rule.resource_names.empty()) {
        p.add(get(r, "nonResourceURLs"), at + ".nonResourceURLs",
              "rules cannot apply to both regular resources and non-resource URLs");
      }
    } else {
      if (rule.api_groups.empty()) p.add(r, at + ".apiGroups", "resource rules must supply at least one api group");
      if (rule.resources.empty()) p.add(r, at + ".resources", "resource rules must supply at least one resource");
    }
    out.push_back(std::move(rule));
  }
}

std::string key_of(std::string_view ns, std::string_view name) {
  std::string k(ns);
  k += '\0';
  k += name;
  return k;
}

template <typename T>
void put(std::vector<T>& list, std::unordered_map<std::string, std::size_t>& at, std::string key, T value) {
  auto [it, fresh] = at.emplace(std::move(key), list.size());
  if (fresh) list.push_back(std::move(value));
  else list[it->second] = std::move(value);
}

}  // namespace

bool PolicyLoader::add(const Object& obj, std::vector<InputError>& errors) {
  const bool role = obj.kind == "Role" || obj.kind == "ClusterRole";
  const bool binding = obj.kind == "RoleBinding" || obj.kind == "ClusterRoleBinding";
  const bool account = obj.kind == "ServiceAccount" && obj.api_version == "v1";
  if (!account && !((role || binding) && is_rbac_group(obj.api_version))) return false;
  const bool cluster = obj.kind == "ClusterRole" || obj.kind == "ClusterRoleBinding";
  Problems p{obj, errors};
  if (obj.name.empty()) p.add(get(obj.root, "metadata"), "metadata.name", "name is required");
  const std::string ns = cluster ? std::string() : obj.ns.empty() ? options_.default_namespace : std::string(obj.ns);

  if (account) {
    if (p.any) return true;
    ServiceAccount sa{ns, std::string(obj.name), std::nullopt, {}, origin_of(obj)};
    if (const Node* a = get(obj.root, "automountServiceAccountToken")) sa.automount_token = a->as_bool();
    for (const Node* s : items(get(obj.root, "secrets"))) sa.secrets.emplace_back(str(get(s, "name")));
    put(policy_.service_accounts, accounts_at_, key_of(ns, obj.name), std::move(sa));
    return true;
  }

  if (role) {
    Role r;
    r.cluster = cluster;
    r.ns = ns;
    r.name = std::string(obj.name);
    r.labels = read_labels(get(get(obj.root, "metadata"), "labels"));
    read_rules(get(obj.root, "rules"), !cluster, r.rules, p);
    if (const Node* agg = get(obj.root, "aggregationRule"); cluster && agg && !agg->is_null()) {
      r.aggregated = true;
      for (const Node* sel : items(get(agg, "clusterRoleSelectors"))) r.aggregation.push_back(read_selector(sel));
    }
    r.origin = origin_of(obj);
    if (p.any) return true;
    std::string key = std::string(cluster ? "C" : "R") + key_of(ns, r.name);  // before r is moved from
    put(policy_.roles, roles_at_, std::move(key), std::move(r));
    return true;
  }

  // ValidateRoleBinding / ValidateClusterRoleBinding.
  Binding b;
  b.cluster = cluster;
  b.ns = ns;
  b.name = std::string(obj.name);
  const Node* ref = get(obj.root, "roleRef");
  b.role_kind = std::string(str(get(ref, "kind")));
  b.role_name = std::string(str(get(ref, "name")));
  if (str(get(ref, "apiGroup")) != "rbac.authorization.k8s.io") {
    p.add(get(ref, "apiGroup") ? get(ref, "apiGroup") : ref, "roleRef.apiGroup",
          "supported value: \"rbac.authorization.k8s.io\"");
  }
  if (cluster ? b.role_kind != "ClusterRole" : b.role_kind != "Role" && b.role_kind != "ClusterRole") {
    p.add(get(ref, "kind") ? get(ref, "kind") : ref, "roleRef.kind",
          cluster ? "supported value: \"ClusterRole\"" : "supported values: \"Role\", \"ClusterRole\"");
  }
  if (b.role_name.empty()) p.add(ref, "roleRef.name", "required value");
  std::size_t i = 0;
  for (const Node* s : items(get(obj.root, "subjects"))) {
    const std::string at = "subjects[" + std::to_string(i++) + "]";
    const std::string_view kind = str(get(s, "kind"));
    Subject subject;
    subject.name = std::string(str(get(s, "name")));
    subject.ns = std::string(str(get(s, "namespace")));
    if (subject.name.empty()) p.add(s, at + ".name", "required value");
    if (kind == "User") {
      subject.kind = SubjectKind::User;
    } else if (kind == "Group") {
      subject.kind = SubjectKind::Group;
    } else if (kind == "ServiceAccount") {
      subject.kind = SubjectKind::ServiceAccount;
      if (cluster && subject.ns.empty()) p.add(s, at + ".namespace", "required value");
    } else {
      p.add(get(s, "kind") ? get(s, "kind") : s, at + ".kind",
            "supported values: \"ServiceAccount\", \"User\", \"Group\"");
    }
    b.subjects.push_back(std::move(subject));
  }
  b.origin = origin_of(obj);
  if (p.any) return true;
  std::string key = std::string(cluster ? "C" : "R") + key_of(ns, b.name);
  put(policy_.bindings, bindings_at_, std::move(key), std::move(b));
  return true;
}

std::size_t PolicyLoader::add_bootstrap() {
  SourceFile file;
  file.path = "bootstrap policy v" + std::string(bootstrap_version());
  file.content = bootstrap_policy_yaml();
  load_documents(file);
  // Only what the input lacks: a cluster's snapshot holds them all already
  // (with any change its administrator made), files usually none.
  PolicyLoader assumed;
  std::vector<InputError> errors;
  for (const Document& doc : file.documents) {
    std::vector<Object> objects;
    collect_objects(file, doc, objects, errors);
    for (const Object& obj : objects) assumed.add(obj, errors);
  }
  std::size_t added = 0;
  auto take = [&](auto& from, auto& to, auto& at, const auto& from_at) {
    for (auto& [key, pos] : from_at) {
      if (at.count(key)) continue;
      auto item = from[pos];
      item.origin.assumed = true;
      at.emplace(key, to.size());
      to.push_back(std::move(item));
      ++added;
    }
  };
  // Keep the built-in table's order (the maps are unordered): sort keys by position.
  auto ordered = [](const std::unordered_map<std::string, std::size_t>& m) {
    std::vector<std::pair<std::string, std::size_t>> v(m.begin(), m.end());
    std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.second < b.second; });
    return v;
  };
  take(assumed.policy_.roles, policy_.roles, roles_at_, ordered(assumed.roles_at_));
  take(assumed.policy_.bindings, policy_.bindings, bindings_at_, ordered(assumed.bindings_at_));
  return added;
}

Policy PolicyLoader::take() {
  roles_at_.clear();
  bindings_at_.clear();
  accounts_at_.clear();
  return std::move(policy_);
}

}  // namespace kg::rbac

#include "checks/audit_policy.hpp"

#include <algorithm>
#include <array>

namespace kg::audit_policy {

namespace {

constexpr std::array<std::string_view, 4> kLevels = {"None", "Metadata", "Request", "RequestResponse"};
constexpr std::array<std::string_view, 4> kStages = {"RequestReceived", "ResponseStarted", "ResponseComplete",
                                                     "Panic"};

bool has(const std::vector<std::string>& list, std::string_view v) {
  return std::find(list.begin(), list.end(), v) != list.end();
}

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }
bool ends_with(std::string_view s, std::string_view p) {
  return s.size() >= p.size() && s.substr(s.size() - p.size()) == p;
}

std::string index_field(std::string_view base, std::size_t i) {
  std::string s(base);
  s += '[';
  s += std::to_string(i);
  s += ']';
  return s;
}

std::string child(std::string_view base, std::string_view name) {
  std::string s(base);
  if (!s.empty()) s += '.';
  s += name;
  return s;
}

// RFC 1123 subdomain, as apimachinery's IsDNS1123Subdomain.
bool dns_subdomain(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  std::size_t start = 0;
  while (start <= s.size()) {
    std::size_t dot = s.find('.', start);
    std::string_view label = s.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (label.empty() || !alnum(label.front()) || !alnum(label.back())) return false;
    for (char c : label)
      if (!alnum(c) && c != '-') return false;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return true;
}

class Reader {
 public:
  explicit Reader(std::vector<Problem>& problems) : problems_(problems) {}

  void error(const Node* at, std::string field, std::string message) {
    problems_.push_back({at, std::move(field), std::move(message), true});
    ok_ = false;
  }
  void warn(const Node* at, std::string field, std::string message) {
    problems_.push_back({at, std::move(field), std::move(message), false});
  }
  bool ok() const { return ok_; }

  // A list of strings; a scalar or a mapping where a list belongs is a
  // decoding error, as in the API server.
  std::vector<std::string> strings(const Node* n, const std::string& field, std::vector<const Node*>* nodes = nullptr) {
    std::vector<std::string> out;
    if (!n || n->is_null()) return out;
    if (!n->is_seq()) {
      error(n, field, "must be a list of strings");
      return out;
    }
    const auto list = n->items();
    for (std::size_t i = 0; i < list.size(); ++i) {
      const Node* item = list[i];
      if (!item->is_scalar() && !item->is_null()) {
        error(item, index_field(field, i), "must be a string");
        continue;
      }
      out.emplace_back(item->text());
      if (nodes) nodes->push_back(item);
    }
    return out;
  }

  std::optional<bool> boolean(const Node* n, const std::string& field) {
    if (!n || n->is_null()) return std::nullopt;
    if (n->is_scalar() && !n->quoted) {
      if (auto b = n->as_bool()) return b;
    }
    error(n, field, "must be true or false");
    return std::nullopt;
  }

  Stages stages(const Node* n, const std::string& field) {
    Stages out = 0;
    std::vector<const Node*> nodes;
    const std::vector<std::string> names = strings(n, field, &nodes);
    for (std::size_t i = 0; i < names.size(); ++i) {
      if (auto s = parse_stage(names[i])) {
        out |= *s;
      } else {
        error(nodes[i], index_field(field, i),
              "Invalid value: \"" + names[i] +
                  "\": allowed stages are RequestReceived,ResponseStarted,ResponseComplete,Panic");
      }
    }
    return out;
  }

  void unknown_keys(const Node* n, std::span<const std::string_view> known, const std::string& field) {
    for (const MapEntry& e : n->entries()) {
      const std::string_view key = e.key->text();
      if (std::find(known.begin(), known.end(), key) == known.end())
        warn(e.key, child(field, key), "unknown field \"" + std::string(key) + "\" (kube-apiserver ignores it)");
    }
  }

  void group_resources(const Node* n, const std::string& field, PolicyRule& rule) {
    if (!n || n->is_null()) return;
    if (!n->is_seq()) {
      error(n, field, "must be a list of {group, resources, resourceNames}");
      return;
    }
    static constexpr std::string_view kKnown[] = {"group", "resources", "resourceNames"};
    const auto list = n->items();
    for (std::size_t i = 0; i < list.size(); ++i) {
      const Node* item = list[i];
      const std::string at = index_field(field, i);
      if (!item->is_map()) {
        error(item, at, "must be a mapping {group, resources, resourceNames}");
        continue;
      }
      unknown_keys(item, kKnown, at);
      GroupResources gr;
      gr.node = item;
      gr.group_node = item->get("group");
      if (gr.group_node && !gr.group_node->is_null()) {
        if (!gr.group_node->is_scalar()) error(gr.group_node, child(at, "group"), "must be a string");
        else gr.group = std::string(gr.group_node->text());
      }
      // validateResources reports the group at resources.group (no index).
      if (!gr.group.empty() && !dns_subdomain(gr.group)) {
        std::string msg = "Invalid value: \"" + gr.group +
                          "\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric "
                          "characters, '-' or '.', and must start and end with an alphanumeric character";
        if (gr.group.find('/') != std::string::npos) msg += " (name the group without its version)";
        error(gr.group_node, child(field, "group"), msg);
      }
      gr.resources = strings(item->get("resources"), child(at, "resources"), &gr.resource_nodes);
      gr.resource_names = strings(item->get("resourceNames"), child(at, "resourceNames"));
      if (!gr.resource_names.empty() && gr.resources.empty()) {
        error(item->get("resourceNames"), child(field, "resourceNames"),
              "Invalid value: using resourceNames requires at least one resource");
      }
      rule.resources.push_back(std::move(gr));
    }
  }

 private:
  std::vector<Problem>& problems_;
  bool ok_ = true;
};

}  // namespace

std::optional<Level> parse_level(std::string_view s) {
  for (std::size_t i = 0; i < kLevels.size(); ++i)
    if (kLevels[i] == s) return static_cast<Level>(i);
  return std::nullopt;
}

std::string_view to_string(Level l) { return kLevels[static_cast<std::size_t>(l)]; }

std::optional<Stage> parse_stage(std::string_view s) {
  for (std::size_t i = 0; i < kStages.size(); ++i)
    if (kStages[i] == s) return static_cast<Stage>(1U << i);
  return std::nullopt;
}

std::string_view to_string(Stage s) {
  for (std::size_t i = 0; i < kStages.size(); ++i)
    if (s == (1U << i)) return kStages[i];
  return "?";
}

std::string stages_text(Stages s) {
  std::string out;
  for (std::size_t i = 0; i < kStages.size(); ++i) {
    if (!(s & (1U << i))) continue;
    if (!out.empty()) out += ", ";
    out += kStages[i];
  }
  return out.empty() ? "none" : out;
}

bool is_policy(std::string_view api_version, std::string_view kind) {
  return kind == "Policy" && (api_version == "audit.k8s.io/v1" || api_version == "audit.k8s.io/v1beta1" ||
                              api_version == "audit.k8s.io/v1alpha1");
}

bool read_policy(const Node* root, Policy& out, std::vector<Problem>& problems) {
  Reader r(problems);
  out = Policy{};
  out.node = root;
  if (!root || !root->is_map()) {
    r.error(root, "", "a Policy must be a mapping");
    return false;
  }
  out.api_version = std::string(str(root->get("apiVersion")));
  const std::string_view kind = str(root->get("kind"));
  if (kind != "Policy") {
    r.error(root->get("kind") ? root->get("kind") : root, "kind",
            "must be Policy (got \"" + std::string(kind) + "\")");
  }
  if (!is_policy(out.api_version, "Policy")) {
    r.error(root->get("apiVersion") ? root->get("apiVersion") : root, "apiVersion",
            "unknown group version \"" + out.api_version +
                "\" in policy: kube-apiserver reads audit.k8s.io/v1 (and the deprecated v1beta1)");
  } else if (out.api_version != "audit.k8s.io/v1") {
    // Read all the same (older clusters and archives carry them; the fields are v1's), but
    // kube-apiserver 1.24 and later decode only audit.k8s.io/v1 and refuse to start.
    r.error(root->get("apiVersion"), "apiVersion",
            "\"" + out.api_version +
                "\" was removed in Kubernetes 1.24: kube-apiserver refuses it; use \"audit.k8s.io/v1\" (same fields)");
  }
  static constexpr std::string_view kKnown[] = {"apiVersion", "kind", "metadata", "rules", "omitStages",
                                                "omitManagedFields"};
  r.unknown_keys(root, kKnown, "");
  out.omit_stages = r.stages(root->get("omitStages"), "omitStages");
  out.omit_managed_fields = r.boolean(root->get("omitManagedFields"), "omitManagedFields").value_or(false);

  const Node* rules = root->get("rules");
  if (rules && !rules->is_null() && !rules->is_seq()) {
    r.error(rules, "rules", "must be a list of rules");
  } else {
    static constexpr std::string_view kRuleKeys[] = {"level", "users", "userGroups", "verbs", "resources",
                                                     "namespaces", "nonResourceURLs", "omitStages",
                                                     "omitManagedFields"};
    const auto list = items(rules);
    for (std::size_t i = 0; i < list.size(); ++i) {
      const Node* n = list[i];
      const std::string field = index_field("rules", i);
      if (!n->is_map()) {
        r.error(n, field, "a rule must be a mapping");
        continue;
      }
      r.unknown_keys(n, kRuleKeys, field);
      PolicyRule rule;
      rule.node = n;
      rule.index = out.rules.size();
      const Node* level = n->get("level");
      const std::string_view level_text = str(level);
      if (!level || level->is_null() || (level->is_scalar() && level_text.empty())) {
        r.error(level ? level : n, child(field, "level"), "Required value");
      } else if (auto l = parse_level(level_text)) {
        rule.level = *l;
      } else {
        r.error(level, child(field, "level"),
                "Unsupported value: \"" + std::string(level_text) +
                    "\": supported values: \"None\", \"Metadata\", \"Request\", \"RequestResponse\"");
      }
      rule.users = r.strings(n->get("users"), child(field, "users"));
      rule.user_groups = r.strings(n->get("userGroups"), child(field, "userGroups"));
      rule.verbs = r.strings(n->get("verbs"), child(field, "verbs"));
      rule.namespaces = r.strings(n->get("namespaces"), child(field, "namespaces"));
      std::vector<const Node*> url_nodes;
      rule.non_resource_urls = r.strings(n->get("nonResourceURLs"), child(field, "nonResourceURLs"), &url_nodes);
      for (std::size_t u = 0; u < rule.non_resource_urls.size(); ++u) {
        const std::string& url = rule.non_resource_urls[u];
        if (url == "*") continue;
        const std::string at = index_field(child(field, "nonResourceURLs"), u);
        if (!starts_with(url, "/")) {
          r.error(url_nodes[u], at,
                  "Invalid value: \"" + url + "\": non-resource URL rules must begin with a '/' character");
        }
        if (!url.empty() && std::string_view(url).substr(0, url.size() - 1).find('*') != std::string_view::npos) {
          r.error(url_nodes[u], at,
                  "Invalid value: \"" + url +
                      "\": non-resource URL wildcards '*' must be the final character of the rule");
        }
      }
      r.group_resources(n->get("resources"), child(field, "resources"), rule);
      rule.own_omit_stages = r.stages(n->get("omitStages"), child(field, "omitStages"));
      rule.omit_managed_fields = r.boolean(n->get("omitManagedFields"), child(field, "omitManagedFields"));
      if (!rule.non_resource_urls.empty() && (!rule.resources.empty() || !rule.namespaces.empty())) {
        r.error(n->get("nonResourceURLs"), child(field, "nonResourceURLs"),
                "Invalid value: rules cannot apply to both regular resources and non-resource URLs");
      }
      out.rules.push_back(std::move(rule));
    }
  }
  for (PolicyRule& rule : out.rules) rule.omit_stages = rule.own_omit_stages | out.omit_stages;
  if (items(rules).empty()) r.error(rules ? rules : root, "rules", "loaded illegal policy with 0 rules");
  return r.ok();
}

bool path_matches(std::string_view path, std::string_view spec) {
  if (spec == "*" || spec == path) return true;
  if (ends_with(spec, "*")) {
    std::string_view prefix = spec;
    while (!prefix.empty() && prefix.back() == '*') prefix.remove_suffix(1);  // strings.TrimRight
    return starts_with(path, prefix);
  }
  return false;
}

bool resource_matches(std::string_view item, std::string_view resource, std::string_view subresource) {
  if (item == "*") return true;
  if (subresource.empty()) {
    if (item == resource) return true;
  } else {
    if (item.size() == resource.size() + 1 + subresource.size() && starts_with(item, resource) &&
        item[resource.size()] == '/' && item.substr(resource.size() + 1) == subresource)
      return true;
    if (starts_with(item, "*/") && item.substr(2) == subresource) return true;
  }
  // "resource/*": TrimSuffix, so it also matches the resource itself.
  return ends_with(item, "/*") && item.substr(0, item.size() - 2) == resource;
}

bool rule_matches(const PolicyRule& r, const Request& q) {
  if (!r.users.empty() && (!q.has_user || !has(r.users, q.user))) return false;
  if (!r.user_groups.empty()) {
    if (!q.has_user) return false;
    bool matched = false;
    for (const std::string& g : q.groups) {
      if (has(r.user_groups, g)) {
        matched = true;
        break;
      }
    }
    if (!matched) return false;
  }
  if (!r.verbs.empty() && !has(r.verbs, q.verb)) return false;
  if (!r.namespaces.empty() || !r.resources.empty()) {
    if (!q.resource_request) return false;
    if (!r.namespaces.empty() && !has(r.namespaces, q.ns)) return false;
    if (r.resources.empty()) return true;
    for (const GroupResources& gr : r.resources) {
      if (gr.group != q.group) continue;
      if (gr.resources.empty()) return true;
      if (!gr.resource_names.empty() && !has(gr.resource_names, q.name)) continue;
      for (const std::string& item : gr.resources)
        if (resource_matches(item, q.resource, q.subresource)) return true;
    }
    return false;
  }
  if (!r.non_resource_urls.empty()) {
    if (q.resource_request) return false;
    for (const std::string& spec : r.non_resource_urls)
      if (path_matches(q.path, spec)) return true;
    return false;
  }
  return true;
}

Decision evaluate(const Policy& policy, const Request& request) {
  for (const PolicyRule& rule : policy.rules) {
    if (!rule_matches(rule, request)) continue;
    Decision d;
    d.level = rule.level;
    d.omit_stages = rule.omit_stages;
    d.omit_managed_fields = rule.omit_managed_fields.value_or(policy.omit_managed_fields);
    d.rule = static_cast<int>(rule.index);
    return d;
  }
  Decision d;
  d.omit_stages = policy.omit_stages;
  d.omit_managed_fields = policy.omit_managed_fields;
  return d;
}

// --- built-in resources ---------------------------------------------------------

namespace {
constexpr bool kNs = true;
constexpr bool kCl = false;
constexpr BuiltinResource kBuiltin[] = {
    {"", "bindings", kNs, ""},
    {"", "componentstatuses", kCl, ""},
    {"", "configmaps", kNs, ""},
    {"", "endpoints", kNs, ""},
    {"", "events", kNs, ""},
    {"", "limitranges", kNs, ""},
    {"", "namespaces", kCl, "finalize status"},
    {"", "nodes", kCl, "proxy status"},
    {"", "persistentvolumeclaims", kNs, "status"},
    {"", "persistentvolumes", kCl, "status"},
    {"", "pods", kNs, "attach binding ephemeralcontainers eviction exec log portforward proxy resize status"},
    {"", "podtemplates", kNs, ""},
    {"", "replicationcontrollers", kNs, "scale status"},
    {"", "resourcequotas", kNs, "status"},
    {"", "secrets", kNs, ""},
    {"", "serviceaccounts", kNs, "token"},
    {"", "services", kNs, "proxy status"},
    {"admissionregistration.k8s.io", "mutatingadmissionpolicies", kCl, ""},
    {"admissionregistration.k8s.io", "mutatingadmissionpolicybindings", kCl, ""},
    {"admissionregistration.k8s.io", "mutatingwebhookconfigurations", kCl, ""},
    {"admissionregistration.k8s.io", "validatingadmissionpolicies", kCl, "status"},
    {"admissionregistration.k8s.io", "validatingadmissionpolicybindings", kCl, ""},
    {"admissionregistration.k8s.io", "validatingwebhookconfigurations", kCl, ""},
    {"apiextensions.k8s.io", "customresourcedefinitions", kCl, "status"},
    {"apiregistration.k8s.io", "apiservices", kCl, "status"},
    {"apps", "controllerrevisions", kNs, ""},
    {"apps", "daemonsets", kNs, "status"},
    {"apps", "deployments", kNs, "scale status"},
    {"apps", "replicasets", kNs, "scale status"},
    {"apps", "statefulsets", kNs, "scale status"},
    {"authentication.k8s.io", "selfsubjectreviews", kCl, ""},
    {"authentication.k8s.io", "tokenreviews", kCl, ""},
    {"authorization.k8s.io", "localsubjectaccessreviews", kNs, ""},
    {"authorization.k8s.io", "selfsubjectaccessreviews", kCl, ""},
    {"authorization.k8s.io", "selfsubjectrulesreviews", kCl, ""},
    {"authorization.k8s.io", "subjectaccessreviews", kCl, ""},
    {"autoscaling", "horizontalpodautoscalers", kNs, "status"},
    {"batch", "cronjobs", kNs, "status"},
    {"batch", "jobs", kNs, "status"},
    {"certificates.k8s.io", "certificatesigningrequests", kCl, "approval status"},
    {"certificates.k8s.io", "clustertrustbundles", kCl, ""},
    {"certificates.k8s.io", "podcertificaterequests", kNs, "status"},
    {"coordination.k8s.io", "leasecandidates", kNs, ""},
    {"coordination.k8s.io", "leases", kNs, ""},
    {"discovery.k8s.io", "endpointslices", kNs, ""},
    {"events.k8s.io", "events", kNs, ""},
    {"flowcontrol.apiserver.k8s.io", "flowschemas", kCl, "status"},
    {"flowcontrol.apiserver.k8s.io", "prioritylevelconfigurations", kCl, "status"},
    {"internal.apiserver.k8s.io", "storageversions", kCl, "status"},
    {"metrics.k8s.io", "nodes", kCl, ""},
    {"metrics.k8s.io", "pods", kNs, ""},
    {"networking.k8s.io", "ingressclasses", kCl, ""},
    {"networking.k8s.io", "ingresses", kNs, "status"},
    {"networking.k8s.io", "ipaddresses", kCl, ""},
    {"networking.k8s.io", "networkpolicies", kNs, ""},
    {"networking.k8s.io", "servicecidrs", kCl, "status"},
    {"node.k8s.io", "runtimeclasses", kCl, ""},
    {"policy", "poddisruptionbudgets", kNs, "status"},
    {"rbac.authorization.k8s.io", "clusterrolebindings", kCl, ""},
    {"rbac.authorization.k8s.io", "clusterroles", kCl, ""},
    {"rbac.authorization.k8s.io", "rolebindings", kNs, ""},
    {"rbac.authorization.k8s.io", "roles", kNs, ""},
    {"resource.k8s.io", "deviceclasses", kCl, ""},
    {"resource.k8s.io", "devicetaintrules", kCl, "status"},
    {"resource.k8s.io", "resourceclaims", kNs, "status"},
    {"resource.k8s.io", "resourceclaimtemplates", kNs, ""},
    {"resource.k8s.io", "resourceslices", kCl, ""},
    {"scheduling.k8s.io", "priorityclasses", kCl, ""},
    {"storage.k8s.io", "csidrivers", kCl, ""},
    {"storage.k8s.io", "csinodes", kCl, "status"},
    {"storage.k8s.io", "csistoragecapacities", kNs, ""},
    {"storage.k8s.io", "storageclasses", kCl, ""},
    {"storage.k8s.io", "volumeattachments", kCl, "status"},
    {"storage.k8s.io", "volumeattributesclasses", kCl, ""},
    {"storagemigration.k8s.io", "storageversionmigrations", kCl, "status"},
};

constexpr std::string_view kVerbs[] = {"get", "list", "watch", "create", "update", "patch", "delete",
                                       "deletecollection"};
}  // namespace

bool BuiltinResource::has_subresource(std::string_view sub) const {
  std::string_view rest = subresources;
  while (!rest.empty()) {
    const std::size_t sp = rest.find(' ');
    if (rest.substr(0, sp) == sub) return true;
    if (sp == std::string_view::npos) break;
    rest.remove_prefix(sp + 1);
  }
  return false;
}

std::span<const BuiltinResource> builtin_resources() { return kBuiltin; }

const BuiltinResource* find_builtin(std::string_view group, std::string_view resource) {
  for (const BuiltinResource& r : kBuiltin)
    if (r.group == group && r.resource == resource) return &r;
  return nullptr;
}

bool is_builtin_group(std::string_view group) {
  return std::any_of(std::begin(kBuiltin), std::end(kBuiltin),
                     [&](const BuiltinResource& r) { return r.group == group; });
}

std::vector<std::string_view> groups_serving(std::string_view resource) {
  std::vector<std::string_view> out;
  for (const BuiltinResource& r : kBuiltin)
    if (r.resource == resource) out.push_back(r.group);
  return out;
}

std::string group_phrase(std::string_view group) {
  if (group.empty()) return "\"\" (core)";
  return "\"" + std::string(group) + "\"";
}

std::string ResourceRef::text() const {
  std::string s = resource;
  if (!subresource.empty()) s += "/" + subresource;
  if (!group.empty()) s += "." + group;
  return s;
}

std::optional<ResourceRef> parse_resource_ref(std::string_view s) {
  ResourceRef ref;
  const std::size_t dot = s.find('.');
  std::string_view head = s.substr(0, dot);
  if (dot != std::string_view::npos) ref.group = std::string(s.substr(dot + 1));
  const std::size_t slash = head.find('/');
  ref.resource = std::string(head.substr(0, slash));
  if (slash != std::string_view::npos) ref.subresource = std::string(head.substr(slash + 1));
  if (ref.resource.empty() || (slash != std::string_view::npos && ref.subresource.empty()) ||
      (dot != std::string_view::npos && ref.group.empty()))
    return std::nullopt;
  return ref;
}

std::span<const std::string_view> standard_verbs() { return kVerbs; }

namespace {
constexpr std::string_view kHttpVerbs[] = {"get", "post", "put", "patch", "delete", "head", "options"};

void add_unique(std::vector<std::string>& v, std::string_view s) {
  if (std::find(v.begin(), v.end(), s) == v.end()) v.emplace_back(s);
}

struct Identity {
  std::string user;
  std::vector<std::string> groups;
  bool generic;
  std::string text;
};
}  // namespace

std::span<const std::string_view> http_verbs() { return kHttpVerbs; }

void explore(const Policy& policy, const RequestShape& shape, const std::function<void(const Sample&)>& visit) {
  // Verbs.
  std::vector<std::string> verbs = shape.verbs;
  if (verbs.empty()) {
    for (std::string_view v : shape.resource_request ? standard_verbs() : http_verbs()) add_unique(verbs, v);
    for (const PolicyRule& r : policy.rules)
      for (const std::string& v : r.verbs) add_unique(verbs, v);
  }
  // Identities.
  std::vector<Identity> identities;
  const std::string authenticated = "system:authenticated";
  if (!shape.users.empty() || !shape.user_groups.empty()) {
    for (const std::string& u : shape.users) {
      std::vector<std::string> groups = shape.user_groups;
      if (u != "system:anonymous") add_unique(groups, authenticated);
      identities.push_back({u, groups, true, "user \"" + u + "\""});
    }
    if (shape.users.empty()) {
      for (const std::string& g : shape.user_groups)
        identities.push_back({"kguard:member-of:" + g, {g, authenticated}, true, "group \"" + g + "\""});
    }
  } else {
    identities.push_back({"kguard:any-user", {authenticated}, true, "any authenticated user"});
    identities.push_back({"system:anonymous", {"system:unauthenticated"}, false, "the anonymous user"});
    std::vector<std::string> users, groups;
    for (const PolicyRule& r : policy.rules) {
      for (const std::string& u : r.users) add_unique(users, u);
      for (const std::string& g : r.user_groups) add_unique(groups, g);
    }
    for (const std::string& u : users)
      identities.push_back({u, {authenticated}, false, "user \"" + u + "\""});
    for (const std::string& g : groups) {
      if (g != authenticated)
        identities.push_back({"kguard:member-of:" + g, {g, authenticated}, false, "group \"" + g + "\""});
    }
  }

  Sample sample;
  auto run = [&](const Identity& id, bool generic) {
    sample.request.has_user = true;
    sample.request.user = id.user;
    sample.request.groups = id.groups;
    sample.generic = generic && id.generic;
    sample.identity = id.text;
    sample.decision = evaluate(policy, sample.request);
    visit(sample);
  };

  if (!shape.resource_request) {
    std::vector<std::pair<std::string, bool>> paths;  // path, generic
    auto concrete = [](std::string_view spec) {
      std::string p(spec);
      while (!p.empty() && p.back() == '*') p.pop_back();
      if (p.empty() || p.back() == '/') p += "kguard-any";
      return p;
    };
    const bool any_path = shape.paths.empty() || std::find(shape.paths.begin(), shape.paths.end(), "*") != shape.paths.end();
    if (any_path) {
      paths.emplace_back("/kguard-any-path", true);
      for (const PolicyRule& r : policy.rules) {
        for (const std::string& u : r.non_resource_urls)
          if (u != "*") paths.emplace_back(concrete(u), false);
      }
    } else {
      for (const std::string& p : shape.paths) paths.emplace_back(concrete(p), true);
    }
    sample.request.resource_request = false;
    for (const std::string& verb : verbs) {
      for (const auto& [path, path_generic] : paths) {
        for (const Identity& id : identities) {
          sample.request.verb = verb;
          sample.request.path = path;
          run(id, path_generic);
        }
      }
    }
    return;
  }

  // Namespaces: the shape's, else a generic one (namespaced resources) or ""
  // (cluster-scoped), plus every namespace the policy names.
  std::vector<std::pair<std::string, bool>> namespaces;
  if (!shape.namespaces.empty()) {
    for (const std::string& n : shape.namespaces) namespaces.emplace_back(n, true);
  } else {
    const BuiltinResource* b = find_builtin(shape.group, shape.resource);
    const bool namespaced = !b || b->namespaced;
    if (namespaced) {
      namespaces.emplace_back("kguard-any-namespace", true);
      namespaces.emplace_back("", !b);  // lists across namespaces; unknown resources may be cluster-scoped
    } else {
      namespaces.emplace_back("", true);
    }
    std::vector<std::string> named;
    for (const PolicyRule& r : policy.rules)
      for (const std::string& n : r.namespaces) add_unique(named, n);
    for (const std::string& n : named)
      if (!n.empty() && namespaced) namespaces.emplace_back(n, false);
  }
  // Names: a generic one and every resourceNames entry the policy gives.
  std::vector<std::pair<std::string, bool>> names = {{"kguard-any-name", true}};
  for (const PolicyRule& r : policy.rules) {
    for (const GroupResources& gr : r.resources) {
      for (const std::string& n : gr.resource_names) {
        if (std::none_of(names.begin(), names.end(), [&](const auto& p) { return p.first == n; }))
          names.emplace_back(n, false);
      }
    }
  }

  sample.request.resource_request = true;
  sample.request.group = shape.group;
  sample.request.resource = shape.resource;
  sample.request.subresource = shape.subresource;
  for (const std::string& verb : verbs) {
    for (const auto& [ns, ns_generic] : namespaces) {
      for (const auto& [name, name_generic] : names) {
        for (const Identity& id : identities) {
          sample.request.verb = verb;
          sample.request.ns = ns;
          sample.request.name = name;
          run(id, ns_generic && name_generic);
        }
      }
    }
  }
}

}  // namespace kg::audit_policy

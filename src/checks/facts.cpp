// The collectors of the facts most set-level checks share: workloads,
// Services, NetworkPolicies, PodDisruptionBudgets, RBAC, ServiceAccounts and
// objects whose presence is the fact. References between objects:
// facts_references.cpp.
#include "checks/facts.hpp"

#include <algorithm>
#include <set>

namespace kg {
namespace {

std::string text_of(const Node* n) { return std::string(str(n)); }

std::vector<std::string> strings_of(const Node* n) {
  std::vector<std::string> out;
  for (const Node* i : items(n)) out.emplace_back(str(i));
  return out;
}

// What a pod's containers reference: Secrets and ConfigMaps (valueFrom or
// envFrom), images, named ports.
void add_container_references(WorkloadFacts& w, const PodView& pod) {
  for (const ContainerRef& c : containers_of(pod)) {
    const Node* env = c.node->get("env");
    for (std::size_t i = 0; i < items(env).size(); ++i) {
      const Node* from = get(items(env)[i], "valueFrom");
      for (const auto& [field, kind] : {std::pair<std::string_view, std::string_view>{"secretKeyRef", "Secret"},
                                        {"configMapKeyRef", "ConfigMap"}}) {
        const Node* ref = get(from, field);
        if (!ref || is_true(get(ref, "optional"))) continue;
        w.env_sources.push_back({std::string(kind), text_of(get(ref, "name")), text_of(get(ref, "key")),
                                 std::string(c.name),
                                 join_path(index_path(join_path(c.path, "env"), i), "valueFrom." + std::string(field)),
                                 ref->line, ref->column});
      }
    }
    const Node* env_from = c.node->get("envFrom");
    for (std::size_t i = 0; i < items(env_from).size(); ++i) {
      for (const auto& [field, kind] : {std::pair<std::string_view, std::string_view>{"secretRef", "Secret"},
                                        {"configMapRef", "ConfigMap"}}) {
        const Node* ref = get(items(env_from)[i], field);
        if (!ref || is_true(get(ref, "optional"))) continue;
        w.env_sources.push_back({std::string(kind), text_of(get(ref, "name")), {}, std::string(c.name),
                                 join_path(index_path(join_path(c.path, "envFrom"), i), field), ref->line,
                                 ref->column});
      }
    }
    if (const Node* image = c.node->get("image"); !str(image).empty())
      w.images.push_back({std::string(c.name), text_of(image), join_path(c.path, "image"), image->line, image->column});
    for (const Node* p : items(c.node->get("ports")))
      if (const std::string_view name = str(get(p, "name")); !name.empty()) w.port_names.emplace_back(name);
  }
}

}  // namespace

void Workloads::add(std::size_t id, const Object& obj, const PodView& pod) {
  if (!pod) return;
  changed();
  const std::string_view kind = obj.kind;
  const Node* spec = obj.root->get("spec");
  WorkloadFacts w;
  w.object = id;
  w.pod_labels = read_labels(get(pod.meta, "labels"));
  // Relative to the object, like every set-level path: the result sink
  // prefixes the object's position in a List (items[3].) once.
  w.spec_path = pod.spec_path;
  if (!obj.path_prefix.empty() && w.spec_path.rfind(obj.path_prefix + ".", 0) == 0)
    w.spec_path.erase(0, obj.path_prefix.size() + 1);
  w.spec_line = pod.spec->line;
  w.spec_column = pod.spec->column;
  w.service_account = std::string(str(pod.spec->get("serviceAccountName")));
  if (w.service_account.empty()) w.service_account = std::string(str(pod.spec->get("serviceAccount")));
  if (const Node* a = pod.spec->get("automountServiceAccountToken"); a && a->as_bool())
    w.automount = a->as_bool();
  w.runtime_class = std::string(str(pod.spec->get("runtimeClassName")));
  w.service_account_at = field_mark(pod.spec, "serviceAccountName");
  if (!w.service_account_at) w.service_account_at = field_mark(pod.spec, "serviceAccount");
  w.automount_at = field_mark(pod.spec, "automountServiceAccountToken");
  {
    std::size_t vi = 0;
    for (const Node* v : items(pod.spec->get("volumes"))) {
      for (const Node* src : items(get(get(v, "projected"), "sources"))) {
        const Node* token = get(src, "serviceAccountToken");
        if (!token) continue;
        const std::string_view audience = str(get(token, "audience"));
        if (!audience.empty() && audience != "kubernetes.default.svc" && audience != "https://kubernetes.default.svc" &&
            audience != "https://kubernetes.default.svc.cluster.local")
          continue;  // a token for another audience: the API server refuses it
        w.projected_token_volume = vi;
        w.projected_token_name = std::string(str(get(v, "name")));
        w.projected_token_at = Mark{v->line, v->column};
        break;
      }
      if (w.projected_token_volume) break;
      ++vi;
    }
  }
  w.runtime_class_at = field_mark(pod.spec, "runtimeClassName");
  // The pod spec and template metadata as keys ("spec:" of the template),
  // the nearest parent of a field the pod spec leaves out.
  w.spec_key_at = path_mark(obj.root, w.spec_path);
  std::string meta_path = pod.meta_path;
  if (!obj.path_prefix.empty() && meta_path.rfind(obj.path_prefix + ".", 0) == 0)
    meta_path.erase(0, obj.path_prefix.size() + 1);
  w.template_meta_at = path_mark(obj.root, meta_path);
  w.labels_at = field_mark(pod.meta, "labels");
  w.object_spec_at = field_mark(obj.root, "spec");
  if (const Node* r = get(spec, "replicas"); r && kind != "Pod") {
    w.replicas = r->as_int();
    w.replicas_line = r->line;
    w.replicas_column = r->column;
  }
  const std::string_view restart = str(pod.spec->get("restartPolicy"));
  w.long_running = kind != "Job" && kind != "CronJob" &&
                   !(kind == "Pod" && (restart == "Never" || restart == "OnFailure"));
  if (kind == "StatefulSet") {
    const Node* sn = get(spec, "serviceName");
    w.service_name = text_of(sn);
    if (sn) {
      w.service_name_line = sn->line;
      w.service_name_column = sn->column;
    }
  }
  add_container_references(w, pod);
  rows.push_back(std::move(w));
}

void Services::add(std::size_t id, const Object& obj, const PodView&) {
  changed();
  const Node* spec = obj.root->get("spec");
  ServiceFacts s{id, read_map_selector(get(spec, "selector")), std::string(str(get(spec, "type"))), false, {},
                 field_mark(spec, "selector")};
  s.headless = str(get(spec, "clusterIP")) == "None";
  const Node* ports = get(spec, "ports");
  for (std::size_t i = 0; i < items(ports).size(); ++i) {
    const Node* p = items(ports)[i];
    ServicePortFacts f;
    f.name = text_of(get(p, "name"));
    if (auto n = get(p, "port") ? get(p, "port")->as_int() : std::nullopt) f.port = *n;
    if (const Node* t = get(p, "targetPort"); t && t->is_scalar() && !t->as_int()) {
      f.target_port_name = text_of(t);
      f.line = t->line;
      f.column = t->column;
    } else {
      f.line = p->line;
      f.column = p->column;
    }
    f.path = index_path("spec.ports", i);
    s.ports.push_back(std::move(f));
  }
  rows.push_back(std::move(s));
}

namespace {

// Whether the IPv4 CIDR `cidr` contains 169.254.169.254, the metadata address
// of AWS, GCP, Azure and most clouds; false for IPv6 and malformed text.
bool contains_metadata_address(std::string_view cidr) {
  constexpr std::uint32_t kMetadata = (169U << 24) | (254U << 16) | (169U << 8) | 254U;
  const std::size_t slash = cidr.find('/');
  const std::string_view ip = cidr.substr(0, slash);
  std::uint32_t addr = 0;
  int parts = 0;
  std::size_t i = 0;
  while (i <= ip.size() && parts < 4) {
    std::uint32_t v = 0;
    std::size_t digits = 0;
    while (i < ip.size() && ip[i] >= '0' && ip[i] <= '9' && digits < 4) v = v * 10 + static_cast<std::uint32_t>(ip[i++] - '0'), ++digits;
    if (digits == 0 || v > 255) return false;
    addr = (addr << 8) | v;
    ++parts;
    if (i < ip.size() && ip[i] == '.') ++i;
    else break;
  }
  if (parts != 4 || i != ip.size()) return false;
  int prefix = 32;
  if (slash != std::string_view::npos) {
    const std::string_view p = cidr.substr(slash + 1);
    if (p.empty() || p.size() > 2 || !std::all_of(p.begin(), p.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return false;
    prefix = std::stoi(std::string(p));
    if (prefix > 32) return false;
  }
  const std::uint32_t mask = prefix == 0 ? 0U : ~std::uint32_t{0} << (32 - prefix);
  return (addr & mask) == (kMetadata & mask);
}

}  // namespace

void NetworkPolicies::add(std::size_t id, const Object& obj, const PodView&) {
  changed();
  const Node* spec = obj.root->get("spec");
  NetworkPolicyFacts np;
  np.object = id;
  np.pod_selector = read_selector(get(spec, "podSelector"));
  np.pod_selector_at = first_mark(field_mark(spec, "podSelector"), field_mark(obj.root, "spec"));
  np.ingress_rules = items(get(spec, "ingress")).size();
  np.egress_rules = items(get(spec, "egress")).size();
  const Node* types = get(spec, "policyTypes");
  if (types) {
    for (const Node* t : items(types)) {
      if (str(t) == "Ingress") np.ingress_type = true;
      if (str(t) == "Egress") np.egress_type = true;
    }
  } else {
    // API default: Ingress always; Egress when the policy has egress rules.
    np.ingress_type = true;
    np.egress_type = get(spec, "egress") != nullptr;
  }
  const Node* egress = get(spec, "egress");
  for (std::size_t i = 0; i < items(egress).size() && np.egress_to_metadata.empty(); ++i) {
    const Node* to = get(items(egress)[i], "to");
    const std::string rule_path = index_path("spec.egress", i);
    if (items(to).empty()) {
      np.egress_to_metadata = rule_path;  // no `to`: every destination
      continue;
    }
    for (std::size_t j = 0; j < items(to).size(); ++j) {
      const Node* block = get(items(to)[j], "ipBlock");
      if (!block || !contains_metadata_address(str(get(block, "cidr")))) continue;
      const auto except = items(get(block, "except"));
      if (std::none_of(except.begin(), except.end(), [](const Node* e) { return contains_metadata_address(str(e)); }))
        np.egress_to_metadata = join_path(index_path(join_path(rule_path, "to"), j), "ipBlock");
    }
  }
  for (const auto& [field, peer_field] : {std::pair<std::string_view, std::string_view>{"ingress", "from"},
                                          {"egress", "to"}}) {
    const Node* rules = get(spec, field);
    for (std::size_t i = 0; i < items(rules).size(); ++i) {
      const Node* peers = get(items(rules)[i], peer_field);
      for (std::size_t j = 0; j < items(peers).size(); ++j) {
        const Node* peer = items(peers)[j];
        const Node* sel = get(peer, "podSelector");
        if (!sel || get(peer, "namespaceSelector")) continue;  // other namespaces: not in view
        np.peers.push_back({read_selector(sel),
                            join_path(index_path(join_path(index_path("spec." + std::string(field), i), peer_field), j),
                                      "podSelector"),
                            sel->line, sel->column});
      }
    }
  }
  rows.push_back(std::move(np));
}

void PodDisruptionBudgets::add(std::size_t id, const Object& obj, const PodView&) {
  changed();
  const Node* spec = obj.root->get("spec");
  PdbFacts p{id, read_selector(get(spec, "selector")), std::nullopt, {}};
  if (const Node* m = get(spec, "minAvailable"); m && m->as_int()) {
    p.min_available = *m->as_int();
    p.min_available_at = field_mark(spec, "minAvailable");
  }
  rows.push_back(std::move(p));
}

void Roles::add(std::size_t id, const Object& obj, const PodView&) {
  changed();
  RoleFacts r;
  r.object = id;
  r.cluster = obj.kind == "ClusterRole";
  for (const Node* rule : items(obj.root->get("rules"))) {
    r.rules.push_back({strings_of(get(rule, "apiGroups")), strings_of(get(rule, "resources")),
                       strings_of(get(rule, "verbs")), strings_of(get(rule, "resourceNames")),
                       strings_of(get(rule, "nonResourceURLs"))});
}
  for (const Node* sel : items(get(obj.root->get("aggregationRule"), "clusterRoleSelectors")))
    r.aggregation.push_back(read_selector(sel));
  rows.push_back(std::move(r));
}

const RoleFacts* Roles::find(const Inventory& inv, std::string_view kind, std::string_view ns,
                             std::string_view name) const {
  if (of_object_.empty())
    for (std::size_t i = 0; i < rows.size(); ++i) of_object_[rows[i].object] = i;
  // ClusterRoles are cluster-scoped: their facts carry no namespace.
  const auto object = inv.find(kind, ns, name);
  if (!object) return nullptr;
  auto r = of_object_.find(*object);
  return r == of_object_.end() ? nullptr : &rows[r->second];
}

std::vector<const PolicyRule*> Roles::effective_rules(const Inventory& inv, const RoleFacts& role) const {
  std::vector<const PolicyRule*> out;
  std::set<const RoleFacts*> seen;
  std::vector<const RoleFacts*> pending{&role};
  while (!pending.empty()) {
    const RoleFacts* r = pending.back();
    pending.pop_back();
    if (!seen.insert(r).second) continue;
    for (const PolicyRule& p : r->rules) out.push_back(&p);
    // The controller aggregates every ClusterRole whose labels match a selector.
    for (const LabelSelector& sel : r->aggregation) {
      for (const RoleFacts& other : rows)
        if (other.cluster && sel.matches(inv.objects[other.object].labels)) pending.push_back(&other);
}
  }
  return out;
}

void Bindings::add(std::size_t id, const Object& obj, const PodView&) {
  changed();
  BindingFacts b;
  b.object = id;
  b.cluster = obj.kind == "ClusterRoleBinding";
  const Node* ref = obj.root->get("roleRef");
  b.role_kind = std::string(str(get(ref, "kind")));
  b.role_name = std::string(str(get(ref, "name")));
  if (const Node* at = get(ref, "name") ? get(ref, "name") : ref) {
    b.role_name_line = at->line;
    b.role_name_column = at->column;
  }
  for (const Node* s : items(obj.root->get("subjects"))) {
    b.subjects.push_back({std::string(str(get(s, "kind"))), std::string(str(get(s, "name"))),
                          std::string(str(get(s, "namespace")))});
}
  rows.push_back(std::move(b));
}

const std::vector<std::size_t>& Bindings::of_service_account(const Inventory& inv, const std::string& ns,
                                                             const std::string& name) const {
  if (!built_) {
    for (std::size_t i = 0; i < rows.size(); ++i) {
      for (const Subject& s : rows[i].subjects) {
        if (s.kind == "ServiceAccount") {
          // A subject without a namespace means the binding's own namespace.
          auto& list = by_account_[(s.ns.empty() ? inv.objects[rows[i].object].ns : s.ns) + "/" + s.name];
          if (list.empty() || list.back() != i) list.push_back(i);
        }
}
}
    built_ = true;
  }
  auto it = by_account_.find(ns + "/" + name);
  return it == by_account_.end() ? empty_ : it->second;
}

void ServiceAccounts::add(std::size_t id, const Object& obj, const PodView&) {
  changed();
  std::optional<bool> automount;
  if (const Node* a = obj.root->get("automountServiceAccountToken")) automount = a->as_bool();
  rows.push_back({id, automount});
}

const ServiceAccountFacts* ServiceAccounts::find(const Inventory& inv, const std::string& ns,
                                                 const std::string& name) const {
  if (!built_) {
    for (std::size_t i = 0; i < rows.size(); ++i)
      by_name_.emplace(inv.objects[rows[i].object].ns + "/" + inv.objects[rows[i].object].name, i);
    built_ = true;
  }
  auto it = by_name_.find(ns + "/" + name);
  return it == by_name_.end() ? nullptr : &rows[it->second];
}

}  // namespace kg

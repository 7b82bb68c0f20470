#include "core/inventory.hpp"

#include <algorithm>
#include <set>

namespace kg {

Mark field_mark(const Node* map, std::string_view key) {
  for (const MapEntry& e : entries(map))
    if (e.key && e.key->text() == key)
      return e.value && e.value->is_scalar() ? mark_of(e.value) : mark_of(e.key);
  return {};
}

Mark path_mark(const Node* root, std::string_view dotted) {
  const Node* at = root;
  Mark m;
  while (at && !dotted.empty()) {
    const auto dot = dotted.find('.');
    const std::string_view key = dotted.substr(0, dot);
    m = field_mark(at, key);
    if (!m) return {};
    at = at->get(key);
    dotted = dot == std::string_view::npos ? std::string_view{} : dotted.substr(dot + 1);
  }
  return m;
}

Labels read_labels(const Node* map) {
  Labels out;
  for (const MapEntry& e : entries(map)) out.emplace_back(e.key->text(), str(e.value));
  std::sort(out.begin(), out.end());
  return out;
}

std::string_view label(const Labels& labels, std::string_view key) {
  auto it = std::lower_bound(labels.begin(), labels.end(), key,
                             [](const auto& p, std::string_view k) { return p.first < k; });
  return it != labels.end() && it->first == key ? std::string_view(it->second) : std::string_view{};
}

bool has_label(const Labels& labels, std::string_view key) {
  auto it = std::lower_bound(labels.begin(), labels.end(), key,
                             [](const auto& p, std::string_view k) { return p.first < k; });
  return it != labels.end() && it->first == key;
}

bool LabelSelector::matches(const Labels& labels) const {
  if (!present || invalid) return false;
  for (const auto& [k, v] : match_labels)
    if (!has_label(labels, k) || label(labels, k) != v) return false;
  for (const Requirement& r : expressions) {
    const bool has = has_label(labels, r.key);
    const std::string_view v = label(labels, r.key);
    const bool in = has && std::find(r.values.begin(), r.values.end(), v) != r.values.end();
    if (r.op == "In" && !in) return false;
    if (r.op == "NotIn" && in) return false;
    if (r.op == "Exists" && !has) return false;
    if (r.op == "DoesNotExist" && has) return false;
  }
  return true;
}

const Node* invalid_selector_requirement(const Node* selector, std::string& why, std::string& field) {
  std::size_t i = 0;
  for (const Node* e : items(get(selector, "matchExpressions"))) {
    const std::string index = "matchExpressions[" + std::to_string(i++) + "]";
    const Node* op_node = get(e, "operator");
    const std::string_view op = str(op_node);
    const std::size_t values = items(get(e, "values")).size();
    field = index + ".operator";
    if (op != "In" && op != "NotIn" && op != "Exists" && op != "DoesNotExist") {
      why = "operator \"" + std::string(op) + "\" is not In, NotIn, Exists or DoesNotExist";
      return op_node ? op_node : e;
    }
    if ((op == "In" || op == "NotIn") && values == 0) {
      why = "operator " + std::string(op) + " needs at least one value";
      field = index + ".values";
      return get(e, "values") ? get(e, "values") : op_node;
    }
    if ((op == "Exists" || op == "DoesNotExist") && values != 0) {
      why = "operator " + std::string(op) + " takes no values";
      field = index + ".values";
      return get(e, "values");
    }
  }
  return nullptr;
}

LabelSelector read_selector(const Node* selector) {
  LabelSelector s;
  if (!selector || selector->is_null()) return s;
  s.present = true;
  std::string why, field;
  s.invalid = invalid_selector_requirement(selector, why, field) != nullptr;
  s.match_labels = read_labels(selector->get("matchLabels"));
  for (const Node* e : items(selector->get("matchExpressions"))) {
    LabelSelector::Requirement r;
    r.key = std::string(str(get(e, "key")));
    r.op = std::string(str(get(e, "operator")));
    for (const Node* v : items(get(e, "values"))) r.values.emplace_back(str(v));
    s.expressions.push_back(std::move(r));
  }
  return s;
}

LabelSelector read_map_selector(const Node* map) {
  LabelSelector s;
  s.match_labels = read_labels(map);
  s.present = !s.match_labels.empty();
  return s;
}

bool is_iso_date(std::string_view d) {
  if (d.size() != 10 || d[4] != '-' || d[7] != '-') return false;
  for (std::size_t i : {0, 1, 2, 3, 5, 6, 8, 9})
    if (d[i] < '0' || d[i] > '9') return false;
  const int year = (d[0] - '0') * 1000 + (d[1] - '0') * 100 + (d[2] - '0') * 10 + (d[3] - '0');
  const int month = (d[5] - '0') * 10 + (d[6] - '0');
  const int day = (d[8] - '0') * 10 + (d[9] - '0');
  if (month < 1 || month > 12 || day < 1) return false;
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return day <= kDays[month - 1] + (month == 2 && leap ? 1 : 0);
}

std::optional<ExemptionMark> read_exemption(const Node* annotations) {
  static constexpr std::string_view kExempt = "kguard.io/exempt";
  const Node* rules = get(annotations, kExempt);
  ExemptionMark m;
  // A misspelled exempt-* key would otherwise silently drop its reason or expiry.
  for (const MapEntry& e : entries(annotations)) {
    const std::string_view k = e.key->text();
    if (k.substr(0, kExempt.size()) == kExempt && k != kExempt && k != "kguard.io/exempt-reason" &&
        k != "kguard.io/exempt-until")
      m.problems.push_back({e.key->line, e.key->column,
                            "unknown annotation " + std::string(k) +
                                " (kguard reads kguard.io/exempt, kguard.io/exempt-reason and "
                                "kguard.io/exempt-until)"});
  }
  if (!rules && m.problems.empty()) return std::nullopt;
  const Node* at = rules ? rules : annotations;
  m.line = at->line;
  m.column = at->column;
  std::string_view list = str(rules);
  while (!list.empty()) {
    auto comma = list.find(',');
    std::string_view id = list.substr(0, comma);
    while (!id.empty() && id.front() == ' ') id.remove_prefix(1);
    while (!id.empty() && id.back() == ' ') id.remove_suffix(1);
    if (!id.empty()) m.rules.emplace_back(id);
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  const Node* reason = get(annotations, "kguard.io/exempt-reason");
  const Node* until = get(annotations, "kguard.io/exempt-until");
  m.reason = std::string(str(reason));
  m.until = std::string(str(until));
  if (!rules) {
    m.problems.push_back({at->line, at->column, "kguard.io/exempt is missing: name the rules to exempt"});
  } else if (m.rules.empty()) {
    m.problems.push_back({m.line, m.column,
                          "kguard.io/exempt is empty: name rule ids, categories or tags (comma-separated)"});
  }
  const bool wildcard = std::any_of(m.rules.begin(), m.rules.end(),
                                    [](const std::string& r) { return r == "*" || r == "all"; });
  if (wildcard && m.reason.empty())
    m.problems.push_back({m.line, m.column,
                          "kguard.io/exempt: \"" + std::string(str(rules)) +
                              "\" exempts every rule and needs kguard.io/exempt-reason"});
  if (until && !is_iso_date(m.until))
    m.problems.push_back({until->line, until->column,
                          "kguard.io/exempt-until: \"" + m.until + "\" is not a date YYYY-MM-DD"});
  m.rejected = !m.problems.empty();
  return m;
}

namespace {

std::vector<std::string> strings_of(const Node* n) {
  std::vector<std::string> out;
  for (const Node* i : items(n)) out.emplace_back(str(i));
  return out;
}

}  // namespace

const std::string& ObjectFacts::file() const {
  static const std::string kNone;
  return file_name ? *file_name : kNone;
}

ObjectFacts read_object_facts(const Object& obj, const PodView& pod,
                              std::shared_ptr<const std::string> file_name) {
  ObjectFacts f;
  f.kind = std::string(obj.kind);
  f.api_version = std::string(obj.api_version);
  f.ns = std::string(obj.ns);
  f.name = std::string(obj.name);
  f.file_name = std::move(file_name);
  f.line = obj.line;
  f.column = obj.column;
  f.path_prefix = obj.path_prefix;
  const Node* meta = obj.root->get("metadata");
  f.metadata_at = field_mark(obj.root, "metadata");
  f.name_at = field_mark(meta, "name");
  f.namespace_at = field_mark(meta, "namespace");
  f.labels = read_labels(get(meta, "labels"));
  std::optional<ExemptionMark> exemption = read_exemption(get(meta, "annotations"));
  if (!exemption && pod) exemption = read_exemption(get(pod.meta, "annotations"));
  if (exemption) f.exemption = std::make_unique<ExemptionMark>(std::move(*exemption));
  for (const Node* o : items(get(meta, "ownerReferences")))
    f.owners.push_back({std::string(str(get(o, "kind"))), std::string(str(get(o, "name"))),
                        is_true(get(o, "controller"))});
  return f;
}

std::size_t Inventory::add(const Object& obj, const PodView& pod, bool collect) {
  const std::size_t id = objects.size();
  static const std::string kNoFile;
  const std::string& file = obj.file ? obj.file->path : kNoFile;
  if (!last_file_ || *last_file_ != file) last_file_ = std::make_shared<const std::string>(file);
  objects.push_back(read_object_facts(obj, pod, last_file_));
  index_built_ = false;
  by_ns_.reset();
  if (!collect) return id;

  const std::string_view kind = obj.kind;
  const Node* spec = obj.root->get("spec");
  if (pod) {
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
    if (const Node* r = get(spec, "replicas"); r && kind != "Pod") w.replicas = r->as_int();
    const std::string_view restart = str(pod.spec->get("restartPolicy"));
    w.long_running = kind != "Job" && kind != "CronJob" &&
                     !(kind == "Pod" && (restart == "Never" || restart == "OnFailure"));
    workloads.push_back(std::move(w));
  } else if (kind == "Service") {
    services.push_back({id, read_map_selector(get(spec, "selector")), std::string(str(get(spec, "type"))), false, {},
                        field_mark(spec, "selector")});
  } else if (kind == "NetworkPolicy") {
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
    network_policies.push_back(std::move(np));
  } else if (kind == "Role" || kind == "ClusterRole") {
    RoleFacts r;
    r.object = id;
    r.cluster = kind == "ClusterRole";
    for (const Node* rule : items(obj.root->get("rules")))
      r.rules.push_back({strings_of(get(rule, "apiGroups")), strings_of(get(rule, "resources")),
                         strings_of(get(rule, "verbs")), strings_of(get(rule, "resourceNames")),
                         strings_of(get(rule, "nonResourceURLs"))});
    for (const Node* sel : items(get(obj.root->get("aggregationRule"), "clusterRoleSelectors")))
      r.aggregation.push_back(read_selector(sel));
    roles.push_back(std::move(r));
  } else if (kind == "RoleBinding" || kind == "ClusterRoleBinding") {
    BindingFacts b;
    b.object = id;
    b.cluster = kind == "ClusterRoleBinding";
    const Node* ref = obj.root->get("roleRef");
    b.role_kind = std::string(str(get(ref, "kind")));
    b.role_name = std::string(str(get(ref, "name")));
    if (const Node* at = get(ref, "name") ? get(ref, "name") : ref) {
      b.role_name_line = at->line;
      b.role_name_column = at->column;
    }
    for (const Node* s : items(obj.root->get("subjects")))
      b.subjects.push_back({std::string(str(get(s, "kind"))), std::string(str(get(s, "name"))),
                            std::string(str(get(s, "namespace")))});
    bindings.push_back(std::move(b));
  } else if (kind == "Namespace") {
    namespaces.push_back(id);
  } else if (kind == "ServiceAccount") {
    service_accounts.push_back(id);
    std::optional<bool> automount;
    if (const Node* a = obj.root->get("automountServiceAccountToken")) automount = a->as_bool();
    sa_automount[id] = automount;
  } else if (kind == "PodDisruptionBudget") {
    pdbs.emplace_back(id, read_selector(get(spec, "selector")));
  } else if (kind == "LimitRange") {
    limit_ranges.push_back(id);
  } else if (kind == "ResourceQuota") {
    resource_quotas.push_back(id);
  }
  add_references(id, obj, pod);
  return id;
}

void Inventory::append(Inventory&& o) {
  const std::size_t base = objects.size();
  if (objects.empty()) {
    objects.swap(o.objects);  // the first (often the only) file: no copy
  } else {
    objects.reserve(base + o.objects.size());
    for (auto& f : o.objects) objects.push_back(std::move(f));
  }
  auto shift = [&](auto& vec) {
    for (auto& x : vec) {
      x.object += base;
    }
  };
  shift(o.workloads);
  shift(o.services);
  shift(o.network_policies);
  shift(o.roles);
  shift(o.bindings);
  auto move_all = [](auto& to, auto& from) {
    if (to.empty()) {
      to.swap(from);
      return;
    }
    to.reserve(to.size() + from.size());
    for (auto& x : from) to.push_back(std::move(x));
  };
  move_all(workloads, o.workloads);
  move_all(services, o.services);
  move_all(network_policies, o.network_policies);
  move_all(roles, o.roles);
  move_all(bindings, o.bindings);
  for (std::size_t i : o.namespaces) namespaces.push_back(i + base);
  for (std::size_t i : o.service_accounts) service_accounts.push_back(i + base);
  for (std::size_t i : o.limit_ranges) limit_ranges.push_back(i + base);
  for (std::size_t i : o.resource_quotas) resource_quotas.push_back(i + base);
  for (auto& [i, sel] : o.pdbs) pdbs.emplace_back(i + base, std::move(sel));
  for (auto& [i, a] : o.sa_automount) sa_automount[i + base] = a;
  shift(o.autoscalers);
  shift(o.service_references);
  shift(o.service_monitors);
  shift(o.data_sources);
  shift(o.image_policies);
  move_all(image_policies, o.image_policies);
  move_all(autoscalers, o.autoscalers);
  move_all(service_references, o.service_references);
  move_all(service_monitors, o.service_monitors);
  move_all(data_sources, o.data_sources);
  for (auto& m : o.pdb_min_available) pdb_min_available.push_back({m.object + base, m.value, m.at});
  index_built_ = false;
  by_ns_.reset();
}

Inventory Inventory::subset(const std::vector<std::size_t>& keep) const {
  constexpr std::size_t kOut = static_cast<std::size_t>(-1);
  std::vector<std::size_t> local(objects.size(), kOut);
  Inventory s;
  s.objects.reserve(keep.size());
  for (std::size_t i : keep) {
    local[i] = s.objects.size();
    const ObjectFacts& f = objects[i];
    ObjectFacts c;
    c.kind = f.kind;
    c.api_version = f.api_version;
    c.ns = f.ns;
    c.name = f.name;
    c.file_name = f.file_name;
    c.line = f.line;
    c.column = f.column;
    c.path_prefix = f.path_prefix;
    c.labels = f.labels;
    if (f.exemption) c.exemption = std::make_unique<ExemptionMark>(*f.exemption);
    c.owners = f.owners;
    s.objects.push_back(std::move(c));
  }
  auto copy = [&](auto& to, const auto& from) {
    for (const auto& x : from)
      if (local[x.object] != kOut) {
        to.push_back(x);
        to.back().object = local[x.object];
      }
  };
  copy(s.workloads, workloads);
  copy(s.services, services);
  copy(s.network_policies, network_policies);
  copy(s.roles, roles);
  copy(s.bindings, bindings);
  copy(s.autoscalers, autoscalers);
  copy(s.service_references, service_references);
  copy(s.service_monitors, service_monitors);
  copy(s.data_sources, data_sources);
  copy(s.image_policies, image_policies);
  auto copy_ids = [&](std::vector<std::size_t>& to, const std::vector<std::size_t>& from) {
    for (std::size_t i : from)
      if (local[i] != kOut) to.push_back(local[i]);
  };
  copy_ids(s.namespaces, namespaces);
  copy_ids(s.service_accounts, service_accounts);
  copy_ids(s.limit_ranges, limit_ranges);
  copy_ids(s.resource_quotas, resource_quotas);
  for (const auto& [i, sel] : pdbs)
    if (local[i] != kOut) s.pdbs.emplace_back(local[i], sel);
  for (const auto& [i, a] : sa_automount)
    if (local[i] != kOut) s.sa_automount[local[i]] = a;
  for (const PdbMinAvailable& m : pdb_min_available)
    if (local[m.object] != kOut) s.pdb_min_available.push_back({local[m.object], m.value, m.at});
  return s;
}

void Inventory::build_index() const {
  if (index_built_) return;
  index_.clear();
  index_.reserve(objects.size());
  role_of_object_.clear();
  for (std::size_t i = 0; i < roles.size(); ++i) role_of_object_[roles[i].object] = i;
  for (std::size_t i = 0; i < objects.size(); ++i) {
    const ObjectFacts& f = objects[i];
    // A stray namespace on a ClusterRole is ignored by the API server.
    index_.emplace(f.kind + "/" + (f.kind == "ClusterRole" ? std::string() : f.ns) + "/" + f.name, i);
  }
  index_built_ = true;
}

bool Inventory::has_object(std::string_view kind, std::string_view ns, std::string_view name) const {
  build_index();
  std::string& key = lookup_key_;
  key.clear();
  key.append(kind).append("/").append(ns).append("/").append(name);
  return index_.count(key) > 0;
}

bool Inventory::controlled_by_input(std::size_t object) const {
  const ObjectFacts& f = objects[object];
  for (const ObjectFacts::Owner& o : f.owners)
    if ((o.controller || f.owners.size() == 1) && has_object(o.kind, f.ns, o.name)) return true;
  return false;
}

const RoleFacts* Inventory::find_role(std::string_view kind, std::string_view ns,
                                      std::string_view name) const {
  build_index();
  // ClusterRoles are cluster-scoped: their facts carry no namespace.
  std::string& key = lookup_key_;
  key.clear();
  key.append(kind).append("/").append(kind == "ClusterRole" ? std::string_view{} : ns).append("/").append(name);
  auto it = index_.find(key);
  if (it == index_.end()) return nullptr;
  auto r = role_of_object_.find(it->second);
  return r == role_of_object_.end() ? nullptr : &roles[r->second];
}

std::vector<const PolicyRule*> Inventory::effective_rules(const RoleFacts& role) const {
  std::vector<const PolicyRule*> out;
  std::set<const RoleFacts*> seen;
  std::vector<const RoleFacts*> pending{&role};
  while (!pending.empty()) {
    const RoleFacts* r = pending.back();
    pending.pop_back();
    if (!seen.insert(r).second) continue;
    for (const PolicyRule& p : r->rules) out.push_back(&p);
    // The controller aggregates every ClusterRole whose labels match a selector.
    for (const LabelSelector& sel : r->aggregation)
      for (const RoleFacts& other : roles)
        if (other.cluster && sel.matches(objects[other.object].labels)) pending.push_back(&other);
  }
  return out;
}

const Inventory::ByNamespace& Inventory::by_namespace() const {
  if (by_ns_) return *by_ns_;
  auto b = std::make_unique<ByNamespace>();
  for (std::size_t i = 0; i < workloads.size(); ++i) b->workloads[objects[workloads[i].object].ns].push_back(i);
  for (std::size_t i = 0; i < network_policies.size(); ++i)
    b->policies[objects[network_policies[i].object].ns].push_back(i);
  for (std::size_t i = 0; i < pdbs.size(); ++i) b->pdbs[objects[pdbs[i].first].ns].push_back(i);
  for (std::size_t i = 0; i < services.size(); ++i) b->services[objects[services[i].object].ns].push_back(i);
  for (std::size_t i : service_accounts)
    b->service_accounts.emplace(objects[i].ns + "/" + objects[i].name, i);
  for (std::size_t i = 0; i < bindings.size(); ++i)
    for (const Subject& s : bindings[i].subjects)
      if (s.kind == "ServiceAccount") {
        // A subject without a namespace means the binding's own namespace.
        auto& list = b->sa_bindings[(s.ns.empty() ? objects[bindings[i].object].ns : s.ns) + "/" + s.name];
        if (list.empty() || list.back() != i) list.push_back(i);
      }
  by_ns_ = std::move(b);
  return *by_ns_;
}

namespace {
const std::vector<std::size_t>& lookup(const std::unordered_map<std::string, std::vector<std::size_t>>& m,
                                       const std::string& key) {
  static const std::vector<std::size_t> kEmpty;
  auto it = m.find(key);
  return it == m.end() ? kEmpty : it->second;
}
}  // namespace

const std::vector<std::size_t>& Inventory::workloads_in(const std::string& ns) const {
  return lookup(by_namespace().workloads, ns);
}
const std::vector<std::size_t>& Inventory::network_policies_in(const std::string& ns) const {
  return lookup(by_namespace().policies, ns);
}
const std::vector<std::size_t>& Inventory::pdbs_in(const std::string& ns) const {
  return lookup(by_namespace().pdbs, ns);
}
const std::vector<std::size_t>& Inventory::services_in(const std::string& ns) const {
  return lookup(by_namespace().services, ns);
}
const std::vector<std::size_t>& Inventory::bindings_of_service_account(const std::string& ns,
                                                                       const std::string& name) const {
  return lookup(by_namespace().sa_bindings, ns + "/" + name);
}
std::optional<std::size_t> Inventory::service_account(const std::string& ns, const std::string& name) const {
  const auto& m = by_namespace().service_accounts;
  auto it = m.find(ns + "/" + name);
  if (it == m.end()) return std::nullopt;
  return it->second;
}

std::vector<std::string> Inventory::namespaces_in_use() const {
  std::set<std::string> names;
  for (std::size_t i : namespaces) names.insert(objects[i].name);
  for (const ObjectFacts& f : objects)
    if (!f.ns.empty()) names.insert(f.ns);
  return {names.begin(), names.end()};
}

}  // namespace kg

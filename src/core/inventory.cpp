#include "core/inventory.hpp"

#include <algorithm>
#include <set>

namespace kg {

Mark field_mark(const Node* map, std::string_view key) {
  for (const MapEntry& e : entries(map)) {
    if (e.key && e.key->text() == key)
      return e.value && e.value->is_scalar() ? mark_of(e.value) : mark_of(e.key);
  }
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
        k != "kguard.io/exempt-until") {
      m.problems.push_back({e.key->line, e.key->column,
                            "unknown annotation " + std::string(k) +
                                " (kguard reads kguard.io/exempt, kguard.io/exempt-reason and "
                                "kguard.io/exempt-until)"});
    }
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
  if (wildcard && m.reason.empty()) {
    m.problems.push_back({m.line, m.column,
                          "kguard.io/exempt: \"" + std::string(str(rules)) +
                              "\" exempts every rule and needs kguard.io/exempt-reason"});
  }
  if (until && !is_iso_date(m.until)) {
    m.problems.push_back({until->line, until->column,
                          "kguard.io/exempt-until: \"" + m.until + "\" is not a date YYYY-MM-DD"});
  }
  m.rejected = !m.problems.empty();
  return m;
}

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
  for (const Node* o : items(get(meta, "ownerReferences"))) {
    f.owners.push_back({std::string(str(get(o, "kind"))), std::string(str(get(o, "name"))),
                        is_true(get(o, "controller"))});
  }
  return f;
}

void Inventory::use(std::shared_ptr<const FactPlan> plan) {
  plan_ = std::move(plan);
  tables_.clear();
  unplanned_.clear();
  if (plan_)
    for (const FactCollector* c : plan_->collectors()) tables_.push_back(c->make());
}

std::size_t Inventory::add(const Object& obj, const PodView& pod) {
  const std::size_t id = objects.size();
  static const std::string kNoFile;
  const std::string& file = obj.file ? obj.file->path : kNoFile;
  if (!last_file_ || *last_file_ != file) last_file_ = std::make_shared<const std::string>(file);
  objects.push_back(read_object_facts(obj, pod, last_file_));
  index_built_ = false;
  if (!plan_) return id;
  if (const std::vector<std::uint16_t>* readers = plan_->readers(obj.kind, static_cast<bool>(pod))) {
    for (std::uint16_t t : *readers) tables_[t]->add(id, obj, pod);
  }
  return id;
}

void Inventory::append(Inventory&& o) {
  const std::size_t base = objects.size();
  // Room the caller reserved is kept, else grown geometrically: an exact
  // reserve per part (a large input comes in many pieces) would move every
  // fact at each part, and hold two copies while it does.
  auto grow = [](auto& to, std::size_t extra) {
    if (to.capacity() < to.size() + extra) to.reserve(std::max(to.size() + extra, 2 * to.capacity()));
  };
  if (objects.empty() && objects.capacity() < o.objects.size()) {
    objects.swap(o.objects);  // the first (often the only) file: no copy
  } else {
    grow(objects, o.objects.size());
    for (auto& f : o.objects) objects.push_back(std::move(f));
  }
  if (!plan_ && o.plan_) use(o.plan_);
  if (plan_ && o.plan_ == plan_) {
    // The planned tables only (both hold them first, in plan order).
    for (std::size_t t = 0; t < plan_->collectors().size(); ++t)
      tables_[t]->append(std::move(*o.tables_[t]), base);
  }
  index_built_ = false;
}

Inventory Inventory::subset(const std::vector<std::size_t>& keep) const {
  std::vector<std::size_t> local(objects.size(), FactTable::kDropped);
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
    c.metadata_at = f.metadata_at;
    c.name_at = f.name_at;
    c.namespace_at = f.namespace_at;
    c.labels = f.labels;
    if (f.exemption) c.exemption = std::make_unique<ExemptionMark>(*f.exemption);
    c.owners = f.owners;
    s.objects.push_back(std::move(c));
  }
  s.plan_ = plan_;
  if (plan_) {
    for (std::size_t t = 0; t < plan_->collectors().size(); ++t) s.tables_.push_back(tables_[t]->subset(local));
  }
  return s;
}

const FactTable& Inventory::table(const FactCollector& collector) const {
  if (plan_) {
    const auto& cs = plan_->collectors();
    for (std::size_t t = 0; t < cs.size(); ++t) {
      if (cs[t] == &collector) return *tables_[t];
    }
  }
  const std::size_t planned = plan_ ? plan_->collectors().size() : 0;
  for (std::size_t u = 0; u < unplanned_.size(); ++u) {
    if (unplanned_[u] == &collector) return *tables_[planned + u];
  }
  unplanned_.push_back(&collector);
  tables_.push_back(collector.make());
  return *tables_.back();
}

void Inventory::build_index() const {
  if (index_built_) return;
  index_.clear();
  index_.reserve(objects.size());
  for (std::size_t i = 0; i < objects.size(); ++i) {
    const ObjectFacts& f = objects[i];
    // A stray namespace on a ClusterRole is ignored by the API server.
    index_.emplace(f.kind + "/" + (f.kind == "ClusterRole" ? std::string() : f.ns) + "/" + f.name, i);
  }
  index_built_ = true;
}

std::optional<std::size_t> Inventory::find(std::string_view kind, std::string_view ns,
                                           std::string_view name) const {
  build_index();
  std::string& key = lookup_key_;
  key.clear();
  key.append(kind).append("/").append(kind == "ClusterRole" ? std::string_view{} : ns).append("/").append(name);
  auto it = index_.find(key);
  if (it == index_.end()) return std::nullopt;
  return it->second;
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

std::vector<std::string> Inventory::namespaces_in_use() const {
  std::set<std::string> names;
  for (const ObjectFacts& f : objects) {
    if (f.kind == "Namespace") names.insert(f.name);
    if (!f.ns.empty()) names.insert(f.ns);
  }
  return {names.begin(), names.end()};
}

}  // namespace kg

#include "core/object.hpp"

namespace kg {

std::string_view Object::group() const {
  auto slash = api_version.find('/');
  return slash == std::string_view::npos ? std::string_view{} : api_version.substr(0, slash);
}

std::string Object::display() const {
  std::string s(kind);
  s += '/';
  if (!ns.empty()) {
    s += ns;
    s += '/';
  }
  s += name.empty() ? std::string_view("<unnamed>") : name;
  return s;
}

std::string join_path(std::string_view base, std::string_view field) {
  std::string s;
  s.reserve(base.size() + field.size() + 1);
  s += base;
  if (!base.empty() && !field.empty() && field.front() != '[') s += '.';
  s += field;
  return s;
}

std::string index_path(std::string_view base, std::size_t i) {
  std::string s(base);
  s += '[';
  s += std::to_string(i);
  s += ']';
  return s;
}

std::vector<std::string> split_field_path(std::string_view path) {
  std::vector<std::string> out;
  while (!path.empty()) {
    auto dot = path.find('.');
    out.emplace_back(path.substr(0, dot));
    if (dot == std::string_view::npos) break;
    path.remove_prefix(dot + 1);
  }
  return out;
}

namespace {

bool is_list_kind(std::string_view kind) {
  return kind == "List" || (kind.size() > 4 && kind.substr(kind.size() - 4) == "List");
}

void collect(const SourceFile& file, const Node* root, std::string prefix, int depth,
             std::vector<Object>& out, std::vector<InputError>& errors) {
  if (!root->is_map()) {
    errors.push_back({file.path, root->line, root->column,
                      "document is not a Kubernetes object (expected a mapping with apiVersion "
                      "and kind)"});
    return;
  }
  const Node* kind = root->get("kind");
  const Node* api = root->get("apiVersion");
  if (!kind || !kind->is_scalar() || kind->text().empty()) {
    errors.push_back({file.path, root->line, root->column,
                      "object has no kind" +
                          (prefix.empty() ? std::string() : " (at " + prefix + ")")});
    return;
  }
  const Node* list_items = root->get("items");
  if (is_list_kind(kind->text()) && list_items && (list_items->is_seq() || list_items->is_null())) {
    if (depth > 8) {
      errors.push_back({file.path, root->line, root->column, "Lists nested too deeply"});
      return;
    }
    std::size_t i = 0;
    for (const Node* item : items(list_items))
      collect(file, item, index_path(join_path(prefix, "items"), i++), depth + 1, out, errors);
    return;
  }
  if (!api || !api->is_scalar() || api->text().empty()) {
    errors.push_back({file.path, root->line, root->column,
                      "object of kind " + std::string(kind->text()) + " has no apiVersion"});
    // still scanned: the kind is enough for every check
  }
  Object obj;
  obj.root = root;
  obj.file = &file;
  obj.api_version = str(api);
  obj.kind = kind->text();
  const Node* meta = root->get("metadata");
  obj.ns = str(get(meta, "namespace"));
  obj.name = str(get(meta, "name"));
  if (obj.name.empty()) obj.name = str(get(meta, "generateName"));
  obj.line = root->line;
  obj.column = root->column;
  obj.path_prefix = std::move(prefix);
  out.push_back(std::move(obj));
}

}  // namespace

void collect_objects(const SourceFile& file, const Document& doc, std::vector<Object>& out,
                     std::vector<InputError>& errors) {
  // A streamed List item is addressed as in its envelope.
  collect(file, doc.root,
          doc.list_index >= 0 ? index_path("items", static_cast<std::size_t>(doc.list_index))
                              : std::string(),
          0, out, errors);
}

PodSpecTable::PodSpecTable() {
  paths_ = {
      {"Pod", ""},
      {"PodTemplate", "template"},
      {"Deployment", "spec.template"},
      {"ReplicaSet", "spec.template"},
      {"StatefulSet", "spec.template"},
      {"DaemonSet", "spec.template"},
      {"Job", "spec.template"},
      {"ReplicationController", "spec.template"},
      {"CronJob", "spec.jobTemplate.spec.template"},
      // Widely used CRDs with an embedded PodTemplateSpec.
      {"Rollout", "spec.template"},           // Argo Rollouts
      {"DeploymentConfig", "spec.template"},  // OpenShift
  };
}

const std::string* PodSpecTable::find(std::string_view kind) const {
  auto it = paths_.find(kind);
  return it == paths_.end() ? nullptr : &it->second;
}

std::vector<std::string> PodSpecTable::kinds() const {
  std::vector<std::string> k;
  for (const auto& [kind, path] : paths_) k.push_back(kind);
  return k;
}

PodView pod_view(const Object& obj, const PodSpecTable& table) {
  PodView v;
  const std::string* tpath = table.find(obj.kind);
  if (!tpath) return v;
  const Node* tmpl = obj.root;
  std::string_view rest = *tpath;
  while (!rest.empty() && tmpl) {
    auto dot = rest.find('.');
    tmpl = tmpl->get(rest.substr(0, dot));
    rest = dot == std::string_view::npos ? std::string_view{} : rest.substr(dot + 1);
  }
  if (!tmpl || !tmpl->is_map()) return v;
  const Node* spec = tmpl->get("spec");
  if (!spec || !spec->is_map()) return v;
  std::string base = join_path(obj.path_prefix, *tpath);
  v.spec = spec;
  v.meta = tmpl->get("metadata");
  v.spec_path = join_path(base, "spec");
  v.meta_path = join_path(base, "metadata");
  return v;
}

std::string_view container_kind_field(ContainerKind k) {
  switch (k) {
    case ContainerKind::Init: return "initContainers";
    case ContainerKind::Ephemeral: return "ephemeralContainers";
    default: return "containers";
  }
}

std::vector<ContainerRef> containers_of(const PodView& pod) {
  std::vector<ContainerRef> out;
  if (!pod) return out;
  for (ContainerKind k : {ContainerKind::Init, ContainerKind::Container, ContainerKind::Ephemeral}) {
    std::string_view field = container_kind_field(k);
    std::size_t i = 0;
    for (const Node* c : items(pod.spec->get(field))) {
      if (c->is_map()) {
        out.push_back(ContainerRef{c, k, i, str(c->get("name")),
                                   index_path(join_path(pod.spec_path, field), i)});
      }
      ++i;
    }
  }
  return out;
}

Effective effective_security_field(const PodView& pod, const ContainerRef& c,
                                   std::string_view field) {
  Effective e;
  const Node* csc = c.node->get("securityContext");
  if (const Node* v = get(csc, field); v && !v->is_null()) {
    e.value = v;
    e.path = join_path(join_path(c.path, "securityContext"), field);
    return e;
  }
  if (const Node* v = get(pod.spec->get("securityContext"), field); v && !v->is_null()) {
    e.value = v;
    e.from_pod = true;
    e.path = join_path(join_path(pod.spec_path, "securityContext"), field);
    return e;
  }
  e.path = join_path(join_path(c.path, "securityContext"), field);
  return e;
}

}  // namespace kg

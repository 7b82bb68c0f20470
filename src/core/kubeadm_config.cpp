#include "core/kubeadm_config.hpp"

#include <string>
#include <string_view>

namespace kg {
namespace {

// The character at a node's line:column of its file, or 0.
char char_at(const SourceFile& file, const Node& n) {
  const std::string_view text = file.text();
  std::size_t pos = 0;
  for (std::uint32_t line = file.first_line; line < n.line && pos != std::string_view::npos; ++line) {
    pos = text.find('\n', pos);
    if (pos != std::string_view::npos) ++pos;
  }
  if (pos == std::string_view::npos || n.column == 0) return 0;
  pos += n.column - 1;
  return pos < text.size() ? text[pos] : 0;
}

}  // namespace

bool is_kubeadm_config_map(const Object& obj) {
  return obj.kind == "ConfigMap" && obj.api_version == "v1" && obj.ns == "kube-system" && obj.name == "kubeadm-config";
}

void unpack_kubeadm_config(const Object& config_map, std::vector<std::unique_ptr<SourceFile>>& keep,
                           std::vector<Object>& out, std::vector<InputError>& errors) {
  if (!is_kubeadm_config_map(config_map) || !config_map.file) return;
  const Node* value = get(get(config_map.root, "data"), "ClusterConfiguration");
  if (!value) return;
  const std::string where = "ConfigMap kube-system/kubeadm-config data.ClusterConfiguration";
  const std::string& path = config_map.file->path;
  if (!value->is_scalar()) {
    errors.push_back({path, value->line, value->column, where + ": not a string (kubeadm stores YAML text)"});
    return;
  }
  auto file = std::make_unique<SourceFile>();
  file->path = path;
  file->content = std::string(value->text());
  // A block scalar's text starts on the line after its indicator; a quoted
  // string's on its own line.
  const char c = char_at(*config_map.file, *value);
  const bool block = c == '|' || c == '>';
  file->view = file->content;
  file->first_line = value->line + (block ? 1 : 0);
  LoadLimits limits;
  load_documents(*file, limits);
  // A quoted string is one line of its file whatever its text holds: its errors point at it.
  for (const InputError& e : file->errors)
    errors.push_back({path, block && e.line ? e.line : value->line, block && e.line ? e.column : value->column,
                      where + ": " + e.message});
  if (!file->errors.empty()) return;
  std::vector<Object> objects;
  std::vector<InputError> object_errors;
  for (const Document& d : file->documents) collect_objects(*file, d, objects, object_errors);
  for (const InputError& e : object_errors)
    errors.push_back({path, e.line ? e.line : value->line, e.column, where + ": " + e.message});
  bool found = false;
  for (Object& obj : objects) {
    if (obj.kind != "ClusterConfiguration" || obj.api_version.substr(0, 12) != "kubeadm.k8s.") continue;
    found = true;
    obj.ns = config_map.ns;
    obj.name = config_map.name;
    obj.path_prefix = config_map.path_prefix.empty() ? "data.ClusterConfiguration"
                                                     : config_map.path_prefix + ".data.ClusterConfiguration";
    out.push_back(std::move(obj));
  }
  if (!found && object_errors.empty()) {
    errors.push_back({path, value->line, value->column,
                      where + ": not a kubeadm ClusterConfiguration (apiVersion kubeadm.k8s.io/*, kind ClusterConfiguration)"});
    return;
  }
  keep.push_back(std::move(file));
}

}  // namespace kg

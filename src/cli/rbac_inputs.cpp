#include "cli/rbac_inputs.hpp"

#include <iostream>
#include <sstream>

#include "engines/scan/scan.hpp"

namespace kg::cli {

const std::vector<std::string>& rbac_path_kinds() {
  static const std::vector<std::string> kKinds = {
      "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding", "ServiceAccount", "Secret", "Namespace", "Pod",
      "Deployment", "DaemonSet", "StatefulSet", "ReplicaSet", "ReplicationController", "Job", "CronJob"};
  return kKinds;
}

void RbacInputs::add_source(SourceFile& file, bool walked) {
  const LoadLimits limits;
  std::vector<Object> objects;
  stream_documents(file, limits, [&](const Document& doc) {
    if (doc.list_index < 0 && doc.root && str(get(doc.root, "kind")) == "List") {
      if (const Node* snap = get(doc.root, "kguardSnapshot"); snap && cluster_version.empty()) {
        const ClusterInfo info = parse_cluster_info(file.path, *snap, errors);
        cluster_version = info.server_version;
        read_at = info.read_at;
      }
    }
    if (walked && doc.list_index < 0 && !(doc.root && doc.root->is_map() && (get(doc.root, "apiVersion") || get(doc.root, "kind"))))
      return;
    objects.clear();
    collect_objects(file, doc, objects, errors);
    for (const Object& obj : objects)
      if (!loader.add(obj, errors)) rbac::add_asset(obj, pod_specs, default_namespace, assets);
  });
  for (const InputError& e : file.errors) errors.push_back(e);
}

void RbacInputs::add_paths(const std::vector<std::string>& paths) {
  ScanOptions scan_options;
  std::vector<InputError> skipped;
  const std::vector<InputFile> files = expand_inputs(paths, scan_options, errors, skipped);
  for (const InputFile& in : files) {
    SourceFile file;
    file.path = in.path == "-" ? "<stdin>" : in.path;
    bool ok = true;
    if (in.path == "-") {
      std::ostringstream buf;
      buf << std::cin.rdbuf();
      file.content = buf.str();
      ok = !std::cin.bad();
    } else {
      ok = read_file(in.path, file.content);
    }
    if (!ok) {
      errors.push_back({file.path, 0, 0, "cannot read file"});
      continue;
    }
    add_source(file, in.walked);
  }
}

}  // namespace kg::cli

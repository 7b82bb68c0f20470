// Reading RBAC objects and what escalation paths run through (pod
// templates, token Secrets, Namespaces) from files, snapshots or a cluster
// read, for `kguard rbac paths` and `kguard scan`'s RBAC findings.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/document.hpp"
#include "core/object.hpp"
#include "engines/rbac/paths.hpp"
#include "engines/rbac/rbac.hpp"

namespace kg::cli {

// The kinds a cluster read lists for the paths and hygiene.
const std::vector<std::string>& rbac_path_kinds();

struct RbacInputs {
  rbac::PolicyLoader loader;
  rbac::Assets assets;
  PodSpecTable pod_specs;
  std::string default_namespace = "default";
  std::vector<InputError> errors;
  std::string cluster_version;
  std::string read_at;  // when the snapshot (or cluster read) was taken, RFC 3339; "" for manifests
  // Reads every object of one file (or snapshot buffer); `walked`: skip
  // documents that are not objects.
  void add_source(SourceFile& file, bool walked);
  // Reads `paths` (files, folders, "-") as the scan engine walks them.
  void add_paths(const std::vector<std::string>& paths);
};

}  // namespace kg::cli

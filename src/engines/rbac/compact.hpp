// What an identity may do, compacted for people (`kguard rbac can`): every
// rule of every binding that applies, broken into (group, resource, names)
// atoms per scope, verbs merged, atoms another atom of the same scope (or a
// cluster-wide one) covers dropped, then resources and groups with the same
// verbs folded back into one row.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "engines/rbac/rbac.hpp"

namespace kg::rbac {

struct CompactRule {
  std::string scope;  // "" = cluster-wide (ClusterRoleBinding), else the RoleBinding's namespace
  PolicyRule rule;    // verbs sorted; one of resources or non_resource_urls
  std::vector<std::string> via;  // "ClusterRole admin" …, sorted
  bool assumed = false;          // only assumed bootstrap objects grant it
};

// `ns`: only what applies to requests in that namespace (cluster-wide grants
// and that namespace's RoleBindings), as `kubectl auth can-i --list -n NS`.
std::vector<CompactRule> compact_rules(const RbacIndex& index, const Identity& who,
                                       const std::optional<std::string>& ns = std::nullopt);

}  // namespace kg::rbac

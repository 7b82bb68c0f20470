// The node engine: the NodeConfig object (node_config.hpp) judged by the
// catalog's rules for `kind: NodeConfig` through the catalog's KindLinter
// (catalog/kind_linter.hpp, shared with the image engine's lint), into the
// one report model, so every report format, --lang zh, baselines and
// exemptions work for a node as they do for manifests.
#pragma once

#include <string>

#include "catalog/kind_linter.hpp"

namespace kg::node {

// The rules that judge nodes: kinds names NodeConfig.
inline bool is_node_rule(const Rule& rule) { return rule_judges_kind(rule, "NodeConfig"); }

class NodeLinter final : public KindLinter {
 public:
  // lint(subject, object_json): `subject` names the input (the root, or the node's configz).
  NodeLinter(const Catalog& catalog, const EvalOptions& options)
      : KindLinter(catalog, options,
                   {"NodeConfig", "node", "CIS Kubernetes Benchmark node checks and host hardening"}) {}
};

}  // namespace kg::node

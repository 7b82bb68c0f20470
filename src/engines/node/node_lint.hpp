// The node engine: the NodeConfig object (node_config.hpp) judged by the
// catalog's rules for `kind: NodeConfig` through the catalog's object-level
// Evaluator, into the one report model (EngineResult), so every report
// format, --lang zh, baselines and exemptions work for a node as they do for
// manifests (the image engine's lint does the same for `kind: Image`).
#pragma once

#include <string>

#include "catalog/catalog.hpp"
#include "catalog/evaluator.hpp"
#include "model/engine_result.hpp"

namespace kg::node {

// The rules that judge nodes: kinds names NodeConfig.
bool is_node_rule(const Rule& rule);

class NodeLinter final : public Evaluator {
 public:
  NodeLinter(const Catalog& catalog, const EvalOptions& options);
  // Evaluates `object_json` (one kind: NodeConfig object); `subject` names
  // the input (the root, or the node's configz).
  EngineResult lint(const std::string& subject, std::string object_json) const;

 private:
  void judge(const Object& obj, EngineResult& r) const;
};

}  // namespace kg::node

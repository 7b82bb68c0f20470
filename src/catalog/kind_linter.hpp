// The object-level evaluation of engines that build their own object kind
// (kind: Image in engines/image, kind: NodeConfig in engines/node): the
// catalog's rules for that kind only, through the Evaluator, into the one
// report model (EngineResult), so every report format, --lang zh, baselines
// and exemptions work for it as they do for manifests.
#pragma once

#include <string>

#include "catalog/catalog.hpp"
#include "catalog/evaluator.hpp"
#include "model/engine_result.hpp"

namespace kg {

// The rules whose kinds name `kind` (a "*" rule is a manifest rule and does not).
bool rule_judges_kind(const Rule& rule, std::string_view kind);

// What the engine calls its results: EngineResult::engine and ::policy.
struct KindLinterInfo {
  std::string kind;    // Image, NodeConfig
  std::string engine;  // image, node
  std::string policy;  // the report's policy line
};

// The rules of a catalog for one kind that the options select (--only, config
// overrides and exemptions; a disabled-by-default rule only when named). A
// rule the config changed is owned here: keep the linter alive while its
// results are used.
class KindLinter : public Evaluator {
 public:
  KindLinter(const Catalog& catalog, const EvalOptions& options, KindLinterInfo info);
  // Evaluates `object_json` (objects of the kind); `subject` names the input.
  // Problems with the options or the objects land in EngineResult::errors.
  EngineResult lint(const std::string& subject, std::string object_json) const;

 private:
  void judge(const Object& obj, EngineResult& r) const;
  KindLinterInfo info_;
};

}  // namespace kg

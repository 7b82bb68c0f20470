#include "catalog/kind_linter.hpp"

#include <algorithm>

#include "catalog/messages_zh.hpp"
#include "catalog/overlap.hpp"
#include "core/inventory.hpp"

namespace kg {
namespace {

// The kind's rules the user's selection keeps, and nothing else: manifest
// rules with kinds "*" would judge the synthetic object's JSON.
EvalOptions rules_of_kind_only(const Catalog& catalog, const EvalOptions& options, std::string_view kind) {
  EvalOptions asked = options;
  asked.engine_kinds = true;  // the engine builds the objects these rules judge
  EvalOptions opts = asked;
  opts.only.clear();
  for (const auto& rule : catalog.rules())
    if (rule_judges_kind(*rule, kind) && rule_selected(*rule, asked)) opts.only.push_back(rule->id);
  if (opts.only.empty()) opts.only.emplace_back("\x01none");  // an empty selection would mean every rule
  return opts;
}

}  // namespace

bool rule_judges_kind(const Rule& rule, std::string_view kind) {
  return std::find(rule.kinds.begin(), rule.kinds.end(), kind) != rule.kinds.end();
}

KindLinter::KindLinter(const Catalog& catalog, const EvalOptions& options, KindLinterInfo info)
    : Evaluator(catalog, rules_of_kind_only(catalog, options, info.kind)), info_(std::move(info)) {}

// Each verdict counted as the scan counts it: applied, passed, failed or exempted.
void KindLinter::judge(const Object& obj, EngineResult& r) const {
  EvalContext ctx;
  const PodView pod = pod_view(obj, options_.pod_specs);
  const ObjectFacts facts =
      read_object_facts(obj, pod, std::make_shared<const std::string>(obj.file ? obj.file->path : ""));
  if (facts.exemption) review_exemption(*facts.exemption, facts, r.warnings);
  evaluate(obj, pod, facts, 0, true, ctx, r.warnings, [&](std::size_t ri, Result result, std::vector<Finding>& rows) {
    RuleTally& t = r.tallies[ri];
    if (result == Result::Exempt) {
      ++t.exempted;
    } else {
      ++t.evaluated;
      ++(result == Result::Pass ? t.passed : t.failed);
    }
    // The store copies a finding into its compact form, so there is nothing to move.
    for (const Finding& f : rows) r.findings.push_back(f);
  });
  // Folding goes object by object, so earlier objects' findings are left as they were.
  fold_superseded(r.findings, rules_, &r.tallies);
}

EngineResult KindLinter::lint(const std::string& subject, std::string object_json) const {
  EngineResult r;
  r.engine = info_.engine;
  r.inputs = {subject};
  r.policy = info_.policy;
  r.messages_zh = &builtin_messages_zh();
  r.errors = setup_errors_;
  r.categories = categories_;
  r.rules.assign(rules_.begin(), rules_.end());
  r.tallies.assign(rules_.size(), RuleTally{});
  r.warnings = expired_;
  SourceFile file;
  file.path = subject;
  file.content = std::move(object_json);
  load_documents(file);
  for (const InputError& e : file.errors) r.errors.push_back(e);
  std::vector<Object> objects;
  for (const Document& d : file.documents) collect_objects(file, d, objects, r.errors);
  r.documents = file.documents.size();
  r.bytes = file.content.size();
  for (const Object& obj : objects) {
    ++r.objects;
    ++r.kinds[std::string(obj.kind)];
    judge(obj, r);
  }
  return r;
}

}  // namespace kg

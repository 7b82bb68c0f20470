#include "engines/image/lint/lint.hpp"

#include <algorithm>

#include "catalog/messages_zh.hpp"
#include "catalog/overlap.hpp"
#include "core/inventory.hpp"

namespace kg::image {
namespace {

// An Evaluator over the image rules only, counting each verdict as the scan
// does (a rule applied, passed, failed or exempted).
class ImageLinter final : public Evaluator {
 public:
  using Evaluator::Evaluator;

  void lint(const Object& obj, EngineResult& r) const {
    EvalContext ctx;
    const PodView pod = pod_view(obj, options_.pod_specs);
    const ObjectFacts facts =
        read_object_facts(obj, pod, std::make_shared<const std::string>(obj.file ? obj.file->path : ""));
    if (facts.exemption) review_exemption(*facts.exemption, facts, r.warnings);
    r.tallies.assign(rules_.size(), RuleTally{});
    evaluate(obj, pod, facts, 0, true, ctx, r.warnings, [&](std::size_t ri, Result result, std::vector<Finding>& rows) {
      RuleTally& t = r.tallies[ri];
      if (result == Result::Exempt) ++t.exempted;
      else {
        ++t.evaluated;
        ++(result == Result::Pass ? t.passed : t.failed);
      }
      for (Finding& f : rows) r.findings.push_back(std::move(f));
    });
    fold_superseded(r.findings, 0, rules_, &r.tallies);
  }
  const std::vector<Category>& categories() const { return categories_; }
  const std::vector<InputError>& expired() const { return expired_; }
};

}  // namespace

bool is_image_rule(const Rule& rule) {
  return std::find(rule.kinds.begin(), rule.kinds.end(), "Image") != rule.kinds.end();
}

EngineResult lint_image_object(const Catalog& catalog, const EvalOptions& options, const std::string& subject,
                               std::string object_json) {
  EngineResult r;
  r.engine = "image";
  r.inputs = {subject};
  r.policy = "Image hardening";
  r.messages_zh = &builtin_messages_zh();
  // The image rules the user's selection keeps (a disabled-by-default rule
  // only when named), and nothing else: manifest rules with kinds "*" would
  // judge the synthetic object's YAML.
  EvalOptions opts = options;
  opts.only.clear();
  for (const auto& rule : catalog.rules())
    if (is_image_rule(*rule) && rule_selected(*rule, options)) opts.only.push_back(rule->id);
  if (opts.only.empty()) opts.only.push_back("\x01none");  // an empty selection means every rule
  ImageLinter linter(catalog, opts);
  r.errors = linter.setup_errors();
  r.categories = linter.categories();
  r.rules.assign(linter.rules().begin(), linter.rules().end());
  r.warnings = linter.expired();
  SourceFile file;
  file.path = subject;
  file.content = std::move(object_json);
  load_documents(file);
  for (const InputError& e : file.errors) r.errors.push_back(e);
  std::vector<Object> objects;
  for (const Document& d : file.documents) collect_objects(file, d, objects, r.errors);
  r.documents = file.documents.size();
  r.bytes = file.content.size();
  r.tallies.assign(r.rules.size(), RuleTally{});
  for (const Object& obj : objects) {
    ++r.objects;
    ++r.kinds[std::string(obj.kind)];
    linter.lint(obj, r);
  }
  return r;
}

}  // namespace kg::image

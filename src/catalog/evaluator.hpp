// Object-level evaluation, shared by every engine: the rules in force (PSS
// level and version, --only, config overrides), one object's check input,
// its exemptions (annotation and config, container-scoped ones as a mask
// over the violations) and its findings. The scan engine evaluates each
// object of its files with it; the admission engine each object it is sent
// (evaluate_object), so one object gets one verdict everywhere.
#pragma once

#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/catalog.hpp"
#include "catalog/eval_context.hpp"
#include "catalog/rule.hpp"
#include "config/config.hpp"
#include "core/document.hpp"
#include "core/inventory.hpp"
#include "core/object.hpp"
#include "model/finding.hpp"

namespace kg {

// What decides an object's verdicts: the config's policy (pod template
// paths, exemptions, rule overrides) plus the level and selection in force.
struct EvalOptions : PolicyOptions {
  PssLevel pss_level = PssLevel::Restricted;
  int pss_minor = kLatestPssMinor;
  // Selectors (rule ids, categories, tags); empty selects every rule.
  std::vector<std::string> only;
  bool show_passed = false;
  bool use_exemptions = true;  // false: --no-exemptions
  // false: the kguard.io/exempt annotation is ignored (an admission policy
  // may not let the object's author exempt it); config exemptions still apply.
  bool use_annotation_exemptions = true;
  std::string today;  // YYYY-MM-DD for exemption expiry; empty = the system date
  // Kubernetes minor release that API deprecations are judged against
  // (--target-version, else the version of the cluster read); 0 = the rules' own.
  int kubernetes_minor = 0;
  // The full version of the cluster read (live, or recorded in a snapshot),
  // e.g. "v1.24.17"; empty when unknown. Rules about patch releases use it.
  std::string cluster_version;
};

// True when `rule` is in force under `options` (PSS level and version,
// enabled by default or by config, --only selectors).
bool rule_selected(const Rule& rule, const EvalOptions& options);
// Why `rule`, named by --only, runs although the PSS level or version in
// `options` would not select it (a level above --pss, a control newer than
// --pss-version); empty when the level selects it anyway.
std::string pss_selection_note(const Rule& rule, const EvalOptions& options);

class Evaluator {
 public:
  Evaluator(const Catalog& catalog, EvalOptions options);
  Evaluator(const Evaluator&) = delete;
  Evaluator& operator=(const Evaluator&) = delete;
  virtual ~Evaluator() = default;

  // Evaluates one object with the object-level rules in force, exactly as a
  // scan of a file holding only that object does: no Service selects it, so
  // deferred rules do not apply, and set-level rules (which need the whole
  // input) are not run. Appends failed and exempted findings (and passes with
  // show_passed) to `out`; expired annotation exemptions go to `warnings`.
  void evaluate_object(const Object& obj, std::vector<Finding>& out,
                       std::vector<InputError>& warnings) const;
  // The same with the caller's evaluation state (one per thread, reused).
  void evaluate_object(const Object& obj, EvalContext& ctx, std::vector<Finding>& out,
                       std::vector<InputError>& warnings) const;
  // The rules in force, catalog order.
  const std::vector<const Rule*>& rules() const { return rules_; }
  // Rules that apply to `kind`, as indices into the selected rules.
  const std::vector<std::size_t>& rules_for(std::string_view kind) const;
  // Problems with the options (unknown rule in the config, bad params…).
  const std::vector<InputError>& setup_errors() const { return setup_errors_; }

  // Kept in the thread's EvalContext with the evaluation's other scratch.
  struct OverlapMemo {  // the first rule of a pair's verdict on the current object
    std::uint64_t serial = 0;  // EvalContext::object() of that verdict
    std::size_t rule = static_cast<std::size_t>(-1);
    Outcome outcome = Outcome::NotApplicable;
    std::vector<Violation> violations;
  };

 protected:
  // The one object-level evaluation: every rule in force for the object's
  // kind is checked, its exemptions applied, and on_verdict(rule index,
  // Result, rows) receives each verdict with its report rows (which it may
  // move from). `lone`: the object is judged alone (no Service can select
  // it: deferred rules skip).
  template <class OnVerdict>
  void evaluate(const Object& obj, const PodView& pod, const ObjectFacts& facts,
                std::size_t object_index, bool lone, EvalContext& ctx,
                std::vector<InputError>& warnings, OnVerdict&& on_verdict) const;
  bool kind_matches(const Rule& rule, std::string_view kind) const;

  struct Exemption {
    bool exempt = false;
    std::string reason;
    std::string until;
    bool in_source = false;  // the object's own annotation
  };
  // Decides whether a check on an object is exempted (annotation or config).
  // Container-scoped config exemptions exempt only their containers'
  // violations: `exempt` becomes a mask parallel to `violations` (true: that
  // violation's container is exempted); the whole check is exempted when
  // every violation is.
  Exemption exemption_for(std::size_t rule_index, const ObjectFacts& facts,
                          std::span<const Violation> violations, std::vector<bool>& exempt,
                          std::vector<InputError>& warnings) const;
  // exemptions.cpp: an object's annotation checked against the catalog.
  void review_exemption(ExemptionMark& mark, const ObjectFacts& facts,
                        std::vector<InputError>& errors) const;

  EvalOptions options_;
  std::vector<Category> categories_;  // the catalog's, for results
  std::vector<const Rule*> rules_;
  std::vector<std::size_t> set_rules_;      // set-level rules (indices into rules_)
  std::vector<std::size_t> cluster_rules_;  // cluster-level rules
  std::vector<InputError> setup_errors_;
  std::vector<InputError> expired_;  // config exemptions past their date

 private:
  void apply_overrides(const Catalog& catalog);
  void pair_overridden_rules();
  // Filters the violations of a rule that shares a PSS control with another
  // (see pair_overridden_rules); a rule left with none passes.
  void share_violations(std::size_t rule_index, const CheckInput& in, Outcome& outcome,
                        std::vector<Violation>& violations, OverlapMemo& memo) const;
  const Node* merge_params(const Node* base, const Node* over);
  // exemptions.cpp: exemption selectors checked against the catalog.
  void validate_exemption_rules();

  // Rule ids, categories and tags of the catalog, "*" and "all" (sorted): what
  // an exemption may name.
  std::vector<std::string> known_selectors_;
  std::vector<std::unique_ptr<Rule>> owned_rules_;  // catalog rules changed by config
  Arena arena_{4096};                                // merged params of owned rules
  std::map<std::string, std::vector<std::size_t>, std::less<>> by_kind_;
  std::vector<std::size_t> any_kind_;
  struct Overlap {
    static constexpr std::size_t kNone = static_cast<std::size_t>(-1);
    std::size_t partner = kNone;  // index in rules_
    bool keep_shared = false;     // true: keep only shared violations; false: drop them
  };
  std::vector<Overlap> overlap_;  // parallel to rules_
  // Config exemptions that can apply to each rule (parallel to rules_), so a
  // check only looks at the few that name it.
  std::vector<std::vector<const ExemptionRule*>> exemptions_by_rule_;
};

namespace evaluator_detail {
// The evaluation's own per-thread scratch, kept in the EvalContext with the
// checks' so nothing is reallocated per object.
struct EvalScratch {
  std::vector<ContainerRef> containers;
  std::vector<Violation> violations;
  std::vector<bool> exempt;  // parallel to violations: the container is exempted
  std::vector<Finding> rows;
  Evaluator::OverlapMemo overlap;  // the first of an overlapping PSS pair's verdict
};
}  // namespace evaluator_detail

template <class OnVerdict>
void Evaluator::evaluate(const Object& obj, const PodView& pod, const ObjectFacts& facts,
                         std::size_t object_index, bool lone, EvalContext& ctx,
                         std::vector<InputError>& warnings, OnVerdict&& on_verdict) const {
  evaluator_detail::EvalScratch& s = ctx.local<evaluator_detail::EvalScratch>();
  s.containers = containers_of(pod);
  ctx.begin_object();
  const CheckInput in{obj,
                      pod,
                      options_.pss_minor,
                      options_.pss_level,
                      s.containers,
                      ctx,
                      options_.kubernetes_minor,
                      options_.cluster_version};
  for (std::size_t ri : rules_for(obj.kind)) {
    const Rule& rule = *rules_[ri];
    if (lone && rule.deferral != Deferral::None) continue;  // no Service selects a lone object
    s.violations.clear();
    Outcome outcome = rule.compiled->evaluate(in, s.violations);
    if (outcome == Outcome::NotApplicable) continue;
    share_violations(ri, in, outcome, s.violations, s.overlap);
    if (outcome == Outcome::Fail && s.violations.empty())
      s.violations.push_back(Violation{rule.title, nullptr, {}, {}});
    Exemption ex = exemption_for(ri, facts, s.violations, s.exempt, warnings);
    const Result result = ex.exempt ? Result::Exempt
                          : outcome == Outcome::Pass ? Result::Pass
                                                     : Result::Fail;
    // The rows of the verdict: one per violation when it failed (also when
    // exempted) except those whose container is exempted; the pass row only
    // when passes are shown.
    s.rows.clear();
    if (result != Result::Pass || options_.show_passed) {
      Finding proto;
      proto.rule = &rule;
      proto.result = result;
      proto.kind = facts.kind;
      proto.ns = facts.ns;
      proto.name = facts.name;
      proto.location.file = facts.file();
      proto.location.line = obj.line;
      proto.location.column = obj.column;
      proto.object = object_index;
      proto.exemption_reason = std::move(ex.reason);
      proto.exemption_until = std::move(ex.until);
      proto.exemption_in_source = ex.in_source;
      if (result == Result::Pass) {
        s.rows.push_back(std::move(proto));
      } else if (outcome == Outcome::Fail) {
        for (std::size_t i = 0; i < s.violations.size(); ++i) {
          if (s.exempt[i]) continue;
          Violation& v = s.violations[i];
          Finding f = proto;
          f.container = std::move(v.container);
          f.message = std::move(v.message);
          f.location.path = std::move(v.path);
          if (v.at) {
            f.location.line = v.at->line;
            f.location.column = v.at->column;
          }
          s.rows.push_back(std::move(f));
        }
      }
    }
    on_verdict(ri, result, s.rows);
  }
}


}  // namespace kg

#include "catalog/evaluator.hpp"

#include <algorithm>

#include "catalog/overlap.hpp"
#include "catalog/suggest.hpp"
#include "checks/regex_cache.hpp"
#include "checks/registry.hpp"
#include "core/clock.hpp"
#include "core/glob.hpp"

namespace kg {

bool engine_kind_rule(const Rule& rule) {
  static constexpr std::string_view kEngineKinds[] = {"Image", "NodeConfig"};  // kguard image (engines/image/lint), kguard node (engines/node)
  return !rule.kinds.empty() && std::all_of(rule.kinds.begin(), rule.kinds.end(), [](const std::string& k) {
    return std::find(std::begin(kEngineKinds), std::end(kEngineKinds), k) != std::end(kEngineKinds);
  });
}

bool rule_selected(const Rule& rule, const EvalOptions& options) {
  // A rule named by --only runs even where the PSS level or version would
  // leave it out (the CLI says so: pss_selection_note).
  if (std::find(options.only.begin(), options.only.end(), rule.id) != options.only.end()) return true;
  if (engine_kind_rule(rule) && !options.engine_kinds) return false;
  if (rule.pss_level) {
    if (options.pss_level < *rule.pss_level) return false;
    if (options.pss_minor < rule.pss_since) return false;
    // A baseline control overridden at restricted stays in force beside the
    // restricted rule that overrides it; the Scanner shares their violations.
  }
  bool enabled = rule.enabled_by_default;
  if (auto it = options.overrides.find(rule.id); it != options.overrides.end() && it->second.enabled)
    enabled = *it->second.enabled;
  if (options.only.empty()) return enabled;
  for (const std::string& sel : options.only) {
    if ((sel == to_string(rule.category) || rule.has_tag(sel)) && enabled) return true;
  }
  return false;
}

std::string pss_selection_note(const Rule& rule, const EvalOptions& options) {
  if (!rule.pss_level) return {};
  const std::string level(to_string(*rule.pss_level));
  const std::string asked = "--pss " + std::string(to_string(options.pss_level)) + " v1." +
                            std::to_string(options.pss_minor);
  if (options.pss_level < *rule.pss_level) {
    return rule.id + " is a " + level + " control, which " + asked +
           " does not include; it is evaluated because --only names it (--pss " + level +
           " includes it)";
}
  if (options.pss_minor < rule.pss_since) {
    return rule.id + " exists from PSS v1." + std::to_string(rule.pss_since) + ", after " + asked +
           "; it is evaluated because --only names it";
}
  const bool replaced = options.pss_level == PssLevel::Restricted && rule.pss_overridden_from >= 0 &&
                        options.pss_minor >= rule.pss_overridden_from;
  const bool replacement_named =
      std::find(options.only.begin(), options.only.end(), rule.pss_overridden_by) != options.only.end();
  if (replaced && !replacement_named) {
    return rule.id + " is replaced at " + asked + " by " + rule.pss_overridden_by + " (from v1." +
           std::to_string(rule.pss_overridden_from) +
           ") and, as upstream, is not evaluated without it: nothing is checked; add --only " +
           rule.pss_overridden_by + ", or use --pss baseline";
}
  return {};
}


namespace {

// An empty list in an exemption matches everything.
bool matches_any(const std::vector<std::string>& patterns, std::string_view text) {
  return patterns.empty() || any_glob(patterns, text);
}

bool matches_any_path(const std::vector<std::string>& patterns, std::string_view path) {
  return patterns.empty() ||
         std::any_of(patterns.begin(), patterns.end(),
                     [&](const std::string& p) { return path_glob_match(p, path); });
}

// A rule selector in an exemption: id, category, tag, or "*"/"all".
bool selects_rule(const std::vector<std::string>& selectors, const Rule& rule) {
  if (selectors.empty()) return true;
  for (const std::string& s : selectors) {
    if (s == "*" || s == "all" || s == rule.id || s == to_string(rule.category) || rule.has_tag(s))
      return true;
}
  return false;
}

// "mode: ..." (a declared parameter) reads as params.mode: ...; a template's
// own message ("fixedIn and advisory are required") as params: ...
std::string param_suffix(const std::string& message) {
  const auto colon = message.find(": ");
  const bool named = colon != std::string::npos && message.find(' ') > colon;
  return (named ? "." : ": ") + message;
}

}  // namespace


Evaluator::Evaluator(const Catalog& catalog, EvalOptions options)
    : options_(std::move(options)), categories_(catalog.categories().all()) {
  if (options_.today.empty()) options_.today = utc_today();
  apply_overrides(catalog);
  for (const auto& r : catalog.rules()) {
    const Rule* rule = r.get();
    for (const auto& owned : owned_rules_)
      if (owned->id == rule->id) rule = owned.get();
    if (rule_selected(*rule, options_)) rules_.push_back(rule);
  }
  pair_overridden_rules();
  for (const auto& r : catalog.rules()) {
    known_selectors_.push_back(r->id);
    known_selectors_.insert(known_selectors_.end(), r->tags.begin(), r->tags.end());
  }
  for (Category c : catalog.categories().all()) known_selectors_.emplace_back(c.id());
  // "vulnerability": the tag of every vulnerability finding (scan --images), which
  // a workload's exemption may name though no catalog rule carries it.
  known_selectors_.insert(known_selectors_.end(), {"*", "all", "vulnerability"});
  std::sort(known_selectors_.begin(), known_selectors_.end());
  known_selectors_.erase(std::unique(known_selectors_.begin(), known_selectors_.end()), known_selectors_.end());
  std::vector<std::string_view> ids;
  for (const auto& r : catalog.rules()) ids.push_back(r->id);
  for (const auto& [id, o] : options_.overrides) {
    if (!catalog.find(id))
      setup_errors_.push_back({o.origin, 0, 0, "rules: no rule named '" + id + "'" + did_you_mean(id, ids)});
}
  validate_exemption_rules();
  // Index object rules by kind so an object only meets the rules that can apply.
  std::vector<std::string> kinds;
  for (std::size_t i = 0; i < rules_.size(); ++i) {
    const Rule* r = rules_[i];
    if (r->set_compiled) {
      set_rules_.push_back(i);
      continue;
    }
    if (r->cluster_compiled) {
      cluster_rules_.push_back(i);
      continue;
    }
    for (const std::string& k : r->kinds) {
      if (k == "workloads") {
        for (const std::string& wk : options_.pod_specs.kinds()) kinds.push_back(wk);
      } else if (k != "*") {
        kinds.push_back(k);
      }
    }
    if (std::find(r->kinds.begin(), r->kinds.end(), "*") != r->kinds.end()) any_kind_.push_back(i);
  }
  for (const std::string& k : kinds) {
    if (by_kind_.count(k)) continue;
    std::vector<std::size_t>& list = by_kind_[k];
    for (std::size_t i = 0; i < rules_.size(); ++i)
      if (rules_[i]->compiled && kind_matches(*rules_[i], k)) list.push_back(i);
  }
  // Exemptions that have expired are reported once and not applied.
  auto& ex = options_.exemptions;
  for (auto it = ex.begin(); it != ex.end();) {
    if (!it->until.empty() && it->until < options_.today) {
      expired_.push_back({it->origin, 0, 0,
                          "exemption expired on " + it->until + " (" + it->reason +
                              "); its checks apply again"});
      it = ex.erase(it);
    } else {
      ++it;
    }
  }
  exemptions_by_rule_.resize(rules_.size());
  for (std::size_t i = 0; i < rules_.size(); ++i) {
    for (const ExemptionRule& x : options_.exemptions) {
      if (selects_rule(x.rules, *rules_[i]) &&
          (x.except_rules.empty() || !selects_rule(x.except_rules, *rules_[i])))
        exemptions_by_rule_[i].push_back(&x);
}
}
}

// At restricted, a baseline control (B) overridden by a restricted one (R)
// judges only what R also rejects (R's verdict is upstream's), and of the
// violations both see the more severe rule reports them, B on a tie: a
// hostPath volume stays a high pss-host-path-volumes finding under
// restricted, and an exemption naming B covers it at every level. Without R
// in force (--only), B is not either, as upstream.
void Evaluator::pair_overridden_rules() {
  std::vector<const Rule*> kept;
  for (const Rule* r : rules_) {
    const bool overridden = options_.pss_level == PssLevel::Restricted && r->pss_overridden_from >= 0 &&
                            options_.pss_minor >= r->pss_overridden_from;
    if (!overridden) {
      kept.push_back(r);
      continue;
    }
    const auto by = std::find_if(rules_.begin(), rules_.end(),
                                 [&](const Rule* x) { return x->id == r->pss_overridden_by; });
    if (by == rules_.end() || (*by)->severity > r->severity) continue;  // R alone reports
    kept.push_back(r);
  }
  rules_ = std::move(kept);
  overlap_.assign(rules_.size(), Overlap{});
  for (std::size_t i = 0; i < rules_.size(); ++i) {
    const Rule* b = rules_[i];
    if (b->pss_overridden_by.empty() || options_.pss_level != PssLevel::Restricted ||
        options_.pss_minor < b->pss_overridden_from)
      continue;
    for (std::size_t j = 0; j < rules_.size(); ++j) {
      if (rules_[j]->id == b->pss_overridden_by) {
        overlap_[i] = {j, true};   // B keeps only what R also rejects
        overlap_[j] = {i, false};  // R leaves those to B
      }
}
  }
}

void Evaluator::share_violations(std::size_t rule_index, const CheckInput& in, Outcome& outcome,
                               std::vector<Violation>& violations, OverlapMemo& memo) const {
  const Overlap& o = overlap_[rule_index];
  if (o.partner == Overlap::kNone) return;
  const bool memo_hit = memo.serial == in.ctx.object() && memo.rule == o.partner;
  // The first of a pair on this object leaves its verdict for the second, so
  // the common case (the baseline rule passes) costs no second evaluation.
  if (o.partner > rule_index) {
    memo.serial = in.ctx.object();
    memo.rule = rule_index;
    memo.outcome = outcome;
    memo.violations.clear();
    if (outcome == Outcome::Fail) memo.violations = violations;
  }
  if (outcome != Outcome::Fail) return;
  std::vector<Violation> evaluated;
  Outcome partner_outcome = memo_hit ? memo.outcome : Outcome::NotApplicable;
  if (!memo_hit) partner_outcome = rules_[o.partner]->compiled->evaluate(in, evaluated);
  const std::vector<Violation>& theirs = memo_hit ? memo.violations : evaluated;
  auto shared = [&](const Violation& v) {
    if (partner_outcome != Outcome::Fail) return false;
    return std::any_of(theirs.begin(), theirs.end(), [&](const Violation& t) {
      return t.path == v.path && t.container == v.container;
    });
  };
  violations.erase(std::remove_if(violations.begin(), violations.end(),
                                  [&](const Violation& v) { return shared(v) != o.keep_shared; }),
                   violations.end());
  if (violations.empty()) outcome = Outcome::Pass;
}

void Evaluator::apply_overrides(const Catalog& catalog) {
  RegexCache regexes;
  for (const auto& [id, o] : options_.overrides) {
    const Rule* base = catalog.find(id);
    if (!base || (!o.severity && !o.params)) continue;
    auto rule = std::make_unique<Rule>();
    // The metadata only: the compiled check is rebuilt with the merged params.
    static_cast<RuleMeta&>(*rule) = *base;  // NOLINT(cppcoreguidelines-slicing)
    if (o.severity) rule->severity = *o.severity;
    const Node* params = base->params;
    if (o.params) params = merge_params(base->params, o.params);
    // Only the config's own entries can be wrong (the rule's were checked
    // at load), so each problem points into the config file.
    std::vector<ParamProblem> problems;
    if (!compile_rule(*rule, params, problems, &regexes)) {
      for (const ParamProblem& p : problems) {
        const Node* at = p.at ? p.at : o.params;
        setup_errors_.push_back({o.file.empty() ? o.origin : o.file, at ? at->line : 0,
                                 at ? at->column : 0, "rules." + id + ".params" + param_suffix(p.message)});
      }
      continue;
    }
    rule->params = params;
    owned_rules_.push_back(std::move(rule));
  }
}

// Config params win key by key over the rule's own.
const Node* Evaluator::merge_params(const Node* base, const Node* over) {
  std::vector<MapEntry> merged(over->entries().begin(), over->entries().end());
  for (const MapEntry& e : entries(base)) {
    bool overridden = false;
    for (const MapEntry& o : over->entries()) overridden |= o.key->text() == e.key->text();
    if (!overridden) merged.push_back(e);
  }
  auto* out = static_cast<MapEntry*>(arena_.allocate(sizeof(MapEntry) * std::max<std::size_t>(merged.size(), 1), alignof(MapEntry)));
  std::copy(merged.begin(), merged.end(), out);
  auto* node = new (arena_.allocate(sizeof(Node), alignof(Node))) Node{};
  node->type = NodeType::Map;
  node->data = out;
  node->size = static_cast<std::uint32_t>(merged.size());
  node->line = over->line;
  node->column = over->column;
  return node;
}

bool Evaluator::kind_matches(const Rule& rule, std::string_view kind) const {
  for (const std::string& k : rule.kinds) {
    if (k == "*" || k == kind) return true;
    if (k == "workloads" && options_.pod_specs.find(kind)) return true;
  }
  return false;
}

const std::vector<std::size_t>& Evaluator::rules_for(std::string_view kind) const {
  auto it = by_kind_.find(kind);
  return it == by_kind_.end() ? any_kind_ : it->second;
}

Evaluator::Exemption Evaluator::exemption_for(std::size_t rule_index, const ObjectFacts& facts,
                                          std::span<const Violation> violations,
                                          std::vector<bool>& exempt,
                                          std::vector<InputError>& warnings) const {
  exempt.assign(violations.size(), false);
  Exemption e;
  if (!options_.use_exemptions) return e;
  const Rule& rule = *rules_[rule_index];
  if (facts.exemption && !facts.exemption->rejected && options_.use_annotation_exemptions &&
      selects_rule(facts.exemption->rules, rule)) {
    const ExemptionMark& m = *facts.exemption;
    if (!m.until.empty() && m.until < options_.today) {
      const std::string msg = facts.kind + "/" + facts.name + ": exemption (kguard.io/exempt) expired on " +
                              m.until + "; its checks apply again";
      if (warnings.empty() || warnings.back().message != msg)
        warnings.push_back({facts.file(), m.line, m.column, msg});
    } else {
      e.exempt = true;
      e.reason = m.reason.empty() ? "exempted by the kguard.io/exempt annotation" : m.reason;
      e.until = m.until;
      e.in_source = true;
      return e;
    }
  }
  for (const ExemptionRule* xp : exemptions_by_rule_[rule_index]) {
    const ExemptionRule& x = *xp;
    if (!x.users.empty()) continue;  // an audit-alert exemption (users of requests): no object matches it
    if (!matches_any(x.namespaces, facts.ns) || !matches_any(x.names, facts.name) ||
        !matches_any_path(x.files, facts.file()))
      continue;
    if (!x.kinds.empty() && std::find(x.kinds.begin(), x.kinds.end(), facts.kind) == x.kinds.end())
      continue;
    if (x.containers.empty()) {
      e.exempt = true;
      e.reason = x.reason;
      e.until = x.until;
      return e;
    }
    // A violation without a container (pod-level) is never container-exempted.
    bool all = !violations.empty();
    for (std::size_t i = 0; i < violations.size(); ++i) {
      if (exempt[i]) continue;  // by an earlier exemption
      const std::string& c = violations[i].container;
      if (!c.empty() && matches_any(x.containers, c)) {
        exempt[i] = true;
        e.reason = x.reason;
        e.until = x.until;
      } else {
        all = false;
      }
    }
    if (all) {
      e.exempt = true;
      return e;
    }
  }
  return e;
}

void Evaluator::evaluate_object(const Object& obj, std::vector<Finding>& out,
                              std::vector<InputError>& warnings) const {
  EvalContext ctx;
  evaluate_object(obj, ctx, out, warnings);
}

void Evaluator::evaluate_object(const Object& obj, EvalContext& ctx, std::vector<Finding>& out,
                              std::vector<InputError>& warnings) const {
  const std::size_t first = out.size();
  const PodView pod = pod_view(obj, options_.pod_specs);
  const ObjectFacts facts = read_object_facts(
      obj, pod, obj.file ? std::make_shared<const std::string>(obj.file->path) : nullptr);
  if (facts.exemption) review_exemption(*facts.exemption, facts, warnings);
  evaluate(obj, pod, facts, 0, true, ctx, warnings,
           [&](std::size_t, Result, std::vector<Finding>& rows) {
             for (Finding& f : rows) out.push_back(std::move(f));
           });
  fold_superseded(out, first, rules_, nullptr);
}

}  // namespace kg

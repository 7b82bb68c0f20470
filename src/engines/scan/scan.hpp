// The scan engine: inputs (files, directories, stdin) → objects → rule
// evaluation → findings and tallies for the report.
//
// Documents are streamed: each is parsed, its objects evaluated, and its
// nodes freed before the next, so memory does not grow with the input.
// Findings own their strings for the same reason. What other objects may need
// to know (labels, selectors, roles, bindings…) is kept as compact facts in an
// Inventory; after the last document, verdicts that depend on other objects
// are settled and the set-level rules run over it.
#pragma once

#include <map>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "catalog/catalog.hpp"
#include "config/config.hpp"
#include "core/cluster_info.hpp"
#include "core/inventory.hpp"
#include "core/object.hpp"
#include "model/engine_result.hpp"
#include "sources/render/render.hpp"

namespace kg {

// What the config file sets (pod template paths, exemptions, rule
// overrides: config/config.hpp) plus the command line's choices.
struct ScanOptions : PolicyOptions {
  PssLevel pss_level = PssLevel::Restricted;
  int pss_minor = kLatestPssMinor;
  // Selectors (rule ids, categories, tags); empty selects every rule.
  std::vector<std::string> only;
  bool show_passed = false;
  unsigned jobs = 1;
  // An input larger than this is cut into pieces of about this size
  // (split_input) that every worker takes, so one large stream or List uses
  // all --jobs; 0: never cut. The cut does not depend on --jobs, so neither
  // does the report.
  std::size_t piece_bytes = std::size_t{2} << 20;
  LoadLimits limits;
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
  // Directory walks leave out what these globs match (--exclude, the config's
  // `exclude:`): a glob without '/' matches a file or folder name at any
  // depth, one with '/' the path relative to the walked folder.
  std::vector<std::string> exclude;
  // The configuration file in use, never read as a manifest by a walk.
  std::string config_file;
  // Helm charts and kustomizations in the inputs: how they are rendered.
  render::RenderOptions render;
};

// What a scan returns: the engine-neutral result (model/engine_result.hpp).
// The PSS level and version it judged with are its facts "pss" and
// "pssVersion" under the policy "Pod Security Standards".
using ScanResult = EngineResult;

// True when `rule` is in force under `options` (PSS level and version,
// enabled by default or by config, --only selectors).
bool rule_selected(const Rule& rule, const ScanOptions& options);
// Why `rule`, named by --only, runs although the PSS level or version in
// `options` would not select it (a level above --pss, a control newer than
// --pss-version); empty when the level selects it anyway.
std::string pss_selection_note(const Rule& rule, const ScanOptions& options);

// The kinds `rules` need to see, first-seen order: each rule's own kinds,
// what its set-level check reads (SetCheck::needs_kinds), Services for
// verdicts deferred until a Service selects the pod; "workloads" expanded
// through `pod_specs`, "*" and cluster-level rules add nothing. A scan
// collects facts only of these kinds; a cluster read lists exactly these
// (plus the kinds it counts).
std::vector<std::string> kinds_needed(const std::vector<const Rule*>& rules,
                                      const PodSpecTable& pod_specs);

class Scanner {
 public:
  Scanner(const Catalog& catalog, ScanOptions options);
  Scanner(const Scanner&) = delete;
  Scanner& operator=(const Scanner&) = delete;

  // Scans paths ("-" is stdin; directories are walked recursively for
  // .yaml, .yml and .json files, in sorted order). Chart and kustomization
  // folders are rendered (options.render) and their output scanned after the
  // files, instead of their own files.
  ScanResult scan(const std::vector<std::string>& paths) const;
  // Scans one in-memory buffer named `name` (tests, admission requests).
  ScanResult scan_buffer(const std::string& name, std::string content) const;

  // Evaluates one object with the object-level rules in force, exactly as a
  // scan of a file holding only that object does: no Service selects it, so
  // deferred rules do not apply, and set-level rules (which need the whole
  // input) are not run. Appends failed and exempted findings (and passes with
  // show_passed) to `out`; expired annotation exemptions go to `warnings`.
  // Used by the admission engine, so one object gets one verdict everywhere.
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

  struct FileOutcome;

 private:
  struct SharedSeen;
  // `seen`: shared by the pieces of one input (split_input), else null.
  void scan_file(SourceFile& file, EvalContext& ctx, FileOutcome& out, SharedSeen* seen = nullptr) const;
  // Reads, splits (split_input) and scans the inputs on options_.jobs
  // workers into one outcome per piece, in input order.
  struct ScanInput;
  void scan_inputs(std::vector<ScanInput>& inputs, std::vector<FileOutcome>& outcomes) const;
  // The one object-level evaluation, shared by file scans and
  // evaluate_object: every rule in force for the object's kind is checked,
  // its exemptions applied, and on_verdict(rule index, Result, rows) receives
  // each verdict with its report rows (which it may move from). `lone`: the
  // object is judged alone (no Service can select it: deferred rules skip).
  template <class OnVerdict>
  void evaluate(const Object& obj, const PodView& pod, const ObjectFacts& facts,
                std::size_t object_index, bool lone, EvalContext& ctx,
                std::vector<InputError>& warnings, OnVerdict&& on_verdict) const;
  ScanResult finish(std::vector<std::string> inputs, std::vector<FileOutcome>& outcomes) const;
  bool kind_matches(const Rule& rule, std::string_view kind) const;
  void narrow_to_rules(ClusterInfo& cluster) const;
  void apply_overrides(const Catalog& catalog);
  void pair_overridden_rules();
  // Filters the violations of a rule that shares a PSS control with another
  // (see pair_overridden_rules); a rule left with none passes.

 public:
  // Kept in the thread's EvalContext with the scan's other scratch.
  struct OverlapMemo {  // the first rule of a pair's verdict on the current object
    std::uint64_t serial = 0;  // EvalContext::object() of that verdict
    std::size_t rule = static_cast<std::size_t>(-1);
    Outcome outcome = Outcome::NotApplicable;
    std::vector<Violation> violations;
  };

 private:
  void share_violations(std::size_t rule_index, const CheckInput& in, Outcome& outcome,
                        std::vector<Violation>& violations, OverlapMemo& memo) const;
  const Node* merge_params(const Node* base, const Node* over);

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

  // exemptions.cpp: exemption selectors checked against the catalog.
  void validate_exemption_rules();
  void review_exemption(ExemptionMark& mark, const ObjectFacts& facts,
                        std::vector<InputError>& errors) const;

  ScanOptions options_;
  std::vector<Category> categories_;  // the catalog's, for the result
  // Rule ids, categories and tags of the catalog, "*" and "all" (sorted): what
  // an exemption may name.
  std::vector<std::string> known_selectors_;
  std::vector<std::unique_ptr<Rule>> owned_rules_;  // catalog rules changed by config
  Arena arena_{4096};                                // merged params of owned rules
  std::vector<const Rule*> rules_;
  std::map<std::string, std::vector<std::size_t>, std::less<>> by_kind_;
  std::vector<std::size_t> any_kind_;
  std::vector<std::size_t> set_rules_;
  std::vector<std::size_t> cluster_rules_;
  // kinds_needed(rules_): objects of other kinds are recorded (identity,
  // owners, exemptions) but no rule reads their kind's facts.
  std::set<std::string, std::less<>> fact_kinds_;
  std::vector<InputError> setup_errors_;
  struct Overlap {
    static constexpr std::size_t kNone = static_cast<std::size_t>(-1);
    std::size_t partner = kNone;  // index in rules_
    bool keep_shared = false;     // true: keep only shared violations; false: drop them
  };
  std::vector<Overlap> overlap_;  // parallel to rules_
  std::vector<InputError> expired_;  // config exemptions past their date
  // Config exemptions that can apply to each rule (parallel to rules_), so a
  // check only looks at the few that name it.
  std::vector<std::vector<const ExemptionRule*>> exemptions_by_rule_;
};

// One file to read. `walked`: found by walking a directory, so documents
// that are not Kubernetes objects are skipped instead of being errors
// (a file named on the command line, or stdin, is always read strictly).
struct InputFile {
  std::string path;
  bool walked = false;
};

// Expands paths into the ordered list of files to read. Directories are
// walked recursively for .yaml, .yml and .json files (any case), leaving
// out hidden files and folders, the config file, `exclude` globs and files
// known not to be Kubernetes manifests (Chart.yaml, values*.yaml,
// kustomization.yaml, CI and compose files, OpenAPI specs…); what is left out
// goes to `skipped` with the reason. Missing paths and unreadable directories
// become errors.
std::vector<InputFile> expand_inputs(const std::vector<std::string>& paths, const ScanOptions& options,
                                     std::vector<InputError>& errors, std::vector<InputError>& skipped);

}  // namespace kg

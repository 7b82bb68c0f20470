// The scan engine: inputs (files, directories, stdin) → objects → rule
// evaluation → findings and tallies for the report.
//
// Documents are streamed: each is parsed, its objects evaluated, and its
// nodes freed before the next, so memory does not grow with the input.
// Findings are kept compact (FindingStore: interned text) for the same reason. What other objects may need
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
#include "catalog/evaluator.hpp"
#include "config/config.hpp"
#include "core/cluster_info.hpp"
#include "core/inventory.hpp"
#include "core/object.hpp"
#include "model/engine_result.hpp"
#include "sources/render/render.hpp"

namespace kg {

// What the evaluation takes (catalog/evaluator.hpp: the config's policy, the
// PSS level, --only, exemptions) plus what the scan reads and how.
struct ScanOptions : EvalOptions {
  unsigned jobs = 1;
  // An input larger than this is cut into pieces of about this size
  // (split_input) that every worker takes, so one large stream or List uses
  // all --jobs; 0: never cut. The cut does not depend on --jobs, so neither
  // does the report.
  std::size_t piece_bytes = std::size_t{2} << 20;
  LoadLimits limits;
  // Directory walks leave out what these globs match (--exclude, the config's
  // `exclude:`): a glob without '/' matches a file or folder name at any
  // depth, one with '/' the path relative to the walked folder.
  std::vector<std::string> exclude;
  // The configuration file in use, never read as a manifest by a walk.
  std::string config_file;
  // Helm charts and kustomizations in the inputs: how they are rendered.
  render::RenderOptions render;
  // List every container's image in EngineResult::image_uses (scan --images).
  bool collect_images = false;
  // Compute the east-west posture per namespace (EngineResult::east_west,
  // checks/mesh.hpp): its facts are collected besides the rules'.
  bool east_west = false;
};

// What a scan returns: the engine-neutral result (model/engine_result.hpp).
// The PSS level and version it judged with are its facts "pss" and
// "pssVersion" under the policy "Pod Security Standards".
using ScanResult = EngineResult;

// The kinds `rules` need to see, first-seen order: each rule's own kinds,
// what its set-level check reads (SetCheck::needs_kinds), Services for
// verdicts deferred until a Service selects the pod; "workloads" expanded
// through `pod_specs`, "*" and cluster-level rules add nothing. A scan
// collects facts only of these kinds; a cluster read lists exactly these
// (plus the kinds it counts).
std::vector<std::string> kinds_needed(const std::vector<const Rule*>& rules,
                                      const PodSpecTable& pod_specs);

// Files → documents → objects, each evaluated by the shared object-level
// Evaluator; facts collected on the way; set-level and deferred verdicts
// after the last file.
class Scanner : public Evaluator {
 public:
  Scanner(const Catalog& catalog, ScanOptions options);

  // Scans paths ("-" is stdin; directories are walked recursively for
  // .yaml, .yml and .json files, in sorted order). Chart and kustomization
  // folders are rendered (options.render) and their output scanned after the
  // files, instead of their own files.
  ScanResult scan(const std::vector<std::string>& paths) const;
  // Scans one in-memory buffer named `name` (tests, admission requests).
  ScanResult scan_buffer(const std::string& name, std::string content) const;

  struct FileOutcome;

 private:
  struct SharedSeen;
  // `seen`: shared by the pieces of one input (split_input), else null.
  void scan_file(SourceFile& file, EvalContext& ctx, FileOutcome& out, SharedSeen* seen = nullptr) const;
  // Reads, splits (split_input) and scans the inputs on input_.jobs
  // workers into one outcome per piece, in input order.
  struct ScanInput;
  void scan_inputs(std::vector<ScanInput>& inputs, std::vector<FileOutcome>& outcomes) const;
  ScanResult finish(std::vector<std::string> inputs, std::vector<FileOutcome>& outcomes) const;
  void narrow_to_rules(ClusterInfo& cluster) const;

  // The reading side of the options (jobs, limits, walks, rendering); the
  // evaluation's are Evaluator::options_.
  ScanOptions input_;
  // kinds_needed(rules_): objects of other kinds are recorded (identity,
  // owners, exemptions) but no rule reads their kind's facts.
  std::set<std::string, std::less<>> fact_kinds_;
  // The fact tables the set-level rules read (SetCheck::facts()), fed by
  // fact_kinds_ objects; one plan shared by every worker's Inventory.
  std::shared_ptr<const FactPlan> fact_plan_;
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

// Helm charts and kustomizations in the input: found in the scanned paths,
// rendered by the real `helm template` / `kustomize build` (or `kubectl
// kustomize`), and handed to the scan engine as in-memory files. A chart's
// templates are not YAML until rendered, and a kustomization's patches are
// not whole objects, so a render root's own files are never read raw.
//
// Helm's `# Source: chart/templates/x.yaml` comments split a chart's output
// into one file per template, named by the template's path in the chart
// folder (lines are lines of that template's rendered output); kustomize's
// output is one file named by the kustomization's folder.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/document.hpp"

namespace kg::render {

enum class Tool { Helm, Kustomize };

std::string_view to_string(Tool tool);

struct RenderOptions {
  bool enabled = true;    // false: --skip-render walks them as plain folders
  std::string helm;       // --helm PATH; empty: `helm` on PATH
  // --kustomize PATH (kustomize or kubectl); empty: `kustomize`, else `kubectl`, on PATH
  std::string kustomize;
  std::vector<std::string> values_files;  // --values, in order (later ones win, as in helm)
  std::vector<std::string> set_values;    // --set KEY=VALUE
  std::string release_name;               // --release-name; empty: helm's default
  std::string release_namespace;          // --release-namespace
  int timeout_seconds = 120;              // per render
  std::size_t max_output_bytes = std::size_t{256} << 20;
};

// A folder rendered as a whole: a chart (Chart.yaml) or a kustomization
// (kustomization.yaml, kustomization.yml or Kustomization).
struct RenderRoot {
  Tool tool = Tool::Helm;
  std::string dir;     // as the walk spelled it, e.g. "deploy/helm/kguard"
  std::string marker;  // dir + "/Chart.yaml" (or the kustomization file)
  // Set for a folder that cannot be rendered alone (a library chart, a
  // kustomize Component): its files are left out, with this note.
  std::string left_out;
};

// The root `dir` is, if any: a chart when it holds Chart.yaml, else a
// kustomization.
bool render_root_at(const std::string& dir, RenderRoot& out);

// The render roots in `paths`: a directory input that is one, the topmost
// ones a walk of a directory input meets (helm renders a chart's subcharts,
// a kustomization names its own bases), and the folder of an input file
// named Chart.yaml or kustomization.yaml. Hidden folders are not walked.
// Sorted by folder within each input; no folder twice. `skip_folder(rel)`,
// given a walked folder's path relative to its input ('/'-separated), leaves
// it and what it holds out (the scan's --exclude).
using FolderFilter = std::function<bool(std::string_view rel)>;
std::vector<RenderRoot> find_render_roots(const std::vector<std::string>& paths,
                                          const FolderFilter& skip_folder = {});

// True when `file` (spelled as a walk of the same inputs spells it) lies in
// one of `roots`: its bytes reach the scan through the renderer.
bool inside_root(std::string_view file, const std::vector<RenderRoot>& roots);

struct RenderedFile {
  std::string path;     // the template (helm) or the kustomization folder
  std::string content;  // rendered YAML
};

struct RenderOutcome {
  std::vector<RenderedFile> files;
  std::vector<InputError> errors;  // located where the tool's message allows
  std::vector<InputError> notes;   // what was rendered, how findings are located
};

// Renders one root with the options' tool and flags.
RenderOutcome render(const RenderRoot& root, const RenderOptions& options);

// Every root in `paths` rendered (`jobs` at a time), in root order.
struct RenderedInputs {
  std::vector<RenderRoot> roots;  // whose files the scan does not read raw
  std::vector<RenderedFile> files;
  std::vector<InputError> errors;
  std::vector<InputError> notes;
};
RenderedInputs render_inputs(const std::vector<std::string>& paths, const RenderOptions& options,
                             unsigned jobs);
// The same for roots the caller found (or filtered, e.g. by --exclude).
RenderedInputs render_roots(std::vector<RenderRoot> roots, const RenderOptions& options, unsigned jobs);

// Helm's output split at its `# Source:` comments into one file per template,
// named `chart_dir` + the path after the chart's name; documents keep their
// order within a template, templates the order of their first document.
std::vector<RenderedFile> split_helm_output(std::string_view chart_dir, std::string_view output);

// kustomize's output as one file named `dir`; when the kustomization asks for
// origin annotations (`buildMetadata: [originAnnotations]`), one file per
// local file the objects came from (config.kubernetes.io/origin's path,
// relative to `dir`), objects without one staying under `dir`.
std::vector<RenderedFile> split_kustomize_output(std::string_view dir, std::string_view output);

// A helm error message located at the template it names, when it names one
// (`chart/templates/x.yaml:LINE[:COL]`); else at `fallback` (Chart.yaml).
InputError locate_helm_error(std::string_view chart_dir, std::string_view message,
                             const std::string& fallback);

}  // namespace kg::render

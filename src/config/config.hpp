// The user's configuration file (.kguard.yaml, or --config FILE). Every field
// is optional; docs/configuration.md shows them all.
//
//   podTemplatePaths: {Workload: spec.pod}      # CRDs that embed a PodTemplateSpec
//   rules:
//     image-registry-not-allowed: {enabled: true, params: {allowedRegistries: [registry.example.com]}}
//     liveness-probe-missing: {severity: low}
//   exemptions:
//     - rules: [pss-host-namespaces]  namespaces: [monitoring]  names: ["node-exporter*"]
//       reason: "node-exporter reads host metrics"  until: 2027-06-30
//   defaultExemptions: true                      # the built-in kube-system pack
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engines/scan/scan.hpp"

namespace kg {

struct Config {
  std::string path;  // where it was read from; empty when none
  std::vector<std::pair<std::string, std::string>> pod_template_paths;
  std::map<std::string, RuleOverride, std::less<>> rules;
  std::vector<ExemptionRule> exemptions;
  bool default_exemptions = true;
  std::optional<ScopeMode> scope;  // `scope:`; --scope wins
  std::shared_ptr<SourceFile> source;  // keeps the params nodes alive

  void apply(ScanOptions& options) const;
};

// The exemptions that apply unless the config turns them off.
std::vector<ExemptionRule> builtin_exemptions();

// Reads and validates a config file; problems are returned with the file,
// line and field named.
std::optional<Config> load_config(const std::string& path, std::vector<InputError>& errors);

// Looks for .kguard.yaml in `start` (a file's directory or a directory) and
// its parents; empty when there is none.
std::string find_config_upward(const std::string& start);

}  // namespace kg

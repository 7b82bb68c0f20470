// The user's configuration file (.kguard.yaml, or --config FILE).
//
//   podTemplatePaths:        # CRDs that embed a PodTemplateSpec
//     Rollout: spec.template
//     Workload: spec.podTemplate
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "engines/scan/scan.hpp"

namespace kg {

struct Config {
  std::string path;  // where it was read from; empty when none
  std::vector<std::pair<std::string, std::string>> pod_template_paths;

  void apply(ScanOptions& options) const;
};

// Reads and validates a config file; problems are returned with the file,
// line and field named.
std::optional<Config> load_config(const std::string& path, std::vector<InputError>& errors);

// Looks for .kguard.yaml in `start` (a file's directory or a directory) and
// its parents; empty when there is none.
std::string find_config_upward(const std::string& start);

}  // namespace kg

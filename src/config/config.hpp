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
//   limits: {maxFileSize: 256MiB, maxDocumentSize: 128MiB, maxErrorsPerFile: 100}
//   exclude: ["charts/**", "*.tmpl.yaml"]        # left out of directory walks
//   vulnerabilities: {ignore: [...], failOn: high} # config/vuln_config.hpp
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/vuln_config.hpp"
#include "core/document.hpp"
#include "core/object.hpp"
#include "model/scope.hpp"
#include "model/severity.hpp"

namespace kg {

// An exemption from the config file: which checks, on which objects, why.
// Empty lists match everything; names, namespaces and files are globs.
struct ExemptionRule {
  std::vector<std::string> rules;  // ids, categories or tags; "*" = all
  std::vector<std::string> except_rules;  // ids, categories or tags still checked
  std::vector<std::string> namespaces;
  std::vector<std::string> names;
  std::vector<std::string> kinds;
  std::vector<std::string> containers;
  std::vector<std::string> files;
  std::vector<std::string> users;  // audit alerts (kguard audit): the requesting user
  std::string reason;
  std::string until;  // YYYY-MM-DD, empty = no expiry
  std::string origin;  // "config.yaml:12" or "built-in kube-system pack"
  // Where the config wrote it (empty file for built-in ones), for errors.
  std::string file;
  std::uint32_t line = 0;
  std::uint32_t column = 0;
  std::string field;  // "exemptions[2]"
};

// Per-rule settings from the config file.
struct RuleOverride {
  std::optional<bool> enabled;
  std::optional<Severity> severity;
  const Node* params = nullptr;  // merged over the rule's own params
  std::string origin;            // for error messages
  std::string file;              // the config file, for located parameter errors
};

// What a config sets for an engine's run; engines' options extend it.
struct PolicyOptions {
  PodSpecTable pod_specs;
  std::vector<ExemptionRule> exemptions;
  std::map<std::string, RuleOverride, std::less<>> overrides;
  ScopeMode scope = ScopeMode::Auto;  // reference scope (model/scope.hpp)
};

struct Config {
  std::string path;  // where it was read from; empty when none
  std::vector<std::pair<std::string, std::string>> pod_template_paths;
  std::map<std::string, RuleOverride, std::less<>> rules;
  std::vector<ExemptionRule> exemptions;
  bool default_exemptions = true;
  // limits: (unset fields keep the defaults of LoadLimits; the scan command
  // applies them, its flags win)
  std::optional<std::size_t> max_file_bytes;
  std::optional<std::size_t> max_document_bytes;
  std::optional<std::size_t> max_errors_per_file;
  std::vector<std::string> exclude;  // globs directory walks leave out (as --exclude)
  std::optional<ScopeMode> scope;  // `scope:`; --scope wins
  VulnConfig vulnerabilities;      // `vulnerabilities:` (config/vuln_config.hpp)
  // `rbac: knownControllers:` subjects (user:NAME, group:NAME, sa:NS:NAME,
  // trailing * a prefix) escalation paths do not report as attackers.
  std::vector<std::string> rbac_known_controllers;
  std::shared_ptr<SourceFile> source;  // keeps the params nodes alive

  void apply(PolicyOptions& options) const;
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

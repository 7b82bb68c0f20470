// Escalation paths and credential hygiene into the one report model: each
// becomes a finding of the security category under a rule the result owns
// (as engines/vuln/findings does), so every format, --lang zh, baselines,
// --fail-on and the score treat them as any failed check. The catalog does
// not know these rules: the CLI asks the engine for them (rbac_rules()).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "engines/rbac/hygiene.hpp"
#include "engines/rbac/paths.hpp"
#include "model/engine_result.hpp"

namespace kg::rbac {

// The tag every rule here carries, and the one escalation-path rules add
// (renderers draw the graph of a finding whose rule has it from the finding's
// subject: nodes joined by kPathArrow steps, see path_text()).
inline constexpr std::string_view kRbacTag = "rbac";
inline constexpr std::string_view kPathTag = "rbac-path";

// The rule ids, for --only and the config's rules: (see docs/rbac.md).
const std::vector<std::string>& rbac_rule_ids();

// "User alice ─[create pods in namespace dev]→ any ServiceAccount of namespace dev ─[…]→ cluster-admin".
std::string path_text(const PathAnalysis& paths, const Path& path);
// "ClusterRoleBinding x of ClusterRole y (rule: …)" for each witness, for people.
std::string witness_text(const RbacIndex& index, const Witness& w);

struct RbacFindingOptions {
  // Which rules report (others are left out of the result): an id is
  // selected when this says so; null selects all.
  const std::function<bool(const RuleInfo&)>* selected = nullptr;
  // Token Secrets older than this many days are reported as long-lived even
  // when they reach nothing (0: every one).
  long token_max_age_days = 0;
};

// Adds the findings of `paths` (all_paths()) and `hygiene` to `result` under
// `security`, with their rules owned by the result.
void add_rbac_findings(EngineResult& result, Category security, const PathAnalysis& paths, const Hygiene& hygiene,
                       const RbacFindingOptions& options = {});

}  // namespace kg::rbac

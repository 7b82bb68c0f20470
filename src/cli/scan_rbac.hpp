// `kguard scan`'s RBAC findings: escalation paths and credential hygiene
// (engines/rbac) over the same inputs, merged into the scan's result as
// findings of the security category (docs/rbac.md "Escalation paths").
#pragma once

#include <string>
#include <vector>

#include "catalog/catalog.hpp"
#include "catalog/evaluator.hpp"
#include "cli/rbac_inputs.hpp"
#include "model/engine_result.hpp"

namespace kg::cli {

// Whether --only leaves any RBAC rule selected (none given: all are).
bool rbac_rules_selected(const EvalOptions& options);
// Whether `sel` (an --only selector) names an RBAC rule or its tags.
bool rbac_selector(const std::string& sel);

// Runs the analysis on `inputs` (read from the scan's files or cluster
// snapshot) and adds its findings to `result`.
void add_rbac_scan_findings(EngineResult& result, const Catalog& catalog, const EvalOptions& options,
                            RbacInputs& inputs, const std::vector<std::string>& known_controllers);

}  // namespace kg::cli

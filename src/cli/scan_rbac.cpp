#include "cli/scan_rbac.hpp"

#include <algorithm>

#include "engines/rbac/findings.hpp"
#include "engines/rbac/hygiene.hpp"

namespace kg::cli {
namespace {

bool selected_by(const RuleInfo& r, const EvalOptions& options) {
  if (options.only.empty()) return true;
  for (const std::string& sel : options.only)
    if (sel == r.id || sel == r.category.id() || r.has_tag(sel) || sel == "*" || sel == "all") return true;
  return false;
}

}  // namespace

bool rbac_selector(const std::string& sel) {
  if (sel == rbac::kRbacTag || sel == rbac::kPathTag) return true;
  const auto& ids = rbac::rbac_rule_ids();
  return std::find(ids.begin(), ids.end(), sel) != ids.end();
}

bool rbac_rules_selected(const EvalOptions& options) {
  if (options.only.empty()) return true;
  for (const std::string& sel : options.only)
    if (rbac_selector(sel) || sel == "security" || sel == "*" || sel == "all") return true;
  return false;
}

void add_rbac_scan_findings(EngineResult& result, const Catalog& catalog, const EvalOptions& options,
                            RbacInputs& inputs, const std::vector<std::string>& known_controllers) {
  const std::optional<Category> security = catalog.categories().find("security");
  inputs.loader.add_bootstrap();
  const rbac::RbacIndex index(inputs.loader.take());
  rbac::PathOptions path_options;
  path_options.known_controllers = known_controllers;
  const rbac::PathAnalysis paths(index, inputs.assets, path_options);
  // Token ages as of the snapshot (a cluster read is one): stable reports of a
  // recorded snapshot, and manifests carry no creation times anyway.
  const rbac::Hygiene hygiene = rbac::check_hygiene(paths, rbac::days_since_epoch(inputs.read_at));
  const std::function<bool(const RuleInfo&)> selected = [&](const RuleInfo& r) { return selected_by(r, options); };
  rbac::RbacFindingOptions finding_options;
  finding_options.selected = &selected;
  rbac::add_rbac_findings(result, security.value_or(Category{}), paths, hygiene, finding_options);
}

}  // namespace kg::cli

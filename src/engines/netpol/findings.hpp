// The engine's findings in the one report model: each risk below is a rule
// the result owns (RuleInfo in EngineResult::owned_rules, Networking category,
// tag "netpol"), and each finding names the connection that shows it (in its
// message and as its free subject), so every format, --lang zh, baselines,
// exemptions by rule id and the gate treat them as any check's findings.
// `kguard scan --netpol` merges them into the scan's report (cli/scan_command).
#pragma once

#include <functional>
#include <string>

#include "engines/netpol/analysis.hpp"
#include "model/engine_result.hpp"

namespace kg::netpol {

// The rule ids, for --only, exemptions and overrides of severity.
inline constexpr const char* kOpenToAllNamespaces = "netpol-workload-reachable-from-every-namespace";
inline constexpr const char* kInternetEgress = "netpol-unrestricted-internet-egress";
inline constexpr const char* kDnsBlocked = "netpol-dns-blocked-under-egress-isolation";
inline constexpr const char* kNamespaceOpen = "netpol-namespace-open-to-other-namespaces";
inline constexpr const char* kPolicyNoEffect = "netpol-policy-selects-or-allows-nothing";
inline constexpr const char* kNamedPortUndeclared = "netpol-named-port-undeclared";
inline constexpr const char* kAdminPriorityOverlap = "netpol-admin-priority-overlap";

// Where a subject sits in the scan: its object index (Finding::object), or
// nullopt to put it after the scan's objects. Null: always after.
using ObjectIndexOf = std::function<std::optional<std::size_t>(const std::string& kind, const std::string& ns,
                                                               const std::string& name)>;

// Adds the rules (every one, so a clean input shows them passed) and their
// findings to `result`; `networking`: the catalog's Networking category.
void add_findings(const Analysis& analysis, EngineResult& result, Category networking,
                  const ObjectIndexOf& index_of = nullptr);

}  // namespace kg::netpol

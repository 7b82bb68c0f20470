#include "cli/scan_kubelets.hpp"

#include <algorithm>
#include <atomic>
#include <iostream>
#include <map>
#include <thread>

#include "core/object.hpp"
#include "engines/node/node_config.hpp"
#include "engines/node/node_lint.hpp"
#include "sources/kube/client.hpp"

namespace kg::cli {

void add_kubelet_findings(EngineResult& result, const Catalog& catalog, const EvalOptions& eval,
                          const kube::KubeconfigOptions& where, unsigned parallel, bool quiet) {
  EvalOptions asked = eval;
  asked.engine_kinds = true;
  std::vector<std::string> kubelet_rules;
  for (const auto& r : catalog.rules())
    if (node::is_node_rule(*r) && r->id.rfind("kubelet-", 0) == 0 && rule_selected(*r, asked))
      kubelet_rules.push_back(r->id);
  if (kubelet_rules.empty() || !result.cluster) return;
  EvalOptions only = eval;
  only.only = kubelet_rules;  // the node engine's other rules need a node's files

  std::vector<InputError> errors;
  const auto config = kube::resolve_client_config(where, errors);
  std::string error;
  const auto session = config ? kube::Session::connect(*config, {}, error) : nullptr;
  if (!session) {
    for (InputError& e : errors) result.errors.push_back(std::move(e));
    if (!error.empty()) result.errors.push_back({"cluster", 0, 0, "kubelet configurations: " + error});
    return;
  }
  kube::Client client(session);
  std::vector<std::string> names;
  const auto listed = client.list("/api/v1/nodes", 500, [&](const Node& item) {
    names.emplace_back(str(get(get(&item, "metadata"), "name")));
  });
  auto gap = [&](const std::string& resource, const kube::Response& r, std::string message) {
    CoverageGap g;
    g.kind = "NodeConfig";
    g.api_version = "v1";
    g.resource = resource;
    g.reason = !r.reason.empty() ? r.reason : r.status ? "HTTP " + std::to_string(r.status) : std::string("Error");
    if (r.status == 403 && resource == "nodes/proxy")
      message += " (needs get on nodes/proxy: RBAC grants the identity none)";
    g.message = std::move(message) + (r.error.empty() ? std::string() : ": " + r.error);
    g.rules = kubelet_rules;
    result.cluster->coverage.push_back(std::move(g));
  };
  if (!listed.ok()) {
    // The scan's own read of the nodes usually failed too: its gap names the kubelet rules as well.
    for (CoverageGap& g : result.cluster->coverage) {
      if (g.resource == "nodes" && g.ns.empty()) {
        g.rules.insert(g.rules.end(), kubelet_rules.begin(), kubelet_rules.end());
        return;
      }
    }
    gap("nodes", listed, "the nodes could not be listed, so no kubelet's /configz was read");
    return;
  }
  // One GET per node, on up to `parallel` connections (a large cluster has hundreds of kubelets).
  std::vector<kube::Response> answers(names.size());
  {
    std::atomic<std::size_t> next{0};
    auto worker = [&] {
      kube::Client c(session);
      for (std::size_t i; (i = next.fetch_add(1)) < names.size();)
        answers[i] = c.get("/api/v1/nodes/" + names[i] + "/proxy/configz");
    };
    const unsigned threads = std::max(1u, std::min<unsigned>(parallel, static_cast<unsigned>(names.size())));
    std::vector<std::thread> pool;
    for (unsigned t = 1; t < threads; ++t) pool.emplace_back(worker);
    worker();
    for (std::thread& t : pool) t.join();
  }
  // An identity without nodes/proxy is refused on every node: one gap says so, not one per node.
  if (!names.empty() &&
      std::all_of(answers.begin(), answers.end(), [](const kube::Response& r) { return r.status == 403; })) {
    gap("nodes/proxy", answers[0],
        "the running kubelet configuration of " + std::to_string(names.size()) + " node(s) could not be read");
    return;
  }
  std::string list = R"({"apiVersion":"v1","kind":"List","items":[)";
  bool first = true;
  for (std::size_t i = 0; i < names.size(); ++i) {
    const std::string& name = names[i];
    const kube::Response& r = answers[i];
    if (!r.ok()) {
      gap("nodes/proxy", r, "node " + name + ": the kubelet's /configz could not be read");
      continue;
    }
    node::NodeRead read = node::node_from_configz(name, r.body, "nodes/" + name + "/proxy/configz");
    for (InputError& e : read.errors) result.warnings.push_back(std::move(e));
    list += (first ? "" : ",") + read.object_json;
    first = false;
  }
  list += "]}";
  if (!quiet && !names.empty()) {
    std::size_t gaps = 0;
    for (const CoverageGap& g : result.cluster->coverage) gaps += g.kind == "NodeConfig" ? 1 : 0;
    std::cerr << "kguard: kubelet configurations: " << names.size() - gaps << " of " << names.size()
              << " node(s) read through nodes/proxy/configz\n";
  }
  if (first) return;  // none read: the gaps say why
  const node::NodeLinter linter(catalog, only);
  EngineResult lint = linter.lint(result.inputs.empty() ? std::string("cluster") : result.inputs.front(), list);
  for (InputError& e : lint.errors) result.errors.push_back(std::move(e));

  // The kubelet rules join the report's rules; each NodeConfig is one more object.
  std::map<const RuleInfo*, std::size_t> index;
  for (std::size_t i = 0; i < result.rules.size(); ++i) index[result.rules[i]] = i;
  for (std::size_t i = 0; i < lint.rules.size(); ++i) {
    auto [it, added] = index.emplace(lint.rules[i], result.rules.size());
    if (added) {
      result.rules.push_back(lint.rules[i]);
      result.tallies.emplace_back();
      for (ScopeSummary& s : result.scopes) s.tallies.resize(result.rules.size());
    }
    RuleTally& t = result.tallies[it->second];
    t.evaluated += lint.tallies[i].evaluated;
    t.passed += lint.tallies[i].passed;
    t.failed += lint.tallies[i].failed;
    t.exempted += lint.tallies[i].exempted;
  }
  for (const auto& [kind, n] : lint.kinds) result.kinds[kind] += n;
  const std::size_t base = result.objects;
  result.objects += lint.objects;
  for (const FindingView f : lint.findings) {
    Finding g = f.to_finding();
    g.object = base + f.object;
    result.findings.push_back(g);
  }
}

}  // namespace kg::cli

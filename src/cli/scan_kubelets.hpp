// kguard scan --cluster: each node's running kubelet configuration (GET
// /api/v1/nodes/NAME/proxy/configz through the API server), judged by the
// kubelet rules of the node engine and joined to the scan's report; a node
// whose /configz cannot be read (Forbidden without nodes/proxy, a kubelet the
// API server cannot reach) is a coverage gap. Composed here, in the CLI: the
// scan engine does not include the node engine (src/layers.txt).
#pragma once

#include "catalog/catalog.hpp"
#include "catalog/evaluator.hpp"
#include "model/engine_result.hpp"
#include "sources/kube/kubeconfig.hpp"

namespace kg::cli {

// Nothing when no kubelet rule is selected (e.g. --only control-plane).
// `parallel`: concurrent /configz reads (--parallel).
void add_kubelet_findings(EngineResult& result, const Catalog& catalog, const EvalOptions& eval,
                          const kube::KubeconfigOptions& where, unsigned parallel, bool quiet);

}  // namespace kg::cli

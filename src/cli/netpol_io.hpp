// kguard netpol's inputs: files, folders, stdin and snapshots read like
// `kguard scan` reads them (engines/scan expand_inputs, the core document
// stream), or a live cluster (sources/kube), into the engine's NetpolInput.
#pragma once

#include <string>
#include <vector>

#include "cli/cluster.hpp"
#include "engines/netpol/model.hpp"
#include "model/engine_result.hpp"

namespace kg::cli {

struct NetpolLoad {
  netpol::NetpolInput input;
  std::vector<std::string> inputs;  // what was read
};

// The kinds the engine reads (a cluster read lists these).
std::vector<std::string> netpol_kinds();

// Reads `paths` (or the cluster when `cluster.enabled`); prints input errors
// and warnings on stderr unless quiet. False when nothing could be read.
bool load_netpol_input(const std::vector<std::string>& paths, ClusterFlags cluster, bool quiet, NetpolLoad& out);

// kguard scan --netpol: the engine's findings (engines/netpol/findings) over
// the same input — `paths`, or `snapshot` (a cluster read) when not empty —
// merged into the scan's result under the catalog's Networking category.
void add_netpol_findings(EngineResult& result, Category networking, const std::vector<std::string>& paths,
                         std::string snapshot);

int netpol_exposure(const std::vector<std::string>& paths, const ClusterFlags& cluster, bool quiet,
                    const std::string& format);
int netpol_diff(const std::vector<std::string>& paths, const ClusterFlags& cluster, bool quiet,
                const std::string& format);

}  // namespace kg::cli

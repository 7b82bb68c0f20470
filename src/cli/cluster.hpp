// Shared by `kguard scan --cluster` and `kguard snapshot`: the cluster
// connection flags and reading the cluster with progress on stderr.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "engines/scan/scan.hpp"
#include "sources/kube/cluster_reader.hpp"

namespace kg::cli {

struct ClusterFlags {
  bool enabled = false;  // --cluster or any connection flag
  std::string kubeconfig;
  std::string context;
  std::vector<std::string> namespaces;
  bool all_namespaces = false;
  unsigned parallel = 4;
  std::size_t chunk_size = 500;  // items per list page, like kubectl --chunk-size
  int request_timeout_seconds = 60;
  // Kinds to list besides the rules' (kguard netpol: workloads, policies, Services, routes).
  std::vector<std::string> extra_kinds;

  // Consumes args[i] (and its value) when it is a cluster flag: 1 when
  // consumed, 0 when not a cluster flag, -1 with `error` on a bad value.
  int parse(const std::vector<std::string>& args, std::size_t& i, std::string& error);
};

const char* cluster_flags_help();

// The kinds to list for `rules`: kinds_needed (what each rule names and
// what its set-level check reads) plus the kinds the cluster facts count.
std::vector<std::string> kinds_for_rules(const std::vector<const Rule*>& rules,
                                         const ScanOptions& options);

// Resolves credentials, reads the cluster and prints progress; nullopt after
// printing the error when the cluster cannot be read.
std::optional<kube::ClusterRead> read_cluster_for_scan(const ClusterFlags& flags,
                                                       const std::vector<const Rule*>& rules,
                                                       const ScanOptions& options, bool quiet,
                                                       const std::vector<std::string>& extra_kinds = {});

// The same for a given list of kinds (`kguard rbac --cluster`); `rules_for_kind`
// names what a kind's coverage gap leaves unevaluated.
std::optional<kube::ClusterRead> read_cluster_kinds(
    const ClusterFlags& flags, std::vector<std::string> kinds,
    const std::function<std::vector<std::string>(const std::string&)>& rules_for_kind, bool quiet);

}  // namespace kg::cli

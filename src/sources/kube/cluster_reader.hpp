// Reads what the rule catalog needs from a live cluster: /version, API
// discovery, then every needed kind listed page by page (limit/continue) by a
// bounded pool of clients. The result is one `kind: List` JSON document, the
// snapshot: `kguard scan --cluster` scans it in memory, `kguard snapshot`
// writes it to a file that `kguard scan` reads back with the same result.
//
// Kinds the identity may not list (403) or that fail are not errors: they
// become ClusterInfo::coverage entries that the report shows.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/cluster_info.hpp"
#include "sources/kube/client.hpp"

namespace kg::kube {

struct ReadOptions {
  std::vector<std::string> kinds;       // kinds to list (those the catalog needs)
  std::vector<std::string> namespaces;  // empty = all namespaces
  unsigned parallel = 4;                // concurrent list requests
  std::size_t page_size = 500;          // items per page (kubectl's chunk size)
  // The rules a kind's coverage gap leaves unevaluated (ids).
  std::function<std::vector<std::string>(const std::string& kind)> rules_for_kind;
};

// One progress step: a kind (in one namespace) finished listing.
struct ReadProgress {
  std::size_t done = 0;
  std::size_t total = 0;
  std::uint64_t objects = 0;  // so far
  std::string what;           // "Deployment in shop" / "ClusterRole"
  std::uint64_t listed = 0;   // objects of this step
  bool failed = false;
};

struct ClusterRead {
  std::string snapshot;  // the kind: List JSON, header first (see snapshot_header)
  ClusterInfo info;
  std::uint64_t objects = 0;
  std::string error;  // set when the cluster could not be read at all
};

// Kinds the reader counts for the cluster facts (ClusterInfo nodes,
// namespaces, pods). What the rules need comes from the rules themselves
// (engines/scan kinds_needed), never from a list here.
std::vector<std::string> counted_kinds();

ClusterRead read_cluster(const std::shared_ptr<const Session>& session, const ReadOptions& options,
                         const std::function<void(const ReadProgress&)>& progress);

// The first line of a snapshot: the List envelope with its kguardSnapshot
// field, ending in `"items":[`.
std::string snapshot_header(const ClusterInfo& info);

// Reads the kguardSnapshot of a snapshot file from its first line only
// (files of any size); nullopt when `path` is not a kguard snapshot.
std::optional<ClusterInfo> peek_snapshot(const std::string& path);

}  // namespace kg::kube

// What kguard learned about a live cluster it read (or a snapshot of one):
// the server's version, object counts and what it could not read. A snapshot
// (`kguard snapshot`) carries this as the `kguardSnapshot` field of its
// kind: List envelope, so scanning the snapshot offline gives the same report.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/document.hpp"

namespace kg {

// A kind kguard needed but could not list (RBAC, errors): the rules that
// apply to it were not evaluated on what it holds.
struct CoverageGap {
  std::string kind;
  std::string api_version;  // group/version listed, e.g. apps/v1
  std::string resource;     // deployments
  std::string ns;           // the namespace; empty: all namespaces or cluster-scoped
  std::string reason;       // API Status reason (Forbidden, Unauthorized…) or Error
  std::string message;      // the server's message, for people
  std::vector<std::string> rules;  // rule ids that apply to this kind
};

struct ClusterInfo {
  std::string server;          // https://host:port
  std::string context;         // kubeconfig context, or in-cluster
  std::string server_version;  // gitVersion from /version, e.g. v1.37.2
  std::vector<std::string> namespaces;  // scope; empty = all namespaces
  std::optional<std::uint64_t> nodes;   // unknown when they could not be listed
  std::optional<std::uint64_t> namespace_count;
  std::optional<std::uint64_t> pods;
  std::string read_at;  // RFC 3339 UTC
  std::vector<std::string> kinds_not_served;  // kinds rules name that this cluster does not serve
  std::vector<CoverageGap> coverage;
  // Where the info came from (the snapshot file and line), for findings.
  std::string file;
  std::uint32_t line = 0;
  std::uint32_t column = 0;
};

// Reads the `kguardSnapshot` mapping of a List envelope; problems go to
// `errors` with file:line and the rest is still read.
ClusterInfo parse_cluster_info(const std::string& file, const Node& snapshot,
                               std::vector<InputError>& errors);

// "v1.37.2" → 37; nullopt unless the version is 1.N[.x][-suffix].
std::optional<int> kubernetes_minor(std::string_view version);

}  // namespace kg

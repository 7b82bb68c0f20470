// The connectivity of a NetpolInput: for every ordered pair of peers
// (workloads and external IPv4 ranges) the connections allowed, through the
// tiers Admin → NetworkPolicy → Baseline → default allow, each direction
// evaluated at its own end (egress at the source, ingress at the
// destination) and intersected.
//
// Fast by sharing: workloads selected by the same policies (per direction)
// share one rule chain; a chain's verdict is computed once for a "generic"
// peer that only universal clauses match (its default) and again only for the
// peers some selector of the chain names (its exceptions), found through
// label indexes. A pair's connection is then two look-ups and one
// intersection of interned ConnSets.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "engines/netpol/model.hpp"

namespace kg::netpol {

// A peer: a workload (index into NetpolInput::workloads) or an external
// range (index into Analysis::ip_ranges()).
struct PeerRef {
  bool ip = false;
  std::uint32_t index = 0;
  bool operator==(const PeerRef& o) const { return ip == o.ip && index == o.index; }
};

// Why part of a direction's connections is allowed or denied.
struct Decision {
  ConnSet conns;
  bool allowed = false;
  Tier tier = Tier::NetworkPolicy;
  // The policy and rule responsible; policy < 0: none (default allow, or an
  // isolating NetworkPolicy that no rule of which allows it).
  std::int64_t policy = -1;
  std::int64_t rule = -1;
  std::vector<std::uint32_t> isolating;  // NetworkPolicies isolating the pod (denials in the NetworkPolicy tier)
  std::string reason;
};

struct Explanation {
  ConnSet egress, ingress, allowed;
  std::vector<Decision> egress_decisions, ingress_decisions;
};

// What one workload is open to, from its own policies' point of view (the
// other end's policies are not known for peers that do not exist yet).
struct Exposure {
  std::uint32_t workload = 0;
  // A pod in any namespace with any labels (only clauses that select every
  // pod match it), and any address outside the private ranges.
  ConnSet from_cluster, to_cluster, from_internet, to_internet;
  struct BySelector {
    Direction direction = Direction::Ingress;
    std::string namespaces, pods;  // "team=x", "{}" for every one
    ConnSet conns;
  };
  std::vector<BySelector> by_selector;  // namespaces picked by selector (the pod's own namespace left out)
  struct Public {
    std::string kind, ns, name, how;  // Service (LoadBalancer/NodePort), Ingress, Route, HTTPRoute… reaching it
    ConnSet ports;                    // the target ports the entry sends to (all when unknown)
    ConnSet allowed;                  // those the workload's ingress lets in from the internet
  };
  std::vector<Public> entries;
};

std::string selector_text(const LabelSelector& s);  // "app=web,tier in (a,b)"; "{}" for every object

class Analysis {
 public:
  explicit Analysis(const NetpolInput& input);
  ~Analysis();
  Analysis(const Analysis&) = delete;
  Analysis& operator=(const Analysis&) = delete;

  const NetpolInput& input() const { return in_; }
  // The external ranges: IPv4 cut at every boundary of every ipBlock and
  // admin network (netpol-analyzer's disjoint blocks), ascending.
  const std::vector<IpRange>& ip_ranges() const { return atoms_; }
  std::size_t peer_count() const { return in_.workloads.size() + atoms_.size(); }
  // "ns/name[Kind]" or "a.b.c.d-e.f.g.h".
  std::string peer_name(PeerRef p) const;
  // By "ns/name[Kind]", "ns/name" (when one kind has it), or an IPv4 address
  // (the range holding it); nullopt when unknown or ambiguous (`why`).
  std::optional<PeerRef> find_peer(const std::string& text, std::string& why) const;

  // The connections allowed from src to dst (src == dst: every connection).
  ConnSet connection(PeerRef src, PeerRef dst) const;
  Explanation explain(PeerRef src, PeerRef dst) const;
  // Every ordered pair src != dst (IP to IP left out) with something allowed,
  // sources in peer order (workloads then ranges), then destinations; `conn`
  // is valid during the call.
  void for_each_connection(const std::function<void(PeerRef src, PeerRef dst, const ConnSet& conn)>& f) const;
  // Counts the pairs with any / every connection without building ConnSets
  // (what the benchmark times as the full matrix).
  struct Totals {
    std::uint64_t pairs = 0, allowed = 0, all = 0;
  };
  Totals totals() const;
  // Policy indices that select the workload in that direction, tier order.
  const std::vector<std::uint32_t>& selecting(std::uint32_t workload, Direction dir) const;
  // Workloads (indices) a policy selects.
  const std::vector<std::uint32_t>& selected_by(std::uint32_t policy) const;
  Exposure exposure(std::uint32_t workload) const;
  // The workloads a Pods clause selects (host-network pods left out), ascending.
  const std::vector<std::uint32_t>& pods_matching(const Clause& c) const;
  // Statistics for the benchmark: chains per direction, interned sets.
  std::size_t chain_count(Direction dir) const;
  std::size_t conn_count() const;

  struct Impl;

 private:
  std::uint32_t connection_id(std::uint32_t self) const;
  const NetpolInput& in_;
  std::vector<IpRange> atoms_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kg::netpol

// What the NetworkPolicy engine reads from manifests: workloads (each stands
// for its pods), namespaces with their labels, the policies of every tier
// normalised into one rule shape, and what exposes workloads outside the
// cluster (Services, Ingresses, Routes, Gateway routes). Strings are copied:
// the documents they came from are freed as the input streams past.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/document.hpp"
#include "core/inventory.hpp"
#include "core/object.hpp"
#include "engines/netpol/conn.hpp"

namespace kg::netpol {

struct NamedPort {
  std::string name;
  Protocol protocol = Protocol::TCP;
  std::uint32_t port = 0;
};

struct Workload {
  std::string kind, ns, name;
  Labels labels;
  bool host_network = false;
  std::vector<NamedPort> ports;  // containers' ports (named or not)
  std::string file;
  std::uint32_t line = 0;
  std::uint32_t ns_index = 0;  // into NetpolInput::namespaces
  std::uint32_t port_sig = 0;  // equal for workloads with the same named ports
  // "ns/name[Kind]", netpol-analyzer's notation.
  std::string id() const { return ns + "/" + name + "[" + kind + "]"; }
};

struct Namespace {
  std::string name;
  Labels labels;  // always with kubernetes.io/metadata.name
  bool declared = false;  // a Namespace object was in the input
};

// An inclusive IPv4 range.
struct IpRange {
  std::uint32_t lo = 0, hi = 0;
};
std::string ip_str(std::uint32_t ip);
std::string range_str(const IpRange& r);  // "10.0.0.0-10.255.255.255"
// "10.0.0.0/8" → range; false when not an IPv4 CIDR (`ipv6` set when IPv6).
bool parse_cidr(std::string_view text, IpRange& out, bool& ipv6);

// One peer of a rule. Any: every peer (a NetworkPolicy rule without from/to).
// Pods: pods in namespaces; Ips: address ranges.
struct Clause {
  enum class Kind : std::uint8_t { Any, Pods, Ips };
  Kind kind = Kind::Any;
  // Pods: `same_namespace` (a NetworkPolicy podSelector alone) restricts to
  // namespace `ns`; otherwise `ns_selector` picks namespaces. `pod_selector`
  // always present ({} = every pod).
  bool same_namespace = false;
  std::string ns;
  LabelSelector ns_selector;
  LabelSelector pod_selector;
  // Ips: the ranges (cidr minus except). `matches_pods`: the ranges cover
  // every IPv4 address (an admin `networks: 0.0.0.0/0`), so pods match too.
  std::vector<IpRange> ranges;
  bool matches_pods = false;
  // Pods clause that selects every (non-host-network) pod.
  bool universal() const {
    return kind == Kind::Pods && !same_namespace && ns_selector.empty() && pod_selector.empty();
  }
};

// One entry of a rule's ports: a protocol's range, a named port, or (admin
// named ports) a name with any protocol.
struct PortSpec {
  bool any_protocol = false;  // a named port of an admin policy: its protocol is the container port's
  Protocol protocol = Protocol::TCP;
  bool all_ports = false;  // protocol given, port omitted
  std::string name;        // named port when not empty
  std::uint32_t lo = 0, hi = 0;
};

enum class Action : std::uint8_t { Allow, Deny, Pass };
std::string_view to_string(Action a);
enum class Tier : std::uint8_t { Admin, NetworkPolicy, Baseline };
std::string_view to_string(Tier t);
enum class Direction : std::uint8_t { Ingress, Egress };

struct Rule {
  Action action = Action::Allow;
  std::vector<Clause> peers;  // OR
  std::vector<PortSpec> ports;  // OR; empty = every port of every protocol
  std::string name;
  std::uint32_t index = 0;   // in its policy's direction list
  std::uint32_t policy = 0;  // into NetpolInput::policies
  Direction direction = Direction::Ingress;
  std::uint32_t line = 0;
  bool uses_named_ports() const {
    for (const PortSpec& p : ports)
      if (!p.name.empty()) return true;
    return false;
  }
};

struct Policy {
  std::string kind;  // NetworkPolicy, AdminNetworkPolicy, BaselineAdminNetworkPolicy, ClusterNetworkPolicy
  std::string ns, name;
  Tier tier = Tier::NetworkPolicy;
  std::int64_t priority = 0;
  // Subject: NetworkPolicy: pods of `ns` matching pod_selector. Cluster
  // policies: pods matching pod_selector in namespaces matching ns_selector.
  bool subject_same_namespace = false;
  LabelSelector ns_selector, pod_selector;
  bool affects_ingress = false, affects_egress = false;
  std::vector<Rule> ingress, egress;
  std::string file;
  std::uint32_t line = 0;
  // "NetworkPolicy ns/name", "AdminNetworkPolicy name".
  std::string display() const { return kind + " " + (ns.empty() ? name : ns + "/" + name); }
};

// What brings traffic from outside the cluster to workloads.
struct Exposer {
  std::string kind, ns, name;  // Service (LoadBalancer/NodePort), Ingress, Route, HTTPRoute…
  std::string how;             // "LoadBalancer", "NodePort", "Ingress backend"…
  LabelSelector selector;      // the Service's pod selector
  std::vector<std::string> services;  // Ingress/Route/route backends (Service names in ns)
  std::vector<std::uint32_t> ports;   // Service targetPort numbers (0: by name, see port_names)
  std::vector<std::string> port_names;
};

struct NetpolInput {
  std::vector<Workload> workloads;
  std::vector<Namespace> namespaces;
  std::vector<Policy> policies;
  std::vector<Exposer> exposers;  // Services of every type (how = type), then routes
  std::vector<InputError> errors;
  std::vector<InputError> warnings;
  std::uint64_t objects = 0;
  std::uint32_t namespace_index(const std::string& name) const;  // UINT32_MAX when absent
};

// Collects objects as they stream past (collect_objects), then builds the
// input: controlled children dropped for their controllers, namespaces from
// Namespace objects and from every namespace mentioned.
class InputBuilder {
 public:
  explicit InputBuilder(const PodSpecTable& pod_specs) : pod_specs_(pod_specs) {}
  void add(const Object& obj);
  void add_error(InputError e) { in_.errors.push_back(std::move(e)); }
  NetpolInput finish();

 private:
  void add_workload(const Object& obj, const PodView& pod);
  void add_network_policy(const Object& obj);
  void add_cluster_policy(const Object& obj);
  void add_exposer(const Object& obj);
  void error(const Object& obj, const Node* at, std::string message);
  void warn(const Object& obj, const Node* at, std::string message);

  const PodSpecTable& pod_specs_;
  NetpolInput in_;
  struct Owned {
    std::size_t workload;
    std::string owner_kind, owner_name;
  };
  std::vector<Owned> owned_;
  std::vector<std::string> present_;  // "Kind/ns/name" of every object
  std::vector<std::pair<std::string, Labels>> declared_namespaces_;
};

}  // namespace kg::netpol

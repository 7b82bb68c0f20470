// Service-mesh facts (docs/mesh.md): Istio PeerAuthentication and
// AuthorizationPolicy, Linkerd Server, the injection labels and annotations
// of Namespaces and pod templates, and Linkerd's default inbound policy. The
// set-level template `service-mesh` (mesh.cpp) reads them, and so does the
// east-west posture the scan engine adds to the report.
#pragma once

#include <string>
#include <vector>

#include "checks/facts.hpp"
#include "model/east_west.hpp"

namespace kg {

enum class MeshRowKind : std::uint8_t {
  Namespace,
  Workload,
  PeerAuthentication,
  IstioAuthorization,  // security.istio.io AuthorizationPolicy
  LinkerdServer,       // policy.linkerd.io Server
  Other,               // a mesh object read for presence only
};

struct MeshPortMode {
  std::string port;
  std::string mode;  // "" = UNSET
  std::string path;
  Mark at;
};

struct MeshRow {
  std::size_t object = 0;
  MeshRowKind kind = MeshRowKind::Other;
  // Namespace: its labels; Workload: its pod template's labels.
  Labels labels;
  // Injection: Namespace label istio-injection / istio.io/rev; Workload
  // sidecar.istio.io/inject (label, else annotation). Linkerd: the
  // linkerd.io/inject annotation; config.linkerd.io/default-inbound-policy.
  std::string istio_inject;
  bool istio_rev = false;
  Mark istio_inject_at;
  std::string linkerd_inject;
  Mark linkerd_inject_at;
  std::string linkerd_policy;
  Mark linkerd_policy_at;
  // Where the object's (or pod template's) metadata is, and its path.
  Mark meta_at;
  std::string meta_path;
  // PeerAuthentication (spec.selector), AuthorizationPolicy (spec.selector),
  // Server (spec.podSelector); present == false: none (namespace-wide).
  LabelSelector selector;
  Mark selector_at;
  std::string selector_path;
  // PeerAuthentication: spec.mtls.mode ("" = UNSET); AuthorizationPolicy:
  // spec.action (ALLOW when absent).
  std::string mode;
  Mark mode_at;
  std::vector<MeshPortMode> port_modes;  // PeerAuthentication portLevelMtls
  // AuthorizationPolicy: no rules (ALLOW: allows nothing; DENY: denies
  // nothing); a rule `{}` (matches every request).
  bool no_rules = false;
  bool matches_all = false;
};

// Every object the mesh checks read, in one table.
class MeshTable final : public NamespacedTable<MeshTable, MeshRow> {
 public:
  static constexpr std::string_view kKinds[] = {"Namespace", "workloads", "PeerAuthentication",
                                                "AuthorizationPolicy", "Server"};
  static constexpr FactCollector kCollector{"service-mesh", kKinds, make_table<MeshTable>};
  void add(std::size_t object, const Object& obj, const PodView& pod) override;
};

// What the posture needs beyond the mesh rules' own settings.
struct MeshSettings {
  std::string root_namespace = "istio-system";
  std::string linkerd_default_policy = "all-unauthenticated";
};

// The kinds the east-west posture reads ("workloads": every pod-bearing kind).
std::vector<std::string> east_west_kinds();
// The fact tables it reads (the mesh table and NetworkPolicies).
std::vector<const FactCollector*> east_west_facts();
// The posture of every namespace of the input (its Namespaces and the
// namespaces of its workloads), from the tables east_west_facts() names.
EastWestPosture east_west_posture(const Inventory& inv, const MeshSettings& settings = {});

}  // namespace kg

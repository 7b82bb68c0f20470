// East-west traffic posture per namespace (docs/mesh.md): whether traffic
// between workloads is mutually authenticated and authorised by a service
// mesh (Istio, Linkerd), isolated by a NetworkPolicy default deny, both, or
// neither. Computed by the scan engine from its fact tables
// (checks/mesh.hpp) when a networking rule is in force; every renderer shows
// it (EngineResult::east_west).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace kg {

struct NamespaceTraffic {
  std::string ns;                 // "" = objects without metadata.namespace
  std::uint32_t workloads = 0;    // top-level workloads (controllers, bare pods)
  std::uint32_t meshed = 0;       // of which run a mesh proxy (injected, or assumed where unknown)
  std::string mesh;               // "istio", "linkerd", "istio+linkerd" or "" (none)
  std::string mtls;               // strict | permissive | partial | none
  std::string authorization;      // default-deny | partial | none
  std::string network_policy;     // default-deny | partial | none (ingress isolation)
  std::string protected_by;       // both | mesh | network-policy | none
  // The reference scope the row was judged in (--scope: what that part of the
  // input shows, as its set-level findings are); "" when the input is one scope.
  std::string scope;
};

struct EastWestPosture {
  std::vector<std::string> meshes;  // the meshes the input shows ("istio", "linkerd"); empty: none
  std::vector<NamespaceTraffic> namespaces;  // sorted by name
};

}  // namespace kg

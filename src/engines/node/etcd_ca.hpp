// CIS 2.7 (research row CP-ETCD-007): etcd must trust its own CA, not the
// cluster's. On a control-plane node root, etcd's static Pod names the CA
// bundles it trusts (--trusted-ca-file for clients, --peer-trusted-ca-file for
// peers) and kube-apiserver's names the cluster CA (--client-ca-file; kubeadm's
// /etc/kubernetes/pki/ca.crt when absent). The files are read inside the root
// and compared by certificate (DER) and by public key — never by path: a copy
// of ca.crt under pki/etcd/ is the same CA, and a CA re-issued from the same
// key signs the same clients.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "checks/component_flags.hpp"
#include "core/cluster_info.hpp"
#include "core/document.hpp"
#include "core/json_writer.hpp"
#include "sources/host/host_root.hpp"

namespace kg::node {

// The rule that judges spec.etcdCA (rules/security/etcd-ca-shared-with-cluster).
inline constexpr const char* kEtcdCaRule = "etcd-ca-shared-with-cluster";

struct EtcdCaEntry {
  std::string flag;    // trusted-ca-file | peer-trusted-ca-file
  std::string path;    // the node's path; empty when the flag is not set
  std::string status;  // distinct | same-certificate | same-key | unreadable | not-set
  std::string detail;  // for the message (which certificate, why unreadable)
};

struct EtcdCa {
  bool found = false;         // an etcd static Pod is on the root
  std::string cluster_ca;     // the cluster CA's path
  std::string cluster_ca_from;  // "kube-apiserver --client-ca-file" or "kubeadm's default ..."
  std::string cluster_status;   // read | unreadable
  std::string cluster_detail;
  std::vector<EtcdCaEntry> entries;
};

// The first `which` component of a static Pod manifest's text (`path` names it),
// its flags parsed as the control-plane rules parse them; nothing when the
// manifest runs no such component.
std::optional<ComponentFlags> component_of_manifest(const std::string& path, std::string content,
                                                    ControlPlaneComponent which);

// `manifests` is the static Pod folder (staticPodPath).
EtcdCa read_etcd_ca(const host::HostRoot& root, const std::string& manifests);

// spec.etcdCA of the NodeConfig (nothing when no etcd static Pod was found).
void write_etcd_ca(JsonWriter& w, const EtcdCa& ca);

// A coverage gap per CA file that could not be compared (the rule leaves the
// node unjudged rather than passing it).
std::vector<CoverageGap> etcd_ca_coverage(const EtcdCa& ca, const std::string& node);

}  // namespace kg::node

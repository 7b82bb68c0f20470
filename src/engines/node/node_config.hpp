// The one Kubernetes-shaped object the node rules judge: what `kguard node`
// read on a node (or under a root copied from one) written as
// `apiVersion: kguard.io/v1`, `kind: NodeConfig`:
//   spec.kubelet    the kubelet's effective configuration (config file,
//                   then its command-line flags over it, as the kubelet
//                   applies them; defaults filled in), where each value came
//                   from (origins), the unit, drop-ins and command line;
//   spec.kubeProxy  the same for kube-proxy when it runs from a unit or a
//                   config file on the node;
//   spec.files      mode and owner of the manifests, kubeconfigs, PKI files,
//                   unit files and data directories (research §2.17), by role;
//   spec.etcdCA     etcd's trusted CA files compared with the cluster CA
//                   (CIS 2.7; etcd_ca.hpp);
//   spec.credentials private keys, kubeconfigs with tokens or client keys and
//                   cloud credential files outside the kubelet's and the
//                   control plane's PKI.
// The node rules (rules/security/node-*) are ordinary catalog rules on this
// object (templates node-setting and node-file; docs/node.md lists the fields),
// with pass/fail fixtures like every other rule.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/cluster_info.hpp"
#include "core/document.hpp"
#include "sources/host/host_root.hpp"

namespace kg::node {

// The kubelet's running configuration (its /configz answer) when its config
// file cannot be read: the answer's JSON and `source` naming where it came
// from, or nullopt with `error` saying why not.
using ConfigzFallback = std::function<std::optional<std::string>(std::string& source, std::string& error)>;

struct NodeReadOptions {
  std::string node_name;     // metadata.name; empty: the root's /etc/hostname, else "node"
  bool credentials = true;   // walk for long-lived credentials (spec.credentials)
  std::size_t max_credential_files = 50000;  // files looked at by that walk
  ConfigzFallback kubelet_configz;  // empty: an unreadable config file is a coverage gap
};

// A part of the node that could not be read by this process (a file its uid
// may not open, a folder it may not list): a coverage gap, never a pass. The
// rules it hides are named by `scope`.
struct NodeGap {
  std::string path;     // the node's path
  std::string scope;    // kubelet | kubeProxy | credentials | file:ROLE (ROLE: spec.files[].role)
  std::string reason;   // Forbidden (EACCES/EPERM), or the error's name
  std::string message;  // for people: the path, the uid and why
};

struct NodeRead {
  std::string object_json;          // the NodeConfig object
  std::string node_name;
  std::vector<InputError> errors;   // unreadable or malformed inputs (the rest is still read)
  std::vector<std::string> notes;   // what was not found (no kubelet unit, no kube-proxy...)
  std::vector<NodeGap> gaps;        // what this uid could not read (coverage gaps)
  std::vector<CoverageGap> coverage;  // what a rule could not judge from what it read (etcd's CA files)
};

NodeRead read_node(const host::HostRoot& root, const NodeReadOptions& options);

// The NodeConfig of a node from its kubelet's /configz answer (the running
// configuration, flags already applied); `source` names it in errors. Only
// spec.kubelet is filled: a live read sees no files.
NodeRead node_from_configz(const std::string& node_name, std::string_view configz_json, const std::string& source);

// The kubelet's boolean flags (they take no separate value), for parse_flags.
const std::vector<std::string_view>& kubelet_bool_flags();

}  // namespace kg::node

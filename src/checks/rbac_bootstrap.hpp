// The RBAC objects kube-apiserver creates itself at start-up (its RBAC
// bootstrap policy, k8s.io/kubernetes plugin/pkg/auth/authorizer/rbac/
// bootstrappolicy; they carry the label kubernetes.io/bootstrapping=
// rbac-defaults; these lists are what a real kube-apiserver v1.37.2 created, read
// with kubectl from the e2e control plane). RBAC rules leave exactly these alone: a role a user wrote
// is judged whatever its name, `system:` prefix or not.
#pragma once

#include <algorithm>
#include <array>
#include <string_view>

namespace kg::checks {

// system:controller:<name> roles and bindings of kube-controller-manager's
// controllers (bootstrappolicy/controller_policy.go).
inline constexpr std::array<std::string_view, 41> kBootstrapControllers = {
    "attachdetach-controller", "certificate-controller", "clusterrole-aggregation-controller",
    "cronjob-controller", "daemon-set-controller", "deployment-controller",
    "device-taint-eviction-controller", "disruption-controller", "endpoint-controller",
    "endpointslice-controller", "endpointslicemirroring-controller", "ephemeral-volume-controller",
    "expand-controller", "generic-garbage-collector", "horizontal-pod-autoscaler",
    "job-controller", "kube-apiserver-serving-clustertrustbundle-publisher", "legacy-service-account-token-cleaner",
    "namespace-controller", "node-controller", "persistent-volume-binder",
    "pod-garbage-collector", "podcertificaterequestcleaner", "pv-protection-controller",
    "pvc-protection-controller", "replicaset-controller", "replication-controller",
    "resource-claim-controller", "resourcequota-controller", "root-ca-cert-publisher",
    "route-controller", "selinux-warning-controller", "service-account-controller",
    "service-cidrs-controller", "service-controller", "statefulset-controller",
    "storage-version-migrator-controller", "ttl-after-finished-controller", "ttl-controller",
    "validatingadmissionpolicy-status-controller", "volumeattributesclass-protection-controller"};

// bootstrappolicy/policy.go ClusterRoles().
inline constexpr std::array<std::string_view, 32> kBootstrapClusterRoles = {
    "admin", "cluster-admin", "edit",
    "system:aggregate-to-admin", "system:aggregate-to-edit", "system:aggregate-to-view",
    "system:auth-delegator", "system:basic-user", "system:certificates.k8s.io:certificatesigningrequests:nodeclient",
    "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient", "system:certificates.k8s.io:kube-apiserver-client-approver", "system:certificates.k8s.io:kube-apiserver-client-kubelet-approver",
    "system:certificates.k8s.io:kubelet-serving-approver", "system:certificates.k8s.io:legacy-unknown-approver", "system:cluster-trust-bundle-discovery",
    "system:discovery", "system:heapster", "system:kube-aggregator",
    "system:kube-controller-manager", "system:kube-dns", "system:kube-scheduler",
    "system:kubelet-api-admin", "system:monitoring", "system:node",
    "system:node-bootstrapper", "system:node-problem-detector", "system:node-proxier",
    "system:persistent-volume-provisioner", "system:public-info-viewer", "system:service-account-issuer-discovery",
    "system:volume-scheduler", "view"};

// bootstrappolicy/policy.go ClusterRoleBindings().
inline constexpr std::array<std::string_view, 13> kBootstrapClusterRoleBindings = {
    "cluster-admin", "system:basic-user", "system:cluster-trust-bundle-discovery",
    "system:discovery", "system:kube-controller-manager", "system:kube-dns",
    "system:kube-scheduler", "system:monitoring", "system:node",
    "system:node-proxier", "system:public-info-viewer", "system:service-account-issuer-discovery",
    "system:volume-scheduler"};

// bootstrappolicy/namespace_policy.go: Roles and RoleBindings in kube-system
// (and system:controller:bootstrap-signer in kube-public).
inline constexpr std::array<std::string_view, 7> kBootstrapNamespaced = {
    "extension-apiserver-authentication-reader",
    "system::extension-apiserver-authentication-reader",
    "system::leader-locking-kube-controller-manager", "system::leader-locking-kube-scheduler",
    "system:controller:bootstrap-signer", "system:controller:cloud-provider",
    "system:controller:token-cleaner"};

template <std::size_t N>
bool listed_in(const std::array<std::string_view, N>& list, std::string_view name) {
  return std::find(list.begin(), list.end(), name) != list.end();
}

// True for an object kube-apiserver's RBAC bootstrap policy creates.
inline bool is_bootstrap_rbac(std::string_view kind, std::string_view ns, std::string_view name) {
  constexpr std::string_view kController = "system:controller:";
  const bool controller_object = name.substr(0, kController.size()) == kController &&
                                 listed_in(kBootstrapControllers, name.substr(kController.size()));
  if (kind == "ClusterRole") return listed_in(kBootstrapClusterRoles, name) || controller_object;
  if (kind == "ClusterRoleBinding")
    return listed_in(kBootstrapClusterRoleBindings, name) || controller_object;
  if (kind == "Role" || kind == "RoleBinding") {
    if (ns == "kube-public") return name == "system:controller:bootstrap-signer";
    return ns == "kube-system" && listed_in(kBootstrapNamespaced, name);
  }
  return false;
}

}  // namespace kg::checks

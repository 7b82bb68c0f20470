// libFuzzer target for custom rules (--rules DIR): a rule.yaml is parsed,
// validated against its template's declared params and bound to a compiled
// check; a rule that loads is then run over objects of every common kind, so
// the compiled check meets the params it was given.
#include <cstddef>
#include <cstdint>
#include <string>

#include "catalog/catalog.hpp"
#include "engines/scan/scan.hpp"

namespace {

constexpr const char* kManifest = R"(apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop, labels: {app: web}, annotations: {owner: team}}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      hostNetwork: true
      volumes: [{name: data, hostPath: {path: /var/run/docker.sock}}]
      containers:
        - name: app
          image: registry.example.com/web:latest
          ports: [{containerPort: 8080}]
          env: [{name: PASSWORD, value: hunter2}]
          resources: {limits: {cpu: "2", memory: 1Gi}}
          securityContext: {privileged: true, runAsUser: 0, capabilities: {add: [NET_ADMIN]}}
          volumeMounts: [{name: data, mountPath: /data, subPath: x}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec: {type: NodePort, selector: {app: web}, ports: [{port: 80, targetPort: 8080}]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: admins}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects: [{kind: Group, name: "system:authenticated"}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, namespace: shop}
spec: {rules: [{host: shop.example.com}]}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg, namespace: shop}
data: {token: "AKIAIOSFODNN7EXAMPLE"}
---
apiVersion: v1
kind: Pod
metadata: {name: kube-apiserver-cp1, namespace: kube-system, labels: {component: kube-apiserver}}
spec:
  containers:
    - name: kube-apiserver
      image: registry.k8s.io/kube-apiserver:v1.19.3
      command: [kube-apiserver, --profiling, "--enable-admission-plugins=A,B", --token-auth-file, /t,
                "--feature-gates=X=true", --anonymous_auth=0, --audit-log-maxage=x]
    - name: etcd
      image: registry.k8s.io/etcd:3.5.0
      command: [sh, -c, "exec etcd -cert-file=/c --auto-tls; true"]
      env: [{name: ETCD_CLIENT_CERT_AUTH, value: "true"}]
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
kubernetesVersion: v1.30.0
apiServer: {extraArgs: [{name: profiling, value: "false"}, {name: authorization-mode, value: AlwaysAllow}]}
controllerManager: {extraArgs: {bind-address: 0.0.0.0}}
etcd: {local: {extraArgs: [{name: client-cert-auth}]}}
)";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  kg::Catalog catalog;
  std::vector<kg::InputError> errors;
  const kg::CatalogFile files[] = {{"custom/fuzz/rule.yaml", text}};
  catalog.add_files(files, errors);
  // A rule is either loaded or refused with a message.
  if (catalog.rules().empty() && errors.empty()) __builtin_trap();
  for (const auto& e : errors)
    if (e.message.empty()) __builtin_trap();
  for (const auto& rule : catalog.rules()) {
    kg::ScanOptions options;
    options.only = {rule->id};  // naming the rule turns it on even when off by default
    const kg::Scanner scanner(catalog, options);
    kg::ScanResult r = scanner.scan_buffer("fuzz.yaml", kManifest);
    for (const auto& f : r.findings)
      if (!f.rule) __builtin_trap();
  }
  return 0;
}

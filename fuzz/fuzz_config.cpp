// libFuzzer target for the user's configuration file (.kguard.yaml, --config):
// the loader's validation of podTemplatePaths, rule overrides (params merged
// over a rule's own), exemptions and dates; then a scan built with the config,
// so the overrides and exemptions are bound and applied, not only parsed.
#include <cstddef>
#include <cstdint>
#include <string>

#include "config/config.hpp"
#include "engines/scan/scan.hpp"
#include "memfile.hpp"

namespace {

// One object of each shape the config can aim at: a workload (pod template
// paths, container exemptions), a namespaced Role and a cluster-scoped object.
constexpr const char* kManifest = R"(apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop, labels: {app: web}}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      hostNetwork: true
      containers:
        - name: app
          image: registry.example.com/web:latest
          securityContext: {privileged: true}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: all, namespace: shop}
rules: [{apiGroups: ["*"], resources: ["*"], verbs: ["*"]}]
---
apiVersion: v1
kind: Namespace
metadata: {name: shop}
)";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static MemFile file("kguard.yaml");
  std::vector<kg::InputError> errors;
  auto config = kg::load_config(file.write(data, size), errors);
  // Either a config or at least one error, and every error says what is wrong.
  if (!config && errors.empty()) __builtin_trap();
  for (const auto& e : errors)
    if (e.message.empty()) __builtin_trap();
  if (!config) return 0;
  kg::ScanOptions options;
  options.today = "2026-01-01";  // exemption expiry must not depend on the day the fuzzer runs
  config->apply(options);
  const kg::Scanner scanner(kg::Catalog::builtin(), options);
  kg::ScanResult r = scanner.scan_buffer("fuzz.yaml", kManifest);
  for (const auto& e : r.errors)
    if (e.message.empty()) __builtin_trap();
  for (const auto& f : r.findings)
    if (!f.rule) __builtin_trap();
  return 0;
}

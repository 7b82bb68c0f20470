// Where the admission engine learns a namespace's labels. Two sources plug
// in behind one interface: the config file's `admission.namespaces` (when
// kguard runs without API access) and a cache of Namespace objects kept
// current by a watch against the API server (sources/kube, with resync and
// reconnection). The engine only ever asks for one namespace's labels.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "core/inventory.hpp"

namespace kg::admit {

class NamespaceSource {
 public:
  virtual ~NamespaceSource() = default;
  // The labels of namespace `name`; nullopt when they cannot be known now
  // (cache not synced, API unreachable). Pods are then denied and workloads
  // allowed with an error annotation, as PSA does on a lookup error.
  virtual std::optional<Labels> labels(std::string_view name) const = 0;
  // False until the source can answer (the watch cache has synced); /readyz.
  virtual bool ready() const = 0;
  virtual std::string describe() const = 0;
};

// Labels from the config file. A namespace it does not list has no labels,
// so the configured defaults apply to it.
class ConfigNamespaceSource final : public NamespaceSource {
 public:
  explicit ConfigNamespaceSource(std::map<std::string, Labels, std::less<>> namespaces)
      : namespaces_(std::move(namespaces)) {}
  std::optional<Labels> labels(std::string_view name) const override {
    auto it = namespaces_.find(name);
    return it == namespaces_.end() ? Labels{} : it->second;
  }
  bool ready() const override { return true; }
  std::string describe() const override { return "config"; }

 private:
  std::map<std::string, Labels, std::less<>> namespaces_;
};

}  // namespace kg::admit

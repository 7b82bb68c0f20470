// Kubernetes objects over the document model: identity, List unwrapping,
// the pod template of every workload kind, the container iterator and the
// effective security context.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/document.hpp"

namespace kg {

struct Object {
  const Node* root = nullptr;
  const SourceFile* file = nullptr;
  std::string_view api_version;
  std::string_view kind;
  std::string_view ns;  // empty when unset (namespaced objects default at apply time)
  std::string_view name;
  std::uint32_t line = 0;  // where the object starts
  std::uint32_t column = 0;
  // JSON-path-like prefix of the object inside its document: "" for a
  // top-level object, "items[3]" for an element of a List.
  std::string path_prefix;

  std::string_view group() const;  // "apps" for apps/v1, "" for v1
  // "Deployment/shop/web" style display name.
  std::string display() const;
};

// Splits documents into objects, unwrapping `kind: List` and `*List`
// envelopes (recursively). A document that is not an object (no kind)
// becomes an InputError in `errors`.
void collect_objects(const SourceFile& file, const Document& doc, std::vector<Object>& out,
                     std::vector<InputError>& errors);

// Where the pod template lives for each workload kind. Paths are dot-joined
// field names from the object root to the PodTemplateSpec ("" = the object is
// itself pod-shaped, i.e. a Pod). Extendable for CRDs (Argo Rollout, OpenShift
// DeploymentConfig) through the config file.
class PodSpecTable {
 public:
  PodSpecTable();  // the built-in kinds
  void set(std::string kind, std::string template_path) {
    paths_[std::move(kind)] = std::move(template_path);
  }
  // nullptr when the kind carries no pod template.
  const std::string* find(std::string_view kind) const;
  std::vector<std::string> kinds() const;

 private:
  std::map<std::string, std::string, std::less<>> paths_;
};

// The pod template of a workload: its metadata and spec, and the field
// paths that findings use to point at them.
struct PodView {
  const Node* meta = nullptr;  // pod (template) metadata; may be null
  const Node* spec = nullptr;  // PodSpec; never null in a valid view
  std::string meta_path;       // e.g. "spec.template.metadata"
  std::string spec_path;       // e.g. "spec.template.spec"
  explicit operator bool() const { return spec != nullptr; }
};

PodView pod_view(const Object& obj, const PodSpecTable& table);

enum class ContainerKind : std::uint8_t { Container, Init, Ephemeral };

struct ContainerRef {
  const Node* node;
  ContainerKind kind;
  std::size_t index;
  std::string_view name;
  std::string path;  // e.g. "spec.template.spec.initContainers[0]"
};

// initContainers, containers, ephemeralContainers (the order PSS visits them).
std::vector<ContainerRef> containers_of(const PodView& pod);

std::string_view container_kind_field(ContainerKind k);

// The effective value of a field that exists at both pod and container
// level (runAsUser, runAsGroup, runAsNonRoot, seLinuxOptions, seccompProfile,
// appArmorProfile, windowsOptions): the container's when set, else the pod's.
struct Effective {
  const Node* value = nullptr;
  std::string path;  // path of the node that supplied it, or where it belongs
  bool from_pod = false;
};
Effective effective_security_field(const PodView& pod, const ContainerRef& c,
                                   std::string_view field);

// Joins field paths: join("a.b", "c") == "a.b.c", join("", "c") == "c".
std::string join_path(std::string_view base, std::string_view field);
std::string index_path(std::string_view base, std::size_t i);
// "spec.template.spec" → {"spec", "template", "spec"}.
std::vector<std::string> split_field_path(std::string_view path);

}  // namespace kg

#include "checks/workload_util.hpp"

#include "checks/check_util.hpp"

#include "core/inventory.hpp"

#include <cctype>

namespace kg::workload {

bool container_kinds_param(const Params& params, std::vector<ContainerKind>& kinds,
                           std::string& error) {
  return params.container_kinds(kinds, error);
}

bool selected(const std::vector<ContainerKind>& kinds, ContainerKind k) {
  return std::find(kinds.begin(), kinds.end(), k) != kinds.end();
}

// One wording everywhere: `init container "x"`, `ephemeral container "x"`, `container "x"`.
std::string who(const ContainerRef& c) { return checks::describe(c); }

Violation container_violation(const ContainerRef& c, std::string message, const Node* at,
                              std::string path) {
  return {std::move(message), at ? at : c.node, std::move(path), std::string(c.name)};
}

Outcome outcome(bool evaluated, const std::vector<Violation>& out) {
  if (!out.empty()) return Outcome::Fail;
  return evaluated ? Outcome::Pass : Outcome::NotApplicable;
}

bool selector_matches(const Node* selector, const Node* labels) {
  // The core matcher, so every rule agrees with the set-level checks.
  if (!selector || !selector->is_map()) return false;
  return read_selector(selector).matches(read_labels(labels));
}

ImageName parse_image_name(std::string_view image) {
  ImageName r;
  if (auto at = image.find('@'); at != std::string_view::npos) {
    r.digest = std::string(image.substr(at + 1));
    image = image.substr(0, at);
  }
  auto last_slash = image.rfind('/');
  auto colon = image.rfind(':');
  if (colon != std::string_view::npos && (last_slash == std::string_view::npos || colon > last_slash)) {
    r.tag = std::string(image.substr(colon + 1));
    image = image.substr(0, colon);
  }
  auto slash = image.find('/');
  std::string_view first = slash == std::string_view::npos ? std::string_view{} : image.substr(0, slash);
  if (!first.empty() && (first.find('.') != std::string_view::npos ||
                         first.find(':') != std::string_view::npos || first == "localhost")) {
    for (char ch : first) r.registry.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(ch))));
    r.repository = std::string(image.substr(slash + 1));
  } else {
    r.registry = "docker.io";
    r.repository = slash == std::string_view::npos ? "library/" + std::string(image) : std::string(image);
  }
  if (r.registry == "index.docker.io" || r.registry == "registry-1.docker.io") r.registry = "docker.io";
  return r;
}

bool has_replicas(std::string_view kind) {
  static constexpr std::string_view kKinds[] = {"Deployment", "StatefulSet", "ReplicaSet",
                                                "ReplicationController", "Rollout",
                                                "DeploymentConfig"};
  return std::find(std::begin(kKinds), std::end(kKinds), kind) != std::end(kKinds);
}

std::optional<std::int64_t> replicas_of(const Object& obj) {
  const Node* r = get(get(obj.root, "spec"), "replicas");
  if (!r || r->is_null()) return 1;
  return r->as_int();
}

std::optional<IntOrString> int_or_string(const Node* n) {
  if (!n || !n->is_scalar() || n->is_null()) return std::nullopt;
  IntOrString v;
  v.text = n->text();
  if (auto i = n->as_int()) {
    v.is_int = true;
    v.number = *i;
  }
  return v;
}

}  // namespace kg::workload

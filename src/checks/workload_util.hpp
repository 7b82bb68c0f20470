// Helpers shared by the workload check templates (workload_*.cpp): container
// selection, label selectors, image references and replica counts.
#pragma once

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "checks/registry.hpp"

namespace kg::workload {

// Parses a `containers` parameter (containers, initContainers,
// ephemeralContainers) into `kinds`; keeps `kinds` when the parameter is absent.
bool container_kinds_param(const Params& params, std::vector<ContainerKind>& kinds,
                           std::string& error);

bool selected(const std::vector<ContainerKind>& kinds, ContainerKind k);

std::string who(const ContainerRef& c);

Violation container_violation(const ContainerRef& c, std::string message, const Node* at,
                              std::string path);

// Outcome from the violations found and whether anything was evaluated.
Outcome outcome(bool evaluated, const std::vector<Violation>& out);

// Does a metav1.LabelSelector (matchLabels + matchExpressions) select these
// labels? A null selector selects nothing; an empty one selects everything.
bool selector_matches(const Node* selector, const Node* labels);

// A reference to an image, split the way the container runtime resolves it.
struct ImageName {
  std::string registry;    // lower-case host, "docker.io" when implicit
  std::string repository;  // path without registry, "library/nginx" for "nginx"
  std::string tag;         // empty when absent
  std::string digest;      // empty when absent
  std::string canonical() const { return registry + "/" + repository; }
};
ImageName parse_image_name(std::string_view image);

// spec.replicas with its API default of 1; nullopt when not an integer.
std::optional<std::int64_t> replicas_of(const Object& obj);

// Kinds whose spec.replicas is a replica count of a pod template.
bool has_replicas(std::string_view kind);

// Integer or string scalar of an IntOrString field.
struct IntOrString {
  bool is_int = false;
  std::int64_t number = 0;
  std::string_view text;
};
std::optional<IntOrString> int_or_string(const Node* n);

}  // namespace kg::workload

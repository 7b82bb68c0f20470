// Small helpers shared by the check templates' messages and field tests.
#pragma once

#include <string>
#include <string_view>

#include "core/object.hpp"

namespace kg::checks {

// Set and not an explicit null.
inline bool present(const Node* n) { return n && !n->is_null(); }

inline bool starts_with(std::string_view s, std::string_view p) {
  return s.substr(0, p.size()) == p;
}

// `namespace "shop"`; a manifest without metadata.namespace goes to whatever
// namespace it is applied to, so it is not called `namespace ""`.
inline std::string namespace_phrase(std::string_view ns) {
  if (ns.empty()) return "the namespace it is applied to (metadata.namespace unset)";
  std::string s = "namespace \"";
  s += ns;
  s += '"';
  return s;
}

inline std::string quote(std::string_view s) {
  std::string q = "\"";
  q += s;
  q += '"';
  return q;
}

// The same words from a container's field path, for facts that keep the
// path but not the kind (`spec.initContainers[0].env[1]` → init container).
inline std::string describe_container(std::string_view name, std::string_view path) {
  std::string_view what = path.find("initContainers[") != std::string_view::npos ? "init container "
                          : path.find("ephemeralContainers[") != std::string_view::npos
                              ? "ephemeral container "
                              : "container ";
  std::string s(what);
  s += '"';
  s += name;
  s += '"';
  return s;
}

// `init container "migrate"`, as the messages name containers.
inline std::string describe(const ContainerRef& c) {
  std::string_view what = c.kind == ContainerKind::Init        ? "init container "
                          : c.kind == ContainerKind::Ephemeral ? "ephemeral container "
                                                               : "container ";
  return std::string(what) + quote(c.name);
}

}  // namespace kg::checks

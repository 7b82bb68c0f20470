#include "core/cluster_json.hpp"

namespace kg {

void write_cluster_facts(JsonWriter& w, const ClusterInfo& c) {
  auto count = [&](std::string_view k, const std::optional<std::uint64_t>& v) {
    w.key(k);
    if (v) w.value(*v);
    else w.null();
  };
  w.field("server", c.server).field("context", c.context).field("serverVersion", c.server_version);
  w.field("readAt", c.read_at);
  w.key("namespaces").begin_array();
  for (const std::string& n : c.namespaces) w.value(n);
  w.end_array();
  count("nodes", c.nodes);
  count("namespaceCount", c.namespace_count);
  count("pods", c.pods);
  w.key("kindsNotServed").begin_array();
  for (const std::string& k : c.kinds_not_served) w.value(k);
  w.end_array();
}

void write_coverage_gap(JsonWriter& w, const CoverageGap& g) {
  w.begin_object()
      .field("kind", g.kind)
      .field("apiVersion", g.api_version)
      .field("resource", g.resource)
      .field("namespace", g.ns)
      .field("reason", g.reason)
      .field("message", g.message);
  w.key("rules").begin_array();
  for (const std::string& r : g.rules) w.value(r);
  w.end_array().end_object();
}

}  // namespace kg

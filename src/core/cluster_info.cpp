#include "core/cluster_info.hpp"

namespace kg {

std::optional<int> kubernetes_minor(std::string_view v) {
  if (!v.empty() && v.front() == 'v') v.remove_prefix(1);
  if (v.substr(0, 2) != "1.") return std::nullopt;
  v.remove_prefix(2);
  int minor = 0;
  std::size_t digits = 0;
  for (char c : v) {
    if (c < '0' || c > '9') break;
    minor = minor * 10 + (c - '0');
    if (++digits > 3) return std::nullopt;
  }
  if (digits == 0) return std::nullopt;
  return minor;
}

ClusterInfo parse_cluster_info(const std::string& file, const Node& s,
                               std::vector<InputError>& errors) {
  ClusterInfo c;
  c.file = file;
  c.line = s.line;
  c.column = s.column;
  auto bad = [&](const Node* at, const std::string& msg) {
    errors.push_back({file, at ? at->line : s.line, at ? at->column : s.column,
                      "kguardSnapshot: " + msg});
  };
  if (!s.is_map()) {
    bad(&s, "must be a mapping");
    return c;
  }
  auto text = [&](const Node* parent, std::string_view key) {
    const Node* n = get(parent, key);
    if (n && !n->is_null() && !n->is_scalar()) bad(n, std::string(key) + " must be a string");
    return std::string(str(n));
  };
  auto count = [&](std::string_view key) -> std::optional<std::uint64_t> {
    const Node* n = get(&s, key);
    if (!n || n->is_null()) return std::nullopt;
    auto v = n->as_int();
    if (!v || *v < 0) {
      bad(n, std::string(key) + " must be a count or null");
      return std::nullopt;
    }
    return static_cast<std::uint64_t>(*v);
  };
  auto strings = [&](const Node* n, std::string_view key) {
    std::vector<std::string> out;
    if (n && !n->is_null() && !n->is_seq()) bad(n, std::string(key) + " must be a list");
    for (const Node* i : items(n)) out.emplace_back(str(i));
    return out;
  };
  c.server = text(&s, "server");
  c.context = text(&s, "context");
  c.server_version = text(&s, "serverVersion");
  c.read_at = text(&s, "readAt");
  c.namespaces = strings(get(&s, "namespaces"), "namespaces");
  c.nodes = count("nodes");
  c.namespace_count = count("namespaceCount");
  c.pods = count("pods");
  c.kinds_not_served = strings(get(&s, "kindsNotServed"), "kindsNotServed");
  const Node* cov = get(&s, "coverage");
  if (cov && !cov->is_null() && !cov->is_seq()) bad(cov, "coverage must be a list");
  for (const Node* g : items(cov)) {
    CoverageGap gap;
    gap.kind = text(g, "kind");
    gap.api_version = text(g, "apiVersion");
    gap.resource = text(g, "resource");
    gap.ns = text(g, "namespace");
    gap.reason = text(g, "reason");
    gap.message = text(g, "message");
    gap.rules = strings(get(g, "rules"), "rules");
    if (gap.kind.empty()) bad(g, "coverage entries need a kind");
    c.coverage.push_back(std::move(gap));
  }
  return c;
}

}  // namespace kg

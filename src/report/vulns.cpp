#include "report/vulns.hpp"

#include <cstdio>

#include "core/json_writer.hpp"

namespace kg {

VulnCounts count_vulns(const ImageVulnerabilities& iv) {
  VulnCounts c;
  for (const VulnMatch& m : iv.matches) {
    if (m.suppressed) {
      ++c.suppressed;
      continue;
    }
    ++c.open;
    ++c.by_severity[static_cast<std::size_t>(m.severity)];
  }
  return c;
}

std::vector<const ImageUse*> image_users(const EngineResult& r, std::string_view reference) {
  std::vector<const ImageUse*> out;
  for (const ImageUse& u : r.image_uses)
    if (u.image == reference) out.push_back(&u);
  return out;
}

std::string fixed_text(const VulnMatch& m, Lang lang) {
  switch (m.fix) {
    case FixState::Fixed: return m.fixed_version;
    case FixState::WontFix: return std::string(tr(lang, "won't fix"));
    case FixState::Unfixed: break;
  }
  return std::string(tr(lang, "none yet"));
}

std::string why_text(const VulnMatch& m) {
  std::string s = m.range;
  std::string source = m.feed;
  if (!m.ns.empty()) source += (source.empty() ? "" : " ") + m.ns;
  if (!source.empty()) s += (s.empty() ? "" : "; ") + source;
  return s;
}

std::string decimal(double v) {
  if (v < 0) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

std::string user_text(const ImageUse& u, Lang lang) {
  std::string s = u.kind + " " + (u.ns.empty() ? "" : u.ns + "/") + u.name;
  if (!u.container.empty()) s += " (" + std::string(tr(lang, "Container")) + " " + u.container + ")";
  return s;
}

void write_vulnerabilities_json(JsonWriter& w, const ImageVulnerabilities& iv, const std::vector<ImageUse>& uses) {
  w.begin_object()
      .field("image", iv.reference)
      .field("manifestDigest", iv.manifest_digest)
      .field("os", iv.os)
      .field("dbBuiltAt", iv.db_built_at);
  w.key("usedBy").begin_array();
  for (const ImageUse& u : uses) {
    if (u.image != iv.reference) continue;
    w.begin_object().field("kind", u.kind);
    if (!u.ns.empty()) w.field("namespace", u.ns);
    w.field("name", u.name).field("container", u.container).end_object();
  }
  w.end_array();
  w.key("notes").begin_array();
  for (const std::string& n : iv.notes) w.value(n);
  w.end_array();
  w.key("matches").begin_array();
  for (const VulnMatch& v : iv.matches) {
    w.begin_object().field("id", v.id);
    w.key("aliases").begin_array();
    for (const std::string& a : v.aliases) w.value(a);
    w.end_array();
    w.field("summary", v.summary);
    w.key("package")
        .begin_object()
        .field("index", static_cast<std::uint64_t>(v.package))
        .field("name", v.package_name)
        .field("version", v.installed_version)
        .field("purl", v.purl)
        .end_object();
    w.field("namespace", v.ns)
        .field("matchedName", v.matched_name)
        .field("scheme", v.scheme)
        .field("feed", v.feed)
        .field("range", v.range)
        .field("fix", to_string(v.fix))
        .field("fixedVersion", v.fixed_version)
        .field("severity", to_string(v.severity))
        .field("severitySource", v.severity_source);
    if (v.cvss_score >= 0) {
      w.key("cvss").begin_object().field("score", v.cvss_score).field("vector", v.cvss_vector).end_object();
    } else {
      w.key("cvss").null();
    }
    w.field("kev", v.kev);
    if (v.epss >= 0) {
      w.field("epss", v.epss);
    } else {
      w.key("epss").null();
    }
    w.field("risk", v.risk).field("suppressed", v.suppressed);
    if (v.suppressed)
      w.key("suppression").begin_object().field("by", v.suppressed_by).field("reason", v.suppress_reason).end_object();
    w.end_object();
  }
  w.end_array();
  w.end_object();
}

}  // namespace kg

#include "report/vulns.hpp"

#include <cstdio>

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

}  // namespace kg

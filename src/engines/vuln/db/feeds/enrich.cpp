// Enrichment that is not a feed of its own: CISA's Known Exploited
// Vulnerabilities catalog (JSON) and FIRST's EPSS scores (CSV). Both mark
// advisories already in the database, by id or alias.
#include <charconv>
#include <cmath>

#include "engines/vuln/db/feeds/feeds.hpp"

namespace kg::vuln {

bool parse_kev_text(std::string_view name, std::string_view text, const std::function<void(std::string_view)>& fn,
                    std::string* error) {
  feed::Parsed p;
  feed::parse(p, name, text, false);
  if (p.root == nullptr) {
    if (error) *error = p.error;
    return false;
  }
  const Node* list = get(p.root, "vulnerabilities");
  if (list == nullptr || !list->is_seq()) {
    if (error) *error = std::string(name) + ": vulnerabilities: missing or not a list; not a KEV catalog";
    return false;
  }
  for (const Node* v : list->items()) {
    const std::string id = feed::text(get(v, "cveID"));
    if (!id.empty()) fn(id);
  }
  return true;
}

bool parse_epss_text(std::string_view name, std::string_view text,
                     const std::function<void(std::string_view, double)>& fn, std::string* error) {
  std::size_t pos = 0, line_no = 0;
  bool header = false;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line.front() == '#') continue;  // "#model_version:…,score_date:…"
    const std::size_t c1 = line.find(',');
    if (c1 == std::string_view::npos) {
      if (error) *error = std::string(name) + ":" + std::to_string(line_no) + ": not a CSV line (cve,epss,percentile)";
      return false;
    }
    const std::string_view cve = line.substr(0, c1);
    std::string_view score = line.substr(c1 + 1);
    score = score.substr(0, score.find(','));
    if (!header) {
      header = true;
      if (cve == "cve") continue;
    }
    double v = 0;
    const auto [p, ec] = std::from_chars(score.data(), score.data() + score.size(), v);
    if (ec != std::errc{} || p != score.data() + score.size() || !std::isfinite(v) || v < 0 || v > 1) {
      if (error)
        *error = std::string(name) + ":" + std::to_string(line_no) + ": epss: '" + std::string(score) +
                 "' is not a probability between 0 and 1";
      return false;
    }
    fn(cve, v);
  }
  if (!header) {
    if (error) *error = std::string(name) + ": no EPSS rows";
    return false;
  }
  return true;
}

bool apply_kev(const std::string& path, DbWriter& db, std::uint64_t* count, std::string* error) {
  std::string bytes;
  if (!feed::read(path, bytes, error)) return false;
  std::uint64_t n = 0;
  const bool ok = parse_kev_text(path, bytes, [&](std::string_view id) {
    db.set_kev(id);
    ++n;
  }, error);
  if (count) *count = n;
  return ok;
}

bool apply_epss(const std::string& path, DbWriter& db, std::uint64_t* count, std::string* error) {
  std::string bytes;
  if (!feed::read(path, bytes, error)) return false;
  std::uint64_t n = 0;
  const bool ok = parse_epss_text(path, bytes, [&](std::string_view id, double v) {
    db.set_epss(id, v);
    ++n;
  }, error);
  if (count) *count = n;
  return ok;
}

}  // namespace kg::vuln

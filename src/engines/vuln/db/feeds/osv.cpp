// OSV JSON records (https://ossf.github.io/osv-schema/) into the database's
// records: one AffectedRecord per (namespace, package) of `affected[]`, its
// ECOSYSTEM and SEMVER ranges and explicit `versions` kept as they are (GIT
// ranges name commits, which an image inventory never has), one Advisory per
// record. Withdrawn records are skipped.
#include <algorithm>
#include <cctype>

#include "core/ascii.hpp"
#include "engines/vuln/db/feeds/feeds.hpp"
#include "engines/vuln/db/feeds/zip.hpp"

namespace kg::vuln {
namespace {

bool is_release(std::string_view s) {  // "12", "22.04", "3.19"
  if (s.empty() || !std::isdigit(static_cast<unsigned char>(s.front()))) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)) || c == '.'; });
}

// The ecosystem's parts: "Ubuntu:Pro:22.04:LTS" → {Ubuntu, Pro, 22.04, LTS}.
std::vector<std::string_view> split_colon(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == ':') {
      out.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  return out;
}

// The first line of `details`, shortened on a UTF-8 boundary: a summary for records that have none.
std::string short_summary(std::string_view details) {
  std::string_view s = details.substr(0, details.find('\n'));
  constexpr std::size_t kMax = 200;
  if (s.size() <= kMax) return std::string(s);
  std::size_t cut = kMax;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  return std::string(s.substr(0, cut)) + "…";
}

std::string severity_of(const Node* specific) {
  const Node* sev = get(specific, "severity");
  if (sev && sev->is_scalar()) return std::string(sev->text());
  return {};
}

}  // namespace

std::string pep503_name(std::string_view name) {
  std::string out;
  out.reserve(name.size());
  bool sep = false;
  for (char c : name) {
    if (c == '-' || c == '_' || c == '.') {
      sep = true;
      continue;
    }
    if (sep && !out.empty()) out.push_back('-');
    sep = false;
    out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  return out;
}

bool osv_namespace(std::string_view ecosystem, std::string& ns, VersionScheme& scheme) {
  const std::vector<std::string_view> parts = split_colon(ecosystem);
  const std::string head = ascii_lower(parts.front());
  // Root.io's patched distribution packages ("Root:Debian:12") live in the distribution's namespace.
  if (head == "root" && parts.size() > 1) return osv_namespace(ecosystem.substr(5), ns, scheme);
  auto release = [&]() -> std::string {
    for (std::size_t i = 1; i < parts.size(); ++i) {
      std::string_view p = parts[i];
      if (!p.empty() && (p.front() == 'v' || p.front() == 'V')) p.remove_prefix(1);
      if (is_release(p)) return std::string(p);
    }
    return {};
  };
  struct Lang {
    std::string_view name, ns;
    VersionScheme scheme;
  };
  static constexpr Lang kLangs[] = {
      {"npm", "npm", VersionScheme::Semver},         {"pypi", "pypi", VersionScheme::Pep440},
      {"go", "go", VersionScheme::Go},               {"maven", "maven", VersionScheme::Maven},
      {"rubygems", "rubygems", VersionScheme::RubyGems}, {"crates.io", "crates.io", VersionScheme::Semver},
      {"nuget", "nuget", VersionScheme::Semver},
  };
  if (parts.size() == 1) {
    for (const Lang& l : kLangs) {
      if (head == l.name) {
        ns = l.ns;
        scheme = l.scheme;
        return true;
      }
    }
    // Rolling distributions have no release.
    if (head == "wolfi" || head == "chainguard") {
      ns = head + ":rolling";
      scheme = VersionScheme::Apk;
      return true;
    }
    return false;
  }
  const std::string rel = release();
  if (rel.empty()) return false;
  if (head == "debian") {
    ns = "debian:" + rel;
    scheme = VersionScheme::Dpkg;
  } else if (head == "ubuntu") {
    ns = "ubuntu:" + rel;
    scheme = VersionScheme::Dpkg;
  } else if (head == "alpine") {
    // The matcher picks apk or apk2 by the image's release; the record keeps Apk.
    ns = "alpine:" + rel;
    scheme = VersionScheme::Apk;
  } else if (head == "rocky linux") {
    ns = "rocky:" + rel;
    scheme = VersionScheme::Rpm;
  } else if (head == "almalinux") {
    ns = "almalinux:" + rel;
    scheme = VersionScheme::Rpm;
  } else {
    return false;
  }
  return true;
}

void parse_osv_node(std::string_view name, const Node* root, std::string_view feed, FeedSink& sink) {
  const std::string where(name);
  if (root == nullptr || !root->is_map()) {
    sink.error(where + ": not an OSV record (the document is not a JSON object)");
    return;
  }
  const std::string id = feed::text(get(root, "id"));
  if (id.empty()) {
    sink.error(where + ": id: missing; record skipped");
    return;
  }
  if (!feed::text(get(root, "withdrawn")).empty()) return;

  Advisory adv;
  adv.id = id;
  adv.feed = std::string(feed);
  for (const char* key : {"aliases", "upstream"}) {
    for (const Node* a : items(get(root, key))) {
      std::string alias = feed::text(a);
      if (!alias.empty() && alias != id && std::find(adv.aliases.begin(), adv.aliases.end(), alias) == adv.aliases.end())
        adv.aliases.push_back(std::move(alias));
    }
  }
  adv.summary = feed::text(get(root, "summary"));
  if (adv.summary.empty()) adv.summary = short_summary(feed::text(get(root, "details")));
  adv.published = feed::text(get(root, "published"));
  adv.modified = feed::text(get(root, "modified"));
  adv.severity = severity_of(get(root, "database_specific"));
  std::string ubuntu_priority;
  for (const Node* s : items(get(root, "severity"))) {
    const std::string type = feed::text(get(s, "type"));
    const std::string score = feed::text(get(s, "score"));
    if (type == "CVSS_V3" && adv.cvss_v3.empty()) adv.cvss_v3 = score;
    else if (type == "CVSS_V4" && adv.cvss_v4.empty()) adv.cvss_v4 = score;
    else if (type == "Ubuntu") ubuntu_priority = score;
  }
  if (adv.severity.empty()) adv.severity = ubuntu_priority;
  for (const Node* r : items(get(root, "references"))) {
    if (adv.references.size() >= 8) break;  // the advisory link is first; the rest is for reading upstream
    std::string url = feed::text(get(r, "url"));
    if (!url.empty()) adv.references.push_back(std::move(url));
  }

  std::size_t index = 0;
  for (const Node* aff : items(get(root, "affected"))) {
    const std::string at = where + ": affected[" + std::to_string(index++) + "]";
    const Node* pkg = get(aff, "package");
    const std::string ecosystem = feed::text(get(pkg, "ecosystem"));
    std::string package = feed::text(get(pkg, "name"));
    if (ecosystem.empty() || package.empty()) {
      // A record of GIT ranges only names a repository, not a package: nothing to match.
      if (pkg != nullptr) sink.error(at + ".package: ecosystem and name are required; entry skipped");
      continue;
    }
    AffectedRecord rec;
    if (!osv_namespace(ecosystem, rec.ns, rec.scheme)) continue;  // an ecosystem kguard does not match
    if (rec.ns == "pypi") package = pep503_name(package);
    rec.vuln_id = id;
    rec.package = std::move(package);
    rec.feed = std::string(feed);
    std::size_t ri = 0;
    bool bad = false;
    for (const Node* range : items(get(aff, "ranges"))) {
      const std::string type = feed::text(get(range, "type"));
      const std::string rat = at + ".ranges[" + std::to_string(ri++) + "]";
      if (type == "GIT") continue;
      if (type != "ECOSYSTEM" && type != "SEMVER") {
        sink.error(rat + ".type: '" + type + "' is not ECOSYSTEM, SEMVER or GIT; range skipped");
        continue;
      }
      AffectedRange out;
      out.type = type;
      for (const Node* ev : items(get(range, "events"))) {
        for (const MapEntry& kv : entries(ev)) {
          const std::string_view k = kv.key->text();
          RangeEvent e;
          if (k == "introduced") e.kind = RangeEvent::Kind::Introduced;
          else if (k == "fixed") e.kind = RangeEvent::Kind::Fixed;
          else if (k == "last_affected") e.kind = RangeEvent::Kind::LastAffected;
          else if (k == "limit") e.kind = RangeEvent::Kind::Limit;
          else continue;
          e.version = feed::text(kv.value);
          if (e.version.empty()) {
            sink.error(rat + ".events: '" + std::string(k) + "' has no version; range skipped");
            bad = true;
            break;
          }
          out.events.push_back(std::move(e));
        }
        if (bad) break;
      }
      if (bad) {
        bad = false;
        continue;
      }
      if (out.events.empty()) {
        sink.error(rat + ".events: empty; range skipped");
        continue;
      }
      rec.ranges.push_back(std::move(out));
    }
    for (const Node* v : items(get(aff, "versions"))) {
      std::string s = feed::text(v);
      if (!s.empty()) rec.versions.push_back(std::move(s));
    }
    if (rec.ranges.empty() && rec.versions.empty()) continue;  // only GIT ranges: nothing to place a version in
    rec.severity = severity_of(get(aff, "ecosystem_specific"));
    // Debian's OSV records carry the tracker's urgency there.
    if (rec.severity.empty()) rec.severity = feed::text(get(get(aff, "ecosystem_specific"), "urgency"));
    if (rec.severity.empty()) rec.severity = severity_of(get(aff, "database_specific"));
    sink.affected(std::move(rec));
  }
  sink.advisory(std::move(adv));
}

void parse_osv_text(std::string_view name, std::string_view text, std::string_view feed, FeedSink& sink) {
  feed::Parsed p;
  feed::parse(p, name, text, false);
  if (p.root == nullptr) {
    sink.error(p.error);
    return;
  }
  parse_osv_node(name, p.root, feed, sink);
}

namespace {

void read_zip(const std::string& path, FeedSink& sink) {
  std::string error;
  auto zip = ZipReader::open_file(path, &error);
  if (!zip) {
    sink.error(error);
    return;
  }
  std::string bytes;
  for (const ZipReader::Entry& e : zip->entries()) {
    if (e.name.size() < 5 || e.name.compare(e.name.size() - 5, 5, ".json") != 0) continue;
    if (!zip->read(e, bytes, &error)) {
      sink.error(error);
      continue;
    }
    parse_osv_text(path + ":" + e.name, bytes, "osv", sink);
  }
}

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

// A folder may hold records, per-ecosystem all.zip dumps (osv.dev's bucket
// layout: ECOSYSTEM/all.zip), or both.
bool build_osv(const std::string& path, FeedSink& sink) {
  std::string error;
  const std::vector<std::string> files = feed::list_files(path, {".json", ".zip"}, &error);
  if (!error.empty()) sink.error(error);
  if (files.empty() && !error.empty()) return false;
  std::string bytes;
  for (const std::string& f : files) {
    if (ends_with(f, ".zip")) {
      read_zip(f, sink);
      continue;
    }
    if (!feed::read(f, bytes, &error)) {
      sink.error(error);
      continue;
    }
    parse_osv_text(f, bytes, "osv", sink);
  }
  return true;
}

}  // namespace kg::vuln

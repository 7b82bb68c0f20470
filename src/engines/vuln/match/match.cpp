// The matcher: one database lookup per (namespace, name), every record
// evaluated, then one finding per vulnerability.
#include "engines/vuln/match/match.hpp"

#include <algorithm>
#include <cctype>
#include <unordered_map>
#include <unordered_set>

#include "engines/vuln/score/risk.hpp"

namespace kg::vuln {
namespace {

using AdvisoryCache = std::unordered_map<std::string, std::optional<Advisory>>;

const Advisory* advisory_of(const std::string& id, const VulnDatabase& db, AdvisoryCache& cache) {
  auto it = cache.find(id);
  if (it == cache.end()) it = cache.emplace(id, db.advisory(id)).first;
  return it->second ? &*it->second : nullptr;
}

bool is_cve(std::string_view id) { return id.substr(0, 4) == "CVE-"; }

// Aggregated feeds (OSV) repeat what the distribution says of its own
// packages; the distribution's record decides. Language namespaces have no
// distribution.
bool distro_feed(std::string_view feed) { return feed != "osv" && feed.substr(0, 4) != "osv:"; }

struct Candidate {
  std::string id;
  std::string feed;
  std::string severity;  // the record's vendor severity
  RecordVerdict verdict;
  std::vector<std::string> ids;  // id and its advisory's aliases
  std::size_t group = 0;
};

std::size_t find_root(std::vector<std::size_t>& parent, std::size_t i) {
  while (parent[i] != i) i = parent[i] = parent[parent[i]];
  return i;
}

// Winner of a group: the distribution's record, then one with a fix, then the
// lowest id (deterministic).
bool better(const Candidate& a, const Candidate& b) {
  if (distro_feed(a.feed) != distro_feed(b.feed)) return distro_feed(a.feed);
  const bool fa = a.verdict.fix == FixState::Fixed;
  const bool fb = b.verdict.fix == FixState::Fixed;
  if (fa != fb) return fa;
  return a.id < b.id;
}

std::vector<VulnMatch> match_query_cached(const PackageQuery& q, const VulnDatabase& db, const MatchOptions& opt,
                                          AdvisoryCache& advisories) {
  const bool os_ns = q.ns.find(':') != std::string::npos;
  std::vector<Candidate> cands;
  std::unordered_set<std::string> not_affected;  // ids the distribution says do not affect this package
  std::vector<std::string> distro_ids;  // ids the distribution's own feeds have a record of (a set only when asked)
  db.for_each_affected(q.ns, q.name, [&](const AffectedRecord& rec) {
    if (os_ns && distro_feed(rec.feed)) distro_ids.push_back(rec.vuln_id);
    if (rec.status == AffectedStatus::NotAffected) {
      not_affected.insert(rec.vuln_id);
      return;
    }
    RecordVerdict v = evaluate_record(rec, q.version, q.scheme);
    if (!v.affected) return;
    cands.push_back({rec.vuln_id, rec.feed, rec.severity, std::move(v), {}, 0});
  });
  if (cands.empty()) return {};

  // Each candidate's names: its id and its advisory's aliases.
  for (Candidate& c : cands) {
    c.ids.push_back(c.id);
    if (const Advisory* a = advisory_of(c.id, db, advisories))
      for (const std::string& al : a->aliases) c.ids.push_back(al);
  }
  // The distribution's "not affected" for any name of it drops a candidate,
  // and so does any distribution record of it when the candidate is an
  // aggregator's (the distribution's record is the candidate then, or says fixed).
  std::unordered_set<std::string_view> distro_set;
  if (os_ns && std::any_of(cands.begin(), cands.end(), [](const Candidate& c) { return !distro_feed(c.feed); }))
    distro_set.insert(distro_ids.begin(), distro_ids.end());
  std::erase_if(cands, [&](const Candidate& c) {
    for (const std::string& id : c.ids) {
      if (not_affected.contains(id)) return true;
      if (!distro_feed(c.feed) && distro_set.contains(id)) return true;
    }
    return false;
  });
  if (cands.empty()) return {};

  // One finding per vulnerability: candidates sharing any name are one.
  std::vector<std::size_t> parent(cands.size());
  for (std::size_t i = 0; i < parent.size(); ++i) parent[i] = i;
  std::unordered_map<std::string_view, std::size_t> owner;
  for (std::size_t i = 0; i < cands.size(); ++i) {
    for (const std::string& id : cands[i].ids) {
      auto [it, fresh] = owner.emplace(id, i);
      if (!fresh) parent[find_root(parent, i)] = find_root(parent, it->second);
    }
  }
  std::vector<std::size_t> best(cands.size(), SIZE_MAX);  // root → winner
  for (std::size_t i = 0; i < cands.size(); ++i) {
    const std::size_t r = find_root(parent, i);
    cands[i].group = r;
    if (best[r] == SIZE_MAX || better(cands[i], cands[best[r]])) best[r] = i;
  }

  std::vector<VulnMatch> out;
  for (std::size_t r = 0; r < cands.size(); ++r) {
    if (best[r] == SIZE_MAX) continue;
    const Candidate& w = cands[best[r]];
    if (opt.ignore_unfixed && w.verdict.fix != FixState::Fixed) continue;
    // Every name of the group; the finding is named by its CVE when it has
    // one (what distribution feeds, VEX documents and ignore lists name),
    // else by the winning record's id.
    std::vector<std::string> names;
    for (const Candidate& c : cands)
      if (c.group == r) names.insert(names.end(), c.ids.begin(), c.ids.end());
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
    std::string id = w.id;
    if (!is_cve(id)) {
      const auto cve = std::find_if(names.begin(), names.end(), [](const std::string& n) { return is_cve(n); });
      if (cve != names.end()) id = *cve;
    }
    VulnMatch m;
    m.id = id;
    for (std::string& n : names)
      if (n != id) m.aliases.push_back(std::move(n));
    m.ns = q.ns;
    m.matched_name = q.name;
    m.installed_version = q.version;
    m.scheme = std::string(to_string(q.scheme));
    m.feed = w.feed;
    m.range = w.verdict.range;
    m.fix = w.verdict.fix;
    m.fixed_version = w.verdict.fixed_version;

    // Severity (score/risk.hpp vuln_severity): the namespace vendor's word on the
    // winning record first, then the advisories' words, else CVSS v4.0, else v3.x.
    // The group's advisories, asked in order: the winner's, the finding id's, the other records'.
    std::vector<const Advisory*> advs;
    const auto add_adv = [&](const std::string& aid) {
      const Advisory* a = advisory_of(aid, db, advisories);
      if (a != nullptr && std::find(advs.begin(), advs.end(), a) == advs.end()) advs.push_back(a);
    };
    add_adv(w.id);
    add_adv(id);
    for (const Candidate& c : cands)
      if (c.group == r) add_adv(c.id);
    for (const Advisory* a : advs)
      if (m.summary.empty()) m.summary = a->summary;
    const std::string vendor = os_ns ? std::string(q.ns.substr(0, q.ns.find(':'))) : w.feed;
    const auto decide = [&](const Advisory* a) {
      if (a == nullptr) return vuln_severity(vendor, w.severity, "", "", "", "");
      const std::string source = a->id.rfind("GHSA-", 0) == 0 ? "ghsa" : a->feed.empty() ? "advisory" : a->feed;
      return vuln_severity(vendor, w.severity, source, a->severity, a->cvss_v4, a->cvss_v3);
    };
    SeverityDecision sev = decide(advs.empty() ? nullptr : advs.front());
    for (std::size_t k = 1; k < advs.size(); ++k) {
      if (sev.source != "unknown" && sev.cvss_score >= 0) break;
      SeverityDecision other = decide(advs[k]);
      if (sev.source == "unknown") {
        sev = std::move(other);
      } else if (other.cvss_score >= 0) {  // keep the decision, show a CVSS score the group has
        sev.cvss_score = other.cvss_score;
        sev.cvss_vector = other.cvss_vector;
      }
    }
    for (const Advisory* a : advs) {
      m.kev = m.kev || a->kev;
      if (a->epss > m.epss) m.epss = a->epss;
    }
    // Severity fields from the decision, then the risk score (score/risk.hpp) with
    // the exposure the caller knows (all unknown for an image scanned alone).
    apply_scores(m, sev, opt.exposure);
    out.push_back(std::move(m));
  }
  std::sort(out.begin(), out.end(), [](const VulnMatch& a, const VulnMatch& b) { return a.id < b.id; });
  return out;
}

}  // namespace

std::vector<VulnMatch> match_query(const PackageQuery& q, const VulnDatabase& db, const MatchOptions& opt) {
  AdvisoryCache advisories;
  return match_query_cached(q, db, opt, advisories);
}

namespace {

void fill_package(VulnMatch& m, const Package& p, std::size_t index) {
  m.package = index;
  m.package_name = p.name;
  // Say which version was compared when it is not the installed one (a
  // binary whose source package has another version).
  if (m.installed_version != p.version) m.range += " (source version " + m.installed_version + ")";
  m.installed_version = p.version;
  m.purl = p.purl;
}

}  // namespace

std::vector<VulnMatch> match_package(const Package& p, std::size_t index, const OsContext& os, const VulnDatabase& db,
                                     const MatchOptions& opt) {
  const std::optional<PackageQuery> q = package_query(p, os);
  if (!q) return {};
  std::vector<VulnMatch> out = match_query(*q, db, opt);
  for (VulnMatch& m : out) fill_package(m, p, index);
  return out;
}

ImageVulnerabilities match_image(const ImageInventory& inv, const VulnDatabase& db, const MatchOptions& opt) {
  ImageVulnerabilities out;
  out.reference = inv.reference;
  out.manifest_digest = inv.manifest_digest;
  out.os = inv.os.id.empty() ? std::string{} : inv.os.id + " " + inv.os.version_id;
  out.db_built_at = db.status().built_at;
  const OsContext os = os_context(inv);

  // Binaries of one source at one version share their lookup and verdicts.
  AdvisoryCache advisories;
  std::unordered_map<std::string, std::vector<VulnMatch>> by_query;
  std::size_t os_unmatched = 0;
  std::size_t unmatched = 0;
  std::string key;
  for (std::size_t i = 0; i < inv.packages.size(); ++i) {
    const Package& p = inv.packages[i];
    const std::optional<PackageQuery> q = package_query(p, os);
    if (!q) {
      const bool os_pkg = p.type == PackageType::Deb || p.type == PackageType::Apk || p.type == PackageType::Rpm;
      ++(os_pkg && os.ns.empty() ? os_unmatched : unmatched);
      continue;
    }
    key.clear();
    key.append(q->ns).append(1, '\x1f').append(q->name).append(1, '\x1f').append(q->version);
    auto it = by_query.find(key);
    if (it == by_query.end()) it = by_query.emplace(key, match_query_cached(*q, db, opt, advisories)).first;
    for (const VulnMatch& base : it->second) {
      VulnMatch m = base;
      fill_package(m, p, i);
      out.matches.push_back(std::move(m));
    }
  }
  if (os_unmatched > 0) out.notes.push_back(os.note + " (" + std::to_string(os_unmatched) + " OS packages)");
  else if (!os.ns.empty())
    out.notes.push_back("OS packages matched in " + os.ns + (os.note.empty() ? "" : ", " + os.note));
  if (unmatched > 0)
    out.notes.push_back(std::to_string(unmatched) + " packages without a version or ecosystem to match");
  // Sorted through indices: a VulnMatch is large, and thousands of them are common.
  std::vector<std::size_t> order(out.matches.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  const std::vector<VulnMatch>& ms = out.matches;
  std::sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) {
    const VulnMatch& a = ms[x];
    const VulnMatch& b = ms[y];
    if (a.risk != b.risk) return a.risk > b.risk;
    if (a.severity != b.severity) return a.severity > b.severity;
    if (a.id != b.id) return a.id < b.id;
    if (a.package_name != b.package_name) return a.package_name < b.package_name;
    if (a.installed_version != b.installed_version) return a.installed_version < b.installed_version;
    return a.package < b.package;
  });
  std::vector<VulnMatch> sorted;
  sorted.reserve(order.size());
  for (const std::size_t i : order) sorted.push_back(std::move(out.matches[i]));
  out.matches = std::move(sorted);
  return out;
}

}  // namespace kg::vuln

// The Debian security tracker, in two forms:
//  - its JSON API (security-tracker.debian.org/tracker/data/json):
//    {source package: {CVE: {releases: {codename: {status, fixed_version, urgency, nodsa…}}}}};
//  - aquasecurity's vuln-list-debian folder: the tracker's CVE/DLA/DSA lists
//    parsed per entry, distributions.json and the releases' Sources as JSON.
//    Its release records are derived as trivy-db derives them
//    (pkg/vulnsrc/debian): a release without its own line takes sid's fix
//    when the release already ships that version, DLA/DSA fixes override the
//    CVE list's "no-dsa", the newer of two advisories' fixes wins.
// Status: a fix → affected below it; open with no fix → unfixed; <no-dsa>,
// <ignored>, <postponed>, end-of-life → wont-fix; not-affected (or fixed in
// "0") → not-affected.
#include <cctype>
#include <filesystem>
#include <map>
#include <set>
#include <tuple>

#include "engines/vuln/db/feeds/feeds.hpp"

namespace kg::vuln {
namespace {

// dpkg's order (lib/dpkg/version.c verrevcmp), for the few comparisons the
// vuln-list derivation makes. The matcher's order is version/version.hpp's.
int order(char c) {
  if (std::isdigit(static_cast<unsigned char>(c))) return 0;
  if (std::isalpha(static_cast<unsigned char>(c))) return c;
  if (c == '~') return -1;
  if (c != 0) return c + 256;
  return 0;
}

int verrevcmp(std::string_view a, std::string_view b) {
  std::size_t i = 0, j = 0;
  while (i < a.size() || j < b.size()) {
    int first_diff = 0;
    while ((i < a.size() && !std::isdigit(static_cast<unsigned char>(a[i]))) ||
           (j < b.size() && !std::isdigit(static_cast<unsigned char>(b[j])))) {
      const int ac = i < a.size() ? order(a[i]) : 0;
      const int bc = j < b.size() ? order(b[j]) : 0;
      if (ac != bc) return ac - bc;
      ++i;
      ++j;
    }
    while (i < a.size() && a[i] == '0') ++i;
    while (j < b.size() && b[j] == '0') ++j;
    while (i < a.size() && j < b.size() && std::isdigit(static_cast<unsigned char>(a[i])) &&
           std::isdigit(static_cast<unsigned char>(b[j]))) {
      if (!first_diff) first_diff = a[i] - b[j];
      ++i;
      ++j;
    }
    if (i < a.size() && std::isdigit(static_cast<unsigned char>(a[i]))) return 1;
    if (j < b.size() && std::isdigit(static_cast<unsigned char>(b[j]))) return -1;
    if (first_diff) return first_diff;
  }
  return 0;
}

struct Evr {
  long epoch = 0;
  std::string_view upstream, revision;
};

Evr split_evr(std::string_view v) {
  Evr e;
  if (const auto colon = v.find(':'); colon != std::string_view::npos) {
    e.epoch = std::strtol(std::string(v.substr(0, colon)).c_str(), nullptr, 10);
    v.remove_prefix(colon + 1);
  }
  if (const auto dash = v.rfind('-'); dash != std::string_view::npos) {
    e.upstream = v.substr(0, dash);
    e.revision = v.substr(dash + 1);
  } else {
    e.upstream = v;
  }
  return e;
}

// Empty sorts first, as trivy-db's compareVersions has it.
int dpkg_compare(std::string_view a, std::string_view b) {
  if (a.empty() || b.empty()) return a.empty() == b.empty() ? 0 : (a.empty() ? -1 : 1);
  const Evr x = split_evr(a), y = split_evr(b);
  if (x.epoch != y.epoch) return x.epoch < y.epoch ? -1 : 1;
  if (const int c = verrevcmp(x.upstream, y.upstream)) return c;
  return verrevcmp(x.revision, y.revision);
}

AffectedRecord base(std::string id, std::string ns, std::string package) {
  AffectedRecord r;
  r.vuln_id = std::move(id);
  r.ns = std::move(ns);
  r.package = std::move(package);
  r.scheme = VersionScheme::Dpkg;
  r.feed = "debian-tracker";
  return r;
}

void set_fixed(AffectedRecord& r, const std::string& fixed) {
  r.status = AffectedStatus::Affected;
  r.ranges = {AffectedRange{"ECOSYSTEM",
                            {RangeEvent{RangeEvent::Kind::Introduced, "0"}, RangeEvent{RangeEvent::Kind::Fixed, fixed}}}};
}

bool wont_fix_kind(std::string_view kind) {
  return kind == "no-dsa" || kind == "ignored" || kind == "postponed" || kind == "end-of-life" || kind == "removed";
}

std::string strip_urgency(std::string u) {  // "low*", "medium**": the stars say how the urgency was set
  while (!u.empty() && u.back() == '*') u.pop_back();
  if (u == "not yet assigned") u.clear();
  return u;
}

// ---------------- vuln-list-debian ----------------

struct Bucket {
  std::string code, pkg, vuln;
  bool operator<(const Bucket& o) const { return std::tie(code, pkg, vuln) < std::tie(o.code, o.pkg, o.vuln); }
};

struct Adv {
  std::string fixed, state, severity;
  std::vector<std::string> vendor_ids;
};

class VulnList {
 public:
  VulnList(std::string root, FeedSink& sink) : root_(std::move(root)), sink_(sink) {}

  void run() {
    distributions();
    sources(root_ + "/source");
    sources(root_ + "/updates-source");
    for_each_bug(root_ + "/CVE", [&](const std::string& id, const Node* anns) { cve(id, anns); });
    for (const char* dir : {"/DLA", "/DSA"})
      for_each_bug(root_ + dir, [&](const std::string& id, const Node* anns) { advisory(id, anns); });
    commit();
  }

 private:
  void distributions() {
    const std::string path = root_ + "/distributions.json";
    std::string bytes, error;
    feed::Parsed p;
    if (feed::read(path, bytes, &error)) feed::parse(p, path, bytes, false);
    else p.error = error;
    if (p.root == nullptr || !p.root->is_map()) {
      // The built-in table stands in, so the CVE lists are still imported.
      sink_.error((p.root ? path + ": not a JSON object" : p.error) +
                  " (distributions.json); using kguard's table of Debian releases");
      for (const char* code : {"wheezy", "jessie", "stretch", "buster", "bullseye", "bookworm", "trixie", "forky"})
        dists_[code] = debian_release(code);
      return;
    }
    for (const MapEntry& kv : p.root->entries()) {
      const std::string major = feed::text(get(kv.value, "major-version"));
      if (!major.empty()) dists_[std::string(kv.key->text())] = major;  // sid has none: it is derived from, not stored
    }
  }

  void sources(const std::string& dir) {
    for (const auto& [code, major] : dists_) {
      const std::string cdir = dir + "/" + code;
      std::error_code ec;
      if (!std::filesystem::is_directory(cdir, ec)) continue;
      std::string error;
      for (const std::string& f : feed::list_files(cdir, {".json"}, &error)) {
        std::string bytes;
        feed::Parsed p;
        if (!feed::read(f, bytes, &error)) {
          sink_.error(error);
          continue;
        }
        feed::parse(p, f, bytes, false);
        if (p.root == nullptr) {
          sink_.error(p.error + " (a Sources index; its versions are not used)");
          continue;
        }
        auto take = [&](const Node* pkg) {
          const std::string name = feed::text(items(get(pkg, "Package")).empty() ? nullptr : items(get(pkg, "Package"))[0]);
          const auto vs = items(get(pkg, "Version"));
          const std::string version = vs.empty() ? std::string() : feed::text(vs[0]);
          if (name.empty() || version.empty()) return;
          std::string& have = versions_[{code, name}];
          if (dpkg_compare(have, version) < 0) have = version;
        };
        if (p.root->is_seq()) {
          for (const Node* pkg : p.root->items()) take(pkg);
        } else {
          take(p.root);
        }
      }
    }
  }

  void for_each_bug(const std::string& dir, const std::function<void(const std::string&, const Node*)>& fn) {
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec)) return;
    std::string error;
    for (const std::string& f : feed::list_files(dir, {".json"}, &error)) {
      std::string bytes;
      feed::Parsed p;
      if (!feed::read(f, bytes, &error)) {
        sink_.error(error);
        continue;
      }
      feed::parse(p, f, bytes, false);
      if (p.root == nullptr) {
        sink_.error(p.error);
        continue;
      }
      const std::string id = feed::text(get(get(p.root, "Header"), "ID"));
      if (id.empty()) {
        sink_.error(f + ": Header.ID: missing; entry skipped");
        continue;
      }
      Advisory a;
      a.id = id;
      a.summary = feed::text(get(get(p.root, "Header"), "Description"));
      a.feed = "debian-tracker";
      advisories_.push_back(std::move(a));
      fn(id, get(p.root, "Annotations"));
    }
  }

  void cve(const std::string& id, const Node* anns) {
    std::map<std::string, std::string> severities;
    for (const Node* ann : items(anns)) {
      if (feed::text(get(ann, "Type")) != "package") continue;
      const std::string release = feed::text(get(ann, "Release"));
      const std::string pkg = feed::text(get(ann, "Package"));
      const std::string kind = feed::text(get(ann, "Kind"));
      const std::string version = feed::text(get(ann, "Version"));
      if (pkg.empty()) continue;
      Bucket b{release, pkg, id};
      if (kind == "not-affected" || kind == "undetermined") {
        not_affected_.insert(b);
        continue;
      }
      if (release.empty()) {
        const std::string sev = strip_urgency(feed::text(get(ann, "Severity")));
        if (!sev.empty()) severities[pkg] = sev;
        sid_[{"", pkg, id}] = {version, sev};
        continue;
      }
      Adv a;
      a.fixed = version;
      a.severity = severities[pkg];
      if (version.empty()) a.state = kind;
      advs_[b] = a;
    }
  }

  void advisory(const std::string& adv_id, const Node* anns) {
    std::vector<std::string> cves;
    for (const Node* ann : items(anns)) {
      const std::string type = feed::text(get(ann, "Type"));
      if (type == "xref") {
        cves.clear();
        for (const Node* b : items(get(ann, "Bugs"))) cves.push_back(feed::text(b));
        continue;
      }
      if (type != "package") continue;
      const std::vector<std::string> ids = cves.empty() ? std::vector<std::string>{adv_id} : cves;
      const std::string release = feed::text(get(ann, "Release"));
      const std::string pkg = feed::text(get(ann, "Package"));
      const std::string kind = feed::text(get(ann, "Kind"));
      const std::string version = feed::text(get(ann, "Version"));
      for (const std::string& vid : ids) {
        Bucket b{release, pkg, vid};
        if (kind == "not-affected" || kind == "undetermined") {
          not_affected_.insert(b);
          continue;
        }
        auto it = advs_.find(b);
        if (it != advs_.end()) {
          // Two advisories for one fix: the later fix is taken (the first was not enough).
          if (dpkg_compare(version, it->second.fixed) > 0) {
            it->second.fixed = version;
            it->second.state.clear();
          }
          it->second.vendor_ids.push_back(adv_id);
        } else {
          advs_[b] = Adv{version, "", "", {adv_id}};
        }
      }
    }
  }

  void commit() {
    std::map<Bucket, Adv> out;
    for (const auto& [sid, fix] : sid_) {
      if (not_affected_.count({"", sid.pkg, sid.vuln})) continue;
      for (const auto& [code, major] : dists_) {
        Bucket b{code, sid.pkg, sid.vuln};
        if (not_affected_.count(b)) continue;
        Adv adv;
        if (auto it = advs_.find(b); it != advs_.end()) {
          if (it->second.state.empty()) continue;  // the release's own fix is stored below
          adv = it->second;
        }
        const auto ver = versions_.find({code, sid.pkg});
        if (ver == versions_.end()) continue;
        // The release ships sid's fix already: "<no-dsa>" or "<postponed>" there was overtaken.
        if (!fix.first.empty() && dpkg_compare(ver->second, fix.first) >= 0) {
          adv.fixed = fix.first;
          adv.state.clear();
          advs_.erase(b);
        }
        adv.severity = fix.second;
        out[b] = adv;
      }
    }
    for (const auto& [b, adv] : advs_) out[b] = adv;

    std::map<std::string, std::vector<std::string>> vendor_ids;
    for (const auto& [b, adv] : out) {
      const auto major = dists_.find(b.code);
      if (major == dists_.end()) continue;  // squeeze, sarge: releases the tracker no longer has
      AffectedRecord r = base(b.vuln, "debian:" + major->second, b.pkg);
      r.severity = adv.severity;
      if (!adv.fixed.empty()) {
        set_fixed(r, adv.fixed);
      } else {
        r.status = wont_fix_kind(adv.state) ? AffectedStatus::WontFix : AffectedStatus::Unfixed;
      }
      for (const std::string& v : adv.vendor_ids) vendor_ids[b.vuln].push_back(v);
      sink_.affected(std::move(r));
    }
    // sid itself: its own lines, as the tracker states them.
    for (const auto& [sid, fix] : sid_) {
      AffectedRecord r = base(sid.vuln, "debian:unstable", sid.pkg);
      r.severity = fix.second;
      if (!fix.first.empty()) set_fixed(r, fix.first);
      else r.status = AffectedStatus::Unfixed;
      sink_.affected(std::move(r));
    }
    // Explicit not-affected lines: the matcher then knows, rather than guesses.
    for (const Bucket& b : not_affected_) {
      const std::string ns = b.code.empty() ? "debian:unstable" : (dists_.count(b.code) ? "debian:" + dists_[b.code] : "");
      if (ns.empty()) continue;
      AffectedRecord r = base(b.vuln, ns, b.pkg);
      r.status = AffectedStatus::NotAffected;
      sink_.affected(std::move(r));
    }
    for (Advisory& a : advisories_) {
      if (auto it = vendor_ids.find(a.id); it != vendor_ids.end())
        for (const std::string& v : it->second)
          if (v != a.id) a.aliases.push_back(v);
      sink_.advisory(std::move(a));
    }
  }

  std::string root_;
  FeedSink& sink_;
  std::map<std::string, std::string> dists_;                       // codename → major
  std::map<std::pair<std::string, std::string>, std::string> versions_;  // (codename, package) → newest version
  std::map<Bucket, std::pair<std::string, std::string>> sid_;      // (pkg, id) → (sid fix, urgency)
  std::map<Bucket, Adv> advs_;
  std::set<Bucket> not_affected_;
  std::vector<Advisory> advisories_;
};

// Finds distributions.json at `path`, path/tracker or path/vuln-list-debian/tracker.
std::string vuln_list_root(const std::string& path) {
  std::error_code ec;
  for (const char* sub : {"", "/tracker", "/vuln-list-debian/tracker"}) {
    const std::string dir = path + sub;
    if (std::filesystem::exists(dir + "/distributions.json", ec) || std::filesystem::is_directory(dir + "/CVE", ec))
      return dir;
  }
  return {};
}

}  // namespace

std::string debian_release(std::string_view codename) {
  static constexpr std::pair<std::string_view, std::string_view> kReleases[] = {
      {"wheezy", "7"},  {"jessie", "8"},  {"stretch", "9"}, {"buster", "10"}, {"bullseye", "11"},
      {"bookworm", "12"}, {"trixie", "13"}, {"forky", "14"}, {"duke", "15"},   {"sid", "unstable"},
  };
  for (const auto& [name, version] : kReleases)
    if (name == codename) return std::string(version);
  return {};
}

void parse_debian_tracker_json_text(std::string_view name, std::string_view text, FeedSink& sink) {
  const std::string where(name);
  feed::Parsed p;
  feed::parse(p, name, text, false);
  if (p.root == nullptr) {
    sink.error(p.error);
    return;
  }
  if (!p.root->is_map()) {
    sink.error(where + ": not the tracker's JSON (the document is not an object of source packages)");
    return;
  }
  for (const MapEntry& pkg_kv : p.root->entries()) {
    const std::string pkg(pkg_kv.key->text());
    if (!pkg_kv.value->is_map()) {
      sink.error(where + ": " + pkg + ": not an object of vulnerabilities; skipped");
      continue;
    }
    for (const MapEntry& cve_kv : pkg_kv.value->entries()) {
      const std::string id(cve_kv.key->text());
      const Node* releases = get(cve_kv.value, "releases");
      if (!cve_kv.value->is_map() || (releases != nullptr && !releases->is_map())) {
        sink.error(where + ": " + pkg + "." + id + ".releases: not an object; skipped");
        continue;
      }
      for (const MapEntry& rel_kv : entries(releases)) {
        const std::string codename(rel_kv.key->text());
        const std::string release = debian_release(codename);
        if (release.empty()) continue;  // a codename this kguard does not know (yet)
        const Node* r = rel_kv.value;
        const std::string status = feed::text(get(r, "status"));
        const std::string fixed = feed::text(get(r, "fixed_version"));
        const std::string urgency = strip_urgency(feed::text(get(r, "urgency")));
        AffectedRecord rec = base(id, "debian:" + release, pkg);
        rec.severity = urgency;
        if (status == "resolved") {
          if (fixed.empty()) {
            sink.error(where + ": " + pkg + "." + id + ".releases." + codename +
                       ".fixed_version: missing for a resolved issue; skipped");
            continue;
          }
          if (fixed == "0") rec.status = AffectedStatus::NotAffected;
          else set_fixed(rec, fixed);
        } else if (status == "open") {
          const bool nodsa = get(r, "nodsa") != nullptr;
          const std::string reason = feed::text(get(r, "nodsa_reason"));
          rec.status = nodsa || wont_fix_kind(reason) || urgency == "end-of-life" ? AffectedStatus::WontFix
                                                                                  : AffectedStatus::Unfixed;
        } else if (status == "not-affected") {
          rec.status = AffectedStatus::NotAffected;
        } else if (status == "undetermined") {
          continue;  // the tracker does not know yet: no record rather than a guess
        } else {
          sink.error(where + ": " + pkg + "." + id + ".releases." + codename + ".status: '" + status +
                     "' is not resolved, open or undetermined; skipped");
          continue;
        }
        sink.affected(std::move(rec));
      }
      Advisory adv;
      adv.id = id;
      adv.summary = feed::text(get(cve_kv.value, "description"));
      adv.feed = "debian-tracker";
      sink.advisory(std::move(adv));
    }
  }
}

bool build_debian_tracker(const std::string& path, FeedSink& sink) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    const std::string root = vuln_list_root(path);
    if (root.empty()) {
      sink.error(path + ": neither the tracker's JSON nor a vuln-list-debian folder (no distributions.json or CVE/)");
      return false;
    }
    VulnList(root, sink).run();
    return true;
  }
  std::string bytes, error;
  if (!feed::read(path, bytes, &error)) {
    sink.error(error);
    return false;
  }
  parse_debian_tracker_json_text(path, bytes, sink);
  return true;
}

}  // namespace kg::vuln

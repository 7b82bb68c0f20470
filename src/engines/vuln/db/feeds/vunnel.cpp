// Grype's vunnel results ({identifier, item, schema} per file, under
// <provider>/results/): OS providers (item.Vulnerability: Name, NamespaceName,
// FixedIn[] with Name, Version, VersionFormat), OSV-shaped providers (item is
// an OSV record: chainguard, rootio, …) and NVD (CVSS and descriptions for
// the advisories; its CPE configurations are not matched against packages).
#include <filesystem>
#include <map>

#include "engines/vuln/db/feeds/feeds.hpp"

namespace kg::vuln {
namespace {

void os_record(const std::string& where, const Node* v, const std::string& feed, FeedSink& sink) {
  const std::string id = feed::text(get(v, "Name"));
  if (id.empty()) {
    sink.error(where + ": item.Vulnerability.Name: missing; record skipped");
    return;
  }
  const std::string severity = feed::text(get(v, "Severity"));
  const std::string ns_all = feed::text(get(v, "NamespaceName"));
  Advisory adv;
  adv.id = id;
  adv.feed = feed;
  adv.summary = feed::text(get(v, "Description"));
  if (auto nl = adv.summary.find('\n'); nl != std::string::npos) adv.summary.resize(nl);
  if (const std::string link = feed::text(get(v, "Link")); !link.empty()) adv.references.push_back(link);
  for (const Node* c : items(get(v, "CVSS"))) {
    const std::string vec = feed::text(get(c, "vector_string"));
    if (vec.rfind("CVSS:3", 0) == 0 && adv.cvss_v3.empty()) adv.cvss_v3 = vec;
    if (vec.rfind("CVSS:4", 0) == 0 && adv.cvss_v4.empty()) adv.cvss_v4 = vec;
  }
  if (adv.cvss_v3.empty()) {
    const std::string vec = feed::text(get(get(get(get(v, "Metadata"), "NVD"), "CVSSv3"), "Vectors"));
    if (vec.rfind("CVSS:3", 0) == 0) adv.cvss_v3 = vec;
  }
  std::size_t index = 0;
  for (const Node* fix : items(get(v, "FixedIn"))) {
    const std::string at = where + ": item.Vulnerability.FixedIn[" + std::to_string(index++) + "]";
    AffectedRecord rec;
    rec.vuln_id = id;
    rec.package = feed::text(get(fix, "Name"));
    rec.ns = feed::text(get(fix, "NamespaceName"));
    if (rec.ns.empty()) rec.ns = ns_all;
    const std::string format = feed::text(get(fix, "VersionFormat"));
    const std::string version = feed::text(get(fix, "Version"));
    if (rec.package.empty() || rec.ns.empty()) {
      sink.error(at + ": Name and NamespaceName are required; entry skipped");
      continue;
    }
    const auto scheme = parse_version_scheme(format);
    if (!scheme) {
      sink.error(at + ".VersionFormat: '" + format + "' is not a version order kguard knows; entry skipped");
      continue;
    }
    rec.scheme = *scheme;
    rec.feed = feed;
    rec.severity = severity == "Unknown" ? std::string() : severity;
    if (version.empty() || version == "None") {
      // grype: a distribution that will not fix says so with NoAdvisory.
      rec.status = is_true(get(get(fix, "VendorAdvisory"), "NoAdvisory")) ? AffectedStatus::WontFix
                                                                         : AffectedStatus::Unfixed;
    } else if (version == "0") {
      rec.status = AffectedStatus::NotAffected;
    } else {
      rec.ranges.push_back(AffectedRange{
          "ECOSYSTEM", {RangeEvent{RangeEvent::Kind::Introduced, "0"}, RangeEvent{RangeEvent::Kind::Fixed, version}}});
    }
    sink.affected(std::move(rec));
  }
  sink.advisory(std::move(adv));
}

void nvd_record(const Node* cve, const std::string& feed, FeedSink& sink) {
  Advisory adv;
  adv.id = feed::text(get(cve, "id"));
  if (adv.id.empty()) return;
  adv.feed = feed;
  for (const Node* d : items(get(cve, "descriptions")))
    if (feed::text(get(d, "lang")) == "en") {
      adv.summary = feed::text(get(d, "value"));
      if (auto nl = adv.summary.find('\n'); nl != std::string::npos) adv.summary.resize(nl);
      break;
    }
  adv.published = feed::text(get(cve, "published"));
  adv.modified = feed::text(get(cve, "lastModified"));
  const Node* metrics = get(cve, "metrics");
  // NVD's own (Primary) score first, then a CNA's.
  auto pick = [&](std::initializer_list<const char*> keys) {
    std::string primary, any;
    for (const char* k : keys)
      for (const Node* m : items(get(metrics, k))) {
        const std::string vec = feed::text(get(get(m, "cvssData"), "vectorString"));
        if (vec.empty()) continue;
        if (any.empty()) any = vec;
        if (primary.empty() && feed::text(get(m, "type")) == "Primary") primary = vec;
      }
    return primary.empty() ? any : primary;
  };
  adv.cvss_v3 = pick({"cvssMetricV31", "cvssMetricV30"});
  adv.cvss_v4 = pick({"cvssMetricV40"});
  sink.advisory(std::move(adv));
}

}  // namespace

void parse_vunnel_text(std::string_view name, std::string_view text, std::string_view provider, FeedSink& sink) {
  const std::string where(name);
  feed::Parsed p;
  feed::parse(p, name, text, false);
  if (p.root == nullptr) {
    sink.error(p.error);
    return;
  }
  const Node* item = get(p.root, "item");
  if (item == nullptr || !item->is_map()) {
    sink.error(where + ": item: missing; not a vunnel result");
    return;
  }
  const std::string feed = "vunnel:" + std::string(provider);
  if (const Node* v = get(item, "Vulnerability")) {
    os_record(where, v, feed, sink);
  } else if (get(item, "affected") != nullptr && get(item, "id") != nullptr) {
    parse_osv_node(name, item, feed, sink);
  } else if (const Node* cve = get(item, "cve")) {
    nvd_record(cve, feed, sink);
  }
  // Anything else (the eol provider's release dates, …) is not vulnerability data.
}

bool build_vunnel(const std::string& path, FeedSink& sink) {
  namespace fs = std::filesystem;
  std::string error;
  const std::vector<std::string> files = feed::list_files(path, {".json"}, &error);
  if (!error.empty()) sink.error(error);
  if (files.empty() && !error.empty()) return false;
  std::map<std::string, std::string> providers;  // a provider folder → its name
  std::string bytes;
  for (const std::string& f : files) {
    const fs::path fp(f);
    const std::string base = fp.filename().string();
    if (base == "metadata.json" || base == "db-lock.json") continue;
    // The provider is the folder above results/ (its metadata.json names it).
    std::string provider;
    for (fs::path dir = fp.parent_path(); !dir.empty() && dir != dir.parent_path(); dir = dir.parent_path()) {
      if (dir.filename() != "results") continue;
      const std::string pdir = dir.parent_path().string();
      auto it = providers.find(pdir);
      if (it == providers.end()) {
        std::string name = dir.parent_path().filename().string();
        std::string meta;
        feed::Parsed mp;
        if (feed::read(pdir + "/metadata.json", meta, nullptr)) {
          feed::parse(mp, pdir + "/metadata.json", meta, false);
          if (const std::string n = feed::text(get(mp.root, "provider")); !n.empty()) name = n;
        }
        it = providers.emplace(pdir, name).first;
      }
      provider = it->second;
      break;
    }
    if (provider.empty()) provider = "unknown";
    if (!feed::read(f, bytes, &error)) {
      sink.error(error);
      continue;
    }
    parse_vunnel_text(f, bytes, provider, sink);
  }
  return true;
}

}  // namespace kg::vuln

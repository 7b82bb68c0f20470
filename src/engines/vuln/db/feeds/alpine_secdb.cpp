// Alpine's secdb (secdb.alpinelinux.org/v3.X/main.json, and the older YAML of
// alpinelinux/alpine-secdb): per release, each aport's `secfixes` map of fixed
// version → ids. A fix version X is the range introduced 0, fixed X; the
// version "0" means the release's package was never affected. secdb names
// are aports, i.e. apk origins, which is what the matcher looks up.
#include "engines/vuln/db/feeds/feeds.hpp"

namespace kg::vuln {

void parse_secdb_text(std::string_view name, std::string_view text, bool yaml, FeedSink& sink) {
  const std::string where(name);
  feed::Parsed p;
  feed::parse(p, name, text, yaml);
  if (p.root == nullptr) {
    sink.error(p.error);
    return;
  }
  if (!p.root->is_map()) {
    sink.error(where + ": not an Alpine secdb (the document is not a mapping)");
    return;
  }
  std::string release = feed::text(get(p.root, "distroversion"));
  if (!release.empty() && (release.front() == 'v' || release.front() == 'V')) release.erase(0, 1);
  if (release.empty()) {
    sink.error(where + ": distroversion: missing; file skipped");
    return;
  }
  const std::string ns = release == "edge" ? "alpine:edge" : "alpine:" + release;
  std::size_t index = 0;
  for (const Node* entry : items(get(p.root, "packages"))) {
    const std::string at = where + ": packages[" + std::to_string(index++) + "]";
    const Node* pkg = get(entry, "pkg");
    const std::string origin = feed::text(get(pkg, "name"));
    if (origin.empty()) {
      sink.error(at + ".pkg.name: missing; entry skipped");
      continue;
    }
    const Node* secfixes = get(pkg, "secfixes");
    if (secfixes != nullptr && !secfixes->is_map() && !secfixes->is_null()) {
      sink.error(at + ".pkg.secfixes: not a mapping; entry skipped");
      continue;
    }
    for (const MapEntry& kv : entries(secfixes)) {
      const std::string version(kv.key->text());
      if (version.empty()) {
        sink.error(at + ".pkg.secfixes: an empty version; skipped");
        continue;
      }
      for (const Node* idn : items(kv.value)) {
        // "CVE-2019-5060 TALOS-2019-0844": one vulnerability, several names.
        Advisory adv;
        adv.id = feed::first_word(feed::text(idn), &adv.aliases);
        if (adv.id.empty()) continue;
        AffectedRecord rec;
        rec.vuln_id = adv.id;
        rec.ns = ns;
        rec.package = origin;
        rec.scheme = VersionScheme::Apk;
        rec.feed = "alpine-secdb";
        if (version == "0") {
          rec.status = AffectedStatus::NotAffected;
        } else {
          rec.ranges.push_back(AffectedRange{"ECOSYSTEM",
                                             {RangeEvent{RangeEvent::Kind::Introduced, "0"},
                                              RangeEvent{RangeEvent::Kind::Fixed, version}}});
        }
        sink.affected(std::move(rec));
        adv.feed = "alpine-secdb";
        sink.advisory(std::move(adv));
      }
    }
  }
}

bool build_alpine_secdb(const std::string& path, FeedSink& sink) {
  std::string error;
  const std::vector<std::string> files = feed::list_files(path, {".json", ".yaml", ".yml"}, &error);
  if (!error.empty()) sink.error(error);
  if (files.empty() && !error.empty()) return false;
  std::string bytes;
  for (const std::string& f : files) {
    if (!feed::read(f, bytes, &error)) {
      sink.error(error);
      continue;
    }
    parse_secdb_text(f, bytes, f.size() >= 5 && f.compare(f.size() - 5, 5, ".json") != 0, sink);
  }
  return true;
}

}  // namespace kg::vuln

#include "engines/vuln/handling/handling.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <map>

#include "core/glob.hpp"
#include "engines/vuln/handling/purl.hpp"

namespace kg::vuln {
namespace {

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The ids a match is known by: its record's id and every alias, upper case.
std::vector<std::string> match_ids(const VulnMatch& m) {
  std::vector<std::string> ids{upper(m.id)};
  for (const std::string& a : m.aliases) ids.push_back(upper(a));
  return ids;
}

bool has_id(const std::vector<std::string>& ids, std::string_view id) {
  return std::find(ids.begin(), ids.end(), upper(id)) != ids.end();
}

// The repository an image reference names, normalised as the registry sees it
// ("alpine:3.19" → "docker.io/library/alpine"); empty for local layouts and
// archives, which name no repository.
std::string repository_of(std::string_view ref) {
  for (std::string_view t : {"oci:", "oci-archive:", "docker-archive:", "dir:"})
    if (ref.rfind(t, 0) == 0) return {};
  if (ref.rfind("docker://", 0) == 0) ref.remove_prefix(9);
  if (const std::size_t at = ref.find('@'); at != std::string_view::npos) ref = ref.substr(0, at);
  const std::size_t slash = ref.rfind('/');
  if (const std::size_t colon = ref.rfind(':'); colon != std::string_view::npos &&
                                                (slash == std::string_view::npos || colon > slash))
    ref = ref.substr(0, colon);
  std::string repo = lower(ref);
  const std::size_t first = repo.find('/');
  const std::string host = first == std::string::npos ? std::string{} : repo.substr(0, first);
  if (first == std::string::npos || (host.find('.') == std::string::npos && host.find(':') == std::string::npos &&
                                     host != "localhost"))
    repo = "docker.io/" + repo;
  if (repo.rfind("index.docker.io/", 0) == 0) repo.replace(0, 16, "docker.io/");
  if (repo.rfind("registry-1.docker.io/", 0) == 0) repo.replace(0, 21, "docker.io/");
  if (repo.rfind("docker.io/", 0) == 0 && repo.find('/', 10) == std::string::npos) repo.insert(10, "library/");
  return repo;
}

struct ImageIds {
  std::vector<std::string> digests;  // manifest and config digests, lower case
  std::string reference;
  std::string repository;
};

ImageIds image_ids(const ImageVulnerabilities& v, const ImageInventory& inv) {
  ImageIds ids;
  for (const std::string* d : {&v.manifest_digest, &inv.manifest_digest, &inv.config_digest})
    if (!d->empty()) ids.digests.push_back(lower(*d));
  ids.reference = v.reference.empty() ? inv.reference : v.reference;
  ids.repository = repository_of(ids.reference);
  return ids;
}

// How a component id names the image: not at all, by name only (any build of
// it), or by digest (exactly this build).
enum class ImageHit : std::uint8_t { None, ByName, ByDigest };

ImageHit image_hit(std::string_view id, const ImageIds& img) {
  auto digest_hit = [&](std::string_view d) {
    const std::string l = lower(d);
    return std::find(img.digests.begin(), img.digests.end(), l) != img.digests.end();
  };
  if (id.rfind("sha256:", 0) == 0) return digest_hit(id) ? ImageHit::ByDigest : ImageHit::None;
  if (auto p = parse_purl(id); p && p->type == "oci") {
    // The digest names one image whatever the purl calls it (a local layout
    // or archive has no repository to compare).
    if (!p->version.empty()) return digest_hit(p->version) ? ImageHit::ByDigest : ImageHit::None;
    if (img.repository.empty()) return ImageHit::None;
    const std::size_t slash = img.repository.rfind('/');
    if (img.repository.substr(slash + 1) != p->name) return ImageHit::None;
    const std::string_view url = p->qualifier("repository_url");
    if (!url.empty() && repository_of(url) != img.repository) return ImageHit::None;
    return ImageHit::ByName;
  }
  if (id.rfind("pkg:", 0) == 0) return ImageHit::None;
  // A plain image reference: by its digest when it has one, else the very reference.
  if (const std::size_t at = id.find("@sha256:"); at != std::string_view::npos)
    return digest_hit(id.substr(at + 1)) ? ImageHit::ByDigest : ImageHit::None;
  return !img.reference.empty() && id == img.reference ? ImageHit::ByName : ImageHit::None;
}

// How a component id names the vulnerable package: not at all, as any
// version, or as exactly the installed version.
enum class PackageHit : std::uint8_t { None, AnyVersion, Exact };

PackageHit package_hit(std::string_view id, const std::vector<Purl>& pkg, const std::vector<std::string>& versions) {
  auto general = parse_purl(id);
  if (!general || general->type == "oci") return PackageHit::None;
  for (const Purl& p : pkg) {
    if (!purl_matches(*general, p)) continue;
    if (!versions.empty())  // CycloneDX affects[].versions: only the versions listed
      return std::find(versions.begin(), versions.end(), p.version) != versions.end() ? PackageHit::Exact
                                                                                      : PackageHit::None;
    return general->version.empty() ? PackageHit::AnyVersion : PackageHit::Exact;
  }
  return PackageHit::None;
}

// Whether any installed package is named by the id (a product that is a
// package of the image, whose subcomponents the statement is about).
bool in_inventory(std::string_view id, const std::vector<Purl>& all) {
  auto general = parse_purl(id);
  if (!general || general->type == "oci") return false;
  return std::any_of(all.begin(), all.end(), [&](const Purl& p) { return purl_matches(*general, p); });
}

// How a statement's products reach a match: not at all, loosely (any
// version, any build), or pinned to exactly what is installed.
enum class Reach : std::uint8_t { None, Loose, Pinned };

Reach reach(const VexStatement& s, const std::vector<Purl>& pkg, const ImageIds& img, const std::vector<Purl>& all) {
  Reach best = Reach::None;
  auto take = [&](Reach r) { best = std::max(best, r); };
  for (const VexProduct& prod : s.products) {
    ImageHit ih = ImageHit::None;
    PackageHit ph = PackageHit::None;
    bool product_inside = false;
    for (const std::string& id : prod.component.ids) {
      ih = std::max(ih, image_hit(id, img));
      ph = std::max(ph, package_hit(id, pkg, prod.versions));
      product_inside = product_inside || in_inventory(id, all);
    }
    if (prod.subcomponents.empty()) {
      // The product itself: the whole image (every instance of the
      // vulnerability in it) or the vulnerable package.
      if (ih == ImageHit::ByDigest || ph == PackageHit::Exact) take(Reach::Pinned);
      else if (ih == ImageHit::ByName || ph == PackageHit::AnyVersion) take(Reach::Loose);
      continue;
    }
    // Subcomponents: the statement is about them inside the product (the
    // image, or a package of it), not about the product's own code.
    if (ih == ImageHit::None && !product_inside) continue;
    PackageHit sub = PackageHit::None;
    for (const VexComponent& sc : prod.subcomponents)
      for (const std::string& id : sc.ids) sub = std::max(sub, package_hit(id, pkg, {}));
    if (sub == PackageHit::Exact) take(Reach::Pinned);
    else if (sub == PackageHit::AnyVersion) take(Reach::Loose);
  }
  return best;
}

std::string statement_origin(const VexStatement& s) {
  return s.file + ":" + std::to_string(s.line) + " (" + std::string(to_string(s.format)) + ")";
}

std::string describe(const VexStatement& s) {
  std::string out = statement_origin(s) + ": " + s.status_text;
  if (!s.justification.empty()) out += " \xE2\x80\x94 " + s.justification;  // em dash
  return out;
}

bool ignore_matches(const VulnIgnore& ig, const VulnMatch& m, const std::vector<std::string>& ids,
                    const Package* pkg, const std::vector<Purl>& purls, const ImageIds& img) {
  if (!has_id(ids, ig.id)) return false;
  if (!ig.package.empty()) {
    if (ig.package.rfind("pkg:", 0) == 0) {
      auto general = parse_purl(ig.package);
      if (!general || std::none_of(purls.begin(), purls.end(), [&](const Purl& p) { return purl_matches(*general, p); }))
        return false;
    } else {
      const bool named = glob_match(ig.package, m.package_name) || glob_match(ig.package, m.matched_name) ||
                         (pkg && (glob_match(ig.package, pkg->name) ||
                                  (!pkg->source_name.empty() && glob_match(ig.package, pkg->source_name))));
      if (!named) return false;
    }
  }
  if (!ig.path.empty()) {
    if (!pkg) return false;
    if (std::none_of(pkg->evidence.begin(), pkg->evidence.end(),
                     [&](const PackageEvidence& e) { return path_glob_match(ig.path, e.path); }))
      return false;
  }
  if (!ig.image.empty()) {
    bool hit = !img.reference.empty() && glob_match(ig.image, img.reference);
    for (const std::string& d : img.digests) hit = hit || glob_match(lower(ig.image), d);
    if (!hit) return false;
  }
  return true;
}

}  // namespace

HandlingPolicy load_handling(const VulnConfig* config, const std::vector<std::string>& vex_paths,
                             std::vector<InputError>& errors) {
  HandlingPolicy p;
  if (config) {
    p.ignores = config->ignores;
    if (config->ignore_unfixed) {
      p.ignore_unfixed = *config->ignore_unfixed;
      p.ignore_unfixed_origin = config->ignore_unfixed_origin + " (ignoreUnfixed)";
    }
    p.fail_on = config->fail_on;
    p.fail_on_origin = config->fail_on_origin;
    p.max_risk = config->max_risk;
    p.max_risk_origin = config->max_risk_origin;
  }
  for (const std::string& path : vex_paths) {
    load_vex_file(path, p.statements, errors);
    p.vex_files.push_back(path);
  }
  for (std::size_t i = 0; i < p.statements.size(); ++i) p.statements[i].order = i;
  return p;
}

std::vector<InputError> expired_ignores(const HandlingPolicy& policy, std::string_view today) {
  std::vector<InputError> out;
  for (const VulnIgnore& ig : policy.ignores)
    if (!ig.until.empty() && ig.until < today)
      out.push_back({ig.file, ig.line, ig.column,
                     ig.field + " (" + ig.id + ") expired on " + ig.until + " (" + ig.reason +
                         "); it no longer suppresses anything"});
  return out;
}

HandlingReport apply_handling(ImageVulnerabilities& vulns, const ImageInventory& inventory,
                              const HandlingPolicy& policy, std::string_view today) {
  HandlingReport report;
  const ImageIds img = image_ids(vulns, inventory);
  // Every installed package's purl, parsed once (products that are packages).
  std::vector<Purl> all;
  for (const Package& p : inventory.packages)
    if (auto parsed = parse_purl(p.purl)) all.push_back(std::move(*parsed));
  // Statements by vulnerability id and alias, so a match looks at its own only.
  std::map<std::string, std::vector<std::size_t>, std::less<>> by_id;
  for (std::size_t i = 0; i < policy.statements.size(); ++i) {
    const VexStatement& s = policy.statements[i];
    by_id[upper(s.vulnerability)].push_back(i);
    for (const std::string& a : s.aliases) by_id[upper(a)].push_back(i);
  }
  std::vector<bool> used(policy.statements.size(), false);
  std::vector<bool> expired_warned(policy.ignores.size(), false);

  for (VulnMatch& m : vulns.matches) {
    if (m.suppressed) continue;
    const std::vector<std::string> ids = match_ids(m);
    const Package* pkg = m.package < inventory.packages.size() ? &inventory.packages[m.package] : nullptr;
    std::vector<Purl> purls;
    for (const std::string* s : std::array<const std::string*, 2>{&m.purl, pkg ? &pkg->purl : nullptr})
      if (s && !s->empty())
        if (auto parsed = parse_purl(*s)) purls.push_back(std::move(*parsed));

    // 1. The config's ignores: the user's own decision, in the file's order.
    bool done = false;
    for (std::size_t i = 0; i < policy.ignores.size() && !done; ++i) {
      const VulnIgnore& ig = policy.ignores[i];
      if (!ignore_matches(ig, m, ids, pkg, purls, img)) continue;
      if (!ig.until.empty() && ig.until < today) {
        if (!expired_warned[i]) {
          expired_warned[i] = true;
          report.warnings.push_back({ig.file, ig.line, ig.column,
                                     ig.field + " (" + ig.id + ") expired on " + ig.until + " (" + ig.reason + "); " +
                                         m.id + " in " + m.package_name + " " + m.installed_version +
                                         " is reported again"});
        }
        continue;
      }
      m.suppressed = true;
      m.suppressed_by = ig.origin;
      m.suppress_reason = ig.reason;
      done = true;
    }
    if (done) {
      ++report.suppressed;
      continue;
    }
    // 2. Unfixed vulnerabilities, when asked to leave them out.
    if (policy.ignore_unfixed && m.fix != FixState::Fixed) {
      m.suppressed = true;
      m.suppressed_by = policy.ignore_unfixed_origin.empty() ? "--ignore-unfixed" : policy.ignore_unfixed_origin;
      m.suppress_reason = std::string(kNoFixReason);
      ++report.suppressed;
      continue;
    }
    // 3. VEX: of the statements about this vulnerability whose products reach
    // this package, the latest one decides (OpenVEX: each statement overrides
    // the earlier ones; go-vex LatestStatement). A tie goes to the later one
    // read, across files in command-line order.
    std::vector<std::size_t> candidates;
    for (const std::string& id : ids)
      if (auto it = by_id.find(id); it != by_id.end())
        candidates.insert(candidates.end(), it->second.begin(), it->second.end());
    std::sort(candidates.begin(), candidates.end());
    candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());
    const VexStatement* latest = nullptr;
    Reach latest_reach = Reach::None;
    for (std::size_t i : candidates) {
      const VexStatement& s = policy.statements[i];
      const Reach r = reach(s, purls, img, all);
      if (r == Reach::None) continue;
      used[i] = true;
      const VexTime t = s.time.value_or(VexTime{});
      const VexTime lt = latest ? latest->time.value_or(VexTime{}) : VexTime{};
      if (!latest || lt < t || (t == lt && latest->order < s.order)) {
        latest = &s;
        latest_reach = r;
      }
    }
    if (!latest) continue;
    bool suppress = latest->status == VexStatus::NotAffected;
    // `fixed` (CycloneDX `resolved`) says "these product versions contain a
    // fix": it is about versions, so it suppresses only when the statement
    // names exactly what is installed (the purl's version, a listed version,
    // or the image's digest). Said of a package without a version or of an
    // image by name, it would silence the vulnerability in builds nobody
    // fixed.
    if (latest->status == VexStatus::Fixed) {
      suppress = latest_reach == Reach::Pinned;
      if (!suppress)
        report.notes.push_back(statement_origin(*latest) + " " + latest->field + ": " + latest->vulnerability +
                               " is '" + latest->status_text + "' for a product without a version or digest; " +
                               m.id + " in " + m.package_name + " " + m.installed_version + " stays reported");
    }
    if (!suppress) continue;
    m.suppressed = true;
    m.suppressed_by = describe(*latest);
    m.suppress_reason = !latest->detail.empty() ? latest->detail : latest->action;
    ++report.suppressed;
  }
  for (std::size_t i = 0; i < policy.statements.size(); ++i)
    if (!used[i]) {
      const VexStatement& s = policy.statements[i];
      report.notes.push_back(statement_origin(s) + " " + s.field + ": " + s.vulnerability + " (" + s.status_text +
                             ") matched nothing in " + (img.reference.empty() ? std::string("this image") : img.reference));
    }
  return report;
}

}  // namespace kg::vuln

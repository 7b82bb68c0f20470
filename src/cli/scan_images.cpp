#include "cli/scan_images.hpp"

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "cli/args.hpp"
#include "core/clock.hpp"
#include "core/glob.hpp"
#include "cli/image_flags.hpp"
#include "cli/image_vulns.hpp"
#include "engines/image/inventory/catalogers.hpp"
#include "engines/image/inventory/sbom_input.hpp"
#include "engines/image/lint/image_object.hpp"
#include "engines/image/lint/lint.hpp"
#include "engines/image/lint/lint_facts.hpp"
#include "engines/vuln/findings.hpp"
#include "report/sbom.hpp"

namespace kg::cli {
namespace {

// One image as read: its Image object, or why it could not be read.
struct ReadImage {
  std::string object;
  std::string error;
  bool from_cache = false;
  std::optional<ImageInventory> inventory;  // when vulnerabilities are matched
};

// Beside a cached Image object, the image's inventory as a CycloneDX SBOM
// (read back by the SBOM reader), so a cached image can be matched too.
std::string inventory_cache_file(const std::string& object_file) {
  return object_file.empty() ? std::string() : object_file.substr(0, object_file.size() - 5) + ".cdx.json";
}

void write_aside(const std::string& path, const std::string& text) {
  // Written aside and renamed, so a concurrent scan never reads half a file.
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  const std::string tmp = path + ".tmp" + std::to_string(std::hash<std::thread::id>{}(std::this_thread::get_id()));
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    f << text;
  }
  std::filesystem::rename(tmp, path, ec);
  if (ec) std::filesystem::remove(tmp, ec);
}

std::string cache_file(const std::string& dir, std::string_view digest) {
  if (dir.empty() || digest.rfind("sha256:", 0) != 0 || digest.size() != 71) return {};
  for (char c : digest.substr(7))
    if (!std::isxdigit(static_cast<unsigned char>(c))) return {};
  return dir + "/v" + std::to_string(image::kImageObjectVersion) + "/sha256-" + std::string(digest.substr(7)) +
         ".json";
}

// The digest a reference pins (…@sha256:…), else empty: only then is the
// cache consulted before reading, since a tag may move.
std::string_view pinned_digest(std::string_view ref) {
  const std::size_t at = ref.rfind("@sha256:");
  return at == std::string_view::npos ? std::string_view{} : ref.substr(at + 1);
}

ReadImage read_one(const std::string& ref, const ImageScanSettings& s, bool want_inventory) {
  ReadImage out;
  if (const std::string cached = cache_file(s.cache_dir, pinned_digest(ref)); !cached.empty()) {
    std::ifstream in(cached, std::ios::binary);
    std::ostringstream text;
    bool inventory_ok = !want_inventory;
    if (want_inventory) {
      const std::string sbom_path = inventory_cache_file(cached);
      std::ifstream sin(sbom_path, std::ios::binary);
      std::ostringstream sbom;
      if (sin && (sbom << sin.rdbuf()) && !sbom.str().empty()) {
        ImageInventory inv;
        std::vector<image::CatalogError> errors;
        if (image::read_sbom(sbom_path, sbom.str(), inv, errors)) {
          inv.reference = ref;
          out.inventory = std::move(inv);
          inventory_ok = true;
        }
      }
    }
    if (inventory_ok && in && (text << in.rdbuf()) && !text.str().empty()) {
      out.object = text.str();
      out.from_cache = true;
      return out;
    }
    out.inventory.reset();
  }
  image::LintCataloger facts;
  image::ImageReadResult r = image::inventory_image(ref, s.read, s.limits, {&facts});
  if (!r.ok()) {
    out.error = r.error;
    return out;
  }
  out.object = image::image_object_json(r, facts.facts());
  if (const std::string path = cache_file(s.cache_dir, r.inventory.manifest_digest); !path.empty()) {
    std::ostringstream sbom;
    SbomOptions fixed;
    fixed.timestamp = "1970-01-01T00:00:00Z";  // the inventory, not the moment it was cached
    fixed.uuid = "00000000-0000-4000-8000-000000000000";
    write_cyclonedx(r.inventory, sbom, fixed);
    write_aside(inventory_cache_file(path), sbom.str());
    write_aside(path, out.object);  // last: an object in the cache means its inventory is there
  }
  if (want_inventory) out.inventory = std::move(r.inventory);
  return out;
}

void tally(RuleTally& t, Result r) {
  if (r == Result::Exempt) {
    ++t.exempted;
    return;
  }
  ++t.evaluated;
  ++(r == Result::Pass ? t.passed : t.failed);
}

// The configuration's exemptions of the workload a container belongs to,
// applied to the image findings put under it (the image rules judged the
// image, not the workload, so the workload's exemptions were not seen there):
// a selector names the rule's id, its category (images), a tag (vulnerability
// for every vulnerability) or "*"; names, namespaces, containers and files
// are globs, as for any finding. Expired ones do not apply (the scan already
// warned about them).
struct WorkloadExemptions {
  const EvalOptions* eval = nullptr;
  std::string today;

  bool operator()(const ImageUse& u, const RuleInfo& rule, std::string& reason, std::string& until) const {
    if (!eval || !eval->use_exemptions) return false;
    auto selects = [&](const std::vector<std::string>& sels) {
      for (const std::string& sel : sels)
        if (sel == "*" || sel == "all" || sel == rule.id || sel == to_string(rule.category) || rule.has_tag(sel))
          return true;
      return false;
    };
    auto globs = [](const std::vector<std::string>& patterns, std::string_view text) {
      return patterns.empty() || any_glob(patterns, text);
    };
    for (const ExemptionRule& x : eval->exemptions) {
      if (!x.until.empty() && x.until < today) continue;
      if (!x.rules.empty() && !selects(x.rules)) continue;
      if (!x.except_rules.empty() && selects(x.except_rules)) continue;
      if (!globs(x.namespaces, u.ns) || !globs(x.names, u.name) || !globs(x.containers, u.container)) continue;
      if (!x.kinds.empty() && std::find(x.kinds.begin(), x.kinds.end(), u.kind) == x.kinds.end()) continue;
      if (!x.files.empty() && std::none_of(x.files.begin(), x.files.end(), [&](const std::string& p) {
            return path_glob_match(p, u.location.file);
          }))
        continue;
      reason = x.reason;
      until = x.until;
      return true;
    }
    return false;
  }
};

vuln::Tri tri(std::uint8_t v) { return v == 2 ? vuln::Tri::Yes : v == 1 ? vuln::Tri::No : vuln::Tri::Unknown; }

// The risk a vulnerability has depends on the workload that runs the image:
// each image is matched once, then scored per workload container with what
// its pod spec grants it and whether it is reachable from outside (a hostPort,
// or the scan's workload-exposed-externally verdict: a LoadBalancer or
// NodePort Service, an Ingress, a route). The per-image table keeps each
// match's highest risk over its workloads.
void add_vulnerability_findings(EngineResult& result, const Catalog& catalog, const std::vector<std::string>& refs,
                                std::vector<ReadImage>& read, const VulnRun& vulns, const WorkloadExemptions& exempt) {
  std::set<std::size_t> exposed;  // objects a Service, Ingress or route reaches from outside
  for (const FindingView f : result.findings)
    if (f.rule->id == kExposedRule && f.result != Result::Pass) exposed.insert(f.object);
  const bool reach_known = std::any_of(result.rules.begin(), result.rules.end(),
                                       [](const RuleInfo* r) { return r->id == kExposedRule; });
  vuln::VulnFindings findings(result, images_category(catalog));
  for (std::size_t i = 0; i < refs.size(); ++i) {
    if (!read[i].inventory) continue;
    const ImageInventory& inv = *read[i].inventory;
    std::vector<InputError> warnings;
    ImageVulnerabilities base = vulns.match(inv, vuln::WorkloadExposure{}, warnings);
    for (InputError& w : warnings) result.warnings.push_back(std::move(w));
    base.reference = refs[i];
    std::vector<double> highest(base.matches.size(), -1);
    for (const ImageUse& u : result.image_uses) {
      if (u.image != refs[i]) continue;
      vuln::WorkloadExposure e;
      e.privileged = tri(u.exposure.privileged);
      e.host_namespaces = tri(u.exposure.host_namespaces);
      e.runs_as_root = tri(u.exposure.runs_as_root);
      e.external = u.exposure.host_port == 2 || exposed.count(u.object) ? vuln::Tri::Yes
                   : u.exposure.host_port == 1 && reach_known              ? vuln::Tri::No
                                                                          : vuln::Tri::Unknown;
      ImageVulnerabilities mine = base;
      for (std::size_t k = 0; k < mine.matches.size(); ++k) {
        VulnMatch& m = mine.matches[k];
        m.risk = vuln::risk_score(vuln::risk_input(m, e));
        highest[k] = std::max(highest[k], m.risk);
      }
      vuln::VulnSubject where;
      where.kind = u.kind;
      where.ns = u.ns;
      where.name = u.name;
      where.container = u.container;
      where.location = u.location;
      where.evidence_paths = false;
      where.image = u.image;
      where.object = u.object;
      where.exempted = [&exempt, &u](const RuleInfo& rule, std::string& reason, std::string& until) {
        return exempt(u, rule, reason, until);
      };
      findings.add(mine, inv, where);
    }
    for (std::size_t k = 0; k < base.matches.size(); ++k)
      if (highest[k] >= 0) base.matches[k].risk = highest[k];
    std::stable_sort(base.matches.begin(), base.matches.end(),
                     [](const VulnMatch& a, const VulnMatch& b) { return a.risk > b.risk; });
    result.vulnerabilities.push_back(std::move(base));
  }
  findings.finish();
}

}  // namespace

void strip_rule(EngineResult& result, std::string_view id) {
  const auto it = std::find_if(result.rules.begin(), result.rules.end(), [&](const RuleInfo* r) { return r->id == id; });
  if (it == result.rules.end()) return;
  const auto index = static_cast<std::size_t>(it - result.rules.begin());
  const RuleInfo* rule = *it;
  std::vector<bool> keep(result.findings.size(), true);
  for (std::size_t i = 0; i < result.findings.size(); ++i) keep[i] = result.findings[i].rule != rule;
  result.findings.keep(keep);
  result.rules.erase(it);
  result.tallies.erase(result.tallies.begin() + static_cast<std::ptrdiff_t>(index));
  for (ScopeSummary& sc : result.scopes)
    if (index < sc.tallies.size()) sc.tallies.erase(sc.tallies.begin() + static_cast<std::ptrdiff_t>(index));
}

std::string default_image_cache_dir() {
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) return std::string(xdg) + "/kguard/images";
  if (const char* home = std::getenv("HOME"); home && *home) return std::string(home) + "/.cache/kguard/images";
  return {};
}

int parse_image_scan_flag(const std::vector<std::string>& args, std::size_t& i, ImageScanSettings& settings,
                          std::string& error) {
  const std::string& a = args[i];
  ArgCursor flag(args, i);
  std::string v;
  if (a == "--images") {
    settings.enabled = true;
  } else if (a == "--no-image-cache") {
    settings.cache_dir.clear();
  } else if (flag.is("--image-cache")) {
    if (!flag.value(v) || v.empty()) {
      error = "--image-cache needs a directory";
      return -1;
    }
    settings.cache_dir = v;
  } else if (flag.is("--image-jobs")) {
    long long n = 0;
    if (!flag.value(v) || !parse_int_in(v, 1, 64, n)) {
      error = "--image-jobs needs a number from 1 to 64";
      return -1;
    }
    settings.jobs = static_cast<unsigned>(n);
  } else {
    return parse_image_read_flag(args, i, settings.read, settings.limits, error);
  }
  return 1;
}

const char* image_scan_flags_help() {
  return R"(
Images (--images):
      --images                 also read every image the workloads run (once per
                               reference) and report the image hardening rules'
                               findings under each workload container, in the
                               Images category; an image that cannot be read is
                               an error (exit 2) at the container's image field
      --image-jobs N           images read at once (default 2)
      --image-cache DIR        image facts kept by digest (default
                               ~/.cache/kguard/images); a reference pinned by
                               digest (@sha256:...) is read from it when there
      --no-image-cache         neither read nor write the cache
)";
}

void add_image_findings(EngineResult& result, const Catalog& catalog, const EvalOptions& eval,
                        const ImageScanSettings& settings, bool quiet,
                        std::unique_ptr<image::ImageLinter>& keep, const VulnRun* vulns) {
  const bool match = vulns && vulns->active();
  std::vector<std::string> refs;
  {
    std::set<std::string> seen;
    for (const ImageUse& u : result.image_uses)
      if (seen.insert(u.image).second) refs.push_back(u.image);
  }
  if (refs.empty()) return;
  const unsigned workers = std::min<unsigned>(settings.jobs, static_cast<unsigned>(refs.size()));
  if (!quiet) {
    std::cerr << "kguard: reading " << refs.size() << " image" << (refs.size() == 1 ? "" : "s") << " (" << workers
              << " at a time)\n";
  }
  std::vector<ReadImage> read(refs.size());
  std::atomic<std::size_t> next{0};
  auto work = [&] {
    for (std::size_t i = next++; i < refs.size(); i = next++) read[i] = read_one(refs[i], settings, match);
  };
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < workers; ++t) pool.emplace_back(work);
  work();
  for (std::thread& t : pool) t.join();

  keep = std::make_unique<image::ImageLinter>(catalog, eval);
  std::map<std::string, EngineResult, std::less<>> verdicts;
  std::size_t cached = 0;
  for (std::size_t i = 0; i < refs.size(); ++i) {
    if (!read[i].error.empty()) continue;
    cached += read[i].from_cache ? 1 : 0;
    EngineResult lint = keep->lint(refs[i], std::move(read[i].object));
    for (InputError& e : lint.errors) result.errors.push_back(std::move(e));
    verdicts.emplace(refs[i], std::move(lint));
  }
  if (!quiet && cached > 0) std::cerr << "kguard: " << cached << " image(s) judged from the cache\n";

  // The image rules join the report's rules (a manifest scan runs none).
  std::map<const RuleInfo*, std::size_t> index;
  for (std::size_t i = 0; i < result.rules.size(); ++i) index[result.rules[i]] = i;
  auto rule_index = [&](const RuleInfo* rule) {
    auto [it, added] = index.emplace(rule, result.rules.size());
    if (added) {
      result.rules.push_back(rule);
      result.tallies.emplace_back();
      for (ScopeSummary& s : result.scopes) s.tallies.resize(result.rules.size());
    }
    return it->second;
  };

  const WorkloadExemptions exempt{&eval, eval.today.empty() ? utc_today() : eval.today};
  // Per workload and rule, the worst verdict over its containers' images.
  std::map<std::pair<std::size_t, std::size_t>, Result> verdict_of;
  auto worst = [](Result a, Result b) {
    auto rank = [](Result r) { return r == Result::Fail ? 2 : r == Result::Exempt ? 1 : 0; };
    return rank(a) >= rank(b) ? a : b;
  };
  for (const ImageUse& u : result.image_uses) {
    auto it = verdicts.find(u.image);
    if (it == verdicts.end()) {
      const std::size_t i = static_cast<std::size_t>(std::find(refs.begin(), refs.end(), u.image) - refs.begin());
      result.errors.push_back({u.location.file, u.location.line, u.location.column,
                               "image " + u.image + " of container " + u.container +
                                   " cannot be judged: " + read[i].error});
      continue;
    }
    const EngineResult& lint = it->second;
    // Every rule judged the image: a pass unless a finding (after the
    // workload's exemptions) says otherwise.
    for (const RuleInfo* rule : lint.rules) verdict_of.emplace(std::make_pair(u.object, rule_index(rule)), Result::Pass);
    for (const FindingView f : lint.findings) {
      if (f.result == Result::Pass) continue;
      Finding g;
      g.rule = f.rule;
      g.result = f.result;
      g.kind = u.kind;
      g.ns = u.ns;
      g.name = u.name;
      g.container = u.container;
      g.subject = u.image;
      // The image in front (messages-zh.yaml translates the rest in turn).
      g.message = "[image " + u.image + "] " + std::string(f.message);
      g.location = u.location;
      g.exemption_reason = std::string(f.exemption_reason);
      g.exemption_until = std::string(f.exemption_until);
      g.exemption_in_source = f.exemption_in_source;
      g.object = u.object;
      if (g.result == Result::Fail && exempt(u, *f.rule, g.exemption_reason, g.exemption_until))
        g.result = Result::Exempt;
      verdict_of[{u.object, rule_index(f.rule)}] = worst(verdict_of[{u.object, rule_index(f.rule)}], g.result);
      result.findings.push_back(g);
    }
  }
  for (const auto& [key, verdict] : verdict_of) {
    tally(result.tallies[key.second], verdict);
    if (key.first < result.object_scope.size() && result.object_scope[key.first] < result.scopes.size())
      tally(result.scopes[result.object_scope[key.first]].tallies[key.second], verdict);
  }
  if (match) add_vulnerability_findings(result, catalog, refs, read, *vulns, exempt);
  order_findings(result.findings);
}

}  // namespace kg::cli

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
#include "cli/image_flags.hpp"
#include "engines/image/inventory/catalogers.hpp"
#include "engines/image/lint/image_object.hpp"
#include "engines/image/lint/lint.hpp"
#include "engines/image/lint/lint_facts.hpp"

namespace kg::cli {
namespace {

// One image as read: its Image object, or why it could not be read.
struct ReadImage {
  std::string object;
  std::string error;
  bool from_cache = false;
};

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

ReadImage read_one(const std::string& ref, const ImageScanSettings& s) {
  ReadImage out;
  if (const std::string cached = cache_file(s.cache_dir, pinned_digest(ref)); !cached.empty()) {
    std::ifstream in(cached, std::ios::binary);
    std::ostringstream text;
    if (in && (text << in.rdbuf()) && !text.str().empty()) {
      out.object = text.str();
      out.from_cache = true;
      return out;
    }
  }
  image::LintCataloger facts;
  image::ImageReadResult r = image::inventory_image(ref, s.read, s.limits, {&facts});
  if (!r.ok()) {
    out.error = r.error;
    return out;
  }
  out.object = image::image_object_json(r, facts.facts());
  if (const std::string path = cache_file(s.cache_dir, r.inventory.manifest_digest); !path.empty()) {
    // Written aside and renamed, so a concurrent scan never reads half an object.
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
    const std::string tmp = path + ".tmp" + std::to_string(std::hash<std::thread::id>{}(std::this_thread::get_id()));
    {
      std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
      f << out.object;
    }
    std::filesystem::rename(tmp, path, ec);
    if (ec) std::filesystem::remove(tmp, ec);
  }
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

}  // namespace

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
                        std::unique_ptr<image::ImageLinter>& keep) {
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
    for (std::size_t i = next++; i < refs.size(); i = next++) read[i] = read_one(refs[i], settings);
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
    for (const RuleInfo* rule : lint.rules) {
      auto [v, added] = verdict_of.emplace(std::make_pair(u.object, rule_index(rule)), Result::Pass);
      (void)added;
      for (const FindingView f : lint.findings)
        if (f.rule == rule) v->second = worst(v->second, f.result);
    }
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
      result.findings.push_back(g);
    }
  }
  for (const auto& [key, verdict] : verdict_of) {
    tally(result.tallies[key.second], verdict);
    if (key.first < result.object_scope.size() && result.object_scope[key.first] < result.scopes.size())
      tally(result.scopes[result.object_scope[key.first]].tallies[key.second], verdict);
  }
  order_findings(result.findings);
}

}  // namespace kg::cli

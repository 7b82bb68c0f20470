// kguard scan --images: every image the scanned workloads run (the scan's
// EngineResult::image_uses), read once per reference by the image engine (the
// walk with the hardening lint's facts), judged by the catalog's image rules,
// and each image finding put under every workload container that runs the
// image, in the Images category of the same report.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "catalog/catalog.hpp"
#include "catalog/evaluator.hpp"
#include "engines/image/walk.hpp"
#include "model/engine_result.hpp"

namespace kg::image {
class ImageLinter;
}

namespace kg::cli {

class VulnRun;

// The rule whose verdicts say which workloads are reachable from outside the
// cluster (a LoadBalancer or NodePort Service, an Ingress, a route): scan
// --images with vulnerabilities runs it for the risk score even when it is
// not selected, and drops its own findings then (strip_rule).
inline constexpr std::string_view kExposedRule = "workload-exposed-externally";
// Removes rule `id` from `result`: its findings, its place in rules and
// tallies (and every scope's tallies).
void strip_rule(EngineResult& result, std::string_view id);

struct ImageScanSettings {
  bool enabled = false;
  image::ReadOptions read;
  image::WalkLimits limits;
  unsigned jobs = 2;       // images read at once (--image-jobs)
  std::string cache_dir;   // Image objects by manifest digest; "" = no cache
};

// Consumes args[i] when it is one of scan's image flags (--images,
// --image-jobs, --image-cache, --no-image-cache, and the image read flags):
// 1 consumed, 0 not one, -1 with `error`.
int parse_image_scan_flag(const std::vector<std::string>& args, std::size_t& i, ImageScanSettings& settings,
                          std::string& error);
const char* image_scan_flags_help();

// The default cache: $XDG_CACHE_HOME/kguard/images, else ~/.cache/kguard/images.
std::string default_image_cache_dir();

// Reads every image `result.image_uses` names and adds the image rules'
// verdicts to `result` (rules, tallies, findings in report order; an image
// that cannot be read is an error at the container's image field). The linter
// owns rules a config changed: `keep` holds it while the result is used.
// Progress and cache notes go to stderr unless `quiet`. With an open
// vulnerability database (`vulns`), each image's vulnerabilities join too:
// findings under every workload container that runs it, scored with that
// container's exposure, and EngineResult::vulnerabilities per image.
void add_image_findings(EngineResult& result, const Catalog& catalog, const EvalOptions& eval,
                        const ImageScanSettings& settings, bool quiet,
                        std::unique_ptr<image::ImageLinter>& keep, const VulnRun* vulns = nullptr);

}  // namespace kg::cli

// The vulnerability gate of kguard admit (docs/admission.md "Vulnerability
// policy"): which policy applies to an image in a namespace, what a policy
// decides over an image's vulnerabilities, and the seam through which the
// engine learns those vulnerabilities.
//
// The admission engine never reads an image or a database itself (engines
// never include each other): it asks an ImageVerdictSource, which the CLI
// layer implements by resolving the reference through the registry, keeping
// scan results by digest, and scanning a miss on a worker
// (src/cli/admit_images.cpp). Unit tests plug in their own source.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/inventory.hpp"
#include "model/severity.hpp"
#include "model/vulnerability.hpp"

namespace kg::admit {

using Deadline = std::chrono::steady_clock::time_point;

enum class GateMode : std::uint8_t { Enforce, Warn, Audit };
enum class OnMiss : std::uint8_t { Scan, Deny, Allow };
std::string_view to_string(GateMode m);
std::string_view to_string(OnMiss m);

// One accepted vulnerability: the id (or an alias of it), optionally only in
// one package, with why and until when.
struct VulnIgnore {
  std::string id;
  std::string package;  // "" = any package
  std::string reason;
  std::string until;  // YYYY-MM-DD, "" = never; applies through that day
  std::uint32_t line = 0;
};

// One entry of `admission.vulnerabilities`: the first whose registries match
// the image and whose namespaces match the Pod's namespace decides.
struct VulnPolicy {
  std::string name;
  std::vector<std::string> registries;  // reference globs; empty = every image
  std::vector<std::string> namespaces;  // name globs; with no selector either, every namespace
  LabelSelector namespace_selector;     // present when given
  GateMode mode = GateMode::Enforce;
  std::optional<Severity> fail_on;
  std::optional<double> max_risk;
  bool ignore_unfixed = false;
  std::vector<VulnIgnore> ignores;
  OnMiss on_miss = OnMiss::Scan;
  int budget_ms = 5000;  // how long a request may wait for a scan (and the registry)
  bool fail_closed = true;  // an enforced policy denies when it cannot judge
  std::uint32_t line = 0;

  // "failOn: high, maxRisk: 70, ignoreUnfixed" — what a denial quotes.
  std::string threshold() const;
};

// The policy for `image` in namespace `ns` (labels `labels`): the first that
// matches, else nullptr. Registries are matched against the reference as
// written and as normalised (docker.io/library/nginx:latest).
const VulnPolicy* select_policy(const std::vector<VulnPolicy>& policies, std::string_view image,
                                std::string_view ns, const Labels& labels);

// The image reference normalised: registry/repository[:tag][@digest], with
// Docker Hub's defaults made explicit; the text itself when it does not parse.
std::string normalise_reference(std::string_view image);

// Whether one policy's match block takes `image` in namespace `ns`: registries
// (globs) against the reference as written, then as normalised (cached in
// `normalised` across the policies of one selection), then namespace names or
// the selector; an empty block matches everything. Shared by select_policy and
// select_signature_policy.
bool policy_matches(const std::vector<std::string>& registries, const std::vector<std::string>& namespaces,
                    const LabelSelector& namespace_selector, std::string_view image, std::string_view ns,
                    const Labels& labels, std::string& normalised);

// What a policy decides over one image's vulnerabilities.
struct ImageJudgement {
  std::vector<const VulnMatch*> violations;  // over the threshold, worst first
  struct Ignored {
    const VulnMatch* match;
    const VulnIgnore* by;
  };
  std::vector<Ignored> ignored;   // over the threshold but accepted by an ignore
  std::size_t unfixed_skipped = 0;  // left out by ignore-unfixed
  std::size_t suppressed = 0;       // already suppressed by the matcher (VEX)
  std::uint64_t counts[4] = {};    // every unsuppressed match by severity (Low..Critical)
};
// `today` is YYYY-MM-DD (ignores whose expiry is before it no longer apply).
ImageJudgement judge_image(const VulnPolicy& policy, const ImageVulnerabilities& vulns, std::string_view today);

// "CVE-2024-1 (critical, openssl 3.0.1, fixed in 3.0.2)"
std::string describe_match(const VulnMatch& m);

// What the source knows of one image.
struct ImageVerdict {
  enum class Status : std::uint8_t {
    Scanned,  // vulns holds the result (from the cache or a scan just done)
    Miss,     // not in the cache and not waited for (on-miss deny/allow): a scan was started
    Timeout,  // resolution or scan did not finish within the deadline (it goes on in the background)
    Error,    // the registry, the image or the database failed: `error` says which
  };
  Status status = Status::Error;
  std::string digest;  // the manifest digest the reference resolved to ("" when not resolved)
  std::shared_ptr<const ImageVulnerabilities> vulns;
  std::string error;
  bool cache_hit = false;  // answered from the digest-keyed cache
  double scan_ms = 0;      // how long the scan took (0 on a hit)
};

class ImageVerdictSource {
 public:
  virtual ~ImageVerdictSource() = default;
  // Starts resolving and (on a miss) scanning `image` without waiting, so a
  // Pod's images are worked on at once.
  virtual void prefetch(const std::string& image) = 0;
  // The vulnerabilities of `image`: resolves the reference to a digest (a
  // pinned digest is used as is), answers from the cache, else scans it —
  // waiting until `deadline` when `scan_on_miss`, else returning Miss at once
  // with the scan started in the background.
  virtual ImageVerdict verdict(const std::string& image, Deadline deadline, bool scan_on_miss) = 0;
  // Prometheus text: cache hits and misses, scan time, resolution errors.
  virtual void render_metrics(std::string& out) const = 0;
};

}  // namespace kg::admit

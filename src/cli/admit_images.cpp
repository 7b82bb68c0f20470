#include "cli/admit_images.hpp"

#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli/image_vulns.hpp"
#include "engines/image/inventory/sbom_input.hpp"
#include "engines/image/lint/image_object.hpp"
#include "report/sbom.hpp"
#include "engines/image/inventory/catalogers.hpp"
#include "engines/vuln/db/database.hpp"
#include "engines/vuln/match/match.hpp"
#include "server/metrics.hpp"
#include "sources/image/image_source.hpp"
#include "sources/image/sources.hpp"
#include "sources/image/stream.hpp"

namespace kg::cli {
namespace {

using Clock = std::chrono::steady_clock;

constexpr double kScanBuckets[] = {0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
// Tags remembered at most (each a few hundred bytes).
constexpr std::size_t kMaxTags = 4096;

// The inventory sidecar scan --images keeps beside a digest's Image object
// (src/cli/scan_images.cpp: same folder, same name scheme).
std::string sidecar_path(const std::string& dir, std::string_view digest) {
  if (dir.empty() || digest.rfind("sha256:", 0) != 0 || digest.size() != 71) return {};
  for (char c : digest.substr(7))
    if (!std::isxdigit(static_cast<unsigned char>(c))) return {};
  return dir + "/v" + std::to_string(image::kImageObjectVersion) + "/sha256-" + std::string(digest.substr(7)) +
         ".cdx.json";
}

bool read_sidecar(const std::string& path, const std::string& ref, ImageInventory& inv) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  if (!in || !(text << in.rdbuf()) || text.str().empty()) return false;
  std::vector<image::CatalogError> errors;
  if (!image::read_sbom(path, text.str(), inv, errors)) return false;
  inv.reference = ref;
  return true;
}

void write_sidecar(const std::string& path, const ImageInventory& inv) {
  std::ostringstream sbom;
  SbomOptions fixed;
  fixed.timestamp = "1970-01-01T00:00:00Z";  // the inventory, not the moment it was cached
  fixed.uuid = "00000000-0000-4000-8000-000000000000";
  write_cyclonedx(inv, sbom, fixed);
  // Written aside and renamed, so a concurrent reader never sees half a file;
  // a cache that cannot be written (read-only filesystem) is no error.
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  const std::string tmp = path + ".tmp" + std::to_string(std::hash<std::thread::id>{}(std::this_thread::get_id()));
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    f << sbom.str();
    if (!f) {
      std::filesystem::remove(tmp, ec);
      return;
    }
  }
  std::filesystem::rename(tmp, path, ec);
  if (ec) std::filesystem::remove(tmp, ec);
}

double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

}  // namespace

RegistryImageSource::RegistryImageSource(AdmitImageSettings settings)
    : settings_(std::move(settings)),
      results_(settings_.cache_entries),
      tags_(std::chrono::milliseconds(settings_.tag_ttl_ms), kMaxTags),
      scan_buckets_(std::size(kScanBuckets), 0),
      // Resolutions are small requests: more of them at once than scans, so a
      // cache hit behind a slow scan is not kept waiting for a thread.
      resolvers_(4, "resolve"),
      scanners_(settings_.scan_workers, "scan") {
  if (settings_.db_path.empty()) settings_.db_path = vuln::default_db_path();
}

RegistryImageSource::~RegistryImageSource() = default;

RegistryImageSource::Resolved RegistryImageSource::resolve_now(const std::string& image) {
  Resolved r;
  std::string error;
  const image::ImageRef ref = image::parse_reference(image, error);
  if (!error.empty()) {
    r.error = error;
    return r;
  }
  // A Pod's image is always a registry reference: never a local path kguard would read.
  if (ref.kind != image::ImageRef::Kind::Registry) {
    r.error = "'" + image + "' is not a registry reference";
    return r;
  }
  const std::string repo = ref.registry + "/" + ref.repository;
  if (!ref.digest.empty()) {
    r.digest = ref.digest;
    r.pinned = true;
  } else {
    try {
      // HEAD the manifest: the digest the tag names now (an index's for a
      // multi-platform tag, as a pin would name it; the scan picks --platform).
      r.digest = image::registry_manifest_digest(ref, settings_.read);
      std::lock_guard lock(metrics_mu_);
      ++resolved_registry_;
    } catch (const image::ImageError& e) {
      r.error = e.what();
      return r;
    } catch (const std::exception& e) {
      r.error = std::string("resolving ") + image + ": " + e.what();
      return r;
    }
  }
  r.scan_ref = repo + "@" + r.digest;
  return r;
}

RegistryImageSource::Scan RegistryImageSource::scan_now(const std::string& digest, const std::string& scan_ref) {
  Scan s;
  const auto start = Clock::now();
  try {
    std::string error;
    auto db = vuln::VulnDatabase::open(settings_.db_path, &error);
    if (!db) {
      s.error = "vulnerability database " + settings_.db_path + ": " + error + " (build it with kguard db build)";
    } else {
      const std::string sidecar = sidecar_path(settings_.disk_cache_dir, digest);
      ImageInventory inv;
      bool have = !sidecar.empty() && read_sidecar(sidecar, scan_ref, inv);
      if (have) {
        std::lock_guard lock(metrics_mu_);
        ++disk_hits_;
      } else {
        image::ImageReadResult read = image::inventory_image(scan_ref, settings_.read, settings_.limits);
        if (!read.ok()) {
          s.error = read.error;
        } else {
          inv = std::move(read.inventory);
          have = true;
          if (!sidecar.empty()) write_sidecar(sidecar, inv);
        }
      }
      if (have) {
        auto vulns = std::make_shared<ImageVulnerabilities>(vuln::match_image(inv, *db, vuln::MatchOptions{}));
        // Severity from CVSS where no vendor said, and the risk score. The
        // result is shared by every Pod that runs the digest, so the exposure
        // is the image's alone (unknown): a Pod's own exposure is not applied.
        score_matches(*vulns, vuln::WorkloadExposure{});
        vulns->reference = scan_ref;
        if (vulns->manifest_digest.empty()) vulns->manifest_digest = digest;
        s.vulns = std::move(vulns);
      }
    }
  } catch (const std::exception& e) {
    s.error = std::string("scanning ") + scan_ref + ": " + e.what();
  }
  s.ms = ms_since(start);
  // Cached by the job itself, so a scan nobody waited for still answers the next request.
  if (s.vulns) results_.put(digest, s.vulns);
  record_scan(s);
  return s;
}

void RegistryImageSource::record_scan(const Scan& s) {
  std::lock_guard lock(metrics_mu_);
  ++(s.vulns ? scans_ok_ : scan_errors_);
  const double seconds = s.ms / 1000;
  for (std::size_t i = 0; i < std::size(kScanBuckets); ++i)
    if (seconds <= kScanBuckets[i]) ++scan_buckets_[i];
  scan_seconds_sum_ += seconds;
}

void RegistryImageSource::check_db() {
  struct stat st{};
  std::string stamp = "missing";
  if (::stat(settings_.db_path.c_str(), &st) == 0) {
    stamp = std::to_string(st.st_size) + ":" + std::to_string(st.st_mtim.tv_sec) + "." +
            std::to_string(st.st_mtim.tv_nsec) + ":" + std::to_string(st.st_ino);
  }
  std::lock_guard lock(db_mu_);
  if (stamp == db_stamp_) return;
  if (!db_stamp_.empty()) {
    // Results matched against another database: judged again on the next request.
    results_.clear();
    std::lock_guard m(metrics_mu_);
    ++invalidations_;
  }
  db_stamp_ = std::move(stamp);
}

void RegistryImageSource::prefetch(const std::string& image) {
  // Starts the resolution (which starts the scan of a digest not in the
  // cache) and waits for nothing; pinned or recently resolved references go
  // straight to the scan.
  if (image.find("@sha256:") != std::string::npos) {
    if (Resolved r = resolve_now(image); r.error.empty()) start_scan(r.digest, r.scan_ref, true);
    return;
  }
  if (auto digest = tags_.get(image)) {
    start_scan(*digest, image);
    return;
  }
  (void)resolving_.run(image, resolvers_, [this, image] { return resolve_and_start(image); });
}

RegistryImageSource::Resolved RegistryImageSource::resolve_and_start(const std::string& image) {
  Resolved r = resolve_now(image);
  if (r.error.empty()) {
    // Remembered here, not by a waiter: a request that gave up still leaves the digest for the next.
    if (!r.pinned) tags_.put(image, r.digest);
    start_scan(r.digest, r.scan_ref, true);
  }
  return r;
}

void RegistryImageSource::start_scan(const std::string& digest, const std::string& ref_or_image, bool is_scan_ref) {
  if (results_.get(digest)) return;
  std::string scan_ref = ref_or_image;
  if (!is_scan_ref) {
    std::string error;
    const image::ImageRef ref = image::parse_reference(ref_or_image, error);
    scan_ref = ref.registry + "/" + ref.repository + "@" + digest;
  }
  (void)scanning_.run(digest, scanners_, [this, digest, scan_ref] { return scan_now(digest, scan_ref); });
}

admit::ImageVerdict RegistryImageSource::verdict(const std::string& image, admit::Deadline deadline,
                                                 bool scan_on_miss) {
  using Status = admit::ImageVerdict::Status;
  admit::ImageVerdict v;
  check_db();

  // Reference → digest.
  Resolved r;
  if (image.find("@sha256:") != std::string::npos) {
    // Pinned: no registry round trip (resolve_now only parses it).
    r = resolve_now(image);
    std::lock_guard lock(metrics_mu_);
    ++(r.error.empty() ? resolved_pinned_ : resolve_errors_);
  } else if (auto digest = tags_.get(image)) {
    r.digest = *digest;
    std::string error;
    const image::ImageRef ref = image::parse_reference(image, error);
    r.scan_ref = ref.registry + "/" + ref.repository + "@" + r.digest;
    std::lock_guard lock(metrics_mu_);
    ++resolved_cached_;
  } else {
    bool started = false;
    auto flight = resolving_.run(image, resolvers_, [this, image] { return resolve_and_start(image); }, &started);
    if (flight.wait_until(deadline) != std::future_status::ready) {
      v.status = scan_on_miss ? Status::Timeout : Status::Miss;
      v.error = "resolving " + image + " through the registry did not finish in time";
      std::lock_guard lock(metrics_mu_);
      ++timeouts_;
      return v;
    }
    try {
      r = flight.get();
    } catch (const std::exception& e) {
      r.error = std::string("resolving ") + image + ": " + e.what();
    }
    std::lock_guard lock(metrics_mu_);
    if (!r.error.empty()) ++resolve_errors_;
    else if (r.pinned) ++resolved_pinned_;
  }
  if (!r.error.empty()) {
    v.status = Status::Error;
    v.error = r.error;
    return v;
  }
  v.digest = r.digest;

  // Digest → vulnerabilities.
  if (auto hit = results_.get(r.digest)) {
    v.status = Status::Scanned;
    v.vulns = *hit;
    v.cache_hit = true;
    std::lock_guard lock(metrics_mu_);
    ++hits_;
    return v;
  }
  bool started = false;
  auto flight = scanning_.run(
      r.digest, scanners_, [this, digest = r.digest, ref = r.scan_ref] { return scan_now(digest, ref); }, &started);
  {
    std::lock_guard lock(metrics_mu_);
    ++misses_;
    if (!started) ++joined_;
  }
  if (!scan_on_miss) {
    v.status = Status::Miss;
    return v;
  }
  if (flight.wait_until(deadline) != std::future_status::ready) {
    v.status = Status::Timeout;
    std::lock_guard lock(metrics_mu_);
    ++timeouts_;
    return v;
  }
  Scan s;
  try {
    s = flight.get();
  } catch (const std::exception& e) {
    s.error = std::string("scanning ") + image + ": " + e.what();
  }
  if (!s.vulns) {
    v.status = Status::Error;
    v.error = s.error;
    return v;
  }
  v.status = Status::Scanned;
  v.vulns = s.vulns;
  v.scan_ms = s.ms;
  return v;
}

void RegistryImageSource::render_metrics(std::string& out) const {
  using server::prometheus_number;
  std::lock_guard lock(metrics_mu_);
  auto counter = [&](const char* name, const char* help, std::initializer_list<std::pair<const char*, std::uint64_t>> rows,
                     const char* label) {
    out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " counter\n";
    for (const auto& [value, n] : rows)
      out += std::string(name) + "{" + label + "=\"" + value + "\"} " + std::to_string(n) + "\n";
  };
  counter("kguard_admission_image_cache_total", "Scan results asked of the digest-keyed cache: hit, miss, joined (a miss that waited on a scan already running).",
          {{"hit", hits_}, {"miss", misses_}, {"joined", joined_}}, "result");
  counter("kguard_admission_image_resolutions_total", "Image references resolved to a digest, by how.",
          {{"registry", resolved_registry_}, {"cached-tag", resolved_cached_}, {"pinned", resolved_pinned_},
           {"error", resolve_errors_}},
          "source");
  counter("kguard_admission_image_scans_total", "Image scans (read the image, match the database).",
          {{"ok", scans_ok_}, {"error", scan_errors_}}, "result");
  out += "# HELP kguard_admission_image_disk_hits_total Scans that matched an inventory from the on-disk cache instead of reading the image.\n"
         "# TYPE kguard_admission_image_disk_hits_total counter\n"
         "kguard_admission_image_disk_hits_total " + std::to_string(disk_hits_) + "\n";
  out += "# HELP kguard_admission_image_waits_timed_out_total Requests whose resolution or scan outlasted the budget.\n"
         "# TYPE kguard_admission_image_waits_timed_out_total counter\n"
         "kguard_admission_image_waits_timed_out_total " + std::to_string(timeouts_) + "\n";
  out += "# HELP kguard_admission_image_cache_invalidations_total The cache emptied because the database changed.\n"
         "# TYPE kguard_admission_image_cache_invalidations_total counter\n"
         "kguard_admission_image_cache_invalidations_total " + std::to_string(invalidations_) + "\n";
  out += "# HELP kguard_admission_image_cache_entries Scan results held.\n"
         "# TYPE kguard_admission_image_cache_entries gauge\n"
         "kguard_admission_image_cache_entries " + std::to_string(results_.size()) + "\n";
  out += "# HELP kguard_admission_image_scan_seconds Time to read and match one image.\n"
         "# TYPE kguard_admission_image_scan_seconds histogram\n";
  std::uint64_t total = scans_ok_ + scan_errors_;
  for (std::size_t i = 0; i < std::size(kScanBuckets); ++i) {
    out += "kguard_admission_image_scan_seconds_bucket{le=\"" + prometheus_number(kScanBuckets[i]) + "\"} " +
           std::to_string(scan_buckets_[i]) + "\n";
  }
  out += "kguard_admission_image_scan_seconds_bucket{le=\"+Inf\"} " + std::to_string(total) + "\n";
  out += "kguard_admission_image_scan_seconds_sum " + prometheus_number(scan_seconds_sum_) + "\n";
  out += "kguard_admission_image_scan_seconds_count " + std::to_string(total) + "\n";
}

}  // namespace kg::cli

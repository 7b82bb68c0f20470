// kguard admit's vulnerability gate, the part that touches registries, images
// and the database (so it lives in the CLI layer: engines/admit includes
// neither engines/image nor engines/vuln). It implements the admission
// engine's ImageVerdictSource:
//   reference ─► digest: a pinned @sha256 as is; a tag through the registry
//     (GET manifest, an index resolved to the --platform image), trusted for
//     --tag-ttl only, one resolution in flight per reference;
//   digest ─► vulnerabilities: a bounded LRU in memory; on a miss one scan per
//     digest on the scan workers (read_image through the registry, then
//     match_image against the database), whose result every waiting request
//     shares and the cache keeps; a request waits for it until its deadline.
// The database is opened per scan (a rebuilt file is picked up; SQLite
// handles are not shared between threads); when the file changes, the cache
// is emptied, since its results were matched against the old one.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "engines/admit/image_gate.hpp"
#include "engines/admit/scan_cache.hpp"
#include "engines/image/walk.hpp"

namespace kg::cli {

struct AdmitImageSettings {
  std::string db_path;              // "" = vuln::default_db_path()
  image::ReadOptions read;
  image::WalkLimits limits;
  std::size_t cache_entries = 512;  // scan results kept (by digest)
  int tag_ttl_ms = 30'000;          // how long a tag's digest is trusted (0 = ask every time)
  unsigned scan_workers = 1;        // images scanned at once
  // scan --images' on-disk cache (~/.cache/kguard/images): the inventory of
  // each digest read, as its CycloneDX sidecar, so a restarted webhook matches
  // a digest it read before without reading the image again. "" = none.
  std::string disk_cache_dir;
};

class RegistryImageSource final : public admit::ImageVerdictSource {
 public:
  explicit RegistryImageSource(AdmitImageSettings settings);
  ~RegistryImageSource() override;

  void prefetch(const std::string& image) override;
  admit::ImageVerdict verdict(const std::string& image, admit::Deadline deadline, bool scan_on_miss) override;
  void render_metrics(std::string& out) const override;

  const std::string& db_path() const { return settings_.db_path; }

 private:
  struct Resolved {
    std::string digest;
    std::string scan_ref;  // registry/repository@digest
    std::string error;
    bool pinned = false;
  };
  struct Scan {
    std::shared_ptr<const ImageVulnerabilities> vulns;
    std::string error;
    double ms = 0;
  };
  Resolved resolve_now(const std::string& image);
  // Resolves, then starts the scan of a digest the cache does not hold.
  Resolved resolve_and_start(const std::string& image);
  void start_scan(const std::string& digest, const std::string& ref_or_image, bool is_scan_ref = false);
  Scan scan_now(const std::string& digest, const std::string& scan_ref);
  void check_db();
  void record_scan(const Scan& s);

  AdmitImageSettings settings_;
  admit::LruCache<std::shared_ptr<const ImageVulnerabilities>> results_;
  admit::TtlCache<std::string> tags_;
  admit::SingleFlight<Resolved> resolving_;
  admit::SingleFlight<Scan> scanning_;

  std::mutex db_mu_;
  std::string db_stamp_;  // size and mtime of the database file last seen

  mutable std::mutex metrics_mu_;
  std::uint64_t hits_ = 0, misses_ = 0, joined_ = 0, timeouts_ = 0;
  std::uint64_t resolved_registry_ = 0, resolved_cached_ = 0, resolved_pinned_ = 0, resolve_errors_ = 0;
  std::uint64_t scans_ok_ = 0, scan_errors_ = 0, invalidations_ = 0, disk_hits_ = 0;
  std::vector<std::uint64_t> scan_buckets_;
  double scan_seconds_sum_ = 0;

  // Last: members are destroyed in reverse order, so the workers are joined
  // first, while everything their running jobs touch still exists.
  admit::Workers resolvers_;
  admit::Workers scanners_;
};

}  // namespace kg::cli

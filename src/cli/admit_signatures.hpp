// kguard admit's signature gate, the part that touches registries and keys
// (the CLI layer: engines/admit includes neither engines/sign nor the
// registry). It implements the admission engine's ImageSignatureSource:
//   reference ─► digest: a pinned @sha256 as is; a tag through the registry
//     (HEAD the manifest, as the vulnerability gate does), trusted for --tag-ttl;
//   digest + the policy's keys ─► verdict: cosign's signatures on that digest
//     (legacy sha256-<hex>.sig and Sigstore bundle referrers, engines/sign)
//     verified against the keys, any-of or all-of; verified verdicts kept
//     for --signature-ttl, unverified ones for --unsigned-ttl, one verification in flight per digest
//     and key set, a request waiting for it until its deadline.
//   digest + the policy's required attestations ─► each found (in-toto statements in DSSE envelopes,
//     both formats), signed by its keys, its content checked as `kguard verify-attestation` does;
//     part of the verdict and of its cache key.
// Registry errors are never cached: the next request asks again.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "engines/admit/scan_cache.hpp"
#include "engines/admit/signature_gate.hpp"
#include "sources/image/image_source.hpp"

namespace kg::sign {
class PublicKey;
struct KeylessOptions;
}

namespace kg::cli {

struct AdmitSignatureSettings {
  image::ReadOptions read;
  int tag_ttl_ms = 30'000;         // how long a tag's digest is trusted
  int verdict_ttl_ms = 300'000;    // how long a verified digest is kept (0 = verify every time)
  // How long an unverified one is: short, so an image signed just after a denial is admitted soon.
  int unverified_ttl_ms = 10'000;
  std::size_t cache_entries = 4096;
};

class RegistrySignatureSource final : public admit::ImageSignatureSource {
 public:
  explicit RegistrySignatureSource(AdmitSignatureSettings settings);
  ~RegistrySignatureSource() override;

  admit::SignatureVerdict verify(const std::string& image, const admit::SignaturePolicy& policy,
                                 admit::Deadline deadline) override;
  void render_metrics(std::string& out) const override;

 private:
  struct Resolved {
    std::string digest;
    std::string pinned;  // registry/repository@digest
    std::string error;
  };
  Resolved resolve_now(const std::string& image);
  admit::SignatureVerdict verify_now(const std::string& pinned, const std::string& digest,
                                     const admit::SignaturePolicy& policy);
  // The policy's required attestations on the digest, each into v.attestations; a registry or key
  // error makes v an Error.
  void check_attestations(const std::string& pinned, const std::string& digest, const admit::SignaturePolicy& policy,
                          admit::SignatureVerdict& v);
  // The policy's refused keys (revoked; outside their validity window now) for verify_image: the
  // revoked keys named by file or URI are loaded into `revoked_keys` and added to `ptrs`. An
  // error (a revoked key that cannot be read) is returned: such a verdict cannot be trusted.
  std::string refusals(const admit::SignaturePolicy& policy, const std::vector<std::shared_ptr<const sign::PublicKey>>& keys,
                       std::vector<const sign::PublicKey*>& ptrs,
                       std::vector<std::shared_ptr<const sign::PublicKey>>& revoked_keys,
                       std::map<std::string, std::string>& refused);
  // A policy's keyless trust (trusted root / chain, identity, timestamp authorities), read once per
  // policy; null with `error` when its files cannot be read.
  std::shared_ptr<const sign::KeylessOptions> keyless(const admit::SignaturePolicy& policy, std::string& error);
  // The keys of a reference, loaded once (a PEM file or a PKCS#11 token's public key).
  std::shared_ptr<const sign::PublicKey> key(const std::string& ref, std::string& error);

  AdmitSignatureSettings settings_;
  admit::TtlCache<std::string> tags_;
  admit::TtlCache<admit::SignatureVerdict> verdicts_;    // verified
  admit::TtlCache<admit::SignatureVerdict> unverified_verdicts_;
  admit::SingleFlight<Resolved> resolving_;
  admit::SingleFlight<admit::SignatureVerdict> verifying_;

  std::mutex keys_mu_;
  std::map<std::string, std::shared_ptr<const sign::PublicKey>> keys_;
  std::map<std::string, std::shared_ptr<const sign::KeylessOptions>> keyless_;  // by trust fields

  mutable std::mutex metrics_mu_;
  std::uint64_t hits_ = 0, misses_ = 0, timeouts_ = 0;
  std::uint64_t verified_ = 0, unverified_ = 0, errors_ = 0;

  admit::Workers workers_;  // last: joined first
};

}  // namespace kg::cli

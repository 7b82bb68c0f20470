// The signature gate of kguard admit (docs/admission.md "Signature policy",
// docs/signing.md "Admission"): which signature policy applies to an image in
// a namespace, and the seam through which the engine learns whether the
// image's digest carries signatures by the policy's keys.
//
// As with the vulnerability gate (image_gate.hpp), the engine never touches a
// registry or a key: it asks an ImageSignatureSource, which the CLI layer
// implements (src/cli/admit_signatures.cpp) by resolving the tag to a digest,
// verifying cosign's signatures on that digest, and keeping verdicts by digest.
#pragma once

#include <cstdint>
#include <optional>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "engines/admit/image_gate.hpp"

namespace kg::admit {

// One entry of a signature policy's `attestations:` (docs/signing.md "Admission"): an in-toto
// attestation of this predicate type, signed by the keys, on the digest the image resolves to, whose
// content passes what `kguard verify-attestation` checks (max-severity, max-age, require-sbom).
struct RequiredAttestation {
  std::string type;            // as written: cosign's short name (vuln, cyclonedx, ...) or a URI
  std::string predicate_type;  // the URI
  std::vector<std::string> keys;  // empty: the policy's keys
  bool require_all = false;       // every key must have signed one (else any one); default: the policy's
  bool require_set = false;       // `require:` was written (else the policy's applies)
  std::optional<int> max_severity;       // 0 low .. 3 critical: nothing above it at scan time
  std::optional<std::int64_t> max_age_s;  // the predicate's time younger than this
  bool require_sbom = false;              // the image also carries a verified CycloneDX or SPDX attestation
  std::uint32_t line = 0;
};

// Rotation: a key of a policy may carry a name and a validity window (seconds since the epoch),
// so that old and new keys are both accepted while images are re-signed, each only in its time.
struct SignatureKeyWindow {
  std::string name;
  std::int64_t not_before = std::numeric_limits<std::int64_t>::min();
  std::int64_t not_after = std::numeric_limits<std::int64_t>::max();
};

// Keyless signatures a policy accepts (docs/signing.md "Keyless: certificates"): a certificate
// chaining to the trust source (paths), naming the identity and OIDC issuer. The signing time is a
// verified RFC 3161 timestamp (timestamp_chain) or, with ignore_tlog, the current time.
struct SignatureKeyless {
  std::string trusted_root, certificate_chain, timestamp_chain;
  std::string identity, identity_regexp, issuer, issuer_regexp;
  bool ignore_tlog = false;
  bool present = false;
};

// One entry of `admission.signatures`: the first whose registries match the
// image and whose namespaces match the Pod's namespace decides.
struct SignaturePolicy {
  std::string name;
  std::vector<std::string> registries;  // reference globs; empty = every image
  std::vector<std::string> namespaces;  // name globs; with no selector either, every namespace
  LabelSelector namespace_selector;
  std::vector<std::string> keys;  // PEM public key files or PKCS#11 URIs
  bool require_all = false;       // every key must have signed (else any one)
  std::vector<SignatureKeyWindow> key_windows;  // parallel to keys (name and window of each)
  // Keys whose signatures never count: this policy's revokedKeys and admission.revokedKeys (key
  // files, PKCS#11 URIs, or sha256:<hex> fingerprints).
  std::vector<std::string> revoked_keys;
  SignatureKeyless keyless;  // counts as one more signer beside `keys`
  GateMode mode = GateMode::Enforce;
  int budget_ms = 5000;     // how long a request may wait for the registry
  bool fail_closed = true;  // an enforced policy denies when it cannot verify
  std::uint32_t line = 0;
  std::vector<RequiredAttestation> attestations;  // each must be attached and pass
};

// The keys and the all-of flag an attestation requirement is judged with (its own, else the policy's).
const std::vector<std::string>& attestation_keys(const SignaturePolicy& p, const RequiredAttestation& a);
bool attestation_require_all(const SignaturePolicy& p, const RequiredAttestation& a);
// What the verdict of a policy depends on besides the digest, for the verdict cache's key: the key set,
// any/all, and every attestation requirement.
std::string verdict_cache_key(const SignaturePolicy& p);

const SignaturePolicy* select_signature_policy(const std::vector<SignaturePolicy>& policies, std::string_view image,
                                               std::string_view ns, const Labels& labels);

// How one required attestation fared on the digest.
struct AttestationVerdict {
  std::string predicate_type;
  std::string outcome;  // verified, missing (none signed by the keys), failed (signed, content refused)
  std::string reason;   // why, when not verified
  std::vector<std::string> signed_by;  // fingerprints of the keys whose attestation passed
};

struct SignatureVerdict {
  enum class Status : std::uint8_t {
    Verified,    // signed as the policy asks
    Unverified,  // the registry answered: no (or not enough) signatures by the keys; `reason` says which
    Timeout,     // the registry did not answer within the deadline
    Error,       // the registry or a key could not be read: `reason` says which
  };
  Status status = Status::Error;
  std::string digest;                // the manifest digest verified ("" when not resolved)
  std::string reason;
  std::vector<std::string> signed_by;  // fingerprints (sha256 of the key's DER, first 16 hex) that verified
  bool cache_hit = false;
  double verify_ms = 0;
  std::vector<AttestationVerdict> attestations;  // one per required attestation, in the policy's order
};

class ImageSignatureSource {
 public:
  virtual ~ImageSignatureSource() = default;
  // Whether `image` (resolved to its digest) is signed as `policy` asks,
  // answered by `deadline` at the latest.
  virtual SignatureVerdict verify(const std::string& image, const SignaturePolicy& policy, Deadline deadline) = 0;
  virtual void render_metrics(std::string& out) const = 0;
};

}  // namespace kg::admit

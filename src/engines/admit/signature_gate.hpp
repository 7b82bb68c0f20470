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
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "engines/admit/image_gate.hpp"

namespace kg::admit {

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
};

const SignaturePolicy* select_signature_policy(const std::vector<SignaturePolicy>& policies, std::string_view image,
                                               std::string_view ns, const Labels& labels);

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

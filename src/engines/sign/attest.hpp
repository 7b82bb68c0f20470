// Attestations in cosign's format (docs/signing.md "Attestations"): an in-toto statement whose
// subject is the image (name + sha256 digest) and whose predicate is an SBOM, a vulnerability scan,
// provenance or anything else, signed as a DSSE envelope (PAE over payloadType
// application/vnd.in-toto+json), attached the two ways cosign attaches it:
// - legacy: one layer of the OCI manifest tagged `sha256-<hex>.att` (media type
//   application/vnd.dsse.envelope.v1+json, the envelope as its bytes, annotation predicateType);
// - bundle: a Sigstore bundle v0.3 holding the envelope, as an OCI 1.1 referrer (sign.hpp's
//   attach_bundle / fetch_bundles).
// Verification never trusts the annotation: the signed statement says which image and which
// predicate type. A small policy then reads the predicate (max severity, age, an SBOM present).
#pragma once

#include <cstdint>
#include <ctime>
#include <optional>
#include <string>
#include <vector>

#include "engines/sign/formats.hpp"
#include "engines/sign/sign.hpp"

namespace kg::sign {

inline constexpr const char* kDsseLayerMediaType = "application/vnd.dsse.envelope.v1+json";
inline constexpr const char* kInTotoStatementV01 = "https://in-toto.io/Statement/v0.1";
inline constexpr const char* kPredicateCustom = "https://cosign.sigstore.dev/attestation/v1";
inline constexpr const char* kPredicateVuln = "https://cosign.sigstore.dev/attestation/vuln/v1";
inline constexpr const char* kPredicateCycloneDX = "https://cyclonedx.org/bom";
inline constexpr const char* kPredicateSPDX = "https://spdx.dev/Document";
inline constexpr const char* kPredicateTypeAnnotation = "predicateType";

// cosign's --type: a name of its table (custom, slsaprovenance, slsaprovenance02, slsaprovenance1,
// link, spdx, spdxjson, cyclonedx, vuln, openvex) or an absolute URI used as is; SignError otherwise.
std::string predicate_type_uri(const std::string& type);
// "sha256:<hex>" -> "sha256-<hex>.att".
std::string attestation_tag(const std::string& digest);

// The statement cosign attest writes for `type` (a name or a URI): in-toto Statement v0.1, subject
// {name: repo, digest: {sha256: hex}}; the predicate is the file's JSON (custom: {"Data": the
// file's text, "Timestamp": timestamp}; spdx: the file's text as a string). SignError naming
// `where` when the predicate must be JSON and is not.
std::string build_statement(const std::string& type, const std::string& predicate, const std::string& repo,
                            const std::string& digest, const std::string& timestamp, const std::string& where);

// The DSSE envelope as cosign's dsse wrapper writes it (the legacy layer's bytes).
std::string build_dsse_envelope(const std::string& payload_type, const std::string& payload, const std::string& signature);
struct DsseEnvelope {
  std::string payload_type, payload;    // payload decoded
  std::vector<std::string> signatures;  // decoded
};
DsseEnvelope parse_dsse_envelope(const std::string& bytes, const std::string& where);

// A statement with its predicate, for policies. SignError on anything else.
struct FullStatement {
  Statement header;
  std::string json;  // the payload, as signed
};

// ---- registry ----
struct AttestResult {
  ResolvedImage image;
  Format format = Format::Legacy;
  std::string predicate_type;
  std::string location;  // the .att tag or the referrer manifest digest
  bool referrers_fallback = false;
  std::vector<std::string> notes;
};
// Signs `statement_for(repo, digest)`'s statement and attaches it. replace (legacy): drop the .att
// layers of the same predicate type first, as cosign attest --replace does.
AttestResult attest_image(const std::string& ref, Signer& signer, const std::string& type, const std::string& predicate,
                          const std::string& predicate_where, Format format, bool replace, const RegistryOptions& options);

struct Attestation {
  Format format = Format::Legacy;
  std::string location;
  std::string predicate_type;  // the signed statement's when it verified, else the annotation's
  bool verified = false;
  std::string key;
  std::string reason;
  std::string statement;  // the signed statement JSON
};
struct AttestationsResult {
  ResolvedImage image;
  std::vector<Attestation> attestations;  // every one found, of every predicate type
  std::vector<std::string> notes;
};
// only_types: attestations whose layer or referrer annotation states another predicate type are
// not downloaded (empty: all are); one stating none is read, as the signed statement decides.
AttestationsResult verify_attestations(const std::string& ref, const std::vector<const PublicKey*>& keys,
                                       const VerifyOptions& what, const RegistryOptions& options,
                                       const std::vector<std::string>& only_types = {});
// One DSSE envelope checked against keys and the image digest (both formats end here).
FullStatement check_envelope(const std::string& payload_type, const std::string& payload,
                             const std::vector<std::string>& signatures, const std::vector<const PublicKey*>& keys,
                             const std::string& digest, std::string& key_out);

// ---- policy on the content ----
struct AttestationPolicy {
  std::optional<int> max_severity;          // 0 low .. 3 critical: nothing above it
  std::optional<std::int64_t> max_age;      // seconds
  bool require_sbom = false;                // a verified CycloneDX or SPDX attestation
  std::string source;                       // the file, for messages
};
// A flat YAML mapping: `max-severity: high`, `max-age: 7d`, `require-sbom: true`; '#' comments.
// SignError "<where>:<line>: ..." on an unknown key or bad value.
AttestationPolicy parse_policy(const std::string& text, const std::string& where);
// "7d", "12h", "30m", "90s", "2w" -> seconds; nullopt when malformed.
std::optional<std::int64_t> parse_duration(const std::string& text);
// RFC 3339 ("2026-12-04T21:00:00Z", fractional seconds, +hh:mm) -> epoch seconds.
std::optional<std::int64_t> parse_rfc3339(std::string_view text);

struct PolicyCheck {
  std::string name;  // "max-severity", "max-age", "require-sbom"
  bool passed = false;
  std::string detail;
};
// The checks that read one statement's predicate (max-severity, max-age).
std::vector<PolicyCheck> check_statement(const AttestationPolicy& p, const std::string& statement_json,
                                         std::int64_t now);

}  // namespace kg::sign

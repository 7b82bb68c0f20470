// cosign's signature formats, as bytes in and out (docs/signing.md "Formats"); no I/O here, so the
// fuzz targets reach every parser.
//
// Legacy tag scheme: the image's signatures are the layers of the OCI manifest tagged
// `sha256-<hex>.sig` in the same repository; each layer is a simple-signing payload
// (application/vnd.dev.cosign.simplesigning.v1+json) whose signature is the base64 of the layer
// annotation dev.cosignproject.cosign/signature.
//
// Sigstore bundle v0.3 (application/vnd.dev.sigstore.bundle.v0.3+json): a DSSE envelope over an
// in-toto statement whose subject is the image digest (predicate type
// https://sigstore.dev/cosign/sign/v1 for a signature), the one layer of an OCI 1.1 referrer
// manifest (artifactType = the bundle media type, subject = the image) found through the
// referrers API or its `sha256-<hex>` index tag.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "engines/sign/keys.hpp"

namespace kg::sign {

inline constexpr const char* kSimpleSigningMediaType = "application/vnd.dev.cosign.simplesigning.v1+json";
inline constexpr const char* kSignatureAnnotation = "dev.cosignproject.cosign/signature";
inline constexpr const char* kSimpleSigningType = "cosign container image signature";
inline constexpr const char* kBundleMediaType = "application/vnd.dev.sigstore.bundle.v0.3+json";
inline constexpr const char* kInTotoPayloadType = "application/vnd.in-toto+json";
inline constexpr const char* kInTotoStatementV1 = "https://in-toto.io/Statement/v1";
inline constexpr const char* kCosignSignPredicate = "https://sigstore.dev/cosign/sign/v1";
inline constexpr const char* kOciManifestMediaType = "application/vnd.oci.image.manifest.v1+json";
inline constexpr const char* kOciIndexMediaType = "application/vnd.oci.image.index.v1+json";
inline constexpr const char* kOciConfigMediaType = "application/vnd.oci.image.config.v1+json";
inline constexpr const char* kOciEmptyMediaType = "application/vnd.oci.empty.v1+json";

using Annotations = std::vector<std::pair<std::string, std::string>>;

// "sha256:<hex>" -> "sha256-<hex>" (+ ".sig" for the legacy signature tag).
std::string digest_tag(const std::string& digest);
std::string signature_tag(const std::string& digest);
// A digest "sha256:" + 64 lowercase hex.
bool is_sha256_digest(std::string_view digest);
// A digest in the OCI image spec's grammar (algorithm ":" encoded; sha512 and others included):
// well-formed, but kguard fetches only sha256 ones.
bool is_oci_digest(std::string_view digest);

// ---- simple signing ----
struct SimpleSigning {
  std::string docker_reference;  // critical.identity.docker-reference
  std::string digest;            // critical.image.docker-manifest-digest
  std::string type;              // critical.type
};
// The payload cosign signs for `digest` of `docker_reference` (repository without tag).
std::string simple_signing_payload(const std::string& docker_reference, const std::string& digest);
// SignError "<where>: ..." when it is not a simple-signing payload.
SimpleSigning parse_simple_signing(const std::string& bytes, const std::string& where);

// ---- the legacy signature manifest ----
struct Descriptor {
  std::string media_type, digest, artifact_type;
  std::uint64_t size = 0;
  Annotations annotations;
  std::size_t position = 0;  // its index in the list it was read from (skipped entries count)
  std::string annotation(std::string_view key) const;
};
// The predicate type a .att layer (annotation predicateType) or a bundle referrer (annotation
// dev.sigstore.bundle.predicateType) states, "" when it states none.
std::string stated_predicate_type(const Annotations& annotations);
// Whether an attestation stating `stated` is downloaded when only `wanted` types are needed (empty:
// all). One stating no type is (its signed statement decides); the statement is still checked
// whatever the annotation says.
bool predicate_type_wanted(const std::string& stated, const std::vector<std::string>& wanted);
struct SignatureManifest {
  std::vector<Descriptor> layers;  // every well-formed layer, simple-signing or not
  // A malformed layer is not read: "<where>:<line>: layers[2].size is not a size", and the rest are.
  std::vector<std::string> skipped;
};
SignatureManifest parse_signature_manifest(const std::string& bytes, const std::string& where);
// The manifest and its config (ggcr's empty image with these layers, as cosign writes it); the
// config's diff_ids are the layer digests (the layers are not compressed).
struct BuiltManifest {
  std::string manifest, config;
};
BuiltManifest build_signature_manifest(const std::vector<Descriptor>& layers);

// ---- DSSE / in-toto ----
// DSSE's pre-authentication encoding: "DSSEv1 <len type> <type> <len body> <body>".
std::string dsse_pae(const std::string& payload_type, const std::string& payload);
// cosign's statement for a signature: subject = the digest, predicate type cosign/sign/v1.
std::string sign_statement(const std::string& digest);
struct Statement {
  std::string type, predicate_type;
  std::vector<std::string> subject_digests;  // "sha256:<hex>" of each subject's sha256
};
Statement parse_statement(const std::string& bytes, const std::string& where);

// ---- the Sigstore bundle ----
struct Bundle {
  std::string media_type;
  std::string payload_type, payload;  // DSSE (payload decoded)
  std::vector<std::string> signatures;  // decoded
  std::string key_hint;
  bool has_certificate = false;
  std::string certificate;                  // DER: verificationMaterial.certificate, or the chain's first
  std::vector<std::string> chain;           // DER: the rest of x509CertificateChain
  std::string certificate_error;            // why a certificate present could not be read
  std::vector<std::string> timestamps;      // DER: timestampVerificationData.rfc3161Timestamps[].signedTimestamp
  bool has_dsse = false;
  bool has_message_signature = false;
  std::size_t tlog_entries = 0;
};
// A key-based bundle: DSSE envelope, public key hint = base64(sha256(SPKI DER)), no tlog entry.
std::string build_bundle(const std::string& payload, const std::string& signature, const PublicKey& key);
// A keyless bundle: the same DSSE envelope, verification material the signing certificate (v0.3).
std::string build_certificate_bundle(const std::string& payload, const std::string& signature,
                                     const std::string& certificate_der);
Bundle parse_bundle(const std::string& bytes, const std::string& where);

// ---- referrers ----
// The referrer manifest cosign writes for a bundle: empty config, one layer, subject, annotations.
std::string build_referrer_manifest(const Descriptor& layer, const Descriptor& subject, const std::string& artifact_type,
                                    const Annotations& annotations);
struct ReferrerManifest {
  std::string artifact_type;  // artifactType, else config.mediaType
  Descriptor subject;
  bool has_subject = false;
  std::vector<Descriptor> layers;
  Annotations annotations;
};
ReferrerManifest parse_referrer_manifest(const std::string& bytes, const std::string& where);
// An image index's manifests (the referrers API response, or its fallback tag). One bad entry
// does not hide the others: it is left out and named in skipped ("<where>:<line>: manifests[1].digest
// is not a digest"). Entries of another digest algorithm (sha512) are well-formed and kept, so an
// index kguard appends to keeps them; readers fetch only sha256 ones (fetchable_sha256).
struct Index {
  std::vector<Descriptor> manifests;
  std::vector<std::string> skipped;
};
Index parse_index(const std::string& bytes, const std::string& where);
// Whether kguard reads `d` (a sha256 digest); else a note "<where>: <list>[<position>].digest is <algo>
// ...: not read".
bool fetchable_sha256(const Descriptor& d, const std::string& where, const std::string& list,
                      std::vector<std::string>& notes);
std::string build_index(const std::vector<Descriptor>& manifests);

}  // namespace kg::sign

// Signing and verifying images in a registry, in cosign's formats (formats.hpp, docs/signing.md).
// The image reference is resolved to its manifest digest once; everything after works on that
// digest: signatures are attached to it and a signature only counts when its payload names it.
// Offline and key-based: no transparency log, no certificate authority.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engines/sign/certs.hpp"
#include "engines/sign/formats.hpp"
#include "engines/sign/keys.hpp"
#include "sources/image/image_source.hpp"

namespace kg::image {
class RegistryClient;
}

namespace kg::sign {

enum class Format { Legacy, Bundle };
const char* format_name(Format f);

struct RegistryOptions {
  image::ReadOptions read;  // allow_insecure, ca_file, docker_config, retries
};

// The image a reference names: registry, repository and manifest digest.
struct ResolvedImage {
  std::string registry, repository;
  std::string digest;
  std::string media_type;
  std::uint64_t size = 0;
  std::string tag;               // the tag the reference named, if any
  std::string docker_reference;  // registry/repository, as cosign writes it in payloads
  std::string pinned() const { return docker_reference + "@" + digest; }
};
// SignError on a malformed reference, a missing image, or a digest reference the registry's
// content does not match.
ResolvedImage resolve_image(const std::string& ref, const RegistryOptions& options, bool push);

struct SignResult {
  ResolvedImage image;
  Format format = Format::Legacy;
  std::string location;  // the signature tag (legacy) or the referrer manifest digest (bundle)
  bool already_signed = false;  // legacy: a signature of this key over this payload was there already
  bool referrers_fallback = false;  // bundle: the registry has no referrers API, the index tag was written
  std::vector<std::string> notes;
};
// `certificate` (PEM: the signer's certificate, optionally followed by nothing) and `chain` (PEM,
// intermediates then root) are attached as cosign sign --certificate/--certificate-chain does: the
// legacy layer's dev.sigstore.cosign/certificate and /chain annotations, or the bundle's
// verification material. The certificate's key must be the signer's.
struct SigningCertificate {
  std::string certificate_pem, chain_pem;
};
SignResult sign_image(const std::string& ref, Signer& signer, Format format, const RegistryOptions& options,
                      const SigningCertificate* certificate = nullptr);

// One signature found, verified or not.
struct Signature {
  Format format = Format::Legacy;
  std::string location;        // legacy: "<tag> layer N"; bundle: the referrer manifest digest
  bool verified = false;
  std::string key;             // fingerprint of the key that verified it
  std::string reason;          // why it was rejected
  std::string payload;         // the signed payload (simple signing JSON or in-toto statement)
  std::string docker_reference;  // legacy: critical.identity.docker-reference
  // Verified under a key the caller refuses (VerifyOptions::refused_keys: revoked, or outside its
  // validity window): `key` names it, `verified` is false and `reason` says why.
  bool refused = false;
  // Keyless: the certificate's identity (the SAN that matched) and OIDC issuer; `key` is the
  // certificate key's fingerprint.
  std::string identity, issuer;
  std::int64_t signed_at = 0;  // keyless with timestamps: the verified RFC 3161 time
};

// Keyless verification (certs.hpp): signatures carrying a certificate count when it chains to
// `root`, names `identity`, and was valid at the signing time. With `use_timestamps`, that time is
// the signature's RFC 3161 timestamp verified against root.timestamp_authorities (a signature
// without one is rejected); otherwise it is `at`, the current time by default (cosign's
// --insecure-ignore-tlog: kguard verifies no transparency-log entry), chosen by the caller.
struct KeylessOptions {
  TrustedRoot root;
  IdentityPolicy identity;
  bool use_timestamps = false;
  std::int64_t at = 0;  // seconds since the epoch; 0 = now
};

struct VerifyOptions {
  bool legacy = true;  // look for sha256-<hex>.sig
  bool bundle = true;  // look for bundle referrers
  // Keys whose signatures never count, fingerprint (hex sha256 of the DER) → why (a revoked key, a
  // key outside its validity window). Pass such keys among `keys` too, so that a signature they
  // made is recognised as theirs and reported so, instead of as "does not verify".
  std::map<std::string, std::string> refused_keys;
  const KeylessOptions* keyless = nullptr;  // null: certificates are not looked at
};

struct VerifyResult {
  ResolvedImage image;
  std::vector<Signature> signatures;  // every one found, in the order found
  std::vector<std::string> notes;
  bool ok() const {
    for (const Signature& s : signatures)
      if (s.verified) return true;
    return false;
  }
};
// Any signature that verifies under any of `keys` and names the image's digest passes.
VerifyResult verify_image(const std::string& ref, const std::vector<const PublicKey*>& keys, const VerifyOptions& what,
                          const RegistryOptions& options);

// ---- the pieces sign_image / verify_image are made of, for attestations and admission ----

// Attaches a Sigstore bundle to `img` as an OCI 1.1 referrer (artifactType = the bundle media type,
// annotation dev.sigstore.bundle.predicateType), and adds it to the sha256-<hex> index tag when the
// registry does not index referrers itself. `c` is a push client of img's repository.
struct AttachResult {
  std::string manifest_digest;
  bool fallback = false;  // the index tag was written
};
AttachResult attach_bundle(image::RegistryClient& c, const ResolvedImage& img, const std::string& bundle,
                           const std::string& predicate_type);

// Every Sigstore bundle referring to `img` (referrers API or its index tag; at most 64 read): the
// referrer's subject checked against img.digest, the bundle's bytes (not yet verified), or why it
// could not be read.
struct FoundBundle {
  std::string location;        // the referrer manifest's digest
  std::string predicate_type;  // the referrer's annotation (a hint; the signed statement decides)
  std::string bytes;
  std::string error;
};
// only_types: referrers whose annotation states another predicate type are not downloaded (empty: all).
std::vector<FoundBundle> fetch_bundles(image::RegistryClient& c, const ResolvedImage& img,
                                       std::vector<std::string>& notes, const std::vector<std::string>& only_types = {});

// A DSSE bundle checked: signed (any signature, any key) over the in-toto statement, whose subject
// names `digest`. SignError with the reason otherwise.
struct DsseCheck {
  std::string key;  // fingerprint of the key that verified it
  Statement statement;
};
DsseCheck check_dsse_bundle(const Bundle& b, const std::vector<const PublicKey*>& keys, const std::string& digest);

}  // namespace kg::sign

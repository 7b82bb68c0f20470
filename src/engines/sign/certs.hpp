// Keyless verification (docs/signing.md "Keyless: certificates"): a signature carrying a Fulcio-style
// X.509 certificate (cosign's legacy annotations dev.sigstore.cosign/certificate and /chain; a
// bundle's verificationMaterial certificate or x509CertificateChain) counts when the certificate
// chains to a given trusted root, is for code signing, names the expected identity (SAN email or
// URI) and OIDC issuer (Fulcio's extensions 1.3.6.1.4.1.57264.1.8, else the deprecated .1.1), and
// was valid at the signing time; the signature is then verified with the certificate's key.
//
// Trusted roots: Sigstore's trusted_root.json (certificateAuthorities, each a chain whose last
// certificate is the root, with a validFor window), or PEM files as cosign takes them
// (--certificate-chain: intermediates then the root; --ca-roots / --ca-intermediates).
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "engines/sign/keys.hpp"

namespace kg::sign {

inline constexpr const char* kCertificateAnnotation = "dev.sigstore.cosign/certificate";
inline constexpr const char* kChainAnnotation = "dev.sigstore.cosign/chain";

struct CertificateAuthority {
  std::vector<std::string> roots;          // DER, trusted as anchors
  std::vector<std::string> intermediates;  // DER, usable to build a chain
  std::int64_t valid_from = std::numeric_limits<std::int64_t>::min();
  std::int64_t valid_to = std::numeric_limits<std::int64_t>::max();
  std::string name;  // uri or subject, for messages
};
struct TrustedRoot {
  std::vector<CertificateAuthority> authorities;
  // RFC 3161 time-stamping authorities (trusted_root.json's timestampAuthorities, or cosign's
  // --timestamp-certificate-chain).
  std::vector<CertificateAuthority> timestamp_authorities;
  bool empty() const { return authorities.empty(); }
};
// Sigstore's trusted_root.json; SignError naming where:line otherwise. A root with no certificate
// authority is valid (cosign's key-only roots) and trusts no certificate.
TrustedRoot parse_trusted_root(const std::string& json, const std::string& where);
// Every CERTIFICATE block of a PEM file, as DER; SignError naming where when there is none or one is bad.
std::vector<std::string> pem_certificates(const std::string& pem, const std::string& where);
// cosign's --certificate-chain: intermediates, then the root (self-signed, last).
CertificateAuthority authority_from_chain(const std::string& pem, const std::string& where);

// What a certificate says (any DER: fuzzed).
struct CertificateInfo {
  std::vector<std::string> emails, uris;  // SAN
  std::string issuer;                     // the OIDC issuer extension
  std::string subject;                    // RFC 2253 text
  bool code_signing = false;              // extended key usage codeSigning
  bool is_ca = false;
  std::int64_t not_before = 0, not_after = 0;
};
CertificateInfo read_certificate(const std::string& der, const std::string& where);

// cosign's --certificate-identity[-regexp] and --certificate-oidc-issuer[-regexp]: exact values
// match whole; expressions (ECMAScript syntax) match anywhere in the value, as Go's MatchString.
struct IdentityPolicy {
  std::string identity, identity_regexp;
  std::string issuer, issuer_regexp;
};

struct VerifiedCertificate {
  PublicKey key;
  CertificateInfo info;
  std::string identity;  // the SAN that matched
};
// Chains `leaf` (DER) through `chain` (DER, from the signature: used only to build the path, never
// trusted) to an authority of `root` valid at `at` (seconds since the epoch), at that time; then
// code signing, identity and issuer. SignError saying what failed.
VerifiedCertificate verify_certificate(const std::string& leaf, const std::vector<std::string>& chain,
                                       const TrustedRoot& root, const IdentityPolicy& policy, std::int64_t at);

// cosign's legacy timestamp annotation, {"SignedRFC3161Timestamp": base64 of a TimeStampResp}.
inline constexpr const char* kTimestampAnnotation = "dev.sigstore.cosign/rfc3161timestamp";
// The time (seconds since the epoch) an RFC 3161 timestamp (a DER TimeStampResp, or the bare
// TimeStampToken) vouches that `signed_bytes` existed: its signature by a TSA certificate that
// chains to one of `authorities` (valid at that time), with extended key usage timeStamping, and
// its message imprint the hash of `signed_bytes` (cosign timestamps the raw signature). SignError
// saying what failed.
std::int64_t verify_timestamp(const std::string& der, const std::string& signed_bytes,
                              const std::vector<CertificateAuthority>& authorities);

// A certificate's public key DER equals `key`'s (signing with a certificate).
bool certificate_matches_key(const std::string& cert_der, const PublicKey& key);

}  // namespace kg::sign

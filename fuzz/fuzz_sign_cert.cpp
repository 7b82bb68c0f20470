// libFuzzer target for keyless verification's inputs (engines/sign/certs): Sigstore trusted_root.json
// files, PEM certificate chains (--certificate-chain, --ca-roots, the legacy chain annotation), DER
// certificates (a bundle's rawBytes) and RFC 3161 timestamps, read and then chain-verified against the input's own
// certificates, so the identity, issuer and extended-key-usage readers see every certificate.
#include <cstddef>
#include <cstdint>
#include <string>

#include "engines/sign/certs.hpp"

namespace {

void check_certificate(const std::string& der, const kg::sign::TrustedRoot& root) {
  kg::sign::CertificateInfo info = kg::sign::read_certificate(der, "fuzz");
  for (const std::string& e : info.emails)
    if (e.size() > der.size()) __builtin_trap();  // a SAN is inside the certificate
  kg::sign::IdentityPolicy any{"", ".*", "", ".*"};
  try {
    kg::sign::VerifiedCertificate vc = kg::sign::verify_certificate(der, {}, root, any, info.not_before);
    // Only a code-signing, non-CA certificate with a SAN gets through.
    if (!vc.info.code_signing || vc.info.is_ca || vc.identity.empty()) __builtin_trap();
  } catch (const kg::sign::SignError& e) {
    if (std::string(e.what()).empty()) __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    kg::sign::TrustedRoot root = kg::sign::parse_trusted_root(text, "fuzz");
    for (const kg::sign::CertificateAuthority& ca : root.authorities) {
      if (ca.roots.size() != 1) __builtin_trap();  // the chain's last certificate
      for (const std::string& der : ca.intermediates) check_certificate(der, root);
    }
  } catch (const kg::sign::SignError& e) {
    if (std::string(e.what()).empty()) __builtin_trap();
  }
  try {
    std::vector<std::string> certs = kg::sign::pem_certificates(text, "fuzz");
    if (certs.empty()) __builtin_trap();
    kg::sign::TrustedRoot root;
    root.authorities.push_back({});
    root.authorities[0].roots = {certs.back()};
    root.authorities[0].intermediates.assign(certs.begin(), certs.end() - 1);
    for (const std::string& der : certs) check_certificate(der, root);
    try {
      kg::sign::authority_from_chain(text, "fuzz");
    } catch (const kg::sign::SignError&) {
    }
  } catch (const kg::sign::SignError& e) {
    if (std::string(e.what()).empty()) __builtin_trap();
  }
  try {
    // RFC 3161 timestamps (a TimeStampResp or token): parsed, then verified against no authority.
    kg::sign::verify_timestamp(text, "signature", {});
    __builtin_trap();  // nothing verifies without a trusted time-stamping authority
  } catch (const kg::sign::SignError& e) {
    if (std::string(e.what()).empty()) __builtin_trap();
  }
  try {
    kg::sign::TrustedRoot empty;
    check_certificate(text, empty);
  } catch (const kg::sign::SignError& e) {
    if (std::string(e.what()).empty()) __builtin_trap();
  }
  return 0;
}

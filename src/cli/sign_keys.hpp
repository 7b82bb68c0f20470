// Key, password and registry-flag handling shared by kguard keygen / sign / verify
// (sign_command.cpp) and attest / verify-attestation (attest_command.cpp).
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engines/sign/keys.hpp"
#include "engines/sign/sign.hpp"

namespace kg::cli {

// A secret from the terminal (/dev/tty), without echo; throws SignError when there is none.
std::string prompt_secret(const std::string& prompt);

// The private-key password: COSIGN_PASSWORD when set (even empty), else asked on the terminal
// (twice when `confirm`, for a new key).
std::string key_password(bool confirm);

// The whole file; throws SignError naming the path when it cannot be read.
std::string read_sign_file(const std::string& path);

// --key REF for signing: a PKCS#11 URI (PIN asked on the terminal unless in the URI) or a PEM
// private key file (cosign's encrypted format takes key_password()).
std::unique_ptr<kg::sign::Signer> open_signer(const std::string& ref);

// --key REF for verifying: a PKCS#11 URI or a PEM public key; a private key is refused by name.
kg::sign::PublicKey open_public_key(const std::string& ref);

// --revoked REFs (public keys, PKCS#11 URIs, sha256:<hex> fingerprints) as VerifyOptions::refused_keys.
// The keys a REF names are appended to `keys`, so that their signatures are recognised as theirs.
std::map<std::string, std::string> revoked_key_refusals(const std::vector<std::string>& refs,
                                                        std::vector<kg::sign::PublicKey>& keys);

// Keyless verification flags, in cosign's spelling (--certificate-identity[-regexp],
// --certificate-oidc-issuer[-regexp], --trusted-root, --certificate-chain, --ca-roots,
// --ca-intermediates, --insecure-ignore-sct).
struct KeylessFlags {
  kg::sign::IdentityPolicy identity;
  std::string trusted_root, certificate_chain, ca_roots, ca_intermediates;
  std::string timestamp_chain;   // --timestamp-certificate-chain: RFC 3161 TSA root (+ intermediates)
  bool use_timestamps = false;   // --use-signed-timestamps (implied by --timestamp-certificate-chain)
  bool ignore_tlog = false;  // --insecure-ignore-tlog, set by the caller
  bool any = false;
  // 1 taken, 0 not ours, -1 error (in `error`).
  int parse(const std::vector<std::string>& args, std::size_t& i, std::string& error);
  bool given() const { return any; }
  // The trusted root and identity, checked: an identity and an issuer, one trust source, and the
  // signing time: verified RFC 3161 timestamps, or --insecure-ignore-tlog (the certificate is
  // checked at the current time). SignError otherwise.
  kg::sign::KeylessOptions options() const;
};

// The registry flags of sign / verify / attest at args[i]: 1 taken, 0 not ours, -1 error (in
// `error`). When `image_args` is given, the flag is also appended there as `kguard image` takes it.
int registry_flag(const std::vector<std::string>& args, std::size_t& i, kg::sign::RegistryOptions& o,
                  std::string& error, std::vector<std::string>* image_args = nullptr);

}  // namespace kg::cli

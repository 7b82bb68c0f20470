// PKCS#11 signing keys (RFC 7512 URIs, as cosign reads them): the module, token, session and URI
// are crypto/pkcs11's (shared with the KMS plugin); the key pair is found by object label and/or id;
// signing happens in the token (CKM_ECDSA over the SHA-256 digest), so the private key never leaves
// it. ECDSA P-256 keys. Errors of the token layer reach callers as SignError.
//   pkcs11:token=kguard;object=signing-key?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-value=1234
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "crypto/pkcs11_uri.hpp"
#include "engines/sign/keys.hpp"

namespace kg::sign {

using crypto::Pkcs11Uri;

bool is_pkcs11_uri(const std::string& ref);
// crypto::parse_pkcs11_uri with its error as a SignError naming the attribute that is wrong.
Pkcs11Uri parse_pkcs11_uri(const std::string& uri);
// The URI without its PIN, for messages and reports.
std::string redact_pkcs11_uri(const std::string& uri);

// A Signer whose private key stays in the token. `ask_pin` is asked when the URI carries neither
// pin-value nor pin-source (it may return "" for no login).
std::unique_ptr<Signer> open_pkcs11_signer(const std::string& uri, const std::function<std::string()>& ask_pin);
// The token's public key of that key pair (no login unless the URI gives a PIN).
PublicKey pkcs11_public_key(const std::string& uri);

}  // namespace kg::sign

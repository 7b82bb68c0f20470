// PKCS#11 keys (RFC 7512 URIs, as cosign reads them): the module is loaded with dlopen, the token
// found by label or slot id, the key pair by object label and/or id; signing happens in the token
// (CKM_ECDSA over the SHA-256 digest), so the private key never leaves it. ECDSA P-256 keys.
//   pkcs11:token=kguard;object=signing-key?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-value=1234
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "engines/sign/keys.hpp"

namespace kg::sign {

struct Pkcs11Uri {
  std::string token, object, id;  // id: raw bytes (percent-decoded)
  std::string slot_id;
  std::string module_path, pin_value, pin_source;
  bool has_slot = false;
};

bool is_pkcs11_uri(const std::string& ref);
// Parses the URI; SignError naming the attribute that is wrong.
Pkcs11Uri parse_pkcs11_uri(const std::string& uri);
// The URI without its PIN, for messages and reports.
std::string redact_pkcs11_uri(const std::string& uri);

// A Signer whose private key stays in the token. `ask_pin` is asked when the URI carries neither
// pin-value nor pin-source (it may return "" for no login).
std::unique_ptr<Signer> open_pkcs11_signer(const std::string& uri, const std::function<std::string()>& ask_pin);
// The token's public key of that key pair (no login unless the URI gives a PIN).
PublicKey pkcs11_public_key(const std::string& uri);

}  // namespace kg::sign

// libFuzzer target for key material a user hands kguard sign/verify: PEM public keys, private key
// files (unencrypted PKCS#8 / SEC 1 keys loaded whole; cosign's encrypted envelope parsed and
// checked without the scrypt derivation, which costs 64 MiB and ~0.2 s by design), and PKCS#11 URIs.
#include <cstddef>
#include <cstdint>
#include <string>

#include "engines/sign/keys.hpp"
#include "engines/sign/pkcs11.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    kg::sign::PublicKey k = kg::sign::PublicKey::from_pem(text, "fuzz");
    if (kg::sign::PublicKey::from_der(k.der(), "again").fingerprint() != k.fingerprint()) __builtin_trap();
    if (k.verify("message", text)) __builtin_trap();  // a key is no signature of "message"
  } catch (const kg::sign::SignError& e) {
    if (std::string(e.what()).empty()) __builtin_trap();
  }
  try {
    std::string label = kg::sign::pem_label(text);
    if (label.rfind("ENCRYPTED", 0) == 0) {
      kg::sign::Envelope e = kg::sign::parse_envelope(kg::sign::pem_decode(text, label, "fuzz"), "fuzz");
      if (e.nonce.size() != 24) __builtin_trap();
    } else {
      auto signer = kg::sign::load_private_key(text, "", "fuzz");
      std::string sig = signer->sign("payload");
      if (!signer->public_key().verify("payload", sig)) __builtin_trap();
    }
  } catch (const kg::sign::SignError& e) {
    if (std::string(e.what()).empty()) __builtin_trap();
  }
  try {
    kg::sign::Pkcs11Uri u = kg::sign::parse_pkcs11_uri(text);
    if (u.object.empty() && u.id.empty()) __builtin_trap();
    // No PIN survives redaction: every pin-value of the query reads ***.
    std::string red = kg::sign::redact_pkcs11_uri(text);
    std::size_t q = red.find('?');
    for (std::size_t p = red.find("pin-value=", q); q != std::string::npos && p != std::string::npos;
         p = red.find("pin-value=", p + 1))
      if ((p == q + 1 || red[p - 1] == '&') && red.compare(p + 10, 3, "***") != 0) __builtin_trap();
  } catch (const kg::sign::SignError& e) {
    if (std::string(e.what()).empty()) __builtin_trap();
  }
  return 0;
}

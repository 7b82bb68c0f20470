// Keys for signing and verification, in cosign's formats (docs/signing.md):
// - the encrypted private key file `cosign generate-key-pair` writes (PEM "ENCRYPTED SIGSTORE
//   PRIVATE KEY", or cosign 1's "ENCRYPTED COSIGN PRIVATE KEY"): a JSON envelope
//   {kdf: scrypt N/r/p + salt, cipher: nacl/secretbox + nonce, ciphertext} over a PKCS#8 key,
//   as github.com/secure-systems-lab/go-securesystemslib/encrypted makes it;
// - PEM public keys ("PUBLIC KEY", PKIX);
// - PKCS#11 URIs (RFC 7512), the private key staying in the token (pkcs11.hpp).
// ECDSA P-256 (SHA-256) and Ed25519 keys; signatures are what cosign writes: ASN.1 DER for ECDSA,
// 64 raw bytes for Ed25519.
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

namespace kg::sign {

class SignError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class KeyAlgorithm { EcdsaP256, Ed25519 };

// A public key that verifies signatures.
class PublicKey {
 public:
  ~PublicKey();
  PublicKey(PublicKey&&) noexcept;
  PublicKey& operator=(PublicKey&&) noexcept;
  PublicKey(const PublicKey&) = delete;
  PublicKey& operator=(const PublicKey&) = delete;

  // From PEM "PUBLIC KEY" (PKIX); SignError naming `where` otherwise.
  static PublicKey from_pem(std::string_view pem, const std::string& where);
  // From DER SubjectPublicKeyInfo.
  static PublicKey from_der(std::string_view der, const std::string& where);
  // Takes ownership of an EVP_PKEY* (void* keeps OpenSSL out of this header).
  explicit PublicKey(void* evp_pkey);

  KeyAlgorithm algorithm() const { return algorithm_; }
  // DER SubjectPublicKeyInfo and its PEM.
  std::string der() const;
  std::string pem() const;
  // sha256 of the DER, hex: how messages name a key.
  std::string fingerprint() const;
  // ECDSA: DER signature over sha256(message); Ed25519: over the message.
  bool verify(std::string_view message, std::string_view signature) const;

 private:
  void* pkey_ = nullptr;
  KeyAlgorithm algorithm_ = KeyAlgorithm::EcdsaP256;
};

// What signs: a key in memory (from a key file) or in a token (PKCS#11).
class Signer {
 public:
  virtual ~Signer() = default;
  virtual const PublicKey& public_key() const = 0;
  // The signature cosign would write over `message` (see above).
  virtual std::string sign(std::string_view message) = 0;
  // "cosign.key", "pkcs11:token=...;object=..." (without the PIN): for reports.
  virtual std::string describe() const = 0;
};

// A key pair as `cosign generate-key-pair` writes it: the encrypted private key PEM and the
// public key PEM. scrypt N=65536 r=8 p=1 (the library's "standard" level cosign uses).
struct KeyPairFiles {
  std::string private_pem;
  std::string public_pem;
};
KeyPairFiles generate_key_pair(std::string_view password, KeyAlgorithm algorithm = KeyAlgorithm::EcdsaP256);

// The JSON envelope alone (the PEM's body): encrypt `plaintext`, or decrypt it back. Decrypting
// accepts only the three scrypt parameter sets go-securesystemslib accepts (a key file cannot ask
// for gigabytes of scrypt memory); a wrong password is a SignError saying so.
std::string encrypt_envelope(std::string_view plaintext, std::string_view password, int log2_n = 16);
// The envelope's fields, checked (no key derivation: parse_envelope is cheap on any input).
struct Envelope {
  std::uint64_t n = 0;  // scrypt N (r = 8, p = 1)
  std::string salt, nonce, box;
};
Envelope parse_envelope(std::string_view envelope_json, const std::string& where);
std::string decrypt_envelope(std::string_view envelope_json, std::string_view password, const std::string& where);

// A Signer over a cosign private key file's bytes (encrypted PEM), or an unencrypted PKCS#8
// "PRIVATE KEY" / "EC PRIVATE KEY" PEM (password unused).
std::unique_ptr<Signer> load_private_key(std::string_view pem, std::string_view password, const std::string& where);

// The label of the PEM block in `pem` ("" when there is none).
std::string pem_label(std::string_view pem);
// The DER of the first PEM block labelled `label`; SignError naming `where` when missing or bad.
std::string pem_decode(std::string_view pem, std::string_view label, const std::string& where);
std::string pem_encode(std::string_view der, std::string_view label);

// ECDSA: the 64-byte r||s a PKCS#11 token returns, as ASN.1 DER (what cosign writes).
std::string ecdsa_raw_to_der(std::string_view raw);

std::string sha256_bytes(std::string_view data);
std::string hex(std::string_view bytes);

}  // namespace kg::sign

// Software AEAD for the sealed-key-file backend and the sealing of that file (OpenSSL EVP):
// AES-256-GCM, and SM4-GCM (GB/T 32907 block cipher in GCM mode, RFC 8998's construction) for
// deployments bound to Chinese national standards. The PKCS#11 backend never uses this: its
// AES-GCM runs inside the token.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "engines/kms/secret.hpp"

namespace kg::kms {

enum class Cipher : std::uint8_t { Aes256Gcm = 1, Sm4Gcm = 2 };

constexpr std::size_t kNonceSize = 12;
constexpr std::size_t kTagSize = 16;

const char* cipher_name(Cipher c);                       // "aes-256-gcm", "sm4-gcm"
std::optional<Cipher> parse_cipher(std::string_view s);  // the names above
std::size_t cipher_key_size(Cipher c);                   // 32, 16

// ciphertext || 16-byte tag. Throws std::runtime_error when the library fails (never on input).
std::string aead_seal(Cipher c, const SecretBytes& key, std::string_view nonce, std::string_view aad,
                      std::string_view plaintext);
// The plaintext in locked memory, or nullopt when the tag does not verify (wrong key, tampered data
// or additional data); the two are not told apart.
std::optional<SecretBytes> aead_open(Cipher c, const SecretBytes& key, std::string_view nonce, std::string_view aad,
                                     std::string_view sealed);

// Random bytes from OpenSSL's DRBG; throws when it fails.
std::string random_bytes(std::size_t n);
void random_fill(unsigned char* p, std::size_t n);

}  // namespace kg::kms

// AES-256-GCM through EVP; SM4-GCM as GCM (NIST SP 800-38D) over OpenSSL's SM4 block cipher, since
// OpenSSL 3.0 (Debian 12) has SM4 in ECB/CBC/CTR but not GCM: H = E(K, 0), the counter blocks from
// J0 = nonce || 1 through SM4-CTR, the tag = GHASH(H, A, C) xor E(K, J0). Checked against RFC 8998's
// SM4-GCM test vector (tests/unit/kms_unit_test.cpp).
#include "engines/kms/aead.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cstring>
#include <memory>
#include <stdexcept>

namespace kg::kms {
namespace {

struct CtxFree {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
using Ctx = std::unique_ptr<EVP_CIPHER_CTX, CtxFree>;

Ctx new_ctx() {
  Ctx c(EVP_CIPHER_CTX_new());
  if (!c) throw std::runtime_error("OpenSSL: EVP_CIPHER_CTX_new failed");
  return c;
}

const unsigned char* u8(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }

// ---- AES-256-GCM (EVP) ----
std::string aes_seal(const SecretBytes& key, std::string_view nonce, std::string_view aad, std::string_view pt) {
  Ctx c = new_ctx();
  std::string out(pt.size() + kTagSize, '\0');
  int len = 0, fin = 0;
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  if (EVP_EncryptInit_ex(c.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(c.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(nonce.size()), nullptr) != 1 ||
      EVP_EncryptInit_ex(c.get(), nullptr, nullptr, key.data(), u8(nonce)) != 1 ||
      (!aad.empty() && EVP_EncryptUpdate(c.get(), nullptr, &len, u8(aad), static_cast<int>(aad.size())) != 1) ||
      EVP_EncryptUpdate(c.get(), o, &len, u8(pt), static_cast<int>(pt.size())) != 1 ||
      EVP_EncryptFinal_ex(c.get(), o + len, &fin) != 1 ||
      EVP_CIPHER_CTX_ctrl(c.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(kTagSize), o + pt.size()) != 1)
    throw std::runtime_error("OpenSSL: AES-256-GCM encryption failed");
  return out;
}

std::optional<SecretBytes> aes_open(const SecretBytes& key, std::string_view nonce, std::string_view aad,
                                    std::string_view sealed) {
  std::size_t n = sealed.size() - kTagSize;
  Ctx c = new_ctx();
  SecretBytes out(n);
  int len = 0, fin = 0;
  unsigned char tag[kTagSize];
  std::memcpy(tag, sealed.data() + n, kTagSize);
  if (EVP_DecryptInit_ex(c.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(c.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(nonce.size()), nullptr) != 1 ||
      EVP_DecryptInit_ex(c.get(), nullptr, nullptr, key.data(), u8(nonce)) != 1 ||
      (!aad.empty() && EVP_DecryptUpdate(c.get(), nullptr, &len, u8(aad), static_cast<int>(aad.size())) != 1) ||
      EVP_DecryptUpdate(c.get(), out.data(), &len, u8(sealed), static_cast<int>(n)) != 1 ||
      EVP_CIPHER_CTX_ctrl(c.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(kTagSize), tag) != 1)
    throw std::runtime_error("OpenSSL: AES-256-GCM decryption failed");
  if (EVP_DecryptFinal_ex(c.get(), out.data() + len, &fin) != 1) return std::nullopt;
  return out;
}

// ---- SM4-GCM (GCM over SM4-ECB/SM4-CTR) ----
void sm4_ecb_block(const SecretBytes& key, const unsigned char in[16], unsigned char out[16]) {
  Ctx c = new_ctx();
  int len = 0;
  if (EVP_EncryptInit_ex(c.get(), EVP_sm4_ecb(), nullptr, key.data(), nullptr) != 1 ||
      EVP_CIPHER_CTX_set_padding(c.get(), 0) != 1 || EVP_EncryptUpdate(c.get(), out, &len, in, 16) != 1 || len != 16)
    throw std::runtime_error("OpenSSL: SM4 is not available");
}

// Multiplication in GF(2^128) with GCM's bit order (SP 800-38D, algorithm 1).
void gf_mul(unsigned char x[16], const unsigned char y[16]) {
  unsigned char z[16] = {0}, v[16];
  std::memcpy(v, y, 16);
  for (int i = 0; i < 128; ++i) {
    if (x[i / 8] & (0x80 >> (i % 8)))
      for (int k = 0; k < 16; ++k) z[k] ^= v[k];
    bool lsb = v[15] & 1;
    for (int k = 15; k > 0; --k) v[k] = static_cast<unsigned char>((v[k] >> 1) | (v[k - 1] << 7));
    v[0] >>= 1;
    if (lsb) v[0] ^= 0xe1;
  }
  std::memcpy(x, z, 16);
}

void ghash_update(unsigned char y[16], const unsigned char h[16], std::string_view data) {
  for (std::size_t i = 0; i < data.size(); i += 16) {
    std::size_t n = std::min<std::size_t>(16, data.size() - i);
    for (std::size_t k = 0; k < n; ++k) y[k] ^= static_cast<unsigned char>(data[i + k]);
    gf_mul(y, h);
  }
}

void sm4_tag(const SecretBytes& key, const unsigned char j0[16], std::string_view aad, std::string_view ct,
             unsigned char tag[16]) {
  unsigned char zero[16] = {0}, h[16], y[16] = {0}, ej0[16];
  sm4_ecb_block(key, zero, h);
  ghash_update(y, h, aad);
  ghash_update(y, h, ct);
  unsigned char lens[16];
  std::uint64_t abits = static_cast<std::uint64_t>(aad.size()) * 8, cbits = static_cast<std::uint64_t>(ct.size()) * 8;
  for (int k = 0; k < 8; ++k) {
    lens[k] = static_cast<unsigned char>(abits >> (56 - 8 * k));
    lens[8 + k] = static_cast<unsigned char>(cbits >> (56 - 8 * k));
  }
  ghash_update(y, h, std::string_view(reinterpret_cast<const char*>(lens), 16));
  sm4_ecb_block(key, j0, ej0);
  for (int k = 0; k < 16; ++k) tag[k] = y[k] ^ ej0[k];
  wipe(h, sizeof h);
  wipe(ej0, sizeof ej0);
}

// CTR from inc32(J0). OpenSSL's CTR increments all 128 bits; GCM's inc32 only the low 32. They agree
// unless the low word wraps, which a 12-byte nonce (J0 ends in 00000001) and < 2^32 blocks never do.
void sm4_ctr(const SecretBytes& key, const unsigned char j0[16], const unsigned char* in, std::size_t n,
             unsigned char* out) {
  if (n == 0) return;
  unsigned char ctr[16];
  std::memcpy(ctr, j0, 16);
  ctr[15] = 2;
  Ctx c = new_ctx();
  int len = 0;
  if (EVP_EncryptInit_ex(c.get(), EVP_sm4_ctr(), nullptr, key.data(), ctr) != 1 ||
      EVP_EncryptUpdate(c.get(), out, &len, in, static_cast<int>(n)) != 1 || static_cast<std::size_t>(len) != n)
    throw std::runtime_error("OpenSSL: SM4-CTR failed");
}

void make_j0(std::string_view nonce, unsigned char j0[16]) {
  std::memset(j0, 0, 16);
  std::memcpy(j0, nonce.data(), kNonceSize);
  j0[15] = 1;
}

std::string sm4_seal(const SecretBytes& key, std::string_view nonce, std::string_view aad, std::string_view pt) {
  unsigned char j0[16];
  make_j0(nonce, j0);
  std::string out(pt.size() + kTagSize, '\0');
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  sm4_ctr(key, j0, u8(pt), pt.size(), o);
  sm4_tag(key, j0, aad, std::string_view(out.data(), pt.size()), o + pt.size());
  return out;
}

std::optional<SecretBytes> sm4_open(const SecretBytes& key, std::string_view nonce, std::string_view aad,
                                    std::string_view sealed) {
  std::size_t n = sealed.size() - kTagSize;
  unsigned char j0[16], tag[16];
  make_j0(nonce, j0);
  sm4_tag(key, j0, aad, sealed.substr(0, n), tag);
  if (CRYPTO_memcmp(tag, sealed.data() + n, kTagSize) != 0) return std::nullopt;
  SecretBytes out(n);
  sm4_ctr(key, j0, u8(sealed), n, out.data());
  return out;
}

}  // namespace

const char* cipher_name(Cipher c) { return c == Cipher::Sm4Gcm ? "sm4-gcm" : "aes-256-gcm"; }

std::optional<Cipher> parse_cipher(std::string_view s) {
  if (s == "aes-256-gcm") return Cipher::Aes256Gcm;
  if (s == "sm4-gcm") return Cipher::Sm4Gcm;
  return std::nullopt;
}

std::size_t cipher_key_size(Cipher c) { return c == Cipher::Sm4Gcm ? 16 : 32; }

std::string aead_seal(Cipher c, const SecretBytes& key, std::string_view nonce, std::string_view aad,
                      std::string_view plaintext) {
  if (nonce.size() != kNonceSize || key.size() != cipher_key_size(c))
    throw std::runtime_error("AEAD: wrong key or nonce size");
  return c == Cipher::Sm4Gcm ? sm4_seal(key, nonce, aad, plaintext) : aes_seal(key, nonce, aad, plaintext);
}

std::optional<SecretBytes> aead_open(Cipher c, const SecretBytes& key, std::string_view nonce, std::string_view aad,
                                     std::string_view sealed) {
  if (nonce.size() != kNonceSize || key.size() != cipher_key_size(c))
    throw std::runtime_error("AEAD: wrong key or nonce size");
  if (sealed.size() < kTagSize) return std::nullopt;
  return c == Cipher::Sm4Gcm ? sm4_open(key, nonce, aad, sealed) : aes_open(key, nonce, aad, sealed);
}

void random_fill(unsigned char* p, std::size_t n) {
  if (n && RAND_bytes(p, static_cast<int>(n)) != 1) throw std::runtime_error("OpenSSL: RAND_bytes failed");
}

std::string random_bytes(std::size_t n) {
  std::string s(n, '\0');
  random_fill(reinterpret_cast<unsigned char*>(s.data()), n);
  return s;
}

}  // namespace kg::kms

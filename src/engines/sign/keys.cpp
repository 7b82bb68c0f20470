// Key files, public keys and signatures in cosign's formats (keys.hpp).
#include "engines/sign/keys.hpp"

#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <sodium.h>

#include <cstring>
#include <vector>

#include "core/base64.hpp"
#include "core/document.hpp"
#include "sources/image/json.hpp"
#include "sources/image/stream.hpp"

namespace kg::sign {
namespace {

EVP_PKEY* as_pkey(void* p) { return static_cast<EVP_PKEY*>(p); }

KeyAlgorithm algorithm_of(EVP_PKEY* k, const std::string& where) {
  int id = EVP_PKEY_get_base_id(k);
  if (id == EVP_PKEY_ED25519) return KeyAlgorithm::Ed25519;
  if (id == EVP_PKEY_EC) {
    char curve[64] = {};
    std::size_t len = 0;
    if (EVP_PKEY_get_utf8_string_param(k, "group", curve, sizeof curve, &len) == 1 &&
        (std::strcmp(curve, "prime256v1") == 0 || std::strcmp(curve, "P-256") == 0))
      return KeyAlgorithm::EcdsaP256;
    throw SignError(where + ": EC key on curve " + std::string(curve) + ": only P-256 is supported (cosign's default)");
  }
  throw SignError(where + ": unsupported key type (ECDSA P-256 or Ed25519)");
}

std::string der_of_public(EVP_PKEY* k) {
  int n = i2d_PUBKEY(k, nullptr);
  if (n <= 0) throw SignError("cannot encode the public key");
  std::string out(static_cast<std::size_t>(n), '\0');
  auto* p = reinterpret_cast<unsigned char*>(out.data());
  i2d_PUBKEY(k, &p);
  return out;
}

std::string digest_sign(EVP_PKEY* k, KeyAlgorithm alg, std::string_view message) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (!ctx) throw SignError("out of memory");
  std::string sig;
  bool ok = EVP_DigestSignInit(ctx, nullptr, alg == KeyAlgorithm::Ed25519 ? nullptr : EVP_sha256(), nullptr, k) == 1;
  std::size_t len = 0;
  ok = ok && EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(message.data()), message.size()) == 1;
  if (ok) {
    sig.resize(len);
    ok = EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                        reinterpret_cast<const unsigned char*>(message.data()), message.size()) == 1;
    sig.resize(len);
  }
  EVP_MD_CTX_free(ctx);
  if (!ok) throw SignError("signing failed");
  return sig;
}

class FileSigner : public Signer {
 public:
  // Owns `priv` from here on, also when this throws (an unsupported curve).
  FileSigner(EVP_PKEY* priv, std::string where) : priv_(priv), where_(std::move(where)) {
    try {
      alg_ = algorithm_of(priv, where_);
      // A PKCS#8 / SEC 1 key carries its public key beside the private one; OpenSSL takes it as
      // written, Go recomputes it. A key whose halves disagree would sign under one key and name
      // another (found by fuzz_sign_key): refuse it.
      EVP_PKEY_CTX* check = EVP_PKEY_CTX_new_from_pkey(nullptr, priv, nullptr);
      bool consistent = check && EVP_PKEY_pairwise_check(check) == 1;
      EVP_PKEY_CTX_free(check);
      if (!consistent) throw SignError(where_ + ": the private key's public half does not match it (a corrupted key)");
      pub_ = std::make_unique<PublicKey>(PublicKey::from_der(der_of_public(priv), where_));
    } catch (...) {
      EVP_PKEY_free(priv_);
      throw;
    }
  }
  ~FileSigner() override { EVP_PKEY_free(priv_); }
  FileSigner(const FileSigner&) = delete;
  FileSigner& operator=(const FileSigner&) = delete;
  const PublicKey& public_key() const override { return *pub_; }
  std::string sign(std::string_view message) override { return digest_sign(priv_, alg_, message); }
  std::string describe() const override { return where_; }

 private:
  EVP_PKEY* priv_;
  std::string where_;
  KeyAlgorithm alg_;
  std::unique_ptr<PublicKey> pub_;
};

std::string random_bytes(std::size_t n) {
  std::string out(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1)
    throw SignError("no random bytes from OpenSSL");
  return out;
}

std::string scrypt_key(std::string_view password, std::string_view salt, std::uint64_t n, std::uint64_t r,
                       std::uint64_t p) {
  std::string key(crypto_secretbox_KEYBYTES, '\0');
  // 128*r*N bytes of memory: 64 MiB at the standard level, 128 MiB at OWASP's.
  const std::uint64_t maxmem = 512ull << 20;
  if (EVP_PBE_scrypt(password.data(), password.size(), reinterpret_cast<const unsigned char*>(salt.data()),
                     salt.size(), n, r, p, maxmem, reinterpret_cast<unsigned char*>(key.data()), key.size()) != 1)
    throw SignError("scrypt failed");
  return key;
}

EVP_PKEY* parse_pkcs8(std::string_view der, const std::string& where) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  PKCS8_PRIV_KEY_INFO* info = d2i_PKCS8_PRIV_KEY_INFO(nullptr, &p, static_cast<long>(der.size()));
  if (!info) throw SignError(where + ": the private key is not PKCS#8");
  EVP_PKEY* k = EVP_PKCS82PKEY(info);
  PKCS8_PRIV_KEY_INFO_free(info);
  if (!k) throw SignError(where + ": the PKCS#8 private key cannot be read");
  return k;
}

}  // namespace

std::string sha256_bytes(std::string_view data) {
  unsigned char md[32];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<char*>(md), len);
}

std::string hex(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

std::string pem_label(std::string_view pem) {
  std::size_t b = pem.find("-----BEGIN ");
  if (b == std::string_view::npos) return "";
  std::size_t e = pem.find("-----", b + 11);
  if (e == std::string_view::npos) return "";
  return std::string(pem.substr(b + 11, e - b - 11));
}

std::string pem_decode(std::string_view pem, std::string_view label, const std::string& where) {
  std::string begin = "-----BEGIN " + std::string(label) + "-----";
  std::string end = "-----END " + std::string(label) + "-----";
  std::size_t b = pem.find(begin);
  if (b == std::string_view::npos) {
    throw SignError(where + ": no PEM block \"" + std::string(label) + "\"" +
                    (pem_label(pem).empty() ? "" : " (it holds \"" + pem_label(pem) + "\")"));
  }
  std::size_t body = b + begin.size();
  std::size_t e = pem.find(end, body);
  if (e == std::string_view::npos) throw SignError(where + ": PEM block \"" + std::string(label) + "\" has no END line");
  std::string_view text = pem.substr(body, e - body);
  if (text.find(':') != std::string_view::npos)
    throw SignError(where + ": PEM headers (encrypted legacy PEM) are not supported");
  auto der = base64_decode(text);
  if (!der || der->empty()) throw SignError(where + ": PEM block \"" + std::string(label) + "\" is not base64");
  return *der;
}

std::string pem_encode(std::string_view der, std::string_view label) {
  std::string b64 = base64_encode(der);
  std::string out = "-----BEGIN " + std::string(label) + "-----\n";
  for (std::size_t i = 0; i < b64.size(); i += 64) out += b64.substr(i, 64) + "\n";
  out += "-----END " + std::string(label) + "-----\n";
  return out;
}

std::string ecdsa_raw_to_der(std::string_view raw) {
  if (raw.size() != 64) throw SignError("ECDSA P-256 signature from the token is " + std::to_string(raw.size()) + " bytes, not 64");
  ECDSA_SIG* sig = ECDSA_SIG_new();
  BIGNUM* r = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()), 32, nullptr);
  BIGNUM* s = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()) + 32, 32, nullptr);
  if (!sig || !r || !s || ECDSA_SIG_set0(sig, r, s) != 1) {
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(sig);
    throw SignError("cannot encode the ECDSA signature");
  }
  int n = i2d_ECDSA_SIG(sig, nullptr);
  std::string out(n > 0 ? static_cast<std::size_t>(n) : 0, '\0');
  auto* p = reinterpret_cast<unsigned char*>(out.data());
  i2d_ECDSA_SIG(sig, &p);
  ECDSA_SIG_free(sig);
  return out;
}

// ---- PublicKey ----

PublicKey::PublicKey(void* evp_pkey) : pkey_(evp_pkey) { algorithm_ = algorithm_of(as_pkey(pkey_), "public key"); }
PublicKey::~PublicKey() { EVP_PKEY_free(as_pkey(pkey_)); }
PublicKey::PublicKey(PublicKey&& o) noexcept : pkey_(o.pkey_), algorithm_(o.algorithm_) { o.pkey_ = nullptr; }
PublicKey& PublicKey::operator=(PublicKey&& o) noexcept {
  std::swap(pkey_, o.pkey_);
  std::swap(algorithm_, o.algorithm_);
  return *this;
}

PublicKey PublicKey::from_der(std::string_view der, const std::string& where) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  EVP_PKEY* k = d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size()));
  if (!k || p != reinterpret_cast<const unsigned char*>(der.data()) + der.size()) {
    EVP_PKEY_free(k);
    throw SignError(where + ": not a DER SubjectPublicKeyInfo");
  }
  try {
    return PublicKey(k);
  } catch (const SignError& e) {
    throw SignError(where + ": " + e.what());
  }
}

PublicKey PublicKey::from_pem(std::string_view pem, const std::string& where) {
  return from_der(pem_decode(pem, "PUBLIC KEY", where), where);
}

std::string PublicKey::der() const { return der_of_public(as_pkey(pkey_)); }
std::string PublicKey::pem() const { return pem_encode(der(), "PUBLIC KEY"); }
std::string PublicKey::fingerprint() const { return hex(sha256_bytes(der())); }

bool PublicKey::verify(std::string_view message, std::string_view signature) const {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (!ctx) return false;
  bool ok = EVP_DigestVerifyInit(ctx, nullptr, algorithm_ == KeyAlgorithm::Ed25519 ? nullptr : EVP_sha256(), nullptr,
                                 as_pkey(pkey_)) == 1 &&
            EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                             reinterpret_cast<const unsigned char*>(message.data()), message.size()) == 1;
  EVP_MD_CTX_free(ctx);
  return ok;
}

// ---- the encrypted envelope ----

std::string encrypt_envelope(std::string_view plaintext, std::string_view password, int log2_n) {
  if (sodium_init() < 0) throw SignError("libsodium cannot initialise");
  std::string salt = random_bytes(32);
  std::string nonce = random_bytes(crypto_secretbox_NONCEBYTES);
  std::uint64_t n = std::uint64_t{1} << log2_n;
  std::string key = scrypt_key(password, salt, n, 8, 1);
  // secretbox.Seal's layout: the 16-byte Poly1305 tag, then the XSalsa20 ciphertext.
  std::string box(plaintext.size() + crypto_secretbox_MACBYTES, '\0');
  crypto_secretbox_easy(reinterpret_cast<unsigned char*>(box.data()),
                        reinterpret_cast<const unsigned char*>(plaintext.data()), plaintext.size(),
                        reinterpret_cast<const unsigned char*>(nonce.data()),
                        reinterpret_cast<const unsigned char*>(key.data()));
  sodium_memzero(key.data(), key.size());
  // go-securesystemslib's field order (encoding/json follows the struct).
  return "{\"kdf\":{\"name\":\"scrypt\",\"params\":{\"N\":" + std::to_string(n) + ",\"r\":8,\"p\":1},\"salt\":\"" +
         base64_encode(salt) + "\"},\"cipher\":{\"name\":\"nacl/secretbox\",\"nonce\":\"" + base64_encode(nonce) +
         "\"},\"ciphertext\":\"" + base64_encode(box) + "\"}";
}

Envelope parse_envelope(std::string_view envelope_json, const std::string& where) {
  std::unique_ptr<image::JsonDoc> doc;
  try {
    doc = image::parse_json(std::string(envelope_json), where);
  } catch (const image::ImageError& e) {
    throw SignError(e.what());
  }
  const Node* kdf = get(doc->root, "kdf");
  const Node* cipher = get(doc->root, "cipher");
  if (str(get(kdf, "name")) != "scrypt")
    throw SignError(where + ": kdf.name is \"" + std::string(str(get(kdf, "name"))) + "\", not scrypt");
  if (str(get(cipher, "name")) != "nacl/secretbox")
    throw SignError(where + ": cipher.name is \"" + std::string(str(get(cipher, "name"))) + "\", not nacl/secretbox");
  const Node* params = get(kdf, "params");
  std::string n = std::string(str(get(params, "N"))), r = std::string(str(get(params, "r"))),
              p = std::string(str(get(params, "p")));
  // go-securesystemslib's CheckParams: legacy 2^15, standard 2^16, OWASP 2^17; r=8, p=1. Anything
  // else could make a key file ask for gigabytes of scrypt memory.
  if ((n != "32768" && n != "65536" && n != "131072") || r != "8" || p != "1") {
    throw SignError(where + ": kdf.params N=" + n + " r=" + r + " p=" + p +
                    " are not one of the scrypt parameter sets cosign accepts (N 2^15/2^16/2^17, r 8, p 1)");
  }
  Envelope e;
  e.n = std::stoull(n);
  auto salt = base64_decode(str(get(kdf, "salt")));
  auto nonce = base64_decode(str(get(cipher, "nonce")));
  auto box = base64_decode(str(get(doc->root, "ciphertext")));
  if (!salt || salt->empty()) throw SignError(where + ": kdf.salt is not base64");
  if (!nonce || nonce->size() != crypto_secretbox_NONCEBYTES)
    throw SignError(where + ": cipher.nonce is not 24 base64 bytes");
  if (!box || box->size() < crypto_secretbox_MACBYTES) throw SignError(where + ": ciphertext is not base64 or too short");
  e.salt = std::move(*salt);
  e.nonce = std::move(*nonce);
  e.box = std::move(*box);
  return e;
}

std::string decrypt_envelope(std::string_view envelope_json, std::string_view password, const std::string& where) {
  if (sodium_init() < 0) throw SignError("libsodium cannot initialise");
  Envelope e = parse_envelope(envelope_json, where);
  std::string key = scrypt_key(password, e.salt, e.n, 8, 1);
  std::string plain(e.box.size() - crypto_secretbox_MACBYTES, '\0');
  int rc = crypto_secretbox_open_easy(reinterpret_cast<unsigned char*>(plain.data()),
                                      reinterpret_cast<const unsigned char*>(e.box.data()), e.box.size(),
                                      reinterpret_cast<const unsigned char*>(e.nonce.data()),
                                      reinterpret_cast<const unsigned char*>(key.data()));
  sodium_memzero(key.data(), key.size());
  if (rc != 0) throw SignError(where + ": decryption failed: wrong password (or the key file was altered)");
  return plain;
}

KeyPairFiles generate_key_pair(std::string_view password, KeyAlgorithm algorithm) {
  EVP_PKEY* k = algorithm == KeyAlgorithm::Ed25519 ? EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519")
                                                  : EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  if (!k) throw SignError("key generation failed");
  PKCS8_PRIV_KEY_INFO* info = EVP_PKEY2PKCS8(k);
  std::string der;
  if (info) {
    int n = i2d_PKCS8_PRIV_KEY_INFO(info, nullptr);
    der.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
    auto* p = reinterpret_cast<unsigned char*>(der.data());
    i2d_PKCS8_PRIV_KEY_INFO(info, &p);
    PKCS8_PRIV_KEY_INFO_free(info);
  }
  KeyPairFiles out;
  try {
    if (der.empty()) throw SignError("cannot encode the private key as PKCS#8");
    out.private_pem = pem_encode(encrypt_envelope(der, password), "ENCRYPTED SIGSTORE PRIVATE KEY");
    out.public_pem = pem_encode(der_of_public(k), "PUBLIC KEY");
  } catch (...) {
    OPENSSL_cleanse(der.data(), der.size());
    EVP_PKEY_free(k);
    throw;
  }
  OPENSSL_cleanse(der.data(), der.size());
  EVP_PKEY_free(k);
  return out;
}

std::unique_ptr<Signer> load_private_key(std::string_view pem, std::string_view password, const std::string& where) {
  std::string label = pem_label(pem);
  EVP_PKEY* k = nullptr;
  if (label == "ENCRYPTED SIGSTORE PRIVATE KEY" || label == "ENCRYPTED COSIGN PRIVATE KEY") {
    std::string envelope = pem_decode(pem, label, where);
    std::string der = decrypt_envelope(envelope, password, where);
    try {
      k = parse_pkcs8(der, where);
    } catch (...) {
      OPENSSL_cleanse(der.data(), der.size());
      throw;
    }
    OPENSSL_cleanse(der.data(), der.size());
  } else if (label == "PRIVATE KEY") {
    k = parse_pkcs8(pem_decode(pem, label, where), where);
  } else if (label == "EC PRIVATE KEY") {
    std::string der = pem_decode(pem, label, where);
    const auto* p = reinterpret_cast<const unsigned char*>(der.data());
    k = d2i_PrivateKey(EVP_PKEY_EC, nullptr, &p, static_cast<long>(der.size()));
    if (!k) throw SignError(where + ": the EC private key cannot be read");
  } else {
    throw SignError(where + ": not a private key file (PEM \"" + label +
                    "\"; expected cosign's \"ENCRYPTED SIGSTORE PRIVATE KEY\")");
  }
  return std::make_unique<FileSigner>(k, where);
}

}  // namespace kg::sign

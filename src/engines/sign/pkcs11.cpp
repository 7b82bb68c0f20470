// PKCS#11 through the module's own function list (pkcs11.hpp).
#include "engines/sign/pkcs11.hpp"

#include "crypto/pkcs11.hpp"

#include <cstring>

namespace kg::sign {
namespace {

using crypto::pkcs11_rv_text;

// P-256: the DER OID of prime256v1 as CKA_EC_PARAMS holds it, and the SubjectPublicKeyInfo prefix.
constexpr unsigned char kP256Params[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
constexpr unsigned char kP256SpkiPrefix[] = {0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d,
                                             0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01,
                                             0x07, 0x03, 0x42, 0x00};

// The signing half over crypto's token: the EC public key and C_Sign. Errors of the token layer
// become SignError at the public functions below.
class Token {
 public:
  Token(const std::string& uri_text, const std::function<std::string()>* ask_pin) : t_(uri_text, ask_pin) {}

  CK_OBJECT_HANDLE find(CK_OBJECT_CLASS cls) { return t_.find(cls); }

  PublicKey public_key() {
    const std::string& where_ = t_.where();
    CK_OBJECT_HANDLE h = t_.find(CKO_PUBLIC_KEY);
    std::string type = t_.attribute(h, CKA_KEY_TYPE, "CKA_KEY_TYPE");
    CK_KEY_TYPE kt = 0;
    if (type.size() == sizeof kt) std::memcpy(&kt, type.data(), sizeof kt);
    if (kt != CKK_EC) throw SignError(where_ + ": the key is not an EC key (only ECDSA P-256 keys are supported over PKCS#11)");
    std::string params = t_.attribute(h, CKA_EC_PARAMS, "CKA_EC_PARAMS");
    if (params != std::string(reinterpret_cast<const char*>(kP256Params), sizeof kP256Params))
      throw SignError(where_ + ": the EC key is not on P-256");
    std::string point = t_.attribute(h, CKA_EC_POINT, "CKA_EC_POINT");
    // CKA_EC_POINT is a DER OCTET STRING around the uncompressed point (some modules give it bare).
    if (point.size() == 67 && point[0] == 0x04 && point[1] == 65) point = point.substr(2);
    if (point.size() != 65 || point[0] != 0x04) throw SignError(where_ + ": CKA_EC_POINT is not an uncompressed P-256 point");
    std::string spki(reinterpret_cast<const char*>(kP256SpkiPrefix), sizeof kP256SpkiPrefix);
    return PublicKey::from_der(spki + point, where_);
  }

  std::string sign_digest(CK_OBJECT_HANDLE key, std::string digest) {
    const std::string& where_ = t_.where();
    CK_FUNCTION_LIST* f = t_.fn();
    CK_SESSION_HANDLE session = t_.session();
    CK_MECHANISM mech{CKM_ECDSA, nullptr, 0};
    CK_RV rv = f->C_SignInit(session, &mech, key);
    if (rv != CKR_OK) throw SignError(where_ + ": C_SignInit: " + pkcs11_rv_text(rv));
    CK_ULONG len = 0;
    rv = f->C_Sign(session, reinterpret_cast<CK_BYTE*>(digest.data()), digest.size(), nullptr, &len);
    if (rv != CKR_OK) throw SignError(where_ + ": C_Sign: " + pkcs11_rv_text(rv));
    std::string sig(len, '\0');
    rv = f->C_Sign(session, reinterpret_cast<CK_BYTE*>(digest.data()), digest.size(),
                   reinterpret_cast<CK_BYTE*>(sig.data()), &len);
    if (rv != CKR_OK) throw SignError(where_ + ": C_Sign: " + pkcs11_rv_text(rv));
    sig.resize(len);
    return sig;
  }

  const std::string& where() const { return t_.where(); }

 private:
  crypto::Pkcs11Token t_;
};

class Pkcs11Signer : public Signer {
 public:
  Pkcs11Signer(const std::string& uri, const std::function<std::string()>& ask_pin)
      : token_(uri, &ask_pin), pub_(token_.public_key()), key_(token_.find(CKO_PRIVATE_KEY)) {}
  const PublicKey& public_key() const override { return pub_; }
  std::string sign(std::string_view message) override {
    return ecdsa_raw_to_der(token_.sign_digest(key_, sha256_bytes(message)));
  }
  std::string describe() const override { return token_.where(); }

 private:
  Token token_;
  PublicKey pub_;
  CK_OBJECT_HANDLE key_;
};

}  // namespace

bool is_pkcs11_uri(const std::string& ref) { return crypto::is_pkcs11_uri(ref); }

Pkcs11Uri parse_pkcs11_uri(const std::string& uri) {
  try {
    return crypto::parse_pkcs11_uri(uri);
  } catch (const crypto::Pkcs11Error& e) {
    throw SignError(e.what());
  }
}

std::string redact_pkcs11_uri(const std::string& uri) { return crypto::redact_pkcs11_uri(uri); }

std::unique_ptr<Signer> open_pkcs11_signer(const std::string& uri, const std::function<std::string()>& ask_pin) {
  try {
    return std::make_unique<Pkcs11Signer>(uri, ask_pin);
  } catch (const crypto::Pkcs11Error& e) {
    throw SignError(e.what());
  }
}

PublicKey pkcs11_public_key(const std::string& uri) {
  try {
    Token t(uri, nullptr);
    return t.public_key();
  } catch (const crypto::Pkcs11Error& e) {
    throw SignError(e.what());
  }
}

}  // namespace kg::sign

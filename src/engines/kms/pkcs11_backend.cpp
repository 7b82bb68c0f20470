// The PKCS#11 backend (backend.hpp): KEK version N is the token's AES-256 secret key labelled
// OBJECT-vN with CKA_ID = its key_id, generated in the token (CKA_SENSITIVE, not CKA_EXTRACTABLE:
// its value never leaves the HSM); AES-256-GCM runs in the token through C_Encrypt/C_Decrypt with
// CKM_AES_GCM (12-byte IV from us, 128-bit tag, our additional data). Requests share a small pool
// of sessions (a PKCS#11 session runs one operation at a time).
#include <condition_variable>
#include <map>
#include <mutex>

#include "crypto/pkcs11.hpp"
#include "engines/kms/backend.hpp"

namespace kg::kms {
namespace {

using crypto::Pkcs11Error;
using crypto::pkcs11_rv_text;

class Pkcs11Backend : public KeyBackend {
 public:
  explicit Pkcs11Backend(const BackendOptions& o) : token_(o.uri, nullptr, o.admin) {
    if (token_.uri().object.empty())
      throw KmsError(token_.where() + ": name the KEK with object= (versions are OBJECT-v1, OBJECT-v2, …)");
    if (!token_.logged_in())
      throw KmsError(token_.where() + ": no PIN (pin-source=file:PATH or pin-value=): secret keys need a login");
    object_ = token_.uri().object;
    free_.push_back(token_.session());
    for (unsigned i = 1; i < std::max(1u, o.sessions); ++i) free_.push_back(token_.open_session(o.admin));
  }

  std::string describe() const override { return token_.where(); }
  std::string name() const override { return object_; }
  bool supports(Cipher c) const override { return c == Cipher::Aes256Gcm; }

  void create(const KeyVersion& v) override {
    Session s(*this);
    std::string label = label_of(v);
    if (!token_.find_objects(s.h, CKO_SECRET_KEY, label, "", 1).empty())
      throw KmsError(token_.where() + ": the token already holds a secret key labelled " + label);
    CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
    CK_KEY_TYPE kt = CKK_AES;
    CK_ULONG len = 32;
    CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
    std::string id = v.key_id;
    CK_ATTRIBUTE tmpl[] = {
        {CKA_CLASS, &cls, sizeof cls},          {CKA_KEY_TYPE, &kt, sizeof kt},
        {CKA_VALUE_LEN, &len, sizeof len},      {CKA_TOKEN, &yes, sizeof yes},
        {CKA_PRIVATE, &yes, sizeof yes},        {CKA_SENSITIVE, &yes, sizeof yes},
        {CKA_EXTRACTABLE, &no, sizeof no},      {CKA_ENCRYPT, &yes, sizeof yes},
        {CKA_DECRYPT, &yes, sizeof yes},        {CKA_WRAP, &no, sizeof no},
        {CKA_UNWRAP, &no, sizeof no},           {CKA_MODIFIABLE, &no, sizeof no},
        {CKA_LABEL, label.data(), label.size()}, {CKA_ID, id.data(), id.size()},
    };
    CK_MECHANISM mech{CKM_AES_KEY_GEN, nullptr, 0};
    CK_OBJECT_HANDLE h = 0;
    CK_RV rv = token_.fn()->C_GenerateKey(s.h, &mech, tmpl, sizeof tmpl / sizeof tmpl[0], &h);
    if (rv != CKR_OK) throw KmsError(token_.where() + ": C_GenerateKey (AES-256, " + label + "): " + pkcs11_rv_text(rv));
    // What the token says it made: a key that could leave it is destroyed again.
    std::string sensitive = token_.attribute(s.h, h, CKA_SENSITIVE, "CKA_SENSITIVE");
    std::string extractable = token_.attribute(s.h, h, CKA_EXTRACTABLE, "CKA_EXTRACTABLE");
    if (sensitive.size() != 1 || sensitive[0] != CK_TRUE || extractable.size() != 1 || extractable[0] != CK_FALSE) {
      token_.fn()->C_DestroyObject(s.h, h);
      throw KmsError(token_.where() + ": the token made " + label + " extractable or not sensitive; refused");
    }
  }

  void destroy(const KeyVersion& v) override {
    Session s(*this);
    for (CK_OBJECT_HANDLE h : token_.find_objects(s.h, CKO_SECRET_KEY, label_of(v), v.key_id, 4)) {
      CK_RV rv = token_.fn()->C_DestroyObject(s.h, h);
      if (rv != CKR_OK) throw KmsError(token_.where() + ": C_DestroyObject " + label_of(v) + ": " + pkcs11_rv_text(rv));
    }
  }

  void load(const std::vector<KeyVersion>& versions) override {
    std::map<int, CK_OBJECT_HANDLE> next;
    Session s(*this);
    for (const KeyVersion& v : versions) next[v.version] = find_key(s.h, v);
    std::lock_guard<std::mutex> l(handles_mu_);
    handles_ = std::move(next);
  }

  std::string seal(const KeyVersion& v, std::string_view nonce, std::string_view aad, std::string_view pt) override {
    std::string out(pt.size() + 16, '\0');
    run(v, true, nonce, aad, pt, out);
    return out;
  }

  bool open(const KeyVersion& v, std::string_view nonce, std::string_view aad, std::string_view sealed,
            std::string& plaintext) override {
    if (sealed.size() < 16) return false;
    plaintext.assign(sealed.size(), '\0');
    return run(v, false, nonce, aad, sealed, plaintext);
  }

  void probe(const KeyVersion& v) override {
    Session s(*this);
    CK_OBJECT_HANDLE h = find_key(s.h, v);
    std::lock_guard<std::mutex> l(handles_mu_);
    handles_[v.version] = h;
  }

 private:
  // A session from the pool for the life of the object.
  struct Session {
    explicit Session(Pkcs11Backend& backend) : b(backend) {
      std::unique_lock<std::mutex> l(b.pool_mu_);
      b.pool_cv_.wait(l, [&] { return !b.free_.empty(); });
      h = b.free_.back();
      b.free_.pop_back();
    }
    ~Session() {
      {
        std::lock_guard<std::mutex> l(b.pool_mu_);
        b.free_.push_back(h);
      }
      b.pool_cv_.notify_one();
    }
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;
    Pkcs11Backend& b;
    CK_SESSION_HANDLE h = 0;
  };

  std::string label_of(const KeyVersion& v) const { return object_ + "-v" + std::to_string(v.version); }

  CK_OBJECT_HANDLE find_key(CK_SESSION_HANDLE s, const KeyVersion& v) {
    std::vector<CK_OBJECT_HANDLE> found;
    try {
      found = token_.find_objects(s, CKO_SECRET_KEY, label_of(v), v.key_id, 2);
    } catch (const Pkcs11Error& e) {
      throw KmsError(e.what());
    }
    if (found.empty())
      throw KmsError(token_.where() + ": KEK version " + std::to_string(v.version) + " (secret key " + label_of(v) +
                     ", CKA_ID " + v.key_id + ") is not in token \"" + token_.token_label() + "\"");
    if (found.size() > 1) throw KmsError(token_.where() + ": several secret keys are labelled " + label_of(v));
    return found[0];
  }

  CK_OBJECT_HANDLE handle_of(const KeyVersion& v) {
    std::lock_guard<std::mutex> l(handles_mu_);
    auto it = handles_.find(v.version);
    if (it == handles_.end()) throw KmsError(token_.where() + ": KEK version " + std::to_string(v.version) + " is not loaded");
    return it->second;
  }

  bool run(const KeyVersion& v, bool encrypt, std::string_view nonce, std::string_view aad, std::string_view in,
           std::string& out) {
    CK_OBJECT_HANDLE key = handle_of(v);
    Session s(*this);
    std::string iv(nonce), ad(aad);  // CK_GCM_PARAMS takes non-const pointers
    CK_GCM_PARAMS params{};
    params.iv_ptr = reinterpret_cast<unsigned char*>(iv.data());
    params.iv_len = iv.size();
    params.iv_bits = iv.size() * 8;
    params.aad_ptr = reinterpret_cast<unsigned char*>(ad.data());
    params.aad_len = ad.size();
    params.tag_bits = 128;
    CK_MECHANISM mech{CKM_AES_GCM, &params, sizeof params};
    CK_FUNCTION_LIST* f = token_.fn();
    CK_RV rv = encrypt ? f->C_EncryptInit(s.h, &mech, key) : f->C_DecryptInit(s.h, &mech, key);
    if (rv != CKR_OK) fail(v, encrypt ? "C_EncryptInit" : "C_DecryptInit", rv);
    CK_ULONG len = out.size();
    auto* i = reinterpret_cast<CK_BYTE*>(const_cast<char*>(in.data()));
    auto* o = reinterpret_cast<CK_BYTE*>(out.data());
    rv = encrypt ? f->C_Encrypt(s.h, i, in.size(), o, &len) : f->C_Decrypt(s.h, i, in.size(), o, &len);
    if (!encrypt && (rv == CKR_ENCRYPTED_DATA_INVALID || rv == CKR_ENCRYPTED_DATA_LEN_RANGE)) return false;
    // SoftHSM2 (and some vendors) report a GCM tag mismatch as CKR_GENERAL_ERROR. It is taken for a
    // ciphertext that does not authenticate only while the key is still there; otherwise it is the
    // token's failure.
    if (!encrypt && rv == CKR_GENERAL_ERROR) {
      bool key_present = false;
      try {
        key_present = token_.find_objects(s.h, CKO_SECRET_KEY, label_of(v), v.key_id, 2).size() == 1;
      } catch (const Pkcs11Error&) {
      }
      if (key_present) return false;
    }
    if (rv != CKR_OK) fail(v, encrypt ? "C_Encrypt" : "C_Decrypt", rv);
    out.resize(len);
    return true;
  }

  [[noreturn]] void fail(const KeyVersion& v, const char* call, CK_RV rv) {
    throw KmsError(token_.where() + ": " + call + " with KEK version " + std::to_string(v.version) + ": " +
                   pkcs11_rv_text(rv));
  }

  crypto::Pkcs11Token token_;
  std::string object_;
  std::mutex pool_mu_;
  std::condition_variable pool_cv_;
  std::vector<CK_SESSION_HANDLE> free_;
  std::mutex handles_mu_;
  std::map<int, CK_OBJECT_HANDLE> handles_;
};

}  // namespace

std::unique_ptr<KeyBackend> open_pkcs11_backend(const BackendOptions& o) {
  try {
    return std::make_unique<Pkcs11Backend>(o);
  } catch (const Pkcs11Error& e) {
    throw KmsError(e.what());
  }
}

std::unique_ptr<KeyBackend> open_backend(const BackendOptions& o) {
  if (o.uri.rfind("pkcs11:", 0) == 0) return open_pkcs11_backend(o);
  if (o.uri.rfind("file:", 0) == 0) return open_file_backend(o);
  throw KmsError("--backend must be pkcs11:… (RFC 7512) or file:PATH, not \"" + redact_backend_uri(o.uri) + "\"");
}

std::string redact_backend_uri(const std::string& uri) {
  return uri.rfind("pkcs11:", 0) == 0 ? crypto::redact_pkcs11_uri(uri) : uri;
}

}  // namespace kg::kms

// PKCS#11 tokens shared by the engines that keep keys in an HSM (sign: ECDSA signing keys; kms: the
// AES key-encryption keys of the KMS v2 plugin). RFC 7512 URIs name the module, token and object:
//   pkcs11:token=kguard;object=signing-key?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-value=1234
// The module is loaded with dlopen and driven through its own function list; what a key is for
// (signing, wrapping) is the engine's business, this layer only opens, logs in and finds objects.
#pragma once

#include <p11-kit/pkcs11.h>

#include <functional>
#include <string>
#include <vector>

#include "crypto/pkcs11_uri.hpp"

namespace kg::crypto {

// "CKR_PIN_INCORRECT (wrong PIN)", "CKR 0x82".
std::string pkcs11_rv_text(CK_RV rv);

// The PIN the URI gives: pin-value, or the first line of pin-source (file:PATH or PATH); empty when
// neither is given.
std::string pkcs11_uri_pin(const Pkcs11Uri& uri, const std::string& where);

// One token of a loaded module, with one session open (read-only, or read/write to create and
// destroy objects) and logged in when a PIN is known. More sessions can be opened for threads.
class Pkcs11Token {
 public:
  // `ask_pin` is asked when the URI carries neither pin-value nor pin-source (it may return "").
  Pkcs11Token(const std::string& uri_text, const std::function<std::string()>* ask_pin, bool read_write = false);
  ~Pkcs11Token();
  Pkcs11Token(const Pkcs11Token&) = delete;
  Pkcs11Token& operator=(const Pkcs11Token&) = delete;

  CK_FUNCTION_LIST* fn() const { return f_; }
  CK_SESSION_HANDLE session() const { return session_; }
  const Pkcs11Uri& uri() const { return uri_; }
  const std::string& where() const { return where_; }  // the redacted URI
  const std::string& token_label() const { return token_label_; }
  bool logged_in() const { return logged_in_; }

  // The one object of class `cls` the URI names (object= and/or id=); Pkcs11Error when none or several.
  CK_OBJECT_HANDLE find(CK_OBJECT_CLASS cls);
  // Up to `max` objects of class `cls` with this label (and CKA_ID when `id` is non-empty), in session `s`.
  std::vector<CK_OBJECT_HANDLE> find_objects(CK_SESSION_HANDLE s, CK_OBJECT_CLASS cls, const std::string& label,
                                             const std::string& id, std::size_t max);
  // An attribute's bytes; Pkcs11Error naming `name` when it cannot be read.
  std::string attribute(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type, const char* name);
  std::string attribute(CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type, const char* name) {
    return attribute(session_, h, type, name);
  }
  // Another session on the same token (login state is per application, so it is logged in too).
  // Closed by close_session or when the token closes.
  CK_SESSION_HANDLE open_session(bool read_write = false);
  void close_session(CK_SESSION_HANDLE s);

 private:
  void open(const std::function<std::string()>* ask_pin, bool read_write);
  void close();

  std::string where_;
  Pkcs11Uri uri_;
  void* lib_ = nullptr;
  CK_FUNCTION_LIST* f_ = nullptr;
  CK_SLOT_ID slot_ = 0;
  CK_SESSION_HANDLE session_ = 0;
  std::vector<CK_SESSION_HANDLE> extra_sessions_;
  bool has_session_ = false;
  bool initialized_ = false;
  bool logged_in_ = false;
  std::string token_label_;
};

}  // namespace kg::crypto

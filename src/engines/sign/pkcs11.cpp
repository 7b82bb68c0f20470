// PKCS#11 through the module's own function list (pkcs11.hpp).
#include "engines/sign/pkcs11.hpp"

#include <dlfcn.h>
#include <p11-kit/pkcs11.h>

#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

namespace kg::sign {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percent_decode(std::string_view s, const std::string& attr) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    int hi = i + 2 < s.size() ? hex_value(s[i + 1]) : -1;
    int lo = i + 2 < s.size() ? hex_value(s[i + 2]) : -1;
    if (i + 2 >= s.size() || hi < 0 || lo < 0) throw SignError("PKCS#11 URI: bad percent-encoding in " + attr);
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

std::string trim_label(const unsigned char* p, std::size_t n) {
  std::string s(reinterpret_cast<const char*>(p), n);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\0')) s.pop_back();
  return s;
}

std::string rv_text(CK_RV rv) {
  switch (rv) {
    case CKR_PIN_INCORRECT: return "CKR_PIN_INCORRECT (wrong PIN)";
    case CKR_PIN_LOCKED: return "CKR_PIN_LOCKED";
    case CKR_USER_NOT_LOGGED_IN: return "CKR_USER_NOT_LOGGED_IN (the key needs a PIN)";
    case CKR_KEY_TYPE_INCONSISTENT: return "CKR_KEY_TYPE_INCONSISTENT";
    case CKR_TOKEN_NOT_PRESENT: return "CKR_TOKEN_NOT_PRESENT";
    default: {
      char buf[32];
      std::snprintf(buf, sizeof buf, "CKR 0x%lx", static_cast<unsigned long>(rv));
      return buf;
    }
  }
}

// P-256: the DER OID of prime256v1 as CKA_EC_PARAMS holds it, and the SubjectPublicKeyInfo prefix.
constexpr unsigned char kP256Params[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
constexpr unsigned char kP256SpkiPrefix[] = {0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d,
                                             0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01,
                                             0x07, 0x03, 0x42, 0x00};

class Token {
 public:
  Token(const std::string& uri_text, const std::function<std::string()>* ask_pin)
      : where_(redact_pkcs11_uri(uri_text)), uri_(parse_pkcs11_uri(uri_text)) {
    if (uri_.module_path.empty()) throw SignError(where_ + ": module-path is required (e.g. /usr/lib/softhsm/libsofthsm2.so)");
    lib_ = ::dlopen(uri_.module_path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!lib_) throw SignError(where_ + ": cannot load the module: " + std::string(::dlerror()));
    auto get_list = reinterpret_cast<CK_C_GetFunctionList>(::dlsym(lib_, "C_GetFunctionList"));
    if (!get_list || get_list(&f_) != CKR_OK || !f_) {
      ::dlclose(lib_);
      throw SignError(where_ + ": " + uri_.module_path + " is not a PKCS#11 module (no C_GetFunctionList)");
    }
    try {
      open(ask_pin);
    } catch (...) {
      close();
      throw;
    }
  }
  ~Token() { close(); }
  Token(const Token&) = delete;
  Token& operator=(const Token&) = delete;

  CK_OBJECT_HANDLE find(CK_OBJECT_CLASS cls) {
    std::vector<CK_ATTRIBUTE> tmpl;
    tmpl.push_back({CKA_CLASS, &cls, sizeof cls});
    if (!uri_.object.empty()) tmpl.push_back({CKA_LABEL, uri_.object.data(), uri_.object.size()});
    if (!uri_.id.empty()) tmpl.push_back({CKA_ID, uri_.id.data(), uri_.id.size()});
    CK_RV rv = f_->C_FindObjectsInit(session_, tmpl.data(), tmpl.size());
    if (rv != CKR_OK) throw SignError(where_ + ": C_FindObjectsInit: " + rv_text(rv));
    CK_OBJECT_HANDLE found[2];
    CK_ULONG count = 0;
    rv = f_->C_FindObjects(session_, found, 2, &count);
    f_->C_FindObjectsFinal(session_);
    if (rv != CKR_OK) throw SignError(where_ + ": C_FindObjects: " + rv_text(rv));
    const char* what = cls == CKO_PRIVATE_KEY ? "private key" : "public key";
    if (count == 0) {
      throw SignError(where_ + ": no " + std::string(what) + " with that object/id in token \"" + token_label_ + "\"" +
                      (cls == CKO_PRIVATE_KEY && !logged_in_ ? " (no PIN given: private keys are visible after login)" : ""));
    }
    if (count > 1) throw SignError(where_ + ": several " + std::string(what) + "s match; name one with object= and id=");
    return found[0];
  }

  std::string attribute(CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type, const char* name) {
    CK_ATTRIBUTE a{type, nullptr, 0};
    CK_RV rv = f_->C_GetAttributeValue(session_, h, &a, 1);
    if (rv != CKR_OK || a.ulValueLen == CK_UNAVAILABLE_INFORMATION)
      throw SignError(where_ + ": cannot read " + name + ": " + rv_text(rv));
    std::string out(a.ulValueLen, '\0');
    a.pValue = out.data();
    rv = f_->C_GetAttributeValue(session_, h, &a, 1);
    if (rv != CKR_OK) throw SignError(where_ + ": cannot read " + name + ": " + rv_text(rv));
    out.resize(a.ulValueLen);
    return out;
  }

  PublicKey public_key() {
    CK_OBJECT_HANDLE h = find(CKO_PUBLIC_KEY);
    std::string type = attribute(h, CKA_KEY_TYPE, "CKA_KEY_TYPE");
    CK_KEY_TYPE kt = 0;
    if (type.size() == sizeof kt) std::memcpy(&kt, type.data(), sizeof kt);
    if (kt != CKK_EC) throw SignError(where_ + ": the key is not an EC key (only ECDSA P-256 keys are supported over PKCS#11)");
    std::string params = attribute(h, CKA_EC_PARAMS, "CKA_EC_PARAMS");
    if (params != std::string(reinterpret_cast<const char*>(kP256Params), sizeof kP256Params))
      throw SignError(where_ + ": the EC key is not on P-256");
    std::string point = attribute(h, CKA_EC_POINT, "CKA_EC_POINT");
    // CKA_EC_POINT is a DER OCTET STRING around the uncompressed point (some modules give it bare).
    if (point.size() == 67 && point[0] == 0x04 && point[1] == 65) point = point.substr(2);
    if (point.size() != 65 || point[0] != 0x04) throw SignError(where_ + ": CKA_EC_POINT is not an uncompressed P-256 point");
    std::string spki(reinterpret_cast<const char*>(kP256SpkiPrefix), sizeof kP256SpkiPrefix);
    return PublicKey::from_der(spki + point, where_);
  }

  std::string sign_digest(CK_OBJECT_HANDLE key, std::string digest) {
    CK_MECHANISM mech{CKM_ECDSA, nullptr, 0};
    CK_RV rv = f_->C_SignInit(session_, &mech, key);
    if (rv != CKR_OK) throw SignError(where_ + ": C_SignInit: " + rv_text(rv));
    CK_ULONG len = 0;
    rv = f_->C_Sign(session_, reinterpret_cast<CK_BYTE*>(digest.data()), digest.size(), nullptr, &len);
    if (rv != CKR_OK) throw SignError(where_ + ": C_Sign: " + rv_text(rv));
    std::string sig(len, '\0');
    rv = f_->C_Sign(session_, reinterpret_cast<CK_BYTE*>(digest.data()), digest.size(),
                    reinterpret_cast<CK_BYTE*>(sig.data()), &len);
    if (rv != CKR_OK) throw SignError(where_ + ": C_Sign: " + rv_text(rv));
    sig.resize(len);
    return sig;
  }

  const std::string& where() const { return where_; }

 private:
  void open(const std::function<std::string()>* ask_pin) {
    CK_C_INITIALIZE_ARGS args{};
    args.flags = CKF_OS_LOCKING_OK;
    CK_RV rv = f_->C_Initialize(&args);
    if (rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED) throw SignError(where_ + ": C_Initialize: " + rv_text(rv));
    initialized_ = rv == CKR_OK;
    CK_ULONG n = 0;
    rv = f_->C_GetSlotList(CK_TRUE, nullptr, &n);
    if (rv != CKR_OK) throw SignError(where_ + ": C_GetSlotList: " + rv_text(rv));
    std::vector<CK_SLOT_ID> slots(n);
    rv = f_->C_GetSlotList(CK_TRUE, slots.data(), &n);
    if (rv != CKR_OK) throw SignError(where_ + ": C_GetSlotList: " + rv_text(rv));
    slots.resize(n);
    bool found = false;
    CK_SLOT_ID slot = 0;
    std::string labels;
    for (CK_SLOT_ID s : slots) {
      CK_TOKEN_INFO info;
      if (f_->C_GetTokenInfo(s, &info) != CKR_OK) continue;
      std::string label = trim_label(info.label, sizeof info.label);
      labels += (labels.empty() ? "" : ", ") + label;
      if (uri_.has_slot && std::to_string(s) != uri_.slot_id) continue;
      if (!uri_.token.empty() && label != uri_.token) continue;
      slot = s;
      token_label_ = label;
      found = true;
      break;
    }
    if (!found) throw SignError(where_ + ": no token matches (tokens: " + (labels.empty() ? "none" : labels) + ")");
    rv = f_->C_OpenSession(slot, CKF_SERIAL_SESSION, nullptr, nullptr, &session_);
    if (rv != CKR_OK) throw SignError(where_ + ": C_OpenSession: " + rv_text(rv));
    has_session_ = true;
    std::string pin = uri_.pin_value;
    if (pin.empty() && !uri_.pin_source.empty()) {
      std::string path = uri_.pin_source.rfind("file:", 0) == 0 ? uri_.pin_source.substr(5) : uri_.pin_source;
      std::ifstream in(path);
      if (!in) throw SignError(where_ + ": pin-source " + path + " cannot be read");
      std::getline(in, pin);
    } else if (pin.empty() && ask_pin && *ask_pin) {
      pin = (*ask_pin)();
    }
    if (!pin.empty()) {
      rv = f_->C_Login(session_, CKU_USER, reinterpret_cast<CK_UTF8CHAR*>(pin.data()), pin.size());
      if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN) throw SignError(where_ + ": C_Login: " + rv_text(rv));
      logged_in_ = true;
    }
  }

  void close() {
    if (has_session_) f_->C_CloseSession(session_);
    if (initialized_) f_->C_Finalize(nullptr);
    if (lib_) ::dlclose(lib_);
    has_session_ = initialized_ = false;
    lib_ = nullptr;
  }

  std::string where_;
  Pkcs11Uri uri_;
  void* lib_ = nullptr;
  CK_FUNCTION_LIST* f_ = nullptr;
  CK_SESSION_HANDLE session_ = 0;
  bool has_session_ = false;
  bool initialized_ = false;
  bool logged_in_ = false;
  std::string token_label_;
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

bool is_pkcs11_uri(const std::string& ref) { return ref.rfind("pkcs11:", 0) == 0; }

Pkcs11Uri parse_pkcs11_uri(const std::string& uri) {
  if (!is_pkcs11_uri(uri)) throw SignError("not a PKCS#11 URI (pkcs11:...): " + uri);
  Pkcs11Uri out;
  std::string rest = uri.substr(7);
  std::string path = rest, query;
  if (std::size_t q = rest.find('?'); q != std::string::npos) {
    path = rest.substr(0, q);
    query = rest.substr(q + 1);
  }
  auto each = [](const std::string& s, char sep, auto&& fn) {
    std::size_t i = 0;
    while (i <= s.size()) {
      std::size_t j = s.find(sep, i);
      if (j == std::string::npos) j = s.size();
      if (j > i) fn(s.substr(i, j - i));
      i = j + 1;
    }
  };
  each(path, ';', [&](const std::string& attr) {
    std::size_t eq = attr.find('=');
    if (eq == std::string::npos) throw SignError("PKCS#11 URI: path attribute \"" + attr + "\" has no value");
    std::string k = attr.substr(0, eq), v = percent_decode(attr.substr(eq + 1), k);
    if (k == "token") out.token = v;
    else if (k == "object") out.object = v;
    else if (k == "id") out.id = v;
    else if (k == "slot-id") {
      if (v.empty() || v.find_first_not_of("0123456789") != std::string::npos)
        throw SignError("PKCS#11 URI: slot-id \"" + v + "\" is not a number");
      out.slot_id = v;
      out.has_slot = true;
    } else if (k == "type") {
      if (v != "private" && v != "public") throw SignError("PKCS#11 URI: type=" + v + ": only private or public keys are used");
    } else if (k == "manufacturer" || k == "model" || k == "serial" || k == "library-manufacturer" ||
               k == "library-description" || k == "library-version" || k == "slot-description" ||
               k == "slot-manufacturer") {
      // Narrowing attributes kguard does not need to find the key; accepted as RFC 7512 allows.
    } else {
      throw SignError("PKCS#11 URI: unknown path attribute \"" + k + "\"");
    }
  });
  each(query, '&', [&](const std::string& attr) {
    std::size_t eq = attr.find('=');
    if (eq == std::string::npos) throw SignError("PKCS#11 URI: query attribute \"" + attr + "\" has no value");
    std::string k = attr.substr(0, eq), v = percent_decode(attr.substr(eq + 1), k);
    if (k == "module-path") out.module_path = v;
    else if (k == "pin-value") out.pin_value = v;
    else if (k == "pin-source") out.pin_source = v;
    else if (k == "module-name") {
      if (out.module_path.empty()) out.module_path = v.find('/') == std::string::npos ? "lib" + v + ".so" : v;
    } else {
      throw SignError("PKCS#11 URI: unknown query attribute \"" + k + "\"");
    }
  });
  if (out.object.empty() && out.id.empty()) throw SignError("PKCS#11 URI: name the key with object= or id=");
  return out;
}

std::string redact_pkcs11_uri(const std::string& uri) {
  // Every pin-value of the query (the path's values may hold the same text harmlessly).
  std::size_t q = uri.find('?');
  if (q == std::string::npos) return uri;
  std::string out = uri.substr(0, q + 1);
  std::size_t i = q + 1;
  while (i <= uri.size()) {
    std::size_t j = uri.find('&', i);
    if (j == std::string::npos) j = uri.size();
    std::string attr = uri.substr(i, j - i);
    out += attr.rfind("pin-value=", 0) == 0 ? "pin-value=***" : attr;
    if (j < uri.size()) out += '&';
    i = j + 1;
  }
  return out;
}

std::unique_ptr<Signer> open_pkcs11_signer(const std::string& uri, const std::function<std::string()>& ask_pin) {
  return std::make_unique<Pkcs11Signer>(uri, ask_pin);
}

PublicKey pkcs11_public_key(const std::string& uri) {
  Token t(uri, nullptr);
  return t.public_key();
}

}  // namespace kg::sign

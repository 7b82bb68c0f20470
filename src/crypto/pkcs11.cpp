// PKCS#11 through the module's own function list (pkcs11.hpp).
#include "crypto/pkcs11.hpp"

#include <dlfcn.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <string_view>

namespace kg::crypto {
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
    if (i + 2 >= s.size() || hi < 0 || lo < 0) throw Pkcs11Error("PKCS#11 URI: bad percent-encoding in " + attr);
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

}  // namespace

std::string pkcs11_rv_text(CK_RV rv) {
  switch (rv) {
    case CKR_PIN_INCORRECT: return "CKR_PIN_INCORRECT (wrong PIN)";
    case CKR_PIN_LOCKED: return "CKR_PIN_LOCKED";
    case CKR_USER_NOT_LOGGED_IN: return "CKR_USER_NOT_LOGGED_IN (the key needs a PIN)";
    case CKR_KEY_TYPE_INCONSISTENT: return "CKR_KEY_TYPE_INCONSISTENT";
    case CKR_TOKEN_NOT_PRESENT: return "CKR_TOKEN_NOT_PRESENT";
    case CKR_KEY_HANDLE_INVALID: return "CKR_KEY_HANDLE_INVALID (the key is gone)";
    case CKR_OBJECT_HANDLE_INVALID: return "CKR_OBJECT_HANDLE_INVALID (the object is gone)";
    case CKR_MECHANISM_INVALID: return "CKR_MECHANISM_INVALID (the token lacks this mechanism)";
    case CKR_ENCRYPTED_DATA_INVALID: return "CKR_ENCRYPTED_DATA_INVALID";
    case CKR_KEY_FUNCTION_NOT_PERMITTED: return "CKR_KEY_FUNCTION_NOT_PERMITTED";
    default: {
      char buf[32];
      std::snprintf(buf, sizeof buf, "CKR 0x%lx", static_cast<unsigned long>(rv));
      return buf;
    }
  }
}

bool is_pkcs11_uri(const std::string& ref) { return ref.rfind("pkcs11:", 0) == 0; }

Pkcs11Uri parse_pkcs11_uri(const std::string& uri) {
  if (!is_pkcs11_uri(uri)) throw Pkcs11Error("not a PKCS#11 URI (pkcs11:...): " + redact_pkcs11_uri(uri));
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
    if (eq == std::string::npos) throw Pkcs11Error("PKCS#11 URI: path attribute \"" + attr + "\" has no value");
    std::string k = attr.substr(0, eq), v = percent_decode(attr.substr(eq + 1), k);
    if (k == "token") out.token = v;
    else if (k == "object") out.object = v;
    else if (k == "id") out.id = v;
    else if (k == "slot-id") {
      if (v.empty() || v.find_first_not_of("0123456789") != std::string::npos)
        throw Pkcs11Error("PKCS#11 URI: slot-id \"" + v + "\" is not a number");
      out.slot_id = v;
      out.has_slot = true;
    } else if (k == "type") {
      if (v != "private" && v != "public" && v != "secret-key")
        throw Pkcs11Error("PKCS#11 URI: type=" + v + ": only private, public or secret-key objects are used");
    } else if (k == "manufacturer" || k == "model" || k == "serial" || k == "library-manufacturer" ||
               k == "library-description" || k == "library-version" || k == "slot-description" ||
               k == "slot-manufacturer") {
      // Narrowing attributes kguard does not need to find the key; accepted as RFC 7512 allows.
    } else {
      throw Pkcs11Error("PKCS#11 URI: unknown path attribute \"" + k + "\"");
    }
  });
  each(query, '&', [&](const std::string& attr) {
    std::size_t eq = attr.find('=');
    if (eq == std::string::npos) throw Pkcs11Error("PKCS#11 URI: query attribute \"" + attr + "\" has no value");
    std::string k = attr.substr(0, eq), v = percent_decode(attr.substr(eq + 1), k);
    if (k == "module-path") out.module_path = v;
    else if (k == "pin-value") out.pin_value = v;
    else if (k == "pin-source") out.pin_source = v;
    else if (k == "module-name") {
      if (out.module_path.empty()) out.module_path = v.find('/') == std::string::npos ? "lib" + v + ".so" : v;
    } else {
      throw Pkcs11Error("PKCS#11 URI: unknown query attribute \"" + k + "\"");
    }
  });
  if (out.object.empty() && out.id.empty()) throw Pkcs11Error("PKCS#11 URI: name the key with object= or id=");
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

std::string pkcs11_uri_pin(const Pkcs11Uri& uri, const std::string& where) {
  if (!uri.pin_value.empty()) return uri.pin_value;
  if (uri.pin_source.empty()) return {};
  std::string path = uri.pin_source.rfind("file:", 0) == 0 ? uri.pin_source.substr(5) : uri.pin_source;
  std::ifstream in(path);
  if (!in) throw Pkcs11Error(where + ": pin-source " + path + " cannot be read");
  std::string pin;
  std::getline(in, pin);
  if (!pin.empty() && pin.back() == '\r') pin.pop_back();
  return pin;
}

Pkcs11Token::Pkcs11Token(const std::string& uri_text, const std::function<std::string()>* ask_pin, bool read_write)
    : where_(redact_pkcs11_uri(uri_text)), uri_(parse_pkcs11_uri(uri_text)) {
  if (uri_.module_path.empty())
    throw Pkcs11Error(where_ + ": module-path is required (e.g. /usr/lib/softhsm/libsofthsm2.so)");
  lib_ = ::dlopen(uri_.module_path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!lib_) throw Pkcs11Error(where_ + ": cannot load the module: " + std::string(::dlerror()));
  auto get_list = reinterpret_cast<CK_C_GetFunctionList>(::dlsym(lib_, "C_GetFunctionList"));
  if (!get_list || get_list(&f_) != CKR_OK || !f_) {
    ::dlclose(lib_);
    throw Pkcs11Error(where_ + ": " + uri_.module_path + " is not a PKCS#11 module (no C_GetFunctionList)");
  }
  try {
    open(ask_pin, read_write);
  } catch (...) {
    close();
    throw;
  }
}

Pkcs11Token::~Pkcs11Token() { close(); }

CK_OBJECT_HANDLE Pkcs11Token::find(CK_OBJECT_CLASS cls) {
  std::vector<CK_OBJECT_HANDLE> found = find_objects(session_, cls, uri_.object, uri_.id, 2);
  const char* what = cls == CKO_PRIVATE_KEY ? "private key" : cls == CKO_PUBLIC_KEY ? "public key" : "secret key";
  if (found.empty()) {
    throw Pkcs11Error(where_ + ": no " + std::string(what) + " with that object/id in token \"" + token_label_ + "\"" +
                      (cls != CKO_PUBLIC_KEY && !logged_in_ ? " (no PIN given: private keys are visible after login)" : ""));
  }
  if (found.size() > 1) throw Pkcs11Error(where_ + ": several " + std::string(what) + "s match; name one with object= and id=");
  return found[0];
}

std::vector<CK_OBJECT_HANDLE> Pkcs11Token::find_objects(CK_SESSION_HANDLE s, CK_OBJECT_CLASS cls,
                                                        const std::string& label, const std::string& id,
                                                        std::size_t max) {
  std::vector<CK_ATTRIBUTE> tmpl;
  tmpl.push_back({CKA_CLASS, &cls, sizeof cls});
  std::string l = label, i = id;  // the template points into these
  if (!l.empty()) tmpl.push_back({CKA_LABEL, l.data(), l.size()});
  if (!i.empty()) tmpl.push_back({CKA_ID, i.data(), i.size()});
  CK_RV rv = f_->C_FindObjectsInit(s, tmpl.data(), tmpl.size());
  if (rv != CKR_OK) throw Pkcs11Error(where_ + ": C_FindObjectsInit: " + pkcs11_rv_text(rv), rv);
  std::vector<CK_OBJECT_HANDLE> found(std::max<std::size_t>(max, 1));
  CK_ULONG count = 0;
  rv = f_->C_FindObjects(s, found.data(), found.size(), &count);
  f_->C_FindObjectsFinal(s);
  if (rv != CKR_OK) throw Pkcs11Error(where_ + ": C_FindObjects: " + pkcs11_rv_text(rv), rv);
  found.resize(count);
  return found;
}

std::string Pkcs11Token::attribute(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type, const char* name) {
  CK_ATTRIBUTE a{type, nullptr, 0};
  CK_RV rv = f_->C_GetAttributeValue(s, h, &a, 1);
  if (rv != CKR_OK || a.ulValueLen == CK_UNAVAILABLE_INFORMATION)
    throw Pkcs11Error(where_ + ": cannot read " + name + ": " + pkcs11_rv_text(rv), rv);
  std::string out(a.ulValueLen, '\0');
  a.pValue = out.data();
  rv = f_->C_GetAttributeValue(s, h, &a, 1);
  if (rv != CKR_OK) throw Pkcs11Error(where_ + ": cannot read " + name + ": " + pkcs11_rv_text(rv), rv);
  out.resize(a.ulValueLen);
  return out;
}

CK_SESSION_HANDLE Pkcs11Token::open_session(bool read_write) {
  CK_SESSION_HANDLE s = 0;
  CK_FLAGS flags = CKF_SERIAL_SESSION | (read_write ? CKF_RW_SESSION : 0);
  CK_RV rv = f_->C_OpenSession(slot_, flags, nullptr, nullptr, &s);
  if (rv != CKR_OK) throw Pkcs11Error(where_ + ": C_OpenSession: " + pkcs11_rv_text(rv), rv);
  extra_sessions_.push_back(s);
  return s;
}

void Pkcs11Token::close_session(CK_SESSION_HANDLE s) {
  auto it = std::find(extra_sessions_.begin(), extra_sessions_.end(), s);
  if (it == extra_sessions_.end()) return;
  f_->C_CloseSession(s);
  extra_sessions_.erase(it);
}

void Pkcs11Token::open(const std::function<std::string()>* ask_pin, bool read_write) {
  CK_C_INITIALIZE_ARGS args{};
  args.flags = CKF_OS_LOCKING_OK;
  CK_RV rv = f_->C_Initialize(&args);
  if (rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED)
    throw Pkcs11Error(where_ + ": C_Initialize: " + pkcs11_rv_text(rv), rv);
  initialized_ = rv == CKR_OK;
  CK_ULONG n = 0;
  rv = f_->C_GetSlotList(CK_TRUE, nullptr, &n);
  if (rv != CKR_OK) throw Pkcs11Error(where_ + ": C_GetSlotList: " + pkcs11_rv_text(rv), rv);
  std::vector<CK_SLOT_ID> slots(n);
  rv = f_->C_GetSlotList(CK_TRUE, slots.data(), &n);
  if (rv != CKR_OK) throw Pkcs11Error(where_ + ": C_GetSlotList: " + pkcs11_rv_text(rv), rv);
  slots.resize(n);
  bool found = false;
  std::string labels;
  for (CK_SLOT_ID s : slots) {
    CK_TOKEN_INFO info;
    if (f_->C_GetTokenInfo(s, &info) != CKR_OK) continue;
    std::string label = trim_label(info.label, sizeof info.label);
    labels += (labels.empty() ? "" : ", ") + label;
    if (uri_.has_slot && std::to_string(s) != uri_.slot_id) continue;
    if (!uri_.token.empty() && label != uri_.token) continue;
    slot_ = s;
    token_label_ = label;
    found = true;
    break;
  }
  if (!found) throw Pkcs11Error(where_ + ": no token matches (tokens: " + (labels.empty() ? "none" : labels) + ")");
  CK_FLAGS flags = CKF_SERIAL_SESSION | (read_write ? CKF_RW_SESSION : 0);
  rv = f_->C_OpenSession(slot_, flags, nullptr, nullptr, &session_);
  if (rv != CKR_OK) throw Pkcs11Error(where_ + ": C_OpenSession: " + pkcs11_rv_text(rv), rv);
  has_session_ = true;
  std::string pin = pkcs11_uri_pin(uri_, where_);
  if (pin.empty() && ask_pin && *ask_pin) pin = (*ask_pin)();
  if (!pin.empty()) {
    rv = f_->C_Login(session_, CKU_USER, reinterpret_cast<CK_UTF8CHAR*>(pin.data()), pin.size());
    if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN)
      throw Pkcs11Error(where_ + ": C_Login: " + pkcs11_rv_text(rv), rv);
    logged_in_ = true;
  }
}

void Pkcs11Token::close() {
  for (CK_SESSION_HANDLE s : extra_sessions_) f_->C_CloseSession(s);
  extra_sessions_.clear();
  if (has_session_) f_->C_CloseSession(session_);
  if (initialized_) f_->C_Finalize(nullptr);
  if (lib_) ::dlclose(lib_);
  has_session_ = initialized_ = false;
  lib_ = nullptr;
}

}  // namespace kg::crypto

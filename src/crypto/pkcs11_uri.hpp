// RFC 7512 PKCS#11 URIs (no module header needed: sign's callers include this alone).
//   pkcs11:token=kguard;object=kek?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/etc/kguard/pin
#pragma once

#include <stdexcept>
#include <string>

namespace kg::crypto {

class Pkcs11Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
  Pkcs11Error(const std::string& what, unsigned long rv) : std::runtime_error(what), rv_(rv) {}
  unsigned long rv() const { return rv_; }  // the module's CK_RV when one caused it, else 0 (CKR_OK)

 private:
  unsigned long rv_ = 0;
};

struct Pkcs11Uri {
  std::string token, object, id;  // id: raw bytes (percent-decoded)
  std::string slot_id;
  std::string module_path, pin_value, pin_source;
  bool has_slot = false;
};

bool is_pkcs11_uri(const std::string& ref);
// Parses the URI; Pkcs11Error naming the attribute that is wrong. A key must be named (object= or id=).
Pkcs11Uri parse_pkcs11_uri(const std::string& uri);
// The URI without its PIN, for messages and reports.
std::string redact_pkcs11_uri(const std::string& uri);

}  // namespace kg::crypto

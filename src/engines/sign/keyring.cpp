// Key rotation and revocation (keyring.hpp).
#include "engines/sign/keyring.hpp"

#include <ctime>

#include "core/ascii.hpp"

namespace kg::sign {

bool is_key_fingerprint(std::string_view ref) {
  if (ref.size() != 7 + 64 || ref.substr(0, 7) != "sha256:") return false;
  for (char c : ref.substr(7))
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) return false;
  return true;
}

std::string fingerprint_hex(std::string_view ref) {
  if (!is_key_fingerprint(ref)) return "";
  return ascii_lower(ref.substr(7));
}

std::string key_label(const std::string& fingerprint, const std::string& name) {
  return name.empty() ? "sha256:" + fingerprint : "'" + name + "' (sha256:" + fingerprint + ")";
}

std::string rfc3339(std::int64_t seconds) {
  std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string window_refusal(const KeyWindow& w, const std::string& fingerprint, std::int64_t now) {
  if (now < w.not_before)
    return "signed by key " + key_label(fingerprint, w.name) + ", not valid before " + rfc3339(w.not_before) + " (notBefore)";
  if (now > w.not_after)
    return "signed by key " + key_label(fingerprint, w.name) + ", retired at " + rfc3339(w.not_after) + " (notAfter)";
  return "";
}

std::string revoked_reason(const std::string& fingerprint, const std::string& name) {
  return "signed by revoked key " + key_label(fingerprint, name);
}

}  // namespace kg::sign

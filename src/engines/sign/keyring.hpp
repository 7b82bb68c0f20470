// Key rotation and revocation (docs/signing.md "Key rotation and revocation"): which of a set of
// keys count now. A key may carry a name and a validity window (several keys are valid while a
// rotation moves images from the old key to the new one); a revoked key never counts. Both become
// VerifyOptions::refused_keys, so verify_image still recognises a signature such a key made and
// reports it as refused, naming the key.
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <string_view>

namespace kg::sign {

// A revocation may name a key by its fingerprint alone ("sha256:" + 64 hex of its DER, as every
// report prints it), for a key whose public half is no longer at hand.
bool is_key_fingerprint(std::string_view ref);
// "sha256:<hex>" → "<hex>" (lowercase); "" when it is not a fingerprint.
std::string fingerprint_hex(std::string_view ref);

struct KeyWindow {
  std::string name;  // shown in reasons and reports ("" = none)
  std::int64_t not_before = std::numeric_limits<std::int64_t>::min();
  std::int64_t not_after = std::numeric_limits<std::int64_t>::max();
  bool bounded() const {
    return not_before != std::numeric_limits<std::int64_t>::min() || not_after != std::numeric_limits<std::int64_t>::max();
  }
};

// "" when `now` is inside the window, else why the key's signatures do not count.
std::string window_refusal(const KeyWindow& w, const std::string& fingerprint, std::int64_t now);
// The reason a signature by a revoked key carries.
std::string revoked_reason(const std::string& fingerprint, const std::string& name = "");
// Seconds since the epoch as RFC 3339 UTC ("2026-12-31T23:59:59Z").
std::string rfc3339(std::int64_t seconds);
// "sha256:<hex>" (the whole fingerprint) or "'name' (sha256:<hex>)".
std::string key_label(const std::string& fingerprint, const std::string& name);

}  // namespace kg::sign

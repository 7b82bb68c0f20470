// Credential hygiene (docs/rbac.md "Credential hygiene"): the source's
// "revoke or rotate leaked credentials in time" made checkable. A
// long-lived ServiceAccount token Secret never expires, so a leak lasts until
// someone deletes it; one of an identity with an escalation path is a key to
// that path; a binding to a ServiceAccount that does not exist grants its
// role to whoever later creates an account of that name.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "engines/rbac/paths.hpp"

namespace kg::rbac {

struct TokenHygiene {
  std::size_t secret = 0;              // Assets::token_secrets
  std::optional<long> age_days;        // when creationTimestamp and `today` are known
  std::optional<Target> reaches;       // the most severe target its ServiceAccount reaches
  bool account_exists = true;          // false: the Secret names a missing ServiceAccount
};

struct DanglingSubject {
  std::uint32_t binding = 0;
  std::uint32_t subject = 0;
};

struct Hygiene {
  std::vector<TokenHygiene> tokens;
  std::vector<DanglingSubject> dangling;
  // Namespaces whose ServiceAccounts the input shows (it holds one of them
  // or the Namespace): only there is a missing one known to be missing.
  std::vector<std::string> covered_namespaces;
};

// `today`: days since 1970-01-01 (UTC), for token ages; nullopt: no ages.
Hygiene check_hygiene(const PathAnalysis& paths, std::optional<long> today);

// "2024-03-01T10:00:00Z" → days since 1970-01-01; nullopt when not RFC 3339.
std::optional<long> days_since_epoch(std::string_view timestamp);

}  // namespace kg::rbac

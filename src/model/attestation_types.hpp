// What the signing engine and the admission policy share about cosign attestations: the predicate
// types cosign names (`--type vuln` is https://cosign.sigstore.dev/attestation/vuln/v1) and the age
// spelling of an attestation policy (`max-age: 7d`). Both engines read them; neither includes the other.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace kg {

// cosign's --type: a name of its table (custom, slsaprovenance, slsaprovenance02, slsaprovenance1,
// link, spdx, spdxjson, cyclonedx, vuln, openvex) or an absolute URI used as is; nullopt otherwise.
std::optional<std::string> attestation_predicate_uri(std::string_view type);
// The names attestation_predicate_uri knows, for messages.
inline constexpr const char* kAttestationTypeNames =
    "custom, slsaprovenance, slsaprovenance02, slsaprovenance1, link, spdx, spdxjson, cyclonedx, vuln, openvex, "
    "or a URI";

// "7d", "12h", "30m", "90s", "2w" -> seconds; nullopt when malformed or over 100 years.
std::optional<std::int64_t> parse_age_seconds(std::string_view text);

}  // namespace kg

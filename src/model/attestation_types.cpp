#include "model/attestation_types.hpp"

#include <cctype>
#include <map>

namespace kg {

std::optional<std::string> attestation_predicate_uri(std::string_view type) {
  // cosign's PredicateTypeMap (cmd/cosign/cli/options/predicate.go).
  static const std::map<std::string, std::string, std::less<>> table = {
      {"custom", "https://cosign.sigstore.dev/attestation/v1"},
      {"slsaprovenance", "https://slsa.dev/provenance/v0.2"},
      {"slsaprovenance02", "https://slsa.dev/provenance/v0.2"},
      {"slsaprovenance1", "https://slsa.dev/provenance/v1"},
      {"link", "https://in-toto.io/Link/v1"},
      {"spdx", "https://spdx.dev/Document"},
      {"spdxjson", "https://spdx.dev/Document"},
      {"cyclonedx", "https://cyclonedx.org/bom"},
      {"vuln", "https://cosign.sigstore.dev/attestation/vuln/v1"},
      {"openvex", "https://openvex.dev/ns"},
  };
  if (auto it = table.find(type); it != table.end()) return it->second;
  // Go's url.ParseRequestURI: an absolute URI (scheme:...) or an absolute path.
  const std::size_t colon = type.find(':');
  const bool scheme = colon != std::string_view::npos && colon > 0 &&
                      std::isalpha(static_cast<unsigned char>(type[0])) &&
                      type.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-.") == colon;
  if (((scheme && colon + 1 < type.size()) || (!type.empty() && type[0] == '/')) &&
      type.find_first_of(" \t\r\n\"") == std::string_view::npos)
    return std::string(type);
  return std::nullopt;
}

std::optional<std::int64_t> parse_age_seconds(std::string_view text) {
  if (text.size() < 2 || text.size() > 12) return std::nullopt;
  const std::string_view num = text.substr(0, text.size() - 1);
  if (num.find_first_not_of("0123456789") != std::string_view::npos) return std::nullopt;
  std::int64_t n = 0, unit = 0;
  for (char c : num) n = n * 10 + (c - '0');
  switch (text.back()) {
    case 's': unit = 1; break;
    case 'm': unit = 60; break;
    case 'h': unit = 3600; break;
    case 'd': unit = 86400; break;
    case 'w': unit = 7 * 86400; break;
    default: return std::nullopt;
  }
  if (n <= 0 || n > std::int64_t{100} * 365 * 86400 / unit) return std::nullopt;
  return n * unit;
}

}  // namespace kg

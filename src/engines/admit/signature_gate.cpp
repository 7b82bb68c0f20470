#include "engines/admit/signature_gate.hpp"

namespace kg::admit {

const SignaturePolicy* select_signature_policy(const std::vector<SignaturePolicy>& policies, std::string_view image,
                                               std::string_view ns, const Labels& labels) {
  // The vulnerability gate's selection (policy_matches): the first policy that takes the image.
  std::string normalised;
  for (const SignaturePolicy& p : policies)
    if (policy_matches(p.registries, p.namespaces, p.namespace_selector, image, ns, labels, normalised)) return &p;
  return nullptr;
}

const std::vector<std::string>& attestation_keys(const SignaturePolicy& p, const RequiredAttestation& a) {
  return a.keys.empty() ? p.keys : a.keys;
}

bool attestation_require_all(const SignaturePolicy& p, const RequiredAttestation& a) {
  return a.require_set ? a.require_all : p.require_all;
}

std::string verdict_cache_key(const SignaturePolicy& p) {
  std::string key = p.require_all ? "all" : "any";
  for (const std::string& k : p.keys) key += "|" + k;
  for (const std::string& k : p.revoked_keys) key += "|-" + k;
  if (const SignatureKeyless& k = p.keyless; k.present)
    key += "|keyless:" + k.trusted_root + "|" + k.certificate_chain + "|" + k.timestamp_chain + "|" + k.identity + "|" +
           k.identity_regexp + "|" + k.issuer + "|" + k.issuer_regexp + (k.ignore_tlog ? "|now" : "|ts");
  for (const RequiredAttestation& a : p.attestations) {
    key += "||" + a.predicate_type + (attestation_require_all(p, a) ? "|all" : "|any");
    for (const std::string& k : attestation_keys(p, a)) key += "|" + k;
    key += "|sev=" + (a.max_severity ? std::to_string(*a.max_severity) : std::string("-"));
    key += "|age=" + (a.max_age_s ? std::to_string(*a.max_age_s) : std::string("-"));
    key += a.require_sbom ? "|sbom" : "";
  }
  return key;
}

}  // namespace kg::admit

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

}  // namespace kg::admit

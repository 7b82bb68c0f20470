#include "engines/admit/signature_gate.hpp"

#include "core/glob.hpp"

namespace kg::admit {

const SignaturePolicy* select_signature_policy(const std::vector<SignaturePolicy>& policies, std::string_view image,
                                               std::string_view ns, const Labels& labels) {
  // The vulnerability gate's selection (select_policy): registries against the reference as
  // written and as normalised, then namespace names or the selector.
  std::string normalised;
  for (const SignaturePolicy& p : policies) {
    if (!p.registries.empty()) {
      bool hit = any_glob(p.registries, image);
      if (!hit) {
        if (normalised.empty()) normalised = normalise_reference(image);
        hit = any_glob(p.registries, normalised);
      }
      if (!hit) continue;
    }
    const bool by_name = !p.namespaces.empty();
    const bool by_selector = p.namespace_selector.present;
    if (by_name || by_selector) {
      const bool hit = (by_name && any_glob(p.namespaces, ns)) || (by_selector && p.namespace_selector.matches(labels));
      if (!hit) continue;
    }
    return &p;
  }
  return nullptr;
}

}  // namespace kg::admit

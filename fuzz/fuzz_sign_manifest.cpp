// libFuzzer target for the manifests signatures are found through (untrusted: registry content):
// the input as a legacy signature manifest (sha256-<hex>.sig), as a referrer manifest, and as an
// image index (the referrers API response or its fallback tag). What parses is written again
// (build_signature_manifest, build_index) and must parse back to the same descriptors, with nothing
// skipped: a malformed layer or entry is left out of what parses (named in skipped), never written.
#include <cstddef>
#include <cstdint>
#include <string>

#include "engines/sign/formats.hpp"

namespace {

bool same(const std::vector<kg::sign::Descriptor>& a, const std::vector<kg::sign::Descriptor>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (a[i].digest != b[i].digest || a[i].size != b[i].size || a[i].media_type != b[i].media_type ||
        a[i].annotations != b[i].annotations)
      return false;
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    auto m = kg::sign::parse_signature_manifest(text, "fuzz");
    auto built = kg::sign::build_signature_manifest(m.layers);
    auto back = kg::sign::parse_signature_manifest(built.manifest, "rebuilt");
    if (!back.skipped.empty() || !same(back.layers, m.layers)) __builtin_trap();
  } catch (const kg::sign::SignError& e) {
    if (std::string(e.what()).empty()) __builtin_trap();
  }
  try {
    auto r = kg::sign::parse_referrer_manifest(text, "fuzz");
    if (r.has_subject && !kg::sign::is_sha256_digest(r.subject.digest)) __builtin_trap();
  } catch (const kg::sign::SignError& e) {
    if (std::string(e.what()).empty()) __builtin_trap();
  }
  try {
    auto idx = kg::sign::parse_index(text, "fuzz").manifests;
    auto back = kg::sign::parse_index(kg::sign::build_index(idx), "rebuilt");
    if (!back.skipped.empty() || !same(back.manifests, idx)) __builtin_trap();
  } catch (const kg::sign::SignError& e) {
    if (std::string(e.what()).empty()) __builtin_trap();
  }
  return 0;
}

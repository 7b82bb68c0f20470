// libFuzzer target for the referrers response (untrusted: registry content): the OCI image index the
// referrers API returns (GET /v2/<name>/referrers/<digest>) and its tag fallback (the `sha256-<hex>`
// index tag, which anyone who can push may write). kguard reads it to find bundles (fetch_bundles)
// and, signing on a registry without the API, reads it, appends its referrer and writes it back
// (attach_bundle). Properties:
// - one malformed entry does not hide the others: it is left out with a note naming the entry
//   ("manifests[<i>]") and the rest are returned; every entry returned has a well-formed OCI digest
//   (sha512 included) and only sha256 ones are fetched (fetchable_sha256; the digest goes into a
//   request path);
// - what kguard writes back keeps every entry it read, in order, with its media type, digest,
//   size, artifactType and annotations (another tool's referrers must survive kguard's append and
//   keep the artifactType fetch_bundles filters on), followed by kguard's own entry.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "engines/sign/formats.hpp"

namespace {

bool same(const kg::sign::Descriptor& a, const kg::sign::Descriptor& b) {
  return a.media_type == b.media_type && a.digest == b.digest && a.size == b.size &&
         a.artifact_type == b.artifact_type && a.annotations == b.annotations;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  std::vector<kg::sign::Descriptor> entries;
  try {
    kg::sign::Index index = kg::sign::parse_index(text, "fuzz");
    for (const std::string& note : index.skipped)
      if (note.find("manifests[") == std::string::npos || note.find(" skipped)") == std::string::npos) __builtin_trap();
    entries = std::move(index.manifests);
  } catch (const kg::sign::SignError& e) {
    if (std::string(e.what()).empty()) __builtin_trap();
    return 0;
  }
  for (const kg::sign::Descriptor& d : entries) {
    if (!kg::sign::is_oci_digest(d.digest)) __builtin_trap();
    std::vector<std::string> notes;
    if (kg::sign::fetchable_sha256(d, "fuzz", "manifests", notes) != kg::sign::is_sha256_digest(d.digest)) __builtin_trap();
    if (notes.size() != (kg::sign::is_sha256_digest(d.digest) ? 0u : 1u)) __builtin_trap();
  }
  // attach_bundle's append: the entries read, then kguard's referrer.
  kg::sign::Descriptor mine;
  mine.media_type = kg::sign::kOciManifestMediaType;
  mine.digest = "sha256:" + std::string(64, 'c');
  mine.size = 877;
  mine.artifact_type = kg::sign::kBundleMediaType;
  mine.annotations = {{"dev.sigstore.bundle.content", "dsse-envelope"},
                      {"dev.sigstore.bundle.predicateType", kg::sign::kCosignSignPredicate}};
  std::vector<kg::sign::Descriptor> written = entries;
  written.push_back(mine);
  std::vector<kg::sign::Descriptor> back;
  try {
    kg::sign::Index rebuilt = kg::sign::parse_index(kg::sign::build_index(written), "rebuilt");
    if (!rebuilt.skipped.empty()) __builtin_trap();  // kguard wrote an entry it cannot read
    back = std::move(rebuilt.manifests);
  } catch (const kg::sign::SignError&) {
    __builtin_trap();  // kguard wrote an index it cannot read
  }
  if (back.size() != written.size()) __builtin_trap();
  for (std::size_t i = 0; i < back.size(); ++i)
    if (!same(back[i], written[i])) __builtin_trap();
  return 0;
}

// libFuzzer target for SBOMs as input (kguard image sbom:FILE): CycloneDX and
// SPDX JSON read back into the inventory, and package URLs parsed.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "engines/image/inventory/sbom_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  kg::ImageInventory inv;
  std::vector<kg::image::CatalogError> errors;
  const bool ok = kg::image::read_sbom("sbom.json", text, inv, errors);
  if (!ok && errors.empty()) __builtin_trap();  // a refusal always says why
  for (const auto& p : inv.packages)
    if (p.purl.empty()) __builtin_trap();
  (void)kg::image::package_from_purl(text.substr(0, 512));
  return 0;
}

// An SBOM as the input instead of an image (`kguard image sbom:FILE`): a
// CycloneDX (1.4-1.6) or SPDX 2.x JSON document read back into the inventory
// model, so later stages (vulnerability matching) need no image. Packages are
// taken from their purls; kguard's own properties restore the evidence.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engines/image/inventory/common.hpp"
#include "model/package.hpp"

namespace kg::image {

// A package URL split into its parts, percent-decoded.
struct Purl {
  std::string type, ns, name, version, subpath;
  std::vector<std::pair<std::string, std::string>> qualifiers;
  std::string qualifier(std::string_view key) const;
};
std::optional<Purl> parse_purl(std::string_view purl);
// The package a purl names (type, name as the ecosystem writes it, version,
// arch, source package, epoch); nullopt for types the inventory has no kind for.
std::optional<Package> package_from_purl(std::string_view purl);

// Reads `text` (the file at `path`) into `inv`; errors name the file and,
// for JSON problems, the line. Returns false when it is not an SBOM at all.
bool read_sbom(std::string_view path, std::string_view text, ImageInventory& inv,
               std::vector<CatalogError>& errors);

}  // namespace kg::image

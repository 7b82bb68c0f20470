// SBOM writers over an image inventory: CycloneDX 1.6 JSON and SPDX 2.3 JSON
// (docs/images.md, "SBOM"). The image (its manifest digest) is the subject;
// every package carries its purl, license, and the file and layer it came from.
#pragma once

#include <ostream>
#include <span>
#include <string>
#include <string_view>

#include "model/package.hpp"
#include "model/vulnerability.hpp"

namespace kg {

struct SbomOptions {
  std::string timestamp;  // RFC 3339; empty: now
  std::string uuid;       // serial number / document namespace; empty: a random v4 UUID
  // CycloneDX: the image's vulnerabilities (ratings, affects -> the package's
  // bom-ref, analysis for suppressed ones); null: an SBOM only.
  const ImageVulnerabilities* vulnerabilities = nullptr;
};

void write_cyclonedx(const ImageInventory& inv, std::ostream& out, const SbomOptions& opts = {});
void write_spdx(const ImageInventory& inv, std::ostream& out, const SbomOptions& opts = {});

struct SbomWriter {
  std::string_view format;  // the -o value
  std::string_view description;
  void (*write)(const ImageInventory&, std::ostream&, const SbomOptions&);
};
std::span<const SbomWriter> sbom_writers();
const SbomWriter* find_sbom_writer(std::string_view format);

// The SPDX license list's spelling of `id` (matched case-insensitively), or
// empty when it is not on the list.
std::string_view canonical_spdx_id(std::string_view id);

// How a package's license string reads in SPDX terms: an id on the list, an
// expression whose every id is on the list (ids respelled), or neither.
struct LicenseForm {
  enum Kind { None, Id, Expression, Name } kind = None;
  std::string text;  // the id, the expression, or the name as written
};
LicenseForm classify_license(std::string_view license);

}  // namespace kg

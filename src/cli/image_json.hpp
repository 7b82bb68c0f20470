// `kguard image -o json`: the inventory, the notes and, when matched, the vulnerabilities of one image.
// The vulnerability attestations (kguard attest --vuln, the registry hook) carry it as scanner.result.
#pragma once

#include <ostream>

#include "engines/image/walk.hpp"
#include "model/vulnerability.hpp"

namespace kg::cli {

void print_image_json(std::ostream& out, const image::ImageReadResult& r, const ImageVulnerabilities* vulns);

}  // namespace kg::cli

// The predicates kguard attests about an image (docs/signing.md "Attestations"): kguard image's
// CycloneDX SBOM, and its vulnerability result wrapped in cosign's vuln predicate. `kguard attest
// --sbom/--vuln` and the registry hook make them the same way, from an image already read.
#pragma once

#include <chrono>
#include <string>

#include "engines/image/walk.hpp"
#include "model/vulnerability.hpp"

namespace kg::cli {

// The CycloneDX 1.6 SBOM of the inventory (no vulnerabilities in it: the vuln predicate carries them).
std::string cyclonedx_sbom_json(const ImageInventory& inv);

// cosign's CosignVulnPredicate: invocation (empty, as cosign fills it), scanner {uri
// pkg:generic/kguard@<version>, version, db {uri, version}, result = `result_json` (kguard image -o
// json)}, metadata {scanStartedOn, scanFinishedOn}.
std::string vuln_predicate_json(const std::string& result_json, const std::string& db_uri, const std::string& db_version,
                                std::chrono::system_clock::time_point started,
                                std::chrono::system_clock::time_point finished);

// The same around an image read and matched in-process.
std::string vuln_predicate_json(const image::ImageReadResult& r, const ImageVulnerabilities& vulns,
                                const std::string& db_uri, std::chrono::system_clock::time_point started,
                                std::chrono::system_clock::time_point finished);

std::string utc_rfc3339(std::chrono::system_clock::time_point t);

}  // namespace kg::cli

// What the renderers share to show an image's vulnerabilities as a table
// (EngineResult::vulnerabilities): counts, the image's users in a manifest
// scan, and each column's text.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "model/engine_result.hpp"

namespace kg {

class JsonWriter;

struct VulnCounts {
  std::array<std::uint64_t, 4> by_severity{};  // unsuppressed, indexed by Severity
  std::uint64_t open = 0;                      // unsuppressed
  std::uint64_t suppressed = 0;
};
VulnCounts count_vulns(const ImageVulnerabilities& iv);

// The workload containers that run `reference` (scan --images), input order.
std::vector<const ImageUse*> image_users(const EngineResult& r, std::string_view reference);

// "3.0.13-1", or "none yet" / "won't fix" in `lang`.
std::string fixed_text(const VulnMatch& m, Lang lang);
// Why it matched: the range and the record's feed and namespace.
std::string why_text(const VulnMatch& m);
// One decimal ("72.5"); "-" for a negative (unknown) value.
std::string decimal(double v);
// One image's vulnerabilities as a JSON object (image, digest, os, dbBuiltAt,
// usedBy from `uses`, notes, matches with every VulnMatch field): the JSON
// report's `vulnerabilities` entries and kguard image -o json's.
void write_vulnerabilities_json(JsonWriter& w, const ImageVulnerabilities& iv, const std::vector<ImageUse>& uses);

// "Deployment shop/api (container api)".
std::string user_text(const ImageUse& u, Lang lang);

}  // namespace kg

// RFC 4648 base64, the one codec of the layers above core (kubeconfig *-data fields; the package
// checksums the SBOM writers and readers convert: apk's Q1…, Go's h1:…).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace kg {

// Standard alphabet, padded.
std::string base64_encode(std::string_view in);

// The standard or URL-safe alphabet, padding optional, line breaks and spaces skipped; nullopt
// when malformed.
std::optional<std::string> base64_decode(std::string_view in);

}  // namespace kg

// libFuzzer target for Java archives: the zip reader (end record, zip64,
// central directory, local headers, inflate with a limit), manifests,
// pom.properties and nested archives.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engines/image/inventory/lang_packages.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const auto r = kg::image::parse_java_archive("/app/app.jar", bytes);
  for (const auto& p : r.packages)
    if (p.name.empty() || p.version.empty() || p.evidence.empty()) __builtin_trap();
  for (const auto& e : r.errors)
    if (e.message.empty()) __builtin_trap();
  std::vector<kg::image::ZipEntry> entries;
  std::string error;
  if (kg::image::zip_entries(bytes, entries, error)) {
    std::string out;
    for (const auto& e : entries) {
      if (kg::image::zip_read(bytes, e, 1 << 16, out, error) && out.size() > (1 << 16)) __builtin_trap();
    }
  } else if (error.empty()) {
    __builtin_trap();
  }
  (void)kg::image::parse_jar_manifest(bytes);
  return 0;
}

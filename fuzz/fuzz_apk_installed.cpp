// libFuzzer target for Alpine's installed database (lib/apk/db/installed).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "engines/image/inventory/os_packages.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto r = kg::image::parse_apk_installed("/lib/apk/db/installed", text);
  for (const auto& p : r.packages)
    if (p.name.empty() || p.version.empty()) __builtin_trap();
  for (const auto& e : r.errors)
    if (e.message.empty() || e.line == 0) __builtin_trap();
  return 0;
}

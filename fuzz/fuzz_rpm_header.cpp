// libFuzzer target for rpm databases read without librpm: one header blob,
// the same bytes as a BerkeleyDB hash file (pages, overflow chains), and as
// an rpmdb.sqlite image (SQLite reading from memory).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "engines/image/inventory/os_packages.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  kg::Package p;
  std::string error;
  bool skip = false;
  const bool ok = kg::image::parse_rpm_header(bytes, p, error, skip);
  if (!ok && error.empty()) __builtin_trap();  // a failure always says why
  if (ok && !skip && (p.name.empty() || p.version.empty())) __builtin_trap();
  for (const auto& r : {kg::image::parse_rpmdb_bdb("/var/lib/rpm/Packages", bytes),
                        kg::image::parse_rpmdb_sqlite("/var/lib/rpm/rpmdb.sqlite", bytes)}) {
    for (const auto& q : r.packages)
      if (q.name.empty() || q.version.empty()) __builtin_trap();
    for (const auto& e : r.errors)
      if (e.message.empty()) __builtin_trap();
  }
  return 0;
}

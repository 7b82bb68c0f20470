// libFuzzer target: the zip reader of OSV all.zip dumps (central directory,
// zip64, stored and deflated members, CRC), each member then read as OSV.
// Bounds are lowered so a lying header cannot make a run allocate much.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "engines/vuln/db/feeds/feeds.hpp"
#include "fuzz_vuln_check.hpp"
#include "engines/vuln/db/feeds/zip.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  kg::vuln::ZipLimits limits;
  limits.max_entries = 10000;
  limits.max_entry_bytes = std::uint64_t{1} << 20;
  limits.max_directory_bytes = std::uint64_t{1} << 20;
  std::string error;
  auto zip = kg::vuln::ZipReader::open_memory(std::string_view(reinterpret_cast<const char*>(data), size), &error,
                                              limits);
  if (!zip) {
    if (error.empty()) __builtin_trap();
    return 0;
  }
  if (zip->entries().size() > limits.max_entries) __builtin_trap();
  kg::vuln::CollectSink sink;
  std::string bytes;
  for (const auto& e : zip->entries()) {
    if (!zip->read(e, bytes, &error)) continue;
    if (bytes.size() != e.size) __builtin_trap();
    kg::vuln::parse_osv_text(e.name, bytes, "osv", sink);
  }
  fuzz_vuln_check(sink);
  return 0;
}

// libFuzzer target: one OSV JSON record into database records (db/feeds/osv.cpp).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "engines/vuln/db/feeds/feeds.hpp"
#include "fuzz_vuln_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  kg::vuln::CollectSink sink;
  kg::vuln::parse_osv_text("osv.json", text, "osv", sink);
  fuzz_vuln_check(sink);
  return 0;
}

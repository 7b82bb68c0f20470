// libFuzzer target: the Debian security tracker's JSON (/tracker/data/json).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "engines/vuln/db/feeds/feeds.hpp"
#include "fuzz_vuln_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  kg::vuln::CollectSink sink;
  kg::vuln::parse_debian_tracker_json_text("data.json", std::string_view(reinterpret_cast<const char*>(data), size),
                                           sink);
  fuzz_vuln_check(sink);
  return 0;
}

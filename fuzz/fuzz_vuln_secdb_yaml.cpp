// libFuzzer target: the older Alpine secdb YAML (alpinelinux/alpine-secdb v3.X/main.yaml).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "engines/vuln/db/feeds/feeds.hpp"
#include "fuzz_vuln_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  kg::vuln::CollectSink sink;
  kg::vuln::parse_secdb_text("main.yaml", std::string_view(reinterpret_cast<const char*>(data), size), true, sink);
  fuzz_vuln_check(sink);
  return 0;
}

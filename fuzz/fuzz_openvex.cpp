// libFuzzer target for OpenVEX documents (--vex FILE): the OpenVEX parser
// (engines/vuln/handling/vex.cpp) on any bytes, then the statements applied.
#include "vex_fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  kg::vuln::fuzz::run_vex(kg::vuln::VexFormat::OpenVex, data, size);
  return 0;
}

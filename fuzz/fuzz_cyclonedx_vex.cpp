// libFuzzer target for CycloneDX VEX documents (--vex FILE): the CycloneDX
// parser (engines/vuln/handling/vex.cpp: bom-refs, BOM-Links, versions) on
// any bytes, then the statements applied.
#include "vex_fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  kg::vuln::fuzz::run_vex(kg::vuln::VexFormat::CycloneDx, data, size);
  return 0;
}

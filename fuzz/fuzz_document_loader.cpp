// libFuzzer target for everything untrusted manifest bytes go through: the
// YAML and JSON loaders, object collection and every rule of the catalog.
#include <cstddef>
#include <cstdint>
#include <string>

#include "engines/scan/scan.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const kg::Scanner scanner(kg::Catalog::builtin(), kg::ScanOptions{});
  std::string content(reinterpret_cast<const char*>(data), size);
  kg::ScanResult r = scanner.scan_buffer("fuzz.yaml", std::move(content));
  // Every error must carry a message; every finding a rule.
  for (const auto& e : r.errors)
    if (e.message.empty()) __builtin_trap();
  for (const auto& f : r.findings)
    if (!f.rule) __builtin_trap();
  return 0;
}

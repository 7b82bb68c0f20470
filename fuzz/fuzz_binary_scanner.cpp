// libFuzzer target for the executable scanner (Go build info, cargo-auditable
// data): the input streamed whole and in chunks cut at input-derived points
// must give the same packages, since the layer walk cuts files anywhere.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engines/image/inventory/lang_packages.hpp"

namespace {

std::vector<std::string> scan(std::string_view bytes, std::size_t step) {
  kg::image::BinaryScanner s;
  for (std::size_t i = 0; i < bytes.size(); i += step) s.data(bytes.substr(i, step));
  std::string error;
  std::vector<std::string> out;
  for (const auto& p : s.finish(error)) out.push_back(std::string(kg::to_string(p.type)) + " " + p.name + " " + p.version);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const auto whole = scan(bytes, bytes.size() + 1);
  // Chunks from 1 byte up, chosen by the input so the fuzzer explores cuts.
  const std::size_t step = size == 0 ? 1 : 1 + (static_cast<std::size_t>(data[size - 1]) * 7) % 4096;
  if (scan(bytes, step) != whole) __builtin_trap();
  // The parsers alone, on the raw bytes.
  std::vector<kg::Package> pkgs;
  std::string error;
  (void)kg::image::parse_go_buildinfo(bytes, pkgs, error);
  (void)kg::image::parse_cargo_auditable_json(bytes, pkgs, error);
  for (const auto& p : pkgs)
    if (p.name.empty()) __builtin_trap();
  return 0;
}

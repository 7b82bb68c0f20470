// libFuzzer target holding the YAML fast path to libyaml: for any bytes, the
// trees, marks and errors loaded through the fast path (libyaml for what it
// declines) must equal libyaml's alone, streamed and kept alike (streamed,
// the fast path may deliver List items libyaml's error came too early for).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

#include "support/yaml_differential.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  for (bool release : {false, true}) {
    const std::string fast = kg::test::load_and_dump(bytes, kg::detail::YamlPath::Auto, release);
    const std::string reference = kg::test::load_and_dump(bytes, kg::detail::YamlPath::LibyamlOnly, release);
    if (release ? !kg::test::streamed_results_agree(fast, reference) : fast != reference) {
      std::fprintf(stderr, "fast path:\n%s\nlibyaml:\n%s\n", fast.c_str(), reference.c_str());
      __builtin_trap();
    }
  }
  return 0;
}

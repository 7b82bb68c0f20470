// libFuzzer target for the CVSS vector parsers (engines/vuln/score/cvss.hpp):
// for any bytes, a vector is either refused with an error or scored within
// 0..10 in tenths, and the same metrics in reverse order score the same (the
// order is free); the severity decision reads the bytes as every field too.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "engines/vuln/score/cvss.hpp"
#include "engines/vuln/score/risk.hpp"

namespace {

bool tenths(double s) {
  return s >= 0 && s <= 10 && std::fabs(s * 10 - std::round(s * 10)) < 1e-9;
}

void check(bool ok, const char* what, std::string_view input) {
  if (ok) return;
  std::fprintf(stderr, "fuzz_cvss: %s for \"%.*s\"\n", what, static_cast<int>(input.size()),
               input.data());
  __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  std::string error;
  const auto s = kg::vuln::cvss_scores(input, &error);
  if (!s) {
    check(!error.empty(), "refused without an error", input);
  } else {
    check(tenths(s->base) && tenths(s->temporal) && tenths(s->environmental) && tenths(s->score) &&
              tenths(s->overall()),
          "score outside 0..10 in tenths", input);
    // The metrics reversed: the same scores.
    const std::size_t slash = input.find('/');
    std::vector<std::string_view> parts;
    std::size_t pos = slash + 1;
    while (true) {
      const std::size_t next = input.find('/', pos);
      parts.push_back(
          input.substr(pos, next == std::string_view::npos ? std::string_view::npos : next - pos));
      if (next == std::string_view::npos) break;
      pos = next + 1;
    }
    std::string reversed(input.substr(0, slash));
    for (auto it = parts.rbegin(); it != parts.rend(); ++it) {
      reversed += '/';
      reversed.append(*it);
    }
    const auto r = kg::vuln::cvss_scores(reversed);
    check(r && r->base == s->base && r->temporal == s->temporal &&
              r->environmental == s->environmental && r->score == s->score,
          "reordered metrics score differently", input);
  }
  const auto d = kg::vuln::vuln_severity("vendor", input, "advisory", input, input, input);
  check(!d.source.empty(), "no severity source", input);
  return 0;
}

// Mirrors resource.ParseQuantity in k8s.io/apimachinery (quantity.go):
// <sign><digits>[.<digits>]<suffix>, where the suffix is a binary SI suffix
// (Ki..Ei), a decimal SI suffix (n u m "" k M G T P E) or a decimal exponent
// (e3, E-2). A value whose sign is followed only by zeros (or by nothing:
// "+", "-") is zero, as upstream.
#include "checks/workload_quantity.hpp"

#include <charconv>
#include <string>

namespace kg {
namespace {

constexpr QuantityInt kSaturate = [] {
  QuantityInt v = 1;
  for (int i = 0; i < 36; ++i) v *= 10;  // 10^27 units in nano
  return v;
}();

constexpr QuantityInt kBinaryCap = QuantityInt{INT64_MAX} * 1'000'000'000;

bool is_digit(char c) { return c >= '0' && c <= '9'; }

struct Suffix {
  int base = 10;  // 10 or 2
  int exponent = 0;
};

std::optional<Suffix> interpret_suffix(std::string_view s) {
  static constexpr std::pair<std::string_view, Suffix> kTable[] = {
      {"", {10, 0}},   {"n", {10, -9}}, {"u", {10, -6}},  {"m", {10, -3}},  {"k", {10, 3}},
      {"M", {10, 6}},  {"G", {10, 9}},  {"T", {10, 12}},  {"P", {10, 15}},  {"E", {10, 18}},
      {"Ki", {2, 10}}, {"Mi", {2, 20}}, {"Gi", {2, 30}},  {"Ti", {2, 40}},  {"Pi", {2, 50}},
      {"Ei", {2, 60}}};
  for (const auto& [text, suffix] : kTable)
    if (s == text) return suffix;
  if (s.size() > 1 && (s[0] == 'e' || s[0] == 'E')) {
    std::string_view digits = s.substr(1);
    if (digits[0] == '+') digits.remove_prefix(1);
    std::int64_t e = 0;
    auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), e);
    if (ec != std::errc{} || p != digits.data() + digits.size()) return std::nullopt;
    // Upstream parses an int64 and keeps int32(parsed): out-of-range exponents wrap.
    return Suffix{10, static_cast<std::int32_t>(e)};
  }
  return std::nullopt;
}

}  // namespace

std::int64_t Quantity::millis() const {
  QuantityInt m = nano / 1'000'000;
  if (nano % 1'000'000 > 0) ++m;
  if (nano % 1'000'000 < 0) --m;
  if (m > INT64_MAX) return INT64_MAX;
  if (m < INT64_MIN) return INT64_MIN;
  return static_cast<std::int64_t>(m);
}

std::optional<Quantity> parse_quantity(std::string_view str) {
  if (str.empty()) return std::nullopt;
  std::size_t pos = 0;
  const std::size_t end = str.size();
  bool positive = true;
  if (str[0] == '-' || str[0] == '+') {
    positive = str[0] == '+';
    ++pos;
  }
  // Upstream: only zeros (or nothing) after the sign is zero, whatever follows.
  std::size_t z = pos;
  while (z < end && str[z] == '0') ++z;
  if (z == end) return Quantity{};
  std::size_t num_start = pos;
  while (pos < end && is_digit(str[pos])) ++pos;
  std::string_view num = str.substr(num_start, pos - num_start);
  std::string_view denom;
  if (pos < end && str[pos] == '.') {
    ++pos;
    std::size_t d = pos;
    while (pos < end && is_digit(str[pos])) ++pos;
    denom = str.substr(d, pos - d);
  }
  // Upstream reads a missing number as 0: ".", "Ki" and "m" all parse as zero.
  // Suffix: [eEinumkKMGTP]* [+-]? [0-9]* up to the end.
  const std::size_t suffix_start = pos;
  while (pos < end && std::string_view("eEinumkKMGTP").find(str[pos]) != std::string_view::npos)
    ++pos;
  if (pos < end && (str[pos] == '+' || str[pos] == '-')) ++pos;
  while (pos < end && is_digit(str[pos])) ++pos;
  if (pos != end) return std::nullopt;
  auto suffix = interpret_suffix(str.substr(suffix_start));
  if (!suffix) return std::nullopt;

  // value = digits × 10^(exp10) × 2^(exp2), in nano-units.
  std::string digits;
  digits.reserve(num.size() + denom.size());
  for (char c : num) digits.push_back(c);
  for (char c : denom) digits.push_back(c);
  std::size_t first = digits.find_first_not_of('0');
  if (first == std::string::npos) return Quantity{};
  digits.erase(0, first);
  long exp10 = 9 - static_cast<long>(denom.size());
  if (suffix->base == 10) exp10 += suffix->exponent;
  const int exp2 = suffix->base == 2 ? suffix->exponent : 0;
  bool sticky = false;  // non-zero digits dropped below the kept precision
  if (digits.size() > 36) {
    for (std::size_t i = 36; i < digits.size(); ++i) sticky |= digits[i] != '0';
    exp10 += static_cast<long>(digits.size() - 36);
    digits.resize(36);
  }
  QuantityInt v = 0;
  for (char c : digits) v = v * 10 + (c - '0');
  bool saturated = false;
  for (int i = 0; i < exp2 && !saturated; ++i) {
    if (v > kSaturate / 2) saturated = true;
    else v *= 2;
  }
  if (!saturated && exp10 >= 0) {
    for (long i = 0; i < exp10; ++i) {
      if (v > kSaturate / 10) {
        saturated = true;
        break;
      }
      v *= 10;
    }
  } else if (!saturated) {
    for (long i = 0; i < -exp10 && v != 0; ++i) {
      sticky |= v % 10 != 0;
      v /= 10;
    }
    if (sticky) ++v;  // round up to the next nano, as upstream
  }
  if (saturated || v > kSaturate) v = kSaturate;
  if (suffix->base == 2 && v > kBinaryCap) v = kBinaryCap;
  return Quantity{positive ? v : -v};
}

}  // namespace kg

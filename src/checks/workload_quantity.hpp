// Kubernetes resource quantities ("500m", "1Gi", "1e3", "0.5"), parsed the way
// k8s.io/apimachinery's resource.ParseQuantity does, for bounds and equality
// checks on requests and limits.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string_view>

namespace kg {

__extension__ typedef __int128 QuantityInt;

struct Quantity {
  // The value in nano-units (value × 10^9). Like Kubernetes, a non-zero value
  // finer than 1n rounds up (away from zero) to 1n, and binary-suffixed values
  // are capped at 2^63-1. Magnitudes at or above 10^27 units (far beyond any
  // real resource) saturate at that bound.
  QuantityInt nano = 0;

  // NOLINTNEXTLINE(modernize-use-nullptr): clang-tidy 14 flags the synthesized `<=> 0` of a defaulted <=>
  friend auto operator<=>(const Quantity&, const Quantity&) = default;
  // The value in milli-units rounded up, saturated to the int64 range (for messages).
  std::int64_t millis() const;
};

// nullopt when `text` is not a valid quantity (empty, whitespace, unknown
// suffix such as "Mb" or "mi", "1.1.M", "1i", ...).
std::optional<Quantity> parse_quantity(std::string_view text);

}  // namespace kg

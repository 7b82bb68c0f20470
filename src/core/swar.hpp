// Eight bytes at a time: word tests for the byte scans of the loaders, where
// most bytes are ordinary text and the interesting ones are rare.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace kg::swar {

constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
constexpr std::uint64_t kHighs = 0x8080808080808080ULL;

inline std::uint64_t load(const char* p) {
  std::uint64_t w;
  std::memcpy(&w, p, sizeof w);
  return w;
}

// Whether some byte of `w` equals `c` (exact as a yes/no answer).
inline bool has(std::uint64_t w, unsigned char c) {
  const std::uint64_t v = w ^ (kOnes * c);
  return ((v - kOnes) & ~v & kHighs) != 0;
}

// Whether some byte of `w` is below `n` (n <= 128; exact as a yes/no answer).
inline bool has_below(std::uint64_t w, unsigned char n) {
  return ((w - kOnes * n) & ~w & kHighs) != 0;
}

// How many bytes of [p, end) equal `c`: exact per byte (no borrow between
// bytes), eight at a time, for counting the lines of megabytes.
inline std::size_t count(const char* p, const char* end, unsigned char c) {
  std::size_t n = 0;
  constexpr std::uint64_t kLows = ~kHighs;
  for (; end - p >= 8; p += 8) {
    const std::uint64_t v = load(p) ^ (kOnes * c);
    // High bit set in each byte that is zero in v.
    const std::uint64_t zero = ~(((v & kLows) + kLows) | v) & kHighs;
    n += static_cast<std::size_t>(__builtin_popcountll(zero));
  }
  for (; p < end; ++p) n += static_cast<unsigned char>(*p) == c;
  return n;
}

}  // namespace kg::swar

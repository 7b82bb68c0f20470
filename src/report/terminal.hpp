// Text from manifests shown on a terminal (the text report, the ci format,
// stderr): control characters are made visible, never sent raw, so a value
// holding ESC/OSC/CSI sequences cannot clear the screen, retitle the terminal
// or forge report lines of whoever reviews it.
#pragma once

#include <cstdio>
#include <ostream>
#include <string>
#include <string_view>

#include "report/formats.hpp"

namespace kg {

// True for what a terminal may act on: C0 (except tab), DEL, C1, and the
// line/paragraph separators and bidirectional overrides that reorder text.
inline bool terminal_control(char32_t cp) {
  return (cp < 0x20 && cp != '\t') || (cp >= 0x7F && cp <= 0x9F) || cp == 0x2028 ||
         cp == 0x2029 || (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

// `s` with every terminal control written as \n, \r, \xNN or \uNNNN, and each
// byte that is not UTF-8 as \xNN (a lone 0x9B is CSI to an 8-bit terminal).
inline std::string terminal_safe(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  char buf[12];
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t start = i;
    const char32_t cp = next_code_point(s, i);
    const bool bad_byte = cp == 0xFFFD && i - start == 1 && static_cast<unsigned char>(s[start]) >= 0x80;
    if (bad_byte) {
      std::snprintf(buf, sizeof buf, "\\x%02X", static_cast<unsigned char>(s[start]));
      out += buf;
    } else if (!terminal_control(cp)) {
      out.append(s.substr(start, i - start));
    } else if (cp == '\n') {
      out += "\\n";
    } else if (cp == '\r') {
      out += "\\r";
    } else if (cp < 0x80) {
      std::snprintf(buf, sizeof buf, "\\x%02X", static_cast<unsigned>(cp));
      out += buf;
    } else {
      std::snprintf(buf, sizeof buf, "\\u%04X", static_cast<unsigned>(cp));
      out += buf;
    }
  }
  return out;
}

// For `out << Tsafe{value}`.
struct Tsafe {
  std::string_view s;
};
inline std::ostream& operator<<(std::ostream& out, Tsafe t) {
  for (char c : t.s) {
    const auto b = static_cast<unsigned char>(c);
    if (b < 0x20 || b >= 0x7F) return out << terminal_safe(t.s);  // slow path only when needed
  }
  return out << t.s;
}

}  // namespace kg

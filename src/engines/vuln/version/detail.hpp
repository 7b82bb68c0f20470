// What the per-ecosystem files share: one compare and one validity check per
// scheme (dispatched by compare.cpp), and small helpers over string_views.
// Nothing here allocates unless a `why` or `error` string is asked for.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace kg::vuln::detail {

int compare_dpkg(std::string_view a, std::string_view b, std::string* why);
bool valid_dpkg(std::string_view v, std::string* error);
int compare_apk(std::string_view a, std::string_view b, std::string* why);   // apk-tools 3
bool valid_apk(std::string_view v, std::string* error);
int compare_apk2(std::string_view a, std::string_view b, std::string* why);  // apk-tools 2
bool valid_apk2(std::string_view v, std::string* error);
int compare_rpm(std::string_view a, std::string_view b, std::string* why);
bool valid_rpm(std::string_view v, std::string* error);
int compare_semver(std::string_view a, std::string_view b, std::string* why);
bool valid_semver(std::string_view v, std::string* error);
int compare_pep440(std::string_view a, std::string_view b, std::string* why);
bool valid_pep440(std::string_view v, std::string* error);
int compare_maven(std::string_view a, std::string_view b, std::string* why);
bool valid_maven(std::string_view v, std::string* error);
int compare_go(std::string_view a, std::string_view b, std::string* why);
bool valid_go(std::string_view v, std::string* error);
int compare_rubygems(std::string_view a, std::string_view b, std::string* why);
bool valid_rubygems(std::string_view v, std::string* error);

inline bool is_digit(char c) { return c >= '0' && c <= '9'; }
inline bool is_lower(char c) { return c >= 'a' && c <= 'z'; }
inline bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }
inline bool is_alpha(char c) { return is_lower(c) || is_upper(c); }
inline bool is_alnum(char c) { return is_digit(c) || is_alpha(c); }
inline char to_lower(char c) { return is_upper(c) ? static_cast<char>(c - 'A' + 'a') : c; }

inline int sign(int r) { return r < 0 ? -1 : (r > 0 ? 1 : 0); }

// Two runs of decimal digits as unbounded numbers: leading zeros dropped,
// then the longer is larger, then the first differing digit decides.
inline int compare_digit_runs(std::string_view a, std::string_view b) {
  while (!a.empty() && a.front() == '0') a.remove_prefix(1);
  while (!b.empty() && b.front() == '0') b.remove_prefix(1);
  if (a.size() != b.size()) return a.size() < b.size() ? -1 : 1;
  return sign(a.compare(b));
}

// Byte-wise lexical order (memcmp on the common part, then the shorter first).
inline int compare_bytes(std::string_view a, std::string_view b) { return sign(a.compare(b)); }

// Case-insensitive equality with a lower-case literal.
inline bool iequals(std::string_view s, std::string_view lower) {
  if (s.size() != lower.size()) return false;
  for (std::size_t i = 0; i < s.size(); ++i)
    if (to_lower(s[i]) != lower[i]) return false;
  return true;
}

inline char op_char(int r) { return r < 0 ? '<' : (r > 0 ? '>' : '='); }

// "<what> <a> <op> <b>" with empty sides shown as (none).
inline std::string side(std::string_view s) { return s.empty() ? std::string("(none)") : std::string(s); }
inline std::string explain(std::string_view what, std::string_view a, int r, std::string_view b) {
  std::string out(what);
  out += ' ';
  out += side(a);
  out += ' ';
  out += op_char(r);
  out += ' ';
  out += side(b);
  return out;
}

inline bool set_error(std::string* error, std::string msg) {
  if (error) *error = std::move(msg);
  return false;
}

}  // namespace kg::vuln::detail

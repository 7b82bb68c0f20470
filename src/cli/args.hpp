// Reading one subcommand flag at a time: `--flag value`, `--flag=value` and
// `-f value`, the forms kubectl users type.
#pragma once

#include <charconv>
#include <string>
#include <string_view>
#include <vector>

namespace kg {

// A whole decimal integer in [lo, hi]: "", "5x", " 5" and out-of-range
// values are refused, never clamped (a typo must not become a setting).
inline bool parse_int_in(std::string_view s, long long lo, long long hi, long long& out) {
  long long v = 0;
  const char* end = s.data() + s.size();
  auto [ptr, ec] = std::from_chars(s.data(), end, v);
  if (s.empty() || ec != std::errc() || ptr != end || v < lo || v > hi) return false;
  out = v;
  return true;
}

class ArgCursor {
 public:
  // `i` is the caller's loop index; value() advances it past a separate value.
  ArgCursor(const std::vector<std::string>& args, std::size_t& i) : args_(args), i_(i) {}

  // The argument is `long_name` or `short_name`, or `long_name=...`.
  bool is(std::string_view long_name, std::string_view short_name = {}) const {
    const std::string& a = args_[i_];
    if (a == long_name || (!short_name.empty() && a == short_name)) return true;
    return a.size() > long_name.size() && a.compare(0, long_name.size(), long_name) == 0 &&
           a[long_name.size()] == '=';
  }

  // The flag's value: after '=' in `--flag=value`, else the next argument.
  // False when there is none.
  bool value(std::string& out) {
    const std::string& a = args_[i_];
    if (auto eq = a.find('='); a.rfind("--", 0) == 0 && eq != std::string::npos) {
      out = a.substr(eq + 1);
      return true;
    }
    if (i_ + 1 >= args_.size()) return false;
    out = args_[++i_];
    return true;
  }

 private:
  const std::vector<std::string>& args_;
  std::size_t& i_;
};

}  // namespace kg

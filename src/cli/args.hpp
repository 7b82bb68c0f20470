// Reading one subcommand flag at a time: `--flag value`, `--flag=value` and
// `-f value`, the forms kubectl users type.
#pragma once

#include <charconv>
#include <filesystem>
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

// One `-o FORMAT[=FILE]`: a report format and where it goes.
struct OutputSpec {
  std::string format;
  std::string file;  // empty or "-" = stdout

  static OutputSpec parse(const std::string& v) {
    OutputSpec o;
    auto eq = v.find('=');
    o.format = v.substr(0, eq);
    if (eq != std::string::npos) o.file = v.substr(eq + 1);
    return o;
  }
  bool to_stdout() const { return file.empty() || file == "-"; }
};

// Two outputs to one destination would interleave on stdout or overwrite each
// other in a file: the message naming the first clash, or empty.
inline std::string output_clash(const std::vector<OutputSpec>& outputs) {
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      std::error_code ec1, ec2;
      const bool same = outputs[i].to_stdout()
                            ? outputs[j].to_stdout()
                            : !outputs[j].to_stdout() &&
                                  std::filesystem::weakly_canonical(outputs[i].file, ec1) ==
                                      std::filesystem::weakly_canonical(outputs[j].file, ec2);
      if (same) {
        return "-o " + outputs[j].format + " and -o " + outputs[i].format + " both write to " +
               (outputs[i].to_stdout() ? std::string("stdout") : "'" + outputs[i].file + "'") +
               "; give each its own file (-o FORMAT=FILE)";
      }
    }
  }
  return {};
}

}  // namespace kg

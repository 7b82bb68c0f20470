// RubyGems version order: Gem::Version (rubygems lib/rubygems/version.rb).
// The version is stripped, '-' reads as ".pre.", segments are the runs of
// digits and of letters (scan(/[0-9]+|[a-z]+/i)); canonical_segments drops
// the zeros that end the numeric part and the string part; then segments
// compare pairwise (a missing one is 0): numbers numerically, strings
// byte-wise, a string below a number (so 1.0.a < 1.0). A version is valid
// when it matches Gem::Version::ANCHORED_VERSION_PATTERN.
#include "engines/vuln/version/detail.hpp"

namespace kg::vuln::detail {

namespace {

struct Segment {
  bool number = true;
  std::string_view text;  // digits or letters; "pre" for a '-'
  bool present = false;
};

// Reads canonical segments one by one, without building the list. Only the
// zeros that end the numeric part matter to the order (the padding is 0):
// they are dropped when a string segment follows them.
class Segments {
 public:
  explicit Segments(std::string_view v) : s_(v) {}

  Segment next() {
    Segment seg = raw();
    if (seg.present && !seg.number) seen_string_ = true;
    if (!seg.present || !seg.number || seen_string_ || !is_zero(seg.text)) return seg;
    std::size_t save = pos_;
    while (true) {
      Segment look = raw();
      if (look.present && look.number && is_zero(look.text)) continue;
      if (look.present && !look.number) {
        seen_string_ = true;
        return look;  // the zeros before the string part are dropped
      }
      pos_ = save;
      return seg;
    }
  }

 private:
  static bool is_zero(std::string_view t) {
    for (char c : t)
      if (c != '0') return false;
    return true;
  }
  Segment raw() {
    while (pos_ < s_.size()) {
      char c = s_[pos_];
      if (c == '-') {
        ++pos_;
        return Segment{false, "pre", true};
      }
      if (is_digit(c) || is_alpha(c)) {
        std::size_t start = pos_;
        bool num = is_digit(c);
        while (pos_ < s_.size() && (num ? is_digit(s_[pos_]) : is_alpha(s_[pos_]))) ++pos_;
        return Segment{num, s_.substr(start, pos_ - start), true};
      }
      ++pos_;
    }
    return Segment{};
  }

  std::string_view s_;
  std::size_t pos_ = 0;
  bool seen_string_ = false;
};

std::string_view strip(std::string_view v) {
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; };
  while (!v.empty() && space(v.front())) v.remove_prefix(1);
  while (!v.empty() && space(v.back())) v.remove_suffix(1);
  return v;
}

}  // namespace

int compare_rubygems(std::string_view a, std::string_view b, std::string* why) {
  a = strip(a);
  b = strip(b);
  if (a.empty()) a = "0";
  if (b.empty()) b = "0";
  Segments sa(a), sb(b);
  while (true) {
    Segment x = sa.next(), y = sb.next();
    if (!x.present && !y.present) {
      if (why) *why = "equal segments (trailing zeros ignored)";
      return 0;
    }
    if (!x.present) x = Segment{true, "0", true};
    if (!y.present) y = Segment{true, "0", true};
    int r;
    if (x.number && y.number) r = compare_digit_runs(x.text, y.text);
    else if (x.number != y.number) r = x.number ? 1 : -1;
    else r = compare_bytes(x.text, y.text);
    if (r != 0) {
      if (why) {
        *why = explain("segment", x.text, r, y.text);
        if (x.number != y.number) *why += ": a letter segment (pre-release) sorts below a number";
      }
      return r;
    }
  }
}

bool valid_rubygems(std::string_view v, std::string* error) {
  // /\A\s*([0-9]+(?>\.[0-9a-zA-Z]+)*(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?)?\s*\z/
  v = strip(v);
  if (v.empty()) return true;  // "" is version "0"
  std::size_t i = 0;
  while (i < v.size() && is_digit(v[i])) ++i;
  if (i == 0) return set_error(error, "a gem version starts with a digit");
  while (i < v.size() && v[i] == '.') {
    std::size_t s = ++i;
    while (i < v.size() && is_alnum(v[i])) ++i;
    if (i == s) return set_error(error, "empty segment after '.'");
  }
  if (i < v.size() && v[i] == '-') {
    while (i < v.size() && (v[i] == '-' || v[i] == '.')) {
      bool dot = v[i] == '.';
      std::size_t s = ++i;
      while (i < v.size() && (is_alnum(v[i]) || v[i] == '-')) ++i;
      if (i == s && dot) return set_error(error, "empty segment after '.'");
      if (i == s && !dot && (i >= v.size() || v[i] != '-')) return set_error(error, "empty pre-release after '-'");
    }
  }
  if (i != v.size()) return set_error(error, "malformed version number string at offset " + std::to_string(i));
  return true;
}

}  // namespace kg::vuln::detail

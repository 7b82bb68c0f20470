// apk version order, for both majors of apk-tools, which differ:
// - Apk: apk-tools 3.x src/version.c (token_first/token_next/token_cmp):
//   digit{.digit}...{letter}{_suf{#}}...{~hash}{-r#}; a non-initial digit run
//   with a leading '0' on either side compares as a string (Gentoo rule);
//   `~<hex>` is a commit-hash token; a digit after a letter is invalid.
// - Apk2: apk-tools 2.x src/version.c (get_token/next_token): a run of leading
//   zeros after '.' is a token of its own worth -(zeros), a digit may follow a
//   letter (`5.7.1p1`), no `~hash`; token values are C ints.
// Both: suffixes alpha < beta < pre < rc < (none) < cvs < svn < git < hg < p,
// and when one side runs out first the other is newer unless its next token is
// a pre-release suffix. Invalid input is compared as far as it tokenizes, as
// apk does (two versions that turn invalid at the same point are equal).
#include <cstdint>

#include "engines/vuln/version/detail.hpp"

namespace kg::vuln::detail {

namespace {

// ---- apk-tools 3 ----------------------------------------------------------

enum Token3 : unsigned {
  kInitialDigit,
  kDigit,
  kLetter,
  kSuffix,
  kSuffixNo,
  kCommitHash,
  kRevisionNo,
  kEnd,
  kInvalid,
};

enum Suffix : unsigned {
  kSufInvalid,
  kSufAlpha,
  kSufBeta,
  kSufPre,
  kSufRc,
  kSufNone,
  kSufCvs,
  kSufSvn,
  kSufGit,
  kSufHg,
  kSufP,
};

constexpr std::string_view kTokenNames[] = {"number",      "number", "letter",   "suffix", "suffix number",
                                            "commit hash", "revision", "end", "invalid"};

struct State3 {
  unsigned token = kInitialDigit;
  unsigned suffix = kSufInvalid;
  std::uint64_t number = 0;
  std::string_view value;
};

unsigned suffix_value(std::string_view s) {
  if (s.empty()) return kSufInvalid;
  unsigned val;
  std::string_view want;
  switch (s[0]) {
    case 'a': val = kSufAlpha, want = "alpha"; break;
    case 'b': val = kSufBeta, want = "beta"; break;
    case 'c': val = kSufCvs, want = "cvs"; break;
    case 'g': val = kSufGit, want = "git"; break;
    case 'h': val = kSufHg, want = "hg"; break;
    case 'p':
      if (s.size() > 1) val = kSufPre, want = "pre";
      else val = kSufP, want = "p";
      break;
    case 'r': val = kSufRc, want = "rc"; break;
    case 's': val = kSufSvn, want = "svn"; break;
    default: return kSufInvalid;
  }
  return s == want ? val : kSufInvalid;
}

// apk_blob_spn over a ctype table of 128 entries: bytes >= 0x80 are outside
// the table and so always inside the span (as in src/ctype.c).
std::size_t span(std::string_view b, bool (*in)(unsigned char)) {
  std::size_t i = 0;
  while (i < b.size()) {
    auto c = static_cast<unsigned char>(b[i]);
    if (c < 128 && !in(c)) break;
    ++i;
  }
  return i;
}
bool suffix_char(unsigned char c) { return c >= 'a' && c <= 'z'; }
bool hex_char(unsigned char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

// apk_blob_pull_uint(b, 10): digits until any other byte (or NUL), uint64
// arithmetic that wraps like the C.
void parse_digits(State3& t, std::string_view& b) {
  std::size_t i = 0;
  std::uint64_t n = 0;
  while (i < b.size() && is_digit(b[i])) n = n * 10 + static_cast<std::uint64_t>(b[i++] - '0');
  t.number = n;
  t.value = b.substr(0, i);
  b.remove_prefix(i);
  if (i == 0) t.token = kInvalid;
}

void token_first(State3& t, std::string_view& b) {
  t.token = kInitialDigit;
  parse_digits(t, b);
}

void token_next(State3& t, std::string_view& b) {
  if (b.empty()) {
    t.token = kEnd;
    return;
  }
  char c = b[0];
  if (c >= 'a' && c <= 'z') {
    if (t.token > kDigit) goto invalid;
    t.value = b.substr(0, 1);
    t.token = kLetter;
    b.remove_prefix(1);
    return;
  }
  if (c == '.' || is_digit(c)) {
    if (c == '.') {
      if (t.token > kDigit) goto invalid;
      b.remove_prefix(1);
    }
    switch (t.token) {
      case kInitialDigit:
      case kDigit: t.token = kDigit; break;
      case kSuffix: t.token = kSuffixNo; break;
      default: goto invalid;
    }
    parse_digits(t, b);
    return;
  }
  if (c == '_') {
    if (t.token > kSuffixNo) goto invalid;
    b.remove_prefix(1);
    std::size_t n = span(b, suffix_char);
    t.value = b.substr(0, n);
    b.remove_prefix(n);
    t.suffix = suffix_value(t.value);
    if (t.suffix == kSufInvalid) goto invalid;
    t.token = kSuffix;
    return;
  }
  if (c == '~') {
    if (t.token >= kCommitHash) goto invalid;
    b.remove_prefix(1);
    std::size_t n = span(b, hex_char);
    t.value = b.substr(0, n);
    b.remove_prefix(n);
    if (n == 0) goto invalid;
    t.token = kCommitHash;
    return;
  }
  if (c == '-') {
    if (t.token >= kRevisionNo) goto invalid;
    if (b.size() < 2 || b[1] != 'r') goto invalid;
    b.remove_prefix(2);
    t.token = kRevisionNo;
    parse_digits(t, b);
    return;
  }
invalid:
  t.token = kInvalid;
}

int token_cmp(const State3& ta, const State3& tb) {
  std::uint64_t a = 0, b = 0;
  switch (ta.token) {
    case kDigit:
      // A leading zero on either side: string order, as Gentoo does.
      if (ta.value[0] == '0' || tb.value[0] == '0') return compare_bytes(ta.value, tb.value);
      [[fallthrough]];
    case kInitialDigit:
    case kSuffixNo:
    case kRevisionNo:
      a = ta.number;
      b = tb.number;
      break;
    case kLetter:
      a = static_cast<unsigned char>(ta.value[0]);
      b = static_cast<unsigned char>(tb.value[0]);
      break;
    case kSuffix:
      a = ta.suffix;
      b = tb.suffix;
      break;
    default: return compare_bytes(ta.value, tb.value);
  }
  return a < b ? -1 : (a > b ? 1 : 0);
}

std::string token_text(const State3& t) {
  if (t.token == kEnd) return "end";
  if (t.token == kInvalid) return "an invalid part";
  std::string out(kTokenNames[t.token]);
  out += " '";
  out += t.value;
  out += "'";
  return out;
}

// ---- apk-tools 2 ----------------------------------------------------------

enum Token2 : int {
  k2Invalid = -1,
  k2DigitOrZero,
  k2Digit,
  k2Letter,
  k2Suffix,
  k2SuffixNo,
  k2RevisionNo,
  k2End,
};

constexpr std::string_view kToken2Names[] = {"number", "number", "letter", "suffix", "suffix number", "revision", "end"};

bool c_lower(char c) { return c >= 'a' && c <= 'z'; }

void next_token2(int& type, std::string_view& b) {
  int n = k2Invalid;
  if (b.empty() || b[0] == '\0') {
    n = k2End;
  } else if ((type == k2Digit || type == k2DigitOrZero) && c_lower(b[0])) {
    n = k2Letter;
  } else if (type == k2Letter && is_digit(b[0])) {
    n = k2Digit;
  } else if (type == k2Suffix && is_digit(b[0])) {
    n = k2SuffixNo;
  } else {
    switch (b[0]) {
      case '.': n = k2DigitOrZero; break;
      case '_': n = k2Suffix; break;
      case '-':
        if (b.size() > 1 && b[1] == 'r') {
          n = k2RevisionNo;
          b.remove_prefix(1);
        } else {
          n = k2Invalid;
        }
        break;
      default: break;
    }
    b.remove_prefix(1);
  }
  if (n < type) {
    if (!((n == k2DigitOrZero && type == k2Digit) || (n == k2Suffix && type == k2SuffixNo) ||
          (n == k2Digit && type == k2Letter)))
      n = k2Invalid;
  }
  type = n;
}

bool starts_with(std::string_view b, std::string_view p) { return b.substr(0, p.size()) == p; }

// get_token: the value of the token of kind `type` at the front of b, and the
// kind of the next one in `type`. `int v` of the C wraps (as it does there).
int get_token2(int& type, std::string_view& b, std::string_view* text = nullptr) {
  static constexpr std::string_view kPre[] = {"alpha", "beta", "pre", "rc"};
  static constexpr std::string_view kPost[] = {"cvs", "svn", "git", "hg", "p"};
  std::uint32_t v = 0;
  std::size_t i = 0;
  int nt = k2Invalid;
  if (b.empty()) {
    type = k2End;
    return 0;
  }
  switch (type) {
    case k2DigitOrZero:
      if (b[0] == '0') {
        while (i < b.size() && b[i] == '0') ++i;
        nt = k2Digit;
        v = static_cast<std::uint32_t>(-static_cast<std::int64_t>(i));
        break;
      }
      [[fallthrough]];
    case k2Digit:
    case k2SuffixNo:
    case k2RevisionNo:
      while (i < b.size() && is_digit(b[i])) v = v * 10 + static_cast<std::uint32_t>(b[i++] - '0');
      break;
    case k2Letter:
      v = static_cast<std::uint32_t>(static_cast<int>(static_cast<signed char>(b[i++])));
      break;
    case k2Suffix: {
      bool found = false;
      for (std::size_t k = 0; k < 4 && !found; ++k)
        if (starts_with(b, kPre[k])) {
          i = kPre[k].size();
          v = static_cast<std::uint32_t>(static_cast<int>(k) - 4);
          found = true;
        }
      for (std::size_t k = 0; k < 5 && !found; ++k)
        if (starts_with(b, kPost[k])) {
          i = kPost[k].size();
          v = static_cast<std::uint32_t>(k);
          found = true;
        }
      if (found) break;
      type = k2Invalid;
      return -1;
    }
    default:
      type = k2Invalid;
      return -1;
  }
  if (text) *text = b.substr(0, i);
  b.remove_prefix(i);
  if (b.empty()) type = k2End;
  else if (nt != k2Invalid) type = nt;
  else next_token2(type, b);
  return static_cast<int>(v);
}

std::string kind2(int t) { return t < 0 ? std::string("invalid") : std::string(kToken2Names[t]); }

}  // namespace

int compare_apk(std::string_view a, std::string_view b, std::string* why) {
  State3 ta, tb;
  token_first(ta, a);
  token_first(tb, b);
  for (; ta.token == tb.token && ta.token < kEnd; token_next(ta, a), token_next(tb, b)) {
    int r = token_cmp(ta, tb);
    if (r != 0) {
      if (why) {
        *why = token_text(ta) + (r < 0 ? " < " : " > ") + token_text(tb);
        if (ta.token == kDigit && (ta.value[0] == '0' || tb.value[0] == '0'))
          *why += " (a leading zero: compared as text)";
      }
      return r;
    }
  }
  int r = 0;
  const char* reason = "both end here";
  if (ta.token == tb.token) {
    r = 0;
    if (ta.token == kInvalid) reason = "both turn invalid at the same point, which apk counts as equal";
  } else if (ta.token == kSuffix && ta.suffix < kSufNone) {
    r = -1, reason = "a pre-release suffix sorts before the end";
  } else if (tb.token == kSuffix && tb.suffix < kSufNone) {
    r = 1, reason = "a pre-release suffix sorts before the end";
  } else if (ta.token > tb.token) {
    r = -1, reason = "the side that goes on with an earlier kind of part is newer";
  } else if (tb.token > ta.token) {
    r = 1, reason = "the side that goes on with an earlier kind of part is newer";
  }
  if (why) *why = token_text(ta) + ' ' + op_char(r) + ' ' + token_text(tb) + ": " + reason;
  return r;
}

bool valid_apk(std::string_view v, std::string* error) {
  State3 t;
  std::string_view rest = v;
  for (token_first(t, rest); t.token < kEnd; token_next(t, rest)) {
  }
  if (t.token == kEnd) return true;
  return set_error(error, "not an apk-tools 3 version (digit{.digit}...{letter}{_suf{#}}...{~hash}{-r#}) at offset " +
                              std::to_string(v.size() - rest.size()));
}

int compare_apk2(std::string_view a, std::string_view b, std::string* why) {
  int at = k2Digit, bt = k2Digit;
  int av = 0, bv = 0;
  int akind = at, bkind = bt;
  while (at == bt && at != k2End && at != k2Invalid && av == bv) {
    akind = at;
    bkind = bt;
    av = get_token2(at, a);
    bv = get_token2(bt, b);
  }
  int r = 0;
  const char* reason = nullptr;
  if (av < bv) r = -1;
  else if (av > bv) r = 1;
  if (r != 0) {
    if (why)
      *why = kind2(akind) + " value " + std::to_string(av) + ' ' + op_char(r) + ' ' + kind2(bkind) + " value " +
             std::to_string(bv);
    return r;
  }
  if (at == bt) {
    reason = at == k2Invalid ? "both turn invalid at the same point, which apk counts as equal" : "both end here";
  } else {
    int tt = at;
    std::string_view ra = a, rb = b;
    if (at == k2Suffix && get_token2(tt, ra) < 0) {
      r = -1, reason = "a pre-release suffix sorts before the end";
    } else if (tt = bt; bt == k2Suffix && get_token2(tt, rb) < 0) {
      r = 1, reason = "a pre-release suffix sorts before the end";
    } else if (at > bt) {
      r = -1, reason = "the side that goes on with an earlier kind of part is newer";
    } else if (bt > at) {
      r = 1, reason = "the side that goes on with an earlier kind of part is newer";
    }
  }
  if (why) *why = "next " + kind2(at) + ' ' + op_char(r) + " next " + kind2(bt) + ": " + reason;
  return r;
}

bool valid_apk2(std::string_view v, std::string* error) {
  int t = k2Digit;
  std::string_view rest = v;
  while (t != k2End && t != k2Invalid) get_token2(t, rest);
  if (t == k2End) return true;
  return set_error(error, "not an apk-tools 2 version (digit{.digit}...{letter}{_suf{#}}...{-r#}) near offset " +
                              std::to_string(v.size() - rest.size()));
}

}  // namespace kg::vuln::detail

// npm's range grammar, as node-semver (classes/range.js, classes/comparator.js,
// internal/re.js) reads it without `loose` and without `includePrerelease`:
// sets joined by "||", each a hyphen range "A - B" or comparators separated
// by blanks; ^ ~ ~> and x-ranges (x, X, *, missing parts) desugar into
// >= / < pairs exactly as replaceCaret/replaceTilde/replaceXRange/hyphenReplace
// do; a pre-release version satisfies a set only when one of its comparators
// names a pre-release of the same [major, minor, patch]. Nothing is allocated.
#include <cstdint>
#include <optional>

#include "engines/vuln/version/detail.hpp"
#include "engines/vuln/version/version.hpp"

namespace kg::vuln::detail {
int compare_prerelease(std::string_view a, std::string_view b, std::string* why);
}

namespace kg::vuln {

namespace {

using detail::is_alnum;
using detail::is_digit;

constexpr std::uint64_t kMaxSafe = 9007199254740991ULL;  // Number.MAX_SAFE_INTEGER

struct Ver {
  std::uint64_t M = 0, m = 0, p = 0;
  std::string_view pre;
};

int cmp(const Ver& a, const Ver& b) {
  if (a.M != b.M) return a.M < b.M ? -1 : 1;
  if (a.m != b.m) return a.m < b.m ? -1 : 1;
  if (a.p != b.p) return a.p < b.p ? -1 : 1;
  return detail::compare_prerelease(a.pre, b.pre, nullptr);
}

bool blank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
std::string_view trim(std::string_view s) {
  while (!s.empty() && blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && blank(s.back())) s.remove_suffix(1);
  return s;
}

// NUMERICIDENTIFIER: 0|[1-9]\d*, within Number.MAX_SAFE_INTEGER.
bool number(std::string_view& s, std::uint64_t& out) {
  std::size_t n = 0;
  while (n < s.size() && is_digit(s[n])) ++n;
  if (n == 0 || (n > 1 && s[0] == '0') || n > 16) return false;
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < n; ++i) v = v * 10 + static_cast<std::uint64_t>(s[i] - '0');
  if (v > kMaxSafe) return false;
  out = v;
  s.remove_prefix(n);
  return true;
}

// PRERELEASE / BUILD after the patch: "-id.id" then "+id.id"; `pre` without '-'.
bool tail(std::string_view& s, std::string_view& pre) {
  auto idents = [&s](bool prerelease) {
    std::size_t start = 0, i = 0;
    for (;; ++i) {
      if (i == s.size() || s[i] == '.' || (prerelease && s[i] == '+')) {
        std::string_view id = s.substr(start, i - start);
        if (id.empty()) return std::string_view::npos;
        bool numeric = true;
        for (char c : id) numeric = numeric && is_digit(c);
        if (prerelease && numeric && id.size() > 1 && id[0] == '0') return std::string_view::npos;
        if (i == s.size() || s[i] != '.') return i;
        start = i + 1;
      } else if (!is_alnum(s[i]) && s[i] != '-') {
        return i;  // the identifiers end here; the caller checks what follows
      }
    }
  };
  if (!s.empty() && s[0] == '-') {
    s.remove_prefix(1);
    std::size_t end = idents(true);
    if (end == std::string_view::npos) return false;
    pre = s.substr(0, end);
    s.remove_prefix(end);
  }
  if (!s.empty() && s[0] == '+') {
    s.remove_prefix(1);
    std::size_t end = idents(false);
    if (end == std::string_view::npos) return false;
    s.remove_prefix(end);
  }
  return true;
}

// FULL: v?MAJOR.MINOR.PATCH[-pre][+build], the whole string.
bool parse_version(std::string_view s, Ver& v) {
  s = trim(s);
  if (!s.empty() && s[0] == 'v') s.remove_prefix(1);
  if (!number(s, v.M) || s.empty() || s[0] != '.') return false;
  s.remove_prefix(1);
  if (!number(s, v.m) || s.empty() || s[0] != '.') return false;
  s.remove_prefix(1);
  if (!number(s, v.p)) return false;
  return tail(s, v.pre) && s.empty();
}

// XRANGEPLAIN: [v=\s]*(N|x|X|*)[.(N|x|X|*)[.(N|x|X|*)[-pre][+build]]]
struct Partial {
  bool xM = true, xm = true, xp = true;
  bool bad_order = false;  // invalidXRangeOrder: a number after a wildcard (x.1, 1.x.3)
  Ver v;
};

bool x_char(std::string_view s) { return !s.empty() && (s[0] == 'x' || s[0] == 'X' || s[0] == '*'); }

bool parse_partial(std::string_view s, Partial& out) {
  while (!s.empty() && (s[0] == 'v' || s[0] == '=' || blank(s[0]))) s.remove_prefix(1);
  std::uint64_t* parts[] = {&out.v.M, &out.v.m, &out.v.p};
  bool* xs[] = {&out.xM, &out.xm, &out.xp};
  bool present_p = false;
  for (int k = 0; k < 3; ++k) {
    if (k > 0) {
      if (s.empty()) break;
      if (s[0] != '.') return false;
      s.remove_prefix(1);
    }
    if (k == 2) present_p = true;
    if (x_char(s)) {
      s.remove_prefix(1);
      *xs[k] = true;
      *parts[k] = 0;
    } else {
      if (!number(s, *parts[k])) return false;
      *xs[k] = false;
    }
  }
  // node-semver 7's invalidXRangeOrder: (isX(M) && !isX(m)) || (isX(m) && p && !isX(p)),
  // a missing part counting as X; such an x-range is an invalid comparator.
  out.bad_order = (out.xM && !out.xm) || (out.xm && present_p && !out.xp);
  // A wildcard makes every later part one too (isX(M) => xm => xp).
  out.xm = out.xm || out.xM;
  out.xp = out.xp || out.xm;
  return tail(s, out.v.pre) && s.empty();
}

enum class Op { Any, Lt, Le, Gt, Ge, Eq, Never };

struct Prim {
  Op op = Op::Any;
  Ver v;
};

bool test(const Prim& c, const Ver& v) {
  switch (c.op) {
    case Op::Any: return true;
    case Op::Never: return false;
    case Op::Lt: return cmp(v, c.v) < 0;
    case Op::Le: return cmp(v, c.v) <= 0;
    case Op::Gt: return cmp(v, c.v) > 0;
    case Op::Ge: return cmp(v, c.v) >= 0;
    case Op::Eq: return cmp(v, c.v) == 0;
  }
  return false;
}

Ver ver(std::uint64_t M, std::uint64_t m, std::uint64_t p, std::string_view pre = {}) { return Ver{M, m, p, pre}; }

// One comparator token (after the blanks between an operator and its version
// are gone) into at most two primitives: node-semver's replace* functions.
int desugar(std::string_view tok, Prim out[2]) {
  out[0] = out[1] = Prim{};
  if (tok.empty() || tok == "*") return 1;  // ANY
  // GTLT ((?:<|>)?=?), "~>", "~" or "^"; what follows may repeat '=' and 'v'
  // and carry blanks ([v=\s]* of XRANGEPLAIN, and the *TRIM replacements).
  std::string_view op;
  if (tok.substr(0, 2) == "~>") op = "~", tok.remove_prefix(2);
  else if (tok[0] == '~' || tok[0] == '^') op = tok.substr(0, 1), tok.remove_prefix(1);
  else if (tok.substr(0, 2) == ">=" || tok.substr(0, 2) == "<=") op = tok.substr(0, 2), tok.remove_prefix(2);
  else if (tok[0] == '>' || tok[0] == '<' || tok[0] == '=') op = tok.substr(0, 1), tok.remove_prefix(1);
  if (tok.empty() && !op.empty()) return -1;
  Partial x;
  if (!parse_partial(tok, x)) return -1;
  const Ver& v = x.v;
  if (op == "~") {
    if (x.xM) return 1;
    if (x.xm) out[0] = {Op::Ge, ver(v.M, 0, 0)}, out[1] = {Op::Lt, ver(v.M + 1, 0, 0, "0")};
    else if (x.xp) out[0] = {Op::Ge, ver(v.M, v.m, 0)}, out[1] = {Op::Lt, ver(v.M, v.m + 1, 0, "0")};
    else out[0] = {Op::Ge, v}, out[1] = {Op::Lt, ver(v.M, v.m + 1, 0, "0")};
    return 2;
  }
  if (op == "^") {
    if (x.xM) return 1;
    if (x.xm) out[0] = {Op::Ge, ver(v.M, 0, 0)}, out[1] = {Op::Lt, ver(v.M + 1, 0, 0, "0")};
    else if (x.xp) {
      out[0] = {Op::Ge, ver(v.M, v.m, 0)};
      out[1] = {Op::Lt, v.M == 0 ? ver(v.M, v.m + 1, 0, "0") : ver(v.M + 1, 0, 0, "0")};
    } else {
      out[0] = {Op::Ge, v};
      if (v.M == 0 && v.m == 0) out[1] = {Op::Lt, ver(0, 0, v.p + 1, "0")};
      else if (v.M == 0) out[1] = {Op::Lt, ver(0, v.m + 1, 0, "0")};
      else out[1] = {Op::Lt, ver(v.M + 1, 0, 0, "0")};
    }
    return 2;
  }
  if (x.bad_order) return -1;  // replaceXRange leaves it, and Comparator refuses it
  bool anyx = x.xp;
  if (op == "=" && anyx) op = "";
  if (x.xM) {
    if (op == ">" || op == "<") out[0] = {Op::Never, {}};  // "<0.0.0-0": nothing
    return 1;
  }
  if (!op.empty() && anyx) {
    std::uint64_t M = v.M, m = x.xm ? 0 : v.m, p = 0;
    std::string_view pre;
    if (op == ">") {
      op = ">=";
      if (x.xm) M += 1, m = 0;
      else m += 1;
    } else if (op == "<=") {
      op = "<";
      if (x.xm) M += 1;
      else m += 1;
    }
    if (op == "<") pre = "0";
    Op o = op == ">=" ? Op::Ge : op == "<" ? Op::Lt : op == ">" ? Op::Gt : op == "<=" ? Op::Le : Op::Eq;
    out[0] = {o, ver(M, m, p, pre)};
    return 1;
  }
  if (x.xm) {
    out[0] = {Op::Ge, ver(v.M, 0, 0)}, out[1] = {Op::Lt, ver(v.M + 1, 0, 0, "0")};
    return 2;
  }
  if (x.xp) {
    out[0] = {Op::Ge, ver(v.M, v.m, 0)}, out[1] = {Op::Lt, ver(v.M, v.m + 1, 0, "0")};
    return 2;
  }
  Op o = op == ">=" ? Op::Ge : op == "<=" ? Op::Le : op == ">" ? Op::Gt : op == "<" ? Op::Lt : Op::Eq;
  out[0] = {o, v};
  return 1;
}

// hyphenReplace: "A - B".
bool hyphen(std::string_view a, std::string_view b, Prim out[2]) {
  Partial from, to;
  if (!parse_partial(a, from) || !parse_partial(b, to)) return false;
  out[0] = out[1] = Prim{};
  if (!from.xM) {
    if (from.xm) out[0] = {Op::Ge, ver(from.v.M, 0, 0)};
    else if (from.xp) out[0] = {Op::Ge, ver(from.v.M, from.v.m, 0)};
    else out[0] = {Op::Ge, from.v};
  }
  if (!to.xM) {
    if (to.xm) out[1] = {Op::Lt, ver(to.v.M + 1, 0, 0, "0")};
    else if (to.xp) out[1] = {Op::Lt, ver(to.v.M, to.v.m + 1, 0, "0")};
    else out[1] = {Op::Le, to.v};
  }
  return true;
}

// Splits a set into comparator tokens: blanks separate, except right after
// an operator (">= 1.2" is one comparator, as COMPARATORTRIM/TILDETRIM/CARETTRIM make it).
std::string_view next_token(std::string_view& s) {
  while (!s.empty() && blank(s.front())) s.remove_prefix(1);
  std::size_t i = 0;
  while (i < s.size() && (s[i] == '<' || s[i] == '>' || s[i] == '=' || s[i] == '~' || s[i] == '^')) ++i;
  std::size_t ops = i;
  if (ops > 0)
    while (i < s.size() && blank(s[i])) ++i;
  while (i < s.size() && !blank(s[i])) ++i;
  std::string_view tok = s.substr(0, i);
  s.remove_prefix(i);
  return tok;
}

bool has_op(std::string_view tok) {
  return !tok.empty() && (tok[0] == '<' || tok[0] == '>' || tok[0] == '~' || tok[0] == '^');
}

// A set's result: nullopt when it does not parse.
std::optional<bool> test_set(std::string_view set, const Ver& v, std::string* error) {
  set = trim(set);
  bool ok = true, pre_allowed = v.pre.empty();
  auto apply = [&](const Prim& c) {
    if (!test(c, v)) ok = false;
    if (c.op != Op::Any && c.op != Op::Never && !c.v.pre.empty() && c.v.M == v.M && c.v.m == v.m && c.v.p == v.p)
      pre_allowed = true;
  };
  // Hyphen range: exactly "A - B" with blanks around the '-'.
  {
    std::string_view s = set;
    std::string_view a = next_token(s), dash = next_token(s), b = next_token(s), extra = next_token(s);
    if (dash == "-" && !a.empty() && !b.empty() && extra.empty() && !has_op(a) && !has_op(b)) {
      Prim prims[2];
      if (!hyphen(a, b, prims)) {
        if (error) *error = "invalid hyphen range '" + std::string(set) + "'";
        return std::nullopt;
      }
      apply(prims[0]);
      apply(prims[1]);
      return ok && pre_allowed;
    }
  }
  std::string_view s = set;
  bool first = true;
  while (true) {
    std::string_view tok = next_token(s);
    if (tok.empty() && !first) break;
    first = false;
    Prim prims[2];
    int n = desugar(tok, prims);
    if (n < 0) {
      if (error) *error = "invalid comparator '" + std::string(tok) + "' in range '" + std::string(set) + "'";
      return std::nullopt;
    }
    for (int k = 0; k < n; ++k) apply(prims[k]);
    if (tok.empty()) break;
  }
  return ok && pre_allowed;
}

}  // namespace

std::optional<bool> npm_range_satisfied(std::string_view version, std::string_view range, std::string* error) {
  Ver v;
  bool version_ok = parse_version(version, v);
  std::optional<bool> result = false;
  std::string_view rest = range;
  while (true) {
    std::size_t bar = rest.find("||");
    std::string_view set = rest.substr(0, bar);
    std::optional<bool> r = test_set(set, v, error);
    if (!r) return std::nullopt;
    if (*r) result = true;
    if (bar == std::string_view::npos) break;
    rest.remove_prefix(bar + 2);
  }
  if (!version_ok) {
    if (error) *error = "'" + std::string(version) + "' is not a SemVer version";
    return false;  // node-semver: satisfies() of an invalid version is false
  }
  return result;
}

}  // namespace kg::vuln

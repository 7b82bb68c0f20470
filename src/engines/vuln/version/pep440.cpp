// PEP 440 version order, as the `packaging` library (packaging.version)
// parses and compares: [N!]N(.N)*[{a|b|rc}N][.postN][.devN][+local], with
// its normalisations (case, a leading 'v', alpha/beta/c/pre/preview spellings,
// '-', '_' and '.' separators, implicit numbers, "-N" as a post-release).
// Order: epoch, release (trailing zeros ignored), pre (a dev-only release
// sorts before every pre-release), post, dev, local (absent lowest; numeric
// segments above alphanumeric ones). A string packaging refuses
// (InvalidVersion) sorts below every valid version, byte-wise among others.
#include "engines/vuln/version/detail.hpp"

namespace kg::vuln::detail {

namespace {

struct Pep440 {
  std::string_view epoch;    // digits or empty (0)
  std::string_view release;  // "1.2.3"
  int pre_kind = -1;         // -1 none, 0 a, 1 b, 2 rc
  std::string_view pre_n;    // digits or empty (0)
  bool post = false;
  std::string_view post_n;
  bool dev = false;
  std::string_view dev_n;
  std::string_view local;  // without '+'
};

bool sep(char c) { return c == '-' || c == '_' || c == '.'; }
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

// Case-insensitive keyword at s[i]; longest of the list first.
std::size_t keyword(std::string_view s, std::size_t i, std::string_view kw) {
  if (s.size() - i < kw.size()) return 0;
  return iequals(s.substr(i, kw.size()), kw) ? kw.size() : 0;
}

std::size_t digits(std::string_view s, std::size_t i) {
  std::size_t n = i;
  while (n < s.size() && is_digit(s[n])) ++n;
  return n - i;
}

// An optional "[sep]keyword[sep][N]" group at i; on a match, i moves past it.
bool group(std::string_view s, std::size_t& i, std::string_view const* kws, std::size_t nkw, int& kind,
           std::string_view& num) {
  std::size_t p = i;
  if (p < s.size() && sep(s[p])) ++p;
  std::size_t len = 0;
  for (std::size_t k = 0; k < nkw && len == 0; ++k)
    if ((len = keyword(s, p, kws[k])) != 0) kind = static_cast<int>(k);
  if (len == 0) return false;
  p += len;
  std::size_t q = p;
  if (q < s.size() && sep(s[q])) ++q;
  std::size_t d = digits(s, q);
  if (d > 0) {
    num = s.substr(q, d);
    p = q + d;
  } else {
    p = q;  // the trailing separator belongs to the group, as in the regex
  }
  i = p;
  return true;
}

bool parse(std::string_view s, Pep440& v, std::string* error) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  std::size_t i = 0;
  if (i < s.size() && (s[i] == 'v' || s[i] == 'V')) ++i;
  std::size_t d = digits(s, i);
  if (d == 0) return set_error(error, "no release number");
  if (i + d < s.size() && s[i + d] == '!') {
    v.epoch = s.substr(i, d);
    i += d + 1;
    d = digits(s, i);
    if (d == 0) return set_error(error, "no release number after the epoch");
  }
  std::size_t start = i;
  i += d;
  while (i + 1 < s.size() && s[i] == '.' && is_digit(s[i + 1])) i += 1 + digits(s, i + 1);
  v.release = s.substr(start, i - start);
  // Spellings as packaging normalises them: alpha=a, beta=b, c/pre/preview=rc.
  static constexpr std::string_view kPre[] = {"alpha", "a", "beta", "b", "preview", "pre", "rc", "c"};
  static constexpr int kPreKind[] = {0, 0, 1, 1, 2, 2, 2, 2};
  int kind = -1;
  if (group(s, i, kPre, 8, kind, v.pre_n)) v.pre_kind = kPreKind[kind];
  if (i + 1 < s.size() && s[i] == '-' && is_digit(s[i + 1])) {
    v.post = true;
    d = digits(s, i + 1);
    v.post_n = s.substr(i + 1, d);
    i += 1 + d;
  } else {
    static constexpr std::string_view kPost[] = {"post", "rev", "r"};
    v.post = group(s, i, kPost, 3, kind, v.post_n);
  }
  static constexpr std::string_view kDev[] = {"dev"};
  v.dev = group(s, i, kDev, 1, kind, v.dev_n);
  if (i < s.size() && s[i] == '+') {
    std::string_view local = s.substr(i + 1);
    if (local.empty()) return set_error(error, "empty local version after '+'");
    bool need = true;
    for (char c : local) {
      if (is_alnum(c)) need = false;
      else if (sep(c) && !need) need = true;
      else return set_error(error, "invalid local version segment");
    }
    if (need) return set_error(error, "local version ends in a separator");
    v.local = local;
    i = s.size();
  }
  if (i != s.size()) return set_error(error, "unexpected text at offset " + std::to_string(i));
  return true;
}

int cmp_release(std::string_view a, std::string_view b, std::string* why) {
  std::string_view ra = a, rb = b;
  while (!ra.empty() || !rb.empty()) {
    std::size_t da = ra.find('.'), db = rb.find('.');
    std::string_view xa = ra.substr(0, da), xb = rb.substr(0, db);
    int r = compare_digit_runs(xa, xb);
    if (r != 0) {
      if (why) *why = explain("release", a, r, b) + ": " + (xa.empty() ? "0" : std::string(xa)) + ' ' + op_char(r) + ' ' +
                      (xb.empty() ? "0" : std::string(xb));
      return r;
    }
    ra = da == std::string_view::npos ? std::string_view() : ra.substr(da + 1);
    rb = db == std::string_view::npos ? std::string_view() : rb.substr(db + 1);
  }
  return 0;
}

// packaging's _cmpkey for the pre, post and dev parts: a value class
// (-1 = NegativeInfinity, 1 = Infinity, 0 = a real value) and the value.
struct Part {
  int cls;
  int kind;
  std::string_view n;
};

int cmp_part(const Part& a, const Part& b) {
  if (a.cls != b.cls) return a.cls < b.cls ? -1 : 1;
  if (a.cls != 0) return 0;
  if (a.kind != b.kind) return a.kind < b.kind ? -1 : 1;
  return compare_digit_runs(a.n, b.n);
}

std::string part_text(const Part& p, std::string_view what) {
  if (p.cls < 0) return "no " + std::string(what) + " (lowest)";
  if (p.cls > 0) return "no " + std::string(what);
  static constexpr std::string_view kPre[] = {"a", "b", "rc"};
  std::string out = what == "pre-release" ? std::string(kPre[p.kind]) : std::string(what == "post-release" ? "post" : "dev");
  out += p.n.empty() ? "0" : std::string(p.n);
  return out;
}

bool all_digits(std::string_view s) {
  for (char c : s)
    if (!is_digit(c)) return false;
  return !s.empty();
}

int cmp_local(std::string_view a, std::string_view b) {
  if (a.empty() || b.empty()) return a.empty() == b.empty() ? 0 : (a.empty() ? -1 : 1);
  while (true) {
    std::size_t da = 0, db = 0;
    while (da < a.size() && !sep(a[da])) ++da;
    while (db < b.size() && !sep(b[db])) ++db;
    std::string_view xa = a.substr(0, da), xb = b.substr(0, db);
    bool na = all_digits(xa), nb = all_digits(xb);
    int r;
    if (na && nb) r = compare_digit_runs(xa, xb);
    else if (na != nb) r = na ? 1 : -1;
    else {
      r = 0;
      for (std::size_t k = 0; k < xa.size() && k < xb.size() && r == 0; ++k)
        r = sign(static_cast<unsigned char>(to_lower(xa[k])) - static_cast<unsigned char>(to_lower(xb[k])));
      if (r == 0 && xa.size() != xb.size()) r = xa.size() < xb.size() ? -1 : 1;
    }
    if (r != 0) return r;
    bool ea = da >= a.size(), eb = db >= b.size();
    if (ea || eb) return ea == eb ? 0 : (ea ? -1 : 1);
    a.remove_prefix(da + 1);
    b.remove_prefix(db + 1);
  }
}

}  // namespace

int compare_pep440(std::string_view a, std::string_view b, std::string* why) {
  Pep440 va, vb;
  bool oka = parse(a, va, nullptr), okb = parse(b, vb, nullptr);
  if (!oka || !okb) {
    int r = oka != okb ? (oka ? 1 : -1) : compare_bytes(a, b);
    if (why) *why = oka != okb ? "a string that is not PEP 440 sorts below any version" : "neither is PEP 440: byte order";
    return r;
  }
  int r = compare_digit_runs(va.epoch, vb.epoch);
  if (r != 0) {
    if (why) *why = explain("epoch", va.epoch.empty() ? "0" : va.epoch, r, vb.epoch.empty() ? "0" : vb.epoch);
    return r;
  }
  if ((r = cmp_release(va.release, vb.release, why)) != 0) return r;
  auto pre = [](const Pep440& v) {
    if (v.pre_kind < 0 && !v.post && v.dev) return Part{-1, 0, {}};
    if (v.pre_kind < 0) return Part{1, 0, {}};
    return Part{0, v.pre_kind, v.pre_n};
  };
  auto post = [](const Pep440& v) { return v.post ? Part{0, 0, v.post_n} : Part{-1, 0, {}}; };
  auto dev = [](const Pep440& v) { return v.dev ? Part{0, 0, v.dev_n} : Part{1, 0, {}}; };
  struct Step {
    Part (*get)(const Pep440&);
    std::string_view name;
  };
  const Step steps[] = {{+pre, "pre-release"}, {+post, "post-release"}, {+dev, "dev-release"}};
  for (const Step& s : steps) {
    Part pa = s.get(va), pb = s.get(vb);
    if ((r = cmp_part(pa, pb)) != 0) {
      if (why) {
        *why = "release " + std::string(va.release) + " = " + std::string(vb.release) + "; " + part_text(pa, s.name) +
               ' ' + op_char(r) + ' ' + part_text(pb, s.name);
        if (s.name == "pre-release" && (pa.cls < 0 || pb.cls < 0)) *why += ": a dev-only release sorts before its pre-releases";
      }
      return r;
    }
  }
  r = cmp_local(va.local, vb.local);
  if (why) *why = r == 0 ? std::string("equal after normalisation") : explain("local version", va.local, r, vb.local);
  return r;
}

bool valid_pep440(std::string_view v, std::string* error) {
  Pep440 p;
  return parse(v, p, error);
}

}  // namespace kg::vuln::detail

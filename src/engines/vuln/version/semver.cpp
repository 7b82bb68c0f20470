// SemVer 2.0.0 precedence (semver.org §11): MAJOR.MINOR.PATCH numerically, a
// pre-release below its release, pre-release identifiers numeric (numerically,
// any length) below alphanumeric (ASCII order), more identifiers above fewer;
// build metadata ignored. Comparison reads leniently what real data holds (a
// leading 'v', missing minor/patch as 0, more than three numbers, leading
// zeros), as osv-scalibr's semantic package does; `valid_semver` is strict.
#include "engines/vuln/version/detail.hpp"

namespace kg::vuln::detail {

namespace {

struct Loose {
  std::string_view numbers;  // "1.2.3" (digits and dots)
  std::string_view pre;      // without '-', up to '+'
};

Loose loose(std::string_view v) {
  if (!v.empty() && v.front() == 'v') v.remove_prefix(1);
  std::size_t i = 0;
  while (i < v.size() && (is_digit(v[i]) || v[i] == '.')) ++i;
  Loose out;
  out.numbers = v.substr(0, i);
  std::string_view rest = v.substr(i);
  rest = rest.substr(0, rest.find('+'));
  if (!rest.empty() && rest.front() == '-') rest.remove_prefix(1);
  out.pre = rest;
  return out;
}

// The next number of "1.2.3" (empty when none is left: counts as 0).
std::string_view next_number(std::string_view& s) {
  while (!s.empty() && s.front() == '.') s.remove_prefix(1);
  std::size_t n = 0;
  while (n < s.size() && is_digit(s[n])) ++n;
  std::string_view out = s.substr(0, n);
  s.remove_prefix(n);
  return out;
}

bool numeric(std::string_view id) {
  if (id.empty()) return false;
  for (char c : id)
    if (!is_digit(c)) return false;
  return true;
}

}  // namespace

// Pre-release identifiers, dot-separated; shared with the npm ranges.
int compare_prerelease(std::string_view a, std::string_view b, std::string* why) {
  if (a.empty() || b.empty()) {
    int r = a.empty() == b.empty() ? 0 : (a.empty() ? 1 : -1);
    if (why && r != 0) *why = "a release > its pre-releases";
    return r;
  }
  while (true) {
    std::size_t da = a.find('.'), db = b.find('.');
    std::string_view ia = a.substr(0, da), ib = b.substr(0, db);
    bool na = numeric(ia), nb = numeric(ib);
    int r = (na && nb) ? compare_digit_runs(ia, ib) : (na != nb ? (na ? -1 : 1) : compare_bytes(ia, ib));
    if (r != 0) {
      if (why) {
        *why = explain("pre-release identifier", ia, r, ib);
        if (na != nb) *why += ": numeric identifiers sort below alphanumeric ones";
      }
      return r;
    }
    bool ea = da == std::string_view::npos, eb = db == std::string_view::npos;
    if (ea || eb) {
      r = ea == eb ? 0 : (ea ? -1 : 1);
      if (why && r != 0) *why = "pre-release: more identifiers sort above fewer";
      return r;
    }
    a.remove_prefix(da + 1);
    b.remove_prefix(db + 1);
  }
}

int compare_semver(std::string_view a, std::string_view b, std::string* why) {
  Loose la = loose(a), lb = loose(b);
  static constexpr std::string_view kNames[] = {"major", "minor", "patch"};
  std::string_view na = la.numbers, nb = lb.numbers;
  for (int k = 0; !na.empty() || !nb.empty() || k < 3; ++k) {
    std::string_view xa = next_number(na), xb = next_number(nb);
    int r = compare_digit_runs(xa, xb);
    if (r != 0) {
      if (why) *why = explain(k < 3 ? kNames[k] : "number", xa.empty() ? "0" : xa, r, xb.empty() ? "0" : xb);
      return r;
    }
    if (k >= 3 && na.empty() && nb.empty()) break;
  }
  int r = compare_prerelease(la.pre, lb.pre, why);
  if (why && r == 0) *why = "same version and pre-release (build metadata is ignored)";
  return r;
}

namespace {

// A numeric identifier: digits, no leading zero (unless "0").
bool valid_number(std::string_view s) { return numeric(s) && (s.size() == 1 || s[0] != '0'); }

bool ident_chars(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!is_alnum(c) && c != '-') return false;
  return true;
}

}  // namespace

// SemVer 2.0.0 §2, §9, §10; `v` must not carry a 'v'.
bool valid_semver_strict(std::string_view v, std::string* error) {
  std::size_t plus = v.find('+');
  std::string_view build = plus == std::string_view::npos ? std::string_view() : v.substr(plus + 1);
  std::string_view core = v.substr(0, plus);
  std::size_t dash = core.find('-');
  std::string_view pre = dash == std::string_view::npos ? std::string_view() : core.substr(dash + 1);
  core = core.substr(0, dash);
  for (int k = 0; k < 3; ++k) {
    std::size_t dot = core.find('.');
    std::string_view n = core.substr(0, dot);
    if (!valid_number(n))
      return set_error(error, std::string(k == 0 ? "major" : k == 1 ? "minor" : "patch") +
                                  " is not a number without leading zeros");
    if ((k < 2) != (dot != std::string_view::npos))
      return set_error(error, "not MAJOR.MINOR.PATCH");
    core = dot == std::string_view::npos ? std::string_view() : core.substr(dot + 1);
  }
  if (dash != std::string_view::npos) {
    for (std::string_view s = pre;;) {
      std::size_t dot = s.find('.');
      std::string_view id = s.substr(0, dot);
      if (!ident_chars(id)) return set_error(error, "empty or invalid pre-release identifier");
      if (numeric(id) && !valid_number(id)) return set_error(error, "numeric pre-release identifier with a leading zero");
      if (dot == std::string_view::npos) break;
      s.remove_prefix(dot + 1);
    }
  }
  if (plus != std::string_view::npos) {
    for (std::string_view s = build;;) {
      std::size_t dot = s.find('.');
      if (!ident_chars(s.substr(0, dot))) return set_error(error, "empty or invalid build identifier");
      if (dot == std::string_view::npos) break;
      s.remove_prefix(dot + 1);
    }
  }
  return true;
}

bool valid_semver(std::string_view v, std::string* error) { return valid_semver_strict(v, error); }

}  // namespace kg::vuln::detail

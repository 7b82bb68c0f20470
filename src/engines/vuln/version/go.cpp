// Go module version order: golang.org/x/mod/semver Compare. A version is
// "v" + SemVer (shorthands v1 and v1.2 mean v1.0.0 and v1.2.0); build
// metadata such as +incompatible is ignored; a pseudo-version
// (vX.Y.Z-0.yyyymmddhhmmss-abcdef123456 and its two other forms) is an
// ordinary pre-release, so its timestamp orders it. Invalid versions sort
// below valid ones and equal to each other, as in x/mod.
#include "engines/vuln/version/detail.hpp"

namespace kg::vuln::detail {

int compare_prerelease(std::string_view a, std::string_view b, std::string* why);

namespace {

struct GoVersion {
  std::string_view major, minor, patch, pre;  // pre without '-'
};

bool parse_int(std::string_view& v, std::string_view& out) {
  std::size_t n = 0;
  while (n < v.size() && is_digit(v[n])) ++n;
  if (n == 0 || (n > 1 && v[0] == '0')) return false;
  out = v.substr(0, n);
  v.remove_prefix(n);
  return true;
}

bool is_num(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!is_digit(c)) return false;
  return true;
}

// parsePrerelease / parseBuild: dot-separated non-empty [0-9A-Za-z-]
// identifiers; in a pre-release no numeric one has a leading zero.
bool idents(std::string_view s, bool check_num) {
  if (s.empty()) return false;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == '.') {
      std::string_view id = s.substr(start, i - start);
      if (id.empty() || (check_num && is_num(id) && id.size() > 1 && id[0] == '0')) return false;
      start = i + 1;
    } else if (!is_alnum(s[i]) && s[i] != '-') {
      return false;
    }
  }
  return true;
}

bool parse(std::string_view v, GoVersion& p, std::string* error) {
  if (v.empty() || v[0] != 'v') return set_error(error, "a Go module version starts with 'v'");
  v.remove_prefix(1);
  if (!parse_int(v, p.major)) return set_error(error, "major is not a number without leading zeros");
  p.minor = p.patch = "0";
  if (v.empty()) return true;
  if (v[0] != '.') return set_error(error, "expected '.' after the major version");
  v.remove_prefix(1);
  if (!parse_int(v, p.minor)) return set_error(error, "minor is not a number without leading zeros");
  if (v.empty()) return true;
  if (v[0] != '.') return set_error(error, "expected '.' after the minor version");
  v.remove_prefix(1);
  if (!parse_int(v, p.patch)) return set_error(error, "patch is not a number without leading zeros");
  std::size_t plus = v.find('+');
  std::string_view build = plus == std::string_view::npos ? std::string_view() : v.substr(plus + 1);
  std::string_view pre = v.substr(0, plus);
  if (!pre.empty()) {
    if (pre[0] != '-' || !idents(pre.substr(1), true)) return set_error(error, "invalid pre-release");
    p.pre = pre.substr(1);
  }
  if (plus != std::string_view::npos && !idents(build, false)) return set_error(error, "invalid build metadata");
  return true;
}

// A pseudo-version's pre-release ends in 14 digits of UTC time and 12 hex digits.
bool pseudo(std::string_view pre) {
  if (pre.size() < 27) return false;
  std::string_view tail = pre.substr(pre.size() - 27);
  for (std::size_t i = 0; i < 14; ++i)
    if (!is_digit(tail[i])) return false;
  if (tail[14] != '-') return false;
  for (std::size_t i = 15; i < 27; ++i)
    if (!is_digit(tail[i]) && !(tail[i] >= 'a' && tail[i] <= 'f')) return false;
  return pre.size() == 27 || pre[pre.size() - 28] == '.';
}

}  // namespace

int compare_go(std::string_view a, std::string_view b, std::string* why) {
  GoVersion pa, pb;
  bool oka = parse(a, pa, nullptr), okb = parse(b, pb, nullptr);
  if (!oka || !okb) {
    int r = oka == okb ? 0 : (oka ? 1 : -1);
    if (why) *why = r == 0 ? "both invalid: x/mod counts invalid versions as equal" : "an invalid version sorts below any valid one";
    return r;
  }
  static constexpr std::string_view kNames[] = {"major", "minor", "patch"};
  std::string_view xa[] = {pa.major, pa.minor, pa.patch}, xb[] = {pb.major, pb.minor, pb.patch};
  for (int k = 0; k < 3; ++k) {
    int r = compare_digit_runs(xa[k], xb[k]);
    if (r != 0) {
      if (why) *why = explain(kNames[k], xa[k], r, xb[k]);
      return r;
    }
  }
  int r = compare_prerelease(pa.pre, pb.pre, why);
  if (why) {
    if (r == 0) *why = "same version and pre-release (build metadata such as +incompatible is ignored)";
    if (pseudo(pa.pre) || pseudo(pb.pre)) *why += " (pseudo-versions order by their commit time)";
  }
  return r;
}

bool valid_go(std::string_view v, std::string* error) {
  GoVersion p;
  return parse(v, p, error);
}

}  // namespace kg::vuln::detail

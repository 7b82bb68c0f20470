// dpkg version order: a port of dpkg lib/dpkg/version.c (verrevcmp,
// dpkg_version_compare) and the checks of lib/dpkg/parsehelp.c (parseversion).
// [epoch:]upstream[-revision]: epoch before the first ':', revision after the
// last '-'; a missing revision compares like "0" (verrevcmp of "" and "0").
#include <climits>

#include "engines/vuln/version/detail.hpp"

namespace kg::vuln::detail {

namespace {

struct DpkgVersion {
  std::string_view epoch;  // digits, maybe empty (= 0)
  std::string_view upstream;
  std::string_view revision;
};

// Never fails: what dpkg would refuse still splits the same way, so that the
// order stays total (an epoch that is not a number is left in the upstream).
DpkgVersion split(std::string_view v) {
  DpkgVersion out;
  if (std::size_t colon = v.find(':'); colon != std::string_view::npos && colon > 0) {
    bool digits = true;
    for (std::size_t i = 0; i < colon; ++i) digits = digits && is_digit(v[i]);
    if (digits) {
      out.epoch = v.substr(0, colon);
      v.remove_prefix(colon + 1);
    }
  }
  if (std::size_t dash = v.rfind('-'); dash != std::string_view::npos) {
    out.upstream = v.substr(0, dash);
    out.revision = v.substr(dash + 1);
  } else {
    out.upstream = v;
  }
  return out;
}

// dpkg reads C strings: the end, and an embedded NUL, are both 0. char is
// signed there, so a byte >= 0x80 orders as c + 256 with c negative.
int at(std::string_view s, std::size_t i) {
  return i < s.size() ? static_cast<signed char>(s[i]) : 0;
}
bool digit_at(std::string_view s, std::size_t i) { return is_digit(static_cast<char>(at(s, i))); }

int order(int c) {
  if (is_digit(static_cast<char>(c))) return 0;
  if (is_alpha(static_cast<char>(c))) return c;
  if (c == '~') return -1;
  if (c != 0) return c + 256;
  return 0;
}

std::string char_name(int c) {
  if (c == 0) return "end";
  std::string out = "'";
  out += static_cast<char>(c);
  out += "'";
  return out;
}

// verrevcmp; on a decision and with `detail`, what decided it.
int verrevcmp(std::string_view a, std::string_view b, std::string* detail) {
  std::size_t i = 0, j = 0;
  while (at(a, i) != 0 || at(b, j) != 0) {
    int first_diff = 0;
    std::size_t di = 0, dj = 0;
    while ((at(a, i) != 0 && !digit_at(a, i)) || (at(b, j) != 0 && !digit_at(b, j))) {
      int ac = order(at(a, i));
      int bc = order(at(b, j));
      if (ac != bc) {
        if (detail) {
          int ca = at(a, i), cb = at(b, j);
          *detail = char_name(ca) + (ac < bc ? " < " : " > ") + char_name(cb);
          if (ca == '~' || cb == '~')
            *detail += ": '~' sorts before anything, even the end";
          else if (ca == 0 || cb == 0 || digit_at(a, i) || digit_at(b, j))
            *detail += ": the end (or a digit) sorts before any other character";
          else if (is_alpha(static_cast<char>(ca)) != is_alpha(static_cast<char>(cb)))
            *detail += ": letters sort before non-letters";
        }
        return sign(ac - bc);
      }
      ++i;
      ++j;
    }
    std::size_t si = i, sj = j;
    while (at(a, i) == '0') ++i;
    while (at(b, j) == '0') ++j;
    std::size_t ni = i, nj = j;
    while (digit_at(a, i) && digit_at(b, j)) {
      if (first_diff == 0) first_diff = at(a, i) - at(b, j);
      ++i;
      ++j;
    }
    di = i;
    dj = j;
    while (digit_at(a, di)) ++di;
    while (digit_at(b, dj)) ++dj;
    int r = digit_at(a, i) ? 1 : digit_at(b, j) ? -1 : sign(first_diff);
    if (r != 0) {
      if (detail)
        *detail = "number " + std::string(a.substr(si, di - si).empty() ? "(none)" : a.substr(si, di - si)) +
                  (r < 0 ? " < " : " > ") +
                  std::string(b.substr(sj, dj - sj).empty() ? "(none)" : b.substr(sj, dj - sj));
      (void)ni;
      (void)nj;
      return r;
    }
  }
  return 0;
}

}  // namespace

int compare_dpkg(std::string_view a, std::string_view b, std::string* why) {
  DpkgVersion va = split(a), vb = split(b);
  int r = compare_digit_runs(va.epoch, vb.epoch);
  if (r != 0) {
    if (why)
      *why = explain("epoch", va.epoch.empty() ? "0" : va.epoch, r, vb.epoch.empty() ? "0" : vb.epoch);
    return r;
  }
  std::string detail;
  std::string* d = why ? &detail : nullptr;
  r = verrevcmp(va.upstream, vb.upstream, d);
  if (r != 0) {
    if (why) *why = explain("upstream", va.upstream, r, vb.upstream) + ": " + detail;
    return r;
  }
  r = verrevcmp(va.revision, vb.revision, d);
  if (why) {
    *why = explain("upstream", va.upstream, 0, vb.upstream) + "; " +
           explain("revision", va.revision, r, vb.revision);
    if (r != 0) *why += ": " + detail;
    else if (va.revision != vb.revision) *why += " (a missing revision is \"0\")";
  }
  return r;
}

bool valid_dpkg(std::string_view v, std::string* error) {
  // parseversion trims surrounding blanks, then refuses any inside.
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t' || v.front() == '\n')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t' || v.back() == '\n')) v.remove_suffix(1);
  if (v.empty()) return set_error(error, "version string is empty");
  for (char c : v)
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\0')
      return set_error(error, "version string has embedded spaces");
  if (std::size_t colon = v.find(':'); colon != std::string_view::npos) {
    if (colon == 0) return set_error(error, "epoch in version is empty");
    std::string_view epoch = v.substr(0, colon);
    for (char c : epoch)
      if (!is_digit(c)) return set_error(error, "epoch in version is not number");
    if (compare_digit_runs(epoch, "2147483647") > 0) return set_error(error, "epoch in version is too big");
    v.remove_prefix(colon + 1);
    if (v.empty()) return set_error(error, "nothing after colon in version number");
  }
  std::string_view upstream = v, revision;
  if (std::size_t dash = v.rfind('-'); dash != std::string_view::npos) {
    upstream = v.substr(0, dash);
    revision = v.substr(dash + 1);
    if (revision.empty()) return set_error(error, "revision number is empty");
  }
  if (upstream.empty()) return set_error(error, "version number is empty");
  if (!is_digit(upstream.front())) return set_error(error, "version number does not start with digit");
  for (char c : upstream)
    if (!is_alnum(c) && c != '.' && c != '-' && c != '+' && c != '~' && c != ':')
      return set_error(error, std::string("invalid character '") + c + "' in version number");
  for (char c : revision)
    if (!is_alnum(c) && c != '.' && c != '+' && c != '~')
      return set_error(error, std::string("invalid character '") + c + "' in revision number");
  return true;
}

}  // namespace kg::vuln::detail

// rpm version order: a port of rpm's rpmio/rpmvercmp.c (rpmvercmp, '~' sorts
// before everything, '^' after the base version) and of the EVR split and
// compare of rpmio/rpmver.c: [epoch:]version[-release], epoch the digits before
// a ':', release after the last '-'. A missing epoch is 0; a missing release
// sorts before any release (rpm 4.18's rpm.vercmp("1", "1-1") is -1).
#include "engines/vuln/version/detail.hpp"

namespace kg::vuln::detail {

namespace {

struct Evr {
  std::string_view epoch;  // empty = 0
  std::string_view version;
  std::string_view release;
  bool has_release = false;
};

Evr split(std::string_view v) {
  v = v.substr(0, v.find('\0'));  // rpm reads C strings
  Evr out;
  std::size_t s = 0;
  while (s < v.size() && is_digit(v[s])) ++s;
  std::size_t dash = v.rfind('-');
  if (dash != std::string_view::npos && dash < s) dash = std::string_view::npos;
  if (s < v.size() && v[s] == ':') {
    out.epoch = v.substr(0, s);
    v.remove_prefix(s + 1);
    if (dash != std::string_view::npos) dash -= s + 1;
  }
  if (dash != std::string_view::npos) {
    out.version = v.substr(0, dash);
    out.release = v.substr(dash + 1);
    out.has_release = true;
  } else {
    out.version = v;
  }
  return out;
}

bool separator(char c) { return !is_alnum(c) && c != '~' && c != '^'; }

// rpmvercmp; with `detail`, what decided it.
int rpmvercmp(std::string_view a, std::string_view b, std::string* detail) {
  if (a == b) return 0;
  std::size_t i = 0, j = 0;
  auto ch = [](std::string_view s, std::size_t k) { return k < s.size() ? s[k] : '\0'; };
  while (i < a.size() || j < b.size()) {
    while (i < a.size() && separator(a[i])) ++i;
    while (j < b.size() && separator(b[j])) ++j;
    char ca = ch(a, i), cb = ch(b, j);
    if (ca == '~' || cb == '~') {
      if (ca != '~') {
        if (detail) *detail = "'~' sorts before anything, even the end";
        return 1;
      }
      if (cb != '~') {
        if (detail) *detail = "'~' sorts before anything, even the end";
        return -1;
      }
      ++i;
      ++j;
      continue;
    }
    if (ca == '^' || cb == '^') {
      int r = 0;
      if (ca == '\0') r = -1;
      else if (cb == '\0') r = 1;
      else if (ca != '^') r = 1;
      else if (cb != '^') r = -1;
      if (r != 0) {
        if (detail) *detail = "'^' sorts after the end but before anything else";
        return r;
      }
      ++i;
      ++j;
      continue;
    }
    if (ca == '\0' || cb == '\0') break;
    std::size_t ei = i, ej = j;
    bool isnum = is_digit(ca);
    if (isnum) {
      while (ei < a.size() && is_digit(a[ei])) ++ei;
      while (ej < b.size() && is_digit(b[ej])) ++ej;
    } else {
      while (ei < a.size() && is_alpha(a[ei])) ++ei;
      while (ej < b.size() && is_alpha(b[ej])) ++ej;
    }
    std::string_view sa = a.substr(i, ei - i), sb = b.substr(j, ej - j);
    if (sb.empty()) {
      if (detail) *detail = std::string(isnum ? "number " : "letters ") + std::string(sa) +
                            (isnum ? " > " : " < ") + std::string(b.substr(j, 1)) +
                            ": a number sorts after letters";
      return isnum ? 1 : -1;
    }
    int r = isnum ? compare_digit_runs(sa, sb) : compare_bytes(sa, sb);
    if (r != 0) {
      if (detail) *detail = explain(isnum ? "number" : "letters", sa, r, sb);
      return r;
    }
    i = ei;
    j = ej;
  }
  bool ea = i >= a.size(), eb = j >= b.size();
  if (ea && eb) return 0;
  if (detail) *detail = "equal up to the end of one; the longer is newer";
  return ea ? -1 : 1;
}

}  // namespace

int compare_rpm(std::string_view a, std::string_view b, std::string* why) {
  Evr va = split(a), vb = split(b);
  std::string detail;
  std::string* d = why ? &detail : nullptr;
  std::string_view ea = va.epoch.empty() ? std::string_view("0") : va.epoch;
  std::string_view eb = vb.epoch.empty() ? std::string_view("0") : vb.epoch;
  int r = rpmvercmp(ea, eb, d);
  if (r != 0) {
    if (why) *why = explain("epoch", ea, r, eb);
    return r;
  }
  r = rpmvercmp(va.version, vb.version, d);
  if (r != 0) {
    if (why) *why = explain("version", va.version, r, vb.version) + ": " + detail;
    return r;
  }
  if (va.has_release && vb.has_release) {
    r = rpmvercmp(va.release, vb.release, d);
    if (why) {
      *why = explain("version", va.version, 0, vb.version) + "; " + explain("release", va.release, r, vb.release);
      if (r != 0) *why += ": " + detail;
    }
    return r;
  }
  r = va.has_release == vb.has_release ? 0 : (va.has_release ? 1 : -1);
  if (why) {
    *why = explain("version", va.version, 0, vb.version);
    if (r != 0) *why += r < 0 ? "; no release < a release" : "; a release > no release";
  }
  return r;
}

bool valid_rpm(std::string_view v, std::string* error) {
  if (v.empty()) return set_error(error, "version is empty");
  Evr e = split(v);
  if (std::size_t colon = e.version.find(':'); colon != std::string_view::npos)
    return set_error(error, "epoch before ':' is not a number");
  if (e.version.empty()) return set_error(error, "version part is empty");
  if (e.has_release && e.release.empty()) return set_error(error, "release after '-' is empty");
  for (std::string_view part : {e.version, e.release})
    for (char c : part)
      if (!is_alnum(c) && c != '.' && c != '_' && c != '+' && c != '~' && c != '^')
        return set_error(error, std::string("invalid character '") + c + "' (rpm allows letters, digits and ._+~^)");
  if (e.version.find('-') != std::string_view::npos) return set_error(error, "'-' inside the version");
  return true;
}

}  // namespace kg::vuln::detail

#include "engines/vuln/handling/purl.hpp"

#include <algorithm>
#include <cctype>

namespace kg::vuln {
namespace {

int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::string> decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size()) return std::nullopt;
    const int hi = hex(s[i + 1]);
    const int lo = hex(s[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

void lower(std::string& s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
}

}  // namespace

std::string_view Purl::qualifier(std::string_view key) const {
  for (const auto& [k, v] : qualifiers)
    if (k == key) return v;
  return {};
}

std::optional<Purl> parse_purl(std::string_view text) {
  if (text.size() < 4) return std::nullopt;
  std::string scheme(text.substr(0, 4));
  lower(scheme);
  if (scheme != "pkg:") return std::nullopt;
  std::string_view rest = text.substr(4);
  while (!rest.empty() && rest.front() == '/') rest.remove_prefix(1);  // "pkg://type" is tolerated by the spec
  Purl p;
  if (const std::size_t hash = rest.find('#'); hash != std::string_view::npos) {
    std::string_view sub = rest.substr(hash + 1);
    while (!sub.empty() && sub.front() == '/') sub.remove_prefix(1);
    while (!sub.empty() && sub.back() == '/') sub.remove_suffix(1);
    auto d = decode(sub);
    if (!d) return std::nullopt;
    p.subpath = std::move(*d);
    rest = rest.substr(0, hash);
  }
  if (const std::size_t q = rest.find('?'); q != std::string_view::npos) {
    std::string_view qs = rest.substr(q + 1);
    rest = rest.substr(0, q);
    while (!qs.empty()) {
      const std::size_t amp = qs.find('&');
      std::string_view pair = qs.substr(0, amp);
      qs = amp == std::string_view::npos ? std::string_view{} : qs.substr(amp + 1);
      if (pair.empty()) continue;
      const std::size_t eq = pair.find('=');
      if (eq == std::string_view::npos || eq == 0) return std::nullopt;
      std::string key(pair.substr(0, eq));
      lower(key);
      auto value = decode(pair.substr(eq + 1));
      if (!value) return std::nullopt;
      if (value->empty()) continue;  // an empty qualifier is the same as none (purl-spec)
      p.qualifiers.emplace_back(std::move(key), std::move(*value));
    }
    std::sort(p.qualifiers.begin(), p.qualifiers.end());
  }
  const std::size_t slash = rest.find('/');
  if (slash == std::string_view::npos || slash == 0) return std::nullopt;
  p.type = std::string(rest.substr(0, slash));
  lower(p.type);
  rest = rest.substr(slash + 1);
  while (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  // The version follows the last '@' of the remainder (a namespace may hold
  // an encoded '@', as npm scopes: %40angular).
  if (const std::size_t at = rest.rfind('@'); at != std::string_view::npos) {
    auto v = decode(rest.substr(at + 1));
    if (!v) return std::nullopt;
    p.version = std::move(*v);
    rest = rest.substr(0, at);
  }
  const std::size_t last = rest.rfind('/');
  auto name = decode(last == std::string_view::npos ? rest : rest.substr(last + 1));
  if (!name || name->empty()) return std::nullopt;
  p.name = std::move(*name);
  if (last != std::string_view::npos) {
    std::string_view ns = rest.substr(0, last);
    std::string joined;
    while (!ns.empty()) {
      const std::size_t s = ns.find('/');
      std::string_view seg = ns.substr(0, s);
      ns = s == std::string_view::npos ? std::string_view{} : ns.substr(s + 1);
      if (seg.empty()) continue;
      auto d = decode(seg);
      if (!d) return std::nullopt;
      if (!joined.empty()) joined += '/';
      joined += *d;
    }
    p.ns = std::move(joined);
  }
  // Per-type normalisation the purl spec asks for.
  const std::string& t = p.type;
  if (t == "pypi") {
    lower(p.name);
    std::replace(p.name.begin(), p.name.end(), '_', '-');
  } else if (t == "npm" || t == "deb" || t == "apk" || t == "github" || t == "bitbucket" ||
             t == "composer") {
    lower(p.name);
    lower(p.ns);
  } else if (t == "oci") {
    lower(p.name);
  }
  return p;
}

bool purl_matches(const Purl& general, const Purl& specific) {
  if (general.type != specific.type || general.ns != specific.ns || general.name != specific.name)
    return false;
  if (!general.version.empty() && general.version != specific.version) return false;
  for (const auto& [k, v] : general.qualifiers)
    if (specific.qualifier(k) != v) return false;
  if (!general.subpath.empty() && general.subpath != specific.subpath) return false;
  return true;
}

bool purl_matches(std::string_view general, std::string_view specific) {
  auto g = parse_purl(general);
  auto s = parse_purl(specific);
  return g && s && purl_matches(*g, *s);
}

}  // namespace kg::vuln

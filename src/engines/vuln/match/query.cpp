// What to look up for a package: the namespace of the image's release stream,
// the source package's name, the version and its order.
#include <array>
#include <cctype>

#include "core/ascii.hpp"
#include "engines/vuln/db/feeds/feeds.hpp"
#include "engines/vuln/match/match.hpp"

namespace kg::vuln {
namespace {

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// "12", "12.5" → "12"; "" when it does not start with a digit.
std::string major_of(std::string_view v) {
  std::size_t n = 0;
  while (n < v.size() && std::isdigit(static_cast<unsigned char>(v[n])) != 0) ++n;
  return std::string(v.substr(0, n));
}

// "3.10.4" → "3.10"; "" unless it starts with digits '.' digits.
std::string major_minor_of(std::string_view v) {
  const std::string major = major_of(v);
  if (major.empty() || major.size() >= v.size() || v[major.size()] != '.') return {};
  const std::string minor = major_of(v.substr(major.size() + 1));
  return minor.empty() ? std::string{} : major + "." + minor;
}

// (major, minor) of "3.23"; {-1, -1} when not numeric.
std::pair<int, int> numeric_stream(std::string_view stream) {
  const std::string mm = major_minor_of(stream);
  if (mm.empty()) return {-1, -1};
  const std::size_t dot = mm.find('.');
  return {std::stoi(mm.substr(0, dot)), std::stoi(mm.substr(dot + 1))};
}

// The Go toolchain's version as the Go vulnerability database writes it:
// "go1.21.3" → "1.21.3", "go1.21" → "1.21.0", "go1.21rc2" → "1.21.0-rc.2"
// (govulncheck's semver conversion of Go release tags).
std::string go_stdlib_semver(std::string_view v) {
  if (starts_with(v, "go")) v.remove_prefix(2);
  const std::size_t sp = v.find_first_of(" +");  // "go1.22.0 X:boringcrypto"
  v = v.substr(0, sp);
  std::string nums;
  std::string pre;
  std::size_t i = 0;
  while (i < v.size() && (std::isdigit(static_cast<unsigned char>(v[i])) != 0 || v[i] == '.')) ++i;
  nums = std::string(v.substr(0, i));
  if (i < v.size()) {
    std::string_view rest = v.substr(i);
    std::size_t k = 0;
    while (k < rest.size() && std::isalpha(static_cast<unsigned char>(rest[k])) != 0) ++k;
    pre = std::string(rest.substr(0, k)) + "." + std::string(rest.substr(k));
  }
  int dots = 0;
  for (const char c : nums) dots += c == '.' ? 1 : 0;
  // Release candidates of a minor ("1.21rc2") are before 1.21.0, so .0 completes them.
  while (dots < 2 && !nums.empty()) {
    nums += ".0";
    ++dots;
  }
  return pre.empty() ? nums : nums + "-" + pre;
}

}  // namespace

OsContext os_context(const OsInfo& os, std::string_view apk_tools_version) {
  OsContext ctx;
  const std::string id = ascii_lower(os.id);
  if (id == "debian") {
    ctx.scheme = VersionScheme::Dpkg;
    std::string v = major_of(os.version_id);
    // Testing and unstable have no VERSION_ID: the codename names the stream
    // (testing's codename is its future release number, as the tracker
    // and vunnel key it; sid is "unstable").
    if (v.empty()) v = debian_release(os.version_codename);
    if (v.empty() && os.pretty_name.find("sid") != std::string::npos) v = "unstable";
    if (v.empty()) {
      ctx.note = "Debian release not known (no VERSION_ID, codename '" + os.version_codename + "')";
      return ctx;
    }
    ctx.ns = "debian:" + v;
    return ctx;
  }
  if (id == "ubuntu") {
    ctx.scheme = VersionScheme::Dpkg;
    const std::string v = major_minor_of(os.version_id);
    if (v.empty()) {
      ctx.note = "Ubuntu release not known (VERSION_ID '" + os.version_id + "')";
      return ctx;
    }
    ctx.ns = "ubuntu:" + v;
    return ctx;
  }
  if (id == "alpine" || id == "wolfi" || id == "chainguard") {
    std::string stream;
    if (id == "alpine") {
      // The repositories the image installs from name its branch; /etc/alpine-release
      // can be a point release of another branch (or edge's snapshot).
      stream = os.release_stream;
      if (stream.empty()) stream = major_minor_of(os.version_id);
      if (stream.empty()) {
        ctx.note = "Alpine branch not known (no /etc/apk/repositories branch, VERSION_ID '" + os.version_id + "')";
        ctx.scheme = VersionScheme::Apk2;
        return ctx;
      }
      ctx.ns = "alpine:" + stream;
    } else {
      ctx.ns = id + ":rolling";  // one rolling stream
    }
    // apk-tools 3 changed the order; the image's own apk-tools decides, else
    // the release that first shipped it (Alpine 3.23; Wolfi and edge ship 3).
    if (!apk_tools_version.empty()) {
      ctx.scheme = starts_with(apk_tools_version, "2.") ? VersionScheme::Apk2 : VersionScheme::Apk;
      ctx.note = "apk order of apk-tools " + std::string(apk_tools_version);
    } else if (id != "alpine" || stream == "edge") {
      ctx.scheme = VersionScheme::Apk;
      ctx.note = "apk order of apk-tools 3 (no apk-tools package; " + ctx.ns + " ships 3)";
    } else {
      const auto [major, minor] = numeric_stream(stream);
      const bool v3 = major > 3 || (major == 3 && minor >= 23);
      ctx.scheme = v3 ? VersionScheme::Apk : VersionScheme::Apk2;
      ctx.note = std::string("apk order of apk-tools ") + (v3 ? "3" : "2") + " (no apk-tools package; Alpine " +
                 stream + (v3 ? " >= 3.23)" : " < 3.23)");
    }
    return ctx;
  }
  if (id == "rhel" || id == "rocky" || id == "almalinux" || id == "centos") {
    // Rocky, AlmaLinux and CentOS rebuild RHEL's sources: Red Hat's data of the
    // same major release is theirs too (Grype's rhel namespace for them).
    ctx.scheme = VersionScheme::Rpm;
    const std::string v = major_of(os.version_id);
    if (v.empty()) {
      ctx.note = id + " release not known (VERSION_ID '" + os.version_id + "')";
      return ctx;
    }
    ctx.ns = "rhel:" + v;
    if (id == "rocky" || id == "almalinux") ctx.ns_also = id + ":" + v;
    if (id != "rhel")
      ctx.note = id + " " + os.version_id + " matched in rhel:" + v + " (a RHEL rebuild)" +
                 (ctx.ns_also.empty() ? "" : " and " + ctx.ns_also);
    return ctx;
  }
  ctx.note = os.id.empty() ? "no OS release found: OS packages not matched"
                           : "no vulnerability namespace for OS '" + os.id + "': OS packages not matched";
  return ctx;
}

OsContext os_context(const ImageInventory& inv) {
  std::string apk_tools;
  for (const Package& p : inv.packages)
    if (p.type == PackageType::Apk && p.name == "apk-tools") apk_tools = p.version;
  return os_context(inv.os, apk_tools);
}

std::optional<PackageQuery> package_query(const Package& p, const OsContext& os) {
  if (p.version.empty()) return std::nullopt;
  PackageQuery q;
  switch (p.type) {
    case PackageType::Deb:
    case PackageType::Apk:
    case PackageType::Rpm: {
      if (os.ns.empty()) return std::nullopt;
      // The feeds key OS packages by source package; the binary's own name when it has none.
      q.ns = os.ns;
      q.ns_also = os.ns_also;
      q.name = p.source_name.empty() ? p.name : p.source_name;
      q.scheme = os.scheme;
      // dpkg: the tracker's versions are source versions, and a binary can
      // carry its own version (binNMU "+b1", or another upstream): the source's
      // when the Source field names one (Trivy's FormatSrcVersion). rpm and apk
      // compare the installed package's own version (its epoch is there).
      q.version = p.type == PackageType::Deb && !p.source_version.empty() ? p.source_version : p.version;
      return q;
    }
    case PackageType::Npm: return language_query("npm", p.name, p.version);
    case PackageType::Python: return language_query("pypi", p.name, p.version);
    case PackageType::Golang: return language_query("go", p.name, p.version);
    case PackageType::Maven: return language_query("maven", p.name, p.version);
    case PackageType::Cargo: return language_query("crates.io", p.name, p.version);
  }
  return std::nullopt;
}

std::optional<PackageQuery> language_query(std::string_view ecosystem, std::string_view name,
                                           std::string_view version) {
  if (name.empty() || version.empty()) return std::nullopt;
  const std::string eco = ascii_lower(ecosystem);
  PackageQuery q;
  q.name = std::string(name);
  q.version = std::string(version);
  if (eco == "npm") {
    q.ns = "npm";
    q.scheme = VersionScheme::Semver;
  } else if (eco == "pypi" || eco == "python") {
    q.ns = "pypi";
    q.name = pep503_name(name);
    q.scheme = VersionScheme::Pep440;
  } else if (eco == "go" || eco == "golang") {
    q.ns = "go";
    q.scheme = VersionScheme::Go;
    if (version == "(devel)") return std::nullopt;  // built from a working tree: no release to place
    if (name == "stdlib" || name == "go") {
      // The Go vulnerability database names the toolchain's packages "stdlib".
      q.name = "stdlib";
      q.version = go_stdlib_semver(version);
    }
  } else if (eco == "maven") {
    q.ns = "maven";
    q.scheme = VersionScheme::Maven;
    if (name.find(':') == std::string_view::npos) return std::nullopt;  // no group: no Maven identity
  } else if (eco == "rubygems" || eco == "gem") {
    q.ns = "rubygems";
    q.scheme = VersionScheme::RubyGems;
  } else if (eco == "crates.io" || eco == "cargo") {
    q.ns = "crates.io";
    q.scheme = VersionScheme::Semver;
  } else {
    return std::nullopt;
  }
  return q;
}

}  // namespace kg::vuln

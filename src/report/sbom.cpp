#include "report/sbom.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdint>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "core/base64.hpp"
#include "core/clock.hpp"
#include "core/json_writer.hpp"

namespace kg {
namespace {

constexpr std::string_view kVersion = KGUARD_VERSION;

std::string random_uuid() {
  std::random_device rd;
  std::uint8_t b[16];
  for (std::size_t i = 0; i < 16; i += 4) {
    const std::uint32_t r = rd();
    for (std::size_t j = 0; j < 4; ++j) b[i + j] = static_cast<std::uint8_t>(r >> (8 * j));
  }
  b[6] = static_cast<std::uint8_t>((b[6] & 0x0f) | 0x40);  // version 4
  b[8] = static_cast<std::uint8_t>((b[8] & 0x3f) | 0x80);  // RFC 4122 variant
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  for (std::size_t i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) s += '-';
    s += kHex[b[i] >> 4];
    s += kHex[b[i] & 15];
  }
  return s;
}

std::string timestamp_of(const SbomOptions& o) { return o.timestamp.empty() ? utc_now_rfc3339() : o.timestamp; }
std::string uuid_of(const SbomOptions& o) { return o.uuid.empty() ? random_uuid() : o.uuid; }

// "registry/ns/repo:tag@sha256:..." -> "repo".
std::string repo_name(std::string_view ref) {
  if (const std::size_t at = ref.find('@'); at != std::string_view::npos) ref = ref.substr(0, at);
  for (const std::string_view scheme : {"oci-archive:", "docker-archive:", "oci:", "dir:"}) {
    if (ref.substr(0, scheme.size()) == scheme) {
      ref.remove_prefix(scheme.size());
      break;
    }
  }
  const std::size_t slash = ref.rfind('/');
  if (slash != std::string_view::npos) ref = ref.substr(slash + 1);
  if (const std::size_t colon = ref.find(':'); colon != std::string_view::npos) ref = ref.substr(0, colon);
  std::string out;
  for (const char c : ref) {
    const char l = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    if ((l >= 'a' && l <= 'z') || (l >= '0' && l <= '9') || l == '.' || l == '-' || l == '_') out += l;
  }
  return out;
}

// pkg:oci/<name>@sha256%3A<hex> (purl-spec's oci type) for the image itself.
std::string image_purl(const ImageInventory& inv) {
  const std::string name = repo_name(inv.reference);
  if (name.empty() || inv.manifest_digest.empty()) return {};
  std::string digest;
  for (const char c : inv.manifest_digest) digest += c == ':' ? std::string("%3A") : std::string(1, c);
  return "pkg:oci/" + name + "@" + digest;
}

std::string image_name(const ImageInventory& inv) {
  if (!inv.reference.empty()) return inv.reference;
  if (!inv.manifest_digest.empty()) return inv.manifest_digest;
  return "image";
}

// "group:artifact" (maven) and "@scope/name" (npm) split for CycloneDX's group.
// A package's own checksum as SPDX writes one (an algorithm, lowercase hex): rpm's
// "sha256:HEX" (its header's digest), apk's "Q1" + base64 of a SHA-1, Go's "h1:" + base64 of a
// SHA-256. sbom_input.cpp turns each back into the package's own spelling.
std::optional<std::pair<std::string, std::string>> spdx_checksum(std::string_view c) {
  auto hex = [](std::string_view bytes) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    for (char b : bytes) {
      out += kHex[(static_cast<unsigned char>(b) >> 4) & 15];
      out += kHex[static_cast<unsigned char>(b) & 15];
    }
    return out;
  };
  if (c.starts_with("sha256:") && c.size() == 71 &&
      c.find_first_not_of("0123456789abcdef", 7) == std::string_view::npos)
    return std::pair<std::string, std::string>{"SHA256", std::string(c.substr(7))};
  if (c.starts_with("Q1"))
    if (auto d = base64_decode(c.substr(2)); d && d->size() == 20) return std::pair<std::string, std::string>{"SHA1", hex(*d)};
  if (c.starts_with("h1:"))
    if (auto d = base64_decode(c.substr(3)); d && d->size() == 32) return std::pair<std::string, std::string>{"SHA256", hex(*d)};
  return std::nullopt;
}

std::pair<std::string, std::string> group_and_name(const Package& p) {
  if (p.type == PackageType::Maven) {
    const std::size_t colon = p.name.find(':');
    if (colon != std::string::npos) return {p.name.substr(0, colon), p.name.substr(colon + 1)};
  }
  if (p.type == PackageType::Npm && !p.name.empty() && p.name.front() == '@') {
    const std::size_t slash = p.name.find('/');
    if (slash != std::string::npos) return {p.name.substr(0, slash), p.name.substr(slash + 1)};
  }
  return {{}, p.name};
}

void property(JsonWriter& w, std::string_view name, std::string_view value) {
  if (value.empty()) return;
  w.begin_object().field("name", name).field("value", value).end_object();
}

// Unique, stable references for each package: its purl, made unique by a suffix.
std::vector<std::string> package_refs(const ImageInventory& inv) {
  std::vector<std::string> refs;
  std::set<std::string> used;
  for (std::size_t i = 0; i < inv.packages.size(); ++i) {
    const Package& p = inv.packages[i];
    std::string ref = p.purl.empty() ? "package-" + std::to_string(i + 1) : p.purl;
    if (!used.insert(ref).second) {
      ref += "#" + std::to_string(i + 1);
      used.insert(ref);
    }
    refs.push_back(std::move(ref));
  }
  return refs;
}

std::string_view cyclonedx_severity(Severity s) {
  switch (s) {
    case Severity::Critical: return "critical";
    case Severity::High: return "high";
    case Severity::Medium: return "medium";
    case Severity::Low: return "low";
  }
  return "unknown";
}

// CycloneDX 1.6 `vulnerabilities`: one entry per (id, package), its ratings
// (the vendor severity, the CVSS vector's score), `affects` pointing at the
// package's bom-ref, the fix as a recommendation, and for a suppressed match
// an `analysis`: not_affected / resolved when a VEX statement says so, else
// in_triage with who suppressed it and why (an ignore accepts a risk, it does
// not claim the package is safe).
void write_cyclonedx_vulnerabilities(JsonWriter& w, const ImageVulnerabilities& iv,
                                     const std::vector<std::string>& refs) {
  w.key("vulnerabilities").begin_array();
  for (std::size_t i = 0; i < iv.matches.size(); ++i) {
    const VulnMatch& v = iv.matches[i];
    w.begin_object();
    w.field("bom-ref", "vuln-" + std::to_string(i + 1));
    w.field("id", v.id);
    if (!v.feed.empty()) w.key("source").begin_object().field("name", v.feed).end_object();
    if (!v.aliases.empty()) {
      w.key("references").begin_array();
      for (const std::string& a : v.aliases) {
        w.begin_object().field("id", a).key("source").begin_object().field("name", v.feed.empty() ? "kguard" : v.feed);
        w.end_object().end_object();
      }
      w.end_array();
    }
    w.key("ratings").begin_array();
    // The vendor's word when it decided the severity; else the CVSS rating
    // below carries it.
    const bool from_cvss = v.severity_source.rfind("cvss:", 0) == 0 && v.cvss_score >= 0;
    if (!from_cvss) {
      w.begin_object();
      w.key("source").begin_object().field("name", v.severity_source.empty() ? "kguard" : v.severity_source).end_object();
      w.field("severity", cyclonedx_severity(v.severity));
      w.field("method", "other");
      w.end_object();
    }
    if (v.cvss_score >= 0) {
      w.begin_object();
      w.field("score", v.cvss_score);
      if (from_cvss) w.field("severity", cyclonedx_severity(v.severity));
      w.field("method", v.cvss_vector.rfind("CVSS:4.0", 0) == 0   ? "CVSSv4"
                        : v.cvss_vector.rfind("CVSS:3.1", 0) == 0 ? "CVSSv31"
                        : v.cvss_vector.rfind("CVSS:3", 0) == 0   ? "CVSSv3"
                                                                  : "other");
      if (!v.cvss_vector.empty()) w.field("vector", v.cvss_vector);
      w.end_object();
    }
    w.end_array();
    if (!v.summary.empty()) w.field("description", v.summary);
    if (v.fix == FixState::Fixed) {
      w.field("recommendation", "Upgrade " + v.package_name + " to " + v.fixed_version);
    } else if (v.fix == FixState::WontFix) {
      w.field("recommendation", "The distribution will not fix " + v.package_name);
    }
    if (v.suppressed) {
      const std::string how = v.suppressed_by + " " + v.suppress_reason;
      const bool not_affected = how.find("not_affected") != std::string::npos;
      const bool resolved = !not_affected && how.find("fixed") != std::string::npos &&
                            v.suppressed_by.find("VEX") != std::string::npos;
      w.key("analysis").begin_object();
      w.field("state", not_affected ? "not_affected" : resolved ? "resolved" : "in_triage");
      std::string detail = v.suppressed_by;
      if (!v.suppress_reason.empty()) detail += (detail.empty() ? "" : ": ") + v.suppress_reason;
      w.field("detail", detail);
      w.end_object();
    }
    w.key("affects").begin_array().begin_object();
    w.field("ref", v.package < refs.size() ? refs[v.package] : std::string("image"));
    w.key("versions").begin_array();
    w.begin_object().field("version", v.installed_version).field("status", "affected").end_object();
    if (v.fix == FixState::Fixed && !v.fixed_version.empty())
      w.begin_object().field("version", v.fixed_version).field("status", "unaffected").end_object();
    w.end_array();
    w.end_object().end_array();
    w.key("properties").begin_array();
    property(w, "kguard:vuln:package", v.package_name);
    property(w, "kguard:vuln:namespace", v.ns);
    property(w, "kguard:vuln:matched-name", v.matched_name);
    property(w, "kguard:vuln:scheme", v.scheme);
    property(w, "kguard:vuln:range", v.range);
    property(w, "kguard:vuln:fix", to_string(v.fix));
    char risk[16];
    std::snprintf(risk, sizeof risk, "%.1f", v.risk);
    property(w, "kguard:vuln:risk", risk);
    if (v.kev) property(w, "kguard:vuln:kev", "true");
    if (v.epss >= 0) {
      char epss[16];
      std::snprintf(epss, sizeof epss, "%.5f", v.epss);
      property(w, "kguard:vuln:epss", epss);
    }
    if (v.suppressed) property(w, "kguard:vuln:suppressed-by", v.suppressed_by);
    w.end_array();
    w.end_object();
  }
  w.end_array();
}

}  // namespace

LicenseForm classify_license(std::string_view license) {
  LicenseForm f;
  // Trim.
  while (!license.empty() && (license.front() == ' ' || license.front() == '\t')) license.remove_prefix(1);
  while (!license.empty() && (license.back() == ' ' || license.back() == '\t')) license.remove_suffix(1);
  if (license.empty()) return f;
  if (const std::string_view id = canonical_spdx_id(license); !id.empty()) {
    f.kind = LicenseForm::Id;
    f.text = std::string(id);
    return f;
  }
  // An expression: ids joined by AND / OR / WITH, with parentheses.
  std::string expr;
  bool any_operator = false;
  bool after_with = false;
  bool valid = true;
  std::size_t i = 0;
  while (i < license.size() && valid) {
    const char c = license[i];
    if (c == ' ' || c == '\t') {
      ++i;
      continue;
    }
    if (c == '(' || c == ')') {
      if (c == '(' && !expr.empty() && expr.back() != ' ' && expr.back() != '(') expr += ' ';
      expr += c;
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < license.size() && license[j] != ' ' && license[j] != '\t' && license[j] != '(' && license[j] != ')') ++j;
    const std::string_view tok = license.substr(i, j - i);
    i = j;
    std::string word;
    if (tok == "AND" || tok == "OR" || tok == "WITH") {
      any_operator = true;
      after_with = tok == "WITH";
      word = std::string(tok);
    } else if (after_with) {
      word = std::string(tok);  // an exception id
      after_with = false;
    } else if (tok.substr(0, 11) == "LicenseRef-") {
      word = std::string(tok);
    } else if (const std::string_view id = canonical_spdx_id(tok); !id.empty()) {
      word = std::string(id);
    } else {
      valid = false;
    }
    if (!expr.empty() && expr.back() != '(') expr += ' ';
    expr += word;
  }
  if (valid && any_operator) {
    f.kind = LicenseForm::Expression;
    f.text = std::move(expr);
    return f;
  }
  f.kind = LicenseForm::Name;
  f.text = std::string(license);
  return f;
}

void write_cyclonedx(const ImageInventory& inv, std::ostream& out, const SbomOptions& opts) {
  JsonWriter w(out);
  const std::vector<std::string> refs = package_refs(inv);
  w.begin_object();
  w.field("$schema", "http://cyclonedx.org/schema/bom-1.6.schema.json");
  w.field("bomFormat", "CycloneDX");
  w.field("specVersion", "1.6");
  w.field("serialNumber", "urn:uuid:" + uuid_of(opts));
  w.field("version", 1);
  w.key("metadata").begin_object();
  w.field("timestamp", timestamp_of(opts));
  w.key("tools").begin_object().key("components").begin_array();
  w.begin_object().field("type", "application").field("name", "kguard").field("version", kVersion).end_object();
  w.end_array().end_object();
  // The subject: the image, named by its manifest digest.
  w.key("component").begin_object();
  w.field("type", "container");
  w.field("bom-ref", "image");
  w.field("name", image_name(inv));
  if (!inv.manifest_digest.empty()) {
    w.field("version", inv.manifest_digest);
    if (inv.manifest_digest.substr(0, 7) == "sha256:") {
      w.key("hashes").begin_array();
      w.begin_object().field("alg", "SHA-256").field("content", inv.manifest_digest.substr(7)).end_object();
      w.end_array();
    }
  }
  if (const std::string purl = image_purl(inv); !purl.empty()) w.field("purl", purl);
  w.key("properties").begin_array();
  property(w, "kguard:image:reference", inv.reference);
  property(w, "kguard:image:config-digest", inv.config_digest);
  property(w, "kguard:image:platform", inv.platform);
  for (std::size_t i = 0; i < inv.layers.size(); ++i) {
    property(w, "kguard:image:layer:" + std::to_string(i) + ":digest", inv.layers[i].digest);
    property(w, "kguard:image:layer:" + std::to_string(i) + ":diff-id", inv.layers[i].diff_id);
  }
  w.end_array();
  w.end_object();  // component
  w.end_object();  // metadata

  w.key("components").begin_array();
  const bool has_os = !inv.os.id.empty();
  if (has_os) {
    w.begin_object();
    w.field("type", "operating-system");
    w.field("bom-ref", "os");
    w.field("name", inv.os.id);
    if (!inv.os.version_id.empty()) w.field("version", inv.os.version_id);
    if (!inv.os.pretty_name.empty()) w.field("description", inv.os.pretty_name);
    w.key("properties").begin_array();
    property(w, "kguard:os:codename", inv.os.version_codename);
    if (inv.os.distroless) property(w, "kguard:os:distroless", "true");
    w.end_array();
    w.end_object();
  }
  for (std::size_t i = 0; i < inv.packages.size(); ++i) {
    const Package& p = inv.packages[i];
    w.begin_object();
    w.field("type", "library");
    w.field("bom-ref", refs[i]);
    const auto [group, name] = group_and_name(p);
    if (!group.empty()) w.field("group", group);
    w.field("name", name);
    if (!p.version.empty()) w.field("version", p.version);
    const LicenseForm lic = classify_license(p.license);
    if (lic.kind != LicenseForm::None) {
      w.key("licenses").begin_array().begin_object();
      if (lic.kind == LicenseForm::Expression) {
        w.field("expression", lic.text);
      } else {
        w.key("license").begin_object().field(lic.kind == LicenseForm::Id ? "id" : "name", lic.text).end_object();
      }
      w.end_object().end_array();
    }
    if (!p.purl.empty()) w.field("purl", p.purl);
    if (!p.evidence.empty()) {
      w.key("evidence").begin_object().key("occurrences").begin_array();
      for (const PackageEvidence& e : p.evidence) w.begin_object().field("location", e.path).end_object();
      w.end_array().end_object();
    }
    w.key("properties").begin_array();
    property(w, "kguard:package:type", to_string(p.type));
    property(w, "kguard:package:arch", p.arch);
    property(w, "kguard:package:source-name", p.source_name);
    property(w, "kguard:package:source-version", p.source_version);
    property(w, "kguard:package:checksum", p.checksum);
    for (const PackageEvidence& e : p.evidence) {
      property(w, "kguard:package:path", e.path);
      property(w, "kguard:package:layer", e.layer_digest);
    }
    w.end_array();
    w.end_object();
  }
  w.end_array();

  w.key("dependencies").begin_array();
  w.begin_object().field("ref", "image").key("dependsOn").begin_array();
  if (has_os) w.value("os");
  for (const std::string& r : refs) w.value(r);
  w.end_array().end_object();
  w.end_array();
  if (opts.vulnerabilities) write_cyclonedx_vulnerabilities(w, *opts.vulnerabilities, refs);
  w.end_object();
  out << '\n';
}

namespace {

std::string spdx_id_part(std::string_view s) {
  std::string out;
  for (const char c : s) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
    out += ok ? c : '-';
  }
  return out;
}

}  // namespace

void write_spdx(const ImageInventory& inv, std::ostream& out, const SbomOptions& opts) {
  JsonWriter w(out);
  const std::string name = image_name(inv);
  // Licenses that are not SPDX expressions become LicenseRef- entries.
  std::vector<std::pair<std::string, std::string>> extracted;  // id, text
  auto declared = [&](const std::string& license) -> std::string {
    const LicenseForm lic = classify_license(license);
    if (lic.kind == LicenseForm::None) return "NOASSERTION";
    if (lic.kind != LicenseForm::Name) return lic.text;
    // Two texts may sanitise to the same id ("GPL 2", "GPL-2"): number the later ones.
    const std::string base = "LicenseRef-" + spdx_id_part(lic.text);
    std::string id = base;
    for (int n = 2;; ++n) {
      const auto it = std::find_if(extracted.begin(), extracted.end(), [&](const auto& e) { return e.first == id; });
      if (it == extracted.end()) break;
      if (it->second == lic.text) return id;
      id = base + "-" + std::to_string(n);
    }
    extracted.emplace_back(id, lic.text);
    return id;
  };
  w.begin_object();
  w.field("spdxVersion", "SPDX-2.3");
  w.field("dataLicense", "CC0-1.0");
  w.field("SPDXID", "SPDXRef-DOCUMENT");
  w.field("name", name);
  w.field("documentNamespace", "https://spdx.org/spdxdocs/kguard-image-" + uuid_of(opts));
  w.key("creationInfo").begin_object();
  w.field("created", timestamp_of(opts));
  w.key("creators").begin_array().value("Tool: kguard-" + std::string(kVersion)).end_array();
  w.end_object();

  std::vector<std::string> ids;
  w.key("packages").begin_array();
  w.begin_object();
  w.field("SPDXID", "SPDXRef-Image");
  w.field("name", name);
  if (!inv.manifest_digest.empty()) w.field("versionInfo", inv.manifest_digest);
  w.field("downloadLocation", "NOASSERTION");
  w.field("filesAnalyzed", false);
  w.field("primaryPackagePurpose", "CONTAINER");
  if (inv.manifest_digest.substr(0, 7) == "sha256:") {
    w.key("checksums").begin_array();
    w.begin_object().field("algorithm", "SHA256").field("checksumValue", inv.manifest_digest.substr(7)).end_object();
    w.end_array();
  }
  w.field("licenseConcluded", "NOASSERTION");
  w.field("licenseDeclared", "NOASSERTION");
  w.field("copyrightText", "NOASSERTION");
  if (const std::string purl = image_purl(inv); !purl.empty()) {
    w.key("externalRefs").begin_array().begin_object();
    w.field("referenceCategory", "PACKAGE-MANAGER").field("referenceType", "purl").field("referenceLocator", purl);
    w.end_object().end_array();
  }
  if (!inv.layers.empty()) {
    std::string layers = "layers:";
    for (const LayerInfo& l : inv.layers) layers += " " + l.digest;
    w.field("comment", layers);
  }
  w.end_object();
  if (!inv.os.id.empty()) {
    ids.emplace_back("SPDXRef-OperatingSystem");
    w.begin_object();
    w.field("SPDXID", ids.back());
    w.field("name", inv.os.id);
    if (!inv.os.version_id.empty()) w.field("versionInfo", inv.os.version_id);
    w.field("downloadLocation", "NOASSERTION");
    w.field("filesAnalyzed", false);
    w.field("primaryPackagePurpose", "OPERATING_SYSTEM");
    if (!inv.os.pretty_name.empty()) w.field("description", inv.os.pretty_name);
    w.field("licenseConcluded", "NOASSERTION");
    w.field("licenseDeclared", "NOASSERTION");
    w.field("copyrightText", "NOASSERTION");
    w.end_object();
  }
  for (std::size_t i = 0; i < inv.packages.size(); ++i) {
    const Package& p = inv.packages[i];
    ids.push_back("SPDXRef-Package-" + std::string(to_string(p.type)) + "-" + spdx_id_part(p.name) + "-" +
                  std::to_string(i + 1));
    w.begin_object();
    w.field("SPDXID", ids.back());
    w.field("name", p.name);
    if (!p.version.empty()) w.field("versionInfo", p.version);
    w.field("downloadLocation", "NOASSERTION");
    w.field("filesAnalyzed", false);
    w.field("primaryPackagePurpose", "LIBRARY");
    w.field("licenseConcluded", "NOASSERTION");
    w.field("licenseDeclared", declared(p.license));
    w.field("copyrightText", "NOASSERTION");
    if (const auto sum = spdx_checksum(p.checksum)) {
      w.key("checksums").begin_array();
      w.begin_object().field("algorithm", sum->first).field("checksumValue", sum->second).end_object();
      w.end_array();
    }
    if (!p.evidence.empty()) {
      std::string info = "acquired package info from";
      for (const PackageEvidence& e : p.evidence) {
        info += " " + e.path;
        if (!e.layer_digest.empty()) info += " (layer " + e.layer_digest + ")";
      }
      w.field("sourceInfo", info);
    }
    if (!p.purl.empty()) {
      w.key("externalRefs").begin_array().begin_object();
      w.field("referenceCategory", "PACKAGE-MANAGER").field("referenceType", "purl").field("referenceLocator", p.purl);
      w.end_object().end_array();
    }
    w.end_object();
  }
  w.end_array();

  if (!extracted.empty()) {
    w.key("hasExtractedLicensingInfos").begin_array();
    for (const auto& [id, text] : extracted)
      w.begin_object().field("licenseId", id).field("name", text).field("extractedText", text).end_object();
    w.end_array();
  }

  w.key("relationships").begin_array();
  w.begin_object()
      .field("spdxElementId", "SPDXRef-DOCUMENT")
      .field("relationshipType", "DESCRIBES")
      .field("relatedSpdxElement", "SPDXRef-Image")
      .end_object();
  for (const std::string& id : ids) {
    w.begin_object()
        .field("spdxElementId", "SPDXRef-Image")
        .field("relationshipType", "CONTAINS")
        .field("relatedSpdxElement", id)
        .end_object();
  }
  w.end_array();
  w.end_object();
  out << '\n';
}

std::span<const SbomWriter> sbom_writers() {
  static const SbomWriter kWriters[] = {
      {"cyclonedx", "CycloneDX 1.6 JSON SBOM of the image", write_cyclonedx},
      {"spdx", "SPDX 2.3 JSON SBOM of the image", write_spdx},
  };
  return kWriters;
}

const SbomWriter* find_sbom_writer(std::string_view format) {
  for (const SbomWriter& w : sbom_writers())
    if (w.format == format) return &w;
  return nullptr;
}

}  // namespace kg

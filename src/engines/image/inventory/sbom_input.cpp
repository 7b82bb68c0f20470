#include "engines/image/inventory/sbom_input.hpp"

#include <map>

#include "core/base64.hpp"
#include "core/document.hpp"
#include "engines/image/inventory/os_packages.hpp"

namespace kg::image {
namespace {

std::string percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out += static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::optional<PackageType> type_of(std::string_view t) {
  if (t == "deb") return PackageType::Deb;
  if (t == "apk") return PackageType::Apk;
  if (t == "rpm") return PackageType::Rpm;
  if (t == "pypi") return PackageType::Python;
  if (t == "npm") return PackageType::Npm;
  if (t == "golang") return PackageType::Golang;
  if (t == "maven") return PackageType::Maven;
  if (t == "cargo") return PackageType::Cargo;
  return std::nullopt;
}

}  // namespace

std::string Purl::qualifier(std::string_view key) const {
  for (const auto& [k, v] : qualifiers)
    if (k == key) return v;
  return {};
}

std::optional<Purl> parse_purl(std::string_view s) {
  if (s.size() < 4 || to_lower(s.substr(0, 4)) != "pkg:") return std::nullopt;
  s.remove_prefix(4);
  while (!s.empty() && s.front() == '/') s.remove_prefix(1);
  Purl p;
  if (const std::size_t hash = s.find('#'); hash != std::string_view::npos) {
    p.subpath = percent_decode(s.substr(hash + 1));
    s = s.substr(0, hash);
  }
  if (const std::size_t q = s.find('?'); q != std::string_view::npos) {
    std::string_view qs = s.substr(q + 1);
    s = s.substr(0, q);
    while (!qs.empty()) {
      const std::size_t amp = qs.find('&');
      const std::string_view kv = qs.substr(0, amp);
      qs = amp == std::string_view::npos ? std::string_view{} : qs.substr(amp + 1);
      const std::size_t eq = kv.find('=');
      if (eq == std::string_view::npos || eq == 0) continue;
      p.qualifiers.emplace_back(to_lower(kv.substr(0, eq)), percent_decode(kv.substr(eq + 1)));
    }
  }
  const std::size_t slash = s.find('/');
  if (slash == std::string_view::npos || slash == 0) return std::nullopt;
  p.type = to_lower(s.substr(0, slash));
  std::string_view rest = s.substr(slash + 1);
  while (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  const std::size_t last = rest.rfind('/');
  if (const std::size_t at = rest.rfind('@'); at != std::string_view::npos && (last == std::string_view::npos || at > last)) {
    p.version = percent_decode(rest.substr(at + 1));
    rest = rest.substr(0, at);
  }
  const std::size_t name_at = rest.rfind('/');
  p.name = percent_decode(name_at == std::string_view::npos ? rest : rest.substr(name_at + 1));
  if (name_at != std::string_view::npos) {
    std::string_view ns = rest.substr(0, name_at);
    while (!ns.empty()) {
      const std::size_t sl = ns.find('/');
      if (!p.ns.empty()) p.ns += '/';
      p.ns += percent_decode(ns.substr(0, sl));
      ns = sl == std::string_view::npos ? std::string_view{} : ns.substr(sl + 1);
    }
  }
  if (p.name.empty()) return std::nullopt;
  return p;
}

std::optional<Package> package_from_purl(std::string_view text) {
  const std::optional<Purl> purl = parse_purl(text);
  if (!purl) return std::nullopt;
  const std::optional<PackageType> type = type_of(purl->type);
  if (!type) return std::nullopt;
  Package p;
  p.type = *type;
  p.purl = std::string(text);
  p.version = purl->version;
  p.arch = purl->qualifier("arch");
  switch (*type) {
    case PackageType::Npm:
    case PackageType::Golang: p.name = purl->ns.empty() ? purl->name : purl->ns + "/" + purl->name; break;
    case PackageType::Maven: p.name = purl->ns.empty() ? purl->name : purl->ns + ":" + purl->name; break;
    default: p.name = purl->name; break;
  }
  if (*type == PackageType::Golang && p.name == "stdlib" && !p.version.empty()) p.version = "go" + p.version;
  const std::string upstream = purl->qualifier("upstream");
  if (*type == PackageType::Rpm) {
    if (const std::string epoch = purl->qualifier("epoch"); !epoch.empty()) p.version = epoch + ":" + p.version;
    set_rpm_source(p, upstream);
  } else if (!upstream.empty()) {
    // deb and apk: "source" or "source@version" (kguard's and Syft's form).
    const std::size_t at = upstream.find('@');
    p.source_name = upstream.substr(0, at);
    if (at != std::string::npos) p.source_version = upstream.substr(at + 1);
    if (p.source_name == p.name) p.source_name.clear();
  }
  return p;
}

namespace {

std::string license_of_cyclonedx(const Node* comp) {
  std::string out;
  for (const Node* l : items(get(comp, "licenses"))) {
    std::string one(str(get(l, "expression")));
    if (one.empty()) {
      const Node* lic = get(l, "license");
      one = std::string(str(get(lic, "id")));
      if (one.empty()) one = std::string(str(get(lic, "name")));
    }
    if (one.empty()) continue;
    if (!out.empty()) out += " AND ";
    out += one;
  }
  return out;
}

void read_cyclonedx(const Node* root, ImageInventory& inv, std::vector<CatalogError>& errors, std::string_view path) {
  const Node* subject = get(get(root, "metadata"), "component");
  inv.reference = std::string(str(get(subject, "name")));
  const std::string_view version = str(get(subject, "version"));
  if (starts_with(version, "sha256:")) inv.manifest_digest = std::string(version);
  for (const Node* prop : items(get(subject, "properties"))) {
    const std::string_view name = str(get(prop, "name"));
    const std::string value(str(get(prop, "value")));
    if (name == "kguard:image:config-digest") inv.config_digest = value;
    else if (name == "kguard:image:platform") inv.platform = value;
    else if (starts_with(name, "kguard:image:layer:") && ends_with(name, ":digest")) inv.layers.push_back({value, "", "", 0, ""});
    else if (starts_with(name, "kguard:image:layer:") && ends_with(name, ":diff-id") && !inv.layers.empty())
      inv.layers.back().diff_id = value;
  }
  for (const Node* comp : items(get(root, "components"))) {
    const std::string_view type = str(get(comp, "type"));
    if (type == "operating-system") {
      inv.os.id = to_lower(str(get(comp, "name")));
      inv.os.version_id = std::string(str(get(comp, "version")));
      inv.os.pretty_name = std::string(str(get(comp, "description")));
      for (const Node* prop : items(get(comp, "properties"))) {
        if (str(get(prop, "name")) == "kguard:os:codename") inv.os.version_codename = std::string(str(get(prop, "value")));
        if (str(get(prop, "name")) == "kguard:os:distroless") inv.os.distroless = str(get(prop, "value")) == "true";
      }
      continue;
    }
    const std::string_view purl = str(get(comp, "purl"));
    if (purl.empty()) continue;  // files, services, ... and components no ecosystem names
    std::optional<Package> p = package_from_purl(purl);
    if (!p) {
      if (!parse_purl(purl))
        errors.push_back({std::string(path), comp->line, "component purl '" + std::string(purl) + "' is not a package URL"});
      continue;
    }
    // The component's own name and version as the ecosystem writes them (a
    // purl normalises some: pypi names are lower-cased).
    const std::string_view group = str(get(comp, "group"));
    if (const std::string_view name = str(get(comp, "name")); !name.empty()) {
      if (!group.empty() && p->type == PackageType::Maven) p->name = std::string(group) + ":" + std::string(name);
      else if (!group.empty() && p->type == PackageType::Npm) p->name = std::string(group) + "/" + std::string(name);
      else if (group.empty()) p->name = std::string(name);
    }
    if (const std::string_view v = str(get(comp, "version")); !v.empty()) p->version = std::string(v);
    p->license = license_of_cyclonedx(comp);
    std::string pending_path;
    for (const Node* prop : items(get(comp, "properties"))) {
      const std::string_view name = str(get(prop, "name"));
      const std::string value(str(get(prop, "value")));
      if (name == "kguard:package:path") {
        p->evidence.push_back({value, ""});
      } else if (name == "kguard:package:layer" && !p->evidence.empty()) {
        p->evidence.back().layer_digest = value;
      } else if (name == "kguard:package:checksum") {
        p->checksum = value;
      } else if (name == "kguard:package:source-name") {
        p->source_name = value;
      } else if (name == "kguard:package:source-version") {
        p->source_version = value;
      }
    }
    if (p->evidence.empty()) {
      for (const Node* occ : items(get(get(comp, "evidence"), "occurrences")))
        if (const std::string_view loc = str(get(occ, "location")); !loc.empty()) p->evidence.push_back({std::string(loc), ""});
    }
    inv.packages.push_back(std::move(*p));
  }
}

// An SPDX package checksum back in the package's own spelling (report/sbom.cpp's spdx_checksum
// in reverse): apk's "Q1" + base64 SHA-1, Go's "h1:" + base64 SHA-256, else "sha256:HEX" (rpm).
std::string package_checksum(PackageType type, std::string_view algorithm, std::string_view hex) {
  if (hex.size() % 2 != 0 || hex.find_first_not_of("0123456789abcdefABCDEF") != std::string_view::npos) return {};
  std::string bytes;
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    auto nibble = [](char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; };
    bytes += static_cast<char>(nibble(hex[i]) * 16 + nibble(hex[i + 1]));
  }
  if (algorithm == "SHA1" && bytes.size() == 20 && type == PackageType::Apk) return "Q1" + base64_encode(bytes);
  if (algorithm == "SHA256" && bytes.size() == 32) {
    if (type == PackageType::Golang) return "h1:" + base64_encode(bytes);
    return "sha256:" + to_lower(hex);
  }
  return {};
}

void read_spdx(const Node* root, ImageInventory& inv, std::vector<CatalogError>& errors, std::string_view path) {
  std::map<std::string, std::string, std::less<>> extracted;
  for (const Node* e : items(get(root, "hasExtractedLicensingInfos"))) {
    std::string text(str(get(e, "name")));
    if (text.empty()) text = std::string(str(get(e, "extractedText")));
    extracted[std::string(str(get(e, "licenseId")))] = text;
  }
  std::string subject;
  for (const Node* r : items(get(root, "relationships"))) {
    if (str(get(r, "relationshipType")) == "DESCRIBES" && str(get(r, "spdxElementId")) == "SPDXRef-DOCUMENT")
      subject = std::string(str(get(r, "relatedSpdxElement")));
  }
  if (subject.empty())
    for (const Node* d : items(get(root, "documentDescribes"))) subject = std::string(str(d));
  inv.reference = std::string(str(get(root, "name")));
  for (const Node* pkg : items(get(root, "packages"))) {
    const std::string_view id = str(get(pkg, "SPDXID"));
    const std::string_view purpose = str(get(pkg, "primaryPackagePurpose"));
    if (id == subject) {
      if (const std::string_view v = str(get(pkg, "versionInfo")); starts_with(v, "sha256:")) inv.manifest_digest = std::string(v);
      continue;
    }
    if (purpose == "OPERATING_SYSTEM") {
      inv.os.id = to_lower(str(get(pkg, "name")));
      inv.os.version_id = std::string(str(get(pkg, "versionInfo")));
      inv.os.pretty_name = std::string(str(get(pkg, "description")));
      continue;
    }
    std::string_view purl;
    for (const Node* ref : items(get(pkg, "externalRefs")))
      if (str(get(ref, "referenceType")) == "purl") purl = str(get(ref, "referenceLocator"));
    if (purl.empty()) continue;
    std::optional<Package> p = package_from_purl(purl);
    if (!p) {
      if (!parse_purl(purl))
        errors.push_back({std::string(path), pkg->line, "package purl '" + std::string(purl) + "' is not a package URL"});
      continue;
    }
    if (const std::string_view name = str(get(pkg, "name")); !name.empty()) p->name = std::string(name);
    if (const std::string_view v = str(get(pkg, "versionInfo")); !v.empty()) p->version = std::string(v);
    std::string lic(str(get(pkg, "licenseDeclared")));
    if (lic == "NOASSERTION" || lic == "NONE") lic.clear();
    if (const auto it = extracted.find(lic); it != extracted.end()) lic = it->second;
    p->license = lic;
    for (const Node* sum : items(get(pkg, "checksums"))) {
      std::string c = package_checksum(p->type, str(get(sum, "algorithm")), str(get(sum, "checksumValue")));
      if (!c.empty()) {
        p->checksum = std::move(c);
        break;
      }
    }
    // kguard's sourceInfo: "acquired package info from PATH (layer DIGEST) ...".
    std::string_view info = str(get(pkg, "sourceInfo"));
    if (starts_with(info, "acquired package info from ")) {
      info.remove_prefix(27);
      while (!info.empty()) {
        const std::size_t sp = info.find(' ');
        std::string where(info.substr(0, sp));
        info = sp == std::string_view::npos ? std::string_view{} : info.substr(sp + 1);
        std::string layer;
        if (starts_with(info, "(layer ")) {
          const std::size_t close = info.find(')');
          layer = std::string(info.substr(7, close == std::string_view::npos ? std::string_view::npos : close - 7));
          info = close == std::string_view::npos ? std::string_view{} : trim(info.substr(close + 1));
        }
        p->evidence.push_back({std::move(where), std::move(layer)});
      }
    }
    inv.packages.push_back(std::move(*p));
  }
}

}  // namespace

bool read_sbom(std::string_view path, std::string_view text, ImageInventory& inv, std::vector<CatalogError>& errors) {
  SourceFile f;
  f.path = std::string(path);
  f.content = std::string(text);
  LoadLimits limits;
  limits.max_errors_per_file = 5;
  f.max_errors = limits.max_errors_per_file;
  load_json(f, f.arena, false, limits, [&](const Document& d) { f.documents.push_back(d); });
  for (const InputError& e : f.errors) errors.push_back({e.file, e.line, e.message});
  if (f.documents.empty() || !f.documents.front().root || !f.documents.front().root->is_map()) {
    if (errors.empty()) errors.push_back({std::string(path), 1, "not a JSON object"});
    return false;
  }
  const Node* root = f.documents.front().root;
  if (str(get(root, "bomFormat")) == "CycloneDX") {
    read_cyclonedx(root, inv, errors, path);
    return true;
  }
  if (starts_with(str(get(root, "spdxVersion")), "SPDX-2.")) {
    read_spdx(root, inv, errors, path);
    return true;
  }
  errors.push_back({std::string(path), root->line, "neither a CycloneDX (bomFormat) nor an SPDX 2.x (spdxVersion) JSON document"});
  return false;
}

}  // namespace kg::image

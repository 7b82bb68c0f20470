// Python core metadata and npm package.json.
#include <utility>

#include "core/document.hpp"
#include "engines/image/inventory/lang_packages.hpp"

namespace kg::image {
namespace {

// Trove license classifiers with an SPDX id; others keep their own name.
std::string classifier_license(std::string_view c) {
  static constexpr std::pair<std::string_view, std::string_view> kMap[] = {
      {"MIT License", "MIT"},
      {"Apache Software License", "Apache-2.0"},
      {"BSD License", "BSD-3-Clause"},
      {"ISC License (ISCL)", "ISC"},
      {"Mozilla Public License 2.0 (MPL 2.0)", "MPL-2.0"},
      {"Python Software Foundation License", "PSF-2.0"},
      {"GNU General Public License v2 (GPLv2)", "GPL-2.0-only"},
      {"GNU General Public License v2 or later (GPLv2+)", "GPL-2.0-or-later"},
      {"GNU General Public License v3 (GPLv3)", "GPL-3.0-only"},
      {"GNU General Public License v3 or later (GPLv3+)", "GPL-3.0-or-later"},
      {"GNU Lesser General Public License v2 (LGPLv2)", "LGPL-2.0-only"},
      {"GNU Lesser General Public License v2 or later (LGPLv2+)", "LGPL-2.0-or-later"},
      {"GNU Lesser General Public License v3 (LGPLv3)", "LGPL-3.0-only"},
      {"GNU Lesser General Public License v3 or later (LGPLv3+)", "LGPL-3.0-or-later"},
      {"The Unlicense (Unlicense)", "Unlicense"},
  };
  const std::size_t last = c.rfind("::");
  const std::string_view tail = trim(last == std::string_view::npos ? c : c.substr(last + 2));
  for (const auto& [k, v] : kMap)
    if (tail == k) return std::string(v);
  return std::string(tail);
}

}  // namespace

ParseResult parse_python_metadata(std::string_view path, std::string_view content) {
  ParseResult r;
  std::string name, version, license, expression;
  std::vector<std::string> classifiers;
  std::string last_key;
  bool license_multiline = false;
  LineReader lines(content);
  std::string_view line;
  while (lines.next(line)) {
    const std::uint32_t line_no = lines.number();
    if (line.empty()) break;  // the body (description) follows the headers
    if (line.front() == ' ' || line.front() == '\t') {  // continuation
      if (last_key == "license") license_multiline = true;
      continue;
    }
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      if (r.errors.size() < 20)
        r.errors.push_back({std::string(path), line_no, "expected 'Header: value'"});
      continue;
    }
    const std::string key = to_lower(line.substr(0, colon));
    last_key = key;
    const std::string_view value = trim(line.substr(colon + 1));
    if (key == "name") name = std::string(value);
    else if (key == "version") version = std::string(value);
    else if (key == "license") license = std::string(value);
    else if (key == "license-expression") expression = std::string(value);
    else if (key == "classifier" && starts_with(value, "License ::")) classifiers.emplace_back(value);
  }
  if (name.empty() || version.empty()) {
    r.errors.push_back({std::string(path), 1, "no Name or Version header"});
    return r;
  }
  Package p;
  p.type = PackageType::Python;
  p.name = std::move(name);
  p.version = std::move(version);
  // PEP 639's expression first; then a short License (it is often a whole
  // license text); then the classifiers.
  if (!expression.empty()) {
    p.license = std::move(expression);
  } else if (!license.empty() && license != "UNKNOWN" && license.size() <= 80 && !license_multiline) {
    p.license = std::move(license);
  } else {
    for (const std::string& c : classifiers) {
      const std::string l = classifier_license(c);
      if (l.empty() || l == "OSI Approved") continue;
      if (!p.license.empty()) p.license += " AND ";
      p.license += l;
    }
  }
  r.packages.push_back(std::move(p));
  return r;
}

ParseResult parse_npm_package_json(std::string_view path, std::string_view content) {
  ParseResult r;
  SourceFile f;
  f.path = std::string(path);
  f.content = std::string(content);
  LoadLimits limits;
  limits.max_depth = 64;
  limits.max_errors_per_file = 5;
  f.max_errors = limits.max_errors_per_file;
  load_json(f, f.arena, false, limits, [&](const Document& d) { f.documents.push_back(d); });
  for (const InputError& e : f.errors) r.errors.push_back({e.file, e.line, e.message});
  if (f.documents.empty() || !f.documents.front().root || !f.documents.front().root->is_map()) {
    if (r.errors.empty()) r.errors.push_back({std::string(path), 1, "package.json is not a JSON object"});
    return r;
  }
  const Node* root = f.documents.front().root;
  const std::string_view name = str(get(root, "name"));
  const std::string_view version = str(get(root, "version"));
  if (name.empty() || version.empty()) {
    r.errors.push_back({std::string(path), root->line, "package.json without name or version"});
    return r;
  }
  Package p;
  p.type = PackageType::Npm;
  p.name = std::string(name);
  p.version = std::string(version);
  // "license": "MIT" | {"type": "MIT"}; the old "licenses": [{"type": ...}].
  if (const Node* lic = get(root, "license")) {
    p.license = std::string(lic->is_map() ? str(get(lic, "type")) : str(lic));
  } else {
    for (const Node* l : items(get(root, "licenses"))) {
      const std::string_view t = l && l->is_map() ? str(get(l, "type")) : str(l);
      if (t.empty()) continue;
      if (!p.license.empty()) p.license += " OR ";
      p.license += t;
    }
  }
  r.packages.push_back(std::move(p));
  return r;
}

}  // namespace kg::image

// dpkg status (and distroless status.d) and DEP-5 copyright files.
#include <string>
#include <vector>

#include "engines/image/inventory/os_packages.hpp"

namespace kg::image {
namespace {

struct Field {
  std::string_view key;
  std::string_view value;  // first line only; continuation lines are not needed
};

// Calls `stanza(fields, first_line)` for each blank-line separated stanza.
template <typename F>
void for_each_stanza(std::string_view path, std::string_view content, std::vector<CatalogError>& errors,
                     F&& stanza) {
  std::vector<Field> fields;
  std::uint32_t first = 0;
  auto flush = [&] {
    if (!fields.empty()) stanza(fields, first);
    fields.clear();
  };
  LineReader lines(content);
  std::string_view line;
  while (lines.next(line)) {
    const std::uint32_t line_no = lines.number();
    if (trim(line).empty()) {
      flush();
      continue;
    }
    if (line.front() == ' ' || line.front() == '\t') {
      if (fields.empty() && errors.size() < 100)
        errors.push_back({std::string(path), line_no, "continuation line outside a field"});
      continue;
    }
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      if (errors.size() < 100) {
        errors.push_back({std::string(path), line_no, "expected 'Field: value', got '" +
                                                           std::string(line.substr(0, 60)) + "'"});
      }
      continue;
    }
    if (fields.empty()) first = line_no;
    fields.push_back({line.substr(0, colon), trim(line.substr(colon + 1))});
  }
  flush();
}

std::string_view field(const std::vector<Field>& fields, std::string_view key) {
  for (const Field& f : fields) {
    if (f.key.size() != key.size()) continue;
    bool eq = true;
    for (std::size_t i = 0; i < key.size() && eq; ++i)
      eq = (f.key[i] | 0x20) == (key[i] | 0x20);  // dpkg field names are case-insensitive
    if (eq) return f.value;
  }
  return {};
}

}  // namespace

ParseResult parse_dpkg_status(std::string_view path, std::string_view content) {
  ParseResult r;
  for_each_stanza(path, content, r.errors, [&](const std::vector<Field>& fields, std::uint32_t line) {
    const std::string_view name = field(fields, "Package");
    const std::string_view version = field(fields, "Version");
    if (name.empty()) {
      r.errors.push_back({std::string(path), line, "stanza without a Package field"});
      return;
    }
    const std::string_view status = field(fields, "Status");
    if (!status.empty()) {
      // "want flag state": only the state says whether the files are there.
      const std::size_t sp = status.rfind(' ');
      const std::string_view state = sp == std::string_view::npos ? status : status.substr(sp + 1);
      if (state == "not-installed" || state == "config-files") return;
    }
    if (version.empty()) {
      r.errors.push_back({std::string(path), line, "package " + std::string(name) + " has no Version field"});
      return;
    }
    Package p;
    p.type = PackageType::Deb;
    p.name = std::string(name);
    p.version = std::string(version);
    p.arch = std::string(field(fields, "Architecture"));
    if (const std::string_view src = field(fields, "Source"); !src.empty()) {
      // "Source: name (version)" when the source version differs from the binary's.
      const std::size_t paren = src.find('(');
      p.source_name = std::string(trim(src.substr(0, paren)));
      if (paren != std::string_view::npos) {
        const std::size_t close = src.find(')', paren);
        p.source_version = std::string(trim(src.substr(paren + 1, close == std::string_view::npos
                                                                      ? std::string_view::npos
                                                                      : close - paren - 1)));
      }
      if (p.source_name == p.name) p.source_name.clear();  // the model's convention
    }
    r.packages.push_back(std::move(p));
  });
  return r;
}

std::string dpkg_copyright_licenses(std::string_view content) {
  // DEP-5 starts with a Format: field naming the spec.
  if (!starts_with(content, "Format:") && !starts_with(content, "Format-Specification:")) return {};
  std::vector<std::string> names;
  std::size_t pos = 0;
  while (pos < content.size()) {
    std::size_t nl = content.find('\n', pos);
    if (nl == std::string_view::npos) nl = content.size();
    const std::string_view line = content.substr(pos, nl - pos);
    pos = nl + 1;
    if (!starts_with(line, "License:")) continue;
    const std::string_view value = trim(line.substr(8));
    if (value.empty() || value.size() > 100) continue;
    std::string v(value);
    bool dup = false;
    for (const std::string& n : names) dup = dup || n == v;
    if (!dup) names.push_back(std::move(v));
  }
  // One expression of them all: DEP-5's "or"/"and" written as SPDX's OR/AND, and a compound
  // value parenthesised when joined to others, so "Artistic or GPL-1+" beside Apache-2.0 keeps
  // its meaning (AND binds tighter than OR: unparenthesised it would read (Apache-2.0 AND
  // Artistic) OR GPL-1+).
  std::string out;
  for (const std::string& n : names) {
    std::string v;
    bool compound = false;
    std::string_view rest = n;
    while (!rest.empty()) {
      const std::size_t sp = rest.find_first_of(" \t");
      const std::string_view word = rest.substr(0, sp);
      rest = sp == std::string_view::npos ? std::string_view{} : rest.substr(sp + 1);
      if (word.empty()) continue;
      if (!v.empty()) {
        v += ' ';
        compound = true;
      }
      const std::string lower = to_lower(word);
      v += lower == "or" ? std::string("OR") : lower == "and" ? std::string("AND") : std::string(word);
    }
    if (!out.empty()) out += " AND ";
    out += compound && names.size() > 1 ? "(" + v + ")" : v;
  }
  return out;
}

}  // namespace kg::image

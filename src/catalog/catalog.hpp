// The rule catalog: rule.yaml files (embedded at build time, or loaded from
// --rules DIR) parsed, validated and bound to compiled check templates.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "catalog/rule.hpp"

namespace kg {

class RegexCache;

// A catalog file: its path (e.g. "security/pss-privileged/rule.yaml") and bytes.
struct CatalogFile {
  std::string_view path;
  std::string_view content;
};

// The files compiled into the binary from rules/ (generated at build time).
std::span<const CatalogFile> embedded_catalog_files();

class Catalog {
 public:
  // Registers kguard's rule categories (catalog.cpp), in report order.
  Catalog();

  // The categories rules may name in rule.yaml `category`.
  const CategoryRegistry& categories() const { return categories_; }

  // Loads every */rule.yaml among `files`. Invalid rules are refused with an
  // error naming the file, rule and field; the others still load.
  // `trusted`: files known to load (the embedded catalog, whose eager load
  // is tested): regular expressions are compiled at first use, not now.
  void add_files(std::span<const CatalogFile> files, std::vector<InputError>& errors, bool trusted = false);
  // Loads every file named rule.yaml under a directory (custom rules); a
  // directory without one is an error.
  void add_directory(const std::string& dir, std::vector<InputError>& errors);

  const std::vector<std::unique_ptr<Rule>>& rules() const { return rules_; }
  const Rule* find(std::string_view id) const;

  // The built-in catalog, loaded once per process.
  static const Catalog& builtin();

 private:
  bool add_rule(const std::string& path, std::string_view content, std::vector<InputError>& errors,
                RegexCache& regexes);

  CategoryRegistry categories_;
  std::vector<std::unique_ptr<SourceFile>> sources_;
  std::vector<std::unique_ptr<Rule>> rules_;
};

}  // namespace kg

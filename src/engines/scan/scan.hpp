// The scan engine: inputs (files, directories, stdin) → objects → rule
// evaluation → findings and tallies for the report.
//
// Documents are streamed: each is parsed, its objects evaluated, and its
// nodes freed before the next, so memory does not grow with the input.
// Findings own their strings for the same reason.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "catalog/catalog.hpp"
#include "core/object.hpp"

namespace kg {

struct ScanOptions {
  PssLevel pss_level = PssLevel::Restricted;
  int pss_minor = kLatestPssMinor;
  // Selectors (rule ids, categories, tags); empty selects every rule.
  std::vector<std::string> only;
  bool show_passed = false;
  unsigned jobs = 1;
  LoadLimits limits;
  PodSpecTable pod_specs;
};

enum class Result : std::uint8_t { Fail, Pass, Exempt };
std::string_view to_string(Result r);

struct Location {
  std::string file;
  std::uint32_t line = 0;
  std::uint32_t column = 0;
  std::string path;  // field path inside the object, e.g. spec.template.spec.hostNetwork
};

struct Finding {
  const Rule* rule = nullptr;
  Result result = Result::Fail;
  std::string kind;
  std::string ns;
  std::string name;
  std::string container;
  std::string message;
  Location location;
};

struct RuleTally {
  std::uint64_t evaluated = 0;  // resources the rule was applied to
  std::uint64_t passed = 0;
  std::uint64_t failed = 0;
  std::uint64_t exempted = 0;
};

struct ScanResult {
  std::vector<std::string> inputs;
  ScanOptions options;
  std::vector<const Rule*> rules;  // the rules in force, catalog order
  std::vector<RuleTally> tallies;  // parallel to rules
  std::map<std::string, std::uint64_t, std::less<>> kinds;  // resources by kind
  std::uint64_t objects = 0;
  std::uint64_t documents = 0;
  std::uint64_t bytes = 0;
  std::vector<Finding> findings;  // failures (and passes with show_passed), input order
  std::vector<InputError> errors;
};

// True when `rule` is in force under `options` (PSS level and version,
// --only selectors).
bool rule_selected(const Rule& rule, const ScanOptions& options);

class Scanner {
 public:
  Scanner(const Catalog& catalog, ScanOptions options);

  // Scans paths ("-" is stdin; directories are walked recursively for
  // .yaml, .yml and .json files, in sorted order).
  ScanResult scan(const std::vector<std::string>& paths) const;
  // Scans one in-memory buffer named `name` (tests, admission requests).
  ScanResult scan_buffer(const std::string& name, std::string content) const;

  // Rules that apply to `kind`, as indices into the selected rules.
  const std::vector<std::size_t>& rules_for(std::string_view kind) const;

 private:
  struct FileOutcome;
  void scan_file(SourceFile& file, FileOutcome& out) const;
  ScanResult merge(std::vector<std::string> inputs, std::vector<FileOutcome>& outcomes) const;
  bool kind_matches(const Rule& rule, std::string_view kind) const;

  const Catalog& catalog_;
  ScanOptions options_;
  std::vector<const Rule*> rules_;
  std::map<std::string, std::vector<std::size_t>, std::less<>> by_kind_;
  std::vector<std::size_t> any_kind_;
};

// Expands paths into the ordered list of files to read. Missing paths and
// unreadable directories become errors.
std::vector<std::string> expand_inputs(const std::vector<std::string>& paths,
                                       std::vector<InputError>& errors);

}  // namespace kg

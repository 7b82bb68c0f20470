// The one result type every engine returns and the report model is built
// from: findings, the rules in force with their tallies, the categories they
// belong to, errors and warnings, what was read, the cluster facts when a
// cluster was read, and the engine's own facts for the report header.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/cluster_info.hpp"
#include "core/document.hpp"
#include "model/category.hpp"
#include "model/east_west.hpp"
#include "model/finding.hpp"
#include "model/messages.hpp"
#include "model/package.hpp"
#include "model/scope.hpp"
#include "model/vulnerability.hpp"

namespace kg {

// A setting an engine judged with, shown by every renderer: the JSON report
// writes it under "policy" as key: value; the human formats write the
// value, translated, after EngineResult::policy.
struct ReportFact {
  std::string key;    // "pss"
  std::string value;  // "restricted"
};

struct EngineResult {
  std::string engine;  // "scan"
  std::vector<std::string> inputs;  // what was read: paths, "-", a cluster
  // What the run judged against, in English words ("Pod Security Standards"),
  // and its settings; renderers show both and read nothing engine-specific.
  std::string policy;
  std::vector<ReportFact> facts;
  std::vector<const RuleInfo*> rules;  // the rules in force, in the engine's order
  std::vector<RuleTally> tallies;      // parallel to rules
  std::vector<Category> categories;    // every category rules may belong to, report order
  std::map<std::string, std::uint64_t, std::less<>> kinds;  // subjects by kind
  std::uint64_t objects = 0;
  std::uint64_t documents = 0;
  std::uint64_t bytes = 0;
  FindingStore findings;  // failures, exemptions (and passes when asked), input order
  std::vector<InputError> errors;
  std::vector<InputError> warnings;  // e.g. expired exemptions
  // What the input walk left out, and why (hidden, excluded, a known
  // non-Kubernetes file, a YAML document with neither apiVersion nor kind).
  std::vector<InputError> skipped;
  // Set when the input is a cluster read (or a kguard snapshot of one).
  std::optional<ClusterInfo> cluster;
  // What could not be read outside a cluster read (kguard node: files and
  // folders this uid may not open); a cluster read keeps its own in
  // cluster->coverage. Renderers read both through coverage_gaps().
  std::vector<CoverageGap> coverage;
  const std::vector<CoverageGap>& coverage_gaps() const { return cluster ? cluster->coverage : coverage; }
  bool has_coverage_section() const { return cluster.has_value() || !coverage.empty(); }
  // Reference scopes: the mode in force (scope_auto when --scope auto chose
  // it) and, when the input split into several, each scope and the scope of
  // each object (input order).
  ScopeMode scope_mode = ScopeMode::All;
  bool scope_auto = false;
  std::vector<ScopeSummary> scopes;
  std::vector<std::uint32_t> object_scope;
  // The images the input's workloads run, one per container, input order
  // (filled by engines that read workloads when asked: ScanOptions::collect_images).
  std::vector<ImageUse> image_uses;
  // The vulnerabilities of each image read (kguard image, scan --images) when a
  // database was there, sorted by risk. Each match is also a finding in
  // `findings` (its rule: the vulnerability id, in `owned_rules`), so gates,
  // baselines and every format count it; renderers that show a per-image
  // table (risk, CVSS, fixed version) read these.
  std::vector<ImageVulnerabilities> vulnerabilities;
  // Rules made for this result alone (one per vulnerability id), which
  // `rules` and the findings point to; held by pointer so they stay put.
  std::vector<std::unique_ptr<RuleInfo>> owned_rules;
  // East-west traffic per namespace (mesh mTLS and authorization, NetworkPolicy
  // default deny), when the engine computed it (scan with a networking rule).
  std::optional<EastWestPosture> east_west;
  // Chinese forms of the engine's English messages (null: none).
  const MessageTable* messages_zh = nullptr;

  // The value of fact `key`; empty when the engine did not state it.
  std::string_view fact(std::string_view key) const {
    for (const ReportFact& f : facts)
      if (f.key == key) return f.value;
    return {};
  }

  // The scope (`scopes`) that holds `file`: the longest scope name that is the file or a folder
  // above it, else the scope of files named as inputs (""); nullopt when none does. For findings an
  // engine adds after the scan (RBAC paths, network policy), located at a file but at no object.
  std::optional<std::size_t> scope_of_file(std::string_view file) const {
    std::optional<std::size_t> best, unnamed;
    std::size_t best_length = 0;
    for (std::size_t i = 0; i < scopes.size(); ++i) {
      const std::string& name = scopes[i].name;
      if (name.empty()) {
        unnamed = i;
      } else if (file.starts_with(name) && (file.size() == name.size() || file[name.size()] == '/') &&
                 name.size() >= best_length) {
        best = i;
        best_length = name.size();
      }
    }
    if (best) return best;
    return file.empty() ? std::nullopt : unnamed;
  }

  // Puts a rule of this result's own in force (a tally, a slot in every scope) and keeps it;
  // returns its index in `rules`.
  std::size_t add_owned_rule(std::unique_ptr<RuleInfo> rule) {
    const std::size_t at = rules.size();
    rules.push_back(rule.get());
    tallies.emplace_back();
    for (ScopeSummary& s : scopes) s.tallies.resize(rules.size());
    owned_rules.push_back(std::move(rule));
    return at;
  }
};

// The text of a rule an engine defines in code (RBAC paths, network policy findings), English and
// Chinese, as a constant table: `make_rule` turns one into the RuleInfo a result owns.
struct EngineRuleText {
  const char* id;
  Severity severity;
  const char* title;
  const char* rationale;
  const char* remediation;
  const char* zh_title;
  const char* zh_rationale;
  const char* zh_remediation;
};

inline std::unique_ptr<RuleInfo> make_rule(const EngineRuleText& t, Category category) {
  auto rule = std::make_unique<RuleInfo>();
  rule->id = t.id;
  rule->title = t.title;
  rule->category = category;
  rule->severity = t.severity;
  rule->rationale = t.rationale;
  rule->remediation = t.remediation;
  rule->zh.title = t.zh_title;
  rule->zh.rationale = t.zh_rationale;
  rule->zh.remediation = t.zh_remediation;
  return rule;
}

}  // namespace kg

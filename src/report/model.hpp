// The report model of ../docs/report.md: everything a renderer needs,
// computed once from an engine's result (model/engine_result.hpp), whatever
// the engine. Renderers consume this and nothing else.
#pragma once

#include <array>
#include <optional>
#include <ostream>
#include <string>
#include <unordered_set>
#include <vector>

#include "core/document.hpp"
#include "model/engine_result.hpp"
#include "report/framework.hpp"

namespace kg {

struct Tally {
  std::uint64_t checks = 0;
  std::uint64_t passed = 0;
  std::uint64_t failed = 0;
  std::uint64_t exempted = 0;
  std::uint64_t failed_warn = 0;    // failed checks of low/medium severity
  std::uint64_t failed_danger = 0;  // failed checks of high/critical severity
};

struct CategoryReport {
  Category category;
  Tally tally;
  int score = 100;
};

// --baseline: a previous JSON report, compared by finding fingerprints (not
// line numbers), so edits that move lines do not make old findings "new".
enum class BaselineState : std::uint8_t { None, New, Unchanged };

struct FixedFinding {  // in the baseline, gone now
  std::string rule, kind, ns, name, container, path, message, fingerprint;
};

struct Baseline {
  std::string file;
  std::vector<FixedFinding> findings;  // the failures of the previous report
};

// Reads a kguard JSON report; errors name the file, line and field.
std::optional<Baseline> load_baseline(const std::string& path, std::vector<InputError>& errors);

// A finding's message in `lang`. Check messages are composed in English; in
// Chinese the message is the table rules/data/messages-zh.yaml's form of it
// (same names and numbers), else the rule's Chinese title and the English text.
std::string finding_message(const FindingView& f, Lang lang, const MessageTable* zh = nullptr);

struct GradeCap {
  std::string grade;
  std::string reason;  // in the report's language
};

// A score and its grade, capped by unexempted critical and high failures.
struct Grading {
  int score = 100;
  std::string grade;        // after the cap
  std::string score_grade;  // the score's own grade
  std::optional<GradeCap> cap;
};
Grading grade_of(const Tally& t, const std::array<std::uint64_t, 4>& by_severity, Lang lang);

// One reference scope (--scope) of the scan, for the per-folder overview.
struct ScopeReport {
  std::string name;  // folder, input directory or file; "" = files named as inputs
  std::uint64_t objects = 0;
  Tally tally;
  std::array<std::uint64_t, 4> by_severity{};
  Grading grading;
};

struct ReportModel {
  const EngineResult* result = nullptr;
  // Set by apply_baseline: one state per finding of the result, and what was fixed.
  std::string baseline_file;
  std::vector<BaselineState> baseline;
  std::vector<FixedFinding> fixed;
  std::uint64_t new_failures = 0;
  Lang lang = Lang::En;  // language of every human-readable word
  std::string tool_version;
  std::string generated_at;  // RFC 3339 UTC
  Tally tally;
  int score = 100;
  std::string grade;  // after the cap
  // The grade the score alone gives and, when findings cap it, the cap and why
  // (docs/report.md "Grade cap"): a critical or high failure must not hide
  // behind many passes.
  std::string score_grade;
  std::optional<GradeCap> grade_cap;
  std::vector<ScopeReport> scopes;  // empty when the whole input is one scope
  std::optional<FrameworkView> framework;  // --framework
  std::array<std::uint64_t, 4> by_severity{};  // failed checks, indexed by Severity
  std::vector<CategoryReport> categories;      // the result's categories, in its order

  // Identities (kind, namespace, name) defined in more than one file.
  std::unordered_set<std::string> multi_file;
  // The finding's fingerprint, with its file when its object is in multi_file.
  std::string fingerprint(const FindingView& f) const;
  // A finding's message in the report's language (finding_message).
  std::string message(const FindingView& f) const { return finding_message(f, lang, result ? result->messages_zh : nullptr); }
  // Position of `c` in categories (categories.size() when it is not there).
  std::size_t category_position(Category c) const;
};


// A stable identity for a finding across runs and edits that move lines:
// rule, kind, namespace, name, container and field path (16 hex digits).
// SARIF partialFingerprints and --baseline both use it.
// With `with_file`, the file is part of it too: for an object defined in
// several files of one input (dev/ and prod/), so their findings stay apart.
std::string finding_fingerprint(const FindingView& f, bool with_file = false);
std::string fingerprint_of(std::string_view rule, std::string_view kind, std::string_view ns,
                           std::string_view name, std::string_view container, std::string_view path);

void apply_baseline(ReportModel& m, const Baseline& b);

// Polaris's formula: floor(100 * 2P / (2P + F_warn + 2 F_danger)); 100 when
// nothing was evaluated.
int health_score(const Tally& t);
std::string_view grade_for(int score);
// The cap unexempted failures put on the grade: any critical → D, any high → C;
// nullopt when none. `by_severity` counts failed checks indexed by Severity.
std::optional<std::string_view> grade_cap_for(const std::array<std::uint64_t, 4>& by_severity);
// The better of two grades is the one earlier in A+ … F.
int grade_rank(std::string_view grade);

ReportModel build_report(const EngineResult& result, std::string generated_at, Lang lang = Lang::En);

// What the result was judged against, for the human formats: its policy and
// the values of its facts, translated ("Pod Security Standards restricted v1.37").
std::string policy_text(const EngineResult& result, Lang lang);

// Cluster scans: "3 nodes, 12 namespaces, 140 pods" (counts the identity
// could not list show as unknown), the scope, and where a coverage gap is.
std::string cluster_counts(const ClusterInfo& c, Lang lang);
std::string cluster_scope(const ClusterInfo& c, Lang lang);
std::string coverage_where(const CoverageGap& g, Lang lang);  // "Deployment (apps/v1) in namespace shop"

// The east-west section (EngineResult::east_west): "Service mesh: istio, linkerd"
// or that the input has none; a value of its table ("strict", "default-deny"…)
// and a namespace name ("" is the namespace objects without one are applied to), translated.
std::string east_west_meshes(const EastWestPosture& p, Lang lang);
std::string_view east_west_value(std::string_view value, Lang lang);
std::string_view east_west_namespace(std::string_view ns, Lang lang);
// The namespace, and its reference scope in brackets when the input has several.
std::string east_west_row_name(const NamespaceTraffic& t, Lang lang);

// "examples/insecure", or the localized name of the shared files' scope.
std::string scope_label(const ScopeReport& s, Lang lang);
// What --scope did, in a sentence ("references resolve within each top-level folder").
std::string scope_explanation(const EngineResult& s, Lang lang);

void write_json_report(const ReportModel& m, std::ostream& out);
void write_text_report(const ReportModel& m, std::ostream& out, bool color);

// kguard's version string (from the build).
std::string_view kguard_version();

}  // namespace kg

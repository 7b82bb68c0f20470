#include "report/model.hpp"

#include <cstdio>
#include <fstream>
#include <sstream>
#include <unordered_set>

#ifndef KGUARD_VERSION
#define KGUARD_VERSION "0.0.0-dev"
#endif

namespace kg {

std::string_view kguard_version() { return KGUARD_VERSION; }

int health_score(const Tally& t) {
  const std::uint64_t weighted_pass = 2 * t.passed;
  const std::uint64_t denominator = weighted_pass + t.failed_warn + 2 * t.failed_danger;
  if (denominator == 0) return 100;
  return static_cast<int>((100 * weighted_pass) / denominator);
}

std::string_view grade_for(int score) {
  struct Step {
    int min;
    std::string_view grade;
  };
  static constexpr Step kSteps[] = {{97, "A+"}, {93, "A"},  {90, "A-"}, {87, "B+"}, {83, "B"},
                                    {80, "B-"}, {77, "C+"}, {73, "C"},  {70, "C-"}, {67, "D+"},
                                    {63, "D"},  {60, "D-"}};
  for (const Step& s : kSteps)
    if (score >= s.min) return s.grade;
  return "F";
}

namespace {

void add(Tally& t, const RuleInfo& rule, const RuleTally& rt) {
  t.checks += rt.evaluated;
  t.passed += rt.passed;
  t.failed += rt.failed;
  t.exempted += rt.exempted;
  if (rule.severity >= Severity::High) {
    t.failed_danger += rt.failed;
  } else {
    t.failed_warn += rt.failed;
  }
}

}  // namespace

std::string fingerprint_of(std::string_view rule, std::string_view kind, std::string_view ns,
                           std::string_view name, std::string_view container, std::string_view path) {
  std::uint64_t h = 1469598103934665603ull;  // FNV-1a
  auto mix = [&](std::string_view s) {
    for (unsigned char c : s) {
      h ^= c;
      h *= 1099511628211ull;
    }
    h ^= 0xff;  // field separator
    h *= 1099511628211ull;
  };
  mix(rule);
  mix(kind);
  mix(ns);
  mix(name);
  mix(container);
  mix(path);
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

std::string finding_fingerprint(const Finding& f) {
  // A free subject (an image, a layer path) narrows the container; findings
  // without one keep the fingerprints earlier reports and baselines hold.
  if (f.subject.empty())
    return fingerprint_of(f.rule->id, f.kind, f.ns, f.name, f.container, f.location.path);
  return fingerprint_of(f.rule->id, f.kind, f.ns, f.name, f.container + '\0' + f.subject,
                        f.location.path);
}

std::optional<Baseline> load_baseline(const std::string& path, std::vector<InputError>& errors) {
  SourceFile file;
  file.path = path;
  if (!read_file(path, file.content)) {
    errors.push_back({path, 0, 0, "cannot read the baseline report"});
    return std::nullopt;
  }
  load_documents(file);
  if (!file.errors.empty()) {
    errors.insert(errors.end(), file.errors.begin(), file.errors.end());
    return std::nullopt;
  }
  const Node* root = file.documents.empty() ? nullptr : file.documents[0].root;
  const Node* findings = get(root, "findings");
  if (!root || !get(root, "schemaVersion") || !findings || !findings->is_seq()) {
    errors.push_back({path, root ? root->line : 1, root ? root->column : 1,
                      "not a kguard JSON report (needs schemaVersion and findings)"});
    return std::nullopt;
  }
  Baseline b;
  b.file = path;
  for (const Node* f : findings->items()) {
    if (str(get(f, "result")) != "fail") continue;
    FixedFinding x;
    x.rule = std::string(str(get(f, "rule")));
    x.kind = std::string(str(get(f, "kind")));
    x.ns = std::string(str(get(f, "namespace")));
    x.name = std::string(str(get(f, "name")));
    x.container = std::string(str(get(f, "container")));
    x.path = std::string(str(get(get(f, "location"), "path")));
    x.message = std::string(str(get(f, "message")));
    x.fingerprint = std::string(str(get(f, "fingerprint")));
    if (x.fingerprint.empty())
      x.fingerprint = fingerprint_of(x.rule, x.kind, x.ns, x.name, x.container, x.path);
    b.findings.push_back(std::move(x));
  }
  return b;
}

void apply_baseline(ReportModel& m, const Baseline& b) {
  m.baseline_file = b.file;
  std::unordered_set<std::string> before;
  for (const FixedFinding& f : b.findings) before.insert(f.fingerprint);
  std::unordered_set<std::string> now;
  m.baseline.assign(m.result->findings.size(), BaselineState::None);
  for (std::size_t i = 0; i < m.result->findings.size(); ++i) {
    const Finding& f = m.result->findings[i];
    if (f.result != Result::Fail) continue;
    std::string fp = finding_fingerprint(f);
    const bool old = before.count(fp) > 0;
    m.baseline[i] = old ? BaselineState::Unchanged : BaselineState::New;
    if (!old) ++m.new_failures;
    now.insert(std::move(fp));
  }
  for (const FixedFinding& f : b.findings)
    if (!now.count(f.fingerprint)) m.fixed.push_back(f);
}

std::string finding_message(const Finding& f, Lang lang) {
  if (lang == Lang::En) return f.message;
  std::string m(f.rule->title_in(lang));
  // The same kind of container the English message names.
  if (!f.container.empty()) {
    const std::string_view path = f.location.path;
    const char* what = path.find("initContainers[") != std::string_view::npos        ? "初始化容器"
                       : path.find("ephemeralContainers[") != std::string_view::npos ? "临时容器"
                                                                                      : "容器";
    m += std::string("（") + what + " \"" + f.container + "\"）";
  }
  if (!f.location.path.empty()) m += "：" + f.location.path;
  return m;
}

std::size_t ReportModel::category_position(Category c) const {
  for (std::size_t i = 0; i < categories.size(); ++i)
    if (categories[i].category == c) return i;
  return categories.size();
}

ReportModel build_report(const EngineResult& result, std::string generated_at, Lang lang) {
  ReportModel m;
  m.lang = lang;
  m.result = &result;
  m.tool_version = std::string(kguard_version());
  m.generated_at = std::move(generated_at);
  for (Category c : result.categories) m.categories.push_back(CategoryReport{c, {}, 100});
  for (std::size_t i = 0; i < result.rules.size(); ++i) {
    const RuleInfo& rule = *result.rules[i];
    const RuleTally& rt = result.tallies[i];
    add(m.tally, rule, rt);
    // A rule of a category the result does not list counts in the totals only.
    const std::size_t c = m.category_position(rule.category);
    if (c < m.categories.size()) add(m.categories[c].tally, rule, rt);
    m.by_severity[static_cast<std::size_t>(rule.severity)] += rt.failed;
  }
  m.score = health_score(m.tally);
  m.grade = std::string(grade_for(m.score));
  for (CategoryReport& c : m.categories) c.score = health_score(c.tally);
  return m;
}

std::string policy_text(const EngineResult& result, Lang lang) {
  std::string s(tr(lang, result.policy));
  for (const ReportFact& f : result.facts) {
    if (!s.empty()) s += ' ';
    s += tr(lang, f.value);
  }
  return s;
}

std::string cluster_counts(const ClusterInfo& c, Lang lang) {
  auto n = [&](const std::optional<std::uint64_t>& v, std::string_view what) {
    return (v ? std::to_string(*v) : std::string(tr(lang, "unknown"))) + " " + std::string(tr(lang, what));
  };
  return n(c.nodes, "nodes") + ", " + n(c.namespace_count, "namespaces") + ", " + n(c.pods, "pods");
}

std::string cluster_scope(const ClusterInfo& c, Lang lang) {
  if (c.namespaces.empty()) return std::string(tr(lang, "all namespaces"));
  std::string s;
  for (const std::string& n : c.namespaces) s += (s.empty() ? "" : ", ") + n;
  return s;
}

std::string coverage_where(const CoverageGap& g, Lang lang) {
  std::string s = g.kind + " (" + g.api_version + ")";
  if (!g.ns.empty()) return s + " " + std::string(tr(lang, "in namespace")) + " " + g.ns;
  return s + " " + std::string(tr(lang, "cluster-wide"));
}

}  // namespace kg

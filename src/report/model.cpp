#include "report/model.hpp"


#include <cstdio>
#include <fstream>
#include <iterator>
#include <sstream>
#include <unordered_map>
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

int grade_rank(std::string_view grade) {
  static constexpr std::string_view kOrder[] = {"A+", "A", "A-", "B+", "B", "B-", "C+",
                                                "C",  "C-", "D+", "D", "D-", "F"};
  for (int i = 0; i < static_cast<int>(std::size(kOrder)); ++i)
    if (kOrder[i] == grade) return i;
  return static_cast<int>(std::size(kOrder));
}

std::optional<std::string_view> grade_cap_for(const std::array<std::uint64_t, 4>& by_severity) {
  if (by_severity[static_cast<std::size_t>(Severity::Critical)] > 0) return "D";
  if (by_severity[static_cast<std::size_t>(Severity::High)] > 0) return "C";
  return std::nullopt;
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

std::string finding_fingerprint(const FindingView& f, bool with_file) {
  // A free subject (an image, a layer path) narrows the container; findings
  // without one keep the fingerprints earlier reports and baselines hold.
  if (f.subject.empty() && !with_file) return fingerprint_of(f.rule->id, f.kind, f.ns, f.name, f.container, f.location.path);
  std::string container(f.container);
  if (!f.subject.empty()) container.append(1, '\0').append(f.subject);
  if (with_file) container.append(1, '\x01').append(f.location.file);
  return fingerprint_of(f.rule->id, f.kind, f.ns, f.name, container, f.location.path);
}

namespace {
std::string identity_key(const FindingView& f) {
  std::string key(f.kind);
  key.append(1, '\0').append(f.ns).append(1, '\0').append(f.name);
  return key;
}
}  // namespace

std::string ReportModel::fingerprint(const FindingView& f) const {
  return finding_fingerprint(f, !multi_file.empty() && multi_file.count(identity_key(f)) > 0);
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
    const FindingView f = m.result->findings[i];
    if (f.result != Result::Fail) continue;
    std::string fp = m.fingerprint(f);
    const bool old = before.count(fp) > 0;
    m.baseline[i] = old ? BaselineState::Unchanged : BaselineState::New;
    if (!old) ++m.new_failures;
    now.insert(std::move(fp));
  }
  for (const FixedFinding& f : b.findings)
    if (!now.count(f.fingerprint)) m.fixed.push_back(f);
}

std::string finding_message(const FindingView& f, Lang lang, const MessageTable* zh_table) {
  if (lang == Lang::En) return std::string(f.message);
  if (f.message.empty()) return std::string(f.rule->title_in(lang));
  if (zh_table)
    if (auto zh = zh_table->translate(f.message)) return *zh;
  // No Chinese form of this message yet: the Chinese title, then the English
  // message whole, so no name or number is lost.
  return std::string(f.rule->title_in(lang)) + "：" + std::string(f.message);
}

Grading grade_of(const Tally& t, const std::array<std::uint64_t, 4>& by_severity, Lang lang) {
  Grading g;
  g.score = health_score(t);
  g.score_grade = std::string(grade_for(g.score));
  g.grade = g.score_grade;
  if (const auto cap = grade_cap_for(by_severity); cap && grade_rank(*cap) > grade_rank(g.grade)) {
    const std::uint64_t critical = by_severity[static_cast<std::size_t>(Severity::Critical)];
    const std::uint64_t high = by_severity[static_cast<std::size_t>(Severity::High)];
    std::string reason;
    if (lang == Lang::Zh) {
      reason = critical ? std::to_string(critical) + " 项严重检查未通过（未豁免），等级最高为 D"
                        : std::to_string(high) + " 项高危检查未通过（未豁免），等级最高为 C";
    } else {
      const std::uint64_t n = critical ? critical : high;
      reason = std::to_string(n) + (critical ? " critical" : " high") + " failed check" + (n == 1 ? "" : "s") +
               " (unexempted) " + (n == 1 ? "caps" : "cap") + " the grade at " + std::string(*cap);
    }
    g.grade = std::string(*cap);
    g.cap = GradeCap{g.grade, std::move(reason)};
  }
  return g;
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
  Grading g = grade_of(m.tally, m.by_severity, lang);
  m.score = g.score;
  m.grade = std::move(g.grade);
  m.score_grade = std::move(g.score_grade);
  m.grade_cap = std::move(g.cap);
  for (const ScopeSummary& sc : result.scopes) {
    if (sc.objects == 0) continue;  // a directory level with no files of its own
    ScopeReport sr;
    sr.name = sc.name;
    sr.objects = sc.objects;
    for (std::size_t i = 0; i < result.rules.size() && i < sc.tallies.size(); ++i) {
      add(sr.tally, *result.rules[i], sc.tallies[i]);
      sr.by_severity[static_cast<std::size_t>(result.rules[i]->severity)] += sc.tallies[i].failed;
    }
    sr.grading = grade_of(sr.tally, sr.by_severity, lang);
    m.scopes.push_back(std::move(sr));
  }
  for (CategoryReport& c : m.categories) c.score = health_score(c.tally);
  std::unordered_map<std::string, std::string_view> file_of;
  FindingView previous;
  for (const FindingView f : result.findings) {
    if (f.name.empty()) continue;
    // Findings of one object are neighbours: look each object up once.
    if (f.name == previous.name && f.kind == previous.kind && f.ns == previous.ns &&
        f.location.file == previous.location.file)
      continue;
    previous = f;
    auto [it, fresh] = file_of.emplace(identity_key(f), f.location.file);
    if (!fresh && it->second != f.location.file) m.multi_file.insert(it->first);
  }
  return m;
}

std::string scope_label(const ScopeReport& s, Lang lang) {
  return s.name.empty() ? std::string(tr(lang, "(files named on the command line)")) : s.name;
}

std::string scope_explanation(const EngineResult& s, Lang lang) {
  switch (s.scope_mode) {
    case ScopeMode::Dir:
      if (s.scope_auto)
        return std::string(tr(lang, "references resolve within each top-level folder (auto: the folders define the same objects)"));
      return std::string(tr(lang, "references resolve within each top-level folder"));
    case ScopeMode::File: return std::string(tr(lang, "references resolve within each file"));
    default: return std::string(tr(lang, "references resolve across the whole input"));
  }
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
  if (!g.resource.empty() && g.resource[0] == '/') return s + " " + g.resource;  // a node's path (kguard node)
  if (!g.ns.empty()) return s + " " + std::string(tr(lang, "in namespace")) + " " + g.ns;
  return s + " " + std::string(tr(lang, "cluster-wide"));
}

std::string east_west_meshes(const EastWestPosture& p, Lang lang) {
  std::string s(tr(lang, "Service mesh"));
  s += ": ";
  if (p.meshes.empty()) return s + std::string(tr(lang, "no service mesh in the input"));
  for (std::size_t i = 0; i < p.meshes.size(); ++i) s += (i ? ", " : "") + p.meshes[i];
  return s;
}

std::string_view east_west_value(std::string_view value, Lang lang) {
  if (value.empty()) return "-";
  return tr(lang, value);
}

std::string_view east_west_namespace(std::string_view ns, Lang lang) {
  return ns.empty() ? tr(lang, "(unset)") : ns;
}

std::string east_west_row_name(const NamespaceTraffic& t, Lang lang) {
  std::string s(east_west_namespace(t.ns, lang));
  if (!t.scope.empty()) s += " [" + t.scope + "]";
  return s;
}

}  // namespace kg

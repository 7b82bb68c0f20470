// The one generic fixture runner: every rule in the catalog has pass.yaml and
// fail.yaml beside its rule.yaml; every object in pass.yaml must pass the rule
// and every object in fail.yaml must fail it.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include "checks/registry.hpp"
#include "engines/scan/scan.hpp"
#include "test_support.hpp"

namespace kg {
namespace {

std::map<std::string, std::string_view> fixture_files() {
  std::map<std::string, std::string_view> files;
  for (const CatalogFile& f : embedded_catalog_files()) files[std::string(f.path)] = f.content;
  return files;
}

std::string folder_of(const Rule& r) {
  return r.source.substr(0, r.source.rfind('/') + 1);
}

class RuleFixtures : public ::testing::TestWithParam<std::string> {};

TEST_P(RuleFixtures, PassAndFailAsDeclared) {
  const Rule* rule = Catalog::builtin().find(GetParam());
  ASSERT_NE(rule, nullptr);
  const auto files = fixture_files();
  ScanOptions options;
  options.only = {rule->id};
  // Evaluate a PSS control at its own level, so baseline controls that the
  // restricted level overrides are still exercised.
  options.pss_level = rule->pss_level.value_or(PssLevel::Restricted);
  Scanner scanner(Catalog::builtin(), options);
  for (const char* kind : {"pass", "fail"}) {
    const std::string path = folder_of(*rule) + kind + ".yaml";
    auto it = files.find(path);
    ASSERT_NE(it, files.end()) << rule->id << " has no " << path;
    ScanResult r = scanner.scan_buffer(path, std::string(it->second));
    ASSERT_TRUE(r.errors.empty()) << path << ": " << r.errors[0].message;
    ASSERT_GT(r.objects, 0u) << path;
    ASSERT_EQ(r.tallies.size(), 1u);
    // Every object the rule applies to is checked; objects of other kinds
    // (a Service beside a Deployment) are context for set-level rules.
    EXPECT_GT(r.tallies[0].evaluated, 0u) << path << ": the rule evaluated nothing";
    if (std::string(kind) == "pass") {
      EXPECT_EQ(r.tallies[0].passed, r.tallies[0].evaluated) << path;
      for (const FindingView f : r.findings) ADD_FAILURE() << path << ": " << f.message;
    } else {
      EXPECT_EQ(r.tallies[0].failed, r.tallies[0].evaluated) << path << ": every object must fail";
      // ...and every object of a kind the rule applies to is evaluated: an
      // object the rule skips would pass this runner unnoticed.
      std::uint64_t applicable = 0;
      const std::vector<std::string> workload_kinds = options.pod_specs.kinds();
      for (const auto& [k, n] : r.kinds) {
        const bool listed = std::find(rule->kinds.begin(), rule->kinds.end(), k) != rule->kinds.end();
        const bool workload = std::find(rule->kinds.begin(), rule->kinds.end(), "workloads") != rule->kinds.end() &&
                              std::find(workload_kinds.begin(), workload_kinds.end(), k) != workload_kinds.end();
        const bool any = std::find(rule->kinds.begin(), rule->kinds.end(), "*") != rule->kinds.end();
        if (listed || workload || any) applicable += n;
      }
      if (rule->cluster_compiled) applicable = 1;  // the cluster itself, once
      EXPECT_EQ(r.tallies[0].evaluated, applicable)
          << path << ": an object of a kind the rule applies to was not evaluated";
      for (const FindingView f : r.findings) {
        EXPECT_FALSE(f.message.empty());
        EXPECT_GT(f.location.line, 0u) << path;
        EXPECT_FALSE(f.location.path.empty()) << path << ": finding without a field path";
      }
    }
  }
}

std::vector<std::string> all_rule_ids() {
  std::vector<std::string> ids;
  for (const auto& r : Catalog::builtin().rules()) ids.push_back(r->id);
  return ids;
}

INSTANTIATE_TEST_SUITE_P(Catalog, RuleFixtures, ::testing::ValuesIn(all_rule_ids()),
                         [](const auto& param_info) {
                           std::string n = param_info.param;
                           for (char& c : n)
                             if (c == '-') c = '_';
                           return n;
                         });

TEST(Catalog, LoadsWithoutErrorsAndEveryRuleIsComplete) {
  Catalog c;
  std::vector<InputError> errors;
  c.add_files(embedded_catalog_files(), errors);
  for (const auto& e : errors) ADD_FAILURE() << e.file << ":" << e.line << ": " << e.message;
  // Exactly one rule per rules/<category>/<id>/rule.yaml in the source tree:
  // a rule dropped from the embedded catalog or refused by the loader fails.
  std::size_t on_disk = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(
           std::filesystem::path(KGUARD_SOURCE_DIR) / "rules"))
    if (e.path().filename() == "rule.yaml" && e.path().parent_path().parent_path().filename() != "audit")
      ++on_disk;  // rules/audit/: the audit engine's rules (tests/unit/audit_rules_test.cpp)
  EXPECT_GT(on_disk, 100u);
  EXPECT_EQ(c.rules().size(), on_disk);
  for (const auto& r : c.rules()) {
    // Overlap ownership and PSS overrides name real rules, and never both ways.
    for (const std::string& id : r->supersedes) {
      const Rule* other = c.find(id);
      ASSERT_NE(other, nullptr) << r->id << " supersedes unknown rule " << id;
      EXPECT_NE(id, r->id);
      // A PSS control owns the risks it defines: its verdicts stay exact.
      EXPECT_FALSE(other->pss_level.has_value()) << r->id << " supersedes the PSS control " << id;
      EXPECT_EQ(std::count(other->supersedes.begin(), other->supersedes.end(), r->id), 0)
          << r->id << " and " << id << " supersede each other";
    }
    if (r->pss_overridden_from >= 0) {
      const Rule* by = c.find(r->pss_overridden_by);
      ASSERT_NE(by, nullptr) << r->id << ": pss.overriddenBy names no rule";
      EXPECT_EQ(by->pss_level, PssLevel::Restricted) << r->id;
    }
  }
  for (const auto& r : c.rules()) {
    EXPECT_FALSE(r->rationale.empty()) << r->id;
    EXPECT_FALSE(r->remediation.empty()) << r->id;
    EXPECT_FALSE(r->references.empty()) << r->id;
    // Every human-readable word exists in both languages.
    EXPECT_FALSE(r->zh.title.empty()) << r->id << " has no zh.title";
    EXPECT_FALSE(r->zh.rationale.empty()) << r->id << " has no zh.rationale";
    EXPECT_FALSE(r->zh.remediation.empty()) << r->id << " has no zh.remediation";
    // The folder name is the rule id.
    EXPECT_NE(r->source.find("/" + r->id + "/rule.yaml"), std::string::npos) << r->source;
  }
}

// The declarations the loader, `rules templates` and templates.md read are
// themselves consistent: unique names, defaults among the allowed values.
TEST(Templates, DeclarationsAreConsistent) {
  std::set<std::string_view> names;
  for (const CheckTemplate& t : check_templates()) {
    EXPECT_TRUE(names.insert(t.name).second) << t.name;
    std::set<std::string_view> params;
    for (const ParamSpec& p : t.params) {
      EXPECT_TRUE(params.insert(p.name).second) << t.name << "." << p.name;
      EXPECT_FALSE(p.description.empty()) << t.name << "." << p.name;
      EXPECT_FALSE(p.required && !p.default_value.empty()) << t.name << "." << p.name;
      if (p.default_value.empty()) continue;
      // The documented default is a value the loader itself would accept.
      SourceFile f;
      f.path = "default";
      std::string value(p.default_value);
      if (p.type == ParamType::String) {
        std::string quoted = "\"";
        for (char ch : value) quoted += ch == '"' || ch == '\\' ? std::string("\\") + ch : std::string(1, ch);
        value = quoted + "\"";
      }
      f.content = "{" + std::string(p.name) + ": " + value + "}";
      load_documents(f);
      ASSERT_TRUE(f.errors.empty() && f.documents.size() == 1) << t.name << "." << p.name;
      CheckTemplate only = t;
      only.params = std::span<const ParamSpec>(&p, 1);
      const auto problems = validate_params(only, f.documents[0].root);
      EXPECT_TRUE(problems.empty()) << t.name << "." << p.name << ": " << problems[0].message;
    }
  }
}

// A declared default is the value the template really uses: every shipped
// rule, with each parameter it leaves unset written out at its declared
// default, gives the same verdicts on the fixtures of every rule of its
// template as without it.
TEST(Templates, DeclaredDefaultsAreTheEffectiveOnes) {
  const Catalog& catalog = Catalog::builtin();
  const auto files = fixture_files();
  std::size_t compared = 0;
  for (const auto& rp : catalog.rules()) {
    const Rule& rule = *rp;
    const CheckTemplate* t = find_check_template(rule.check);
    ASSERT_NE(t, nullptr);
    std::vector<std::string> fixtures;
    for (const auto& other : catalog.rules())
      if (other->check == rule.check)
        for (const char* kind : {"pass.yaml", "fail.yaml"}) fixtures.push_back(folder_of(*other) + kind);
    ScanOptions base;
    base.only = {rule.id};
    base.pss_level = rule.pss_level.value_or(PssLevel::Restricted);
    Scanner plain(catalog, base);
    for (const ParamSpec& p : t->params) {
      // Messages are wording, not verdicts; "FIELD" in field's stands for the field.
      if (p.default_value.empty() || p.name == "message" || get(rule.params, p.name)) continue;
      SourceFile f;
      f.path = "override";
      std::string value(p.default_value);
      if (p.type == ParamType::String) value = "'" + value + "'";
      f.content = "{" + std::string(p.name) + ": " + value + "}";
      load_documents(f);
      ASSERT_TRUE(f.errors.empty()) << f.content;
      ScanOptions o = base;
      o.overrides[rule.id].params = f.documents[0].root;
      Scanner explicit_default(catalog, o);
      ASSERT_TRUE(explicit_default.setup_errors().empty())
          << rule.id << "." << p.name << ": " << explicit_default.setup_errors()[0].message;
      for (const std::string& path : fixtures) {
        const std::string content(files.at(path));
        const ScanResult a = plain.scan_buffer(path, content);
        const ScanResult b = explicit_default.scan_buffer(path, content);
        ASSERT_EQ(a.tallies.size(), b.tallies.size());
        if (a.tallies.empty()) continue;
        EXPECT_EQ(a.tallies[0].passed, b.tallies[0].passed) << rule.id << "." << p.name << " on " << path;
        EXPECT_EQ(a.tallies[0].failed, b.tallies[0].failed) << rule.id << "." << p.name << " on " << path;
        ASSERT_EQ(a.findings.size(), b.findings.size()) << rule.id << "." << p.name << " on " << path;
        for (std::size_t i = 0; i < a.findings.size(); ++i)
          EXPECT_EQ(a.findings[i].location.path, b.findings[i].location.path) << rule.id << "." << p.name;
        ++compared;
      }
    }
  }
  EXPECT_GT(compared, 500u);
}

TEST(Catalog, MalformedRulesAreRefusedWithFileRuleAndField) {
  Catalog c;
  std::vector<InputError> errors;
  const CatalogFile bad[] = {
      {"x/bad-severity/rule.yaml",
       "id: bad-severity\ntitle: t\ncategory: security\nseverity: huge\nrationale: r\n"
       "remediation: f\nkinds: [Pod]\ncheck: pss\nparams: {control: privileged}\n"},
      {"x/bad-template/rule.yaml",
       "id: bad-template\ntitle: t\ncategory: security\nseverity: low\nrationale: r\n"
       "remediation: f\nkinds: [Pod]\ncheck: nope\n"},
      {"x/bad-params/rule.yaml",
       "id: bad-params\ntitle: t\ncategory: security\nseverity: low\nrationale: r\n"
       "remediation: f\nkinds: [Pod]\ncheck: field\nparams: {field: x, expect: sometimes}\n"},
      {"x/good/rule.yaml",
       "id: good\ntitle: t\ncategory: images\nseverity: low\nrationale: r\n"
       "remediation: f\nkinds: [workloads]\ncheck: image\nparams: {mode: tag}\n"},
  };
  c.add_files(bad, errors);
  ASSERT_EQ(errors.size(), 3u);
  EXPECT_NE(errors[0].message.find("'bad-severity'"), std::string::npos);
  EXPECT_NE(errors[0].message.find("'severity'"), std::string::npos);
  EXPECT_EQ(errors[0].line, 4u);
  EXPECT_NE(errors[1].message.find("unknown check template 'nope'"), std::string::npos);
  EXPECT_NE(errors[2].message.find("field 'params.expect': 'sometimes' is not one of present, absent"),
            std::string::npos);
  EXPECT_EQ(c.rules().size(), 1u);
}

}  // namespace
}  // namespace kg

// What a cluster read lists comes from the rules: each rule's kinds and what
// its set-level check declares it reads (SetCheck::needs_kinds), through
// kinds_needed. These tests fail when a rule needs a kind the plan leaves
// out: every rule's fixtures, cut down to the kinds the plan lists, keep
// their verdicts; and every kind a check declares is load-bearing for its
// fixtures (dropping it from the declaration changes them).
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <sstream>

#include "engines/scan/scan.hpp"
#include "sources/kube/cluster_reader.hpp"
#include "test_support.hpp"

namespace kg {
namespace {

std::map<std::string, std::string_view> catalog_files() {
  std::map<std::string, std::string_view> files;
  for (const CatalogFile& f : embedded_catalog_files()) files[std::string(f.path)] = f.content;
  return files;
}

std::string folder_of(const Rule& r) { return r.source.substr(0, r.source.rfind('/') + 1); }

// `text` without its top-level documents whose kind `keep` refuses
// (a `kind: List` document is kept whole).
template <class Keep>
std::string filter_documents(std::string_view text, Keep keep) {
  std::vector<std::string> docs(1);
  std::istringstream in{std::string(text)};
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("---", 0) == 0) {
      docs.emplace_back();
      continue;
    }
    docs.back() += line + "\n";
  }
  std::string out;
  for (const std::string& d : docs) {
    std::string kind;
    std::istringstream lines(d);
    for (std::string line; std::getline(lines, line);)
      if (line.rfind("kind:", 0) == 0) {
        kind = line.substr(5);
        kind.erase(0, kind.find_first_not_of(" \"'"));
        kind.erase(kind.find_last_not_of(" \"'\r") + 1);
        break;
      }
    if (kind.empty() || kind == "List" || keep(kind)) out += "---\n" + d;
  }
  return out;
}

// The rule's verdicts on its fixtures: tallies and every row's identity.
std::string verdicts(const Catalog& catalog, const Rule& rule, const std::string& pass,
                     const std::string& fail) {
  ScanOptions options;
  options.only = {rule.id};
  options.pss_level = rule.pss_level.value_or(PssLevel::Restricted);
  Scanner scanner(catalog, options);
  std::string out;
  for (const std::string* text : {&pass, &fail}) {
    const ScanResult r = scanner.scan_buffer("fixture.yaml", *text);
    if (r.tallies.empty()) return "rule not selected";
    const RuleTally& t = r.tallies[0];
    out += std::to_string(t.evaluated) + "/" + std::to_string(t.passed) + "/" +
           std::to_string(t.failed) + "/" + std::to_string(t.exempted) + "\n";
    std::vector<std::string> rows;
    for (const FindingView f : r.findings)
      rows.push_back(std::string(f.kind) + "/" + std::string(f.ns) + "/" + std::string(f.name) + " " +
                     std::string(to_string(f.result)) + " " + std::string(f.container) + " " +
                     std::string(f.message));
    std::sort(rows.begin(), rows.end());
    for (const std::string& row : rows) out += row + "\n";
  }
  return out;
}

std::vector<std::string> plan_for(const Rule& rule) {
  std::vector<std::string> kinds = kinds_needed({&rule}, PodSpecTable{});
  for (const std::string& k : kube::counted_kinds()) kinds.push_back(k);
  return kinds;
}

bool listed(const std::vector<std::string>& plan, const std::string& kind) {
  return std::find(plan.begin(), plan.end(), kind) != plan.end();
}

// The plan of the whole catalog holds every kind any rule names or declares.
TEST(KindsPlan, ListsEveryRuleKindAndEveryDeclaredNeed) {
  std::vector<const Rule*> rules;
  for (const auto& r : Catalog::builtin().rules()) rules.push_back(r.get());
  const std::vector<std::string> plan = kinds_needed(rules, PodSpecTable{});
  const std::vector<std::string> workloads = PodSpecTable{}.kinds();
  auto check = [&](const Rule& r, const std::string& k) {
    if (k == "*") return;
    if (k == "workloads") {
      for (const std::string& wk : workloads) EXPECT_TRUE(listed(plan, wk)) << r.id << ": " << wk;
    } else {
      EXPECT_TRUE(listed(plan, k)) << r.id << " needs " << k << ", which a cluster read would not list";
    }
  };
  for (const Rule* r : rules) {
    if (r->cluster_compiled) continue;
    for (const std::string& k : r->kinds) check(*r, k);
    if (r->set_compiled)
      for (const std::string& k : r->set_compiled->needs_kinds()) check(*r, k);
  }
  // Kinds no check reads only for context are not listed (they were, by hand).
  EXPECT_FALSE(listed(plan, "CSIDriver"));
  // Kinds set-level checks read that no rule names as its subject are (RuntimeClass:
  // sandbox-runtime-class-missing reads each one's handler).
  for (const char* k : {"ClusterPolicy", "ClusterImagePolicy", "SealedSecret", "ExternalSecret",
                        "LimitRange", "ResourceQuota", "RuntimeClass"})
    EXPECT_TRUE(listed(plan, k)) << k;
  // The service-mesh rules' kinds (docs/mesh.md): a cluster read lists them, and a
  // cluster without the CRDs reports them as not served.
  for (const char* k : {"PeerAuthentication", "AuthorizationPolicy", "DestinationRule", "Server",
                        "ServerAuthorization", "Namespace"})
    EXPECT_TRUE(listed(plan, k)) << k;
}

class RuleKinds : public ::testing::TestWithParam<std::string> {};

// The rule's fixtures as a cluster read under its plan would see them: the
// same verdicts, or the rule reads a kind it does not declare.
TEST_P(RuleKinds, FixturesCutToThePlanKeepTheirVerdicts) {
  const Rule* rule = Catalog::builtin().find(GetParam());
  ASSERT_NE(rule, nullptr);
  if (rule->cluster_compiled) GTEST_SKIP() << "cluster-level: reads the cluster's facts, no kinds";
  if (std::find(rule->kinds.begin(), rule->kinds.end(), "*") != rule->kinds.end())
    GTEST_SKIP() << "any kind: judges whatever else is listed";
  const auto files = catalog_files();
  const std::string pass(files.at(folder_of(*rule) + "pass.yaml"));
  const std::string fail(files.at(folder_of(*rule) + "fail.yaml"));
  const std::vector<std::string> plan = plan_for(*rule);
  auto in_plan = [&](const std::string& kind) { return listed(plan, kind); };
  EXPECT_EQ(verdicts(Catalog::builtin(), *rule, filter_documents(pass, in_plan),
                     filter_documents(fail, in_plan)),
            verdicts(Catalog::builtin(), *rule, pass, fail))
      << rule->id << " reads a kind that neither its kinds nor its check's needs_kinds() declare";
}

// A set-level rule of the builtin catalog, its fixtures and its verdicts on them.
struct SetFixtures {
  const Rule* rule = nullptr;
  std::string pass, fail, want;
};
SetFixtures set_fixtures(const std::string& id) {
  SetFixtures fx;
  fx.rule = Catalog::builtin().find(id);
  if (!fx.rule) return fx;
  const auto files = catalog_files();
  fx.pass = std::string(files.at(folder_of(*fx.rule) + "pass.yaml"));
  fx.fail = std::string(files.at(folder_of(*fx.rule) + "fail.yaml"));
  fx.want = verdicts(Catalog::builtin(), *fx.rule, fx.pass, fx.fail);
  return fx;
}

class SetRuleKinds : public ::testing::TestWithParam<std::string> {};

// Hides one kind, or one fact table, from a set-level check's declarations.
class Hiding final : public SetCheck {
 public:
  Hiding(std::unique_ptr<SetCheck> inner, std::string hidden)
      : inner_(std::move(inner)), hidden_(std::move(hidden)) {}
  Hiding(std::unique_ptr<SetCheck> inner, const FactCollector* hidden_table)
      : inner_(std::move(inner)), hidden_table_(hidden_table) {}
  void evaluate(const Inventory& inv, SetSink& sink) const override { inner_->evaluate(inv, sink); }
  std::vector<const FactCollector*> facts() const override {
    std::vector<const FactCollector*> tables = inner_->facts();
    tables.erase(std::remove(tables.begin(), tables.end(), hidden_table_), tables.end());
    return tables;
  }
  std::vector<std::string> needs_kinds() const override {
    std::vector<std::string> kinds = inner_->needs_kinds();
    kinds.erase(std::remove(kinds.begin(), kinds.end(), hidden_), kinds.end());
    return kinds;
  }

 private:
  std::unique_ptr<SetCheck> inner_;
  std::string hidden_;
  const FactCollector* hidden_table_ = nullptr;
};

// The check alone, from rule.yaml, in a catalog of its own.
std::unique_ptr<Catalog> load_alone(const Rule& builtin) {
  auto catalog = std::make_unique<Catalog>();
  std::vector<InputError> errors;
  const auto files = catalog_files();
  const std::string rule_yaml(files.at(builtin.source));
  const CatalogFile file{builtin.source, rule_yaml};
  catalog->add_files({&file, 1}, errors);
  EXPECT_TRUE(errors.empty()) << builtin.source;
  return catalog;
}

// Every fact table a set-level check declares (SetCheck::facts()) is one it
// reads: left out of the scan's plan, the rule's fixtures change verdicts. A
// table a check reads without declaring it is empty in a scan where no other
// rule declares it, so the rule's own fixtures fail (FixturesCutToThePlan…).
TEST_P(SetRuleKinds, EveryDeclaredFactTableIsLoadBearing) {
  const SetFixtures fx = set_fixtures(GetParam());
  ASSERT_TRUE(fx.rule && fx.rule->set_compiled) << GetParam();
  const Rule* builtin = fx.rule;
  const std::string &pass = fx.pass, &fail = fx.fail, &want = fx.want;
  const std::vector<const FactCollector*> tables = builtin->set_compiled->facts();
  ASSERT_FALSE(tables.empty()) << builtin->id << " declares no fact table";
  for (const FactCollector* hidden : tables) {
    // Only a table fed by an object the fixtures hold can show.
    bool fed = false;
    for (std::string_view k : hidden->kinds) {
      if (k == "workloads") {
        fed = true;  // every set-level fixture holds pods
        continue;
      }
      auto holds = [&](const std::string& text) {
        return filter_documents(text, [&](const std::string& kind) { return kind == k; }).find("kind:") !=
               std::string::npos;
      };
      fed |= holds(pass) || holds(fail);
    }
    if (!fed) continue;
    auto catalog = load_alone(*builtin);
    Rule& rule = *catalog->rules().front();
    rule.set_compiled = std::make_unique<Hiding>(std::move(rule.set_compiled), hidden);
    EXPECT_NE(verdicts(*catalog, rule, pass, fail), want)
        << builtin->id << ": leaving the " << hidden->name
        << " table out of its check's facts() changes nothing in its fixtures";
  }
}

// Every kind a set-level check declares beyond its rule's own kinds, when the
// rule's fixtures hold objects of it, changes their verdicts when left out
// of the declaration (the scan then collects no facts of it, and a cluster
// read would not list it): declarations are what scans and reads obey.
TEST_P(SetRuleKinds, EveryDeclaredKindIsLoadBearing) {
  const SetFixtures fx = set_fixtures(GetParam());
  ASSERT_TRUE(fx.rule && fx.rule->set_compiled) << GetParam();
  const Rule* builtin = fx.rule;
  const std::string &pass = fx.pass, &fail = fx.fail, &want = fx.want;
  for (const std::string& hidden : builtin->set_compiled->needs_kinds()) {
    if (std::find(builtin->kinds.begin(), builtin->kinds.end(), hidden) != builtin->kinds.end())
      continue;  // also the rule's own kind: listed anyway
    auto catalog = load_alone(*builtin);
    Rule& rule = *catalog->rules().front();
    rule.set_compiled = std::make_unique<Hiding>(std::move(rule.set_compiled), hidden);
    const std::vector<std::string> plan = plan_for(rule);
    auto in_plan = [&](const std::string& kind) { return listed(plan, kind); };
    // Only a kind the fixtures hold can show (a declared kind no fixture
    // holds is a gap in the fixtures, not in the plan).
    auto in_full_plan = [&](const std::string& kind) { return listed(plan_for(*builtin), kind); };
    if (filter_documents(pass, in_plan) == filter_documents(pass, in_full_plan) &&
        filter_documents(fail, in_plan) == filter_documents(fail, in_full_plan))
      continue;
    EXPECT_NE(verdicts(*catalog, rule, filter_documents(pass, in_plan), filter_documents(fail, in_plan)),
              want)
        << builtin->id << ": leaving " << hidden
        << " out of its check's needs_kinds() changes nothing in its fixtures";
  }
}

std::vector<std::string> rule_ids(bool set_level_only) {
  std::vector<std::string> ids;
  for (const auto& r : Catalog::builtin().rules())
    if (!set_level_only || r->set_compiled) ids.push_back(r->id);
  return ids;
}

std::string test_name(const ::testing::TestParamInfo<std::string>& info) {
  std::string n = info.param;
  for (char& c : n)
    if (c == '-') c = '_';
  return n;
}

INSTANTIATE_TEST_SUITE_P(Catalog, RuleKinds, ::testing::ValuesIn(rule_ids(false)), test_name);
INSTANTIATE_TEST_SUITE_P(Catalog, SetRuleKinds, ::testing::ValuesIn(rule_ids(true)), test_name);

}  // namespace
}  // namespace kg

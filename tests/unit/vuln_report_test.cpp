// Vulnerabilities in the report model (engines/vuln/findings): one finding per
// match, one rule per id owned by the result, counts per (subject, id), the
// suppressed and the workload-exempted as exempt; and what the renderers make
// of them (report/: text table by risk, JSON array, CycloneDX vulnerabilities).
#include <gtest/gtest.h>

#include <sstream>

#include "engines/vuln/findings.hpp"
#include "model/category.hpp"
#include "report/model.hpp"
#include "report/sbom.hpp"

namespace kg {
namespace {

VulnMatch match(std::string id, std::size_t pkg, std::string name, std::string version, Severity sev, double risk,
                FixState fix, std::string fixed) {
  VulnMatch m;
  m.id = std::move(id);
  m.package = pkg;
  m.package_name = std::move(name);
  m.installed_version = std::move(version);
  m.severity = sev;
  m.risk = risk;
  m.fix = fix;
  m.fixed_version = std::move(fixed);
  m.range = "introduced 0" + (m.fixed_version.empty() ? std::string() : ", fixed " + m.fixed_version);
  m.feed = "osv";
  m.ns = "debian:12";
  return m;
}

struct Fixture {
  CategoryRegistry categories;
  Category images = categories.add("images", "Images");
  ImageInventory inv;
  ImageVulnerabilities iv;
  Fixture() {
    inv.reference = "registry.example/app:1";
    for (const char* n : {"libssl3", "openssl", "zlib1g"}) {
      Package p;
      p.name = n;
      p.version = "1.0";
      p.purl = std::string("pkg:deb/debian/") + n + "@1.0";
      p.evidence.push_back({std::string("/var/lib/dpkg/status.d/") + n, "sha256:aa"});
      inv.packages.push_back(p);
    }
    iv.reference = inv.reference;
    // Sorted by risk, as the matcher gives them.
    iv.matches = {match("CVE-1", 1, "openssl", "1.0", Severity::Critical, 70, FixState::Fixed, "1.1"),
                  match("CVE-1", 0, "libssl3", "1.0", Severity::High, 60, FixState::Fixed, "1.1"),
                  match("CVE-2", 2, "zlib1g", "1.0", Severity::Low, 5, FixState::Unfixed, "")};
    iv.matches[2].suppressed = true;
    iv.matches[2].suppressed_by = ".kguard.yaml:4";
    iv.matches[2].suppress_reason = "not reachable";
  }
};

TEST(VulnReport, OneFindingPerMatchOneRulePerIdCountedPerSubject) {
  Fixture fx;
  EngineResult r;
  vuln::VulnFindings vf(r, fx.images);
  vuln::VulnSubject where;
  where.name = fx.inv.reference;
  where.location.file = fx.inv.reference;
  vf.add(fx.iv, fx.inv, where);
  r.vulnerabilities.push_back(fx.iv);
  vf.finish();
  ASSERT_EQ(r.rules.size(), 2u);
  ASSERT_EQ(r.owned_rules.size(), 2u);
  ASSERT_EQ(r.findings.size(), 3u);
  const RuleInfo& cve1 = *r.rules[0];
  EXPECT_EQ(cve1.id, "CVE-1");
  EXPECT_EQ(cve1.severity, Severity::Critical);  // the highest of its matches
  EXPECT_TRUE(is_vulnerability_rule(cve1));
  EXPECT_EQ(cve1.category, fx.images);
  EXPECT_EQ(cve1.remediation, "Upgrade libssl3 to 1.1, openssl to 1.1.");
  EXPECT_EQ(cve1.zh.remediation, "将 libssl3 升级到 1.1、openssl 升级到 1.1。");
  // Two packages of one image: one failed check.
  EXPECT_EQ(r.tallies[0].failed, 1u);
  EXPECT_EQ(r.tallies[0].evaluated, 1u);
  EXPECT_EQ(r.tallies[1].exempted, 1u);
  EXPECT_EQ(r.tallies[1].evaluated, 0u);
  // Report order: failures first (most severe first), then exemptions.
  const FindingView first = r.findings[0];
  EXPECT_EQ(first.result, Result::Fail);
  EXPECT_EQ(first.subject, "openssl@1.0");
  EXPECT_EQ(first.location.path, "/var/lib/dpkg/status.d/openssl");
  EXPECT_EQ(first.message, "openssl 1.0 is affected (introduced 0, fixed 1.1; osv debian:12); fixed in 1.1");
  const FindingView last = r.findings[2];
  EXPECT_EQ(last.result, Result::Exempt);
  EXPECT_EQ(last.exemption_reason, "not reachable (.kguard.yaml:4)");
  ReportModel m = build_report(r, "2026-01-01T00:00:00Z");
  EXPECT_EQ(m.by_severity[static_cast<std::size_t>(Severity::Critical)], 1u);
  EXPECT_EQ(m.tally.failed, 1u);
  EXPECT_EQ(m.tally.exempted, 1u);
}

TEST(VulnReport, WorkloadExemptionAndRulesSharedAcrossSubjects) {
  Fixture fx;
  EngineResult r;
  vuln::VulnFindings vf(r, fx.images);
  for (std::size_t object = 0; object < 2; ++object) {
    vuln::VulnSubject where;
    where.kind = "Deployment";
    where.name = object == 0 ? "web" : "batch";
    where.container = where.name;
    where.evidence_paths = false;
    where.location.path = "spec.template.spec.containers[0].image";
    where.image = fx.inv.reference;
    where.object = object;
    if (object == 1) {
      where.exempted = [](const RuleInfo& rule, std::string& reason, std::string& until) {
        if (rule.id != "CVE-1") return false;
        reason = "batch is offline";
        until = "2099-01-01";
        return true;
      };
    }
    vf.add(fx.iv, fx.inv, where);
  }
  vf.finish();
  ASSERT_EQ(r.rules.size(), 2u);  // one rule per id, whatever the subjects
  EXPECT_EQ(r.tallies[0].failed, 1u);    // web
  EXPECT_EQ(r.tallies[0].exempted, 1u);  // batch
  std::size_t exempt = 0;
  for (const FindingView f : r.findings) {
    EXPECT_EQ(f.location.path, "spec.template.spec.containers[0].image");
    EXPECT_EQ(f.message.substr(0, 31), "[image registry.example/app:1] ");
    if (f.name == "batch" && f.rule->id == "CVE-1") {
      EXPECT_EQ(f.result, Result::Exempt);
      EXPECT_EQ(f.exemption_reason, "batch is offline");
      EXPECT_EQ(f.exemption_until, "2099-01-01");
      ++exempt;
    }
  }
  EXPECT_EQ(exempt, 2u);
}

TEST(VulnReport, RenderersShowTheTableAndTheArray) {
  Fixture fx;
  EngineResult r;
  vuln::VulnFindings vf(r, fx.images);
  vuln::VulnSubject where;
  where.name = fx.inv.reference;
  vf.add(fx.iv, fx.inv, where);
  r.vulnerabilities.push_back(fx.iv);
  vf.finish();
  const ReportModel m = build_report(r, "2026-01-01T00:00:00Z");
  std::ostringstream text;
  write_text_report(m, text, false);
  const std::string t = text.str();
  const auto table = t.find("4. Vulnerabilities by image");
  ASSERT_NE(table, std::string::npos);
  EXPECT_NE(t.find("2 vulnerabilities (1 critical, 1 high, 0 medium, 0 low), 1 suppressed", table), std::string::npos);
  // By risk: openssl (70) before libssl3 (60).
  EXPECT_LT(t.find("openssl", table), t.find("libssl3", table));
  EXPECT_NE(t.find("suppressed by .kguard.yaml:4: not reachable", table), std::string::npos);
  std::ostringstream json;
  write_json_report(m, json);
  EXPECT_NE(json.str().find("\"vulnerabilities\":[{\"image\":\"registry.example/app:1\""), std::string::npos);
  EXPECT_NE(json.str().find("\"fix\":\"unfixed\""), std::string::npos);
  std::ostringstream bom;
  SbomOptions o;
  o.timestamp = "2026-01-01T00:00:00Z";
  o.uuid = "00000000-0000-4000-8000-000000000000";
  o.vulnerabilities = &fx.iv;
  write_cyclonedx(fx.inv, bom, o);
  EXPECT_NE(bom.str().find("\"affects\":[{\"ref\":\"pkg:deb/debian/openssl@1.0\""), std::string::npos);
  EXPECT_NE(bom.str().find("\"analysis\":{\"state\":\"in_triage\",\"detail\":\".kguard.yaml:4: not reachable\"}"),
            std::string::npos);
}

}  // namespace
}  // namespace kg

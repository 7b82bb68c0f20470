// Upstream conformance: every Pod Security Admission fixture
// (corpora/pod-security/test/testdata/<level>/v1.N/<pass|fail>/<check><n>.yaml)
// evaluated at its folder's level and version. Pass pods must have no PSS
// finding; fail pods must have a finding from the check the file name names,
// or from the restricted check that overrides it at that version (which
// leaves the violations both see to the more severe baseline rule).
#include <gtest/gtest.h>

#include <map>
#include <regex>

#include "engines/scan/scan.hpp"
#include "test_support.hpp"

namespace kg {
namespace {

namespace fs = std::filesystem;

// Fixture check id (lower case) → kguard rule id.
const std::map<std::string, std::string> kRuleForCheck = {
    {"apparmorprofile", "pss-apparmor-profile"},
    {"capabilities_baseline", "pss-capabilities-baseline"},
    {"hostnamespaces", "pss-host-namespaces"},
    {"hostpathvolumes", "pss-host-path-volumes"},
    {"hostports", "pss-host-ports"},
    {"privileged", "pss-privileged"},
    {"procmount", "pss-proc-mount"},
    {"seccompprofile_baseline", "pss-seccomp-baseline"},
    {"selinuxoptions", "pss-selinux-options"},
    {"sysctls", "pss-sysctls"},
    {"windowshostprocess", "pss-windows-host-process"},
    {"hostprobesandhostlifecycle", "pss-host-probes-lifecycle"},
    {"restrictedvolumes", "pss-restricted-volumes"},
    {"runasnonroot", "pss-run-as-non-root"},
    {"allowprivilegeescalation", "pss-allow-privilege-escalation"},
    {"seccompprofile_restricted", "pss-seccomp-restricted"},
    {"capabilities_restricted", "pss-capabilities-restricted"},
    {"runasuser", "pss-run-as-user"},
    {"procmount_restricted", "pss-proc-mount-restricted"},
};

// Upstream's OverrideCheckIDs: at the restricted level, from the given
// version, the baseline check is replaced by the restricted one.
struct Override {
  std::string baseline_rule;
  std::string restricted_rule;
  int from;
};
const Override kOverrides[] = {
    {"pss-host-path-volumes", "pss-restricted-volumes", 0},
    {"pss-seccomp-baseline", "pss-seccomp-restricted", 19},
    {"pss-capabilities-baseline", "pss-capabilities-restricted", 22},
    {"pss-proc-mount", "pss-proc-mount-restricted", 35},
};

TEST(PssConformance, AllUpstreamFixturesAgree) {
  const fs::path root = test::corpora_dir() / "pod-security/test/testdata";
  ASSERT_TRUE(fs::is_directory(root)) << "PSS fixtures not found at " << root
                                      << " (set KGUARD_CORPORA)";
  const std::regex name_re("([a-z_]+?)[0-9]+\\.yaml");
  std::map<std::pair<PssLevel, int>, std::unique_ptr<Scanner>> scanners;
  ScanOptions base;
  base.only = {"pss"};
  auto scanner_for = [&](PssLevel level, int minor) -> const Scanner& {
    auto& s = scanners[{level, minor}];
    if (!s) {
      ScanOptions o = base;
      o.pss_level = level;
      o.pss_minor = minor;
      s = std::make_unique<Scanner>(Catalog::builtin(), o);
    }
    return *s;
  };

  std::size_t total = 0, passes = 0, fails = 0;
  std::vector<std::string> mismatches;
  for (const auto& level_dir : fs::directory_iterator(root)) {
    if (!level_dir.is_directory()) continue;
    const auto level = parse_pss_level(level_dir.path().filename().string());
    ASSERT_TRUE(level) << level_dir.path();
    for (const auto& version_dir : fs::directory_iterator(level_dir.path())) {
      const auto minor = parse_pss_version(version_dir.path().filename().string());
      ASSERT_TRUE(minor) << version_dir.path();
      for (const char* verdict : {"pass", "fail"}) {
        const fs::path dir = version_dir.path() / verdict;
        if (!fs::is_directory(dir)) continue;
        for (const auto& file : fs::directory_iterator(dir)) {
          const std::string fname = file.path().filename().string();
          ++total;
          ScanResult r = scanner_for(*level, *minor)
                             .scan_buffer(file.path().string(), test::read_file(file.path()));
          if (!r.errors.empty()) {
            mismatches.push_back(file.path().string() + ": input error " + r.errors[0].message);
            continue;
          }
          if (r.objects != 1) {
            mismatches.push_back(file.path().string() + ": expected one object");
            continue;
          }
          if (std::string(verdict) == "pass") {
            ++passes;
            if (!r.findings.empty())
              mismatches.push_back(file.path().string() + ": expected pass, got " +
                                   r.findings[0].rule->id + ": " + std::string(r.findings[0].message));
            continue;
          }
          ++fails;
          std::smatch m;
          if (!std::regex_match(fname, m, name_re) || !kRuleForCheck.count(m[1].str())) {
            mismatches.push_back(file.path().string() + ": unknown check in file name");
            continue;
          }
          std::string expected = kRuleForCheck.at(m[1].str());
          // At restricted an overridden pair shares its violations: the one
          // both see is reported by the more severe rule (the baseline one),
          // so either rule of the pair names the failing control.
          std::string also = expected;
          if (*level == PssLevel::Restricted)
            for (const Override& o : kOverrides)
              if ((o.baseline_rule == expected || o.restricted_rule == expected) && *minor >= o.from) {
                expected = o.restricted_rule;
                also = o.baseline_rule;
              }
          bool found = false;
          for (const FindingView f : r.findings) found |= f.rule->id == expected || f.rule->id == also;
          if (!found) {
            std::string got;
            for (const FindingView f : r.findings) got += " " + f.rule->id;
            mismatches.push_back(file.path().string() + ": expected a finding from " + expected +
                                 ", got:" + (got.empty() ? " none" : got));
          }
        }
      }
    }
  }
  EXPECT_EQ(total, 4537u);
  EXPECT_EQ(passes, 1051u);
  EXPECT_EQ(fails, 3486u);
  for (std::size_t i = 0; i < std::min<std::size_t>(mismatches.size(), 40); ++i)
    ADD_FAILURE() << mismatches[i];
  EXPECT_EQ(mismatches.size(), 0u) << "of " << total << " fixtures";
}

}  // namespace
}  // namespace kg

// PSS behaviour that the upstream fixtures do not exercise
// (docs/pss-semantics.md, "Behaviour specified above that no fixture exercises").
#include <gtest/gtest.h>

#include <set>

#include "engines/scan/scan.hpp"

namespace kg {
namespace {

std::set<std::string> failing_rules(const std::string& pod_spec, PssLevel level, int minor,
                                    const std::string& metadata = "") {
  ScanOptions o;
  o.only = {"pss"};
  o.pss_level = level;
  o.pss_minor = minor;
  Scanner s(Catalog::builtin(), o);
  std::string yaml = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n" + metadata + "spec:\n" + pod_spec;
  ScanResult r = s.scan_buffer("t.yaml", yaml);
  EXPECT_TRUE(r.errors.empty()) << (r.errors.empty() ? "" : r.errors[0].message);
  std::set<std::string> ids;
  for (const FindingView f : r.findings) ids.insert(f.rule->id);
  return ids;
}

const std::string kRestrictedSc =
    "  securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}\n";
const std::string kGoodContainerSc =
    "securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}";

TEST(Pss, AppArmorFieldChannel) {
  auto ids = failing_rules("  containers: [{name: c, securityContext: {appArmorProfile: {type: Unconfined}}}]\n",
                           PssLevel::Baseline, 37);
  EXPECT_TRUE(ids.count("pss-apparmor-profile"));
  ids = failing_rules("  securityContext: {appArmorProfile: {type: Localhost, localhostProfile: x}}\n  containers: [{name: c}]\n",
                      PssLevel::Baseline, 37);
  EXPECT_FALSE(ids.count("pss-apparmor-profile"));
}

TEST(Pss, ImageVolumesAreAllowed) {
  auto ids = failing_rules(kRestrictedSc + "  volumes: [{name: v, image: {reference: x}}]\n  containers: [{name: c, " +
                               kGoodContainerSc + "}]\n",
                           PssLevel::Restricted, 37);
  EXPECT_TRUE(ids.empty()) << *ids.begin();
}

TEST(Pss, SeLinuxContainerEngineTypeFromV131) {
  const std::string spec = "  securityContext: {seLinuxOptions: {type: container_engine_t}}\n  containers: [{name: c}]\n";
  EXPECT_TRUE(failing_rules(spec, PssLevel::Baseline, 30).count("pss-selinux-options"));
  EXPECT_FALSE(failing_rules(spec, PssLevel::Baseline, 31).count("pss-selinux-options"));
}

TEST(Pss, NewerSysctlsFailAtOlderVersions) {
  const std::string spec = "  securityContext: {sysctls: [{name: net.ipv4.tcp_rmem, value: '4096'}]}\n  containers: [{name: c}]\n";
  EXPECT_TRUE(failing_rules(spec, PssLevel::Baseline, 31).count("pss-sysctls"));
  EXPECT_FALSE(failing_rules(spec, PssLevel::Baseline, 32).count("pss-sysctls"));
}

TEST(Pss, UserNamespacesRelaxRunAsNonRootAndRunAsUserFromV135) {
  const std::string spec = "  hostUsers: false\n  securityContext: {runAsUser: 0, seccompProfile: {type: RuntimeDefault}}\n"
                           "  containers: [{name: c, " + kGoodContainerSc + "}]\n";
  auto old_ids = failing_rules(spec, PssLevel::Restricted, 34);
  EXPECT_TRUE(old_ids.count("pss-run-as-non-root"));
  EXPECT_TRUE(old_ids.count("pss-run-as-user"));
  EXPECT_TRUE(failing_rules(spec, PssLevel::Restricted, 35).empty());
}

TEST(Pss, PodLevelRunAsNonRootFalseFailsEvenWhenContainersSayTrue) {
  auto ids = failing_rules("  securityContext: {runAsNonRoot: false, seccompProfile: {type: RuntimeDefault}}\n"
                           "  containers: [{name: c, securityContext: {runAsNonRoot: true, allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}}]\n",
                           PssLevel::Restricted, 37);
  EXPECT_EQ(ids, std::set<std::string>{"pss-run-as-non-root"});
}

TEST(Pss, EphemeralContainersAreChecked) {
  auto ids = failing_rules(kRestrictedSc + "  containers: [{name: c, " + kGoodContainerSc +
                               "}]\n  ephemeralContainers: [{name: debug, securityContext: {privileged: true}}]\n",
                           PssLevel::Baseline, 37);
  EXPECT_TRUE(ids.count("pss-privileged"));
}

TEST(Pss, SeccompAnnotationsBeforeV119) {
  const std::string spec = "  containers: [{name: c}]\n";
  EXPECT_FALSE(failing_rules(spec, PssLevel::Baseline, 18,
                             "  annotations: {seccomp.security.alpha.kubernetes.io/pod: docker/default}\n")
                   .count("pss-seccomp-baseline"));
  EXPECT_TRUE(failing_rules(spec, PssLevel::Baseline, 18,
                            "  annotations: {seccomp.security.alpha.kubernetes.io/pod: ''}\n")
                  .count("pss-seccomp-baseline"));
  // From v1.19 the annotations are ignored.
  EXPECT_FALSE(failing_rules(spec, PssLevel::Baseline, 19,
                             "  annotations: {seccomp.security.alpha.kubernetes.io/pod: unconfined}\n")
                   .count("pss-seccomp-baseline"));
}

TEST(Pss, WindowsPodsSkipCapabilityAndSeccompChecksAtRestrictedFromV125) {
  const std::string spec = "  os: {name: windows}\n  securityContext: {runAsNonRoot: true}\n"
                           "  containers: [{name: c, securityContext: {capabilities: {add: [NET_RAW]}}}]\n";
  EXPECT_TRUE(failing_rules(spec, PssLevel::Restricted, 37).empty());
  // Before v1.25 each of the three controls applies to Windows pods too: the
  // exact set, so a control that stopped firing would not hide behind another.
  EXPECT_EQ(failing_rules(spec, PssLevel::Restricted, 24),
            (std::set<std::string>{"pss-allow-privilege-escalation", "pss-capabilities-baseline",
                                   "pss-capabilities-restricted", "pss-seccomp-restricted"}));
  EXPECT_EQ(failing_rules(spec, PssLevel::Restricted, 25), std::set<std::string>{});
  EXPECT_EQ(failing_rules(spec, PssLevel::Baseline, 37),
            std::set<std::string>{"pss-capabilities-baseline"});
}

TEST(Pss, WindowsHostProcessOnItsOwn) {
  EXPECT_TRUE(failing_rules("  containers: [{name: c, securityContext: {windowsOptions: {hostProcess: true}}}]\n",
                            PssLevel::Baseline, 37)
                  .count("pss-windows-host-process"));
}

TEST(Pss, FindingsOnWorkloadsPointAtThePodTemplate) {
  ScanOptions o;
  o.only = {"pss-privileged"};
  Scanner s(Catalog::builtin(), o);
  ScanResult r = s.scan_buffer(
      "d.yaml",
      "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  template:\n    spec:\n"
      "      containers:\n      - name: app\n        securityContext:\n          privileged: true\n");
  ASSERT_EQ(r.findings.size(), 1u);
  EXPECT_EQ(r.findings[0].location.path, "spec.template.spec.containers[0].securityContext.privileged");
  EXPECT_EQ(r.findings[0].location.line, 10u);
  EXPECT_EQ(r.findings[0].location.column, 23u);
  EXPECT_EQ(r.findings[0].container, "app");
}

}  // namespace
}  // namespace kg

// The framework data (rules/data/frameworks/*.yaml) and reference parsing.
#include <gtest/gtest.h>

#include "report/framework.hpp"

namespace kg {
namespace {

TEST(Framework, DataIsSoundAndCoversEveryCatalogReference) {
  const std::vector<std::string> problems = framework_data_problems();
  EXPECT_TRUE(problems.empty()) << problems.size() << " problems, first: " << problems.front();
  EXPECT_EQ(framework_ids(), (std::vector<std::string>{"cis", "mitre", "nsa", "pss"}));
}

TEST(Framework, ReferenceParsing) {
  EXPECT_EQ(control_keys("cis", "CIS 5.2.3-5.2.5"), (std::vector<std::string>{"5.2.3", "5.2.4", "5.2.5"}));
  EXPECT_EQ(control_keys("cis", "CIS 5.1.10"), (std::vector<std::string>{"5.1.10"}));
  EXPECT_EQ(control_keys("mitre", "MITRE ATT&CK for Containers T1611 Escape to Host"),
            (std::vector<std::string>{"t1611"}));
  EXPECT_EQ(control_keys("mitre", "MITRE ATT&CK T1552.007"), (std::vector<std::string>{"t1552.007"}));
  EXPECT_EQ(control_keys("nsa", "NSA/CISA Kubernetes Hardening Guide: image integrity"),
            (std::vector<std::string>{"image integrity"}));
  EXPECT_EQ(control_keys("pss", "PSS baseline: Host Ports"), (std::vector<std::string>{"baseline: host ports"}));
  EXPECT_TRUE(control_keys("cis", "kubescape C-0057").empty());
}

}  // namespace
}  // namespace kg

// The framework data (rules/data/frameworks/*.yaml) and reference parsing.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "catalog/catalog.hpp"
#include "report/framework.hpp"

namespace kg {
namespace {

TEST(Framework, DataIsSoundAndCoversEveryCatalogReference) {
  std::vector<std::string> problems;
  std::vector<std::string> ids;
  const Catalog& catalog = Catalog::builtin();
  for (const CatalogFile& f : embedded_catalog_files()) {
    if (f.path.substr(0, 16) != "data/frameworks/") continue;
    auto fw = parse_framework(f.path, f.content, problems);
    ASSERT_TRUE(fw) << f.path;
    ids.push_back(fw->id);
    EXPECT_EQ(std::string(f.path), "data/frameworks/" + fw->id + ".yaml");
    std::set<std::string> keys;
    for (const FrameworkData::Control& c : fw->controls) {
      for (const std::string& r : c.rules)
        if (!catalog.find(r)) problems.push_back(fw->path + ":" + std::to_string(c.line) + ": no rule " + r);
      keys.insert(c.keys.begin(), c.keys.end());
    }
    // Every reference the catalog makes to this framework names a control.
    for (const auto& rule : catalog.rules())
      for (const std::string& ref : rule->references)
        for (const std::string& k : control_keys(fw->id, ref))
          if (!keys.count(k)) problems.push_back(fw->path + ": " + rule->id + " references \"" + ref + "\", no control");
  }
  EXPECT_TRUE(problems.empty()) << problems.size() << " problems, first: " << problems.front();
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(ids, (std::vector<std::string>{"cis", "mitre", "nsa", "pss"}));
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

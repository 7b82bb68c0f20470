#include <gtest/gtest.h>

#include "core/object.hpp"
#include "test_support.hpp"

namespace kg {
namespace {

std::vector<Object> objects_of(const SourceFile& f, std::vector<InputError>& errors) {
  std::vector<Object> out;
  for (const Document& d : f.documents) collect_objects(f, d, out, errors);
  return out;
}

TEST(Objects, ListsAreUnwrappedWithPaths) {
  auto f = test::load(
      "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: a, namespace: n}\n"
      "- apiVersion: v1\n  kind: ServiceList\n  items:\n  - {apiVersion: v1, kind: Service, metadata: {name: s}}\n");
  std::vector<InputError> errors;
  auto objs = objects_of(*f, errors);
  ASSERT_TRUE(errors.empty());
  ASSERT_EQ(objs.size(), 2u);
  EXPECT_EQ(objs[0].display(), "Pod/n/a");
  EXPECT_EQ(objs[0].path_prefix, "items[0]");
  EXPECT_EQ(objs[1].kind, "Service");
  EXPECT_EQ(objs[1].path_prefix, "items[1].items[0]");
}

TEST(Objects, NonObjectsBecomeErrors) {
  auto f = test::load("- just\n- a list\n---\nmetadata: {name: x}\n");
  std::vector<InputError> errors;
  auto objs = objects_of(*f, errors);
  EXPECT_TRUE(objs.empty());
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[1].line, 4u);
}

TEST(PodViews, EveryWorkloadKindAndCrdsFromConfig) {
  const char* docs[][2] = {
      {"Pod", "spec"},
      {"Deployment", "spec.template.spec"},
      {"CronJob", "spec.jobTemplate.spec.template.spec"},
      {"PodTemplate", "template.spec"},
  };
  PodSpecTable table;
  for (auto& [kind, path] : docs) {
    std::string yaml = std::string("apiVersion: v1\nkind: ") + kind + "\n";
    if (std::string(kind) == "Pod") yaml += "spec: {containers: [{name: c}]}\n";
    else if (std::string(kind) == "CronJob")
      yaml += "spec: {jobTemplate: {spec: {template: {spec: {containers: [{name: c}]}}}}}\n";
    else if (std::string(kind) == "PodTemplate") yaml += "template: {spec: {containers: [{name: c}]}}\n";
    else yaml += "spec: {template: {spec: {containers: [{name: c}]}}}\n";
    auto f = test::load(yaml);
    std::vector<InputError> errors;
    auto objs = objects_of(*f, errors);
    ASSERT_EQ(objs.size(), 1u);
    PodView v = pod_view(objs[0], table);
    ASSERT_TRUE(v) << kind;
    EXPECT_EQ(v.spec_path, path);
  }
  auto f = test::load("apiVersion: x/v1\nkind: Workload\nspec: {pod: {spec: {containers: [{name: c}]}}}\n");
  std::vector<InputError> errors;
  auto objs = objects_of(*f, errors);
  EXPECT_FALSE(pod_view(objs[0], table));
  table.set("Workload", "spec.pod");
  EXPECT_TRUE(pod_view(objs[0], table));
}

TEST(PodViews, ContainersInPssOrderAndEffectiveSecurityContext) {
  auto f = test::load(
      "apiVersion: v1\nkind: Pod\nspec:\n  securityContext: {runAsUser: 1000}\n"
      "  containers: [{name: app, securityContext: {runAsUser: 2000}}, {name: side}]\n"
      "  initContainers: [{name: init}]\n  ephemeralContainers: [{name: debug}]\n");
  std::vector<InputError> errors;
  auto objs = objects_of(*f, errors);
  PodView v = pod_view(objs[0], PodSpecTable());
  auto cs = containers_of(v);
  ASSERT_EQ(cs.size(), 4u);
  EXPECT_EQ(cs[0].name, "init");
  EXPECT_EQ(cs[3].path, "spec.ephemeralContainers[0]");
  Effective app = effective_security_field(v, cs[1], "runAsUser");
  EXPECT_EQ(app.value->text(), "2000");
  EXPECT_FALSE(app.from_pod);
  Effective side = effective_security_field(v, cs[2], "runAsUser");
  EXPECT_EQ(side.value->text(), "1000");
  EXPECT_TRUE(side.from_pod);
  EXPECT_EQ(side.path, "spec.securityContext.runAsUser");
}

}  // namespace
}  // namespace kg

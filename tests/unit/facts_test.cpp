// The fact tables (checks/facts.hpp) as a scan fills them: each worker's
// Inventory records what its plan's collectors read, appended in input
// order; --scope cuts one per scope; a table no plan names is empty.
#include <gtest/gtest.h>

#include "checks/facts.hpp"
#include "core/inventory.hpp"
#include "test_support.hpp"

namespace kg {
namespace {

constexpr const char* kFirst = R"(apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: c, image: nginx:1.27, ports: [{name: http, containerPort: 80}]}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: shop}
data: {a: "1"}
)";

constexpr const char* kSecond = R"(apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: http}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny, namespace: shop}
spec: {podSelector: {}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: other}
spec:
  template:
    spec:
      containers: [{name: c, image: nginx:1.27}]
)";

// One worker's inventory of one file.
Inventory inventory_of(const std::string& text, const std::shared_ptr<const FactPlan>& plan) {
  auto file = test::load(text);
  std::vector<Object> objects;
  std::vector<InputError> errors;
  for (const Document& d : file->documents) collect_objects(*file, d, objects, errors);
  EXPECT_TRUE(errors.empty());
  Inventory inv;
  inv.use(plan);
  const PodSpecTable pod_specs;
  for (const Object& o : objects) inv.add(o, pod_view(o, pod_specs));
  return inv;
}

// Workloads and Services, from the kinds a scan collects facts of (no
// NetworkPolicy, no ConfigMap).
std::shared_ptr<const FactPlan> plan() {
  return std::make_shared<const FactPlan>(
      std::vector<const FactCollector*>{&Workloads::collector(), &Services::collector()},
      std::vector<std::string>{"Deployment", "Service", "ConfigMap"});
}

TEST(FactTables, WorkersMergeInInputOrder) {
  const auto p = plan();
  Inventory inv;
  inv.append(inventory_of(kFirst, p));
  inv.append(inventory_of(kSecond, p));
  ASSERT_EQ(inv.objects.size(), 5u);  // every object's identity, facts or not
  const Workloads& workloads = Workloads::of(inv);
  ASSERT_EQ(workloads.rows.size(), 2u);
  EXPECT_EQ(inv.objects[workloads.rows[0].object].name, "web");
  EXPECT_EQ(workloads.rows[1].object, 4u);  // the second file's third object
  EXPECT_EQ(workloads.rows[0].port_names, std::vector<std::string>{"http"});
  const Services& services = Services::of(inv);
  ASSERT_EQ(services.rows.size(), 1u);
  EXPECT_EQ(services.rows[0].object, 2u);
  EXPECT_EQ(services.in(inv, "shop"), std::vector<std::size_t>{0});
  EXPECT_TRUE(services.in(inv, "other").empty());
  EXPECT_EQ(workloads.in(inv, "other"), std::vector<std::size_t>{1});
}

TEST(FactTables, UnplannedTablesAndKindsCollectNothing) {
  Inventory inv;
  inv.append(inventory_of(kSecond, plan()));
  // NetworkPolicy is in no plan here: the table exists, empty.
  EXPECT_TRUE(NetworkPolicies::of(inv).rows.empty());
  // A planned collector reads only the kinds the scan collects facts of.
  auto narrow = std::make_shared<const FactPlan>(std::vector<const FactCollector*>{&Services::collector()},
                                                 std::vector<std::string>{"Deployment"});
  Inventory only_deployments;
  only_deployments.append(inventory_of(kSecond, narrow));
  EXPECT_TRUE(Services::of(only_deployments).rows.empty());
  EXPECT_EQ(only_deployments.objects.size(), 3u);
}

TEST(FactTables, SubsetKeepsTheFactsOfItsObjectsRenumbered) {
  const auto p = plan();
  Inventory inv;
  inv.append(inventory_of(kFirst, p));
  inv.append(inventory_of(kSecond, p));
  const Inventory part = inv.subset({2, 4});  // the Service and the api Deployment
  ASSERT_EQ(part.objects.size(), 2u);
  ASSERT_EQ(Services::of(part).rows.size(), 1u);
  EXPECT_EQ(Services::of(part).rows[0].object, 0u);
  ASSERT_EQ(Workloads::of(part).rows.size(), 1u);
  EXPECT_EQ(Workloads::of(part).rows[0].object, 1u);
  EXPECT_EQ(part.objects[1].name, "api");
  // Marks of the identity survive the cut (set-level findings point at them).
  EXPECT_EQ(part.objects[0].name_at.line, inv.objects[2].name_at.line);
  EXPECT_NE(part.objects[0].name_at.line, 0u);
}

}  // namespace
}  // namespace kg

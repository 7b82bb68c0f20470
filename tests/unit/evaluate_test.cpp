// The one object-level evaluation (Evaluator::evaluate, catalog/evaluator, called by
// file scans and by evaluate_object for admission): container-scoped
// exemptions as a mask, scan == evaluate_object, and evaluation state that
// belongs to the caller (EvalContext), not to the process.
#include <gtest/gtest.h>

#include <algorithm>
#include <thread>

#include "engines/scan/scan.hpp"
#include "test_support.hpp"

namespace kg {
namespace {

const std::string kThreeContainers = R"(apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - {name: app, image: "nginx:1.25", securityContext: {privileged: true}}
      - {name: sidecar, image: "busybox:1.36", securityContext: {privileged: true}}
      - {name: side2, image: "busybox:1.36", securityContext: {privileged: true}}
)";

ExemptionRule container_exemption(std::vector<std::string> containers, std::string reason) {
  ExemptionRule x;
  x.rules = {"pss-privileged"};
  x.containers = std::move(containers);
  x.reason = std::move(reason);
  x.origin = "test";
  return x;
}

ScanOptions privileged_only() {
  ScanOptions o;
  o.only = {"pss-privileged"};
  return o;
}

template <class Findings>  // a scan's FindingStore or evaluate_object's vector
std::vector<std::string> containers_with(const Findings& fs, Result r) {
  std::vector<std::string> out;
  for (const FindingView f : fs)
    if (f.result == r) out.push_back(std::string(f.container));
  return out;
}

// Objects of `text` (kept alive by `file`) evaluated alone, as admission does.
std::vector<Finding> evaluate_alone(const Scanner& scanner, const std::string& text,
                                    EvalContext* ctx = nullptr) {
  auto file = test::load(text);
  std::vector<Finding> out;
  std::vector<InputError> warnings, errors;
  for (const Document& d : file->documents) {
    std::vector<Object> objects;
    collect_objects(*file, d, objects, errors);
    for (const Object& o : objects) {
      if (ctx) scanner.evaluate_object(o, *ctx, out, warnings);
      else scanner.evaluate_object(o, out, warnings);
    }
  }
  EXPECT_TRUE(errors.empty());
  return out;
}

TEST(Evaluate, ContainerExemptionsMaskOnlyTheirContainers) {
  ScanOptions o = privileged_only();
  o.exemptions = {container_exemption({"side*"}, "sidecars reviewed")};
  Scanner scanner(Catalog::builtin(), o);
  const ScanResult r = scanner.scan_buffer("web.yaml", kThreeContainers);
  EXPECT_EQ(containers_with(r.findings, Result::Fail), std::vector<std::string>{"app"});
  ASSERT_EQ(r.tallies.size(), 1u);
  EXPECT_EQ(r.tallies[0].failed, 1u);
  EXPECT_EQ(r.tallies[0].exempted, 0u);
}

TEST(Evaluate, EveryFailingContainerMaskedExemptsTheCheck) {
  ScanOptions o = privileged_only();
  // Two exemptions together cover every failing container.
  o.exemptions = {container_exemption({"app"}, "app reviewed"),
                  container_exemption({"side*"}, "sidecars reviewed")};
  Scanner scanner(Catalog::builtin(), o);
  const ScanResult r = scanner.scan_buffer("web.yaml", kThreeContainers);
  EXPECT_TRUE(containers_with(r.findings, Result::Fail).empty());
  ASSERT_EQ(r.tallies.size(), 1u);
  EXPECT_EQ(r.tallies[0].exempted, 1u);
  EXPECT_EQ(r.tallies[0].failed, 0u);
}

// A container name is data: one spelled like the old in-band "exempted"
// marker ("\x01") is reported like any other.
TEST(Evaluate, NoContainerNameIsAnExemptionMarker) {
  Scanner scanner(Catalog::builtin(), privileged_only());
  const std::string pod =
      R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},)"
      R"("spec":{"containers":[{"name":"\u0001","image":"a:1","securityContext":{"privileged":true}}]}})";
  const ScanResult r = scanner.scan_buffer("p.json", pod);
  ASSERT_EQ(r.tallies.size(), 1u);
  EXPECT_EQ(r.tallies[0].failed, 1u);
  EXPECT_EQ(containers_with(r.findings, Result::Fail), std::vector<std::string>{"\x01"});
}

TEST(Evaluate, ScanAndEvaluateObjectAgreeWithExemptions) {
  ScanOptions o;
  o.exemptions = {container_exemption({"side*"}, "sidecars reviewed")};
  o.show_passed = true;
  Scanner scanner(Catalog::builtin(), o);
  const ScanResult scanned = scanner.scan_buffer("test.yaml", kThreeContainers);
  const std::vector<Finding> alone = evaluate_alone(scanner, kThreeContainers);
  // Object-level rows only: set-level rules need the whole input.
  std::vector<FindingView> object_rows;
  for (const FindingView f : scanned.findings)
    if (const Rule* r = Catalog::builtin().find(f.rule->id); r->compiled && r->deferral == Deferral::None)
      object_rows.push_back(f);
  ASSERT_EQ(object_rows.size(), alone.size());
  auto key = [](const FindingView& f) {
    return f.rule->id + "|" + std::string(to_string(f.result)) + "|" + std::string(f.container) + "|" +
           std::string(f.message) + "|" + std::string(f.location.path) + "|" + std::to_string(f.location.line) +
           "|" + std::string(f.exemption_reason);
  };
  std::vector<std::string> a, b;
  for (const FindingView& f : object_rows) a.push_back(key(f));
  for (const Finding& f : alone) b.push_back(key(f));
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  EXPECT_EQ(a, b);
}

// Two Roles through one context: the RBAC template's per-object cache must
// not carry the first Role's rules into the second.
TEST(Evaluate, OneContextManyObjects) {
  ScanOptions o;
  o.only = {"security"};
  Scanner scanner(Catalog::builtin(), o);
  const std::string wide = R"(apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: wide, namespace: a}
rules:
- {apiGroups: [""], resources: [secrets], verbs: [get, list]}
- {apiGroups: [""], resources: [pods/exec], verbs: [create]}
)";
  const std::string narrow = R"(apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: narrow, namespace: a}
rules:
- {apiGroups: [""], resources: [configmaps], verbs: [get]}
)";
  EvalContext ctx;
  const std::vector<Finding> first = evaluate_alone(scanner, wide, &ctx);
  const std::vector<Finding> second = evaluate_alone(scanner, narrow, &ctx);
  EXPECT_FALSE(first.empty());
  EXPECT_EQ(second.size(), evaluate_alone(scanner, narrow).size());
  EXPECT_TRUE(std::none_of(second.begin(), second.end(),
                           [](const Finding& f) { return f.result == Result::Fail; }));
}

// Scanners in one process share no mutable state: the same objects judged
// on several threads at once (each with its own context), by two Scanners,
// give what one thread gives.
TEST(Evaluate, ConcurrentScannersAgree) {
  const std::string text = kThreeContainers + R"(---
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg, namespace: shop}
data:
  password: hunter2hunter2
  aws: AKIAIOSFODNN7EXAMPLE
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: admin-ish}
rules:
- {apiGroups: ["*"], resources: ["*"], verbs: ["*"]}
- {apiGroups: [""], resources: [secrets], verbs: [get]}
)";
  Scanner restricted(Catalog::builtin(), ScanOptions{});
  ScanOptions baseline;
  baseline.pss_level = PssLevel::Baseline;
  Scanner base(Catalog::builtin(), baseline);
  const std::size_t want_restricted = evaluate_alone(restricted, text).size();
  const std::size_t want_base = evaluate_alone(base, text).size();
  ASSERT_GT(want_restricted, want_base);
  std::vector<std::size_t> got(8);
  std::vector<std::thread> pool;
  for (std::size_t t = 0; t < got.size(); ++t)
    pool.emplace_back([&, t] {
      EvalContext ctx;
      const Scanner& s = t % 2 ? base : restricted;
      std::size_t n = 0;
      for (int round = 0; round < 20; ++round) n = evaluate_alone(s, text, &ctx).size();
      got[t] = n;
    });
  for (auto& th : pool) th.join();
  for (std::size_t t = 0; t < got.size(); ++t)
    EXPECT_EQ(got[t], t % 2 ? want_base : want_restricted) << t;
}

}  // namespace
}  // namespace kg

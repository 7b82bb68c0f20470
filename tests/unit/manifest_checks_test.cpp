// The manifest and reference check templates through a catalog of test rules:
// parameter validation with the field named, version ranges at their
// boundaries, and references resolved within one input.
#include <gtest/gtest.h>

#include "engines/scan/scan.hpp"

namespace kg {
namespace {

std::string rule_yaml(std::string_view id, std::string_view check, std::string_view params) {
  return "id: " + std::string(id) + "\ntitle: t\ncategory: images\nseverity: low\nrationale: r\n" +
         "remediation: f\nreferences: [x]\nkinds: [workloads, Service, Ingress, HorizontalPodAutoscaler]\ncheck: " +
         std::string(check) + "\nparams: " + std::string(params) + "\n";
}

// Loads one rule; returns the catalog error ("" when it loaded).
std::string load(Catalog& c, std::string_view id, std::string_view check, std::string_view params) {
  const std::string path = "t/" + std::string(id) + "/rule.yaml";
  const std::string text = rule_yaml(id, check, params);
  const CatalogFile files[] = {{path, text}};
  std::vector<InputError> errors;
  c.add_files(files, errors);
  return errors.empty() ? std::string() : errors[0].message;
}

std::string pod_with_image(std::string_view image) {
  return "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: n}\nspec:\n  containers:\n"
         "  - {name: c, image: \"" + std::string(image) + "\"}\n";
}

RuleTally run(const Catalog& c, std::string_view id, std::string yaml) {
  ScanOptions options;
  options.only = {std::string(id)};
  ScanResult r = Scanner(c, options).scan_buffer("in.yaml", std::move(yaml));
  EXPECT_TRUE(r.errors.empty()) << r.errors[0].message;
  return r.tallies.empty() ? RuleTally{} : r.tallies[0];
}

TEST(ImageVersion, RangesAreFromInclusiveBelowExclusive) {
  Catalog c;
  ASSERT_EQ(load(c, "v", "image-version",
                 "{components: [{component: x, images: ['*/acme/x'], advisory: A-1, "
                 "affected: [{below: '1.2.0'}, {from: '2.0.0', below: '2.0.5'}]}]}"),
            "");
  auto failed = [&](std::string_view image) { return run(c, "v", pod_with_image(image)).failed; };
  EXPECT_EQ(failed("ghcr.io/acme/x:v1.1.9"), 1u);
  EXPECT_EQ(failed("ghcr.io/acme/x:1.2.0"), 0u);
  EXPECT_EQ(failed("ghcr.io/acme/x:1.9.9-alpine"), 0u);
  EXPECT_EQ(failed("ghcr.io/acme/x:2.0.0"), 1u);
  EXPECT_EQ(failed("ghcr.io/acme/x:2.0.4@sha256:0000000000000000000000000000000000000000000000000000000000000000"), 1u);
  EXPECT_EQ(failed("ghcr.io/acme/x:2.0.5"), 0u);
  EXPECT_EQ(failed("ghcr.io/acme/x:2.0"), 0u);     // no exact version
  EXPECT_EQ(failed("ghcr.io/acme/x:latest"), 0u);  // no version at all
  EXPECT_EQ(failed("ghcr.io/other/x:1.0.0"), 0u);  // another image
}

TEST(ImageVersion, MalformedComponentsAreRefusedNamingTheEntry) {
  Catalog c;
  EXPECT_NE(load(c, "a", "image-version", "{components: [{component: x, images: ['*'], advisory: A, "
                                          "affected: [{below: soon}]}]}")
                .find("components[0].affected: below must be a version"),
            std::string::npos);
  EXPECT_NE(load(c, "b", "image-version", "{components: [{component: x, images: ['*']}]}")
                .find("components[0] needs component, images, affected and advisory"),
            std::string::npos);
  EXPECT_NE(load(c, "d", "image-expected-tag", "{images: [registry.example.com/app]}").find("name:tag"),
            std::string::npos);
  EXPECT_NE(load(c, "e", "subpath-mount", "{fixedIn: ['1.22.2']}").find("advisory"), std::string::npos);
  // Declared values are checked before the template compiles (registry.cpp).
  EXPECT_NE(load(c, "f", "autoscaling", "{mode: sometimes}")
                .find("'params.mode': 'sometimes' is not one of target-missing, static-replicas"),
            std::string::npos);
  EXPECT_NE(load(c, "g", "reference-target", "{reference: nothing}")
                .find("'params.reference': 'nothing' is not one of statefulset-service"),
            std::string::npos);
  EXPECT_NE(load(c, "h", "volume-source", "{sources: []}").find("sources must list"), std::string::npos);
  EXPECT_TRUE(c.rules().empty());
}

TEST(ImageExpectedTag, ComparesTheCanonicalName) {
  Catalog c;
  ASSERT_EQ(load(c, "t", "image-expected-tag", "{images: ['nginx:1.27.2']}"), "");
  EXPECT_EQ(run(c, "t", pod_with_image("docker.io/library/nginx:1.27.2")).failed, 0u);
  EXPECT_EQ(run(c, "t", pod_with_image("nginx:1.27.1")).failed, 1u);
  EXPECT_EQ(run(c, "t", pod_with_image("index.docker.io/library/nginx")).failed, 1u);
  EXPECT_EQ(run(c, "t", pod_with_image("ghcr.io/nginx:1.0")).failed, 0u);
}

TEST(SortedKeys, ListsNestedMapsAndStopsAtFive) {
  Catalog c;
  ASSERT_EQ(load(c, "s", "sorted-keys", "{}"), "");
  std::string yaml = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n";
  for (int i = 0; i < 8; ++i) yaml += "  - {name: c" + std::to_string(i) + ", image: x}\n";  // name > image
  ScanOptions options;
  options.only = {"s"};
  ScanResult r = Scanner(c, options).scan_buffer("in.yaml", yaml);
  ASSERT_EQ(r.findings.size(), 5u);
  EXPECT_EQ(r.findings[0].location.path, "spec.containers[0].image");
}

TEST(ReferenceTarget, RouteBackendsInUnknownNamespacesAreNotJudged) {
  Catalog c;
  ASSERT_EQ(load(c, "r", "reference-target", "{reference: route-backend}"), "");
  const std::string route =
      "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: r, namespace: a}\n"
      "spec:\n  rules:\n  - backendRefs:\n    - {name: s, namespace: b, port: 80}\n";
  EXPECT_EQ(run(c, "r", route).evaluated, 0u);
  const std::string other_ns = "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: b}\n";
  EXPECT_EQ(run(c, "r", route + other_ns).failed, 1u);
  const std::string service =
      "---\napiVersion: v1\nkind: Service\nmetadata: {name: s, namespace: b}\nspec:\n  ports: [{port: 80}]\n";
  RuleTally t = run(c, "r", route + service);
  EXPECT_EQ(t.evaluated, 1u);
  EXPECT_EQ(t.failed, 0u);
}

}  // namespace
}  // namespace kg

// kguard admit's vulnerability gate, its pure parts: the config section and
// its errors, which policy an image in a namespace gets, what a policy
// decides over a list of matches, the caches the image source is built from
// (LRU, tag TTL, single-flight on workers), and the engine's decision over an
// AdmissionReview. The registry, the scan and the real API server are
// tested through the binary (tests/integration/admit_vulns_test.py,
// tests/e2e/admit_e2e.py).
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "engines/admit/admit.hpp"
#include "engines/admit/image_gate.hpp"
#include "engines/admit/scan_cache.hpp"

namespace kg {
namespace {

using admit::AdmitConfig;
using admit::GateMode;
using admit::OnMiss;
using admit::VulnPolicy;

struct Loaded {
  bool ok = false;
  AdmitConfig admit;
  Config config;
  std::vector<InputError> errors;
  std::string messages() const {
    std::string out;
    for (const auto& e : errors) out += std::to_string(e.line) + ": " + e.message + "\n";
    return out;
  }
};

Loaded load(const std::string& text) {
  static std::atomic<int> n{0};
  const std::string path = std::filesystem::temp_directory_path() /
                           ("kguard-gate-" + std::to_string(::getpid()) + "-" + std::to_string(n++) + ".yaml");
  {
    std::ofstream f(path);
    f << text;
  }
  Loaded l;
  auto c = load_config(path, l.errors);
  std::filesystem::remove(path);
  if (!c) return l;
  l.config = std::move(*c);
  l.ok = admit::read_admit_config(l.config, l.admit, l.errors);
  return l;
}

TEST(AdmitGateConfig, ReadsEveryField) {
  Loaded l = load(R"(admission:
  vulnerabilities:
    - name: prod
      registries: ["registry.example.com/*", "127.0.0.1:*"]
      namespaces: [shop, "team-*"]
      namespaceSelector: {matchLabels: {tier: prod}}
      mode: warn
      failOn: high
      maxRisk: 70.5
      ignoreUnfixed: true
      ignores:
        - {id: CVE-2024-1, package: openssl, reason: "not reachable", until: 2099-01-31}
      onMiss: deny
      budget: 1500
    - fail-on: critical   # the CLI flag's spelling is accepted too
      budget: 2s
)");
  ASSERT_TRUE(l.ok) << l.messages();
  ASSERT_EQ(l.admit.vulnerabilities.size(), 2u);
  const VulnPolicy& p = l.admit.vulnerabilities[0];
  EXPECT_EQ(p.name, "prod");
  EXPECT_EQ(p.registries.size(), 2u);
  EXPECT_EQ(p.mode, GateMode::Warn);
  EXPECT_EQ(*p.fail_on, Severity::High);
  EXPECT_DOUBLE_EQ(*p.max_risk, 70.5);
  EXPECT_TRUE(p.ignore_unfixed);
  ASSERT_EQ(p.ignores.size(), 1u);
  EXPECT_EQ(p.ignores[0].package, "openssl");
  EXPECT_EQ(p.on_miss, OnMiss::Deny);
  EXPECT_EQ(p.budget_ms, 1500);
  EXPECT_FALSE(p.fail_closed);  // warn mode: nothing to fail closed
  EXPECT_EQ(p.threshold(), "failOn: high, maxRisk: 70.5, ignoreUnfixed");
  const VulnPolicy& q = l.admit.vulnerabilities[1];
  EXPECT_EQ(q.name, "policy-2");
  EXPECT_EQ(q.mode, GateMode::Enforce);
  EXPECT_TRUE(q.fail_closed);  // enforced: fail closed by default
  EXPECT_EQ(q.budget_ms, 2000);
}

TEST(AdmitGateConfig, ErrorsNameTheField) {
  struct Case {
    const char* body;
    const char* message;
    int line;
  } cases[] = {
      {"    - {failOn: severe}\n", "admission.vulnerabilities[0].failOn: must be low, medium, high or critical", 3},
      {"    - {fail-on: severe}\n", "admission.vulnerabilities[0].fail-on: must be low, medium, high or critical", 3},
      {"    - {maxRisk: 101}\n", "maxRisk: must be a number from 0 to 100", 3},
      {"    - {mode: block, failOn: high}\n", "mode: must be enforce, warn or audit", 3},
      {"    - {name: x}\n", "admission.vulnerabilities.x: needs a threshold", 3},
      {"    - {failOn: high, onMiss: wait}\n", "onMiss: must be scan, deny or allow", 3},
      {"    - {failOn: high, budget: 2h}\n", "budget: must be a duration from 1ms to 60s", 3},
      {"    - {failOn: high, ignores: [{id: CVE-1}]}\n", "the ignore of CVE-1 needs a reason", 3},
      {"    - {failOn: high, ignores: [{id: CVE-1, reason: r, until: 2024-13-01}]}\n", "until: must be a date", 3},
      {"    - {failOn: high, colour: red}\n", "unknown field 'colour'", 3},
      {"    - {failOn: high, namespaceSelector: {matchExpressions: [{key: a, operator: Near}]}}\n", "namespaceSelector", 3},
      {"    - {name: a, failOn: high}\n    - {name: a, failOn: low}\n", "two policies named 'a'", 4},
  };
  for (const Case& c : cases) {
    Loaded l = load(std::string("admission:\n  vulnerabilities:\n") + c.body);
    EXPECT_FALSE(l.ok) << c.body;
    const std::string m = l.messages();
    EXPECT_NE(m.find(c.message), std::string::npos) << c.body << "\n" << m;
    EXPECT_NE(m.find(std::to_string(c.line) + ": "), std::string::npos) << c.body << "\n" << m;
  }
}

TEST(AdmitGatePolicy, FirstMatchByRegistryAndNamespace) {
  std::vector<VulnPolicy> ps(4);
  ps[0].name = "internal-prod";
  ps[0].registries = {"registry.internal:5000/*"};
  ps[0].namespace_selector.present = true;
  ps[0].namespace_selector.match_labels = {{"tier", "prod"}};
  ps[1].name = "internal";
  ps[1].registries = {"registry.internal:5000/*"};
  ps[2].name = "hub-shop";
  ps[2].registries = {"docker.io/library/*"};
  ps[2].namespaces = {"shop", "team-*"};
  ps[3].name = "rest";
  const Labels prod = {{"tier", "prod"}};
  auto name = [&](std::string_view image, std::string_view ns, const Labels& labels) {
    const VulnPolicy* p = admit::select_policy(ps, image, ns, labels);
    return p ? p->name : std::string("none");
  };
  EXPECT_EQ(name("registry.internal:5000/app:1", "a", prod), "internal-prod");
  EXPECT_EQ(name("registry.internal:5000/app:1", "a", {}), "internal");
  // Docker Hub short names match the normalised form.
  EXPECT_EQ(name("nginx:1.27", "shop", {}), "hub-shop");
  EXPECT_EQ(name("nginx", "team-blue", {}), "hub-shop");
  EXPECT_EQ(name("docker.io/library/nginx@sha256:" + std::string(64, 'a'), "shop", {}), "hub-shop");
  EXPECT_EQ(name("nginx:1.27", "other", {}), "rest");
  EXPECT_EQ(name("quay.io/x/y:1", "shop", {}), "rest");
  ps.pop_back();
  EXPECT_EQ(name("quay.io/x/y:1", "shop", {}), "none");
  EXPECT_EQ(admit::normalise_reference("nginx"), "docker.io/library/nginx:latest");
  EXPECT_EQ(admit::normalise_reference("ghcr.io/a/b:1"), "ghcr.io/a/b:1");
}

VulnMatch match(std::string id, Severity sev, FixState fix, double risk = 0, std::string pkg = "openssl") {
  VulnMatch m;
  m.id = std::move(id);
  m.severity = sev;
  m.fix = fix;
  m.fixed_version = fix == FixState::Fixed ? "3.0.23-1" : "";
  m.risk = risk;
  m.package_name = std::move(pkg);
  m.installed_version = "3.0.22-1";
  return m;
}

TEST(AdmitGatePolicy, JudgeThresholdsIgnoresUnfixed) {
  ImageVulnerabilities v;
  v.matches = {match("CVE-1", Severity::Medium, FixState::Fixed, 80), match("CVE-2", Severity::Critical, FixState::Fixed, 10),
               match("CVE-3", Severity::High, FixState::Unfixed), match("CVE-4", Severity::Low, FixState::Fixed),
               match("CVE-5", Severity::Critical, FixState::Fixed, 0, "zlib"), match("CVE-6", Severity::High, FixState::Fixed)};
  v.matches[5].aliases = {"GHSA-xxxx"};
  v.matches[3].suppressed = true;
  VulnPolicy p;
  p.fail_on = Severity::High;
  auto j = admit::judge_image(p, v, "2026-12-04");
  ASSERT_EQ(j.violations.size(), 4u);
  EXPECT_EQ(j.violations[0]->id, "CVE-2");  // critical, higher risk first
  EXPECT_EQ(j.violations[1]->id, "CVE-5");
  EXPECT_EQ(j.suppressed, 1u);
  EXPECT_EQ(j.counts[static_cast<int>(Severity::Critical)], 2u);
  // max-risk alone: only the risky medium.
  p.fail_on.reset();
  p.max_risk = 50;
  j = admit::judge_image(p, v, "2026-12-04");
  ASSERT_EQ(j.violations.size(), 1u);
  EXPECT_EQ(j.violations[0]->id, "CVE-1");
  // ignore-unfixed, ignores by id, alias and package; an expired ignore no longer applies.
  p.max_risk.reset();
  p.fail_on = Severity::High;
  p.ignore_unfixed = true;
  p.ignores = {{"cve-2", "", "accepted", "", 0}, {"GHSA-xxxx", "", "alias", "", 0},
               {"CVE-5", "openssl*", "wrong package", "", 0}};
  j = admit::judge_image(p, v, "2026-12-04");
  EXPECT_EQ(j.unfixed_skipped, 1u);
  ASSERT_EQ(j.ignored.size(), 2u);
  EXPECT_EQ(j.ignored[0].by->reason, "accepted");
  EXPECT_EQ(j.ignored[1].by->reason, "alias");
  ASSERT_EQ(j.violations.size(), 1u);
  EXPECT_EQ(j.violations[0]->id, "CVE-5");
  p.ignores[0].until = "2026-12-04";  // applies through that day
  j = admit::judge_image(p, v, "2026-12-04");
  EXPECT_EQ(j.violations.size(), 1u);
  p.ignores[0].until = "2026-12-03";
  j = admit::judge_image(p, v, "2026-12-04");
  EXPECT_EQ(j.violations.size(), 2u);
  EXPECT_EQ(admit::describe_match(v.matches[1]), "CVE-2 (critical, risk 10, openssl 3.0.22-1, fixed in 3.0.23-1)");
  EXPECT_EQ(admit::describe_match(v.matches[2]), "CVE-3 (high, openssl 3.0.22-1, no fix yet)");
}

TEST(AdmitGateCache, LruEvictsLeastRecentlyUsed) {
  admit::LruCache<int> c(2);
  c.put("a", 1);
  c.put("b", 2);
  EXPECT_EQ(*c.get("a"), 1);  // a is now the most recent
  c.put("c", 3);              // evicts b
  EXPECT_FALSE(c.get("b"));
  EXPECT_EQ(*c.get("a"), 1);
  EXPECT_EQ(*c.get("c"), 3);
  EXPECT_EQ(c.size(), 2u);
  EXPECT_EQ(c.evictions(), 1u);
  c.put("a", 10);
  EXPECT_EQ(*c.get("a"), 10);
  c.clear();
  EXPECT_EQ(c.size(), 0u);
}

TEST(AdmitGateCache, TagsTrustedForTheTtlOnly) {
  using C = admit::TtlCache<std::string>;
  C c(std::chrono::milliseconds(1000), 2);
  const auto t0 = C::Clock::now();
  c.put("app:1", "sha256:a", t0);
  EXPECT_EQ(*c.get("app:1", t0 + std::chrono::milliseconds(999)), "sha256:a");
  EXPECT_FALSE(c.get("app:1", t0 + std::chrono::milliseconds(1000)));  // expired: asked again
  c.put("x", "1", t0);
  c.put("y", "2", t0 + std::chrono::milliseconds(1));
  c.put("z", "3", t0 + std::chrono::milliseconds(2));  // bounded: the oldest goes
  EXPECT_FALSE(c.get("x", t0 + std::chrono::milliseconds(3)));
  EXPECT_EQ(c.size(), 2u);
  C off(std::chrono::milliseconds(0), 8);  // ttl 0: never trusted
  off.put("a", "b");
  EXPECT_FALSE(off.get("a"));
}

TEST(AdmitGateCache, ConcurrentMissesForOneDigestRunOneScan) {
  admit::SingleFlight<int> flights;
  std::atomic<int> runs{0};
  std::promise<void> gate;
  std::shared_future<void> open = gate.get_future().share();
  admit::Workers workers(2, "test");
  std::vector<std::shared_future<int>> futures;
  int started = 0;
  for (int i = 0; i < 8; ++i) {
    bool s = false;
    futures.push_back(flights.run("sha256:a", workers, [&] {
      open.wait();
      return ++runs * 100;
    }, &s));
    started += s;
  }
  bool s = false;
  auto other = flights.run("sha256:b", workers, [&] { return 7; }, &s);
  EXPECT_TRUE(s);
  EXPECT_EQ(started, 1);
  // A waiter with a deadline gives up while the job goes on.
  EXPECT_EQ(futures[0].wait_until(std::chrono::steady_clock::now() + std::chrono::milliseconds(20)),
            std::future_status::timeout);
  gate.set_value();
  for (auto& f : futures) EXPECT_EQ(f.get(), 100);
  EXPECT_EQ(other.get(), 7);
  EXPECT_EQ(runs.load(), 1);
  // Once done the key is forgotten: the next miss runs again.
  for (int i = 0; i < 100 && flights.in_flight() > 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(flights.run("sha256:a", workers, [&] { return ++runs * 100; }).get(), 200);
}

// An image source over vulnerabilities the test holds, to see the engine's
// decision, messages and audit summary without a registry.
class HeldImages final : public admit::ImageVerdictSource {
 public:
  std::map<std::string, admit::ImageVerdict> by_image;
  std::vector<std::string> asked;
  void prefetch(const std::string&) override {}
  admit::ImageVerdict verdict(const std::string& image, admit::Deadline, bool scan_on_miss) override {
    asked.push_back(image + (scan_on_miss ? " scan" : " no-scan"));
    auto it = by_image.find(image);
    if (it == by_image.end()) return {admit::ImageVerdict::Status::Error, "", nullptr, "unknown image", false, 0};
    return it->second;
  }
  void render_metrics(std::string&) const override {}
};

std::string review_body(const std::string& ns, const std::vector<std::string>& images) {
  std::string containers;
  for (std::size_t i = 0; i < images.size(); ++i)
    containers += std::string(i ? "," : "") + R"({"name":"c)" + std::to_string(i) + R"(","image":")" + images[i] + "\"}";
  return R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u1",)"
         R"("kind":{"group":"","version":"v1","kind":"Pod"},"resource":{"group":"","version":"v1","resource":"pods"},)"
         R"("name":"p","namespace":")" + ns + R"(","operation":"CREATE","userInfo":{"username":"alice"},)"
         R"("object":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[)" + containers +
         "]}}}}";
}

TEST(AdmitGateEngine, DeniesWarnsAndFailsClosed) {
  Loaded l = load(R"(admission:
  vulnerabilities:
    - name: audit-only
      namespaces: [audited]
      mode: audit
      failOn: high
    - name: warned
      namespaces: [soft]
      mode: warn
      failOn: high
    - name: prod
      registries: ["reg.local/*"]
      failOn: high
      ignores: [{id: CVE-9, reason: "accepted by security"}]
)");
  ASSERT_TRUE(l.ok) << l.messages();
  auto held = std::make_shared<HeldImages>();
  auto vulns = std::make_shared<ImageVulnerabilities>();
  vulns->matches = {match("CVE-1", Severity::Critical, FixState::Fixed), match("CVE-9", Severity::High, FixState::Fixed)};
  auto ignored_only = std::make_shared<ImageVulnerabilities>();
  ignored_only->matches = {match("CVE-9", Severity::High, FixState::Fixed)};
  using St = admit::ImageVerdict::Status;
  held->by_image["reg.local/bad:1"] = {St::Scanned, "sha256:" + std::string(64, 'b'), vulns, "", true, 0};
  held->by_image["reg.local/ok:1"] = {St::Scanned, "sha256:" + std::string(64, 'c'), ignored_only, "", false, 12};
  held->by_image["reg.local/slow:1"] = {St::Timeout, "", nullptr, "", false, 0};
  std::vector<InputError> errors;
  auto engine = admit::Engine::create(l.config, l.admit, std::make_shared<admit::ConfigNamespaceSource>(
                                                              std::map<std::string, Labels, std::less<>>{}),
                                      errors, held);
  ASSERT_TRUE(engine);
  const auto later = std::chrono::steady_clock::now() + std::chrono::seconds(10);

  auto out = engine->review(review_body("shop", {"reg.local/bad:1"}), later);
  EXPECT_EQ(out.summary.decision, "deny");
  EXPECT_NE(out.body.find("image reg.local/bad:1 (sha256:bbbb"), std::string::npos) << out.body;
  EXPECT_NE(out.body.find("over vulnerability policy \\\"prod\\\" (failOn: high): CVE-1 (critical, openssl 3.0.22-1, fixed in 3.0.23-1)"),
            std::string::npos)
      << out.body;
  ASSERT_EQ(out.summary.images.size(), 1u);
  EXPECT_EQ(out.summary.images[0].outcome, "violation");
  EXPECT_EQ(out.summary.images[0].cache, "hit");
  EXPECT_EQ(out.summary.images[0].ignored, std::vector<std::string>{"CVE-9"});

  out = engine->review(review_body("shop", {"reg.local/ok:1"}), later);
  EXPECT_EQ(out.summary.decision, "warn") << out.body;
  EXPECT_NE(out.body.find("CVE-9 (high, openssl) ignored: accepted by security"), std::string::npos) << out.body;

  out = engine->review(review_body("shop", {"reg.local/slow:1"}), later);
  EXPECT_EQ(out.summary.decision, "deny");
  EXPECT_NE(out.body.find("cannot be judged"), std::string::npos);
  EXPECT_NE(out.body.find("fails closed"), std::string::npos);

  // Images the policies do not cover are not asked about.
  held->asked.clear();
  out = engine->review(review_body("shop", {"quay.io/other:1"}), later);
  EXPECT_EQ(out.summary.decision, "allow");
  EXPECT_TRUE(held->asked.empty());

  out = engine->review(review_body("soft", {"reg.local/bad:1"}), later);
  EXPECT_EQ(out.summary.decision, "warn");
  EXPECT_NE(out.body.find("[warned] reg.local/bad:1 would be denied"), std::string::npos) << out.body;

  out = engine->review(review_body("audited", {"reg.local/bad:1"}), later);
  EXPECT_EQ(out.summary.decision, "allow");
  EXPECT_NE(out.body.find("image-vulnerabilities-audit"), std::string::npos) << out.body;
}

TEST(AdmitGateEngine, RefusedWithoutAnImageSource) {
  Loaded l = load("admission:\n  vulnerabilities:\n    - {failOn: high}\n");
  ASSERT_TRUE(l.ok) << l.messages();
  std::vector<InputError> errors;
  auto engine = admit::Engine::create(
      l.config, l.admit,
      std::make_shared<admit::ConfigNamespaceSource>(std::map<std::string, Labels, std::less<>>{}), errors);
  EXPECT_FALSE(engine);
  ASSERT_FALSE(errors.empty());
  EXPECT_NE(errors.back().message.find("--vuln-db"), std::string::npos);
}

}  // namespace
}  // namespace kg

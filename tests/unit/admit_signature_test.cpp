// kguard admit's signature gate, its pure parts: the admission.signatures
// config section and its errors, which signature policy an image in a
// namespace gets, and the engine's decision over an AdmissionReview with a
// held ImageSignatureSource. The registry, the keys and cosign's formats are
// tested through the binary (tests/sign/admit_sign_test.py).
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>

#include "engines/admit/admit.hpp"
#include "engines/admit/signature_gate.hpp"

namespace kg {
namespace {

using admit::GateMode;
using admit::SignaturePolicy;
using admit::SignatureVerdict;

struct Loaded {
  bool ok = false;
  admit::AdmitConfig admit;
  Config config;
  std::vector<InputError> errors;
  std::string path;
  std::string messages() const {
    std::string out;
    for (const auto& e : errors) out += std::to_string(e.line) + ": " + e.message + "\n";
    return out;
  }
};

Loaded load(const std::string& text) {
  static std::atomic<int> n{0};
  Loaded l;
  l.path = std::filesystem::temp_directory_path() /
           ("kguard-sig-" + std::to_string(::getpid()) + "-" + std::to_string(n++) + ".yaml");
  {
    std::ofstream f(l.path);
    f << text;
  }
  auto c = load_config(l.path, l.errors);
  std::filesystem::remove(l.path);
  if (!c) return l;
  l.config = std::move(*c);
  l.ok = admit::read_admit_config(l.config, l.admit, l.errors);
  return l;
}

TEST(AdmitSignatureConfig, ReadsEveryField) {
  Loaded l = load(R"(admission:
  signatures:
    - name: prod
      registries: ["reg.local/*"]
      namespaces: [shop]
      namespaceSelector: {matchLabels: {tier: prod}}
      keys: [keys/release.pub, /etc/kguard/old.pub, "pkcs11:token=t;object=o"]
      require: all
      mode: warn
      budget: 2s
      failClosed: true
    - keys: [a.pub]
)");
  ASSERT_TRUE(l.ok) << l.messages();
  ASSERT_EQ(l.admit.signatures.size(), 2u);
  const SignaturePolicy& p = l.admit.signatures[0];
  EXPECT_EQ(p.name, "prod");
  EXPECT_EQ(p.registries, std::vector<std::string>{"reg.local/*"});
  EXPECT_EQ(p.namespaces, std::vector<std::string>{"shop"});
  EXPECT_TRUE(p.namespace_selector.present);
  // Key files relative to the config file's directory; absolute paths and PKCS#11 URIs as written.
  const std::string dir = std::filesystem::path(l.path).parent_path().string() + "/";
  EXPECT_EQ(p.keys, (std::vector<std::string>{dir + "keys/release.pub", "/etc/kguard/old.pub",
                                              "pkcs11:token=t;object=o"}));
  EXPECT_TRUE(p.require_all);
  EXPECT_EQ(p.mode, GateMode::Warn);
  EXPECT_EQ(p.budget_ms, 2000);
  EXPECT_TRUE(p.fail_closed);
  const SignaturePolicy& q = l.admit.signatures[1];
  EXPECT_EQ(q.name, "signatures-2");
  EXPECT_FALSE(q.require_all);
  EXPECT_EQ(q.mode, GateMode::Enforce);
  EXPECT_TRUE(q.fail_closed);  // enforce fails closed unless told otherwise
}

TEST(AdmitSignatureConfig, ErrorsNameTheField) {
  struct Case {
    const char* body;
    const char* message;
    int line;
  } cases[] = {
      {"    - {name: x}\n", "admission.signatures.x: needs keys", 3},
      {"    - {keys: [a.pub], require: most}\n", "admission.signatures[0].require: must be any or all", 3},
      {"    - {keys: [a.pub], mode: block}\n", "mode: must be enforce, warn or audit", 3},
      {"    - {keys: [a.pub], budget: 2h}\n", "budget: must be a duration from 1ms to 60s", 3},
      {"    - {keys: [a.pub], failClosed: maybe}\n", "failClosed: must be true or false", 3},
      {"    - {keys: [a.pub], colour: red}\n", "unknown field 'colour'", 3},
      {"    - {name: a, keys: [a.pub]}\n    - {name: a, keys: [b.pub]}\n", "two policies named 'a'", 4},
  };
  for (const Case& c : cases) {
    Loaded l = load(std::string("admission:\n  signatures:\n") + c.body);
    EXPECT_FALSE(l.ok) << c.body;
    const std::string m = l.messages();
    EXPECT_NE(m.find(c.message), std::string::npos) << c.body << "\n" << m;
    EXPECT_NE(m.find(std::to_string(c.line) + ": "), std::string::npos) << c.body << "\n" << m;
  }
}

TEST(AdmitSignatureConfig, RotationWindowsAndRevocations) {
  const std::string fp = "sha256:" + std::string(64, 'a');
  Loaded l = load(R"(admission:
  revokedKeys: [keys/leaked.pub, ")" + fp + R"("]
  signatures:
    - name: rotating
      keys:
        - {key: keys/old.pub, name: release-2025, notAfter: 2026-12-31}
        - {key: keys/new.pub, name: release-2026, notBefore: "2026-12-01T00:00:00Z"}
        - keys/plain.pub
      revokedKeys: ["pkcs11:token=t;object=stolen"]
    - keys: [a.pub]
)");
  ASSERT_TRUE(l.ok) << l.messages();
  const std::string dir = std::filesystem::path(l.path).parent_path().string() + "/";
  const SignaturePolicy& p = l.admit.signatures[0];
  EXPECT_EQ(p.keys, (std::vector<std::string>{dir + "keys/old.pub", dir + "keys/new.pub", dir + "keys/plain.pub"}));
  ASSERT_EQ(p.key_windows.size(), 3u);
  EXPECT_EQ(p.key_windows[0].name, "release-2025");
  EXPECT_EQ(p.key_windows[0].not_after, 1798761599);  // 2026-12-31T23:59:59Z: a date ends with its day
  EXPECT_EQ(p.key_windows[0].not_before, std::numeric_limits<std::int64_t>::min());
  EXPECT_EQ(p.key_windows[1].not_before, 1796083200);  // 2026-12-01T00:00:00Z
  EXPECT_EQ(p.key_windows[2].name, "");
  // The policy's own revocation first, then the global ones (files relative to the config, the
  // fingerprint as written).
  EXPECT_EQ(p.revoked_keys, (std::vector<std::string>{"pkcs11:token=t;object=stolen", dir + "keys/leaked.pub", fp}));
  EXPECT_EQ(l.admit.signatures[1].revoked_keys, (std::vector<std::string>{dir + "keys/leaked.pub", fp}));
}

TEST(AdmitSignatureConfig, RotationErrorsNameTheField) {
  struct Case {
    const char* body;
    const char* message;
  } cases[] = {
      {"    - {keys: [{key: a.pub, notAfter: soon}]}\n", "keys[0].notAfter: must be a date (2026-12-31) or an RFC 3339 UTC time, not 'soon'"},
      {"    - {keys: [{key: a.pub, notAfter: \"2026-01-01T00:00:00+02:00\"}]}\n", "keys[0].notAfter: must be a date"},
      {"    - {keys: [{name: x}]}\n", "keys[0]: needs key"},
      {"    - {keys: [{key: a.pub, colour: red}]}\n", "keys[0]: unknown field 'colour' (key, name, notBefore, notAfter)"},
      {"    - {keys: [{key: a.pub, notBefore: 2027-01-01, notAfter: 2026-01-01}]}\n", "notBefore is after notAfter"},
      {"    - {keys: [[a.pub]]}\n", "a key is a string or a map"},
      {"    - {keys: [a.pub], revokedKeys: leaked.pub}\n", "revokedKeys: must be a list of strings"},
  };
  for (const Case& c : cases) {
    Loaded l = load(std::string("admission:\n  signatures:\n") + c.body);
    EXPECT_FALSE(l.ok) << c.body;
    const std::string m = l.messages();
    EXPECT_NE(m.find(c.message), std::string::npos) << c.body << "\n" << m;
    EXPECT_NE(m.find("3: "), std::string::npos) << c.body << "\n" << m;
  }
  Loaded g = load("admission:\n  revokedKeys: {a: b}\n");
  EXPECT_FALSE(g.ok);
  EXPECT_NE(g.messages().find("2: admission.revokedKeys: must be a list of strings"), std::string::npos) << g.messages();
}

TEST(AdmitSignatureConfig, Keyless) {
  Loaded l = load(R"(admission:
  signatures:
    - name: ci
      keyless:
        certificateChain: ca/chain.pem
        identityRegexp: "@example\\.com$"
        issuer: https://issuer.example
        timestampCertificateChain: /etc/tsa.pem
    - keys: [a.pub]
      keyless: {trustedRoot: tr.json, identity: dev@example.com, issuerRegexp: ".", ignoreTlog: true}
)");
  ASSERT_TRUE(l.ok) << l.messages();
  const std::string dir = std::filesystem::path(l.path).parent_path().string() + "/";
  const admit::SignatureKeyless& k = l.admit.signatures[0].keyless;
  EXPECT_TRUE(k.present);
  EXPECT_TRUE(l.admit.signatures[0].keys.empty());  // keyless alone is a signer
  EXPECT_EQ(k.certificate_chain, dir + "ca/chain.pem");
  EXPECT_EQ(k.timestamp_chain, "/etc/tsa.pem");
  EXPECT_EQ(k.identity_regexp, "@example\\.com$");
  EXPECT_FALSE(k.ignore_tlog);
  EXPECT_EQ(l.admit.signatures[1].keyless.trusted_root, dir + "tr.json");
  EXPECT_TRUE(l.admit.signatures[1].keyless.ignore_tlog);

  struct Case {
    const char* body;
    const char* message;
  } cases[] = {
      {"    - {keyless: {identity: a, issuer: b, ignoreTlog: true}}\n", "keyless: needs one trust source"},
      {"    - {keyless: {trustedRoot: t, certificateChain: c, identity: a, issuer: b, ignoreTlog: true}}\n",
       "needs one trust source"},
      {"    - {keyless: {trustedRoot: t, issuer: b, ignoreTlog: true}}\n", "needs one of identity or identityRegexp"},
      {"    - {keyless: {trustedRoot: t, identity: a, ignoreTlog: true}}\n", "needs one of issuer or issuerRegexp"},
      {"    - {keyless: {trustedRoot: t, identity: a, issuer: b}}\n", "needs the signing time"},
      {"    - {keyless: {trustedRoot: t, identity: a, issuer: b, ignoreTlog: yes-ish}}\n", "ignoreTlog: must be true or false"},
      {"    - {keyless: {trustedRoot: t, identity: a, issuer: b, ignoreTlog: true, colour: red}}\n", "unknown field 'colour'"},
      {"    - {keyless: [x]}\n", "keyless: must be a map"},
  };
  for (const Case& c : cases) {
    Loaded bad = load(std::string("admission:\n  signatures:\n") + c.body);
    EXPECT_FALSE(bad.ok) << c.body;
    EXPECT_NE(bad.messages().find(c.message), std::string::npos) << c.body << "\n" << bad.messages();
    EXPECT_NE(bad.messages().find("3: "), std::string::npos) << c.body << "\n" << bad.messages();
  }
}

TEST(AdmitSignaturePolicy, FirstMatchByRegistryAndNamespace) {
  std::vector<SignaturePolicy> ps(4);
  ps[0].name = "internal-prod";
  ps[0].registries = {"registry.internal:5000/*"};
  ps[0].namespace_selector.present = true;
  ps[0].namespace_selector.match_labels = {{"tier", "prod"}};
  ps[1].name = "internal-team";
  ps[1].registries = {"registry.internal:5000/team-*/*"};
  ps[1].namespaces = {"team-*"};
  ps[2].name = "hub";
  ps[2].registries = {"docker.io/library/*"};
  ps[3].name = "rest";
  const Labels prod = {{"tier", "prod"}};
  auto name = [&](std::string_view image, std::string_view ns, const Labels& labels) {
    const SignaturePolicy* p = admit::select_signature_policy(ps, image, ns, labels);
    return p ? p->name : std::string("none");
  };
  EXPECT_EQ(name("registry.internal:5000/app:1", "a", prod), "internal-prod");
  EXPECT_EQ(name("registry.internal:5000/team-a/app:1", "team-a", {}), "internal-team");
  EXPECT_EQ(name("registry.internal:5000/team-a/app:1", "other", {}), "rest");
  EXPECT_EQ(name("nginx:1.27", "x", {}), "hub");  // Docker Hub short names match the normalised form
  EXPECT_EQ(name("nginx@sha256:" + std::string(64, 'a'), "x", {}), "hub");
  ps.pop_back();
  EXPECT_EQ(name("quay.io/x/y:1", "x", {}), "none");
}

class HeldSignatures final : public admit::ImageSignatureSource {
 public:
  std::map<std::string, SignatureVerdict> by_image;
  std::vector<std::string> asked;
  SignatureVerdict verify(const std::string& image, const SignaturePolicy& policy, admit::Deadline) override {
    asked.push_back(image + " " + policy.name);
    auto it = by_image.find(image);
    if (it == by_image.end()) return {SignatureVerdict::Status::Error, "", "unknown image", {}, false, 0, {}};
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

TEST(AdmitSignatureEngine, DeniesWarnsAuditsAndFailsClosed) {
  Loaded l = load(R"(admission:
  signatures:
    - {name: audited, namespaces: [audited], mode: audit, keys: [k.pub]}
    - {name: soft, namespaces: [soft], mode: warn, keys: [k.pub]}
    - {name: lenient, namespaces: [lenient], failClosed: false, keys: [k.pub]}
    - {name: prod, registries: ["reg.local/*"], keys: [k.pub]}
)");
  ASSERT_TRUE(l.ok) << l.messages();
  auto held = std::make_shared<HeldSignatures>();
  using St = SignatureVerdict::Status;
  const std::string good = "sha256:" + std::string(64, 'a'), bad = "sha256:" + std::string(64, 'b');
  held->by_image["reg.local/good:1"] = {St::Verified, good, "", {"sha256:0123456789abcdef"}, true, 0, {}};
  held->by_image["reg.local/bad:1"] = {St::Unverified, bad, "no cosign signature found for " + bad, {}, false, 3, {}};
  held->by_image["reg.local/down:1"] = {St::Error, "", "resolving reg.local/down:1: connection refused", {}, false, 0, {}};
  std::vector<InputError> errors;
  auto engine = admit::Engine::create(
      l.config, l.admit,
      std::make_shared<admit::ConfigNamespaceSource>(std::map<std::string, Labels, std::less<>>{}), errors, nullptr,
      held);
  ASSERT_TRUE(engine) << (errors.empty() ? "" : errors.front().message);
  const auto later = std::chrono::steady_clock::now() + std::chrono::seconds(10);

  auto out = engine->review(review_body("shop", {"reg.local/good:1"}), later);
  EXPECT_EQ(out.summary.decision, "allow") << out.body;
  ASSERT_EQ(out.summary.signatures.size(), 1u);
  EXPECT_EQ(out.summary.signatures[0].outcome, "verified");
  EXPECT_EQ(out.summary.signatures[0].cache, "hit");
  EXPECT_EQ(out.summary.signatures[0].digest, good);

  // The denial names the image, the digest, the policy and the reason.
  out = engine->review(review_body("shop", {"reg.local/good:1", "reg.local/bad:1"}), later);
  EXPECT_EQ(out.summary.decision, "deny");
  EXPECT_NE(out.body.find("image reg.local/bad:1 (" + bad + ") is not signed as signature policy \\\"prod\\\" requires: "
                          "no cosign signature found"),
            std::string::npos)
      << out.body;
  EXPECT_EQ(out.summary.signatures.size(), 2u);

  out = engine->review(review_body("shop", {"reg.local/down:1"}), later);
  EXPECT_EQ(out.summary.decision, "deny");
  EXPECT_NE(out.body.find("cannot be verified: resolving reg.local/down:1: connection refused"), std::string::npos);
  EXPECT_NE(out.body.find("fails closed"), std::string::npos);
  EXPECT_EQ(out.summary.signatures[0].outcome, "error");

  out = engine->review(review_body("lenient", {"reg.local/down:1"}), later);
  EXPECT_NE(out.summary.decision, "deny") << out.body;
  EXPECT_NE(out.body.find("[lenient] image reg.local/down:1 cannot be verified"), std::string::npos) << out.body;
  // Failing open is for an unreachable registry only: an answered "unsigned" still denies.
  out = engine->review(review_body("lenient", {"reg.local/bad:1"}), later);
  EXPECT_EQ(out.summary.decision, "deny");

  out = engine->review(review_body("soft", {"reg.local/bad:1"}), later);
  EXPECT_EQ(out.summary.decision, "warn");
  EXPECT_NE(out.body.find("[soft] image reg.local/bad:1"), std::string::npos) << out.body;

  out = engine->review(review_body("audited", {"reg.local/bad:1"}), later);
  EXPECT_EQ(out.summary.decision, "allow");
  EXPECT_NE(out.body.find("image-signatures-audit"), std::string::npos) << out.body;

  // Images no policy covers are not asked about.
  held->asked.clear();
  out = engine->review(review_body("shop", {"quay.io/other:1"}), later);
  EXPECT_EQ(out.summary.decision, "allow");
  EXPECT_TRUE(held->asked.empty());
}

TEST(AdmitSignatureEngine, RefusedWithoutAVerifier) {
  Loaded l = load("admission:\n  signatures:\n    - {keys: [k.pub]}\n");
  ASSERT_TRUE(l.ok) << l.messages();
  std::vector<InputError> errors;
  auto engine = admit::Engine::create(
      l.config, l.admit,
      std::make_shared<admit::ConfigNamespaceSource>(std::map<std::string, Labels, std::less<>>{}), errors);
  EXPECT_FALSE(engine);
  ASSERT_FALSE(errors.empty());
  EXPECT_NE(errors.back().message.find("admission.signatures"), std::string::npos);
}

}  // namespace
}  // namespace kg

namespace kg {
namespace {

TEST(AdmitSignatureAttestations, ReadsRequirements) {
  Loaded l = load(R"(admission:
  signatures:
    - name: prod
      keys: [release.pub, old.pub]
      attestations:
        - vuln
        - type: cyclonedx
          keys: [sbom.pub]
          require: all
        - {type: "https://example.com/custom/v1", max-severity: high, maxAge: 7d, requireSbom: true}
)");
  ASSERT_TRUE(l.ok) << l.messages();
  const SignaturePolicy& p = l.admit.signatures[0];
  ASSERT_EQ(p.attestations.size(), 3u);
  const auto& vuln = p.attestations[0];
  EXPECT_EQ(vuln.predicate_type, "https://cosign.sigstore.dev/attestation/vuln/v1");
  EXPECT_EQ(vuln.line, 6u);
  // No keys of its own: the policy's, with the policy's any/all.
  EXPECT_EQ(admit::attestation_keys(p, vuln), p.keys);
  EXPECT_FALSE(admit::attestation_require_all(p, vuln));
  const auto& sbom = p.attestations[1];
  EXPECT_EQ(sbom.predicate_type, "https://cyclonedx.org/bom");
  const std::string dir = std::filesystem::path(l.path).parent_path().string() + "/";
  EXPECT_EQ(sbom.keys, std::vector<std::string>{dir + "sbom.pub"});
  EXPECT_TRUE(admit::attestation_require_all(p, sbom));
  const auto& custom = p.attestations[2];
  EXPECT_EQ(custom.predicate_type, "https://example.com/custom/v1");
  EXPECT_EQ(custom.max_severity, 2);
  EXPECT_EQ(custom.max_age_s, 7 * 86400);
  EXPECT_TRUE(custom.require_sbom);
  // The cache key changes with every requirement: a verdict under one policy never answers another.
  SignaturePolicy q = p;
  EXPECT_EQ(admit::verdict_cache_key(q), admit::verdict_cache_key(p));
  q.attestations[2].max_severity = 3;
  EXPECT_NE(admit::verdict_cache_key(q), admit::verdict_cache_key(p));
  q = p;
  q.attestations.pop_back();
  EXPECT_NE(admit::verdict_cache_key(q), admit::verdict_cache_key(p));
}

TEST(AdmitSignatureAttestations, ErrorsNameTheLine) {
  struct Case {
    const char* body;
    const char* message;
    int line;
  } cases[] = {
      {"      attestations: vuln\n", "admission.signatures.p.attestations: must be a list of predicate types", 5},
      {"      attestations: [vuln, \"not a type\"]\n", "attestations[1].type: 'not a type' is not a predicate type", 5},
      {"      attestations:\n        - {keys: [a.pub]}\n", "attestations[0]: needs type", 6},
      {"      attestations:\n        - vuln\n        - {type: vuln, maxSeverity: severe}\n",
       "attestations.vuln.maxSeverity: must be low, medium, high or critical, not 'severe'", 7},
      {"      attestations:\n        - {type: vuln, maxAge: soon}\n", "attestations.vuln.maxAge: must be a duration", 6},
      {"      attestations:\n        - {type: vuln, requireSbom: often}\n", "requireSbom: must be true or false", 6},
      {"      attestations:\n        - {type: vuln, require: most}\n", "require: must be any or all, not 'most'", 6},
      {"      attestations:\n        - {type: vuln, colour: red}\n", "attestations.vuln: unknown field 'colour'", 6},
      {"      attestations:\n        - vuln\n        - https://cosign.sigstore.dev/attestation/vuln/v1\n",
       "https://cosign.sigstore.dev/attestation/vuln/v1 is required twice", 7},
  };
  for (const Case& c : cases) {
    Loaded l = load(std::string("admission:\n  signatures:\n    - name: p\n      keys: [a.pub]\n") + c.body +
                    "    - {name: later, keys: [b.pub], mode: sideways}\n");
    EXPECT_FALSE(l.ok) << c.body;
    const std::string m = l.messages();
    EXPECT_NE(m.find(std::to_string(c.line) + ": "), std::string::npos) << c.body << "\n" << m;
    EXPECT_NE(m.find(c.message), std::string::npos) << c.body << "\n" << m;
    // The rest of the section is still read: the later policy's own error is reported too.
    EXPECT_NE(m.find("admission.signatures.later.mode"), std::string::npos) << c.body << "\n" << m;
  }
}

TEST(AdmitSignatureAttestations, EachRefusedAttestationIsADenialReason) {
  Loaded l = load(R"(admission:
  signatures:
    - {name: soft, namespaces: [soft], mode: warn, keys: [k.pub], attestations: [vuln]}
    - {name: prod, keys: [k.pub], attestations: [vuln, cyclonedx]}
)");
  ASSERT_TRUE(l.ok) << l.messages();
  auto held = std::make_shared<HeldSignatures>();
  using St = SignatureVerdict::Status;
  const std::string d = "sha256:" + std::string(64, 'c');
  SignatureVerdict both{St::Verified, d, "", {"sha256:0123456789abcdef"}, false, 1, {}};
  both.attestations = {{"https://cosign.sigstore.dev/attestation/vuln/v1", "failed",
                        "max-severity: a critical vulnerability (CVE-2099-0001) at scan time, above high", {}},
                       {"https://cyclonedx.org/bom", "missing", "no attestation of this type signed by the key k.pub", {}}};
  held->by_image["reg.local/app:1"] = both;
  SignatureVerdict fine = both;
  fine.attestations[0].outcome = fine.attestations[1].outcome = "verified";
  held->by_image["reg.local/fine:1"] = fine;
  std::vector<InputError> errors;
  auto engine = admit::Engine::create(
      l.config, l.admit,
      std::make_shared<admit::ConfigNamespaceSource>(std::map<std::string, Labels, std::less<>>{}), errors, nullptr,
      held);
  ASSERT_TRUE(engine);
  const auto later = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  auto out = engine->review(review_body("shop", {"reg.local/app:1"}), later);
  EXPECT_EQ(out.summary.decision, "deny");
  // One reason per attestation, each naming the image, the digest, the predicate type and why.
  EXPECT_NE(out.body.find("image reg.local/app:1 (" + d + ") fails the attestation "
                          "https://cosign.sigstore.dev/attestation/vuln/v1 that signature policy \\\"prod\\\" requires: "
                          "max-severity: a critical vulnerability (CVE-2099-0001)"),
            std::string::npos)
      << out.body;
  EXPECT_NE(out.body.find("image reg.local/app:1 (" + d + ") lacks the attestation https://cyclonedx.org/bom that "
                          "signature policy \\\"prod\\\" requires: no attestation of this type"),
            std::string::npos)
      << out.body;
  ASSERT_EQ(out.summary.signatures.size(), 1u);
  EXPECT_EQ(out.summary.signatures[0].outcome, "verified");  // the signature itself was fine
  EXPECT_EQ(out.summary.signatures[0].attestations.size(), 2u);
  out = engine->review(review_body("shop", {"reg.local/fine:1"}), later);
  EXPECT_EQ(out.summary.decision, "allow") << out.body;
  out = engine->review(review_body("soft", {"reg.local/app:1"}), later);
  EXPECT_EQ(out.summary.decision, "warn") << out.body;
}

}  // namespace
}  // namespace kg

// engines/sign/attest without a registry: cosign's predicate type table, the statements and DSSE
// envelopes kguard writes, an envelope cosign attest wrote (fuzz/corpus/sign_dsse), the checks a
// verifier makes (signature over PAE, subject digest), and the content policy.
#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <sstream>

#include "core/base64.hpp"
#include "engines/sign/attest.hpp"
#include "engines/sign/keys.hpp"

namespace {

using namespace kg::sign;

std::string slurp(const std::string& rel) {
  std::ifstream in(std::string(KGUARD_SOURCE_DIR) + "/" + rel, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

const std::string kDigest = "sha256:" + std::string(64, 'b');

std::string what(const std::function<void()>& f) {
  try {
    f();
  } catch (const SignError& e) {
    return e.what();
  }
  return "";
}

TEST(Attest, PredicateTypesAsCosign) {
  EXPECT_EQ(predicate_type_uri("cyclonedx"), "https://cyclonedx.org/bom");
  EXPECT_EQ(predicate_type_uri("spdxjson"), "https://spdx.dev/Document");
  EXPECT_EQ(predicate_type_uri("vuln"), "https://cosign.sigstore.dev/attestation/vuln/v1");
  EXPECT_EQ(predicate_type_uri("custom"), "https://cosign.sigstore.dev/attestation/v1");
  EXPECT_EQ(predicate_type_uri("slsaprovenance"), "https://slsa.dev/provenance/v0.2");
  EXPECT_EQ(predicate_type_uri("slsaprovenance1"), "https://slsa.dev/provenance/v1");
  EXPECT_EQ(predicate_type_uri("https://example.com/p/v1"), "https://example.com/p/v1");
  EXPECT_NE(what([] { predicate_type_uri("sbom"); }).find("invalid predicate type"), std::string::npos);
  EXPECT_EQ(attestation_tag(kDigest), "sha256-" + std::string(64, 'b') + ".att");
}

TEST(Attest, StatementsAsCosignWritesThem) {
  std::string st = build_statement("custom", "hello\n", "reg/app", kDigest, "2026-12-04T00:00:00Z", "p");
  EXPECT_EQ(st, "{\"_type\":\"https://in-toto.io/Statement/v0.1\",\"predicateType\":"
                "\"https://cosign.sigstore.dev/attestation/v1\",\"subject\":[{\"name\":\"reg/app\",\"digest\":{\"sha256\":\"" +
                    std::string(64, 'b') + "\"}}],\"predicate\":{\"Data\":\"hello\\n\",\"Timestamp\":\"2026-12-04T00:00:00Z\"}}");
  Statement s = parse_statement(build_statement("cyclonedx", " {\"bomFormat\":\"CycloneDX\"}\n", "reg/app", kDigest, "", "p"), "s");
  EXPECT_EQ(s.predicate_type, "https://cyclonedx.org/bom");
  EXPECT_EQ(s.subject_digests, std::vector<std::string>{kDigest});
  // JSON predicates must be JSON; the message names the file.
  EXPECT_NE(what([] { build_statement("vuln", "not json", "r", kDigest, "", "scan.json"); }).find("scan.json"), std::string::npos);
  // spdx (tag-value) is a string predicate.
  EXPECT_NE(build_statement("spdx", "SPDXVersion: SPDX-2.3", "r", kDigest, "", "p").find("\"predicate\":\"SPDXVersion"),
            std::string::npos);
}

TEST(Attest, EnvelopeSignedOverPaeAndBoundToTheDigest) {
  KeyPairFiles files = generate_key_pair("pw");
  auto signer = load_private_key(files.private_pem, "pw", "k");
  PublicKey pub = PublicKey::from_pem(files.public_pem, "k.pub");
  std::vector<const PublicKey*> keys = {&pub};
  std::string st = build_statement("vuln", "{}", "reg/app", kDigest, "", "p");
  std::string env = build_dsse_envelope(kInTotoPayloadType, st, signer->sign(dsse_pae(kInTotoPayloadType, st)));
  DsseEnvelope e = parse_dsse_envelope(env, "env");
  std::string key;
  FullStatement ok = check_envelope(e.payload_type, e.payload, e.signatures, keys, kDigest, key);
  EXPECT_EQ(key, pub.fingerprint());
  EXPECT_EQ(ok.header.predicate_type, kPredicateVuln);
  // The signature is over the PAE, not the bare payload.
  std::string bare = build_dsse_envelope(kInTotoPayloadType, st, signer->sign(st));
  DsseEnvelope b = parse_dsse_envelope(bare, "bare");
  EXPECT_NE(what([&] { check_envelope(b.payload_type, b.payload, b.signatures, keys, kDigest, key); }).find("does not verify"),
            std::string::npos);
  // A changed payload, another digest, another payload type.
  std::string changed = e.payload;
  changed[changed.size() - 2] = ' ';
  EXPECT_NE(what([&] { check_envelope(e.payload_type, changed, e.signatures, keys, kDigest, key); }).find("does not verify"),
            std::string::npos);
  std::string other = "sha256:" + std::string(64, 'c');
  EXPECT_NE(what([&] { check_envelope(e.payload_type, e.payload, e.signatures, keys, other, key); }).find("not the image's"),
            std::string::npos);
  EXPECT_NE(what([&] { check_envelope("text/plain", e.payload, e.signatures, keys, kDigest, key); }).find("payloadType"),
            std::string::npos);
  EXPECT_NE(what([] { parse_dsse_envelope("{\"payloadType\":\"x\",\"payload\":\"e30=\",\"signatures\":[]}", "f.json"); })
                .find("no signature"),
            std::string::npos);
}

TEST(Attest, ReadsAnEnvelopeCosignWrote) {
  DsseEnvelope e = parse_dsse_envelope(slurp("fuzz/corpus/sign_dsse/cosign-attest-0.json"), "cosign");
  EXPECT_EQ(e.payload_type, "application/vnd.in-toto+json");
  ASSERT_EQ(e.signatures.size(), 1u);
  Statement s = parse_statement(e.payload, "statement");
  EXPECT_EQ(s.type, kInTotoStatementV01);
  EXPECT_EQ(s.predicate_type, kPredicateVuln);
  // cosign's vuln predicate: a CRITICAL (Trivy's spelling) fails max-severity high, names its id.
  AttestationPolicy p;
  p.max_severity = 2;
  p.max_age = 7 * 86400;
  auto finished = parse_rfc3339("2026-12-01T10:00:05+01:00");
  ASSERT_TRUE(finished);
  auto checks = check_statement(p, e.payload, *finished + 86400);
  ASSERT_EQ(checks.size(), 2u);
  EXPECT_FALSE(checks[0].passed);
  EXPECT_NE(checks[0].detail.find("critical vulnerability (CVE-2099-7777)"), std::string::npos) << checks[0].detail;
  EXPECT_TRUE(checks[1].passed) << checks[1].detail;
  checks = check_statement(p, e.payload, *finished + 30 * 86400);
  EXPECT_FALSE(checks[1].passed);
  EXPECT_NE(checks[1].detail.find("older than 7d"), std::string::npos) << checks[1].detail;
  p.max_severity = 3;
  EXPECT_TRUE(check_statement(p, e.payload, *finished)[0].passed);
}

TEST(Attest, CycloneDxVulnerabilitiesAndAnalysis) {
  std::string st = slurp("fuzz/corpus/sign_statement/cosign-statement-1.json");
  AttestationPolicy p;
  p.max_severity = 2;  // the critical one is not_affected: only the high counts
  auto c = check_statement(p, st, 0);
  EXPECT_TRUE(c[0].passed) << c[0].detail;
  p.max_severity = 1;
  c = check_statement(p, st, 0);
  EXPECT_FALSE(c[0].passed);
  EXPECT_NE(c[0].detail.find("high vulnerability (CVE-2099-1)"), std::string::npos) << c[0].detail;
  // An SBOM without a scan cannot vouch for severities.
  std::string bare = build_statement("cyclonedx", "{\"bomFormat\":\"CycloneDX\"}", "r", kDigest, "", "p");
  c = check_statement(p, bare, 0);
  EXPECT_FALSE(c[0].passed);
  EXPECT_NE(c[0].detail.find("no vulnerabilities section"), std::string::npos);
}

TEST(Attest, TimesDurationsAndPolicyFiles) {
  EXPECT_EQ(parse_rfc3339("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(parse_rfc3339("2026-12-04T21:00:00.123456789Z"), 1796418000);
  EXPECT_EQ(parse_rfc3339("2026-12-04T22:00:00+01:00"), 1796418000);
  EXPECT_FALSE(parse_rfc3339("2026-12-04"));
  EXPECT_FALSE(parse_rfc3339("2026-13-04T00:00:00Z"));
  EXPECT_FALSE(parse_rfc3339("2026-12-04T00:00:00"));
  EXPECT_EQ(parse_duration("7d"), 7 * 86400);
  EXPECT_EQ(parse_duration("2w"), 14 * 86400);
  EXPECT_EQ(parse_duration("90s"), 90);
  EXPECT_FALSE(parse_duration("7"));
  EXPECT_FALSE(parse_duration("0d"));
  EXPECT_FALSE(parse_duration("-1d"));
  AttestationPolicy p = parse_policy("# gate\nmax-severity: \"high\"\nmax-age: 7d  # a week\nrequire-sbom: true\n", "p.yaml");
  EXPECT_EQ(p.max_severity, 2);
  EXPECT_EQ(p.max_age, 7 * 86400);
  EXPECT_TRUE(p.require_sbom);
  EXPECT_NE(what([] { parse_policy("max-severity: high\nmax-sev: low\n", "p.yaml"); }).find("p.yaml:2: unknown key"),
            std::string::npos);
  EXPECT_NE(what([] { parse_policy("max-severity: severe\n", "p.yaml"); }).find("p.yaml:1: max-severity"),
            std::string::npos);
}

}  // namespace

// Handling each risk (engines/vuln/handling): ignores in .kguard.yaml, OpenVEX
// and CycloneDX VEX documents, purl matching, and the report's words for what
// was suppressed. Documents are real-world ones (tests/testdata/vex/SOURCES.md
// names each source: the OpenVEX v0.2.0 spec's examples, CycloneDX's
// bom-examples, Trivy's documentation) or shaped after them.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "engines/vuln/handling/handling.hpp"
#include "engines/vuln/handling/purl.hpp"
#include "engines/vuln/handling/vex.hpp"
#include "model/vuln_text.hpp"
#include "test_support.hpp"

namespace kg::vuln {
namespace {

const std::filesystem::path kVexDir = std::filesystem::path(KGUARD_SOURCE_DIR) / "tests/testdata/vex";

std::string vex_path(const std::string& name) { return (kVexDir / name).string(); }

// An image: its inventory and the matches the matcher would have produced.
struct Image {
  ImageInventory inv;
  ImageVulnerabilities vulns;

  Image() {
    inv.reference = "ghcr.io/aquasecurity/trivy:0.52.0";
    inv.manifest_digest = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
    inv.config_digest = "sha256:2222222222222222222222222222222222222222222222222222222222222222";
    vulns.reference = inv.reference;
    vulns.manifest_digest = inv.manifest_digest;
  }
  std::size_t add(PackageType type, std::string name, std::string version, std::string purl,
                  std::string source = "", std::string path = "/lib/apk/db/installed") {
    Package p;
    p.type = type;
    p.name = std::move(name);
    p.version = std::move(version);
    p.purl = std::move(purl);
    p.source_name = std::move(source);
    p.evidence.push_back({std::move(path), "sha256:aaaa"});
    inv.packages.push_back(std::move(p));
    return inv.packages.size() - 1;
  }
  VulnMatch& match(std::string id, std::size_t package, std::vector<std::string> aliases = {},
                   FixState fix = FixState::Fixed) {
    VulnMatch m;
    m.id = std::move(id);
    m.aliases = std::move(aliases);
    m.package = package;
    m.package_name = inv.packages[package].name;
    m.installed_version = inv.packages[package].version;
    m.purl = inv.packages[package].purl;
    m.matched_name = inv.packages[package].source_name.empty() ? m.package_name : inv.packages[package].source_name;
    m.fix = fix;
    vulns.matches.push_back(std::move(m));
    return vulns.matches.back();
  }
  HandlingReport apply(const HandlingPolicy& p, std::string_view today = "2026-12-04") {
    return apply_handling(vulns, inv, p, today);
  }
};

HandlingPolicy vex_policy(std::vector<std::string> files, std::vector<InputError>& errors) {
  for (std::string& f : files) f = vex_path(f);
  return load_handling(nullptr, files, errors);
}

HandlingPolicy vex_text_policy(const std::string& text, std::vector<InputError>& errors,
                               const std::string& name = "vex.json") {
  HandlingPolicy p;
  parse_vex(name, text, p.statements, errors);
  for (std::size_t i = 0; i < p.statements.size(); ++i) p.statements[i].order = i;
  return p;
}

std::string joined(const std::vector<InputError>& errors) {
  std::string out;
  for (const InputError& e : errors)
    out += e.file + ":" + std::to_string(e.line) + ": " + e.message + "\n";
  return out;
}

// An OpenVEX document with one statement about `product` (a JSON object).
std::string openvex_one(const std::string& vuln, const std::string& product, const std::string& status,
                        const std::string& extra = "") {
  return R"({"@context": "https://openvex.dev/ns/v0.2.0", "@id": "https://openvex.dev/docs/example/vex-1",
  "author": "t", "timestamp": "2024-01-01T00:00:00Z", "version": 1,
  "statements": [{"vulnerability": {"name": ")" + vuln + R"("}, "products": [)" + product +
         R"(], "status": ")" + status + "\"" + extra + "}]}";
}

// ---- purl ----------------------------------------------------------------

TEST(VulnPurl, ParsesPartsAndDecodes) {
  auto p = parse_purl("pkg:npm/%40angular/core@16.2.1?arch=x86_64#lib/x");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->type, "npm");
  EXPECT_EQ(p->ns, "@angular");
  EXPECT_EQ(p->name, "core");
  EXPECT_EQ(p->version, "16.2.1");
  EXPECT_EQ(p->qualifier("arch"), "x86_64");
  EXPECT_EQ(p->subpath, "lib/x");
  auto oci = parse_purl("pkg:oci/trivy@sha256%3Aabc?repository_url=ghcr.io%2Faquasecurity%2Ftrivy");
  ASSERT_TRUE(oci);
  EXPECT_EQ(oci->version, "sha256:abc");
  EXPECT_EQ(oci->qualifier("repository_url"), "ghcr.io/aquasecurity/trivy");
  EXPECT_FALSE(parse_purl("npm/foo@1"));
  EXPECT_FALSE(parse_purl("pkg:npm"));
  EXPECT_FALSE(parse_purl("pkg:npm/foo@1%G0"));
  EXPECT_FALSE(parse_purl("pkg:npm/foo?arch"));
}

TEST(VulnPurl, MatchesAsOpenVexDoes) {
  // A purl without a version matches every version (go-vex PurlMatches).
  EXPECT_TRUE(purl_matches("pkg:apk/wolfi/git", "pkg:apk/wolfi/git@2.39.0-r1?arch=x86_64"));
  EXPECT_TRUE(purl_matches("pkg:apk/wolfi/git@2.39.0-r1", "pkg:apk/wolfi/git@2.39.0-r1?arch=x86_64"));
  EXPECT_FALSE(purl_matches("pkg:apk/wolfi/git@2.39.0-r2", "pkg:apk/wolfi/git@2.39.0-r1"));
  // Qualifiers the general purl states must hold; those it leaves out do not matter.
  EXPECT_TRUE(purl_matches("pkg:apk/wolfi/git@2.39.0-r1?arch=armv7", "pkg:apk/wolfi/git@2.39.0-r1?arch=armv7&distro=x"));
  EXPECT_FALSE(purl_matches("pkg:apk/wolfi/git@2.39.0-r1?arch=armv7", "pkg:apk/wolfi/git@2.39.0-r1?arch=x86_64"));
  EXPECT_FALSE(purl_matches("pkg:apk/wolfi/git@2.39.0-r1?arch=armv7", "pkg:apk/wolfi/git@2.39.0-r1"));
  // Type, namespace and name must be equal.
  EXPECT_FALSE(purl_matches("pkg:apk/alpine/git", "pkg:apk/wolfi/git@1"));
  EXPECT_FALSE(purl_matches("pkg:deb/debian/git", "pkg:apk/debian/git@1"));
  EXPECT_FALSE(purl_matches("pkg:golang/github.com/aws/aws-sdk-go", "pkg:golang/github.com/aws/aws-sdk-go-v2@1"));
  // The spec's per-type normalisation: PyPI names, maven's default type=jar.
  EXPECT_TRUE(purl_matches("pkg:pypi/Typing_Extensions", "pkg:pypi/typing-extensions@4.9.0"));
  EXPECT_TRUE(purl_matches("pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.10.0?type=jar",
                           "pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.10.0"));
  EXPECT_FALSE(purl_matches("pkg:maven/g/a@1?type=pom", "pkg:maven/g/a@1"));
  // Fails closed on anything that is not a purl.
  EXPECT_FALSE(purl_matches("git", "pkg:apk/wolfi/git@1"));
  EXPECT_FALSE(purl_matches("pkg:apk/wolfi/git", "not a purl"));
}

TEST(VulnVex, Rfc3339) {
  auto a = parse_rfc3339("2023-01-08T18:02:03-06:00");
  auto b = parse_rfc3339("2023-01-09T00:02:03Z");
  ASSERT_TRUE(a && b);
  EXPECT_EQ(*a, *b);  // the same instant
  auto c = parse_rfc3339("2023-01-16T19:07:16.853479631-06:00");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->nanos, 853479631);
  EXPECT_TRUE(*parse_rfc3339("2023-01-16T19:07:16.1Z") < *parse_rfc3339("2023-01-16T19:07:16.2Z"));
  EXPECT_EQ(parse_rfc3339("1970-01-01T00:00:00Z")->seconds, 0);
  EXPECT_FALSE(parse_rfc3339("2023-01-16"));
  EXPECT_FALSE(parse_rfc3339("2023-13-16T00:00:00Z"));
  EXPECT_FALSE(parse_rfc3339("2023-01-16T00:00:00"));
  EXPECT_FALSE(parse_rfc3339("2023-01-16T00:00:00+0600"));
}

// ---- OpenVEX ---------------------------------------------------------------

TEST(VulnVex, OpenVexSpecExampleParses) {
  std::vector<VexStatement> out;
  std::vector<InputError> errors;
  ASSERT_TRUE(load_vex_file(vex_path("openvex-spring-log4j.json"), out, errors)) << joined(errors);
  EXPECT_TRUE(errors.empty()) << joined(errors);
  ASSERT_EQ(out.size(), 1u);
  const VexStatement& s = out[0];
  EXPECT_EQ(s.format, VexFormat::OpenVex);
  EXPECT_EQ(s.vulnerability, "CVE-2021-44228");
  EXPECT_EQ(s.aliases, (std::vector<std::string>{"CVE-2021-44228", "GHSA-jfh8-c2jp-5v3q"}));
  EXPECT_EQ(s.status, VexStatus::NotAffected);
  EXPECT_EQ(s.justification, "vulnerable_code_not_in_execute_path");
  EXPECT_EQ(s.detail.rfind("Spring Boot users are only affected", 0), 0u);
  EXPECT_EQ(s.line, 9u);
  ASSERT_EQ(s.products.size(), 1u);
  EXPECT_EQ(s.products[0].component.ids,
            (std::vector<std::string>{"pkg:maven/org.springframework.boot/spring-boot@2.6.0-M3",
                                      "pkg:maven/org.springframework.boot/spring-boot@2.6.0-M3",
                                      "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}));
  ASSERT_TRUE(s.time);
  EXPECT_EQ(s.time->nanos, 853479631);
}

TEST(VulnVex, OpenVexNotAffectedSuppressesThePackage) {
  Image img;
  const std::size_t boot = img.add(PackageType::Maven, "org.springframework.boot:spring-boot", "2.6.0-M3",
                                   "pkg:maven/org.springframework.boot/spring-boot@2.6.0-M3", "", "/app/app.jar");
  const std::size_t other = img.add(PackageType::Maven, "org.springframework.boot:spring-boot", "2.6.1",
                                    "pkg:maven/org.springframework.boot/spring-boot@2.6.1", "", "/app/b.jar");
  img.match("CVE-2021-44228", boot);
  img.match("CVE-2021-44228", other);
  std::vector<InputError> errors;
  HandlingPolicy p = vex_policy({"openvex-spring-log4j.json"}, errors);
  ASSERT_TRUE(errors.empty()) << joined(errors);
  HandlingReport r = img.apply(p);
  EXPECT_EQ(r.suppressed, 1u);
  const VulnMatch& m = img.vulns.matches[0];
  EXPECT_TRUE(m.suppressed);
  EXPECT_EQ(m.suppressed_by, vex_path("openvex-spring-log4j.json") +
                                 ":9 (OpenVEX): not_affected \xE2\x80\x94 vulnerable_code_not_in_execute_path");
  EXPECT_EQ(m.suppress_reason.rfind("Spring Boot users are only affected", 0), 0u);
  // The statement names version 2.6.0-M3: 2.6.1 is not covered.
  EXPECT_FALSE(img.vulns.matches[1].suppressed);
  EXPECT_TRUE(r.warnings.empty());
}

TEST(VulnVex, AliasesMatchBothWays) {
  // The statement names the CVE with the GHSA as an alias; the database's
  // record may be the GHSA with the CVE as its alias.
  Image img;
  const std::size_t boot = img.add(PackageType::Maven, "org.springframework.boot:spring-boot", "2.6.0-M3",
                                   "pkg:maven/org.springframework.boot/spring-boot@2.6.0-M3");
  img.match("GHSA-jfh8-c2jp-5v3q", boot, {"CVE-2021-44228"});
  img.match("GHSA-jfh8-c2jp-5v3q", boot);  // the GHSA alone: an alias of the statement
  img.match("GHSA-7rjr-3q55-vv33", boot, {"CVE-2021-45046"});  // another vulnerability
  std::vector<InputError> errors;
  HandlingPolicy p = vex_policy({"openvex-spring-log4j.json"}, errors);
  img.apply(p);
  EXPECT_TRUE(img.vulns.matches[0].suppressed);
  EXPECT_TRUE(img.vulns.matches[1].suppressed);
  EXPECT_FALSE(img.vulns.matches[2].suppressed);

  // And the other way: the statement names a GHSA, the match is the CVE whose alias it is.
  Image img2;
  const std::size_t pkg = img2.add(PackageType::Npm, "lodash", "4.17.20", "pkg:npm/lodash@4.17.20");
  img2.match("CVE-2021-23337", pkg, {"GHSA-35jh-r3h4-6jhm"});
  std::vector<InputError> e2;
  HandlingPolicy p2 = vex_text_policy(
      openvex_one("ghsa-35jh-r3h4-6jhm", R"({"@id": "pkg:npm/lodash"})", "not_affected",
                  R"(, "justification": "vulnerable_code_not_present")"),
      e2);
  ASSERT_TRUE(e2.empty()) << joined(e2);
  img2.apply(p2);
  EXPECT_TRUE(img2.vulns.matches[0].suppressed);  // ids compare case-insensitively, any version
}

TEST(VulnVex, EveryOpenVexJustificationSuppressesAndIsShown) {
  for (std::string j : {"component_not_present", "vulnerable_code_not_present", "vulnerable_code_not_in_execute_path",
                        "vulnerable_code_cannot_be_controlled_by_adversary", "inline_mitigations_already_exist"}) {
    Image img;
    const std::size_t pkg = img.add(PackageType::Apk, "busybox", "1.36.1-r15", "pkg:apk/alpine/busybox@1.36.1-r15?arch=x86_64");
    img.match("CVE-2023-42366", pkg);
    std::vector<InputError> errors;
    HandlingPolicy p = vex_text_policy(
        openvex_one("CVE-2023-42366", R"({"@id": "pkg:apk/alpine/busybox@1.36.1-r15"})", "not_affected",
                    ", \"justification\": \"" + j + "\""),
        errors);
    ASSERT_TRUE(errors.empty()) << j << "\n" << joined(errors);
    EXPECT_EQ(img.apply(p).suppressed, 1u) << j;
    EXPECT_EQ(img.vulns.matches[0].suppressed_by, "vex.json:3 (OpenVEX): not_affected \xE2\x80\x94 " + j);
    EXPECT_TRUE(is_openvex_justification(j));
  }
}

TEST(VulnVex, StatusesThatNeverSuppress) {
  for (std::string status : {"affected", "under_investigation"}) {
    Image img;
    const std::size_t pkg = img.add(PackageType::Apk, "busybox", "1.36.1-r15", "pkg:apk/alpine/busybox@1.36.1-r15");
    img.match("CVE-2023-42366", pkg);
    std::vector<InputError> errors;
    HandlingPolicy p = vex_text_policy(
        openvex_one("CVE-2023-42366", R"({"@id": "pkg:apk/alpine/busybox@1.36.1-r15"})", status,
                    R"(, "action_statement": "upgrade to 1.36.1-r16")"),
        errors);
    ASSERT_TRUE(errors.empty()) << joined(errors);
    HandlingReport r = img.apply(p);
    EXPECT_EQ(r.suppressed, 0u) << status;
    EXPECT_FALSE(img.vulns.matches[0].suppressed) << status;
    EXPECT_TRUE(r.notes.empty()) << status;  // it matched: not listed as matching nothing
  }
}

TEST(VulnVex, FixedSuppressesOnlyWhatItPins) {
  // Pinned by version: suppressed.
  {
    Image img;
    const std::size_t pkg = img.add(PackageType::Apk, "busybox", "1.36.1-r15", "pkg:apk/alpine/busybox@1.36.1-r15");
    img.match("CVE-2023-42366", pkg);
    std::vector<InputError> errors;
    HandlingPolicy p = vex_text_policy(openvex_one("CVE-2023-42366", R"({"@id": "pkg:apk/alpine/busybox@1.36.1-r15"})", "fixed"), errors);
    ASSERT_TRUE(errors.empty()) << joined(errors);
    EXPECT_EQ(img.apply(p).suppressed, 1u);
    EXPECT_EQ(img.vulns.matches[0].suppressed_by, "vex.json:3 (OpenVEX): fixed");
  }
  // Without a version: "fixed" of which build? Not suppressed, said in the notes.
  {
    Image img;
    const std::size_t pkg = img.add(PackageType::Apk, "busybox", "1.36.1-r15", "pkg:apk/alpine/busybox@1.36.1-r15");
    img.match("CVE-2023-42366", pkg);
    std::vector<InputError> errors;
    HandlingPolicy p = vex_text_policy(openvex_one("CVE-2023-42366", R"({"@id": "pkg:apk/alpine/busybox"})", "fixed"), errors);
    HandlingReport r = img.apply(p);
    EXPECT_EQ(r.suppressed, 0u);
    ASSERT_EQ(r.notes.size(), 1u);
    EXPECT_NE(r.notes[0].find("is 'fixed' for a product without a version or digest"), std::string::npos) << r.notes[0];
  }
  // The image by digest: exactly this build, suppressed; by name only: not.
  for (auto [product, expect] : std::vector<std::pair<std::string, bool>>{
           {R"({"@id": "sha256:1111111111111111111111111111111111111111111111111111111111111111"})", true},
           {R"({"@id": "pkg:oci/trivy?repository_url=ghcr.io/aquasecurity/trivy"})", false}}) {
    Image img;
    const std::size_t pkg = img.add(PackageType::Apk, "busybox", "1.36.1-r15", "pkg:apk/alpine/busybox@1.36.1-r15");
    img.match("CVE-2023-42366", pkg);
    std::vector<InputError> errors;
    HandlingPolicy p = vex_text_policy(openvex_one("CVE-2023-42366", product, "fixed"), errors);
    ASSERT_TRUE(errors.empty()) << joined(errors);
    EXPECT_EQ(img.apply(p).suppressed, expect ? 1u : 0u) << product;
  }
}

TEST(VulnVex, LatestStatementWinsByTimestamp) {
  // The spec's history: under_investigation (its own, earlier timestamp), then
  // fixed (the document's later timestamp) for git 2.39.0-r1 on armv7.
  Image img;
  const std::size_t arm = img.add(PackageType::Apk, "git", "2.39.0-r1", "pkg:apk/wolfi/git@2.39.0-r1?arch=armv7");
  const std::size_t x86 = img.add(PackageType::Apk, "git", "2.39.0-r1", "pkg:apk/wolfi/git@2.39.0-r1?arch=x86_64");
  img.match("CVE-2023-12345", arm);
  img.match("CVE-2023-12345", x86);
  std::vector<InputError> errors;
  HandlingPolicy p = vex_policy({"openvex-wolfi-git-history.json"}, errors);
  ASSERT_TRUE(errors.empty()) << joined(errors);
  ASSERT_EQ(p.statements.size(), 2u);
  img.apply(p);
  EXPECT_TRUE(img.vulns.matches[0].suppressed);
  EXPECT_NE(img.vulns.matches[0].suppressed_by.find(":19 (OpenVEX): fixed"), std::string::npos)
      << img.vulns.matches[0].suppressed_by;
  EXPECT_FALSE(img.vulns.matches[1].suppressed);  // arch=armv7 must hold

  // Reversed in the file but not in time: the later timestamp still wins, so
  // an older not_affected does not override a newer affected.
  Image img2;
  const std::size_t pkg = img2.add(PackageType::Apk, "git", "2.39.0-r1", "pkg:apk/wolfi/git@2.39.0-r1");
  img2.match("CVE-2023-12345", pkg);
  const std::string doc = R"({"@context": "https://openvex.dev/ns/v0.2.0", "@id": "x", "author": "a",
  "timestamp": "2024-01-01T00:00:00Z", "version": 2, "statements": [
  {"timestamp": "2024-03-01T00:00:00Z", "vulnerability": {"name": "CVE-2023-12345"},
   "products": [{"@id": "pkg:apk/wolfi/git"}], "status": "affected", "action_statement": "upgrade"},
  {"timestamp": "2024-02-01T00:00:00+01:00", "vulnerability": {"name": "CVE-2023-12345"},
   "products": [{"@id": "pkg:apk/wolfi/git"}], "status": "not_affected", "justification": "component_not_present"}]})";
  std::vector<InputError> e2;
  HandlingPolicy p2 = vex_text_policy(doc, e2);
  ASSERT_TRUE(e2.empty()) << joined(e2);
  img2.apply(p2);
  EXPECT_FALSE(img2.vulns.matches[0].suppressed);

  // Equal timestamps: the one read later wins (across files, command-line order).
  Image img3;
  const std::size_t pkg3 = img3.add(PackageType::Apk, "git", "2.39.0-r1", "pkg:apk/wolfi/git@2.39.0-r1");
  img3.match("CVE-2023-12345", pkg3);
  std::vector<InputError> e3;
  HandlingPolicy p3;
  parse_vex("a.json", openvex_one("CVE-2023-12345", R"({"@id": "pkg:apk/wolfi/git"})", "affected"), p3.statements, e3);
  parse_vex("b.json", openvex_one("CVE-2023-12345", R"({"@id": "pkg:apk/wolfi/git"})", "not_affected",
                                  R"(, "impact_statement": "git is not on PATH")"),
            p3.statements, e3);
  for (std::size_t i = 0; i < p3.statements.size(); ++i) p3.statements[i].order = i;
  ASSERT_TRUE(e3.empty()) << joined(e3);
  img3.apply(p3);
  EXPECT_TRUE(img3.vulns.matches[0].suppressed);
  EXPECT_EQ(img3.vulns.matches[0].suppressed_by, "b.json:3 (OpenVEX): not_affected");
  EXPECT_EQ(img3.vulns.matches[0].suppress_reason, "git is not on PATH");
}

TEST(VulnVex, ImageProductAndSubcomponents) {
  // Trivy's shape: the image by name (pkg:oci + repository_url), the Alpine
  // git package as its subcomponent. Only git in this image is covered.
  Image img;
  const std::size_t git = img.add(PackageType::Apk, "git", "2.43.0-r0", "pkg:apk/alpine/git@2.43.0-r0?arch=x86_64&distro=3.19.1");
  const std::size_t git_daemon = img.add(PackageType::Apk, "git-daemon", "2.43.0-r0", "pkg:apk/alpine/git-daemon@2.43.0-r0?arch=x86_64", "git");
  img.match("CVE-2024-32002", git);
  img.match("CVE-2024-32002", git_daemon);
  std::vector<InputError> errors;
  HandlingPolicy p = vex_policy({"openvex-image-subcomponents.json"}, errors);
  ASSERT_TRUE(errors.empty()) << joined(errors);
  img.apply(p);
  EXPECT_TRUE(img.vulns.matches[0].suppressed);
  EXPECT_FALSE(img.vulns.matches[1].suppressed);

  // Another image (another repository) is not the product.
  Image other;
  other.inv.reference = other.vulns.reference = "docker.io/library/alpine:3.19";
  const std::size_t g = other.add(PackageType::Apk, "git", "2.43.0-r0", "pkg:apk/alpine/git@2.43.0-r0");
  other.match("CVE-2024-32002", g);
  HandlingReport r = other.apply(p);
  EXPECT_FALSE(other.vulns.matches[0].suppressed);
  ASSERT_EQ(r.notes.size(), 1u);
  EXPECT_NE(r.notes[0].find("matched nothing in docker.io/library/alpine:3.19"), std::string::npos) << r.notes[0];

  // The image as the product with no subcomponent: every instance of the
  // vulnerability in it, matched by digest (oci purl, bare digest, reference@digest)
  // or by name (docker.io short names normalised).
  for (std::string product :
       {R"({"@id": "pkg:oci/trivy@sha256%3A1111111111111111111111111111111111111111111111111111111111111111"})",
        R"({"@id": "sha256:2222222222222222222222222222222222222222222222222222222222222222"})",
        R"({"@id": "ghcr.io/aquasecurity/trivy@sha256:1111111111111111111111111111111111111111111111111111111111111111"})",
        R"({"hashes": {"sha-256": "1111111111111111111111111111111111111111111111111111111111111111"}})",
        R"({"@id": "pkg:oci/trivy"})"}) {
    Image whole;
    const std::size_t a = whole.add(PackageType::Apk, "git", "2.43.0-r0", "pkg:apk/alpine/git@2.43.0-r0");
    const std::size_t b = whole.add(PackageType::Apk, "git-daemon", "2.43.0-r0", "pkg:apk/alpine/git-daemon@2.43.0-r0");
    whole.match("CVE-2024-32002", a);
    whole.match("CVE-2024-32002", b);
    std::vector<InputError> e;
    HandlingPolicy wp = vex_text_policy(
        openvex_one("CVE-2024-32002", product, "not_affected", R"(, "justification": "component_not_present")"), e);
    ASSERT_TRUE(e.empty()) << joined(e);
    EXPECT_EQ(whole.apply(wp).suppressed, 2u) << product;
  }
  {
    Image hub;
    hub.inv.reference = hub.vulns.reference = "alpine:3.19";
    const std::size_t a = hub.add(PackageType::Apk, "git", "2.43.0-r0", "pkg:apk/alpine/git@2.43.0-r0");
    hub.match("CVE-2024-32002", a);
    std::vector<InputError> e;
    HandlingPolicy hp = vex_text_policy(
        openvex_one("CVE-2024-32002", R"({"@id": "pkg:oci/alpine?repository_url=index.docker.io/library/alpine"})",
                    "not_affected", R"(, "justification": "component_not_present")"),
        e);
    EXPECT_EQ(hub.apply(hp).suppressed, 1u);
  }
  // `fixed` for a versionless subcomponent: inside the image by digest it is
  // that build's one version (suppressed); inside the image by name it is not.
  for (auto [image_id, expect] : std::vector<std::pair<std::string, std::size_t>>{
           {"sha256:1111111111111111111111111111111111111111111111111111111111111111", 1u},
           {"pkg:oci/trivy", 0u}}) {
    Image fixed;
    const std::size_t a = fixed.add(PackageType::Apk, "git", "2.43.0-r0", "pkg:apk/alpine/git@2.43.0-r0");
    fixed.match("CVE-2024-32002", a);
    std::vector<InputError> e;
    HandlingPolicy fp = vex_text_policy(
        openvex_one("CVE-2024-32002",
                    R"({"@id": ")" + image_id + R"(", "subcomponents": [{"@id": "pkg:apk/alpine/git"}]})", "fixed"),
        e);
    ASSERT_TRUE(e.empty()) << joined(e);
    EXPECT_EQ(fixed.apply(fp).suppressed, expect) << image_id;
  }
  // A digest of another image matches nothing.
  Image img4;
  const std::size_t a4 = img4.add(PackageType::Apk, "git", "2.43.0-r0", "pkg:apk/alpine/git@2.43.0-r0");
  img4.match("CVE-2024-32002", a4);
  std::vector<InputError> e4;
  HandlingPolicy p4 = vex_text_policy(
      openvex_one("CVE-2024-32002", R"({"@id": "sha256:3333333333333333333333333333333333333333333333333333333333333333"})",
                  "not_affected", R"(, "justification": "component_not_present")"),
      e4);
  EXPECT_EQ(img4.apply(p4).suppressed, 0u);
}

TEST(VulnVex, PackageProductWithSubcomponents) {
  // Trivy's other shape: a Go project as the product, a module it depends on
  // as the subcomponent. kguard has no dependency graph: the product must be
  // installed in the image, and the statement covers the subcomponent.
  Image img;
  img.add(PackageType::Golang, "github.com/aquasecurity/trivy", "v0.52.0", "pkg:golang/github.com/aquasecurity/trivy@v0.52.0");
  const std::size_t docker = img.add(PackageType::Golang, "github.com/docker/docker", "v26.0.0+incompatible",
                                     "pkg:golang/github.com/docker/docker@v26.0.0%2Bincompatible");
  img.match("CVE-2024-29018", docker);
  const std::string product = R"({"@id": "pkg:golang/github.com/aquasecurity/trivy",
      "subcomponents": [{"@id": "pkg:golang/github.com/docker/docker"}]})";
  std::vector<InputError> errors;
  HandlingPolicy p = vex_text_policy(
      openvex_one("CVE-2024-29018", product, "not_affected", R"(, "justification": "vulnerable_code_not_in_execute_path")"),
      errors);
  ASSERT_TRUE(errors.empty()) << joined(errors);
  EXPECT_EQ(img.apply(p).suppressed, 1u);
  // Without the product in the image, nothing.
  Image img2;
  const std::size_t d2 = img2.add(PackageType::Golang, "github.com/docker/docker", "v26.0.0+incompatible",
                                  "pkg:golang/github.com/docker/docker@v26.0.0%2Bincompatible");
  img2.match("CVE-2024-29018", d2);
  EXPECT_EQ(img2.apply(p).suppressed, 0u);
}

TEST(VulnVex, BadOpenVexStatementsAreReportedAndTheRestApplied) {
  const std::string doc = R"({
  "@context": "https://openvex.dev/ns/v0.2.0",
  "@id": "https://openvex.dev/docs/example/vex-bad",
  "author": "t",
  "timestamp": "2024-01-01T00:00:00Z",
  "version": 1,
  "statements": [
    {"vulnerability": {"name": "CVE-2024-0001"}, "products": [{"@id": "pkg:npm/a"}], "status": "not-affected"},
    {"vulnerability": {"name": "CVE-2024-0002"}, "products": [{"@id": "pkg:npm/a"}], "status": "not_affected"},
    {"vulnerability": {"name": "CVE-2024-0003"}, "products": [{"@id": "pkg:npm/a"}], "status": "not_affected",
     "justification": "not_reachable"},
    {"vulnerability": {}, "products": [{"@id": "pkg:npm/a"}], "status": "affected"},
    {"vulnerability": {"name": "CVE-2024-0005"}, "status": "fixed"},
    {"vulnerability": {"name": "CVE-2024-0006"}, "products": [{"@id": "pkg:npm/a"}], "status": "fixed",
     "timestamp": "yesterday"},
    {"vulnerability": {"name": "CVE-2024-0007"}, "products": [{"identifiers": {}}], "status": "fixed"},
    {"vulnerability": {"name": "CVE-2024-0008"}, "products": [{"@id": "pkg:npm/a"}], "status": "not_affected",
     "justification": "component_not_present"}
  ]
})";
  std::vector<InputError> errors;
  HandlingPolicy p = vex_text_policy(doc, errors, "bad.vex.json");
  EXPECT_EQ(joined(errors),
            "bad.vex.json:8: statements[0].status: 'not-affected' is not an OpenVEX status (not_affected, affected, "
            "fixed, under_investigation)\n"
            "bad.vex.json:9: statements[1].justification: a not_affected statement needs a justification or an "
            "impact_statement\n"
            "bad.vex.json:11: statements[2].justification: 'not_reachable' is not an OpenVEX justification "
            "(component_not_present, vulnerable_code_not_present, vulnerable_code_not_in_execute_path, "
            "vulnerable_code_cannot_be_controlled_by_adversary, inline_mitigations_already_exist)\n"
            "bad.vex.json:12: statements[3].vulnerability.name: a statement must name its vulnerability\n"
            "bad.vex.json:13: statements[4].products: a statement needs at least one product\n"
            "bad.vex.json:15: statements[5].timestamp: 'yesterday' is not an RFC 3339 time\n"
            "bad.vex.json:16: statements[6].products[0]: names nothing kguard can match (an @id, identifiers.purl "
            "or hashes.sha-256)\n");
  ASSERT_EQ(p.statements.size(), 1u);
  EXPECT_EQ(p.statements[0].vulnerability, "CVE-2024-0008");
  Image img;
  const std::size_t a = img.add(PackageType::Npm, "a", "1.0.0", "pkg:npm/a@1.0.0");
  img.match("CVE-2024-0008", a);
  EXPECT_EQ(img.apply(p).suppressed, 1u);
}

TEST(VulnVex, BadDocuments) {
  auto errors_of = [](const std::string& text) {
    std::vector<InputError> errors;
    std::vector<VexStatement> out;
    parse_vex("v.json", text, out, errors);
    EXPECT_TRUE(out.empty());
    return joined(errors);
  };
  EXPECT_EQ(errors_of("{\"statements\": []}"),
            "v.json:1: neither an OpenVEX document (@context: https://openvex.dev/ns/v0.2.0) nor a CycloneDX BOM "
            "(bomFormat: CycloneDX)\n");
  EXPECT_EQ(errors_of("[1, 2]"), "v.json:1: a VEX document must be a JSON object\n");
  EXPECT_EQ(errors_of("{\"@context\": \"https://openvex.dev/ns/v0.2.0\"}"),
            "v.json:1: statements: an OpenVEX document needs a list of statements\n");
  EXPECT_EQ(errors_of("{\"bomFormat\": \"CycloneDX\", \"specVersion\": \"1.3\", \"vulnerabilities\": []}"),
            "v.json:1: specVersion: '1.3': CycloneDX VEX is read from specVersion 1.4 to 1.7\n");
  EXPECT_EQ(errors_of("{} {}"), "v.json:1: more than one JSON value: a VEX file holds one document\n");
  EXPECT_EQ(errors_of(""), "v.json:0: empty: no VEX document\n");
  // Not JSON: the JSON loader's own error, with the line.
  const std::string yaml = errors_of("statements:\n  - status: fixed\n");
  EXPECT_EQ(yaml.rfind("v.json:1: ", 0), 0u) << yaml;
  const std::string broken = errors_of("{\n  \"@context\": \"https://openvex.dev/ns/v0.2.0\",\n  \"statements\": [\n}\n");
  EXPECT_EQ(broken.rfind("v.json:4: ", 0), 0u) << broken;
  // An unreadable file.
  std::vector<InputError> errors;
  std::vector<VexStatement> out;
  EXPECT_FALSE(load_vex_file("/nonexistent/vex.json", out, errors));
  EXPECT_EQ(joined(errors), "/nonexistent/vex.json:0: cannot read VEX file\n");
}

// ---- CycloneDX VEX -----------------------------------------------------------

TEST(VulnVex, CycloneDxCaseOneNamesAComponentWithoutPurl) {
  // CycloneDX's Use-Case 1 names the product "Acme Product" by a bom-ref that
  // has no purl: nothing kguard could match it against.
  std::vector<VexStatement> out;
  std::vector<InputError> errors;
  EXPECT_FALSE(load_vex_file(vex_path("cyclonedx-case1.json"), out, errors));
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(joined(errors), vex_path("cyclonedx-case1.json") +
                                ":40: vulnerabilities[0].affects[0].ref: 'acme-product' names no component with a "
                                "purl in this document; this target is skipped\n");
}

TEST(VulnVex, CycloneDxBomLinkIntoTheSbom) {
  Image img;
  const std::size_t jd = img.add(PackageType::Maven, "com.fasterxml.jackson.core:jackson-databind", "2.10.0",
                                 "pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.10.0", "", "/app/lib/jackson-databind-2.10.0.jar");
  img.match("GHSA-288c-cq4h-88gq", jd, {"CVE-2020-25649"});
  const std::size_t go = img.add(PackageType::Golang, "github.com/aws/aws-sdk-go", "v1.44.234",
                                 "pkg:golang/github.com/aws/aws-sdk-go@1.44.234");
  img.match("CVE-2020-8911", go, {"GHSA-f5pg-7wfw-84q9"});
  std::vector<InputError> errors;
  HandlingPolicy p = vex_policy({"cyclonedx-bomlink.json", "cyclonedx-trivy-golang.json"}, errors);
  ASSERT_TRUE(errors.empty()) << joined(errors);
  ASSERT_EQ(p.statements.size(), 2u);
  EXPECT_EQ(p.statements[0].aliases, std::vector<std::string>{"SNYK-JAVA-COMFASTERXMLJACKSONCORE-1048302"});
  EXPECT_EQ(p.statements[0].action, "will_not_fix");
  EXPECT_EQ(p.statements[1].action, "will_not_fix, update");
  EXPECT_EQ(img.apply(p).suppressed, 2u);
  EXPECT_EQ(img.vulns.matches[0].suppressed_by,
            vex_path("cyclonedx-bomlink.json") + ":6 (CycloneDX VEX): not_affected \xE2\x80\x94 code_not_reachable");
  EXPECT_EQ(img.vulns.matches[0].suppress_reason.rfind("Automated dataflow analysis", 0), 0u);
}

TEST(VulnVex, CycloneDxStatesComponentsAndVersions) {
  Image img;
  img.inv.reference = img.vulns.reference = "registry.example.com/shop/api:1.4";
  const std::size_t ssl = img.add(PackageType::Deb, "libssl3", "3.0.11-1~deb12u2",
                                  "pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&distro=debian-12", "openssl");
  const std::size_t req = img.add(PackageType::Python, "requests", "2.28.1", "pkg:pypi/requests@2.28.1");
  const std::size_t req2 = img.add(PackageType::Python, "requests", "2.31.0", "pkg:pypi/requests@2.31.0");
  img.match("CVE-2023-5678", ssl);
  img.match("CVE-2023-32681", req);
  img.match("CVE-2023-32681", req2);
  img.match("CVE-2024-35195", req);
  img.match("CVE-2024-0727", ssl);
  std::vector<InputError> errors;
  HandlingPolicy p = vex_policy({"cyclonedx-components-versions.json"}, errors);
  // The range is reported, its target skipped; the rest applies.
  EXPECT_EQ(joined(errors), vex_path("cyclonedx-components-versions.json") +
                                ":54: vulnerabilities[2].affects[0].versions: version ranges (vers:) are not "
                                "evaluated; this target is skipped\n");
  ASSERT_EQ(p.statements.size(), 3u);
  HandlingReport r = img.apply(p);
  // resolved, pinned by the component's versioned purl → suppressed.
  EXPECT_TRUE(img.vulns.matches[0].suppressed);
  EXPECT_EQ(img.vulns.matches[0].suppressed_by,
            vex_path("cyclonedx-components-versions.json") + ":31 (CycloneDX VEX): resolved");
  EXPECT_EQ(img.vulns.matches[0].suppress_reason, "patched in our rebuild of libssl3");
  // false_positive for exactly 2.28.1 of a versionless component.
  EXPECT_TRUE(img.vulns.matches[1].suppressed);
  EXPECT_FALSE(img.vulns.matches[2].suppressed);
  // The range target was skipped; in_triage never suppresses.
  EXPECT_FALSE(img.vulns.matches[3].suppressed);
  EXPECT_FALSE(img.vulns.matches[4].suppressed);
  EXPECT_EQ(r.suppressed, 2u);
}

TEST(VulnVex, EveryCycloneDxStateAndJustification) {
  struct Case {
    std::string state;
    bool suppresses;
  };
  for (const Case& c : std::vector<Case>{{"not_affected", true},
                                         {"false_positive", true},
                                         {"resolved", true},
                                         {"resolved_with_pedigree", true},
                                         {"exploitable", false},
                                         {"in_triage", false}}) {
    Image img;
    const std::size_t pkg = img.add(PackageType::Npm, "minimist", "1.2.5", "pkg:npm/minimist@1.2.5");
    img.match("CVE-2021-44906", pkg);
    const std::string doc = R"({"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1,
      "vulnerabilities": [{"id": "CVE-2021-44906", "analysis": {"state": ")" + c.state +
                            R"("}, "affects": [{"ref": "pkg:npm/minimist@1.2.5"}]}]})";
    std::vector<InputError> errors;
    HandlingPolicy p = vex_text_policy(doc, errors);
    ASSERT_TRUE(errors.empty()) << joined(errors);
    EXPECT_EQ(img.apply(p).suppressed, c.suppresses ? 1u : 0u) << c.state;
  }
  for (std::string j : {"code_not_present", "code_not_reachable", "requires_configuration", "requires_dependency",
                        "requires_environment", "protected_by_compiler", "protected_at_runtime",
                        "protected_at_perimeter", "protected_by_mitigating_control"}) {
    Image img;
    const std::size_t pkg = img.add(PackageType::Npm, "minimist", "1.2.5", "pkg:npm/minimist@1.2.5");
    img.match("CVE-2021-44906", pkg);
    const std::string doc = R"({"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
      "vulnerabilities": [{"id": "CVE-2021-44906", "analysis": {"state": "not_affected", "justification": ")" + j +
                            R"("}, "affects": [{"ref": "pkg:npm/minimist"}]}]})";
    std::vector<InputError> errors;
    HandlingPolicy p = vex_text_policy(doc, errors);
    ASSERT_TRUE(errors.empty()) << j << joined(errors);
    EXPECT_EQ(img.apply(p).suppressed, 1u) << j;
    EXPECT_EQ(img.vulns.matches[0].suppressed_by, "vex.json:2 (CycloneDX VEX): not_affected \xE2\x80\x94 " + j);
    EXPECT_TRUE(is_cyclonedx_justification(j));
  }
}

TEST(VulnVex, BadCycloneDxEntries) {
  const std::string doc = R"({"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1,
  "vulnerabilities": [
    {"id": "CVE-2024-1", "analysis": {"state": "not_exploitable"}, "affects": [{"ref": "pkg:npm/a"}]},
    {"id": "CVE-2024-2", "affects": [{"ref": "pkg:npm/a"}]},
    {"id": "CVE-2024-3", "analysis": {"state": "not_affected", "justification": "unreachable"}, "affects": [{"ref": "pkg:npm/a"}]},
    {"analysis": {"state": "not_affected"}, "affects": [{"ref": "pkg:npm/a"}]},
    {"id": "CVE-2024-5", "analysis": {"state": "not_affected"}},
    {"id": "CVE-2024-6", "analysis": {"state": "not_affected", "lastUpdated": "2024-13-01T00:00:00Z"}, "affects": [{"ref": "pkg:npm/a"}]},
    {"id": "CVE-2024-7", "analysis": {"state": "not_affected"}, "affects": [{"ref": "pkg:npm/a"}]}
  ]})";
  std::vector<InputError> errors;
  HandlingPolicy p = vex_text_policy(doc, errors, "cdx.json");
  EXPECT_EQ(joined(errors),
            "cdx.json:3: vulnerabilities[0].analysis.state: 'not_exploitable' is not a CycloneDX state (resolved, "
            "resolved_with_pedigree, exploitable, in_triage, false_positive, not_affected)\n"
            "cdx.json:4: vulnerabilities[1].analysis: a VEX entry needs analysis.state\n"
            "cdx.json:5: vulnerabilities[2].analysis.justification: 'unreachable' is not a CycloneDX justification "
            "(code_not_present, code_not_reachable, requires_configuration, requires_dependency, requires_environment, "
            "protected_by_compiler, protected_at_runtime, protected_at_perimeter, protected_by_mitigating_control)\n"
            "cdx.json:6: vulnerabilities[3].id: a vulnerability must have an id\n"
            "cdx.json:7: vulnerabilities[4].affects: names no component\n"
            "cdx.json:8: vulnerabilities[5].analysis.lastUpdated: '2024-13-01T00:00:00Z' is not an RFC 3339 time\n");
  ASSERT_EQ(p.statements.size(), 1u);
  EXPECT_EQ(p.statements[0].vulnerability, "CVE-2024-7");
}

// ---- .kguard.yaml ignores -------------------------------------------------------

struct TempConfig {
  std::filesystem::path path;
  explicit TempConfig(const std::string& text) {
    path = std::filesystem::temp_directory_path() /
           ("kguard-vuln-handling-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".yaml");
    std::ofstream(path) << text;
  }
  ~TempConfig() { std::filesystem::remove(path); }
};

TEST(VulnIgnoreConfig, ReadsEveryKey) {
  TempConfig cfg(R"(vulnerabilities:
  ignoreUnfixed: true
  failOn: high
  maxRisk: 70.5
  ignore:
    - id: CVE-2023-4911
      package: glibc
      path: /lib/x86_64-linux-gnu/**
      image: "registry.example.com/shop/*"
      reason: "no setuid binaries in this image; SEC-210"
      until: 2027-01-31
    - id: GHSA-jfh8-c2jp-5v3q
      package: pkg:maven/org.apache.logging.log4j/log4j-core
      reason: log4j-core is never on the classpath
)");
  std::vector<InputError> errors;
  auto c = load_config(cfg.path.string(), errors);
  ASSERT_TRUE(c) << joined(errors);
  const VulnConfig& v = c->vulnerabilities;
  EXPECT_EQ(v.ignore_unfixed, true);
  EXPECT_EQ(v.fail_on, Severity::High);
  EXPECT_EQ(v.max_risk, 70.5);
  EXPECT_EQ(v.fail_on_origin, cfg.path.string() + ":3");
  ASSERT_EQ(v.ignores.size(), 2u);
  EXPECT_EQ(v.ignores[0].id, "CVE-2023-4911");
  EXPECT_EQ(v.ignores[0].package, "glibc");
  EXPECT_EQ(v.ignores[0].path, "/lib/x86_64-linux-gnu/**");
  EXPECT_EQ(v.ignores[0].image, "registry.example.com/shop/*");
  EXPECT_EQ(v.ignores[0].until, "2027-01-31");
  EXPECT_EQ(v.ignores[0].origin, cfg.path.string() + ":6");
  EXPECT_EQ(v.ignores[1].field, "vulnerabilities.ignore[1]");
  HandlingPolicy p = load_handling(&v, {}, errors);
  EXPECT_TRUE(p.ignore_unfixed);
  EXPECT_EQ(p.ignore_unfixed_origin, cfg.path.string() + ":2 (ignoreUnfixed)");
  EXPECT_EQ(p.fail_on, Severity::High);
}

TEST(VulnIgnoreConfig, ErrorsNameFileLineAndField) {
  TempConfig cfg(R"(vulnerabilities:
  failOn: severe
  maxRisk: 170
  ignoreUnfixed: maybe
  colour: red
  ignore:
    - id: CVE-2023-4911
      reason: ""
      expires: 2027-01-01
    - package: openssl
      reason: reviewed
      until: 31.01.2027
      paths: [/usr/lib]
    - CVE-2024-1
)");
  std::vector<InputError> errors;
  EXPECT_FALSE(load_config(cfg.path.string(), errors));
  const std::string f = cfg.path.string();
  EXPECT_EQ(joined(errors),
            f + ":2: vulnerabilities.failOn: must be low, medium, high or critical\n" +
            f + ":3: vulnerabilities.maxRisk: must be a number from 0 to 100 (the risk score)\n" +
            f + ":4: vulnerabilities.ignoreUnfixed: must be true or false\n" +
            f + ":5: vulnerabilities: unknown field 'colour'\n" +
            f + ":9: vulnerabilities.ignore[0]: unknown field 'expires' (the expiry date is 'until', as in exemptions)\n" +
            f + ":7: vulnerabilities.ignore[0].reason: every ignore needs a reason\n" +
            f + ":12: vulnerabilities.ignore[1].until: must be a date YYYY-MM-DD\n" +
            f + ":13: vulnerabilities.ignore[1]: unknown field 'paths'\n" +
            f + ":10: vulnerabilities.ignore[1].id: name the vulnerability (CVE-…, GHSA-…, or any alias)\n" +
            f + ":14: vulnerabilities.ignore[2]: must be a mapping (id, package, path, image, reason, until)\n");
  std::vector<InputError> e2;
  TempConfig not_map("vulnerabilities: [a]\n");
  EXPECT_FALSE(load_config(not_map.path.string(), e2));
  EXPECT_EQ(joined(e2), not_map.path.string() +
                            ":1: vulnerabilities: must be a mapping (ignore, ignoreUnfixed, failOn, maxRisk)\n");
}

VulnIgnore ignore(std::string id, std::string reason, std::uint32_t line) {
  VulnIgnore ig;
  ig.id = std::move(id);
  ig.reason = std::move(reason);
  ig.file = ".kguard.yaml";
  ig.line = line;
  ig.origin = ".kguard.yaml:" + std::to_string(line);
  ig.field = "vulnerabilities.ignore[0]";
  return ig;
}

TEST(VulnIgnore, MatchesByIdAliasPackagePathAndImage) {
  Image img;
  const std::size_t libc = img.add(PackageType::Deb, "libc6", "2.36-9+deb12u1", "pkg:deb/debian/libc6@2.36-9%2Bdeb12u1?arch=amd64",
                                   "glibc", "/var/lib/dpkg/status");
  const std::size_t log4j = img.add(PackageType::Maven, "org.apache.logging.log4j:log4j-core", "2.14.1",
                                    "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1", "", "/opt/app/lib/log4j-core-2.14.1.jar");
  const std::size_t log4j_b = img.add(PackageType::Maven, "org.apache.logging.log4j:log4j-core", "2.14.1",
                                      "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1", "", "/srv/other/log4j-core-2.14.1.jar");
  img.match("CVE-2023-4911", libc);
  img.match("GHSA-jfh8-c2jp-5v3q", log4j, {"CVE-2021-44228"});
  img.match("GHSA-jfh8-c2jp-5v3q", log4j_b, {"CVE-2021-44228"});
  img.match("CVE-2023-4806", libc);

  HandlingPolicy p;
  VulnIgnore by_source = ignore("cve-2023-4911", "no setuid binaries", 7);
  by_source.package = "glibc";  // the source package names the binary libc6 too
  by_source.image = "ghcr.io/aquasecurity/*";
  VulnIgnore by_alias = ignore("CVE-2021-44228", "JNDI lookups disabled", 12);
  by_alias.package = "pkg:maven/org.apache.logging.log4j/log4j-core";
  by_alias.path = "/opt/app/**";
  p.ignores = {by_source, by_alias};
  HandlingReport r = img.apply(p);
  EXPECT_EQ(r.suppressed, 2u);
  EXPECT_TRUE(img.vulns.matches[0].suppressed);
  EXPECT_EQ(img.vulns.matches[0].suppressed_by, ".kguard.yaml:7");
  EXPECT_EQ(img.vulns.matches[0].suppress_reason, "no setuid binaries");
  EXPECT_TRUE(img.vulns.matches[1].suppressed);
  EXPECT_EQ(img.vulns.matches[1].suppressed_by, ".kguard.yaml:12");
  EXPECT_FALSE(img.vulns.matches[2].suppressed);  // another path
  EXPECT_FALSE(img.vulns.matches[3].suppressed);  // another id

  // Each constraint can fail on its own.
  for (auto tweak : std::vector<void (*)(VulnIgnore&)>{
           [](VulnIgnore& i) { i.package = "libc-bin"; },
           [](VulnIgnore& i) { i.package = "pkg:deb/debian/libc6@2.36-9+deb12u2"; },
           [](VulnIgnore& i) { i.path = "/usr/**"; },
           [](VulnIgnore& i) { i.image = "docker.io/*"; },
           [](VulnIgnore& i) { i.image = "sha256:9999*"; }}) {
    Image again;
    const std::size_t l = again.add(PackageType::Deb, "libc6", "2.36-9+deb12u1", "pkg:deb/debian/libc6@2.36-9%2Bdeb12u1",
                                    "glibc", "/var/lib/dpkg/status");
    again.match("CVE-2023-4911", l);
    HandlingPolicy q;
    VulnIgnore i = ignore("CVE-2023-4911", "r", 3);
    tweak(i);
    q.ignores = {i};
    EXPECT_EQ(again.apply(q).suppressed, 0u);
  }
  // The digest glob and the versioned purl that do match.
  Image again;
  const std::size_t l = again.add(PackageType::Deb, "libc6", "2.36-9+deb12u1", "pkg:deb/debian/libc6@2.36-9%2Bdeb12u1",
                                  "glibc", "/var/lib/dpkg/status");
  again.match("CVE-2023-4911", l);
  HandlingPolicy q;
  VulnIgnore i = ignore("CVE-2023-4911", "r", 3);
  i.image = "sha256:1111*";
  i.package = "pkg:deb/debian/libc6@2.36-9+deb12u1";
  q.ignores = {i};
  EXPECT_EQ(again.apply(q).suppressed, 1u);
}

TEST(VulnIgnore, ExpiredIgnoresStopAndWarn) {
  Image img;
  const std::size_t libc = img.add(PackageType::Deb, "libc6", "2.36-9+deb12u1", "pkg:deb/debian/libc6@2.36-9%2Bdeb12u1", "glibc");
  img.match("CVE-2023-4911", libc);
  img.match("CVE-2023-4911", libc);
  HandlingPolicy p;
  VulnIgnore ig = ignore("CVE-2023-4911", "accepted until the base image moves to bookworm", 9);
  ig.until = "2026-12-03";
  p.ignores = {ig};
  // The last day it applies.
  EXPECT_EQ(img.apply(p, "2026-12-03").suppressed, 2u);
  for (VulnMatch& m : img.vulns.matches) m.suppressed = false;
  // The day after: reported again, with one warning naming the file and line.
  HandlingReport r = img.apply(p, "2026-12-04");
  EXPECT_EQ(r.suppressed, 0u);
  EXPECT_FALSE(img.vulns.matches[0].suppressed);
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_EQ(joined(r.warnings),
            ".kguard.yaml:9: vulnerabilities.ignore[0] (CVE-2023-4911) expired on 2026-12-03 (accepted until the base "
            "image moves to bookworm); CVE-2023-4911 in libc6 2.36-9+deb12u1 is reported again\n");
  std::vector<InputError> all = expired_ignores(p, "2026-12-04");
  EXPECT_EQ(joined(all), ".kguard.yaml:9: vulnerabilities.ignore[0] (CVE-2023-4911) expired on 2026-12-03 (accepted "
                         "until the base image moves to bookworm); it no longer suppresses anything\n");
  EXPECT_TRUE(expired_ignores(p, "2026-12-03").empty());
}

TEST(VulnIgnore, OrderOfAuthority) {
  // An ignore beats VEX; ignoreUnfixed comes before VEX; an already suppressed
  // match is left alone.
  Image img;
  const std::size_t a = img.add(PackageType::Npm, "a", "1.0.0", "pkg:npm/a@1.0.0");
  img.match("CVE-2024-1", a);
  img.match("CVE-2024-2", a, {}, FixState::Unfixed);
  img.match("CVE-2024-3", a, {}, FixState::WontFix);
  img.match("CVE-2024-4", a);
  VulnMatch& pre = img.match("CVE-2024-5", a);
  pre.suppressed = true;
  pre.suppressed_by = "elsewhere";
  std::vector<InputError> errors;
  HandlingPolicy p;
  for (const char* id : {"CVE-2024-1", "CVE-2024-2", "CVE-2024-4", "CVE-2024-5"})
    parse_vex("v.json", openvex_one(id, R"({"@id": "pkg:npm/a"})", "not_affected", R"(, "justification": "component_not_present")"),
              p.statements, errors);
  ASSERT_TRUE(errors.empty()) << joined(errors);
  p.ignores = {ignore("CVE-2024-1", "accepted", 4)};
  p.ignore_unfixed = true;
  p.ignore_unfixed_origin = "--ignore-unfixed";
  HandlingReport r = img.apply(p);
  EXPECT_EQ(r.suppressed, 4u);
  EXPECT_EQ(img.vulns.matches[0].suppressed_by, ".kguard.yaml:4");
  EXPECT_EQ(img.vulns.matches[1].suppressed_by, "--ignore-unfixed");
  EXPECT_EQ(img.vulns.matches[1].suppress_reason, "no fixed version is available");
  EXPECT_EQ(img.vulns.matches[2].suppressed_by, "--ignore-unfixed");
  EXPECT_EQ(img.vulns.matches[3].suppressed_by, "v.json:3 (OpenVEX): not_affected \xE2\x80\x94 component_not_present");
  EXPECT_EQ(img.vulns.matches[4].suppressed_by, "elsewhere");
}

// ---- the report's words ---------------------------------------------------------

TEST(VulnText, SuppressionInEnglishAndChinese) {
  VulnMatch m;
  m.suppressed = true;
  m.suppressed_by = "vex.json:9 (OpenVEX): not_affected \xE2\x80\x94 vulnerable_code_not_in_execute_path";
  m.suppress_reason = "log4j-core is not on the classpath";
  EXPECT_EQ(suppression_text(m, Lang::En),
            "suppressed by vex.json:9 (OpenVEX): not_affected \xE2\x80\x94 vulnerable_code_not_in_execute_path: "
            "log4j-core is not on the classpath");
  EXPECT_EQ(suppression_text(m, Lang::Zh),
            "已抑制，依据 vex.json:9（OpenVEX）：不受影响（not_affected） \xE2\x80\x94 漏洞代码不在执行路径中"
            "（vulnerable_code_not_in_execute_path）：log4j-core is not on the classpath");
  m.suppressed_by = "cdx.json:3 (CycloneDX VEX): resolved";
  m.suppress_reason = "";
  EXPECT_EQ(suppression_text(m, Lang::Zh), "已抑制，依据 cdx.json:3（CycloneDX VEX）：已解决（resolved）");
  m.suppressed_by = "--ignore-unfixed";
  m.suppress_reason = std::string(kNoFixReason);
  EXPECT_EQ(suppression_text(m, Lang::Zh), "已抑制，依据 --ignore-unfixed：没有可用的修复版本");
  m.suppressed_by = ".kguard.yaml:12";
  m.suppress_reason = "fixed";  // the author's words are never translated
  EXPECT_EQ(suppression_text(m, Lang::Zh), "已抑制，依据 .kguard.yaml:12：fixed");
  EXPECT_EQ(suppression_text(m, Lang::En), "suppressed by .kguard.yaml:12: fixed");
  m.suppressed = false;
  EXPECT_EQ(suppression_text(m, Lang::Zh), "");
  // Every label the parsers accept has a Chinese form.
  for (std::string_view l : {"not_affected", "affected", "fixed", "under_investigation", "false_positive", "resolved",
                             "resolved_with_pedigree", "exploitable", "in_triage", "component_not_present",
                             "vulnerable_code_not_present", "vulnerable_code_not_in_execute_path",
                             "vulnerable_code_cannot_be_controlled_by_adversary", "inline_mitigations_already_exist",
                             "code_not_present", "code_not_reachable", "requires_configuration", "requires_dependency",
                             "requires_environment", "protected_by_compiler", "protected_at_runtime",
                             "protected_at_perimeter", "protected_by_mitigating_control"}) {
    EXPECT_NE(vex_label_text(l, Lang::Zh), l) << l;
    EXPECT_EQ(vex_label_text(l, Lang::En), l);
  }
}

}  // namespace
}  // namespace kg::vuln

// The engine-neutral model (src/model/) and the core helpers every layer
// shares: a result from an engine other than scan renders through the same
// report model, categories are data, one UTF-8 decoder, one UTC clock.
#include <gtest/gtest.h>

#include <regex>
#include <sstream>

#include "core/clock.hpp"
#include "core/document.hpp"
#include "core/utf8.hpp"
#include "model/engine_result.hpp"
#include "report/model.hpp"

namespace kg {
namespace {

TEST(Categories, AreRegisteredDataWithStableHandles) {
  CategoryRegistry reg;
  const Category a = reg.add("supply-chain", "Supply chain");
  const Category b = reg.add("secrets", "Secrets");
  EXPECT_EQ(reg.add("supply-chain", "other title"), a);  // one registration per id
  EXPECT_EQ(a.index(), 0u);
  EXPECT_EQ(b.index(), 1u);
  EXPECT_EQ(to_string(b), "secrets");
  EXPECT_EQ(category_title(a), "Supply chain");
  EXPECT_FALSE(reg.find("security").has_value());
  CategoryRegistry moved = std::move(reg);
  ASSERT_TRUE(moved.find("secrets").has_value());
  EXPECT_EQ(*moved.find("secrets"), b);  // handles survive a move of the registry
  ASSERT_EQ(moved.all().size(), 2u);
  EXPECT_EQ(moved.all()[0], a);
}

// A result as a future image engine would return it: its own category,
// a free subject (the image) and a path inside it (a layer file), its own
// facts instead of the PSS level.
struct ImageEngineResult {
  CategoryRegistry categories;
  RuleInfo unsigned_image;
  RuleInfo stray;  // of a category the result does not list
  EngineResult result;

  ImageEngineResult() {
    const Category supply = categories.add("supply-chain", "Supply chain");
    categories.add("secrets", "Secrets");
    unsigned_image.id = "image-unsigned";
    unsigned_image.title = "Image is not signed";
    unsigned_image.category = supply;
    unsigned_image.severity = Severity::High;
    unsigned_image.remediation = "Sign the image.";
    stray.id = "stray";
    stray.severity = Severity::Low;  // and no category

    result.engine = "image";
    result.inputs = {"registry.example.com/shop/api:1.0"};
    result.policy = "Image policy";
    result.facts = {{"signer", "cosign"}, {"registry", "registry.example.com"}};
    result.rules = {&unsigned_image, &stray};
    result.tallies = {{3, 1, 2, 0}, {1, 0, 1, 0}};
    result.categories = categories.all();
    result.kinds = {{"Deployment", 3}};
    result.objects = 3;
    Finding f;
    f.rule = &unsigned_image;
    f.kind = "Deployment";
    f.ns = "shop";
    f.name = "api";
    f.container = "api";
    f.subject = "registry.example.com/shop/api@sha256:0123";
    f.message = "image registry.example.com/shop/api@sha256:0123 has no signature";
    f.location = {"deploy.yaml", 12, 7, "layers/3/usr/bin/curl"};
    result.findings.push_back(f);
  }
};

const Node* parse_json(SourceFile& file, const std::string& text) {
  file.path = "report.json";
  file.content = text;
  load_documents(file);
  EXPECT_TRUE(file.errors.empty());
  return file.documents.empty() ? nullptr : file.documents[0].root;
}

TEST(EngineResult, AnotherEngineRendersThroughTheReportModel) {
  ImageEngineResult img;
  const ReportModel m = build_report(img.result, "2026-12-04T00:00:00Z");
  ASSERT_EQ(m.categories.size(), 2u);
  EXPECT_EQ(to_string(m.categories[0].category), "supply-chain");
  EXPECT_EQ(m.categories[0].tally.failed, 2u);
  EXPECT_EQ(m.categories[1].tally.checks, 0u);
  // The stray rule counts in the totals, in no category.
  EXPECT_EQ(m.tally.failed, 3u);
  EXPECT_EQ(m.by_severity[static_cast<std::size_t>(Severity::Low)], 1u);

  std::ostringstream json;
  write_json_report(m, json);
  SourceFile file;
  const Node* root = parse_json(file, json.str());
  ASSERT_NE(root, nullptr);
  const Node* policy = get(get(root, "source"), "policy");
  EXPECT_EQ(str(get(policy, "signer")), "cosign");
  EXPECT_EQ(str(get(policy, "registry")), "registry.example.com");
  EXPECT_EQ(get(policy, "pss"), nullptr);  // nothing of the scan engine leaks in
  std::vector<std::string> ids;
  for (const Node* c : get(root, "categories")->items()) ids.emplace_back(str(get(c, "id")));
  EXPECT_EQ(ids, (std::vector<std::string>{"supply-chain", "secrets"}));
  const Node* finding = get(root, "findings")->items()[0];
  EXPECT_EQ(str(get(finding, "subject")), "registry.example.com/shop/api@sha256:0123");
  EXPECT_EQ(str(get(finding, "category")), "supply-chain");
  EXPECT_EQ(str(get(get(finding, "location"), "path")), "layers/3/usr/bin/curl");

  std::ostringstream text;
  write_text_report(m, text, false);
  EXPECT_NE(text.str().find("Image policy cosign registry.example.com"), std::string::npos) << text.str();
}

TEST(EngineResult, FingerprintsOfObjectFindingsAreUnchangedAndSubjectsNarrowThem) {
  ImageEngineResult img;
  Finding f = img.result.findings[0].to_finding();
  const std::string with_subject = finding_fingerprint(f);
  f.subject.clear();
  // Without a subject: the formula earlier reports and baselines used.
  EXPECT_EQ(finding_fingerprint(f),
            fingerprint_of("image-unsigned", "Deployment", "shop", "api", "api", "layers/3/usr/bin/curl"));
  EXPECT_NE(with_subject, finding_fingerprint(f));
}

TEST(EngineResult, PolicyTextTranslatesThePolicyAndItsValues) {
  EngineResult r;
  r.policy = "Pod Security Standards";
  r.facts = {{"pss", "restricted"}, {"pssVersion", "v1.37"}};
  EXPECT_EQ(policy_text(r, Lang::En), "Pod Security Standards restricted v1.37");
  // Every human format now says the level in Chinese, as the HTML report did.
  EXPECT_EQ(policy_text(r, Lang::Zh), "Pod 安全标准 受限 v1.37");
  EXPECT_EQ(r.fact("pssVersion"), "v1.37");
  EXPECT_EQ(r.fact("missing"), "");
}

TEST(Utf8, OneDecoderRejectsWhatIsNotWellFormed) {
  char32_t cp = 0;
  EXPECT_EQ(decode_utf8("a", 0, cp), 1u);
  EXPECT_EQ(cp, U'a');
  EXPECT_EQ(decode_utf8("\xE4\xB8\xAD", 0, cp), 3u);  // 中
  EXPECT_EQ(cp, U'中');
  EXPECT_EQ(decode_utf8("\xF0\x9F\x98\x80", 0, cp), 4u);
  EXPECT_EQ(cp, U'\U0001F600');
  EXPECT_EQ(decode_utf8("\xC0\xAF", 0, cp), 0u);          // overlong '/'
  EXPECT_EQ(decode_utf8("\xE0\x80\xAF", 0, cp), 0u);      // overlong, 3 bytes
  EXPECT_EQ(decode_utf8("\xED\xA0\x80", 0, cp), 0u);      // surrogate
  EXPECT_EQ(decode_utf8("\xF4\x90\x80\x80", 0, cp), 0u);  // beyond U+10FFFF
  EXPECT_EQ(decode_utf8("\xE4\xB8", 0, cp), 0u);          // truncated
  EXPECT_EQ(decode_utf8("\x80", 0, cp), 0u);              // stray continuation
  // next_code_point: U+FFFD one byte at a time, then the rest decodes.
  const std::string_view bad = "\xE4\xB8x";
  std::size_t i = 0;
  EXPECT_EQ(next_code_point(bad, i), U'\uFFFD');
  EXPECT_EQ(i, 1u);
  EXPECT_EQ(next_code_point(bad, i), U'\uFFFD');
  EXPECT_EQ(next_code_point(bad, i), U'x');
  EXPECT_EQ(i, 3u);
}

TEST(Clock, OneUtcClock) {
  EXPECT_EQ(utc_epoch_seconds("1970-01-02T00:00:00Z"), 86400);
  EXPECT_EQ(utc_epoch_seconds("2026-12-04T13:58:46.123Z"), 1796392726);
  EXPECT_EQ(utc_epoch_seconds("yesterday"), 0);
  EXPECT_TRUE(std::regex_match(utc_today(), std::regex(R"(\d{4}-\d{2}-\d{2})")));
  EXPECT_TRUE(std::regex_match(utc_now_rfc3339(), std::regex(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z)")));
  EXPECT_TRUE(std::regex_match(utc_now_rfc3339_millis(),
                               std::regex(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)")));
}

}  // namespace
}  // namespace kg

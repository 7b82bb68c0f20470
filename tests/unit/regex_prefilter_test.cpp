// RegexPrefilter must never reject a text the regex matches. Checked on
// hand-picked cases and on every pattern of the built-in catalog against the
// rule fixtures and a sample of the real-world corpus.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "catalog/catalog.hpp"
#include "checks/regex_prefilter.hpp"

namespace kg {
namespace {

struct Compiled {
  std::string source;
  std::regex re;
  RegexPrefilter pre;
};

Compiled compile(std::string_view text) {
  std::string source(text);
  auto flags = std::regex::ECMAScript | std::regex::optimize;
  bool icase = false;
  if (source.starts_with("(?i)")) {
    source.erase(0, 4);
    flags |= std::regex::icase;
    icase = true;
  }
  return {source, std::regex(source, flags), RegexPrefilter::analyze(source, icase)};
}

TEST(RegexPrefilter, RejectsTextsWithoutTheRequiredCharacters) {
  const Compiled iban = compile("\\b[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]{4}){3,7}(?: ?[A-Z0-9]{1,3})?\\b");
  EXPECT_FALSE(iban.pre.trivial());
  EXPECT_FALSE(iban.pre.may_match("server:"));
  EXPECT_FALSE(iban.pre.may_match("  port: 8080"));
  EXPECT_TRUE(iban.pre.may_match("DE89 3704 0044 0532 0130 00"));

  const Compiled keys = compile("(?i)passw(or)?d|secret|token|api[_-]?key");
  EXPECT_FALSE(keys.pre.may_match("LOG_LEVEL"));
  EXPECT_TRUE(keys.pre.may_match("DB_PASSWORD"));
  EXPECT_TRUE(keys.pre.may_match("my-Secret"));
  EXPECT_TRUE(keys.pre.may_match("API_KEY"));

  const Compiled aws = compile("\\b(AKIA|ASIA)[0-9A-Z]{16}\\b");
  EXPECT_FALSE(aws.pre.may_match("akia and asia in lower case"));
  EXPECT_TRUE(aws.pre.may_match("AKIAIOSFODNN7EXAMPLE"));

  // Optional parts are not required; zero-width assertions keep neighbours adjacent.
  const Compiled opt = compile("ab?c\\bd");
  EXPECT_TRUE(opt.pre.may_match("a cd"));  // requires "a" and "cd", not next to each other
  EXPECT_FALSE(opt.pre.may_match("xcd"));
  EXPECT_FALSE(opt.pre.may_match("ac d"));

  // Both parts of one alternative must be present.
  const Compiled both = compile("(?i)secret|api[_-]?key");
  EXPECT_FALSE(both.pre.may_match("api_1: false"));
  EXPECT_FALSE(both.pre.may_match("key: value"));
  EXPECT_TRUE(both.pre.may_match("API-KEY"));
  EXPECT_TRUE(both.pre.may_match("apikey"));
}

TEST(RegexPrefilter, UnknownSyntaxGivesNoPrefilter) {
  for (const char* p : {"(a)\\1", "\\x41", "[[:alpha:]]+", "(?<=a)b", "a|", "(a|)b*", "[^]"})
    EXPECT_TRUE(RegexPrefilter::analyze(p, false).trivial()) << p;
  // Deep nesting is given up on, not recursed into.
  const std::string deep = std::string(100000, '(') + "a" + std::string(100000, ')');
  EXPECT_TRUE(RegexPrefilter::analyze(deep, false).trivial());
  EXPECT_FALSE(RegexPrefilter::analyze("((((a))))", false).trivial());
}

// Every pattern-like parameter of the built-in catalog.
std::vector<std::string> catalog_patterns() {
  std::vector<std::string> out;
  for (const auto& rule : Catalog::builtin().rules()) {
    for (const MapEntry& e : entries(rule->params)) {
      const std::string_view key = e.key->text();
      if (key != "keys" && key != "ignoreKeys" && key != "values" && key != "ignoreValues" &&
          key != "names" && key != "ignoreNames")
        continue;
      for (const Node* item : items(e.value)) {
        const std::string_view text = item->is_map() ? str(item->get("pattern")) : str(item);
        if (!text.empty()) out.emplace_back(text);
      }
    }
  }
  return out;
}

std::vector<std::string> sample_lines() {
  namespace fs = std::filesystem;
  std::vector<std::string> lines;
  auto add_file = [&](const fs::path& p, std::size_t every) {
    std::ifstream in(p);
    std::string line;
    for (std::size_t n = 0; std::getline(in, line); ++n)
      if (n % every == 0) lines.push_back(line.substr(0, 512));
  };
  for (const auto& e : fs::recursive_directory_iterator(fs::path(KGUARD_SOURCE_DIR) / "rules"))
    if (e.is_regular_file() && e.path().extension() == ".yaml") add_file(e.path(), 1);
  const fs::path corpus = fs::path(KGUARD_CORPORA_DIR) / "real-world";
  if (fs::is_directory(corpus))
    for (const auto& e : fs::recursive_directory_iterator(corpus))
      if (e.is_regular_file()) add_file(e.path(), 97);
  // Values as they appear unquoted, and some shapes the patterns look for.
  const std::size_t n = lines.size();
  for (std::size_t i = 0; i < n; ++i)
    if (auto colon = lines[i].find(": "); colon != std::string::npos)
      lines.push_back(lines[i].substr(colon + 2));
  for (const char* s : {"DE89 3704 0044 0532 0130 00", "GB82WEST12345698765432", "123-45-6789",
                        "user=alice", "PASSWORD", "db_pass", "AZURE_STORAGE_KEY", "OCI_CLI_KEY_CONTENT",
                        "$(FOO)", "${FOO}", "{{ .Values.x }}", "<none>", "/etc/ssl/certs/",
                        "https://user:hunter2@example.com/x", "password: s3cr3t!", "TRUE", "Off"})
    lines.emplace_back(s);
  std::sort(lines.begin(), lines.end());
  lines.erase(std::unique(lines.begin(), lines.end()), lines.end());
  return lines;
}

TEST(RegexPrefilter, NeverRejectsAMatchOfACatalogPattern) {
  const std::vector<std::string> patterns = catalog_patterns();
  ASSERT_GT(patterns.size(), 20u);
  const std::vector<std::string> lines = sample_lines();
  ASSERT_GT(lines.size(), 1000u);
  RecordProperty("lines", static_cast<int>(lines.size()));
  std::size_t with_prefilter = 0, matches = 0, rejected = 0;
  for (const std::string& p : patterns) {
    const Compiled c = compile(p);
    if (!c.pre.trivial()) ++with_prefilter;
    for (const std::string& line : lines) {
      const bool pass = c.pre.may_match(line);
      if (!pass) ++rejected;
      if (!pass || c.pre.trivial()) {
        const bool match = std::regex_search(line, c.re);
        if (match) ++matches;
        EXPECT_FALSE(match && !pass) << "prefilter rejected a match of " << p << " in: " << line;
      }
    }
  }
  // Not vacuous: most catalog patterns get a prefilter, and it rejects most lines.
  EXPECT_GT(with_prefilter * 10, patterns.size() * 8);
  EXPECT_GT(rejected, lines.size() * patterns.size() / 2);
  (void)matches;
}

}  // namespace
}  // namespace kg

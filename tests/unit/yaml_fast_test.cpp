// The YAML fast path against libyaml: identical trees, marks and errors on
// every real input we have and on hand-written edge cases, and the fast path
// really taking the common documents.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "support/yaml_differential.hpp"

namespace kg {
namespace {

namespace fs = std::filesystem;
using detail::YamlPath;
using detail::YamlPathCounts;

std::string first_difference(const std::string& a, const std::string& b) {
  std::istringstream sa(a), sb(b);
  std::string la, lb;
  for (int n = 1;; ++n) {
    const bool ea = !std::getline(sa, la), eb = !std::getline(sb, lb);
    if (ea && eb) return {};
    if (ea || eb || la != lb)
      return "dump line " + std::to_string(n) + ":\n  fast:    " + (ea ? "(end)" : la) +
             "\n  libyaml: " + (eb ? "(end)" : lb);
  }
}

// Compares both paths in both loading modes; returns the fast-path counts.
YamlPathCounts expect_same(std::string_view bytes, const std::string& what) {
  YamlPathCounts counts;
  for (bool release : {false, true}) {
    const std::string reference = test::load_and_dump(bytes, YamlPath::LibyamlOnly, release);
    YamlPathCounts c;
    const std::string fast = test::load_and_dump(bytes, YamlPath::Auto, release, &c);
    EXPECT_EQ(fast, reference) << what << (release ? " (streamed)" : "") << '\n'
                               << first_difference(fast, reference);
    counts = c;
  }
  return counts;
}

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::vector<fs::path> yaml_files(const fs::path& dir) {
  std::vector<fs::path> out;
  if (!fs::is_directory(dir)) return out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    const std::string ext = e.path().extension().string();
    if (e.is_regular_file() && (ext == ".yaml" || ext == ".yml")) out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(YamlFastPath, SameAsLibyamlOnEveryCorpusFile) {
  const fs::path corpora = KGUARD_CORPORA_DIR;
  const fs::path source = KGUARD_SOURCE_DIR;
  std::size_t files = 0;
  YamlPathCounts total;
  for (const fs::path& dir : {corpora / "real-world", corpora / "pod-security", source / "examples",
                              source / "rules", source / "deploy", source / "tests"}) {
    for (const fs::path& p : yaml_files(dir)) {
      const YamlPathCounts c = expect_same(read(p), p.string());
      total.fast += c.fast;
      total.declined += c.declined;
      total.rest += c.rest;
      ++files;
    }
  }
  EXPECT_GT(files, 4000u);
  // The point of the fast path: nearly every real document takes it.
  const double share = static_cast<double>(total.fast) / static_cast<double>(total.fast + total.declined + 1);
  std::printf("fast path: %zu documents, declined %zu, rest-of-stream %zu (%.1f%% fast) in %zu files\n",
              total.fast, total.declined, total.rest, 100.0 * share, files);
  EXPECT_GT(share, 0.9);
}

TEST(YamlFastPath, RealWorldCorpusMostlyFast) {
  YamlPathCounts total;
  for (const fs::path& p : yaml_files(fs::path(KGUARD_CORPORA_DIR) / "real-world")) {
    YamlPathCounts c;
    test::load_and_dump(read(p), YamlPath::Auto, true, &c);
    total.fast += c.fast;
    total.declined += c.declined;
  }
  std::printf("real-world: %zu fast, %zu declined\n", total.fast, total.declined);
  EXPECT_GT(total.fast, 9 * total.declined);
}

// Hand-written edge cases: each is parsed by both paths and must agree,
// whether the fast path takes it or declines it.
const char* const kCases[] = {
    "a: 1\n",
    "a: 1",
    "a:\n",
    "a:",
    "a:\nb: 2\n",
    "a: \n  b: 1\n  c:\n    - x\n    -\n    - y: 1\n      z: 2\n",
    "- a\n- b\n-\n- - c\n  - d\n- e: 1\n  f: 2\n",
    "a:\n- 1\n- 2\nb: 3\n",
    "a:\n  - 1\n  - 2\nb:\n- x: 1\n  y: 2\n- z\n",
    "- a:\n  - x\n- b:\n- c\n",
    "key with spaces: value with spaces   # comment\n",
    "k: v#not comment\nk2: 'q''s' # c\nk3: \"d\\\"q\\\\\\n\\t\\x41\\u00e9\\U0001F600\"\n",
    "k: \"bad \\q escape\"\n",
    "k: \"\\ud800\"\n",
    "k: 'multi\n  line'\n",
    "k: \"multi\n  line\"\n",
    "k: plain\n  continued\n",
    "k: plain\n\n  continued after blank\n",
    "k: a: b\n",
    "k: - a\n",
    "? complex\n: key\n",
    "a: &x 1\nb: *x\n",
    "a: !!str 1\n",
    "a: [1, 2, \"3\", '4', [5, 6], {x: y}]\nb: {}\nc: []\nd: {\"a\": \"b\", c: [d]}\n",
    "a: [1, 2\n  , 3]\n",
    "a: [a:b]\n",
    "a: [ 1 , 2 ]  # c\n",
    "a: [1, 2,]\n",
    "a: {a: 1,}\n",
    "a: [-1, -x, - y]\n",
    "lit: |\n  line 1\n   line 2\n\n  line 4\n\nnext: 1\n",
    "lit: |-\n  a\n  b\n\n\nnext: 1\n",
    "lit: |+\n  a\n  b\n\n\nnext: 1\n",
    "fold: >\n  a\n  b\n\n  c\n    d\n  e\n\n\nnext: 1\n",
    "fold: >-\n  a\n  b\n\n   c\n  d\n",
    "fold: >+\n\n  a\n\n",
    "lit: |2\n    x\n  y\n",
    "- |\n  a\n  b\n- >\n  c\n  d\n",
    "- k: |\n    text\n  other: 1\n",
    "lit: |\n      \n  a\n",
    "lit: |\n\n\n  a\n",
    "lit: |\n  a\n\t b\n",
    "lit: |\n  a\n  \tb\n",
    "lit: |\nnext: 1\n",
    "lit: |\n",
    "lit: |",
    "lit: |\n  a",
    "lit: | # comment\n  a\n",
    "lit: |#c\n  a\n",
    "lit: |0\n  a\n",
    "a: 1\n---\nb: 2\n...\n---\nc: 3\n",
    "---\na: 1\n---\n---\n# only a comment\n---\nb: 2\n",
    "--- # c\na: 1\n--- |\n  text\n---\nb: 2\n",
    "%YAML 1.1\n---\na: 1\n",
    "# lead\n\n  # indented comment\na: 1\n",
    "a: 1\n\tb: 2\n",
    "a:\t1\n",
    "a: 1\r\nb: 2\r\n",
    "a: caf\xc3\xa9\n",
    "a: \"x\"y\n",
    "a: \"x\"#c\n",
    "\"quoted key\": 1\n'k2' : 2\n",
    "a:\n  \"q\": 1\n  'r' : 2\n",
    "null: 1\n~: 2\nk: ~\nk2: null\nk3: Null\nk4: NULL\nk5: nil\n",
    "a: b\n c\n",
    "- a\n  b\n",
    "-a: 1\n-: 2\n",
    "a:b: 1\nhttp://x: y\n",
    "a: 1\n  b: 2\n",
    "a:\n    b: 1\n  c: 2\n",
    "- a\nb: 1\n",
    "a: 1\na: 2\n",
    "items:\n- a: 1\n- b: 2\n- c: [oops\nkind: List\n",
    "apiVersion: v1\nkind: List\nitems:\n- kind: Pod\n  metadata: {name: a}\n- kind: Pod\n  metadata:\n    name: b\n    labels: &l {x: y}\n- kind: Pod\n  metadata:\n    name: c\n",
    "apiVersion: v1\nkind: List\nitems:\n- kind: Pod\n- kind: Pod\n  x: [\n",
    "  a: 1\n  b: 2\n",
    "plain root\n",
    "'quoted root'\n",
    "[1, 2]\n",
    "a: 1\nb\n",
    "a: -\n",
    "- -\n",
    "-\n-\n",
    "a: |\n  x\n b: 1\n",
    "a:\n  - b\n  c: 1\n",
    "a: 'x' 'y'\n",
    "a: \"\\\n  cont\"\n",
    "a: 1 #c\n#c2\n  #c3\nb: 2\n",
    "a: >\n  folded\n  text\n\n  para\n",
    "x: 0x1F\ny: 1e3\nz: .inf\n",
    "\xef\xbb\xbf\x61: 1\n",  // a BOM, then "a: 1"
    "a: 1\n---",
    "a: 1\n--- \n",
    "a: 1\n---\tx\n",
    "- [a, b]: 1\n",
    "{a: 1}: 2\n",
    "a: b # c: d\n",
    "a: 'it''s' 'x'\n",
    "a: \"\"\nb: ''\n",
    "a:   \n  \nb: 1\n",
    "a: 'one\n  two\n\n  three  \n   four'\nb: 1\n",
    "a: \"x \\\n  y\\\n\n  z \\t\n w\"  # c\nb: 1\n",
    "- 'a\nb'\n- \"c\n\n\n  d\"\n",
    "a:\n  b: 'long\nless indented'\n  c: 1\n",
    "a: 'x\n---\ny'\n",
    "a: 'x\n...\ny'\n",
    "a: 'unterminated\n",
    "a: \"bad \\q\n escape\"\n",
    "a: 'it''s\n  ''quoted'''\n",
    "a: \"tab\tin\n\tnext\"\n",
    "'multi\nkey': 1\n",
    "a: 'x\n  y': 1\n",
    "a: 'x\n  y' z\n",
    // Streamed List items must be settled before they are handed over.
    "items: [a\n  b]\n",
    "kind: List\nitems: [web, api\n  server, db]\n",
    "items: [\"c\": d]\n",
    "items: ['c' : d, e]\n",
    "items:\n- [a]: b\n",
    "items:\n- {name: a}: b\n",
    "items: [[a]: b]\n",
    "items: [{a: b}, [c], d]\nkind: List\n",
    "items: [a, b}\n",
    // A node in the dash's (or key's) column after an empty entry is its value.
    "items:\n-\n|+\n  x\n",
    "items:\n-\nfoo\n",
    "items:\n-\nfoo: 1\n",
    "items:\n- a\n-\n- b\n",
    "- \nfoo\n",
    "-\n[a]\n",
    "a:\nfoo\n",
    "a:\n\"q\"\n",
    "items:\n- a:\n  b\n",
    "items:\n- a:\n  b: 1\n",
};

TEST(YamlFastPath, SameAsLibyamlOnEdgeCases) {
  for (const char* c : kCases) expect_same(c, std::string("case: ") + c);
}

TEST(YamlFastPath, TakesTheCommonShapes) {
  YamlPathCounts c;
  test::load_and_dump(
      "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  labels: {app: web}\n"
      "spec:\n  template:\n    spec:\n      containers:\n      - name: c\n        image: \"nginx:1\"\n"
      "        args: [\"--port\", '8080']\n        command:\n        - sh\n        - -c\n"
      "        - |\n          echo hi\n          exec nginx\n        env:\n        - name: A\n"
      "          value: ''\n---\nkind: ConfigMap\ndata:\n  k: >-\n    folded\n",
      YamlPath::Auto, true, &c);
  EXPECT_EQ(c.fast, 2u);
  EXPECT_EQ(c.declined, 0u);
}

}  // namespace
}  // namespace kg

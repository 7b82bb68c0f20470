#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "support/yaml_differential.hpp"
#include "test_support.hpp"

namespace kg {
namespace {

using test::load;

TEST(Yaml, MultiDocumentStreamWithCommentsCrlfAndEndMarkers) {
  auto f = load("a: 1\r\n--- # first comment\r\nb: 2\r\n...\r\n---\r\n# only a comment\r\n---\nc: [x, y]\n");
  ASSERT_TRUE(f->errors.empty()) << f->errors[0].message;
  ASSERT_EQ(f->documents.size(), 3u);  // the comment-only document is empty
  EXPECT_EQ(str(f->documents[0].root->get("a")), "1");
  EXPECT_EQ(f->documents[1].root->get("b")->line, 3u);
  EXPECT_EQ(f->documents[2].root->get("c")->items().size(), 2u);
  EXPECT_EQ(f->documents[2].root->get("c")->line, 8u);
  EXPECT_EQ(f->documents[2].root->get("c")->column, 4u);
}

TEST(Yaml, Yaml12PlainScalarsStayStrings) {
  // prometheus-operator's bundle.yaml has `- =` enum values.
  auto f = load("enum:\n- =\n- '!='\n- =~\nflag: yes\nquoted: \"true\"\nn: ~\nport: 0x1F\n");
  ASSERT_TRUE(f->errors.empty());
  const Node* e = f->documents[0].root->get("enum");
  ASSERT_EQ(e->items().size(), 3u);
  EXPECT_EQ(e->items()[0]->text(), "=");
  EXPECT_EQ(e->items()[2]->text(), "=~");
  EXPECT_EQ(f->documents[0].root->get("flag")->as_bool(), true);  // as the API server reads it
  EXPECT_EQ(f->documents[0].root->get("quoted")->as_bool(), std::nullopt);
  EXPECT_TRUE(f->documents[0].root->get("n")->is_null());
}

TEST(Yaml, AnchorsAliasesAndMergeKeys) {
  auto f = load("base: &b {cpu: 1, memory: 2}\nuse: *b\nmerged:\n  <<: *b\n  cpu: 3\n");
  ASSERT_TRUE(f->errors.empty());
  const Node* root = f->documents[0].root;
  EXPECT_EQ(str(get(root->get("use"), "memory")), "2");
  EXPECT_EQ(str(get(root->get("merged"), "cpu")), "3");
  EXPECT_EQ(str(get(root->get("merged"), "memory")), "2");
}

TEST(Yaml, AliasBombIsRejectedAndOtherDocumentsStillLoad) {
  std::string bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  std::string prev = "a";
  for (char c = 'b'; c <= 'j'; ++c) {
    bomb += std::string(1, c) + ": &" + c + " [";
    for (int i = 0; i < 10; ++i) bomb += (i ? ", *" : "*") + prev;
    bomb += "]\n";
    prev = std::string(1, c);
  }
  auto f = load("ok: 1\n---\n" + bomb + "---\nalso: ok\n");
  ASSERT_EQ(f->errors.size(), 1u);
  EXPECT_NE(f->errors[0].message.find("alias"), std::string::npos);
  EXPECT_EQ(f->errors[0].file, "test.yaml");
  ASSERT_EQ(f->documents.size(), 2u);
  EXPECT_EQ(str(f->documents[1].root->get("also")), "ok");
}

TEST(Yaml, MalformedDocumentReportsLocationAndTheRestLoads) {
  auto f = load("kind: A\n---\nkind: B\n  bad: [unclosed\n---\nkind: C\n");
  ASSERT_EQ(f->errors.size(), 1u);
  EXPECT_EQ(f->errors[0].line, 4u);
  EXPECT_GT(f->errors[0].column, 0u);
  EXPECT_NE(f->errors[0].message.find("invalid YAML"), std::string::npos);
  ASSERT_EQ(f->documents.size(), 2u);
  EXPECT_EQ(str(f->documents[1].root->get("kind")), "C");
}

TEST(Yaml, DuplicateKeysAreReportedAndTheLastWins) {
  auto f = load("securityContext:\n  privileged: false\n  privileged: true\n");
  ASSERT_EQ(f->errors.size(), 1u);
  EXPECT_EQ(f->errors[0].line, 3u);
  EXPECT_NE(f->errors[0].message.find("duplicate key 'privileged'"), std::string::npos);
  EXPECT_TRUE(is_true(get(f->documents[0].root->get("securityContext"), "privileged")));
}

TEST(Yaml, DeepNestingIsBounded) {
  std::string deep(5000, '[');
  auto f = load(deep + "\n");
  ASSERT_FALSE(f->errors.empty());
}

TEST(Json, ValuesEscapesLinesAndColumns) {
  auto f = load("{\"kind\": \"Pod\",\n \"metadata\": {\"name\": \"a\\u00e9\\n\"},\n \"n\": -1.5e3, \"t\": true, \"z\": null}",
                "x.json");
  ASSERT_TRUE(f->errors.empty()) << f->errors[0].message;
  const Node* root = f->documents[0].root;
  EXPECT_EQ(str(get(root->get("metadata"), "name")), "a\xC3\xA9\n");
  EXPECT_EQ(root->get("metadata")->line, 2u);
  EXPECT_EQ(root->get("metadata")->column, 14u);
  EXPECT_EQ(root->get("t")->as_bool(), true);
  EXPECT_TRUE(root->get("z")->is_null());
  EXPECT_EQ(root->get("n")->text(), "-1.5e3");
}

TEST(Json, ConcatenatedValuesAndResyncAfterAnError) {
  auto f = load("{\"kind\": \"A\"}\n{\"kind\": \"B\",\n \"x\": [1,]}\n{\"kind\": \"C\"}\n", "x.json");
  ASSERT_EQ(f->errors.size(), 1u);
  EXPECT_EQ(f->errors[0].line, 3u);
  EXPECT_NE(f->errors[0].message.find("invalid JSON"), std::string::npos);
  ASSERT_EQ(f->documents.size(), 2u);
  EXPECT_EQ(str(f->documents[1].root->get("kind")), "C");
}

TEST(Json, FlowYamlStartingWithBraceFallsBackToYaml) {
  auto f = load("{kind: Pod, metadata: {name: x}}\n");
  ASSERT_TRUE(f->errors.empty());
  EXPECT_EQ(str(f->documents[0].root->get("kind")), "Pod");
}

TEST(Stream, DocumentsAreDeliveredOneByOne) {
  SourceFile f;
  f.path = "s.yaml";
  f.content = "a: 1\n---\nb: 2\n---\nc: 3\n";
  std::vector<std::string> keys;
  stream_documents(f, {}, [&](const Document& d) {
    keys.emplace_back(d.root->entries()[0].key->text());
  });
  EXPECT_EQ(keys, (std::vector<std::string>{"a", "b", "c"}));
}

}  // namespace
}  // namespace kg

namespace kg {
namespace {

TEST(Stream, ListItemsAreDeliveredOneByOneInYamlAndJson) {
  for (const char* content :
       {"apiVersion: v1\nitems:\n- {kind: Pod, metadata: {name: a}}\n- kind: Service\n  metadata: {name: b}\nkind: List\n",
        "{\"apiVersion\": \"v1\", \"items\": [{\"kind\": \"Pod\"}, {\"kind\": \"Service\"}], \"kind\": \"List\"}"}) {
    SourceFile f;
    f.path = "list";
    f.content = content;
    std::vector<std::pair<std::int64_t, std::string>> seen;
    stream_documents(f, {}, [&](const Document& d) {
      seen.emplace_back(d.list_index, std::string(str(d.root->get("kind"))));
      if (d.list_index < 0) {
        EXPECT_TRUE(d.root->get("items")->items().empty());  // envelope
      }
    });
    ASSERT_TRUE(f.errors.empty()) << f.errors[0].message;
    EXPECT_EQ(seen, (std::vector<std::pair<std::int64_t, std::string>>{
                        {0, "Pod"}, {1, "Service"}, {-1, "List"}}))
        << content;
  }
}

TEST(Stream, SyntaxErrorResumesAtTheNextDocument) {
  SourceFile f;
  f.path = "s.yaml";
  f.content = "a: 1\n---\nb: [\n  c: d\n---\ne: 5\n---\nf: 6\n";
  std::vector<std::string> keys;
  stream_documents(f, {}, [&](const Document& d) {
    keys.emplace_back(d.root->entries()[0].key->text());
  });
  EXPECT_EQ(keys, (std::vector<std::string>{"a", "e", "f"}));
  ASSERT_EQ(f.errors.size(), 1u);
  EXPECT_EQ(f.errors[0].file, "s.yaml");
}

// Inputs of 16 MiB and more give the pages libyaml has read back to the
// kernel as the parse advances. Documents, a syntax error far into the file
// (its line and message) and the documents after it must come out as from a
// small input: the resumed parse reads no released bytes.
TEST(Stream, LargeInputReleasedWhileParsedKeepsDocumentsErrorsAndLines) {
  const std::string filler(900, 'x');
  auto documents = [&](std::size_t from, std::size_t to) {
    std::string out;
    for (std::size_t i = from; i < to; ++i) out += "k" + std::to_string(i) + ":\n  v: " + filler + "\n---\n";
    return out;
  };
  const std::string broken = "b: [\n  c: d\n---\n";
  const std::string head = documents(0, 20000);  // about 18 MiB
  const std::string tail = documents(20000, 20100) + "last: 1\n";
  ASSERT_GT(head.size(), std::size_t{16} << 20);

  auto parse = [](std::string content, std::vector<std::string>& keys) {
    SourceFile f;
    f.path = "big.yaml";
    f.content = std::move(content);
    stream_documents(f, {}, [&](const Document& d) { keys.emplace_back(d.root->entries()[0].key->text()); });
    return f.errors;
  };
  std::vector<std::string> keys, small_keys;
  const std::vector<InputError> errors = parse(head + broken + tail, keys);
  const std::vector<InputError> small_errors = parse(broken + tail, small_keys);
  ASSERT_EQ(keys.size(), 20000u + small_keys.size());
  EXPECT_EQ(keys[0], "k0");
  EXPECT_EQ(keys[19999], "k19999");
  EXPECT_EQ(std::vector<std::string>(keys.begin() + 20000, keys.end()), small_keys);
  EXPECT_EQ(keys.back(), "last");
  ASSERT_EQ(errors.size(), 1u);
  ASSERT_EQ(small_errors.size(), 1u);
  const auto head_lines = static_cast<std::uint32_t>(std::count(head.begin(), head.end(), '\n'));
  EXPECT_EQ(errors[0].line, small_errors[0].line + head_lines);
  EXPECT_EQ(errors[0].column, small_errors[0].column);
}

}  // namespace
}  // namespace kg

namespace kg {
namespace {

// Every document of an input with its line, List index and nodes, then every
// error: what scan sees of it, whole or cut into pieces (split_input) that
// view the whole. `failed`: a piece gave the input back (piece_failed).
std::string pieces_dump(const std::string& content, std::size_t target, std::size_t* pieces_out,
                        bool* failed = nullptr) {
  std::string docs, errors;
  const std::vector<InputPiece> pieces = split_input(content, target);
  if (pieces_out) *pieces_out = pieces.size();
  for (const InputPiece& p : pieces) {
    SourceFile file;
    file.path = "big";
    if (pieces.size() > 1) {
      file.view = std::string_view(content).substr(p.begin, p.end - p.begin);
      file.first_line = p.first_line;
      file.list = p.list;
    } else {
      file.content = content;
    }
    stream_documents(file, LoadLimits{}, [&](const Document& d) {
      docs += "document line " + std::to_string(d.line) + " item " + std::to_string(d.list_index) + '\n';
      test::dump_node(d.root, 1, docs);
    });
    if (failed && file.piece_failed) *failed = true;
    for (const InputError& e : file.errors)
      errors += e.file + ':' + std::to_string(e.line) + ':' + std::to_string(e.column) + ' ' + e.message + '\n';
  }
  return docs + errors;
}

std::string real_world_stream() {
  std::string content;
  namespace fs = std::filesystem;
  std::vector<fs::path> files;
  for (const auto& e : fs::recursive_directory_iterator(fs::path(KGUARD_CORPORA_DIR) / "real-world"))
    if (e.path().extension() == ".yaml") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  for (const fs::path& p : files) {
    std::ifstream in(p, std::ios::binary);
    content += "---\n" + std::string(std::istreambuf_iterator<char>(in), {}) + "\n";
  }
  return content;
}

TEST(Split, PiecesOfAYamlStreamLoadAsTheWhole) {
  // Every real-world manifest, then edge cases: `---` inside block scalars
  // (indented), `----` lines, a `--- value` start, comment-only and empty
  // documents, `...` ends, a syntax error, a duplicate key, a List, CRLF.
  std::string content = real_world_stream() +
      "--- |\n  text\n  ---\n----\n---\n# only a comment\n---\na: 1\n...\n---\nb: [1, 2\n---\n"
      "k: 1\nk: 2\n---\nkind: List\nitems:\n- {kind: Pod}\n- kind: Secret\n---\r\nc: 3\r\n";
  std::size_t pieces = 0;
  const std::string whole = pieces_dump(content, 0, &pieces);
  ASSERT_EQ(pieces, 1u);
  ASSERT_NE(whole.find("big:"), std::string::npos);  // the error cases did report
  for (std::size_t target : {std::size_t{1} << 20, std::size_t{64} << 10, std::size_t{100}}) {
    const std::string cut = pieces_dump(content, target, &pieces);
    EXPECT_GT(pieces, 3u) << target;
    EXPECT_TRUE(cut == whole) << "pieces of " << target << " bytes load differently";
  }
}

TEST(Split, PiecesOfAJsonListLoadAsTheWhole) {
  // Items of every shape, strings with brackets, commas and escaped quotes,
  // a duplicate key in an item, items on one line and across lines.
  std::string items;
  for (int i = 0; i < 300; ++i) {
    if (i) items += i % 7 ? ",\n    " : ", ";
    items += "{\"kind\": \"Pod\", \"metadata\": {\"name\": \"p" + std::to_string(i) +
             "\", \"annotations\": {\"a\": \"[{,\\\"}]\"}}, \"spec\": {\"containers\": [{\"name\": \"c\"}]}";
    if (i % 50 == 3) items += ", \"spec\": 1";
    items += "}";
    if (i % 90 == 5) items += ", [1, [2]], \"x\", null, 3.5e1";
  }
  for (const std::string& content :
       {"{\"apiVersion\": \"v1\",\n \"items\": [\n    " + items + "\n  ],\n \"kind\": \"List\"}\n",
        "\xEF\xBB\xBF{\"items\":[" + items + "],\"kind\":\"List\"}"}) {
    std::size_t pieces = 0;
    const std::string whole = pieces_dump(content, 0, &pieces);
    ASSERT_EQ(pieces, 1u);
    ASSERT_NE(whole.find("duplicate"), std::string::npos);
    for (std::size_t target : {std::size_t{4} << 10, std::size_t{1}}) {
      bool failed = false;
      const std::string cut = pieces_dump(content, target, &pieces, &failed);
      EXPECT_GT(pieces, 3u) << target;
      EXPECT_FALSE(failed);
      EXPECT_TRUE(cut == whole) << "pieces of " << target << " bytes load differently";
    }
  }
}

TEST(Split, WhatCannotBeSplitExactlyStaysWholeOrFails) {
  const std::string json = "{\"kind\": \"List\", \"items\": [" + std::string(4096, ' ') + "]}\n";
  EXPECT_EQ(split_input(json, 100).size(), 1u);  // no items
  EXPECT_EQ(split_input("{\"items\": [1, 2]}\n{\"items\": [3, 4]}\n", 1).size(), 1u);  // two values
  EXPECT_EQ(split_input("{\"it\\u0065ms\": [1, 2]}", 1).size(), 1u);  // a key the loader decodes
  EXPECT_EQ(split_input("{\"items\": [1, 2], \"items\": [3, 4]}", 1).size(), 1u);
  EXPECT_EQ(split_input("{\"items\": [1, , 2]}", 1).size(), 1u);
  EXPECT_EQ(split_input("{\"items\": [1, 2,]}", 1).size(), 1u);
  EXPECT_EQ(split_input("{\"items\": [1, \"2]}", 1).size(), 1u);  // unterminated string
  LoadLimits shallow;
  shallow.max_depth = 4;
  EXPECT_EQ(split_input("{\"items\": [[[1]], 2]}", 1, shallow).size(), 1u);
  EXPECT_EQ(split_input("{\"items\": [[1], 2]}", 1, shallow).size(), 3u);
  // A broken item: its piece gives the input back.
  bool failed = false;
  std::size_t pieces = 0;
  pieces_dump("{\"items\": [{\"a\": 1}, {\"b\": tru}, {\"c\": 3}]}", 1, &pieces, &failed);
  EXPECT_EQ(pieces, 4u);
  EXPECT_TRUE(failed);
  std::string directives = "a: 1\n";
  for (int i = 0; i < 200; ++i) directives += "---\nb: " + std::to_string(i) + "\n";
  EXPECT_GT(split_input(directives, 100).size(), 10u);
  directives += "%YAML 1.1\n---\nc: 1\n";
  EXPECT_EQ(split_input(directives, 100).size(), 1u);
}

}  // namespace
}  // namespace kg

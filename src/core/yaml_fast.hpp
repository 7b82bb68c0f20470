// The fast path of the YAML loader: a parser for the block-style YAML that
// Kubernetes manifests are written in, several times faster than libyaml
// because it neither tokenizes into heap-allocated events nor copies the
// input through a decoding buffer.
//
// It accepts a strict subset and declines everything else (anchors, tags,
// multi-line plain or quoted scalars, non-ASCII bytes, tabs in indentation,
// directives, ...). A declined document is parsed again by libyaml, so the
// subset only decides speed, never results: on every document it accepts it
// must emit exactly the events libyaml would (same tree, same line and
// column marks). tests/unit/yaml_fast_test.cpp and fuzz/fuzz_yaml_fast.cpp
// hold it to that.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/tree_builder.hpp"

namespace kg::detail {

struct FastDocument {
  enum class Status {
    Parsed,       // a document's events went to the builder (or it was empty)
    EndOfStream,  // only blank and comment lines were left
    Declined,     // not in the subset: parse [begin, end) with libyaml
    RestOfStream  // directives or `...` markers: hand the rest of the stream to libyaml
  };
  Status status = Status::EndOfStream;
  std::size_t begin = 0;       // first byte of the document (a line start)
  std::uint32_t begin_line = 1;
  std::size_t end = 0;         // where the next document starts (a `---` line or the end)
  std::uint32_t end_line = 1;
  std::uint32_t doc_line = 1;  // line of the document start, as libyaml marks it
  bool has_content = false;    // a root node was emitted
};

class FastYamlParser {
 public:
  FastYamlParser(std::string_view input, TreeBuilder& builder) : s_(input), b_(builder) {}

  // Parses the document that starts at `pos` (a line start on line `line`).
  // On Declined the builder holds a partial tree: reset it before reuse.
  FastDocument parse_document(std::size_t pos, std::uint32_t line);
  // A document larger than this is declined unparsed (libyaml's side
  // reports it as too large without building its tree).
  void set_max_document_bytes(std::size_t n) { max_document_bytes_ = n; }

 private:
  struct Bail {};  // thrown inside the parser only; never leaves parse_document

  bool find_document_end(std::size_t body, FastDocument& doc);
  bool check_bytes(std::size_t b, std::size_t e);
  void load_line(std::size_t start);
  void next_line();
  void skip_to_content();
  std::uint32_t col() const { return static_cast<std::uint32_t>(p_ - ls_); }
  std::uint32_t indent() const { return static_cast<std::uint32_t>(cs_ - ls_); }
  bool at_eol() const { return p_ >= le_; }
  bool dash_at(std::size_t q) const;
  void expect_rest_empty();

  void parse_block_node(int parent, bool inline_value, bool after_dash);
  void parse_block_mapping(std::uint32_t n, std::size_t colon);
  void parse_block_sequence(std::uint32_t n, bool indentless);
  void parse_value_after_colon(std::uint32_t n, std::uint32_t key_line, std::uint32_t colon_end);
  void parse_block_scalar(int parent);
  void parse_flow(int depth, const char* next);
  void parse_flow_scalar(bool key, const char* next);
  void expect_next(std::size_t q, const char* next) const;
  void parse_plain_value(int parent);
  // The column libyaml marks for byte `pos` of the current line (characters).
  std::uint32_t mark_col(std::size_t pos) const;
  std::size_t find_stop(std::size_t q, std::size_t e) const;

  // Scans a mapping key at p_ (plain or quoted, one line) and returns true
  // when it is followed by ':' and a space or the line end; `colon` is set
  // to the ':' position. Does not move p_.
  bool key_ahead(std::size_t& colon) const;
  void emit_plain(std::size_t b, std::size_t e, std::uint32_t line, std::uint32_t column);
  std::size_t scan_quoted(std::size_t q, std::string& out) const;
  std::size_t scan_quoted_lines(std::size_t q, std::string& out, std::uint32_t& lines);
  std::size_t unescape(std::size_t q, std::string& out) const;

  std::string_view s_;
  TreeBuilder& b_;
  std::size_t max_document_bytes_ = static_cast<std::size_t>(-1);
  std::size_t end_ = 0;  // document end
  std::size_t ls_ = 0;   // current line start
  std::size_t le_ = 0;   // current line end ('\n' or end_)
  std::size_t cs_ = 0;   // first non-space of the current line
  std::size_t p_ = 0;    // cursor within the current line
  std::uint32_t ln_ = 1;
  bool eof_ = false;
  bool utf8_ = false;  // the document has non-ASCII characters
  std::string text_;  // unescaped quoted and block scalar text
  std::string breaks_[2];
};

// The YAML loader with its path chosen, for tests and benchmarks: `Auto` is
// what load_yaml does (fast path, libyaml for what it declines);
// `LibyamlOnly` is the reference the fast path is compared with.
enum class YamlPath { Auto, LibyamlOnly };
struct YamlPathCounts {
  std::size_t fast = 0;      // documents the fast path parsed
  std::size_t declined = 0;  // documents libyaml parsed after the fast path declined
  std::size_t rest = 0;      // times the rest of a stream went to libyaml
};
void load_yaml_via(SourceFile& file, Arena& arena, bool release, const LoadLimits& limits,
                   const DocumentSink& sink, YamlPath path, YamlPathCounts* counts = nullptr);

}  // namespace kg::detail

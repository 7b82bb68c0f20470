// YAML streams through the fast path (yaml_fast.hpp) document by document;
// what it declines goes through libyaml's event parser, which also reports
// every syntax error.
//
// libyaml cannot resume after an error, so the stream is cut into documents
// at `---` / `...` marker lines (a line starting with either marker is
// always a document boundary in YAML: c-forbidden), and each piece is parsed
// on its own. A malformed document then costs only itself.
#include <sys/mman.h>
#include <unistd.h>
#include <yaml.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>

#include "core/document.hpp"
#include "core/tree_builder.hpp"
#include "core/yaml_fast.hpp"

namespace kg {
namespace {

using detail::FastDocument;
using detail::FastYamlParser;
using detail::YamlPath;
using detail::YamlPathCounts;

bool is_marker(std::string_view line, std::string_view marker) {
  if (line.substr(0, 3) != marker) return false;
  if (line.size() == 3) return true;
  char c = line[3];
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

struct Chunk {
  std::size_t begin;
  std::size_t end;
  std::uint32_t first_line;  // 1-based line of `begin`
};

// Cuts the stream before every `---` line and hands each chunk to `emit`
// as it is found (a stream of a million tiny documents is never a million
// chunks in memory). `...` lines stay in their chunk (libyaml handles them);
// directives (%YAML) move with the next document.
// Starts at `from` (a line start, line `from_line`): the bytes before it may
// have been released.
// Stops at `to` (a line start, or the end).
template <typename Emit>
void split_documents(std::string_view s, std::size_t from, std::uint32_t from_line, std::size_t to,
                     Emit&& emit) {
  s = s.substr(0, to);
  std::size_t chunk_begin = from;
  std::uint32_t chunk_line = from_line;
  std::uint32_t line_no = from_line;
  std::size_t pos = from;
  std::size_t directive_begin = std::string_view::npos;
  std::uint32_t directive_line = 0;
  while (pos < s.size()) {
    std::size_t nl = s.find('\n', pos);
    std::size_t line_end = nl == std::string_view::npos ? s.size() : nl + 1;
    std::string_view line = s.substr(pos, line_end - pos);
    if (!line.empty() && line[0] == '%') {
      if (directive_begin == std::string_view::npos) {
        directive_begin = pos;
        directive_line = line_no;
      }
    } else if (is_marker(line, "---")) {
      std::size_t cut = directive_begin != std::string_view::npos ? directive_begin : pos;
      std::uint32_t cut_line = directive_begin != std::string_view::npos ? directive_line : line_no;
      if (cut > chunk_begin) emit(Chunk{chunk_begin, cut, chunk_line});
      chunk_begin = cut;
      chunk_line = cut_line;
      directive_begin = std::string_view::npos;
    } else if (line.find_first_not_of(" \t\r\n") != std::string_view::npos && line[0] != '#') {
      directive_begin = std::string_view::npos;  // content: the directives were not ours
    }
    pos = line_end;
    ++line_no;
  }
  if (chunk_begin < s.size()) emit(Chunk{chunk_begin, s.size(), chunk_line});
}

std::string_view sv(const yaml_char_t* p) {
  return p ? std::string_view(reinterpret_cast<const char*>(p)) : std::string_view{};
}

class YamlChunkParser {
 public:
  YamlChunkParser(SourceFile& file, Arena& arena, bool release, const LoadLimits& limits,
                  const DocumentSink& sink)
      : file_(file), arena_(arena), release_(release), sink_(sink), limits_(limits),
        builder_(arena, limits) {
    if (release_) {
      builder_.stream_list_items([this](const Node* item, std::size_t index) {
        // Items the fast path delivered before declining the document are
        // not delivered again by libyaml's parse of it.
        // Counted in calls, not by index: a root with two `items` keys
        // streams two sequences, both from index 0.
        if (skip_items_ > 0) {
          --skip_items_;
          return;
        }
        ++items_delivered_;
        sink_(Document{item, item->line, static_cast<std::int64_t>(index)});
      });
    }
  }

  // The whole stream: the fast path, document by document, with libyaml for
  // what it declines.
  void parse_stream(YamlPath path, YamlPathCounts* counts) {
    const std::string_view s = file_.text();
    if (path == YamlPath::LibyamlOnly) {
      parse_rest_with_libyaml(0, file_.first_line);
      return;
    }
    FastYamlParser fast(s, builder_);
    fast.set_max_document_bytes(limits_.max_document_bytes);
    std::size_t pos = 0;
    std::uint32_t line = file_.first_line;
    while (pos < s.size()) {
      builder_.reset();
      items_delivered_ = 0;
      const FastDocument d = fast.parse_document(pos, line);
      switch (d.status) {
        case FastDocument::Status::EndOfStream:
          return;
        case FastDocument::Status::RestOfStream:
          builder_.reset();
          if (release_) arena_.release();
          if (counts) ++counts->rest;
          parse_rest_with_libyaml(d.begin, d.begin_line);
          return;
        case FastDocument::Status::Parsed:
          if (d.has_content) {
            finish_document(d.doc_line);
          } else {
            builder_.reset();
          }
          if (counts) ++counts->fast;
          break;
        case FastDocument::Status::Declined:
          builder_.reset();
          if (release_) arena_.release();
          skip_items_ = items_delivered_;
          // Cut as libyaml-only loading cuts (comments before a `---` are
          // a chunk of their own), so both read the same bytes alike.
          parse_rest_with_libyaml(d.begin, d.begin_line, d.end);
          skip_items_ = 0;
          if (counts) ++counts->declined;
          break;
      }
      if (d.end <= pos) {  // no progress: cannot happen, but never loop or drop input
        parse_rest_with_libyaml(pos, line);
        return;
      }
      pos = d.end;
      line = d.end_line;
      if (s.size() >= kReleaseMinBytes) release_read_input(pos);
    }
  }

  // Parses one chunk with libyaml; a syntax error is reported and ends it.
  // A document the tree builder gives up on (depth, aliases) ends it too:
  // libyaml would otherwise go on scanning what is left of it, and its
  // scanner's cost grows with the flow depth (400 KB of `[` took minutes).
  // Parsing then resumes after the `...` line that ends that document, if
  // the chunk has one.
  void parse(Chunk chunk) {
    if (chunk.end - chunk.begin > limits_.max_document_bytes) {
      file_.add_error({file_.path, first_content_line(chunk), 1,
                       "document of " + format_bytes(chunk.end - chunk.begin) +
                           " is larger than the document size limit (" +
                           format_bytes(limits_.max_document_bytes) +
                           ", --max-document-size); skipped"});
      file_.limit_hit = true;
      return;
    }
    for (;;) {
      const std::optional<Chunk> rest = parse_once(chunk);
      if (!rest) return;
      chunk = *rest;
    }
  }

  std::optional<Chunk> parse_once(const Chunk& chunk) {
    std::optional<Chunk> rest;
    yaml_parser_t parser;
    yaml_parser_initialize(&parser);
    const auto* data = reinterpret_cast<const unsigned char*>(file_.text().data() + chunk.begin);
    yaml_parser_set_input_string(&parser, data, chunk.end - chunk.begin);
    const std::size_t input_size = chunk.end - chunk.begin;
    base_line_ = chunk.first_line;
    std::uint32_t doc_line = chunk.first_line;
    for (;;) {
      yaml_event_t ev;
      if (!yaml_parser_parse(&parser, &ev)) {
        report_parser_error(parser);
        break;
      }
      const yaml_event_type_t type = ev.type;
      const std::uint32_t line = base_line_ + static_cast<std::uint32_t>(ev.start_mark.line);
      const std::uint32_t col = static_cast<std::uint32_t>(ev.start_mark.column) + 1;
      bool ok = true;
      switch (type) {
        case YAML_DOCUMENT_START_EVENT:
          builder_.reset();
          doc_line = line;
          break;
        case YAML_DOCUMENT_END_EVENT:
          finish_document(doc_line);
          break;
        case YAML_SCALAR_EVENT: {
          std::string_view text(reinterpret_cast<const char*>(ev.data.scalar.value),
                                ev.data.scalar.length);
          std::string_view tag = sv(ev.data.scalar.tag);
          const bool plain = ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
          bool quoted = !plain || tag == "tag:yaml.org,2002:str";
          bool is_null = plain && tag.empty() &&
                         (text.empty() || text == "~" || text == "null" || text == "Null" ||
                          text == "NULL");
          if (tag == "tag:yaml.org,2002:null") is_null = true;
          ok = builder_.scalar(text, quoted, is_null, line, col, sv(ev.data.scalar.anchor));
          break;
        }
        case YAML_SEQUENCE_START_EVENT:
          ok = builder_.begin(NodeType::Seq, line, col, sv(ev.data.sequence_start.anchor));
          break;
        case YAML_MAPPING_START_EVENT:
          ok = builder_.begin(NodeType::Map, line, col, sv(ev.data.mapping_start.anchor));
          break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
          ok = builder_.end();
          break;
        case YAML_ALIAS_EVENT:
          ok = builder_.alias(sv(ev.data.alias.anchor), line, col);
          break;
        default:
          break;
      }
      yaml_event_delete(&ev);
      if (input_size >= kReleaseMinBytes)
        release_read_input(chunk.begin + static_cast<std::size_t>(parser.input.string.current - data));
      if (!ok) {
        // The syntax is fine, the tree is not (alias bomb, depth): drop this
        // document and stop reading it.
        const InputError& e = builder_.error();
        file_.add_error({file_.path, e.line, e.column, e.message});
        if (builder_.limit_failed()) file_.limit_hit = true;
        rest = after_document_end(chunk, line);
        builder_.reset();
        if (release_) arena_.release();
        break;
      }
      if (type == YAML_STREAM_END_EVENT) break;
    }
    yaml_parser_delete(&parser);
    return rest;
  }

 private:
  // A large input's bytes are dead once libyaml has copied them into its
  // own buffers (parser.input.string.current moves past them): their pages
  // go back to the kernel as the parse advances, so a 57 MB snapshot is not
  // held whole until its last document. Only whole pages strictly inside the
  // buffer are released, a margin behind libyaml's read position (far more
  // than its read-ahead), so a syntax error is always reported and resumed
  // from intact bytes. Newlines are counted first so the line numbers of a
  // resumed parse stay right.
  static constexpr std::size_t kReleaseMinBytes = std::size_t{16} << 20;
  static constexpr std::size_t kReleaseStep = std::size_t{4} << 20;
  static constexpr std::size_t kReleaseMargin = std::size_t{1} << 20;

  void release_read_input(std::size_t read_offset) {
    if (read_offset < released_ + kReleaseStep + kReleaseMargin) return;
    static const std::uintptr_t kPage = static_cast<std::uintptr_t>(sysconf(_SC_PAGESIZE));
    const auto base = reinterpret_cast<std::uintptr_t>(file_.text().data());
    const std::uintptr_t first_page = (base + released_ + kPage - 1) & ~(kPage - 1);
    const std::uintptr_t end_page = (base + read_offset - kReleaseMargin) & ~(kPage - 1);
    if (end_page <= first_page) return;
    const std::size_t end = end_page - base;
    released_lines_ += static_cast<std::uint32_t>(
        std::count(file_.text().data() + released_, file_.text().data() + end, '\n'));
    // The page's address as an offset into the buffer, so the pointer keeps its provenance.
    madvise(const_cast<char*>(file_.text().data()) + (first_page - base), end_page - first_page, MADV_DONTNEED);
    released_ = end;
  }

  void finish_document(std::uint32_t doc_line) {
    if (builder_.failed()) {
      builder_.reset();
      if (release_) arena_.release();
      return;
    }
    for (InputError& w : builder_.warnings()) {
      w.file = file_.path;
      file_.add_error(std::move(w));
    }
    file_.errors_dropped += builder_.warnings_dropped();
    const Node* root = builder_.root();
    if (root && !root->is_null()) sink_(Document{root, doc_line});
    builder_.reset();
    if (release_) arena_.release();
  }

  void report_parser_error(const yaml_parser_t& parser) {
    InputError e;
    e.file = file_.path;
    e.line = base_line_ + static_cast<std::uint32_t>(parser.problem_mark.line);
    e.column = static_cast<std::uint32_t>(parser.problem_mark.column) + 1;
    std::string msg = "invalid YAML: ";
    if (parser.problem) msg += parser.problem;
    if (parser.context) {
      msg += " ";
      msg += parser.context;
      msg += " (line " +
             std::to_string(base_line_ + static_cast<std::uint32_t>(parser.context_mark.line)) +
             ")";
    }
    e.message = std::move(msg);
    file_.add_error(std::move(e));
  }

  // The first line of a chunk that is not blank, a comment or `---`, for
  // the location of a document too large to parse.
  std::uint32_t first_content_line(const Chunk& chunk) const {
    const std::string_view s(file_.text());
    std::uint32_t line = chunk.first_line;
    for (std::size_t pos = chunk.begin; pos < chunk.end && pos - chunk.begin < 65536;) {
      const std::size_t nl = s.find('\n', pos);
      const std::size_t end = nl == std::string_view::npos || nl >= chunk.end ? chunk.end : nl;
      const std::string_view l = s.substr(pos, end - pos);
      const std::size_t c = l.find_first_not_of(" \t\r");
      if (c != std::string_view::npos && l[c] != '#' && !is_marker(l, "---")) return line;
      pos = end + 1;
      ++line;
    }
    return chunk.first_line;
  }

  // The rest of `chunk` after the `...` line that ends the document holding
  // line `line` (a file line), or nothing when the chunk has no such line.
  // Counts lines from the last point known intact (the chunk's start, or
  // where the input was released up to).
  std::optional<Chunk> after_document_end(const Chunk& chunk, std::uint32_t line) const {
    const std::string_view s = file_.text().substr(0, chunk.end);
    std::size_t pos = chunk.begin;
    std::uint32_t at = chunk.first_line;
    if (released_ > pos) {
      pos = released_;
      at = released_lines_ + file_.first_line;
    }
    // To the start of the line after `line`.
    while (at <= line) {
      const std::size_t nl = s.find('\n', pos);
      if (nl == std::string_view::npos) return std::nullopt;
      pos = nl + 1;
      ++at;
    }
    while (pos < s.size()) {
      const std::size_t nl = s.find('\n', pos);
      const std::size_t end = nl == std::string_view::npos ? s.size() : nl + 1;
      if (is_marker(s.substr(pos, end - pos), "...")) {
        if (end >= s.size()) return std::nullopt;
        return Chunk{end, chunk.end, at + 1};
      }
      pos = end;
      ++at;
    }
    return std::nullopt;
  }

  // libyaml from `from` (a line start) to the end of the stream, one
  // document (chunk) at a time, so a syntax error, even one libyaml's
  // read-ahead meets before the previous document's end, costs only the
  // document it is in.
  void parse_rest_with_libyaml(std::size_t from, std::uint32_t from_line,
                               std::size_t to = std::string_view::npos) {
    split_documents(file_.text(), from, from_line, to, [this](const Chunk& chunk) { parse(chunk); });
  }

  SourceFile& file_;
  Arena& arena_;
  bool release_;
  const DocumentSink& sink_;
  const LoadLimits& limits_;
  detail::TreeBuilder builder_;
  std::uint32_t base_line_ = 1;
  std::size_t released_ = 0;
  std::uint32_t released_lines_ = 0;  // newlines before released_
  std::size_t skip_items_ = 0;
  std::size_t items_delivered_ = 0;
};

}  // namespace

void load_yaml(SourceFile& file, Arena& arena, bool release, const LoadLimits& limits,
               const DocumentSink& sink) {
  detail::load_yaml_via(file, arena, release, limits, sink, detail::YamlPath::Auto);
}

namespace detail {

void load_yaml_via(SourceFile& file, Arena& arena, bool release, const LoadLimits& limits,
                   const DocumentSink& sink, YamlPath path, YamlPathCounts* counts) {
  // One parser for the whole stream (a parser per document costs more than
  // the parse).
  YamlChunkParser parser(file, arena, release, limits, sink);
  parser.parse_stream(path, counts);
}

}  // namespace detail
}  // namespace kg

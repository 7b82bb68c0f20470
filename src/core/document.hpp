// The document model: YAML and JSON both load into one immutable tree of
// Nodes that remembers where every node came from (line and column).
//
// Nodes live in an Arena owned by the SourceFile they came from, so a whole
// file is freed at once and nodes are never copied. Scalars keep their raw
// text; typing (bool, int, null) is resolved on demand by the accessors,
// because a scanner only ever asks about a handful of fields.
#pragma once

#include <cstdint>
#include <functional>
#include <memory_resource>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace kg {

using Arena = std::pmr::monotonic_buffer_resource;

enum class NodeType : std::uint8_t { Null, Scalar, Map, Seq };

struct Node;

struct MapEntry {
  const Node* key;
  const Node* value;
};

// 24 bytes: a 50 MB manifest stream makes millions of these.
struct Node {
  const void* data = nullptr;  // text chars, MapEntry[] or const Node*[] by type
  std::uint32_t size = 0;      // text length or element count
  std::uint32_t line = 0;      // 1-based
  std::uint32_t column = 0;    // 1-based
  NodeType type = NodeType::Null;
  // A quoted (or !!str-tagged) scalar is always a string: "true" is not a bool.
  bool quoted = false;

  std::string_view text() const {
    return type == NodeType::Scalar || type == NodeType::Null
               ? std::string_view(static_cast<const char*>(data), size)
               : std::string_view{};
  }
  std::span<const MapEntry> entries() const {
    return type == NodeType::Map ? std::span<const MapEntry>(static_cast<const MapEntry*>(data), size)
                                 : std::span<const MapEntry>{};
  }
  std::span<const Node* const> items() const {
    return type == NodeType::Seq
               ? std::span<const Node* const>(static_cast<const Node* const*>(data), size)
               : std::span<const Node* const>{};
  }

  bool is_map() const { return type == NodeType::Map; }
  bool is_seq() const { return type == NodeType::Seq; }
  bool is_scalar() const { return type == NodeType::Scalar; }
  // True for an explicit null (`~`, `null`, empty value) or a missing node.
  bool is_null() const;

  // Map lookup by key; nullptr when absent or when this is not a map.
  // With duplicate keys the last one wins, as in Kubernetes' decoder.
  const Node* get(std::string_view key) const;

  // Scalar text, or empty when this is not a string-like scalar.
  std::string_view str() const { return type == NodeType::Scalar ? text() : std::string_view{}; }
  // YAML bools as the Kubernetes decoder reads them (1.2 core plus the 1.1
  // yes/no/on/off forms that sigs.k8s.io/yaml still accepts).
  std::optional<bool> as_bool() const;
  std::optional<std::int64_t> as_int() const;
};

// Null-safe navigation helpers: get(nullptr, "x") is nullptr.
inline const Node* get(const Node* n, std::string_view key) { return n ? n->get(key) : nullptr; }
inline std::string_view str(const Node* n) { return n ? n->str() : std::string_view{}; }
inline bool is_true(const Node* n) { return n && n->as_bool() == true; }
inline bool is_false(const Node* n) { return n && n->as_bool() == false; }
inline std::span<const Node* const> items(const Node* n) {
  return n ? n->items() : std::span<const Node* const>{};
}
inline std::span<const MapEntry> entries(const Node* n) {
  return n ? n->entries() : std::span<const MapEntry>{};
}

// An input problem with a location. Never thrown; collected and reported.
struct InputError {
  std::string file;
  std::uint32_t line = 0;
  std::uint32_t column = 0;
  std::string message;
};

struct Document {
  const Node* root = nullptr;
  std::uint32_t line = 1;  // first line of the document in its file
  // >= 0 when `root` is element N of a List envelope's items, streamed on
  // its own (see stream_documents).
  std::int64_t list_index = -1;
};

// One input file (or stdin). Not movable: nodes point into `content`.
// The whole file at `path` into `out`; false when it cannot be opened.
bool read_file(const std::string& path, std::string& out);

// How the JSON loader reads a piece of a large `items` List (split_input):
// the envelope with its items left out, or a run of items.
struct ListPiece {
  enum class Part : std::uint8_t { None, Envelope, Items };
  Part part = Part::None;
  std::size_t start = 0;         // Items: where the first item begins in the view
  std::int64_t first_item = 0;   // Items: that item's index in the envelope's items
  std::size_t items_open = 0;    // Envelope: the `[` of the items, in the view
  std::size_t items_close = 0;   // Envelope: the matching `]`
  std::uint32_t close_line = 0;  // Envelope: the line of that `]`
  std::size_t close_line_start = 0;  // and where that line starts
};

struct SourceFile {
  std::string path;
  std::string content;
  // A piece of a larger input held elsewhere (split_input): the loaders read
  // `view` instead of `content`; it starts at the start of line `first_line`
  // of the whole input, so locations stay those of the whole input.
  std::string_view view;
  std::uint32_t first_line = 1;
  ListPiece list;
  // Set by the loader of a JSON List piece that met an error or a limit: its
  // input is scanned again unsplit, which alone knows how the error ends it.
  bool piece_failed = false;
  std::string_view text() const { return view.data() ? view : std::string_view(content); }
  Arena arena{std::size_t{64} * 1024};
  std::vector<Document> documents;  // filled by load_documents only
  std::vector<InputError> errors;
  // Errors past LoadLimits::max_errors_per_file are counted, not kept: a
  // file of a million broken documents must not make a million-line report.
  std::size_t max_errors = static_cast<std::size_t>(-1);
  std::size_t errors_dropped = 0;
  // Set by a loader that stopped at a limit (depth, aliases, size): the
  // JSON loader's YAML fallback would only hit it again.
  bool limit_hit = false;

  void add_error(InputError e) {
    if (errors.size() < max_errors) errors.push_back(std::move(e));
    else ++errors_dropped;
  }
  std::size_t error_count() const { return errors.size() + errors_dropped; }
};

// Receives each document as soon as it is parsed (see stream_documents).
using DocumentSink = std::function<void(const Document&)>;

// Limits that protect against hostile input (docs/configuration.md, "Limits").
struct LoadLimits {
  std::size_t max_depth = 512;
  // Upper bound on nodes aliases may add to a document ("billion laughs");
  // a document above it is rejected, others still load.
  std::size_t max_alias_expansion = 2'000'000;
  // A file (or stdin) above this is not read at all; a document (one YAML
  // document, one JSON value) above the other is skipped with an error and
  // the rest of its file still loads. Both bound the memory a scan can take.
  std::size_t max_file_bytes = std::size_t{256} << 20;
  std::size_t max_document_bytes = std::size_t{128} << 20;
  // Errors kept per file; the rest are counted in one summary error.
  std::size_t max_errors_per_file = 100;
};

// "64 MiB", "1.5 GiB", "512 KiB", "100 B" for limit messages.
std::string format_bytes(std::size_t bytes);
// "64MiB", "64M", "1GiB", "1G", "512k", "1000" (bytes); nullopt when malformed or 0.
std::optional<std::size_t> parse_byte_size(std::string_view text);

// Parses file.content (YAML stream or JSON values) into file.documents,
// appending any errors to file.errors. Malformed documents are skipped with
// an error; every other document in the file is still loaded.
void load_documents(SourceFile& file, const LoadLimits& limits = {});

// Like load_documents, but hands each document to `sink` and frees its nodes
// as soon as the sink returns, so memory stays at one document's tree
// whatever the size of the stream. The items of a List envelope are handed
// over one by one as they complete (Document::list_index), then the
// envelope itself with empty items. Errors still go to file.errors.
void stream_documents(SourceFile& file, const LoadLimits& limits, const DocumentSink& sink);

// A piece of an input for split_input: the bytes [begin, end) of the whole,
// which start line `first_line`; `list` says how a JSON List piece is read.
struct InputPiece {
  std::size_t begin = 0;
  std::size_t end = 0;
  std::uint32_t first_line = 1;
  ListPiece list;
};

// Cuts a large input into pieces of about `target` bytes that load
// independently, each to the documents, locations and errors it gives as
// part of the whole, so the pieces of one input can be scanned in parallel
// and merged in order. A YAML stream is cut at `---` lines (a `---` line
// always starts a document); one JSON value whose root mapping has an
// `items` sequence into the envelope (items left out; it comes last, as the
// loader delivers it after its items) and runs of items. Anything else, a
// stream with directives (`%` lines belong to the next document) and JSON
// the split cannot prove equivalent (several values, nesting near the depth
// limit, larger than a document may be) stay one piece.
std::vector<InputPiece> split_input(std::string_view content, std::size_t target,
                                    const LoadLimits& limits = {});
// The same, each piece handed to `emit` as soon as it is found (the workers
// start on the first while the rest is cut). True: the pieces emitted are the
// input; false: scan it whole, and any piece emitted is void.
using PieceSink = std::function<void(const InputPiece&)>;
bool split_input(std::string_view content, std::size_t target, const LoadLimits& limits, const PieceSink& emit);

// Lower-level entry points. Nodes are allocated in `arena`; when `release`
// is set the arena is released after each document's sink call.
void load_yaml(SourceFile& file, Arena& arena, bool release, const LoadLimits& limits,
               const DocumentSink& sink);
void load_json(SourceFile& file, Arena& arena, bool release, const LoadLimits& limits,
               const DocumentSink& sink);

}  // namespace kg

#include "core/document.hpp"
#include "core/swar.hpp"

#include <algorithm>

#include <charconv>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>

namespace kg {

bool Node::is_null() const {
  if (type == NodeType::Null) return true;
  if (type != NodeType::Scalar || quoted) return false;
  std::string_view t = text();
  return t.empty() || t == "~" || t == "null" || t == "Null" || t == "NULL";
}

const Node* Node::get(std::string_view key) const {
  if (type != NodeType::Map) return nullptr;
  const Node* found = nullptr;
  const std::size_t n = key.size();
  // The hottest loop of every check: size and first byte rule out most keys
  // without a call to memcmp.
  for (const MapEntry& e : entries()) {
    const Node* k = e.key;
    if (k->size != n || k->type != NodeType::Scalar) continue;
    const char* text = static_cast<const char*>(k->data);
    if (n == 0 || (text[0] == key[0] && std::memcmp(text, key.data(), n) == 0)) found = e.value;
  }
  return found;
}

std::optional<bool> Node::as_bool() const {
  if (type != NodeType::Scalar || quoted) return std::nullopt;
  static constexpr std::string_view kTrue[] = {"true", "True", "TRUE", "yes", "Yes",
                                               "YES",  "on",   "On",   "ON",  "y", "Y"};
  static constexpr std::string_view kFalse[] = {"false", "False", "FALSE", "no", "No",
                                                "NO",    "off",   "Off",   "OFF", "n", "N"};
  const std::string_view t = text();
  for (auto v : kTrue)
    if (t == v) return true;
  for (auto v : kFalse)
    if (t == v) return false;
  return std::nullopt;
}

std::optional<std::int64_t> Node::as_int() const {
  if (type != NodeType::Scalar || quoted || size == 0) return std::nullopt;
  std::string_view t = text();
  if (t.front() == '+') t.remove_prefix(1);
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (ec != std::errc{} || p != t.data() + t.size()) return std::nullopt;
  return v;
}

namespace {

bool looks_like_json(std::string_view s) {
  std::size_t i = 0;
  if (s.substr(0, 3) == "\xEF\xBB\xBF") i = 3;
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n')) ++i;
  return i < s.size() && (s[i] == '{' || s[i] == '[');
}

void load_any(SourceFile& file, Arena& arena, bool release, const LoadLimits& limits,
              const DocumentSink& sink) {
  if (file.list.part != ListPiece::Part::None) {  // a piece of one JSON value: no YAML retry
    load_json(file, arena, release, limits, sink);
    return;
  }
  // JSON is a subset of YAML, but the JSON loader is several times faster
  // than libyaml, so JSON-looking input takes the fast path.
  if (!looks_like_json(file.text())) {
    load_yaml(file, arena, release, limits, sink);
    return;
  }
  std::size_t delivered = 0;
  std::vector<InputError> before = file.errors;
  const std::size_t dropped_before = file.errors_dropped;
  load_json(file, arena, release, limits, [&](const Document& d) {
    ++delivered;
    sink(d);
  });
  // A flow-style YAML file also starts with '{'; when nothing loaded as
  // JSON, give YAML a chance and keep its result if it does better. Not
  // after a limit: the same bytes would hit it again, at libyaml's pace.
  if (delivered == 0 && file.error_count() > before.size() + dropped_before && !file.limit_hit) {
    std::vector<InputError> json_errors = std::move(file.errors);
    const std::size_t json_dropped = file.errors_dropped;
    file.errors = before;
    file.errors_dropped = dropped_before;
    std::size_t yaml_delivered = 0;
    load_yaml(file, arena, release, limits, [&](const Document& d) {
      ++yaml_delivered;
      sink(d);
    });
    if (yaml_delivered == 0) {
      file.errors = std::move(json_errors);
      file.errors_dropped = json_dropped;
    }
  }
}

// YAML: cut at `---` lines past every `target` bytes.
bool split_yaml(std::string_view s, std::size_t target, const PieceSink& emit) {
  // Directives (`%` lines) belong to the next document: such a stream stays whole.
  for (std::size_t pct = s.find('%'); pct != std::string_view::npos; pct = s.find('%', pct + 1))
    if (pct == 0 || s[pct - 1] == '\n') return false;
  std::size_t begin = 0;
  std::uint32_t line = 1;
  std::size_t from = target;
  bool any = false;
  while (from < s.size()) {
    const std::size_t hit = s.find("\n---", from - 1);
    if (hit == std::string_view::npos) break;
    const std::size_t cut = hit + 1;
    from = cut + 3;
    if (from < s.size() && s[from] != ' ' && s[from] != '\t' && s[from] != '\r' && s[from] != '\n')
      continue;  // `----` or `---x`: not a marker
    // Counted before the piece is handed over: a worker may scan it and give
    // its pages back (madvise) at once, after which its bytes read as zeros.
    const std::uint32_t next_line = line + static_cast<std::uint32_t>(swar::count(s.data() + begin, s.data() + cut, '\n'));
    emit({begin, cut, line, {}});
    any = true;
    line = next_line;
    begin = cut;
    from = std::max(from, begin + target);
  }
  if (!any) return false;
  emit({begin, s.size(), line, {}});
  return true;
}

bool json_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// JSON: one value `{... "items": [v, v, ...] ...}` and nothing after it. The
// scan only finds the items' bounds (strings skipped, brackets counted), and
// hands each run of items over as soon as it is found, so the workers scan
// the first pieces while it reads on; the pieces' loaders check the syntax,
// and any error there sends the input back to the unsplit loader
// (SourceFile::piece_failed), as does what this scan finds later (false).
bool split_json_list(std::string_view s, std::size_t target, const LoadLimits& limits, const PieceSink& emit) {
  if (s.size() > limits.max_document_bytes) return false;  // the whole value is refused unsplit
  std::size_t p = s.substr(0, 3) == "\xEF\xBB\xBF" ? 3 : 0;
  while (p < s.size() && json_space(s[p])) ++p;
  if (p >= s.size() || s[p] != '{') return false;
  std::size_t depth = 0, max_depth = 0;
  bool key_next = false;  // at depth 1: the next string is a key
  bool items_key = false;  // the last root key was `items`
  std::size_t items_open = std::string_view::npos, items_close = std::string_view::npos;
  std::size_t separator = 0;  // in the items: the `[` or `,` before the current item
  std::size_t root_end = std::string_view::npos;
  // Lines: counted up to `counted`; `line_start` is where the line of `counted` starts.
  std::uint32_t line = 1;
  // A byte order mark is not part of line 1's columns.
  std::size_t counted = 0, line_start = p >= 3 && s.substr(0, 3) == "\xEF\xBB\xBF" ? 3 : 0;
  auto advance = [&](std::size_t to) {
    line += static_cast<std::uint32_t>(swar::count(s.data() + counted, s.data() + to, '\n'));
    const std::size_t nl = s.substr(0, to).rfind('\n');
    if (nl != std::string_view::npos && nl >= counted) line_start = nl + 1;
    counted = to;
  };
  // The run of items not handed over yet: [run_begin, run_end), from item run_first on.
  std::size_t items = 0, run_first = 0, run_begin = 0, run_end = 0, emitted = 0;
  auto emit_run = [&] {
    advance(run_begin);
    InputPiece piece;
    piece.begin = line_start;  // from its line's start: columns count as in the whole
    piece.end = run_end;
    piece.first_line = line;
    piece.list.part = ListPiece::Part::Items;
    piece.list.start = run_begin - line_start;
    piece.list.first_item = static_cast<std::int64_t>(run_first);
    emit(piece);
    ++emitted;
    run_first = items;
  };
  // The item between the separator and `at` (a `,` or the `]`), blanks trimmed.
  auto add_item = [&](std::size_t at) {
    std::size_t b = separator + 1, e = at;
    while (b < e && json_space(s[b])) ++b;
    while (e > b && json_space(s[e - 1])) --e;
    if (b == e) return false;  // `[,` `,,` `,]`: the loader's error
    if (items++ == run_first) run_begin = b;
    run_end = e;
    separator = at;
    if (run_end - run_begin >= target) emit_run();
    return true;
  };
  const char* const data = s.data();
  const std::size_t n = s.size();
  // Only quotes, brackets and commas matter here; the bytes between them are
  // skipped a word at a time (`|0x20` folds `[` `]` onto `{` `}`).
  auto structural = [](std::uint64_t w) {
    const std::uint64_t f = w | (swar::kOnes * 0x20);
    return swar::has(w, '"') || swar::has(w, ',') || swar::has(f, '{') || swar::has(f, '}');
  };
  for (; p < n && root_end == std::string_view::npos; ++p) {
    while (p + 8 <= n && !structural(swar::load(data + p))) p += 8;
    if (p >= n) break;
    const char c = data[p];
    switch (c) {
      case '"': {
        const std::size_t start = ++p;
        for (;;) {
          while (p + 8 <= n && !swar::has(swar::load(data + p), '"') && !swar::has(swar::load(data + p), '\\')) p += 8;
          if (p >= n) return false;  // unterminated
          if (data[p] == '"') break;
          p += data[p] == '\\' ? 2 : 1;
        }
        if (depth == 1 && key_next) {
          const std::string_view key = s.substr(start, p - start);
          if (key.find('\\') != std::string_view::npos) return false;  // a key the loader decodes
          items_key = key == "items";
          key_next = false;
        }
        break;
      }
      case '{':
      case '[':
        if (depth == 1 && items_key && c == '[') {
          if (items_open != std::string_view::npos) return false;  // two `items`
          items_open = separator = p;
        }
        max_depth = std::max(max_depth, ++depth);
        if (depth == 1) key_next = true;
        break;
      case '}':
      case ']':
        if (depth == 0) return false;
        if (depth == 2 && items_open != std::string_view::npos && items_close == std::string_view::npos) {
          if (c != ']' || !add_item(p)) return false;
          items_close = p;
        }
        if (--depth == 0) root_end = p;
        break;
      case ',':
        if (depth == 1) {
          key_next = true;
          items_key = false;
        }
        if (depth == 2 && items_open != std::string_view::npos && items_close == std::string_view::npos &&
            !add_item(p))
          return false;
        break;
      default:
        break;
    }
  }
  if (root_end == std::string_view::npos || items_close == std::string_view::npos) return false;
  for (; p < s.size(); ++p)
    if (!json_space(s[p])) return false;  // a stream of values
  // The loader refuses nesting at its limit; the items, read on their own,
  // would sit two levels higher.
  if (max_depth >= limits.max_depth) return false;
  if (emitted == 0) return false;  // all of it is one piece: scanned whole
  if (run_first < items) emit_run();
  advance(items_close);
  InputPiece envelope;
  envelope.begin = 0;
  envelope.end = s.size();
  envelope.list.part = ListPiece::Part::Envelope;
  envelope.list.items_open = items_open;
  envelope.list.items_close = items_close;
  envelope.list.close_line = line;
  envelope.list.close_line_start = line_start;
  emit(envelope);
  return true;
}

}  // namespace

bool split_input(std::string_view s, std::size_t target, const LoadLimits& limits, const PieceSink& emit) {
  if (s.size() <= target || target == 0) return false;
  return looks_like_json(s) ? split_json_list(s, target, limits, emit) : split_yaml(s, target, emit);
}

std::vector<InputPiece> split_input(std::string_view s, std::size_t target, const LoadLimits& limits) {
  std::vector<InputPiece> pieces;
  if (!split_input(s, target, limits, [&](const InputPiece& p) { pieces.push_back(p); })) pieces.clear();
  if (pieces.empty()) pieces.push_back({0, s.size(), 1, {}});
  return pieces;
}

std::string format_bytes(std::size_t bytes) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  if (u == 0 || v >= 100 || v == static_cast<double>(static_cast<std::uint64_t>(v))) {
    std::snprintf(buf, sizeof buf, "%.0f %s", v, kUnits[u]);
  } else {
    std::snprintf(buf, sizeof buf, "%.1f %s", v, kUnits[u]);
  }
  return buf;
}

std::optional<std::size_t> parse_byte_size(std::string_view text) {
  std::uint64_t n = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc{} || p == text.data() || n == 0) return std::nullopt;
  std::string_view unit(p, static_cast<std::size_t>(text.data() + text.size() - p));
  if (!unit.empty() && unit.front() == ' ') unit.remove_prefix(1);
  int shift = 0;
  if (unit.empty() || unit == "B") shift = 0;
  else if (unit == "k" || unit == "K" || unit == "KiB" || unit == "Ki") shift = 10;
  else if (unit == "M" || unit == "MiB" || unit == "Mi") shift = 20;
  else if (unit == "G" || unit == "GiB" || unit == "Gi") shift = 30;
  else return std::nullopt;
  if (n > (std::uint64_t{1} << (62 - shift))) return std::nullopt;
  return static_cast<std::size_t>(n << shift);
}

void load_documents(SourceFile& file, const LoadLimits& limits) {
  load_any(file, file.arena, false, limits,
           [&](const Document& d) { file.documents.push_back(d); });
}

void stream_documents(SourceFile& file, const LoadLimits& limits, const DocumentSink& sink) {
  // release() keeps an initial buffer: most documents then never touch the
  // allocator (a fresh 256 KiB malloc per document costs an mmap/munmap).
  constexpr std::size_t kInitialBytes = std::size_t{256} * 1024;
  // Left uninitialized: the arena needs no zeroed memory.
  auto initial = std::make_unique_for_overwrite<std::byte[]>(kInitialBytes);
  Arena arena(initial.get(), kInitialBytes);
  load_any(file, arena, true, limits, sink);
}

bool read_file(const std::string& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  out.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return !in.bad();
}

}  // namespace kg

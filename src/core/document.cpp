#include "core/document.hpp"

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
std::vector<InputPiece> split_yaml(std::string_view s, std::size_t target) {
  std::vector<InputPiece> pieces;
  std::size_t begin = 0;
  std::uint32_t line = 1;
  std::size_t from = target;
  while (from < s.size()) {
    const std::size_t hit = s.find("\n---", from - 1);
    if (hit == std::string_view::npos) break;
    const std::size_t cut = hit + 1;
    from = cut + 3;
    if (from < s.size() && s[from] != ' ' && s[from] != '\t' && s[from] != '\r' && s[from] != '\n')
      continue;  // `----` or `---x`: not a marker
    pieces.push_back({begin, cut, line, {}});
    line += static_cast<std::uint32_t>(std::count(s.data() + begin, s.data() + cut, '\n'));
    begin = cut;
    from = std::max(from, begin + target);
  }
  pieces.push_back({begin, s.size(), line, {}});
  return pieces;
}

bool json_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// JSON: one value `{... "items": [v, v, ...] ...}` and nothing after it. The
// scan only finds the items' bounds (strings skipped, brackets counted); the
// pieces' loaders check the syntax, and any error there sends the input back
// to the unsplit loader (SourceFile::piece_failed).
std::vector<InputPiece> split_json_list(std::string_view s, std::size_t target, const LoadLimits& limits) {
  std::vector<InputPiece> none;
  if (s.size() > limits.max_document_bytes) return none;  // the whole value is refused unsplit
  std::size_t p = s.substr(0, 3) == "\xEF\xBB\xBF" ? 3 : 0;
  while (p < s.size() && json_space(s[p])) ++p;
  if (p >= s.size() || s[p] != '{') return none;
  std::size_t depth = 0, max_depth = 0;
  bool key_next = false;  // at depth 1: the next string is a key
  bool items_key = false;  // the last root key was `items`
  std::size_t items_open = std::string_view::npos, items_close = std::string_view::npos;
  std::vector<std::pair<std::size_t, std::size_t>> items;  // [begin, end) of each item
  std::size_t item_begin = std::string_view::npos, item_last = 0;  // item_last: its last byte
  std::size_t root_end = std::string_view::npos;
  for (; p < s.size() && root_end == std::string_view::npos; ++p) {
    const char c = s[p];
    if (json_space(c)) continue;
    const bool in_items = items_open != std::string_view::npos && items_close == std::string_view::npos;
    if (in_items && depth == 2 && c != ',' && c != ']' && item_begin == std::string_view::npos) item_begin = p;
    switch (c) {
      case '"': {
        const std::size_t start = p + 1;
        for (++p; p < s.size() && s[p] != '"'; ++p)
          if (s[p] == '\\') ++p;
        if (p >= s.size()) return none;
        if (depth == 1 && key_next) {
          const std::string_view key = s.substr(start, p - start);
          if (key.find('\\') != std::string_view::npos) return none;  // a key the loader decodes
          items_key = key == "items";
          key_next = false;
        }
        break;
      }
      case '{':
      case '[':
        if (depth == 1 && items_key && c == '[') {
          if (items_open != std::string_view::npos) return none;  // two `items`
          items_open = p;
        }
        max_depth = std::max(max_depth, ++depth);
        if (depth == 1) key_next = true;
        break;
      case '}':
      case ']':
        if (depth == 0) return none;
        if (depth == 2 && p > items_open && items_close == std::string_view::npos &&
            items_open != std::string_view::npos) {
          if (c != ']' || item_begin == std::string_view::npos) return none;
          items.emplace_back(item_begin, item_last + 1);
          items_close = p;
        }
        if (--depth == 0) root_end = p;
        break;
      case ',':
        if (depth == 1) key_next = true, items_key = false;
        if (in_items && depth == 2) {
          if (item_begin == std::string_view::npos) return none;
          items.emplace_back(item_begin, item_last + 1);
          item_begin = std::string_view::npos;
        }
        break;
      case ':':
        break;
      default:
        break;
    }
    if (in_items && depth >= 2 && c != ',') item_last = p;
  }
  if (root_end == std::string_view::npos || items_close == std::string_view::npos || items.size() < 2) return none;
  for (; p < s.size(); ++p)
    if (!json_space(s[p])) return none;  // a stream of values
  // The loader refuses nesting at its limit; the items, read on their own,
  // would sit two levels higher.
  if (max_depth >= limits.max_depth) return none;
  std::vector<InputPiece> pieces;
  std::uint32_t line = 1;
  // A byte order mark is not part of line 1's columns.
  std::size_t counted = 0, line_start = s.substr(0, 3) == "\xEF\xBB\xBF" ? 3 : 0;
  auto advance = [&](std::size_t to) {  // line and line start at `to`
    for (std::size_t q = counted; q < to; ++q)
      if (s[q] == '\n') ++line, line_start = q + 1;
    counted = to;
  };
  for (std::size_t k = 0; k < items.size();) {
    std::size_t m = k + 1;
    while (m < items.size() && items[m].second - items[k].first < target) ++m;
    advance(items[k].first);
    InputPiece piece;
    piece.begin = line_start;  // from its line's start: columns count as in the whole
    piece.end = items[m - 1].second;
    piece.first_line = line;
    piece.list.part = ListPiece::Part::Items;
    piece.list.start = items[k].first - line_start;
    piece.list.first_item = static_cast<std::int64_t>(k);
    pieces.push_back(piece);
    k = m;
  }
  if (pieces.size() < 2) return none;
  advance(items_close);
  InputPiece envelope;
  envelope.begin = 0;
  envelope.end = s.size();
  envelope.list.part = ListPiece::Part::Envelope;
  envelope.list.items_open = items_open;
  envelope.list.items_close = items_close;
  envelope.list.close_line = line;
  envelope.list.close_line_start = line_start;
  pieces.push_back(envelope);
  return pieces;
}

}  // namespace

std::vector<InputPiece> split_input(std::string_view s, std::size_t target, const LoadLimits& limits) {
  std::vector<InputPiece> pieces;
  if (s.size() > target && target > 0) {
    if (looks_like_json(s)) {
      pieces = split_json_list(s, target, limits);
    } else if (s[0] != '%' && s.find("\n%") == std::string_view::npos) {
      pieces = split_yaml(s, target);
    }
  }
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
  if (u == 0 || v >= 100 || v == static_cast<double>(static_cast<std::uint64_t>(v)))
    std::snprintf(buf, sizeof buf, "%.0f %s", v, kUnits[u]);
  else
    std::snprintf(buf, sizeof buf, "%.1f %s", v, kUnits[u]);
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

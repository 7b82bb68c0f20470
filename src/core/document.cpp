#include "core/document.hpp"

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
  // JSON is a subset of YAML, but the JSON loader is several times faster
  // than libyaml, so JSON-looking input takes the fast path.
  if (!looks_like_json(file.content)) {
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

}  // namespace

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

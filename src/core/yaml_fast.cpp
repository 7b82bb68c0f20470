// See yaml_fast.hpp. Each rule below mirrors what libyaml (0.2.x, YAML 1.1)
// does for the same bytes; where the two could differ, the parser declines.
// Marks are 0-based columns here and 1-based in the tree, as in yaml_loader.
#include "core/yaml_fast.hpp"

#include <algorithm>
#include <cstring>
#include <string>

#include "core/swar.hpp"
#include "core/utf8.hpp"

namespace kg::detail {
namespace {

// Bytes the fast path reads as themselves: printable ASCII, tab and line feed.
// Anything else (CR, other controls, UTF-8) goes to libyaml, which decodes and
// validates it and counts columns in characters.
struct ByteTable {
  bool ok[256] = {};
  constexpr ByteTable() {
    for (int c = 0x20; c < 0x7F; ++c) ok[c] = true;
    ok[static_cast<unsigned char>('\t')] = true;
    ok[static_cast<unsigned char>('\n')] = true;
  }
};
constexpr ByteTable kBytes;

bool is_null_text(std::string_view t) {
  return t.empty() || t == "~" || t == "null" || t == "Null" || t == "NULL";
}

bool is_marker_line(std::string_view s, std::size_t q, char c) {
  if (q + 3 > s.size() || s[q] != c || s[q + 1] != c || s[q + 2] != c) return false;
  if (q + 3 == s.size()) return true;
  const char n = s[q + 3];
  return n == ' ' || n == '\t' || n == '\n' || n == '\r';
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}


// The length of the well-formed UTF-8 character at s[i] that libyaml
// accepts as an ordinary printable character, or 0: malformed or overlong
// sequences, surrogates, C1 controls, U+FFFE/U+FFFF, and the characters
// libyaml gives a meaning (NEL, LS and PS are line breaks, a BOM is skipped).
std::size_t utf8_char(std::string_view s, std::size_t i) {
  char32_t cp = 0;
  const std::size_t len = decode_utf8(s, i, cp);
  if (len == 0) return 0;
  if (cp < 0xA0) return 0;  // ASCII (handled by the caller), C1 controls and NEL
  if (cp == 0x2028 || cp == 0x2029 || cp == 0xFEFF || cp == 0xFFFE || cp == 0xFFFF) return 0;
  return len;
}

// First bytes that make libyaml read something other than a plain scalar
// (or that it reads as one only in forms the fast path declines).
bool starts_special(char c) {
  switch (c) {
    case '&': case '*': case '!': case '%': case '@': case '`': case '?': case ':':
    case ',': case ']': case '}': case '#': case '|': case '>': case '\'': case '"':
    case '[': case '{': case '\t':
      return true;
    default:
      return false;
  }
}

}  // namespace

// ---------------------------------------------------------------------------
// Lines

void FastYamlParser::load_line(std::size_t start) {
  if (start >= end_) {
    eof_ = true;
    ls_ = le_ = cs_ = p_ = end_;
    return;
  }
  ls_ = start;
  const void* nl = std::memchr(s_.data() + start, '\n', end_ - start);
  le_ = nl ? static_cast<std::size_t>(static_cast<const char*>(nl) - s_.data()) : end_;
  p_ = ls_;
  cs_ = ls_;
}

void FastYamlParser::next_line() {
  if (eof_) return;
  if (le_ >= end_) {
    eof_ = true;
    ls_ = le_ = cs_ = p_ = end_;
    return;
  }
  ++ln_;
  load_line(le_ + 1);
}

// Moves to the first line (from the current one) with content that is not
// a comment, p_ and cs_ at its first non-space. Tabs before content are an
// error in libyaml's block context: decline.
void FastYamlParser::skip_to_content() {
  while (!eof_) {
    std::size_t q = ls_;
    while (q < le_ && s_[q] == ' ') ++q;
    if (q < le_ && s_[q] == '\t') throw Bail{};
    if (q < le_ && s_[q] != '#') {
      cs_ = p_ = q;
      return;
    }
    next_line();
  }
}

// The first ':', '#' or tab in [q, e), or e: the bytes that can end or
// spoil a plain scalar.
std::size_t FastYamlParser::find_stop(std::size_t q, std::size_t e) const {
  while (q + 8 <= e) {
    const std::uint64_t w = swar::load(s_.data() + q);
    if (swar::has(w, ':') || swar::has(w, '#') || swar::has(w, '\t')) break;
    q += 8;
  }
  while (q < e && s_[q] != ':' && s_[q] != '#' && s_[q] != '\t') ++q;
  return q;
}

std::uint32_t FastYamlParser::mark_col(std::size_t pos) const {
  if (!utf8_) return static_cast<std::uint32_t>(pos - ls_);
  // libyaml counts characters: skip UTF-8 continuation bytes.
  std::uint32_t n = 0;
  for (std::size_t q = ls_; q < pos; ++q) n += (static_cast<unsigned char>(s_[q]) & 0xC0) != 0x80;
  return n;
}

bool FastYamlParser::dash_at(std::size_t q) const {
  return q < le_ && s_[q] == '-' && (q + 1 == le_ || s_[q + 1] == ' ');
}

// After a node: only spaces and a comment may follow on its line. Leaves the
// cursor on the next content line.
void FastYamlParser::expect_rest_empty() {
  const std::size_t start = p_;
  while (p_ < le_ && s_[p_] == ' ') ++p_;
  if (p_ < le_) {
    if (s_[p_] != '#' || p_ == start) throw Bail{};  // a comment needs a space before it
  }
  next_line();
  skip_to_content();
}

// ---------------------------------------------------------------------------
// Documents

// True when every byte in [b, e) is one the fast path reads as libyaml
// would; notes non-ASCII characters (their columns need counting).
bool FastYamlParser::check_bytes(std::size_t b, std::size_t e) {
  // Eight bytes at a time while they are all printable ASCII (0x20..0x7E),
  // the common case; byte by byte otherwise.
  constexpr std::uint64_t kOnes = 0x0101010101010101ULL, kHighs = 0x8080808080808080ULL;
  bool clean = true;
  while (b < e) {
    if (e - b >= 8) {
      std::uint64_t w;
      std::memcpy(&w, s_.data() + b, 8);
      const std::uint64_t below_space = (w - kOnes * 0x20) & ~w & kHighs;
      const std::uint64_t x = w ^ (kOnes * 0x7F);
      const std::uint64_t del = (x - kOnes) & ~x & kHighs;
      if (((w & kHighs) | below_space | del) == 0) {
        b += 8;
        continue;
      }
    }
    const unsigned char c = static_cast<unsigned char>(s_[b]);
    if (c < 0x80) {
      clean &= kBytes.ok[c];
      ++b;
      continue;
    }
    const std::size_t len = utf8_char(s_, b);
    if (len == 0) return false;
    utf8_ = true;
    b += len;
  }
  return clean;
}

// Finds where the document whose body starts at `body` ends (the next `---`
// line or the end of the input) and checks every byte on the way.
bool FastYamlParser::find_document_end(std::size_t body, FastDocument& doc) {
  bool clean = true;
  std::size_t q = body;
  std::uint32_t line = ln_;
  const std::size_t n = s_.size();
  while (q < n) {
    // q is a line start.
    if (is_marker_line(s_, q, '-')) break;
    if (is_marker_line(s_, q, '.') || s_[q] == '%') {
      doc.status = FastDocument::Status::RestOfStream;
      return false;
    }
    const void* nl = std::memchr(s_.data() + q, '\n', n - q);
    const std::size_t e = nl ? static_cast<std::size_t>(static_cast<const char*>(nl) - s_.data()) : n;
    clean &= check_bytes(q, e);
    if (e == n) {
      q = n;
      break;
    }
    q = e + 1;
    ++line;
  }
  doc.end = q;
  doc.end_line = line;
  end_ = q;
  return clean;
}

FastDocument FastYamlParser::parse_document(std::size_t pos, std::uint32_t line) {
  FastDocument doc;
  doc.begin = pos;
  doc.begin_line = line;
  doc.doc_line = line;
  ln_ = line;
  eof_ = false;
  utf8_ = false;
  end_ = s_.size();
  load_line(pos);

  // The preamble: blank and comment lines and at most one `---` line.
  bool explicit_start = false;
  while (!eof_) {
    if (is_marker_line(s_, ls_, '.') || s_[ls_] == '%') {
      doc.status = FastDocument::Status::RestOfStream;
      return doc;
    }
    if (is_marker_line(s_, ls_, '-')) {
      if (explicit_start) break;  // the next document: this one is empty
      explicit_start = true;
      doc.doc_line = ln_;
      // Only a comment may follow the marker on its line (`--- |` declines).
      std::size_t q = ls_ + 3;
      while (q < le_ && s_[q] == ' ') ++q;
      if (q < le_ && (s_[q] != '#' || q == ls_ + 3)) {
        next_line();
        find_document_end(ls_, doc);
        if (doc.status != FastDocument::Status::RestOfStream)
          doc.status = FastDocument::Status::Declined;
        return doc;
      }
      next_line();
      continue;
    }
    std::size_t q = ls_;
    while (q < le_ && s_[q] == ' ') ++q;
    // Content; a tab at the start of a line is an error for libyaml, left to
    // the body's parse to decline.
    if (q < le_ && s_[q] != '#') break;
    next_line();
  }
  if (eof_ || is_marker_line(s_, ls_, '-')) {
    // Nothing but blank lines and comments. An explicit empty document
    // loads as null, which is not delivered either.
    doc.end = ls_;
    doc.end_line = ln_;
    if (!check_bytes(pos, doc.end)) {
      doc.status = FastDocument::Status::Declined;
    } else {
      doc.status = explicit_start ? FastDocument::Status::Parsed : FastDocument::Status::EndOfStream;
    }
    return doc;
  }
  if (!explicit_start) doc.doc_line = ln_;

  const std::size_t body = ls_;
  const std::uint32_t body_line = ln_;
  // The comments and marker before the body must be readable too: libyaml
  // rejects a bad byte anywhere.
  const bool clean = find_document_end(body, doc) && check_bytes(pos, body);
  if (doc.status == FastDocument::Status::RestOfStream) return doc;
  doc.status = FastDocument::Status::Declined;
  if (!clean || doc.end - pos > max_document_bytes_) return doc;

  // end_ is the document end now: read the body again within it.
  ln_ = body_line;
  eof_ = false;
  load_line(body);
  try {
    skip_to_content();
    const char c = s_[p_];
    // Quoted, flow and block-scalar roots are rare: libyaml takes them.
    if (c != '-' && starts_special(c)) throw Bail{};
    parse_block_node(-1, false, false);
    if (!eof_) throw Bail{};
  } catch (const Bail&) {
    return doc;
  }
  doc.status = FastDocument::Status::Parsed;
  doc.has_content = true;
  return doc;
}

// ---------------------------------------------------------------------------
// Block nodes

// A node starting at p_. `parent` is the column of the enclosing block
// collection (libyaml's indent), -1 at the root. `inline_value` is a value
// after `key: ` on the key's line, where block collections cannot start.
void FastYamlParser::parse_block_node(int parent, bool inline_value, bool after_dash) {
  const char c = s_[p_];
  if (c == '-' && dash_at(p_)) {
    if (inline_value) throw Bail{};
    parse_block_sequence(col(), false);
    return;
  }
  if (c == '|' || c == '>') {
    // Only on the line of its key or dash.
    if (!inline_value && !after_dash) throw Bail{};
    parse_block_scalar(parent);
    return;
  }
  if (c == '[' || c == '{') {
    parse_flow(0, nullptr);
    expect_rest_empty();
    return;
  }
  std::size_t colon;
  if (!inline_value && key_ahead(colon)) {
    parse_block_mapping(col(), colon);
    return;
  }
  if (c == '"' || c == '\'') {
    const std::uint32_t line = ln_, column = mark_col(p_) + 1;
    std::size_t close = scan_quoted(p_, text_);
    if (close == std::string::npos) {
      std::uint32_t lines = 0;
      close = scan_quoted_lines(p_, text_, lines);
      if (lines > 0) {
        // Continue on the line the scalar closed on.
        std::size_t start = close - 1;
        while (start > 0 && s_[start - 1] != '\n') --start;
        ln_ += lines;
        load_line(start);
      }
    }
    if (!b_.scalar(text_, true, false, line, column)) throw Bail{};
    p_ = close;
    expect_rest_empty();
    return;
  }
  if (starts_special(c) || (c == '-' && p_ + 1 < le_ && s_[p_ + 1] == '\t')) throw Bail{};
  parse_plain_value(parent);
}

// A plain scalar value, continued on the following lines as libyaml's
// yaml_parser_scan_plain_scalar does in block context: more indented than
// the enclosing collection, line breaks folded to a space (or kept when
// blank lines separate the parts), ended by a comment or a less indented line.
void FastYamlParser::parse_plain_value(int parent) {
  const std::uint32_t line = ln_, column = mark_col(p_) + 1;
  // Scans one line's part from p_; returns its end (trailing spaces cut) and
  // whether a comment ended it.
  auto scan_part = [&](std::size_t& e) {
    const std::size_t part = p_;
    bool comment = false;
    while (p_ < le_) {
      p_ = find_stop(p_, le_);
      if (p_ >= le_) break;
      const char ch = s_[p_];
      if (ch == '\t') throw Bail{};
      if (ch == ':' && (p_ + 1 == le_ || s_[p_ + 1] == ' ')) throw Bail{};  // `a: b: c`
      if (ch == '#' && s_[p_ - 1] == ' ') {
        comment = true;
        break;
      }
      ++p_;
    }
    e = p_;
    while (e > part && s_[e - 1] == ' ') --e;
    return comment;
  };
  const std::size_t b = p_;
  std::size_t e;
  bool ended = scan_part(e);
  const std::size_t first_end = e;
  bool multi = false;
  next_line();
  while (!ended) {
    // Blank lines between the parts; tabs in them are left to libyaml.
    std::uint32_t blank = 0;
    for (;;) {
      if (eof_) break;
      std::size_t q = ls_;
      while (q < le_ && s_[q] == ' ') ++q;
      if (q < le_ && s_[q] == '\t') throw Bail{};
      if (q < le_) {
        cs_ = p_ = q;
        break;
      }
      ++blank;
      next_line();
    }
    if (eof_ || static_cast<int>(indent()) < parent + 1 || s_[cs_] == '#') break;
    if (!multi) {
      text_.assign(s_.data() + b, first_end - b);
      multi = true;
    }
    if (blank == 0) {
      text_ += ' ';
    } else {
      text_.append(blank, '\n');
    }
    const std::size_t part = p_;
    ended = scan_part(e);
    text_.append(s_.data() + part, e - part);
    next_line();
  }
  if (multi) {
    if (!b_.scalar(text_, false, is_null_text(text_), line, column)) throw Bail{};
  } else {
    emit_plain(b, first_end, line, column);
  }
  skip_to_content();
}

void FastYamlParser::emit_plain(std::size_t b, std::size_t e, std::uint32_t line,
                                std::uint32_t column) {
  const std::string_view t = s_.substr(b, e - b);
  if (!b_.scalar(t, false, is_null_text(t), line, column)) throw Bail{};
}

bool FastYamlParser::key_ahead(std::size_t& colon) const {
  std::size_t q = p_;
  const char c = s_[q];
  if (c == '"' || c == '\'') {
    std::string scratch;
    try {
      q = scan_quoted(q, scratch);
    } catch (const Bail&) {
      return false;
    }
    if (q == std::string::npos) return false;
    while (q < le_ && s_[q] == ' ') ++q;
    if (q < le_ && s_[q] == ':' && (q + 1 == le_ || s_[q + 1] == ' ')) {
      colon = q;
      return q - p_ < 1000;
    }
    return false;
  }
  if (starts_special(c) || (c == '-' && dash_at(q))) return false;
  for (; q < le_; ++q) {
    q = find_stop(q, le_);
    if (q >= le_) break;
    const char ch = s_[q];
    if (ch == ':' && (q + 1 == le_ || s_[q + 1] == ' ')) {
      colon = q;
      // libyaml forgets a simple key longer than 1024 characters.
      return q - p_ < 1000;
    }
    if (ch == '#' && q > p_ && s_[q - 1] == ' ') return false;
  }
  return false;
}

// `colon` is the first key's ':' (key_ahead found it).
void FastYamlParser::parse_block_mapping(std::uint32_t n, std::size_t colon) {
  if (!b_.begin(NodeType::Map, ln_, n + 1)) throw Bail{};
  for (bool first = true;; first = false) {
    // p_ is at a key in column n.
    if (!first && !key_ahead(colon)) throw Bail{};
    const std::uint32_t key_line = ln_;
    const char c = s_[p_];
    if (c == '"' || c == '\'') {
      const std::uint32_t column = mark_col(p_) + 1;
      scan_quoted(p_, text_);
      if (!b_.scalar(text_, true, false, key_line, column)) throw Bail{};
    } else {
      std::size_t e = colon;
      while (e > p_ && s_[e - 1] == ' ') --e;
      for (std::size_t q = p_; q < e; ++q)
        if (s_[q] == '\t') throw Bail{};
      emit_plain(p_, e, key_line, mark_col(p_) + 1);
    }
    p_ = colon + 1;
    parse_value_after_colon(n, key_line, mark_col(p_));
    // The cursor is on the next content line.
    if (eof_ || indent() < n) break;
    if (indent() > n || dash_at(cs_)) throw Bail{};
  }
  if (!b_.end()) throw Bail{};
}

// The value of a key in a mapping at column n; p_ is just past the ':'.
void FastYamlParser::parse_value_after_colon(std::uint32_t n, std::uint32_t key_line,
                                             std::uint32_t colon_end) {
  while (p_ < le_ && s_[p_] == ' ') ++p_;
  if (p_ < le_ && s_[p_] == '\t') throw Bail{};
  if (p_ < le_ && s_[p_] != '#') {
    parse_block_node(static_cast<int>(n), true, false);
    return;
  }
  // Nothing more on the key's line: the value is on the next lines, or empty.
  next_line();
  skip_to_content();
  if (!eof_ && indent() == n && dash_at(cs_)) {
    parse_block_sequence(n, true);
    return;
  }
  // As after a dash: a non-key node in the key's column is the value.
  std::size_t colon;
  if (!eof_ && indent() == n && !key_ahead(colon)) throw Bail{};
  if (eof_ || indent() <= n) {
    // An empty value: null, marked just past the ':'.
    if (!b_.scalar({}, false, true, key_line, colon_end + 1)) throw Bail{};
    return;
  }
  parse_block_node(static_cast<int>(n), false, false);
}

void FastYamlParser::parse_block_sequence(std::uint32_t n, bool indentless) {
  if (!b_.begin(NodeType::Seq, ln_, n + 1)) throw Bail{};
  for (;;) {
    // p_ is at a '-' in column n.
    const std::uint32_t dash_line = ln_;
    ++p_;
    const std::uint32_t dash_end = col();
    while (p_ < le_ && s_[p_] == ' ') ++p_;
    if (p_ < le_ && s_[p_] == '\t') throw Bail{};
    if (p_ < le_ && s_[p_] != '#') {
      parse_block_node(static_cast<int>(n), false, true);
    } else {
      next_line();
      skip_to_content();
      // libyaml takes a node in the dash's own column as the entry's value
      // (`-` then `foo` on the next line is ["foo"]), unless it is another
      // entry or, in an indentless sequence, the parent mapping's next key.
      std::size_t colon;
      if (!eof_ && indent() == n && !dash_at(cs_) && !(indentless && key_ahead(colon))) throw Bail{};
      if (eof_ || indent() <= n) {
        if (!b_.scalar({}, false, true, dash_line, dash_end + 1)) throw Bail{};
      } else {
        parse_block_node(static_cast<int>(n), false, false);
      }
    }
    if (eof_ || indent() < n) break;
    if (indent() > n) throw Bail{};
    if (!dash_at(cs_)) {
      if (indentless) break;
      throw Bail{};
    }
    p_ = cs_;
  }
  if (!b_.end()) throw Bail{};
}

// ---------------------------------------------------------------------------
// Scalars

// A quoted scalar that closes on its own line. Returns the end (past the
// closing quote), or npos when the line ends first.
std::size_t FastYamlParser::scan_quoted(std::size_t q, std::string& out) const {
  out.clear();
  const char quote = s_[q++];
  if (quote == '\'') {
    for (;;) {
      const void* hit = std::memchr(s_.data() + q, '\'', le_ - q);
      if (!hit) return std::string::npos;
      const std::size_t at = static_cast<std::size_t>(static_cast<const char*>(hit) - s_.data());
      out.append(s_.data() + q, at - q);
      if (at + 1 < le_ && s_[at + 1] == '\'') {
        out += '\'';
        q = at + 2;
        continue;
      }
      return at + 1;
    }
  }
  for (;;) {
    if (q >= le_) return std::string::npos;
    const char c = s_[q];
    if (c == '"') return q + 1;
    if (c != '\\') {
      out += c;
      ++q;
      continue;
    }
    if (q + 1 >= le_) return std::string::npos;  // an escaped line break
    q = unescape(q + 1, out);
  }
}

// The escape after a backslash at q - 1, appended to out; returns the
// position after it. Declines what libyaml rejects and \N \_ \L \P.
std::size_t FastYamlParser::unescape(std::size_t q, std::string& out) const {
  const char e = s_[q++];
  switch (e) {
    case '0': out += '\0'; break;
    case 'a': out += '\a'; break;
    case 'b': out += '\b'; break;
    case 't': case '\t': out += '\t'; break;
    case 'n': out += '\n'; break;
    case 'v': out += '\v'; break;
    case 'f': out += '\f'; break;
    case 'r': out += '\r'; break;
    case 'e': out += '\x1B'; break;
    case ' ': out += ' '; break;
    case '"': out += '"'; break;
    case '/': out += '/'; break;
    case '\\': out += '\\'; break;
    case 'x': case 'u': case 'U': {
      const std::size_t len = e == 'x' ? 2 : e == 'u' ? 4 : 8;
      if (q + len > end_) throw Bail{};
      std::uint32_t cp = 0;
      for (std::size_t i = 0; i < len; ++i) {
        const int h = hex_value(s_[q + i]);
        if (h < 0) throw Bail{};
        cp = cp * 16 + static_cast<std::uint32_t>(h);
      }
      if ((cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) throw Bail{};
      append_utf8(out, cp);
      q += len;
      break;
    }
    default:
      throw Bail{};
  }
  return q;
}

// A quoted scalar over several lines (go-yaml writes long strings so),
// folded as libyaml's yaml_parser_scan_flow_scalar folds it: a line break
// becomes a space, blank lines stay line breaks, the spaces around a break
// go, an escaped break joins the lines. Returns the end past the closing
// quote and counts the line breaks crossed.
std::size_t FastYamlParser::scan_quoted_lines(std::size_t q, std::string& out,
                                              std::uint32_t& lines) {
  out.clear();
  lines = 0;
  const char quote = s_[q++];
  const bool single = quote == '\'';
  std::string& whitespaces = breaks_[0];
  std::string& trailing_breaks = breaks_[1];
  whitespaces.clear();
  trailing_breaks.clear();
  auto blank = [&](std::size_t i) { return s_[i] == ' ' || s_[i] == '\t'; };
  for (;;) {
    // A `---` line ends the document (end_) and is an error inside a scalar.
    if (q >= end_) throw Bail{};
    bool leading_blanks = false;
    bool leading_break = false;
    while (q < end_ && !blank(q) && s_[q] != '\n') {
      const char c = s_[q];
      if (single && c == '\'' && q + 1 < end_ && s_[q + 1] == '\'') {
        out += '\'';
        q += 2;
      } else if (c == quote) {
        break;
      } else if (!single && c == '\\' && q + 1 < end_ && s_[q + 1] == '\n') {
        q += 2;
        ++lines;
        leading_blanks = true;
        break;
      } else if (!single && c == '\\') {
        if (q + 1 >= end_) throw Bail{};
        q = unescape(q + 1, out);
      } else {
        out += c;
        ++q;
      }
    }
    if (q >= end_) throw Bail{};
    if (s_[q] == quote) return q + 1;
    while (q < end_ && (blank(q) || s_[q] == '\n')) {
      if (s_[q] != '\n') {
        if (!leading_blanks) whitespaces += s_[q];
      } else if (!leading_blanks) {
        whitespaces.clear();
        leading_break = true;
        leading_blanks = true;
        ++lines;
      } else {
        trailing_breaks += '\n';
        ++lines;
      }
      ++q;
    }
    if (leading_blanks) {
      if (leading_break && trailing_breaks.empty()) out += ' ';
      out += trailing_breaks;
      trailing_breaks.clear();
    } else {
      out += whitespaces;
      whitespaces.clear();
    }
  }
}

// `|` and `>` scalars, following libyaml's yaml_parser_scan_block_scalar step
// by step (indentation detection, folding, chomping).
void FastYamlParser::parse_block_scalar(int parent) {
  const std::uint32_t line = ln_, column = mark_col(p_) + 1;
  const bool literal = s_[p_] == '|';
  ++p_;
  int chomping = 0;
  int increment = 0;
  for (int i = 0; i < 2 && p_ < le_; ++i) {
    const char c = s_[p_];
    if ((c == '+' || c == '-') && chomping == 0) {
      chomping = c == '+' ? 1 : -1;
      ++p_;
    } else if (c >= '1' && c <= '9' && increment == 0) {
      increment = c - '0';
      ++p_;
    } else {
      break;
    }
  }
  {
    const std::size_t start = p_;
    while (p_ < le_ && (s_[p_] == ' ' || s_[p_] == '\t')) ++p_;
    if (p_ < le_ && (s_[p_] != '#' || p_ == start)) throw Bail{};
  }
  int indent = increment ? (parent >= 0 ? parent + increment : increment) : 0;

  std::string& out = text_;
  std::string& leading_break = breaks_[0];
  std::string& trailing_breaks = breaks_[1];
  out.clear();
  leading_break.clear();
  trailing_breaks.clear();
  std::size_t q = le_ < end_ ? le_ + 1 : end_;
  std::uint32_t lines = le_ < end_ ? 1 : 0;  // line breaks consumed past the header
  int column_now = 0;
  int max_leading = -1;  // the widest blank line before the first content line
  bool first = true;

  // Eats indentation and empty lines; q ends at a line's content.
  auto scan_breaks = [&] {
    int max_indent = 0;
    for (;;) {
      int c = 0;
      while ((indent == 0 || c < indent) && q < end_ && s_[q] == ' ') {
        ++q;
        ++c;
      }
      if (c > max_indent) max_indent = c;
      if ((indent == 0 || c < indent) && q < end_ && s_[q] == '\t') throw Bail{};
      column_now = c;
      if (!(q < end_ && s_[q] == '\n')) break;
      if (first) max_leading = std::max(max_leading, c);
      trailing_breaks += '\n';
      ++q;
      ++lines;
    }
    if (indent == 0) {
      indent = std::max({max_indent, parent + 1, 1});
      // A blank line wider than the first content line: libyaml's reading
      // of it is surprising; let it have the document.
      if (max_leading > column_now && q < end_) throw Bail{};
    }
    first = false;
  };

  scan_breaks();
  bool leading_blank = false;
  while (column_now == indent && q < end_) {
    const bool trailing_blank = s_[q] == ' ' || s_[q] == '\t';
    if (!literal && !leading_break.empty() && leading_break[0] == '\n' && !leading_blank &&
        !trailing_blank) {
      if (trailing_breaks.empty()) out += ' ';
      leading_break.clear();
    } else {
      out += leading_break;
      leading_break.clear();
    }
    out += trailing_breaks;
    trailing_breaks.clear();
    leading_blank = s_[q] == ' ' || s_[q] == '\t';
    const void* nl = std::memchr(s_.data() + q, '\n', end_ - q);
    const std::size_t e = nl ? static_cast<std::size_t>(static_cast<const char*>(nl) - s_.data()) : end_;
    out.append(s_.data() + q, e - q);
    q = e;
    if (q < end_) {
      leading_break = "\n";
      ++q;
      ++lines;
    }
    scan_breaks();
  }
  if (chomping != -1) out += leading_break;
  if (chomping == 1) out += trailing_breaks;
  if (!b_.scalar(out, true, false, line, column)) throw Bail{};

  // Resume on the line the scalar stopped in (q is column_now spaces into it).
  ln_ += lines;
  if (q >= end_) {
    eof_ = true;
    ls_ = le_ = cs_ = p_ = end_;
    return;
  }
  load_line(q - static_cast<std::size_t>(column_now));
  skip_to_content();
}

// ---------------------------------------------------------------------------
// Flow collections, on one line only

// What may follow a flow node, checked before the node is emitted: an item
// of a streamed `items` list is handed over as soon as it ends, so a node
// must never be emitted as one thing and then turn out to be another
// (`["a": b]` is a mapping, `- [a]: b` a key). `next` lists the characters
// allowed after spaces; null means the end of the line or a comment.
void FastYamlParser::expect_next(std::size_t q, const char* next) const {
  const std::size_t start = q;
  while (q < le_ && s_[q] == ' ') ++q;
  if (!next) {
    if (q < le_ && (s_[q] != '#' || q == start)) throw Bail{};
    return;
  }
  if (q >= le_ || !std::strchr(next, s_[q])) throw Bail{};
}

void FastYamlParser::parse_flow_scalar(bool key, const char* next) {
  const char c = s_[p_];
  const std::uint32_t column = mark_col(p_) + 1;
  if (c == '"' || c == '\'') {
    const std::size_t close = scan_quoted(p_, text_);
    if (close == std::string::npos) throw Bail{};
    expect_next(close, next);
    if (!b_.scalar(text_, true, false, ln_, column)) throw Bail{};
    p_ = close;
    return;
  }
  if (starts_special(c) || c == '-') {
    // `-x` is plain in libyaml, `- ` is not; keep to the obvious cases.
    if (!(c == '-' && p_ + 1 < le_ && s_[p_ + 1] != ' ' && s_[p_ + 1] != ',' &&
          s_[p_ + 1] != ']' && s_[p_ + 1] != '}'))
      throw Bail{};
  }
  const std::size_t b = p_;
  std::size_t e = b;
  while (p_ < le_) {
    const char ch = s_[p_];
    if (ch == ',' || ch == ']' || ch == '}') break;
    if (key && ch == ':' && p_ + 1 < le_ && s_[p_ + 1] == ' ') break;
    if (ch == ':' || ch == '#' || ch == '\t' || ch == '[' || ch == '{' || ch == '?') throw Bail{};
    ++p_;
    if (ch != ' ') e = p_;
  }
  if (p_ >= le_) throw Bail{};  // a plain scalar going on to the next line
  expect_next(p_, next);
  emit_plain(b, e, ln_, column);
}

void FastYamlParser::parse_flow(int depth, const char* next) {
  if (depth > 64) throw Bail{};
  const bool seq = s_[p_] == '[';
  const char close = seq ? ']' : '}';
  const char* const after_item = seq ? ",]" : ",}";
  if (!b_.begin(seq ? NodeType::Seq : NodeType::Map, ln_, mark_col(p_) + 1)) throw Bail{};
  ++p_;
  auto skip_spaces = [&] {
    while (p_ < le_ && s_[p_] == ' ') ++p_;
    if (p_ >= le_ || s_[p_] == '\t') throw Bail{};
  };
  skip_spaces();
  if (s_[p_] != close) {
    for (;;) {
      if (seq) {
        if (s_[p_] == '[' || s_[p_] == '{') {
          parse_flow(depth + 1, after_item);
        } else {
          parse_flow_scalar(false, after_item);
        }
      } else {
        const char k = s_[p_];
        if (k == '[' || k == '{') throw Bail{};
        parse_flow_scalar(true, ":");
        skip_spaces();
        // After a plain key the ':' needs a space; after a quoted one libyaml
        // takes `"a":b` too, but keep to the common spelling.
        ++p_;
        if (p_ >= le_ || s_[p_] != ' ') throw Bail{};
        skip_spaces();
        if (s_[p_] == '[' || s_[p_] == '{') {
          parse_flow(depth + 1, after_item);
        } else {
          if (s_[p_] == ',' || s_[p_] == close) throw Bail{};
          parse_flow_scalar(false, after_item);
        }
      }
      skip_spaces();
      if (s_[p_] == ',') {
        ++p_;
        skip_spaces();
        if (s_[p_] == close || s_[p_] == ',') throw Bail{};
        continue;
      }
      break;  // at `close`: expect_next let nothing else through
    }
  }
  ++p_;
  expect_next(p_, next);
  if (!b_.end()) throw Bail{};
}

}  // namespace kg::detail

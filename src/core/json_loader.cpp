// A strict JSON (RFC 8259) loader into the shared Node tree. Accepts a
// stream of concatenated values (as `kubectl get -o json` pipelines produce);
// after an error it resynchronises at the next line that starts with '{'.
#include <algorithm>
#include <cstring>
#include <string>

#include "core/document.hpp"
#include "core/swar.hpp"
#include "core/utf8.hpp"
#include "core/tree_builder.hpp"

namespace kg {
namespace {

class JsonParser {
 public:
  JsonParser(SourceFile& file, Arena& arena, bool release, const LoadLimits& limits,
             const DocumentSink& sink)
      : file_(file), arena_(arena), release_(release), sink_(sink), s_(file.text()),
        limits_(limits), builder_(arena, limits), piece_(file.list) {
    if (release_) {
      builder_.stream_list_items([this](const Node* item, std::size_t index) {
        sink_(Document{item, item->line, static_cast<std::int64_t>(index)});
      });
    }
  }

  void run() {
    line_ = file_.first_line;
    if (piece_.part == ListPiece::Part::Items) {
      run_items();
      return;
    }
    if (s_.substr(0, 3) == "\xEF\xBB\xBF") pos_ = line_start_ = 3;
    for (;;) {
      skip_ws();
      if (pos_ >= s_.size()) break;
      builder_.reset();
      const std::uint32_t doc_line = line_;
      doc_start_ = pos_;
      too_large_ = false;
      if (value() && !builder_.failed() && !over_size()) {
        // The envelope's own warnings may come before its items' in the
        // whole: only the unsplit loader orders them.
        if (piece_.part != ListPiece::Part::None && !builder_.warnings().empty()) {
          file_.piece_failed = true;
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
        continue;
      }
      if (piece_.part != ListPiece::Part::None) {
        file_.piece_failed = true;
        return;
      }
      if (too_large_ || over_size()) {
        file_.add_error({file_.path, doc_line, 1,
                         "document of more than " + format_bytes(limits_.max_document_bytes) +
                             " is larger than the document size limit (--max-document-size); skipped"});
        file_.limit_hit = true;
      } else {
        const InputError& e = builder_.error();
        file_.add_error({file_.path, e.line, e.column, "invalid JSON: " + e.message});
        if (builder_.limit_failed()) file_.limit_hit = true;
      }
      builder_.reset();
      if (release_) arena_.release();
      if (!resync()) break;
    }
  }

 private:
  // A run of a List's items (split_input): `item, item, ...` to the end of
  // the view, each delivered as the whole's builder streams it.
  void run_items() {
    pos_ = piece_.start;
    for (std::int64_t index = piece_.first_item;; ++index) {
      skip_ws();
      builder_.reset();
      doc_start_ = pos_;
      if (!value() || builder_.failed() || over_size()) {
        file_.piece_failed = true;
        return;
      }
      for (InputError& w : builder_.warnings()) {
        w.file = file_.path;
        file_.add_error(std::move(w));
      }
      file_.errors_dropped += builder_.warnings_dropped();
      const Node* item = builder_.root();
      sink_(Document{item, item->line, index});
      builder_.reset();
      if (release_) arena_.release();
      skip_ws();
      if (pos_ >= s_.size()) return;
      if (s_[pos_] != ',') {
        file_.piece_failed = true;
        return;
      }
      ++pos_;
    }
  }

  std::uint32_t col() const { return static_cast<std::uint32_t>(pos_ - line_start_) + 1; }

  bool fail(std::string msg) {
    builder_.fail(line_, col(), std::move(msg));
    return false;
  }

  // Checked at every collection and after the value: a document is given
  // up as soon as it passes the limit, so its tree never grows past it.
  bool over_size() const { return pos_ - doc_start_ > limits_.max_document_bytes; }
  bool check_size() {
    if (!over_size()) return true;
    too_large_ = true;
    return fail("document too large");
  }

  // Skips to the next line beginning with '{' (the start of the next object).
  bool resync() {
    for (;;) {
      std::size_t nl = s_.find('\n', pos_);
      if (nl == std::string_view::npos) return false;
      pos_ = nl + 1;
      ++line_;
      line_start_ = pos_;
      if (pos_ < s_.size() && s_[pos_] == '{') return true;
    }
  }

  void skip_ws() {
    while (pos_ < s_.size()) {
      char c = s_[pos_];
      if (c == '\n') {
        ++line_;
        line_start_ = ++pos_;
        // Pretty-printed JSON: skip the indentation a word at a time.
        while (pos_ + 8 <= s_.size() && swar::load(s_.data() + pos_) == swar::kOnes * ' ') pos_ += 8;
      } else if (c == ' ' || c == '\t' || c == '\r') {
        ++pos_;
      } else {
        break;
      }
    }
  }

  bool value() {
    skip_ws();
    if (pos_ >= s_.size()) return fail("unexpected end of input, expected a value");
    const std::uint32_t line = line_, c = col();
    switch (s_[pos_]) {
      case '{': return object(line, c);
      case '[': return array(line, c);
      case '"': {
        std::string_view text;
        bool copied = false;
        if (!string(text, copied)) return false;
        return builder_.scalar(text, true, false, line, c, {}, false);
      }
      case 't': return literal("true", line, c, false);
      case 'f': return literal("false", line, c, false);
      case 'n': return literal("null", line, c, true);
      default: return number(line, c);
    }
  }

  bool literal(std::string_view word, std::uint32_t line, std::uint32_t c, bool is_null) {
    if (s_.substr(pos_, word.size()) != word) return fail("invalid literal");
    pos_ += word.size();
    return builder_.scalar(s_.substr(pos_ - word.size(), word.size()), false, is_null, line, c, {},
                           false);
  }

  bool number(std::uint32_t line, std::uint32_t c) {
    const std::size_t start = pos_;
    auto digits = [&] {
      std::size_t b = pos_;
      while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') ++pos_;
      return pos_ > b;
    };
    if (pos_ < s_.size() && s_[pos_] == '-') ++pos_;
    if (pos_ < s_.size() && s_[pos_] == '0') {
      ++pos_;
    } else if (!digits()) {
      return fail(std::string("unexpected character '") + s_[start] + "'");
    }
    if (pos_ < s_.size() && s_[pos_] == '.') {
      ++pos_;
      if (!digits()) return fail("invalid number: digits expected after '.'");
    }
    if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      ++pos_;
      if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) ++pos_;
      if (!digits()) return fail("invalid number: digits expected in exponent");
    }
    return builder_.scalar(s_.substr(start, pos_ - start), false, false, line, c, {}, false);
  }

  static int hex(char ch) {
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
  }

  bool read_u4(unsigned& out) {
    if (pos_ + 4 > s_.size()) return fail("truncated \\u escape");
    out = 0;
    for (int i = 0; i < 4; ++i) {
      int h = hex(s_[pos_ + i]);
      if (h < 0) return fail("invalid \\u escape");
      out = out * 16 + static_cast<unsigned>(h);
    }
    pos_ += 4;
    return true;
  }

  // Reads a string at pos_ (on the opening quote). Strings without escapes
  // are views into the file's content; others are decoded into the arena.
  bool string(std::string_view& out, bool& copied) {
    ++pos_;
    const std::size_t start = pos_;
    while (pos_ < s_.size()) {
      // Skip ordinary text a word at a time.
      while (pos_ + 8 <= s_.size()) {
        const std::uint64_t w = swar::load(s_.data() + pos_);
        if (swar::has(w, '"') || swar::has(w, '\\') || swar::has_below(w, 0x20)) break;
        pos_ += 8;
      }
      if (pos_ >= s_.size()) break;
      char ch = s_[pos_];
      if (ch == '"') {
        out = s_.substr(start, pos_ - start);
        ++pos_;
        copied = false;
        return true;
      }
      if (ch == '\\') break;
      if (static_cast<unsigned char>(ch) < 0x20) return fail("control character in string");
      ++pos_;
    }
    if (pos_ >= s_.size()) return fail("unterminated string");
    std::string buf(s_.substr(start, pos_ - start));
    while (pos_ < s_.size()) {
      char ch = s_[pos_];
      if (ch == '"') {
        ++pos_;
        auto* p = static_cast<char*>(arena_.allocate(std::max<std::size_t>(buf.size(), 1), 1));
        std::copy(buf.begin(), buf.end(), p);  // a (pointer, size) view: no terminator
        out = {p, buf.size()};
        copied = true;
        return true;
      }
      if (static_cast<unsigned char>(ch) < 0x20) return fail("control character in string");
      if (ch != '\\') {
        buf += ch;
        ++pos_;
        continue;
      }
      if (++pos_ >= s_.size()) break;
      char e = s_[pos_++];
      switch (e) {
        case '"': buf += '"'; break;
        case '\\': buf += '\\'; break;
        case '/': buf += '/'; break;
        case 'b': buf += '\b'; break;
        case 'f': buf += '\f'; break;
        case 'n': buf += '\n'; break;
        case 'r': buf += '\r'; break;
        case 't': buf += '\t'; break;
        case 'u': {
          unsigned cp = 0;
          if (!read_u4(cp)) return false;
          if (cp >= 0xD800 && cp <= 0xDBFF && s_.substr(pos_, 2) == "\\u") {
            pos_ += 2;
            unsigned lo = 0;
            if (!read_u4(lo)) return false;
            if (lo >= 0xDC00 && lo <= 0xDFFF) {
              cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            } else {
              cp = 0xFFFD;
            }
          } else if (cp >= 0xD800 && cp <= 0xDFFF) {
            cp = 0xFFFD;
          }
          append_utf8(buf, cp);
          break;
        }
        default: return fail(std::string("invalid escape '\\") + e + "'");
      }
    }
    return fail("unterminated string");
  }


  bool object(std::uint32_t line, std::uint32_t c) {
    if (!check_size() || !builder_.begin(NodeType::Map, line, c)) return false;
    ++pos_;
    skip_ws();
    if (pos_ < s_.size() && s_[pos_] == '}') {
      ++pos_;
      return builder_.end();
    }
    for (;;) {
      skip_ws();
      if (pos_ >= s_.size() || s_[pos_] != '"') return fail("expected a string key in object");
      const std::uint32_t kl = line_, kc = col();
      std::string_view key;
      bool copied = false;
      if (!string(key, copied)) return false;
      if (!builder_.scalar(key, true, false, kl, kc, {}, false)) return false;
      skip_ws();
      if (pos_ >= s_.size() || s_[pos_] != ':') return fail("expected ':' after object key");
      ++pos_;
      if (!value()) return false;
      skip_ws();
      if (pos_ < s_.size() && s_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (pos_ < s_.size() && s_[pos_] == '}') {
        ++pos_;
        return builder_.end();
      }
      return fail("expected ',' or '}' in object");
    }
  }

  bool array(std::uint32_t line, std::uint32_t c) {
    if (!check_size() || !builder_.begin(NodeType::Seq, line, c)) return false;
    ++pos_;
    if (piece_.part == ListPiece::Part::Envelope && pos_ == piece_.items_open + 1) {
      // The items are read by the other pieces: on to their `]`.
      pos_ = piece_.items_close;
      line_ = piece_.close_line;
      line_start_ = piece_.close_line_start;
    }
    skip_ws();
    if (pos_ < s_.size() && s_[pos_] == ']') {
      ++pos_;
      return builder_.end();
    }
    for (;;) {
      if (!value()) return false;
      skip_ws();
      if (pos_ < s_.size() && s_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (pos_ < s_.size() && s_[pos_] == ']') {
        ++pos_;
        return builder_.end();
      }
      return fail("expected ',' or ']' in array");
    }
  }

  SourceFile& file_;
  Arena& arena_;
  bool release_;
  const DocumentSink& sink_;
  std::string_view s_;
  const LoadLimits& limits_;
  detail::TreeBuilder builder_;
  std::size_t doc_start_ = 0;
  bool too_large_ = false;
  const ListPiece& piece_;
  std::size_t pos_ = 0;
  std::size_t line_start_ = 0;
  std::uint32_t line_ = 1;
};

}  // namespace

void load_json(SourceFile& file, Arena& arena, bool release, const LoadLimits& limits,
               const DocumentSink& sink) {
  JsonParser(file, arena, release, limits, sink).run();
}

}  // namespace kg

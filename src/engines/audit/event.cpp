#include "engines/audit/event.hpp"

#include <bitset>
#include <cstring>

#include "core/swar.hpp"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace kg::audit {
namespace {

constexpr std::size_t kMaxDepth = 512;

// The first byte in [p, end) that is a quote or a backslash (end when none): 16 bytes at a
// time with SSE2, else 8 with SWAR.
inline const char* find_quote_or_backslash(const char* p, const char* end) {
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\');
  while (end - p >= 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const int m = _mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)));
    if (m) return p + __builtin_ctz(static_cast<unsigned>(m));
    p += 16;
  }
#endif
  while (end - p >= 8) {
    const std::uint64_t w = swar::load(p);
    if (swar::has(w, '"') || swar::has(w, '\\')) break;
    p += 8;
  }
  while (p < end && *p != '"' && *p != '\\') ++p;
  return p;
}

// The first quote or bracket in [p, end) (end when none): what moves a skip through a body.
inline const char* find_structural(const char* p, const char* end) {
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"'), open_brace = _mm_set1_epi8('{'), close_brace = _mm_set1_epi8('}'),
                open_bracket = _mm_set1_epi8('['), close_bracket = _mm_set1_epi8(']');
  while (end - p >= 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const __m128i any = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, open_brace)),
                                     _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, close_brace), _mm_cmpeq_epi8(v, open_bracket)),
                                                  _mm_cmpeq_epi8(v, close_bracket)));
    const int m = _mm_movemask_epi8(any);
    if (m) return p + __builtin_ctz(static_cast<unsigned>(m));
    p += 16;
  }
#endif
  while (end - p >= 8) {
    const std::uint64_t w = swar::load(p);
    if (swar::has(w, '"') || swar::has(w, '{') || swar::has(w, '}') || swar::has(w, '[') || swar::has(w, ']')) break;
    p += 8;
  }
  while (p < end && *p != '"' && *p != '{' && *p != '}' && *p != '[' && *p != ']') ++p;
  return p;
}

inline void skip_ws(const char*& p, const char* end) {
  while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')) ++p;
}

// Past the closing quote of a string whose opening quote is at p[-1]; false
// when it does not close. Sets `escaped` when it holds a backslash. One pass,
// eight bytes at a time: most string bytes are neither a quote nor a backslash.
inline bool skip_string_body(const char*& p, const char* end, bool& escaped) {
  escaped = false;
  const char* q = p;
  for (;;) {
    q = find_quote_or_backslash(q, end);
    if (q >= end) return false;
    const char c = *q;
    if (c == '"') {
      p = q + 1;
      return true;
    }
    if (c == '\\') {
      escaped = true;
      q += 2;  // the escaped character, whatever it is
      if (q > end) return false;
      continue;
    }
    ++q;
  }
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool read_hex4(const char* p, const char* end, unsigned& out) {
  if (end - p < 4) return false;
  out = 0;
  for (int i = 0; i < 4; ++i) {
    const int d = hex_digit(p[i]);
    if (d < 0) return false;
    out = out * 16 + static_cast<unsigned>(d);
  }
  return true;
}

void put_utf8(std::string& out, unsigned cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// Unescapes the body [b, e) of a JSON string into `scratch` (whose capacity
// was reserved for the whole input, so views into it stay valid).
bool unescape(const char* b, const char* e, std::string& scratch, std::string_view& out) {
  const std::size_t start = scratch.size();
  for (const char* p = b; p < e; ++p) {
    if (*p != '\\') {
      scratch.push_back(*p);
      continue;
    }
    if (++p >= e) return false;
    switch (*p) {
      case '"': scratch.push_back('"'); break;
      case '\\': scratch.push_back('\\'); break;
      case '/': scratch.push_back('/'); break;
      case 'b': scratch.push_back('\b'); break;
      case 'f': scratch.push_back('\f'); break;
      case 'n': scratch.push_back('\n'); break;
      case 'r': scratch.push_back('\r'); break;
      case 't': scratch.push_back('\t'); break;
      case 'u': {
        unsigned cp = 0;
        if (!read_hex4(p + 1, e, cp)) return false;
        p += 4;
        if (cp >= 0xD800 && cp < 0xDC00 && e - p > 6 && p[1] == '\\' && p[2] == 'u') {
          unsigned lo = 0;
          if (read_hex4(p + 3, e, lo) && lo >= 0xDC00 && lo < 0xE000) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            p += 6;
          }
        }
        if (cp >= 0xD800 && cp < 0xE000) cp = 0xFFFD;  // lone surrogate
        put_utf8(scratch, cp);
        break;
      }
      default:
        return false;
    }
  }
  out = std::string_view(scratch.data() + start, scratch.size() - start);
  return true;
}

inline bool is_delim(char c) {
  return c == ',' || c == '}' || c == ']' || c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

// Skips one JSON value (strings checked for termination, brackets for
// balance and kind; scalars up to the next delimiter).
bool skip_value(const char*& p, const char* end) {
  skip_ws(p, end);
  if (p >= end) return false;
  bool escaped = false;
  if (*p == '"') {
    ++p;
    return skip_string_body(p, end, escaped);
  }
  if (*p != '{' && *p != '[') {
    const char* s = p;
    while (p < end && !is_delim(*p)) ++p;
    return p > s;
  }
  std::bitset<kMaxDepth> is_object;
  std::size_t depth = 0;
  while (p < end) {
    // Bodies are mostly text between the structural bytes.
    p = find_structural(p, end);
    if (p >= end) break;
    const char c = *p++;
    switch (c) {
      case '"':
        if (!skip_string_body(p, end, escaped)) return false;
        break;
      case '{':
      case '[':
        if (depth >= kMaxDepth) return false;
        is_object[depth++] = (c == '{');
        break;
      case '}':
      case ']':
        if (depth == 0 || is_object[depth - 1] != (c == '}')) return false;
        if (--depth == 0) return true;
        break;
      default:
        break;
    }
  }
  return false;
}

class Reader {
 public:
  Reader(const char*& p, const char* end, std::string& scratch, const char* base, ParseError& error)
      : p_(p), end_(end), scratch_(scratch), base_(base), error_(error) {}

  bool fail(const char* what) {
    error_.offset = static_cast<std::size_t>(p_ - base_);
    error_.message = what;
    return false;
  }

  bool string(std::string_view& out) {
    skip_ws(p_, end_);
    if (p_ >= end_ || *p_ != '"') return fail("expected a string");
    const char* b = ++p_;
    bool escaped = false;
    if (!skip_string_body(p_, end_, escaped)) return fail("unterminated string");
    if (!escaped) {
      out = std::string_view(b, static_cast<std::size_t>(p_ - 1 - b));
      return true;
    }
    if (!unescape(b, p_ - 1, scratch_, out)) return fail("bad escape in string");
    return true;
  }

  // A string, or null (empty).
  bool opt_string(std::string_view& out) {
    skip_ws(p_, end_);
    if (p_ < end_ && *p_ == 'n') return null_value(out);
    return string(out);
  }

  bool null_value(std::string_view& out) {
    if (end_ - p_ >= 4 && std::memcmp(p_, "null", 4) == 0) {
      p_ += 4;
      out = {};
      return true;
    }
    return fail("expected a string or null");
  }

  bool integer(int& out) {
    skip_ws(p_, end_);
    bool neg = false;
    if (p_ < end_ && *p_ == '-') {
      neg = true;
      ++p_;
    }
    const char* s = p_;
    long long v = 0;
    while (p_ < end_ && *p_ >= '0' && *p_ <= '9') {
      if (v < 1'000'000'000) v = v * 10 + (*p_ - '0');
      ++p_;
    }
    if (p_ == s) return fail("expected a number");
    while (p_ < end_ && !is_delim(*p_)) ++p_;  // fraction/exponent: ignored
    out = static_cast<int>(neg ? -v : v);
    return true;
  }

  bool skip() {
    if (!skip_value(p_, end_)) return fail("malformed JSON value");
    return true;
  }

  // The raw text of one value (an object body kept for later).
  bool raw(std::string_view& out) {
    skip_ws(p_, end_);
    const char* s = p_;
    if (!skip()) return false;
    out = std::string_view(s, static_cast<std::size_t>(p_ - s));
    if (out == "null") out = {};
    return true;
  }

  // Iterates an object: `on_key(key)` must consume the value.
  template <typename F>
  bool object(F&& on_key) {
    skip_ws(p_, end_);
    if (p_ < end_ && *p_ == 'n') {
      std::string_view ignored;
      return null_value(ignored);
    }
    if (p_ >= end_ || *p_ != '{') return fail("expected an object");
    ++p_;
    skip_ws(p_, end_);
    if (p_ < end_ && *p_ == '}') {
      ++p_;
      return true;
    }
    for (;;) {
      std::string_view key;
      if (!string(key)) return false;
      skip_ws(p_, end_);
      if (p_ >= end_ || *p_ != ':') return fail("expected ':' after a key");
      ++p_;
      if (!on_key(key)) return false;
      skip_ws(p_, end_);
      if (p_ >= end_) return fail("unterminated object");
      if (*p_ == ',') {
        ++p_;
        continue;
      }
      if (*p_ == '}') {
        ++p_;
        return true;
      }
      return fail("expected ',' or '}' in an object");
    }
  }

  template <typename F>
  bool array(F&& on_item) {
    skip_ws(p_, end_);
    if (p_ < end_ && *p_ == 'n') {
      std::string_view ignored;
      return null_value(ignored);
    }
    if (p_ >= end_ || *p_ != '[') return fail("expected an array");
    ++p_;
    skip_ws(p_, end_);
    if (p_ < end_ && *p_ == ']') {
      ++p_;
      return true;
    }
    for (;;) {
      if (!on_item()) return false;
      skip_ws(p_, end_);
      if (p_ >= end_) return fail("unterminated array");
      if (*p_ == ',') {
        ++p_;
        continue;
      }
      if (*p_ == ']') {
        ++p_;
        return true;
      }
      return fail("expected ',' or ']' in an array");
    }
  }

  bool string_list(std::vector<std::string_view>& out) {
    return array([&] {
      std::string_view s;
      if (!string(s)) return false;
      out.push_back(s);
      return true;
    });
  }

  const char*& pos() { return p_; }

 private:
  const char*& p_;
  const char* end_;
  std::string& scratch_;
  const char* base_;
  ParseError& error_;
};

bool parse_user(Reader& r, std::string_view& name, std::vector<std::string_view>* groups) {
  return r.object([&](std::string_view k) {
    if (k == "username") return r.opt_string(name);
    if (k == "groups" && groups) return r.string_list(*groups);
    return r.skip();
  });
}

}  // namespace

void AuditEvent::clear() {
  groups.clear();
  source_ips.clear();
  std::vector<std::string_view> g = std::move(groups), s = std::move(source_ips);
  *this = AuditEvent{};
  groups = std::move(g);
  source_ips = std::move(s);
}

bool EventParser::parse_event(const char*& p, const char* end, AuditEvent& ev, ParseError& error) {
  Reader r(p, end, scratch_, base_, error);
  std::string_view kind, items, timestamp;
  bool is_list_item_holder = false;
  const bool ok = r.object([&](std::string_view k) {
    switch (k.size()) {
      case 4:
        if (k == "kind") return r.opt_string(kind);
        if (k == "verb") return r.opt_string(ev.verb);
        if (k == "user") return parse_user(r, ev.username, &ev.groups);
        break;
      case 5:
        if (k == "level") return r.opt_string(ev.level);
        if (k == "stage") return r.opt_string(ev.stage);
        if (k == "items") {
          is_list_item_holder = true;
          return r.raw(items);
        }
        break;
      case 7:
        if (k == "auditID") return r.opt_string(ev.audit_id);
        break;
      case 9:
        if (k == "objectRef") {
          ev.has_object_ref = true;
          ObjectRef& o = ev.object;
          return r.object([&](std::string_view f) {
            if (f == "resource") return r.opt_string(o.resource);
            if (f == "namespace") return r.opt_string(o.ns);
            if (f == "name") return r.opt_string(o.name);
            if (f == "apiGroup") return r.opt_string(o.api_group);
            if (f == "apiVersion") return r.opt_string(o.api_version);
            if (f == "subresource") return r.opt_string(o.subresource);
            return r.skip();
          });
        }
        if (k == "sourceIPs") return r.string_list(ev.source_ips);
        if (k == "userAgent") return r.opt_string(ev.user_agent);
        if (k == "timestamp") return r.opt_string(timestamp);
        break;
      case 10:
        if (k == "requestURI") return r.opt_string(ev.request_uri);
        if (k == "apiVersion") return r.opt_string(ev.api_version);
        break;
      case 11:
        if (k == "annotations") {
          return r.object([&](std::string_view a) {
            if (a == "authorization.k8s.io/decision") return r.opt_string(ev.decision);
            if (a == "authorization.k8s.io/reason") return r.opt_string(ev.reason);
            return r.skip();
          });
        }
        break;
      case 13:
        if (k == "requestObject") return r.raw(ev.request_object);
        break;
      case 14:
        if (k == "responseStatus") {
          return r.object([&](std::string_view f) {
            if (f == "code") return r.integer(ev.code);
            return r.skip();
          });
        }
        if (k == "responseObject") return r.raw(ev.response_object);
        if (k == "stageTimestamp") return r.opt_string(ev.stage_time);
        break;
      case 16:
        if (k == "impersonatedUser") return parse_user(r, ev.impersonated_user, nullptr);
        break;
      case 24:
        if (k == "requestReceivedTimestamp") return r.opt_string(ev.received);
        break;
      default:
        break;
    }
    return r.skip();
  });
  if (!ok) return false;
  if (ev.received.empty()) ev.received = timestamp;
  if (kind == "EventList" || (kind.empty() && is_list_item_holder)) {
    error.offset = static_cast<std::size_t>(p - base_);
    error.message = "EventList";  // the caller reads `items`
    ev.request_object = items;    // carried to the caller
    return true;
  }
  if (!kind.empty() && kind != "Event") {
    error.offset = 0;
    error.message = "not an audit event (kind " + std::string(kind) + ")";
    return false;
  }
  if (!ev.api_version.empty() && ev.api_version != "audit.k8s.io/v1" && ev.api_version != "audit.k8s.io/v1beta1") {
    error.offset = 0;
    error.message = "unsupported apiVersion " + std::string(ev.api_version) + " (audit.k8s.io/v1 or v1beta1)";
    return false;
  }
  if (ev.stage.empty() && ev.audit_id.empty() && ev.verb.empty()) {
    error.offset = 0;
    error.message = "not an audit event (no auditID, stage or verb)";
    return false;
  }
  std::int64_t t = parse_time_us(ev.stage_time);
  if (t < 0) t = parse_time_us(ev.received);
  ev.time_us = t < 0 ? 0 : t;
  return true;
}

bool EventParser::parse_value(std::string_view json, const Sink& sink, ParseError& error) {
  scratch_.clear();
  if (scratch_.capacity() < json.size()) scratch_.reserve(json.size() + 64);
  base_ = json.data();
  const char* p = json.data();
  const char* end = p + json.size();
  event_.clear();
  error = {};
  if (!parse_event(p, end, event_, error)) return false;
  skip_ws(p, end);
  if (p != end) {
    error.offset = static_cast<std::size_t>(p - base_);
    error.message = "trailing text after the JSON value";
    return false;
  }
  if (error.message != "EventList") {
    sink(event_);
    return true;
  }
  // An EventList: each item is an event.
  const std::string_view items = event_.request_object;
  error = {};
  if (items.empty()) return true;
  const char* q = items.data();
  const char* qend = q + items.size();
  Reader r(q, qend, scratch_, base_, error);
  return r.array([&] {
    event_.clear();
    ParseError item_error;
    if (!parse_event(q, qend, event_, item_error) || item_error.message == "EventList") {
      error = item_error;
      if (error.message == "EventList") error.message = "an EventList inside an EventList";
      if (error.offset == 0) error.offset = static_cast<std::size_t>(q - base_);
      return false;
    }
    sink(event_);
    return true;
  });
}

std::size_t EventParser::value_end(std::string_view text) {
  const char* p = text.data();
  const char* end = p + text.size();
  if (!skip_value(p, end)) return std::string_view::npos;
  return static_cast<std::size_t>(p - text.data());
}

namespace {

bool digits(std::string_view s, std::size_t at, std::size_t n, int& out) {
  if (at + n > s.size()) return false;
  out = 0;
  for (std::size_t i = at; i < at + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

std::int64_t days_from_civil(int y, int m, int d) {
  y -= m <= 2;
  const int era = (y >= 0 ? y : y - 399) / 400;
  const int yoe = y - era * 400;
  const int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return static_cast<std::int64_t>(era) * 146097 + doe - 719468;
}

}  // namespace

std::int64_t parse_time_us(std::string_view s) {
  int y, mo, d, h, mi, sec;
  if (s.size() < 20 || !digits(s, 0, 4, y) || s[4] != '-' || !digits(s, 5, 2, mo) || s[7] != '-' ||
      !digits(s, 8, 2, d) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || !digits(s, 11, 2, h) ||
      s[13] != ':' || !digits(s, 14, 2, mi) || s[16] != ':' || !digits(s, 17, 2, sec))
    return -1;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) return -1;
  std::size_t i = 19;
  std::int64_t frac = 0;
  if (i < s.size() && s[i] == '.') {
    ++i;
    int n = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      if (n < 6) {
        frac = frac * 10 + (s[i] - '0');
        ++n;
      }
      ++i;
    }
    if (n == 0) return -1;
    for (; n < 6; ++n) frac *= 10;
  }
  std::int64_t offset_s = 0;
  if (i < s.size() && (s[i] == 'Z' || s[i] == 'z')) {
    ++i;
  } else if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    int oh, om;
    if (!digits(s, i + 1, 2, oh) || i + 3 >= s.size() || s[i + 3] != ':' || !digits(s, i + 4, 2, om)) return -1;
    offset_s = (oh * 3600 + om * 60) * (s[i] == '+' ? 1 : -1);
    i += 6;
  } else {
    return -1;
  }
  if (i != s.size()) return -1;
  const std::int64_t secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - offset_s;
  return secs * 1'000'000 + frac;
}

std::string format_time_us(std::int64_t us) {
  if (us <= 0) return {};
  std::int64_t secs = us / 1'000'000;
  const std::int64_t frac = us % 1'000'000;
  std::int64_t days = secs / 86400;
  std::int64_t rem = secs % 86400;
  // civil_from_days
  days += 719468;
  const std::int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const std::int64_t doe = days - era * 146097;
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  std::int64_t y = yoe + era * 400;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  const std::int64_t d = doy - (153 * mp + 2) / 5 + 1;
  const std::int64_t m = mp + (mp < 10 ? 3 : -9);
  y += m <= 2;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04lld-%02lld-%02lldT%02lld:%02lld:%02lld.%06lldZ", static_cast<long long>(y),
                static_cast<long long>(m), static_cast<long long>(d), static_cast<long long>(rem / 3600),
                static_cast<long long>(rem % 3600 / 60), static_cast<long long>(rem % 60),
                static_cast<long long>(frac));
  return buf;
}

std::size_t split_values(std::string_view text, std::uint64_t first_line, bool final,
                         const std::function<void(std::string_view, std::uint64_t)>& on_value,
                         const std::function<void(std::uint64_t, const std::string&)>& on_error,
                         std::uint64_t* lines_consumed) {
  std::size_t pos = 0;
  std::uint64_t line = first_line;
  auto count_lines = [](std::string_view s) {
    std::uint64_t n = 0;
    for (const char c : s) n += (c == '\n');
    return n;
  };
  while (pos < text.size()) {
    const std::size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos && !final) break;
    const std::size_t line_end = nl == std::string_view::npos ? text.size() : nl;
    std::string_view l = text.substr(pos, line_end - pos);
    std::size_t a = 0;
    while (a < l.size() && (l[a] == ' ' || l[a] == '\t' || l[a] == '\r')) ++a;
    std::size_t b = l.size();
    while (b > a && (l[b - 1] == ' ' || l[b - 1] == '\t' || l[b - 1] == '\r')) --b;
    const std::string_view trimmed = l.substr(a, b - a);
    if (trimmed.empty()) {
      pos = line_end + 1;
      ++line;
      continue;
    }
    if (trimmed == "{" || trimmed == "[") {
      // A pretty-printed value: it runs until it closes.
      const std::string_view rest = text.substr(pos + a);
      const std::size_t e = EventParser::value_end(rest);
      if (e == std::string_view::npos) {
        if (!final) break;
        on_error(line, "JSON value opened here never closes");
        pos = text.size();
        break;
      }
      const std::string_view value = rest.substr(0, e);
      std::size_t after = pos + a + e;
      // The rest of the closing line must be blank.
      const std::size_t close_nl = text.find('\n', after);
      if (close_nl == std::string_view::npos && !final) break;  // the closing line is not complete yet
      on_value(value, line);
      const std::size_t stop = close_nl == std::string_view::npos ? text.size() : close_nl;
      const std::string_view tail = text.substr(after, stop - after);
      line += count_lines(value);
      if (tail.find_first_not_of(" \t\r") != std::string_view::npos)
        on_error(line, "text after the JSON value on its closing line");
      pos = stop + 1;
      ++line;
      continue;
    }
    if (trimmed.front() == '[') {
      on_error(line, "a JSON array is not an audit event (expected an Event or EventList object)");
    } else {
      on_value(trimmed, line);
    }
    pos = line_end + 1;
    ++line;
  }
  if (pos > text.size()) pos = text.size();
  if (lines_consumed) *lines_consumed = line - first_line;
  return pos;
}

}  // namespace kg::audit

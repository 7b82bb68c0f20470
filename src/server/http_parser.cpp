#include "core/ascii.hpp"
#include "server/http_parser.hpp"

#include <algorithm>
#include <charconv>

namespace kg::server {
namespace {

bool is_token_char(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
    case '-': case '.': case '^': case '_': case '`': case '|': case '~':
      return true;
    default:
      return false;
  }
}

bool is_token(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), is_token_char);
}

// Visible ASCII, space, tab and obs-text; no control characters.
bool is_field_value(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char ch) {
    const auto c = static_cast<unsigned char>(ch);
    return c == '\t' || c >= 0x20 ? c != 0x7f : false;
  });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           auto l = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
           return l(x) == l(y);
         });
}

// True when the comma-separated header value lists `token` (Connection: keep-alive, Upgrade).
bool lists_token(std::string_view value, std::string_view token) {
  while (!value.empty()) {
    auto comma = value.find(',');
    if (iequals(trim(value.substr(0, comma)), token)) return true;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return false;
}

ParseResult error(int status, std::string message) {
  return {ParseStatus::Error, status, std::move(message)};
}

}  // namespace

std::string_view HttpRequest::header(std::string_view lower_name) const {
  for (const auto& [k, v] : headers)
    if (k == lower_name) return v;
  return {};
}

std::string_view HttpRequest::query_param(std::string_view name) const {
  std::string_view q = query;
  while (!q.empty()) {
    auto amp = q.find('&');
    std::string_view pair = q.substr(0, amp);
    auto eq = pair.find('=');
    if (pair.substr(0, eq) == name) return eq == std::string_view::npos ? "" : pair.substr(eq + 1);
    if (amp == std::string_view::npos) break;
    q.remove_prefix(amp + 1);
  }
  return {};
}

ParseResult parse_request_head(std::string_view buffer, std::size_t& scanned,
                               const HttpLimits& limits, HttpRequest& req) {
  // Find the blank line ending the head, resuming where the last call stopped.
  const std::size_t from = scanned >= 3 ? scanned - 3 : 0;
  const std::size_t end = buffer.find("\r\n\r\n", from);
  if (end == std::string_view::npos) {
    scanned = buffer.size();
    if (buffer.size() > limits.max_head)
      return error(431, "request head larger than " + std::to_string(limits.max_head) + " bytes");
    // A request line must start with a method token; reject garbage early.
    for (char c : buffer.substr(0, std::min<std::size_t>(buffer.size(), 16))) {
      if (c == ' ') break;
      if (!is_token_char(c)) return error(400, "malformed request line: not an HTTP request");
    }
    return {};
  }
  if (end + 4 > limits.max_head)
    return error(431, "request head larger than " + std::to_string(limits.max_head) + " bytes");
  req = HttpRequest{};
  req.head_size = end + 4;
  std::string_view head = buffer.substr(0, end);

  // Request line: METHOD SP request-target SP HTTP/1.x
  auto eol = head.find("\r\n");
  std::string_view line = head.substr(0, eol);
  head = eol == std::string_view::npos ? std::string_view{} : head.substr(eol + 2);
  auto sp1 = line.find(' ');
  auto sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp1 == std::string_view::npos || sp2 == std::string_view::npos ||
      line.find(' ', sp2 + 1) != std::string_view::npos)
    return error(400, "malformed request line: want METHOD TARGET HTTP/1.1");
  std::string_view method = line.substr(0, sp1);
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string_view version = line.substr(sp2 + 1);
  if (!is_token(method)) return error(400, "malformed request line: bad method");
  if (target.empty() || target.front() != '/' || !is_field_value(target) ||
      target.find_first_of(" \t") != std::string_view::npos)
    return error(400, "malformed request line: the target must be an absolute path");
  if (version.size() != 8 || version.substr(0, 7) != "HTTP/1." ||
      (version[7] != '0' && version[7] != '1'))
    return error(505, "only HTTP/1.0 and HTTP/1.1 are supported");
  req.method = std::string(method);
  req.target = std::string(target);
  auto qm = target.find('?');
  req.path = std::string(target.substr(0, qm));
  if (qm != std::string_view::npos) req.query = std::string(target.substr(qm + 1));
  req.minor_version = version[7] - '0';

  // Headers.
  bool have_length = false;
  bool close = false;
  bool keep_alive_token = false;
  while (!head.empty()) {
    eol = head.find("\r\n");
    line = head.substr(0, eol);
    head = eol == std::string_view::npos ? std::string_view{} : head.substr(eol + 2);
    if (line.empty()) return error(400, "malformed header: empty line inside the head");
    if (line.front() == ' ' || line.front() == '\t')
      return error(400, "malformed header: folded header lines are not allowed");
    auto colon = line.find(':');
    if (colon == std::string_view::npos) return error(400, "malformed header: no ':' in a header line");
    std::string_view name = line.substr(0, colon);
    std::string_view value = trim(line.substr(colon + 1));
    if (!is_token(name)) return error(400, "malformed header: bad header name");
    if (!is_field_value(value)) return error(400, "malformed header: control characters in a value");
    if (req.headers.size() >= limits.max_headers)
      return error(431, "more than " + std::to_string(limits.max_headers) + " headers");
    std::string key = ascii_lower(name);
    if (key == "content-length") {
      std::size_t n = 0;
      auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (value.empty() || ec != std::errc{} || p != value.data() + value.size())
        return error(400, "malformed Content-Length");
      if (have_length && n != req.content_length) return error(400, "conflicting Content-Length headers");
      have_length = true;
      req.content_length = n;
    } else if (key == "transfer-encoding") {
      return error(501, "Transfer-Encoding is not supported; send the body with Content-Length");
    } else if (key == "connection") {
      close |= lists_token(value, "close");
      keep_alive_token |= lists_token(value, "keep-alive");
    } else if (key == "expect") {
      if (!iequals(value, "100-continue")) return error(417, "only Expect: 100-continue is supported");
      req.expect_continue = true;
    }
    req.headers.emplace_back(std::move(key), std::string(value));
  }
  if (req.minor_version == 1 && req.header("host").empty())
    return error(400, "HTTP/1.1 request without a Host header");
  req.keep_alive = req.minor_version == 1 ? !close : keep_alive_token && !close;
  if (req.content_length > limits.max_body) {
    return error(413, "request body of " + std::to_string(req.content_length) +
                          " bytes is larger than the limit of " + std::to_string(limits.max_body));
  }
  return {ParseStatus::Done, 0, {}};
}

std::string_view status_text(int status) {
  switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 417: return "Expectation Failed";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
  }
}

}  // namespace kg::server

// An HTTP/1.1 request parser for the webhook: request line, headers and a
// Content-Length body, strictly (no obs-fold, no Transfer-Encoding, one
// Content-Length), because every byte comes from the network. It is
// incremental: the connection keeps appending bytes to its buffer and asks
// again; nothing is copied until a whole request head is there.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kg::server {

struct HttpLimits {
  std::size_t max_head = std::size_t{16} * 1024;          // request line + headers
  std::size_t max_headers = 100;
  std::size_t max_body = std::size_t{3} * 1024 * 1024;    // 3 MiB, the API server's own request limit
};

struct HttpRequest {
  std::string method;
  std::string target;  // as sent: /validate?timeout=10s
  std::string path;    // /validate
  std::string query;   // timeout=10s
  int minor_version = 1;  // HTTP/1.<minor>
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::size_t head_size = 0;       // bytes of request line + headers + blank line
  std::size_t content_length = 0;
  bool keep_alive = true;
  bool expect_continue = false;

  std::string_view header(std::string_view lower_name) const;
  // Value of `name` in the query string ("" when absent); no percent-decoding
  // is needed for the parameters the webhook reads.
  std::string_view query_param(std::string_view name) const;
};

enum class ParseStatus { NeedMore, Done, Error };

struct ParseResult {
  ParseStatus status = ParseStatus::NeedMore;
  int error_status = 0;  // 400, 413, 414, 431, 501, 505 when status == Error
  std::string error;     // a clear message for the client
};

// Parses the head of the request at the start of `buffer`. `scanned` is how
// far a previous call looked for the blank line (so a slowly dripping client
// costs linear time); pass 0 for a new request. On Done, `req` holds the head
// and req.head_size + req.content_length bytes make up the whole request.
ParseResult parse_request_head(std::string_view buffer, std::size_t& scanned,
                               const HttpLimits& limits, HttpRequest& req);

std::string_view status_text(int status);

}  // namespace kg::server

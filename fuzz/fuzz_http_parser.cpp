// libFuzzer target for the webhook's HTTP/1.1 request parser: the bytes are
// fed whole and in dripping pieces (split points taken from the input), and
// both must agree; a parsed head must be consistent with the buffer.
#include <cstddef>
#include <cstdint>
#include <string>

#include "server/http_parser.hpp"

namespace {

kg::server::ParseResult parse_all(const std::string& data, std::size_t step, kg::server::HttpRequest& req) {
  kg::server::HttpLimits limits;
  limits.max_head = 4096;
  limits.max_body = 1 << 16;
  std::size_t scanned = 0;
  std::string buffer;
  kg::server::ParseResult r;
  for (std::size_t off = 0; off < data.size();) {
    const std::size_t n = std::min(step, data.size() - off);
    buffer.append(data, off, n);
    off += n;
    r = kg::server::parse_request_head(buffer, scanned, limits, req);
    if (r.status != kg::server::ParseStatus::NeedMore) return r;
  }
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  kg::server::HttpRequest whole, dripped;
  const auto a = parse_all(input, input.size() + 1, whole);
  const auto b = parse_all(input, 1 + (size ? data[0] % 7 : 0), dripped);
  if (a.status == kg::server::ParseStatus::Done) {
    if (whole.head_size > input.size() || whole.path.empty() || whole.path[0] != '/') __builtin_trap();
    if (whole.content_length > (1u << 16)) __builtin_trap();
    (void)whole.query_param("timeout");
  }
  if (a.status == kg::server::ParseStatus::Error && a.error.empty()) __builtin_trap();
  // Dripping may stop early at an error the whole buffer also has, or at the
  // same Done; it never finds a different request.
  if (a.status == kg::server::ParseStatus::Done && b.status == kg::server::ParseStatus::Done &&
      whole.head_size != dripped.head_size)
    __builtin_trap();
  return 0;
}

// A small gRPC server over cleartext HTTP/2 (h2c) on a UNIX socket, built on libnghttp2: what
// `kguard kms serve` speaks to kube-apiserver, without gRPC's and protobuf's libraries.
//
// Unary calls only. A request is HEADERS (POST, content-type application/grpc[+proto]) + DATA
// holding one message behind gRPC's 5-byte prefix (compressed flag 0, 4-byte big-endian length);
// the answer is HEADERS (:status 200, content-type application/grpc) + DATA (one message) +
// trailers (grpc-status, grpc-message percent-encoded), or, on error, one HEADERS frame with the
// status ("Trailers-Only"). A compressed message is UNIMPLEMENTED, a message above the limit
// RESOURCE_EXHAUSTED, a missing, truncated or second message INTERNAL; another :method 405 and
// another content-type 415 (HTTP status, as the gRPC spec says). Framing, HPACK, flow control and
// HTTP/2's own checks are nghttp2's; a protocol error ends the connection with GOAWAY.
//
// GrpcSession is one connection's protocol without the socket (the fuzz target drives it);
// GrpcUnixServer accepts connections (a thread each, at most `max_connections`), hands complete
// calls to a pool of worker threads and writes their answers back, so calls of one connection run
// concurrently as they did under grpc++'s synchronous server.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engines/kms/wire.hpp"

namespace kg::kms {

struct GrpcLimits {
  std::size_t max_message = 64 * 1024;        // a request message (the limit grpc++ was given)
  std::uint32_t max_streams = 100;            // concurrent streams per connection (SETTINGS)
  std::size_t max_header_bytes = 16 * 1024;   // a request's header list (SETTINGS; RST above)
  std::size_t max_buffered = 1024 * 1024;     // request bytes held per connection
  std::size_t max_connections = 64;           // connections served at once; more are closed
};

// Percent-encodes a grpc-message value (bytes outside 0x20..0x7e, and '%').
std::string grpc_percent_encode(std::string_view s);

class GrpcSession {
 public:
  struct Call {
    std::int32_t stream = 0;
    std::string path;     // :path, /package.Service/Method
    std::string message;  // the request message, unframed
  };
  explicit GrpcSession(const GrpcLimits& limits);
  ~GrpcSession();
  GrpcSession(const GrpcSession&) = delete;
  GrpcSession& operator=(const GrpcSession&) = delete;

  // Bytes from the peer. False when the connection must end (a protocol error; the GOAWAY, if
  // any, is in take_output()).
  bool feed(std::string_view in);
  // The calls complete since the last take; answer each with respond() (in any order, any time).
  std::vector<Call> take_calls();
  // The answer to a call: `message` (serialized) when st.ok(). Ignored when the stream is gone.
  void respond(std::int32_t stream, const RpcStatus& st, std::string_view message);
  // Bytes to send to the peer.
  std::string take_output();
  // False once both sides are done (after a GOAWAY with nothing left in flight).
  bool wants_io() const;
  // Graceful shutdown: GOAWAY; streams already open still get their answers.
  void goaway();
  // Calls taken and not yet answered whose streams are still open.
  std::size_t pending() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A call's handler: the :path and the request message; the response message, st set.
using GrpcHandler = std::function<std::string(std::string_view path, std::string_view message, RpcStatus& st)>;

class GrpcUnixServer {
 public:
  // Listens on the UNIX socket `path` (created mode 0600; an existing file there is the caller's
  // business) and serves `handler` on `workers` threads. KmsError when it cannot listen.
  GrpcUnixServer(const std::string& path, GrpcHandler handler, unsigned workers, GrpcLimits limits = {});
  // stop(5 s) if not stopped.
  ~GrpcUnixServer();
  GrpcUnixServer(const GrpcUnixServer&) = delete;
  GrpcUnixServer& operator=(const GrpcUnixServer&) = delete;
  // Stops accepting, sends GOAWAY on every connection, lets calls in flight finish within `grace`,
  // then closes everything and joins the threads.
  void stop(std::chrono::milliseconds grace);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kg::kms

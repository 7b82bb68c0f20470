// One client connection, owning its socket and its TLS object: whatever path
// ends a connection (error, timeout, drain, server stop), destroying the
// Connection frees both, and gives back its share of the body budget.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "server/http_handler.hpp"
#include "server/limits.hpp"

typedef struct ssl_st SSL;

namespace kg::server {

// A file descriptor closed on destruction.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& o) noexcept : fd_(o.release()) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept {
    if (this != &o) reset(o.release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }
  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void reset(int fd = -1);

 private:
  int fd_ = -1;
};

struct SslFree {
  void operator()(SSL* ssl) const;
};
using SslPtr = std::unique_ptr<SSL, SslFree>;

struct Connection {
  Connection(UniqueFd socket, SslPtr tls) : fd(std::move(socket)), ssl(std::move(tls)) {}
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Best-effort close_notify (never waits); only after a good handshake and
  // no fatal TLS error.
  void send_close_notify();

  // Declared first: destroyed after the SSL object that refers to it.
  UniqueFd fd;
  SslPtr ssl;
  bool handshaking = true;
  bool tls_failed = false;  // after a fatal TLS error no close_notify may be sent
  bool over_limit = false;  // over --max-connections: its first request gets 503
  std::string in;
  std::size_t scanned = 0;
  bool have_head = false;
  bool request_started = false;
  bool continue_sent = false;
  bool http10 = false;        // answering an HTTP/1.0 keep-alive request
  bool head_request = false;  // answering HEAD
  HttpRequest req;
  BodyReservation body_budget;  // share of max_body_bytes_in_flight held by this request
  Clock::time_point request_start;
  std::string out;
  std::size_t out_off = 0;
  bool close_after_write = false;
  // After an error answer to a request whose bytes may still be arriving
  // (413, 400), read and drop input for a while before closing, so the
  // kernel does not reset the connection before the client reads the answer.
  bool linger_on_close = false;
  bool lingering = false;
  Clock::time_point deadline;
  std::uint32_t interest = 0;
};

}  // namespace kg::server

// What one server may spend: connections, request body bytes being received
// at once (all connections together), and how long each phase of a request
// may take. A request over a limit is answered (413, 408, 503 with
// Retry-After), never left hanging.
#pragma once

#include <atomic>
#include <cstddef>

#include "server/http_parser.hpp"

namespace kg::server {

struct ServerLimits {
  // Open connections at most; beyond it a few more (max_connections / 16,
  // at least 16) are answered 503 with Retry-After, the rest closed at accept.
  std::size_t max_connections = 10000;
  // Request bodies being received at once, all connections together; a
  // request that would go over is answered 503 (memory stays bounded even
  // when many clients send 3 MiB bodies slowly).
  std::size_t max_body_bytes_in_flight = 256u << 20;
  int header_timeout_ms = 10'000;  // TLS handshake, and first byte to complete request head
  int body_timeout_ms = 30'000;    // complete head to complete body
  int idle_timeout_ms = 120'000;   // keep-alive connection with no request under way
  HttpLimits http;                 // head size, header count, body size
  std::size_t overflow_connections() const {
    return max_connections / 16 > 16 ? max_connections / 16 : 16;
  }
};

// The shared budget of body bytes in flight.
class BodyBudget {
 public:
  explicit BodyBudget(std::size_t max) : max_(max) {}
  bool try_reserve(std::size_t n) {
    if (in_flight_.fetch_add(n) + n > max_) {
      in_flight_.fetch_sub(n);
      return false;
    }
    return true;
  }
  void release(std::size_t n) { in_flight_.fetch_sub(n); }

 private:
  const std::size_t max_;
  std::atomic<std::size_t> in_flight_{0};
};

// A share of the budget held by one request; given back when the request is
// complete or its connection goes, whichever comes first.
class BodyReservation {
 public:
  BodyReservation() = default;
  BodyReservation(const BodyReservation&) = delete;
  BodyReservation& operator=(const BodyReservation&) = delete;
  ~BodyReservation() { reset(); }
  bool reserve(BodyBudget& budget, std::size_t n) {
    reset();
    if (!budget.try_reserve(n)) return false;
    budget_ = &budget;
    bytes_ = n;
    return true;
  }
  void reset() {
    if (budget_) budget_->release(bytes_);
    budget_ = nullptr;
    bytes_ = 0;
  }

 private:
  BodyBudget* budget_ = nullptr;
  std::size_t bytes_ = 0;
};

}  // namespace kg::server

// The event loop: a few worker threads, each with its own epoll set, share
// the listening socket (EPOLLEXCLUSIVE) and run every connection
// non-blocking to completion, so idle or slow connections cost a file
// descriptor and a few kilobytes, never a thread. A handler runs inline on
// the worker; concurrency is bounded by the worker count and the limits.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

#include "server/connection.hpp"
#include "server/http_handler.hpp"
#include "server/limits.hpp"
#include "server/metrics.hpp"
#include "server/tls_context.hpp"

namespace kg::server {

// What the workers share with the main thread.
struct ServerState {
  ServerState(const ServerLimits& l, TlsContext& t, Metrics& m, HttpHandler& h)
      : limits(l), tls(t), metrics(m), handler(h), body_budget(l.max_body_bytes_in_flight) {}
  const ServerLimits& limits;
  TlsContext& tls;
  Metrics& metrics;
  HttpHandler& handler;  // the server's own routes, then the application's
  BodyBudget body_budget;
  std::atomic<bool> draining{false};  // stop accepting, finish and close
  std::atomic<Clock::rep> drain_deadline{0};
  std::atomic<std::int64_t> connections{0};  // within max_connections
  std::atomic<std::int64_t> overflow{0};     // over it, being answered 503
  std::atomic<bool> failed{false};           // a worker stopped on an error
};

class Worker {
 public:
  // nullptr with `error` when the epoll set or the wake-up eventfd cannot be made.
  static std::unique_ptr<Worker> create(ServerState& state, int listen_fd, std::string& error);
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;
  ~Worker();
  // Serves until the drain is complete (or its deadline passes).
  void run();
  // Makes run() look at the drain flag now.
  void wake();

 private:
  Worker(ServerState& state, int listen_fd) : state_(state), listen_fd_(listen_fd) {}
  bool watch_listener();
  void accept_all();
  void on_event(Connection* c, std::uint32_t events);
  void read_and_process(Connection* c);
  void process(Connection* c);
  void handle(Connection* c, std::string_view body);
  void respond(Connection* c, const Response& r, bool close);
  void flush(Connection* c);
  void set_interest(Connection* c, std::uint32_t events);
  void close_connection(Connection* c);
  void sweep(Clock::time_point now);

  ServerState& state_;
  int listen_fd_;
  UniqueFd epoll_fd_;
  UniqueFd wake_fd_;
  bool listening_ = false;
  Clock::time_point listen_paused_until_{};  // after EMFILE
  std::unordered_map<Connection*, std::unique_ptr<Connection>> connections_;
  char listen_tag_ = 0;
  char wake_tag_ = 0;
};

}  // namespace kg::server

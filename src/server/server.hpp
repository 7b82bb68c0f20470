// The HTTPS server core every kguard server is built on: TLS 1.2+ with
// certificate reload (tls_context), the epoll event loop (event_loop),
// connections as owning objects (connection), limits, the strict HTTP/1.1
// parser, /healthz, /readyz and /metrics, and the lifecycle: the main thread
// reads signals (SIGHUP reload, SIGTERM/SIGINT drain), watches the
// certificate, key and the handler's files for changes, and ticks the
// handler. What a request means is the HttpHandler's business; nothing here
// knows an engine.
//
//   MyHandler handler;                       // implements HttpHandler
//   server::Metrics metrics;
//   server::Server server(options, handler, metrics);
//   return server.run();                      // until drained
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "server/http_handler.hpp"
#include "server/limits.hpp"
#include "server/metrics.hpp"

namespace kg::server {

struct ServerOptions {
  std::string listen = "0.0.0.0:8443";  // ADDR:PORT, [v6]:PORT; port 0 = any free port
  std::string cert_file;
  std::string key_file;
  std::string client_ca_file;  // set: clients must present a certificate issued by one of these CAs
  unsigned workers = 2;
  ServerLimits limits;
  int drain_delay_ms = 0;          // after SIGTERM: keep serving (readyz 503) this long
  int drain_timeout_ms = 30'000;   // then finish in-flight requests within this
  int watch_interval_ms = 1000;    // how often cert, key and the handler's files are checked
  // At most two extra fields of the "listening" log line (what the handler serves).
  std::vector<std::pair<std::string, std::string>> describe;
};

class Server {
 public:
  Server(ServerOptions options, HttpHandler& handler, Metrics& metrics)
      : options_(std::move(options)), handler_(handler), metrics_(metrics) {}
  // Serves until SIGTERM/SIGINT has drained it: 0; 2 when it cannot start
  // (certificate, key, listener, epoll); 1 when the event loop failed.
  // Blocks SIGHUP, SIGTERM and SIGINT in the calling thread (threads started
  // later inherit the mask) and reads them from a signalfd.
  int run();
  // Blocks SIGHUP, SIGTERM and SIGINT in the calling thread and ignores
  // SIGPIPE. Call it before starting any thread of one's own (a watch), so
  // that no thread but run()'s main loop can receive them.
  static bool block_signals();

 private:
  ServerOptions options_;
  HttpHandler& handler_;
  Metrics& metrics_;
};

// Parses a Go-style duration ("10s", "500ms", "1m", "2.5s", "1us"; a bare
// number is seconds) into milliseconds (fractional below 1 ms); -1 when
// invalid. Used for ?timeout= and the flags.
double parse_duration_ms(std::string_view s);

}  // namespace kg::server

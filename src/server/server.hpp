// The admission webhook's HTTPS server: TLS 1.2+ (OpenSSL), HTTP/1.1 with
// keep-alive, /validate (AdmissionReview v1), /healthz, /readyz, /metrics.
//
// Event-driven: a few worker threads, each with its own epoll set, share the
// listening socket (EPOLLEXCLUSIVE) and run every connection non-blocking to
// completion, so idle or slow connections cost a file descriptor and a few
// kilobytes, never a thread. A review takes microseconds, so it runs inline
// on the worker; concurrency is bounded by the worker count and
// --max-connections. The main thread handles signals (SIGHUP reload, SIGTERM
// drain), watches the certificate, key and config files for changes, and
// flushes the audit log.
#pragma once

#include <cstddef>
#include <string>

#include "server/http_parser.hpp"

namespace kg::server {

struct ServerOptions {
  std::string listen = "0.0.0.0:8443";  // ADDR:PORT, [v6]:PORT; port 0 = any free port
  std::string cert_file;
  std::string key_file;
  std::string config_file;   // empty: no config (PSA defaults: privileged everywhere)
  std::string audit_log = "-";  // JSON lines; "-" = stdout, "" = none
  unsigned workers = 2;
  std::size_t max_connections = 10000;
  // Request bodies being received at once, all connections together; a
  // request that would go over is answered 503 (memory stays bounded even
  // when many clients send 3 MiB bodies slowly).
  std::size_t max_body_bytes_in_flight = 256u << 20;
  int header_timeout_ms = 10'000;  // TLS handshake, and first byte to complete request head
  int body_timeout_ms = 30'000;    // complete head to complete body
  int idle_timeout_ms = 120'000;   // keep-alive connection with no request under way
  int drain_delay_ms = 0;          // after SIGTERM: keep serving (readyz 503) this long
  int drain_timeout_ms = 30'000;   // then finish in-flight requests within this
  int watch_interval_ms = 1000;    // how often cert, key and config are checked for changes
  // Where namespace labels come from: the config file, or a watch of
  // Namespace objects through the API server (kubeconfig or in-cluster).
  bool namespaces_from_api = false;
  std::string kubeconfig;  // empty: $KUBECONFIG, ~/.kube/config, else in-cluster
  std::string context;
  int resync_seconds = 300;
  HttpLimits limits;
};

// Runs until SIGTERM/SIGINT has drained the server; returns the exit code
// (2 when the certificate, key or config cannot be loaded at start).
int run_admission_server(const ServerOptions& options);

// Parses a Go-style duration ("10s", "500ms", "1m", "2.5s", "1us"; a bare
// number is seconds) into milliseconds (fractional below 1 ms); -1 when
// invalid. Used for ?timeout= and the flags.
double parse_duration_ms(std::string_view s);

}  // namespace kg::server

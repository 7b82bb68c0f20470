// The server core's Prometheus metrics (text exposition format 0.0.4):
// responses by status, connections, TLS handshake errors, reloads, the
// certificate's expiry. A handler adds its own through
// HttpHandler::render_metrics, with the helpers below for label values and
// numbers.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

namespace kg::server {

class Metrics {
 public:
  void record_http(int status);
  void record_reload(std::string_view what, bool ok);
  void set_certificate_expiry(double unix_seconds) { cert_expiry_.store(unix_seconds); }
  void connection_opened() { open_connections_.fetch_add(1); }
  void connection_closed() { open_connections_.fetch_sub(1); }
  void connection_rejected() { rejected_connections_.fetch_add(1); }
  void tls_handshake_failed() { tls_errors_.fetch_add(1); }
  std::int64_t open_connections() const { return open_connections_.load(); }
  // Appends the server's metrics to `out`.
  void render(std::string& out) const;

 private:
  mutable std::mutex mu_;
  std::map<int, std::uint64_t> http_;
  std::map<std::pair<std::string, bool>, std::uint64_t> reloads_;
  std::atomic<double> cert_expiry_{0};
  std::atomic<std::int64_t> open_connections_{0};
  std::atomic<std::uint64_t> rejected_connections_{0};
  std::atomic<std::uint64_t> tls_errors_{0};
};

// A Prometheus label value: backslash, quote and newline escaped.
std::string prometheus_label(std::string_view v);
// A sample value ("%.9g").
std::string prometheus_number(double d);

}  // namespace kg::server

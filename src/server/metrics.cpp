#include "server/metrics.hpp"

#include <cstdio>

namespace kg::server {

std::string prometheus_label(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string prometheus_number(double d) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9g", d);
  return buf;
}

void Metrics::record_http(int status) {
  std::lock_guard lock(mu_);
  ++http_[status];
}

void Metrics::record_reload(std::string_view what, bool ok) {
  std::lock_guard lock(mu_);
  ++reloads_[{std::string(what), ok}];
}

void Metrics::render(std::string& out) const {
  std::lock_guard lock(mu_);
  out += "# HELP kguard_http_responses_total HTTP responses by status code.\n"
         "# TYPE kguard_http_responses_total counter\n";
  for (const auto& [code, n] : http_)
    out += "kguard_http_responses_total{code=\"" + std::to_string(code) + "\"} " + std::to_string(n) + "\n";
  out += "# HELP kguard_reloads_total Certificate and configuration reloads by result.\n"
         "# TYPE kguard_reloads_total counter\n";
  for (const auto& [key, n] : reloads_) {
    out += "kguard_reloads_total{what=\"" + prometheus_label(key.first) + "\",result=\"" +
           (key.second ? "success" : "failure") + "\"} " + std::to_string(n) + "\n";
  }
  out += "# HELP kguard_connections_open Open client connections.\n"
         "# TYPE kguard_connections_open gauge\n"
         "kguard_connections_open " + std::to_string(open_connections_.load()) + "\n";
  out += "# HELP kguard_connections_rejected_total Connections over --max-connections: answered 503 or closed at accept.\n"
         "# TYPE kguard_connections_rejected_total counter\n"
         "kguard_connections_rejected_total " + std::to_string(rejected_connections_.load()) + "\n";
  out += "# HELP kguard_tls_handshake_errors_total TLS handshakes that failed or timed out.\n"
         "# TYPE kguard_tls_handshake_errors_total counter\n"
         "kguard_tls_handshake_errors_total " + std::to_string(tls_errors_.load()) + "\n";
  out += "# HELP kguard_certificate_expiry_timestamp_seconds notAfter of the serving certificate.\n"
         "# TYPE kguard_certificate_expiry_timestamp_seconds gauge\n"
         "kguard_certificate_expiry_timestamp_seconds " + prometheus_number(cert_expiry_.load()) + "\n";
}

}  // namespace kg::server

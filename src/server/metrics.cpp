#include "server/metrics.hpp"

#include <cstdio>

namespace kg::server {
namespace {

// Prometheus label values escape backslash, quote and newline.
std::string label_value(std::string_view v) {
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

std::string number(double d) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9g", d);
  return buf;
}

}  // namespace

void Metrics::record_review(const admit::ReviewSummary& s, double seconds) {
  std::lock_guard lock(mu_);
  std::string ns = s.ns;
  if (!namespaces_seen_.count(ns)) {
    if (namespaces_seen_.size() >= kMaxNamespaces) ns = "_other";
    else namespaces_seen_.emplace(ns, true);
  }
  ++requests_[{s.decision, s.kind, ns}];
  for (const std::string& r : s.enforce_rules) ++rule_hits_[{r, "enforce"}];
  for (const std::string& r : s.audit_rules) ++rule_hits_[{r, "audit"}];
  for (const std::string& r : s.warn_rules) ++rule_hits_[{r, "warn"}];
  for (std::size_t i = 0; i < std::size(kBuckets); ++i)
    if (seconds <= kBuckets[i]) ++bucket_counts_[i];
  ++latency_count_;
  latency_sum_ += seconds;
}

void Metrics::record_http(int status) {
  std::lock_guard lock(mu_);
  ++http_[status];
}

void Metrics::record_reload(std::string_view what, bool ok) {
  std::lock_guard lock(mu_);
  ++reloads_[{std::string(what), ok}];
}

std::string Metrics::render() const {
  std::string out;
  std::lock_guard lock(mu_);
  out += "# HELP kguard_admission_requests_total Admission reviews by decision, kind and namespace.\n"
         "# TYPE kguard_admission_requests_total counter\n";
  for (const auto& [key, n] : requests_) {
    const auto& [decision, kind, ns] = key;
    out += "kguard_admission_requests_total{decision=\"" + label_value(decision) + "\",kind=\"" +
           label_value(kind) + "\",namespace=\"" + label_value(ns) + "\"} " + std::to_string(n) + "\n";
  }
  out += "# HELP kguard_admission_review_duration_seconds Time from the first byte of a review to its response.\n"
         "# TYPE kguard_admission_review_duration_seconds histogram\n";
  for (std::size_t i = 0; i < std::size(kBuckets); ++i)
    out += "kguard_admission_review_duration_seconds_bucket{le=\"" + number(kBuckets[i]) + "\"} " +
           std::to_string(bucket_counts_[i]) + "\n";
  out += "kguard_admission_review_duration_seconds_bucket{le=\"+Inf\"} " +
         std::to_string(latency_count_) + "\n";
  out += "kguard_admission_review_duration_seconds_sum " + number(latency_sum_) + "\n";
  out += "kguard_admission_review_duration_seconds_count " + std::to_string(latency_count_) + "\n";
  out += "# HELP kguard_admission_rule_hits_total Failed rules by mode (enforce, audit, warn).\n"
         "# TYPE kguard_admission_rule_hits_total counter\n";
  for (const auto& [key, n] : rule_hits_)
    out += "kguard_admission_rule_hits_total{rule=\"" + label_value(key.first) + "\",mode=\"" +
           key.second + "\"} " + std::to_string(n) + "\n";
  out += "# HELP kguard_http_responses_total HTTP responses by status code.\n"
         "# TYPE kguard_http_responses_total counter\n";
  for (const auto& [code, n] : http_)
    out += "kguard_http_responses_total{code=\"" + std::to_string(code) + "\"} " + std::to_string(n) + "\n";
  out += "# HELP kguard_reloads_total Certificate and configuration reloads by result.\n"
         "# TYPE kguard_reloads_total counter\n";
  for (const auto& [key, n] : reloads_)
    out += "kguard_reloads_total{what=\"" + key.first + "\",result=\"" +
           (key.second ? "success" : "failure") + "\"} " + std::to_string(n) + "\n";
  out += "# HELP kguard_connections_open Open client connections.\n"
         "# TYPE kguard_connections_open gauge\n"
         "kguard_connections_open " + std::to_string(open_connections_.load()) + "\n";
  out += "# HELP kguard_connections_rejected_total Connections closed at accept: over --max-connections.\n"
         "# TYPE kguard_connections_rejected_total counter\n"
         "kguard_connections_rejected_total " + std::to_string(rejected_connections_.load()) + "\n";
  out += "# HELP kguard_tls_handshake_errors_total TLS handshakes that failed or timed out.\n"
         "# TYPE kguard_tls_handshake_errors_total counter\n"
         "kguard_tls_handshake_errors_total " + std::to_string(tls_errors_.load()) + "\n";
  out += "# HELP kguard_certificate_expiry_timestamp_seconds notAfter of the serving certificate.\n"
         "# TYPE kguard_certificate_expiry_timestamp_seconds gauge\n"
         "kguard_certificate_expiry_timestamp_seconds " + number(cert_expiry_.load()) + "\n";
  return out;
}

}  // namespace kg::server

// Prometheus metrics of the webhook (text exposition format 0.0.4) and the
// structured JSON log lines. Counters are updated by every worker thread;
// one mutex guards the labelled maps (a few hundred nanoseconds a request).
#pragma once

#include <atomic>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>

#include "core/log.hpp"
#include "engines/admit/admit.hpp"

namespace kg::server {

class Metrics {
 public:
  void record_review(const admit::ReviewSummary& s, double seconds);
  void record_http(int status);
  void record_reload(std::string_view what, bool ok);
  void set_certificate_expiry(double unix_seconds) { cert_expiry_.store(unix_seconds); }
  void connection_opened() { open_connections_.fetch_add(1); }
  void connection_closed() { open_connections_.fetch_sub(1); }
  void connection_rejected() { rejected_connections_.fetch_add(1); }
  void tls_handshake_failed() { tls_errors_.fetch_add(1); }
  std::int64_t open_connections() const { return open_connections_.load(); }
  std::string render() const;

 private:
  static constexpr double kBuckets[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                        0.025,  0.05,    0.1,    0.25,  0.5,   1,     2.5,
                                        5,      10};
  // Namespaces beyond this many distinct values are counted as "_other" so a
  // cluster with many namespaces cannot grow the metrics without bound.
  static constexpr std::size_t kMaxNamespaces = 500;

  mutable std::mutex mu_;
  std::map<std::tuple<std::string, std::string, std::string>, std::uint64_t> requests_;  // decision, kind, ns
  std::map<std::pair<std::string, std::string>, std::uint64_t> rule_hits_;  // rule, mode
  std::map<int, std::uint64_t> http_;
  std::map<std::pair<std::string, bool>, std::uint64_t> reloads_;
  std::map<std::string, bool, std::less<>> namespaces_seen_;
  std::uint64_t bucket_counts_[std::size(kBuckets)] = {};
  std::uint64_t latency_count_ = 0;
  double latency_sum_ = 0;
  std::atomic<double> cert_expiry_{0};
  std::atomic<std::int64_t> open_connections_{0};
  std::atomic<std::uint64_t> rejected_connections_{0};
  std::atomic<std::uint64_t> tls_errors_{0};
};

}  // namespace kg::server

// The server core with a trivial handler, no engine: what
// tests/server/server_core_test.py drives over real TLS on loopback.
//
//   server_core_probe --tls-cert F --tls-key F [--listen 127.0.0.1:0]
//       [--workers N] [--max-connections N] [--max-body-bytes-in-flight N]
//       [--max-body N] [--header-timeout-ms N] [--body-timeout-ms N]
//       [--idle-timeout-ms N] [--drain-delay-ms N] [--drain-timeout-ms N]
//       [--watch-interval-ms N] [--not-ready-file F] [--watch-file F] [--client-ca F]
//
// Routes: POST /echo (the body back), GET /hello, plus the core's /healthz,
// /readyz and /metrics.
// /readyz is 503 while --not-ready-file exists; --watch-file changes (and
// SIGHUP) log "handler reloaded" with the reason.
#include <sys/stat.h>

#include <atomic>
#include <cstdlib>
#include <iostream>
#include <string>

#include "core/log.hpp"
#include "server/server.hpp"

namespace {

using kg::server::Request;
using kg::server::Response;

class ProbeHandler final : public kg::server::HttpHandler {
 public:
  ProbeHandler(std::string not_ready_file, std::string watch_file)
      : not_ready_file_(std::move(not_ready_file)), watch_file_(std::move(watch_file)) {
    routes_.add("POST", "/echo", [this](const Request& r) {
      ++requests_;
      return Response{200, "application/octet-stream", std::string(r.body), {}};
    });
    routes_.add("GET", "/hello", [this](const Request&) {
      ++requests_;
      return Response::text(200, "hello\n");
    });
  }
  Response handle(const Request& r) override { return routes_.route(r); }
  std::string not_ready() const override {
    struct stat st {};
    if (!not_ready_file_.empty() && ::stat(not_ready_file_.c_str(), &st) == 0) return "probe not ready";
    return {};
  }
  void render_metrics(std::string& out) const override {
    out += "# TYPE probe_requests_total counter\nprobe_requests_total " + std::to_string(requests_.load()) + "\n";
  }
  std::vector<std::string> watched_files() const override {
    if (watch_file_.empty()) return {};
    return {watch_file_};
  }
  void reload(kg::server::ReloadReason reason, kg::server::Metrics& metrics) override {
    const bool sig = reason == kg::server::ReloadReason::Signal;
    metrics.record_reload("probe", true);
    kg::log_line("info", "handler reloaded", {{"reason", sig ? "signal" : "file"}});
  }

 private:
  kg::server::Router routes_;
  std::string not_ready_file_, watch_file_;
  std::atomic<std::uint64_t> requests_{0};
};

}  // namespace

int main(int argc, char** argv) {
  kg::server::ServerOptions o;
  o.listen = "127.0.0.1:0";
  std::string not_ready_file, watch_file;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i], v = argv[i + 1];
    const long long n = std::atoll(v.c_str());
    if (a == "--listen") o.listen = v;
    else if (a == "--tls-cert") o.cert_file = v;
    else if (a == "--tls-key") o.key_file = v;
    else if (a == "--client-ca") o.client_ca_file = v;
    else if (a == "--workers") o.workers = static_cast<unsigned>(n);
    else if (a == "--max-connections") o.limits.max_connections = static_cast<std::size_t>(n);
    else if (a == "--max-body-bytes-in-flight") o.limits.max_body_bytes_in_flight = static_cast<std::size_t>(n);
    else if (a == "--max-body") o.limits.http.max_body = static_cast<std::size_t>(n);
    else if (a == "--header-timeout-ms") o.limits.header_timeout_ms = static_cast<int>(n);
    else if (a == "--body-timeout-ms") o.limits.body_timeout_ms = static_cast<int>(n);
    else if (a == "--idle-timeout-ms") o.limits.idle_timeout_ms = static_cast<int>(n);
    else if (a == "--drain-delay-ms") o.drain_delay_ms = static_cast<int>(n);
    else if (a == "--drain-timeout-ms") o.drain_timeout_ms = static_cast<int>(n);
    else if (a == "--watch-interval-ms") o.watch_interval_ms = static_cast<int>(n);
    else if (a == "--not-ready-file") not_ready_file = v;
    else if (a == "--watch-file") watch_file = v;
    else {
      std::cerr << "server_core_probe: unknown option " << a << '\n';
      return 2;
    }
  }
  if ((argc - 1) % 2 != 0) {
    std::cerr << "server_core_probe: options take one value each\n";
    return 2;
  }
  ProbeHandler handler(not_ready_file, watch_file);
  kg::server::Metrics metrics;
  o.describe = {{"handler", "probe"}};
  kg::server::Server server(std::move(o), handler, metrics);
  return server.run();
}

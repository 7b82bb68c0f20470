// The routes every server has: GET /healthz (the process answers), GET
// /readyz (started, not draining, and the handler ready) and GET /metrics
// (the handler's metrics, then the server's). Every other path goes to the
// application's handler.
#pragma once

#include <atomic>

#include "server/http_handler.hpp"
#include "server/metrics.hpp"

namespace kg::server {

class ServiceRoutes final : public HttpHandler {
 public:
  ServiceRoutes(HttpHandler& app, const Metrics& metrics) : app_(app), metrics_(metrics) {}

  Response handle(const Request& request) override;

  std::atomic<bool> started{false};  // listening, workers running
  std::atomic<bool> unready{false};  // SIGTERM seen: /readyz says 503

 private:
  HttpHandler& app_;
  const Metrics& metrics_;
};

}  // namespace kg::server

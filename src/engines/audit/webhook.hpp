// kguard audit serve's application on the server core: the API server's
// audit webhook backend POSTs EventList batches (or single Events, or JSON
// lines) to any path but /healthz, /readyz and /metrics (document: /audit);
// each event goes through the detector, alerts are written as JSON lines to
// the alerts file, and /metrics counts events, batches, parse errors and
// alerts by rule.
#pragma once

#include <cstdio>
#include <memory>
#include <mutex>
#include <string>

#include "engines/audit/detector.hpp"
#include "server/http_handler.hpp"

namespace kg::audit {

struct WebhookOptions {
  std::string alerts_file = "-";  // JSON lines; "-" = stdout
  std::shared_ptr<const RuleSet> rules;
  DetectorOptions detector;
  std::vector<std::string> baseline_files;  // audit logs of a known-good window
};

class AuditWebhookHandler final : public server::HttpHandler {
 public:
  explicit AuditWebhookHandler(WebhookOptions options);
  ~AuditWebhookHandler() override;

  // Opens the alerts file and reads the baseline; false with the reason on stderr.
  bool start();

  server::Response handle(const server::Request& request) override;
  void render_metrics(std::string& out) const override;
  void reload(server::ReloadReason reason, server::Metrics& metrics) override;
  void tick() override;
  // Emits every pending alert (at drain).
  void finish();

 private:
  bool open_alerts();
  void write(Alert&& a);

  WebhookOptions options_;
  mutable std::mutex mu_;
  std::unique_ptr<Detector> detector_;
  EventParser parser_;
  std::FILE* out_ = nullptr;
  bool own_out_ = false;
  std::uint64_t batches_ = 0, bad_requests_ = 0, parse_errors_ = 0, bytes_ = 0;
};

}  // namespace kg::audit

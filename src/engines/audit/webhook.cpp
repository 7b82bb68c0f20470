#include "engines/audit/webhook.hpp"

#include <chrono>
#include <map>

#include "core/log.hpp"
#include "server/metrics.hpp"

namespace kg::audit {
namespace {

std::int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

AuditWebhookHandler::AuditWebhookHandler(WebhookOptions options) : options_(std::move(options)) {
  detector_ = std::make_unique<Detector>(options_.rules, options_.detector, [this](Alert&& a) { write(std::move(a)); });
}

AuditWebhookHandler::~AuditWebhookHandler() {
  if (own_out_ && out_) std::fclose(out_);
}

bool AuditWebhookHandler::open_alerts() {
  if (options_.alerts_file.empty() || options_.alerts_file == "-") {
    out_ = stdout;
    own_out_ = false;
    return true;
  }
  std::FILE* f = std::fopen(options_.alerts_file.c_str(), "ab");
  if (!f) {
    log_line("error", "cannot open the alerts file", {{"file", options_.alerts_file}});
    return false;
  }
  if (own_out_ && out_) std::fclose(out_);
  out_ = f;
  own_out_ = true;
  return true;
}

bool AuditWebhookHandler::start() {
  if (!open_alerts()) return false;
  EventParser p;
  for (const std::string& file : options_.baseline_files) {
    std::string text;
    if (!read_file(file, text)) {
      log_line("error", "cannot read the baseline", {{"file", file}});
      return false;
    }
    std::uint64_t errors = 0;
    split_values(
        text, 1, true,
        [&](std::string_view v, std::uint64_t) {
          ParseError e;
          if (!p.parse_value(v, [&](const AuditEvent& ev) { detector_->learn(ev); }, e)) ++errors;
        },
        [&](std::uint64_t, const std::string&) { ++errors; });
    if (errors) log_line("warning", "baseline lines that are no audit events were skipped", {{"file", file}, {"count", std::to_string(errors)}});
  }
  return true;
}

void AuditWebhookHandler::write(Alert&& a) {
  if (a.exempt || !out_) return;
  const std::string line = alert_json(a) + "\n";
  std::fwrite(line.data(), 1, line.size(), out_);
}

server::Response AuditWebhookHandler::handle(const server::Request& request) {
  if (request.head.method != "POST")
    return server::Response::text(405, "POST audit events (an EventList) here\n", "Allow: POST\r\n");
  std::lock_guard<std::mutex> lock(mu_);
  ++batches_;
  bytes_ += request.body.size();
  const std::int64_t now = now_us();
  std::uint64_t errors = 0;
  std::string first_error;
  split_values(
      request.body, 1, true,
      [&](std::string_view v, std::uint64_t line) {
        ParseError e;
        if (!parser_.parse_value(v, [&](const AuditEvent& ev) { detector_->process(ev, now, "webhook", 0); }, e)) {
          ++errors;
          if (first_error.empty()) first_error = "line " + std::to_string(line) + ": " + e.message;
        }
      },
      [&](std::uint64_t line, const std::string& m) {
        ++errors;
        if (first_error.empty()) first_error = "line " + std::to_string(line) + ": " + m;
      });
  detector_->tick(now);
  if (out_) std::fflush(out_);
  parse_errors_ += errors;
  if (errors) {
    ++bad_requests_;
    log_line("warning", "audit events that could not be read", {{"error", first_error}, {"count", std::to_string(errors)}});
    return server::Response::text(400, "bad audit events: " + first_error + "\n");
  }
  return server::Response::json("{}");
}

void AuditWebhookHandler::render_metrics(std::string& out) const {
  std::lock_guard<std::mutex> lock(mu_);
  out += "# HELP kguard_audit_events_total Audit events read.\n# TYPE kguard_audit_events_total counter\n";
  out += "kguard_audit_events_total " + std::to_string(detector_->events()) + "\n";
  out += "# HELP kguard_audit_batches_total Webhook requests (EventList batches) received.\n# TYPE kguard_audit_batches_total counter\n";
  out += "kguard_audit_batches_total " + std::to_string(batches_) + "\n";
  out += "# HELP kguard_audit_bytes_total Bytes of audit events received.\n# TYPE kguard_audit_bytes_total counter\n";
  out += "kguard_audit_bytes_total " + std::to_string(bytes_) + "\n";
  out += "# HELP kguard_audit_parse_errors_total Values that were no readable audit event.\n# TYPE kguard_audit_parse_errors_total counter\n";
  out += "kguard_audit_parse_errors_total " + std::to_string(parse_errors_) + "\n";
  out += "# HELP kguard_audit_open_groups Aggregation groups held in memory.\n# TYPE kguard_audit_open_groups gauge\n";
  out += "kguard_audit_open_groups " + std::to_string(detector_->open_groups()) + "\n";
  out += "# HELP kguard_audit_alerts_total Alerts emitted, by rule.\n# TYPE kguard_audit_alerts_total counter\n";
  out += "# HELP kguard_audit_matched_events_total Events that raised or joined an alert, by rule.\n# TYPE kguard_audit_matched_events_total counter\n";
  const auto& rules = detector_->rules().rules;
  const auto& c = detector_->counters();
  for (std::size_t i = 0; i < rules.size(); ++i) {
    if (!rules[i]->enabled) continue;
    const std::string labels = "{rule=\"" + server::prometheus_label(rules[i]->id) + "\",severity=\"" +
                               std::string(to_string(rules[i]->severity)) + "\"}";
    out += "kguard_audit_alerts_total" + labels + " " + std::to_string(c[i].alerts) + "\n";
    out += "kguard_audit_matched_events_total" + labels + " " + std::to_string(c[i].matched) + "\n";
  }
}

void AuditWebhookHandler::reload(server::ReloadReason reason, server::Metrics& metrics) {
  if (reason != server::ReloadReason::Signal) return;
  std::lock_guard<std::mutex> lock(mu_);
  if (out_) std::fflush(out_);
  metrics.record_reload("alerts", open_alerts());  // reopened after rotation
}

void AuditWebhookHandler::tick() {
  std::lock_guard<std::mutex> lock(mu_);
  detector_->tick(now_us());
  if (out_) std::fflush(out_);
}

void AuditWebhookHandler::finish() {
  std::lock_guard<std::mutex> lock(mu_);
  detector_->finish();
  if (out_) std::fflush(out_);
}

}  // namespace kg::audit

#include "engines/admit/admission_handler.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <tuple>
#include <utility>

#include "config/config.hpp"
#include "core/clock.hpp"
#include "core/json_writer.hpp"
#include "core/log.hpp"
#include "server/metrics.hpp"
#include "server/server.hpp"

namespace kg::admit {
namespace {

std::string describe_errors(const std::vector<InputError>& errors, bool with_position) {
  std::string out;
  for (const InputError& e : errors) {
    out += e.file;
    if (with_position) out += ":" + std::to_string(e.line) + ":" + std::to_string(e.column);
    out += ": " + e.message + "\n";
  }
  return out;
}

// `api_namespaces`: the long-lived watch cache when labels come from the API
// server. Otherwise the config's labels are used.
std::shared_ptr<const Engine> load_engine(const std::string& path,
                                          const std::shared_ptr<const NamespaceSource>& api_namespaces,
                                          const std::shared_ptr<ImageVerdictSource>& images,
                                          const std::shared_ptr<ImageSignatureSource>& signatures, std::string& error) {
  Config config;
  std::vector<InputError> errors;
  if (!path.empty()) {
    auto loaded = load_config(path, errors);
    if (!loaded) {
      error = describe_errors(errors, true);
      return nullptr;
    }
    config = std::move(*loaded);
  }
  AdmitConfig admit;
  if (!read_admit_config(config, admit, errors)) {
    error = describe_errors(errors, true);
    return nullptr;
  }
  std::shared_ptr<const NamespaceSource> namespaces = api_namespaces;
  if (!namespaces) namespaces = std::make_shared<ConfigNamespaceSource>(admit.namespaces);
  auto engine = Engine::create(config, admit, namespaces, errors, images, signatures);
  if (!engine) {
    error = describe_errors(errors, false);
    return nullptr;
  }
  return engine;
}

std::string audit_record(const ReviewSummary& s, double seconds) {
  // JsonWriter::escape writes the quotes too.
  std::string out = "{\"time\":\"" + utc_now_rfc3339_millis() + "\"";
  auto field = [&](std::string_view k, std::string_view v) {
    out += ",\"";
    out += k;
    out += "\":";
    JsonWriter::escape(out, v);
  };
  auto list = [&](std::string_view k, const std::vector<std::string>& v) {
    out += ",\"";
    out += k;
    out += "\":[";
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (i) out += ',';
      JsonWriter::escape(out, v[i]);
    }
    out += ']';
  };
  field("uid", s.uid);
  field("user", s.username);
  field("operation", s.operation);
  out += ",\"object\":{\"kind\":";
  JsonWriter::escape(out, s.kind);
  out += ",\"namespace\":";
  JsonWriter::escape(out, s.ns);
  out += ",\"name\":";
  JsonWriter::escape(out, s.name);
  out += ",\"subResource\":";
  JsonWriter::escape(out, s.sub_resource);
  out += '}';
  field("verdict", s.decision);
  out += ",\"code\":" + std::to_string(s.code);
  out += s.dry_run ? ",\"dryRun\":true" : ",\"dryRun\":false";
  std::vector<std::string> hit = s.enforce_rules;
  for (const auto* v : {&s.audit_rules, &s.warn_rules}) {
    for (const std::string& r : *v)
      if (std::find(hit.begin(), hit.end(), r) == hit.end()) hit.push_back(r);
  }
  list("rulesHit", hit);
  list("enforce", s.enforce_rules);
  list("audit", s.audit_rules);
  list("warn", s.warn_rules);
  if (!s.exempt.empty()) field("exempt", s.exempt);
  // What both gates write first for an image: the digest judged, policy, mode, outcome, cache, time.
  auto check_head = [&](std::size_t i, const auto& c, const char* ms_key, double ms_value) {
    out += i ? ",{" : "{";
    out += "\"image\":";
    JsonWriter::escape(out, c.image);
    field("digest", c.digest);
    field("policy", c.policy);
    field("mode", c.mode);
    field("outcome", c.outcome);
    if (!c.cache.empty()) field("cache", c.cache);
    char ms[32];
    std::snprintf(ms, sizeof ms, "%.3f", ms_value);
    out += ",\"";
    out += ms_key;
    out += "\":";
    out += ms;
  };
  if (!s.images.empty()) {
    // The vulnerability gate: per image, the digest judged, the policy, counts and ids.
    out += ",\"images\":[";
    for (std::size_t i = 0; i < s.images.size(); ++i) {
      const ImageCheck& c = s.images[i];
      check_head(i, c, "scanMs", c.scan_ms);
      out += ",\"counts\":{\"critical\":" + std::to_string(c.counts[3]) + ",\"high\":" + std::to_string(c.counts[2]) +
             ",\"medium\":" + std::to_string(c.counts[1]) + ",\"low\":" + std::to_string(c.counts[0]) + "}";
      list("violations", c.violations);
      list("ignored", c.ignored);
      if (!c.error.empty()) field("error", c.error);
      out += '}';
    }
    out += ']';
  }
  if (!s.signatures.empty()) {
    // The signature gate: per image, the digest verified, the policy, the outcome and the keys.
    out += ",\"signatures\":[";
    for (std::size_t i = 0; i < s.signatures.size(); ++i) {
      const SignatureCheck& c = s.signatures[i];
      check_head(i, c, "verifyMs", c.verify_ms);
      list("signedBy", c.signed_by);
      if (!c.reason.empty()) field("reason", c.reason);
      if (!c.attestations.empty()) {
        // Each required attestation: its predicate type, how it fared, the keys and why not.
        out += ",\"attestations\":[";
        for (std::size_t j = 0; j < c.attestations.size(); ++j) {
          const AttestationVerdict& a = c.attestations[j];
          out += j ? ",{\"predicateType\":" : "{\"predicateType\":";
          JsonWriter::escape(out, a.predicate_type);
          field("outcome", a.outcome);
          list("signedBy", a.signed_by);
          if (!a.reason.empty()) field("reason", a.reason);
          out += '}';
        }
        out += ']';
      }
      out += '}';
    }
    out += ']';
  }
  // Our own message (rule ids, fixes, field paths): never the object's data.
  if (!s.message.empty()) field("message", s.message);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6f", seconds);
  out += ",\"latencySeconds\":";
  out += buf;
  out += "}\n";
  return out;
}

}  // namespace

// The audit log: JSON lines buffered in memory and written by the main
// thread a few times a second (and when the buffer grows), so a request
// never waits for the disk.
class AdmissionHandler::Audit {
 public:
  bool open(const std::string& path, std::string& error) {
    std::lock_guard lock(mu_);
    path_ = path;
    return reopen_locked(error);
  }
  bool reopen(std::string& error) {
    std::lock_guard lock(mu_);
    flush_locked();
    return reopen_locked(error);
  }
  void write(const std::string& line) {
    std::lock_guard lock(mu_);
    if (fd_ < 0) return;
    buffer_ += line;
    if (buffer_.size() > std::size_t{256} * 1024) flush_locked();
  }
  void flush() {
    std::lock_guard lock(mu_);
    flush_locked();
  }
  ~Audit() {
    flush();
    if (fd_ > 2) ::close(fd_);
  }

 private:
  bool reopen_locked(std::string& error) {
    if (path_.empty()) return true;
    if (path_ == "-") {
      fd_ = STDOUT_FILENO;
      return true;
    }
    int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (fd < 0) {
      error = "cannot open audit log " + path_ + ": " + std::strerror(errno);
      return false;
    }
    if (fd_ > 2) ::close(fd_);
    fd_ = fd;
    return true;
  }
  void flush_locked() {
    std::size_t off = 0;
    while (fd_ >= 0 && off < buffer_.size()) {
      ssize_t n = ::write(fd_, buffer_.data() + off, buffer_.size() - off);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;  // disk full or closed pipe: drop rather than block requests
      off += static_cast<std::size_t>(n);
    }
    buffer_.clear();
  }
  std::mutex mu_;
  std::string path_;
  int fd_ = -1;
  std::string buffer_;
};

// Reviews by decision, kind and namespace, their latency, and rule hits.
// One mutex guards the maps (a few hundred nanoseconds a request).
class AdmissionHandler::Counters {
 public:
  void record(const ReviewSummary& s, double seconds) {
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
    for (const ImageCheck& c : s.images) ++image_checks_[{c.policy, c.outcome}];
    for (std::size_t i = 0; i < std::size(kBuckets); ++i)
      if (seconds <= kBuckets[i]) ++bucket_counts_[i];
    ++latency_count_;
    latency_sum_ += seconds;
  }

  void render(std::string& out) const {
    using server::prometheus_label;
    using server::prometheus_number;
    std::lock_guard lock(mu_);
    out += "# HELP kguard_admission_requests_total Admission reviews by decision, kind and namespace.\n"
           "# TYPE kguard_admission_requests_total counter\n";
    for (const auto& [key, n] : requests_) {
      const auto& [decision, kind, ns] = key;
      out += "kguard_admission_requests_total{decision=\"" + prometheus_label(decision) + "\",kind=\"" +
             prometheus_label(kind) + "\",namespace=\"" + prometheus_label(ns) + "\"} " + std::to_string(n) + "\n";
    }
    out += "# HELP kguard_admission_review_duration_seconds Time from the first byte of a review to its response.\n"
           "# TYPE kguard_admission_review_duration_seconds histogram\n";
    for (std::size_t i = 0; i < std::size(kBuckets); ++i) {
      out += "kguard_admission_review_duration_seconds_bucket{le=\"" +
             prometheus_number(kBuckets[i]) + "\"} " + std::to_string(bucket_counts_[i]) + "\n";
    }
    out += "kguard_admission_review_duration_seconds_bucket{le=\"+Inf\"} " + std::to_string(latency_count_) + "\n";
    out += "kguard_admission_review_duration_seconds_sum " + prometheus_number(latency_sum_) + "\n";
    out += "kguard_admission_review_duration_seconds_count " + std::to_string(latency_count_) + "\n";
    out += "# HELP kguard_admission_rule_hits_total Failed rules by mode (enforce, audit, warn).\n"
           "# TYPE kguard_admission_rule_hits_total counter\n";
    for (const auto& [key, n] : rule_hits_) {
      out += "kguard_admission_rule_hits_total{rule=\"" + prometheus_label(key.first) +
             "\",mode=\"" + key.second + "\"} " + std::to_string(n) + "\n";
    }
    out += "# HELP kguard_admission_image_checks_total Images judged by the vulnerability gate, by policy and outcome.\n"
           "# TYPE kguard_admission_image_checks_total counter\n";
    for (const auto& [key, n] : image_checks_) {
      out += "kguard_admission_image_checks_total{policy=\"" + prometheus_label(key.first) + "\",outcome=\"" +
             key.second + "\"} " + std::to_string(n) + "\n";
    }
  }

 private:
  static constexpr double kBuckets[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                        0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10};
  // Namespaces beyond this many distinct values are counted as "_other" so a
  // cluster with many namespaces cannot grow the metrics without bound.
  static constexpr std::size_t kMaxNamespaces = 500;

  mutable std::mutex mu_;
  std::map<std::tuple<std::string, std::string, std::string>, std::uint64_t> requests_;
  std::map<std::pair<std::string, std::string>, std::uint64_t> rule_hits_;
  std::map<std::pair<std::string, std::string>, std::uint64_t> image_checks_;  // policies come from the config: bounded
  std::map<std::string, bool, std::less<>> namespaces_seen_;
  std::uint64_t bucket_counts_[std::size(kBuckets)] = {};
  std::uint64_t latency_count_ = 0;
  double latency_sum_ = 0;
};

AdmissionHandler::AdmissionHandler(AdmissionOptions options)
    : options_(std::move(options)), audit_(std::make_unique<Audit>()), counters_(std::make_unique<Counters>()) {
  routes_.add("POST", "/validate", [this](const server::Request& r) { return validate(r); });
  routes_.set_not_found("no such path; the webhook serves POST /validate, GET /healthz, /readyz and /metrics\n");
}

AdmissionHandler::~AdmissionHandler() = default;

bool AdmissionHandler::start() {
  if (!load(true, nullptr)) return false;
  std::string error;
  if (!audit_->open(options_.audit_log, error)) {
    log_line("error", "cannot open the audit log", {{"error", error}});
    return false;
  }
  return true;
}

bool AdmissionHandler::load(bool at_start, server::Metrics* metrics) {
  std::string error;
  auto e = load_engine(options_.config_file, options_.api_namespaces, options_.images, options_.signatures, error);
  if (!e) {
    log_line("error", at_start ? "invalid configuration" : "config reload failed; keeping the previous config",
             {{"error", error}});
    if (metrics) metrics->record_reload("config", false);
    return false;
  }
  {
    std::lock_guard lock(mu_);
    engine_ = std::move(e);
  }
  if (metrics) metrics->record_reload("config", true);
  if (!at_start) log_line("info", "configuration reloaded", {{"config", options_.config_file}});
  return true;
}

std::shared_ptr<const Engine> AdmissionHandler::engine() const {
  std::lock_guard lock(mu_);
  return engine_;
}

std::string AdmissionHandler::namespaces_description() const { return engine()->namespaces().describe(); }

server::Response AdmissionHandler::handle(const server::Request& request) { return routes_.route(request); }

server::Response AdmissionHandler::validate(const server::Request& request) {
  using server::Response;
  const server::HttpRequest& req = request.head;
  const std::string_view type = req.header("content-type");
  if (!type.empty() && type.find("json") == std::string_view::npos)
    return Response::text(415, "Content-Type must be application/json (an AdmissionReview)\n");
  // The API server sends its own deadline; keep a margin for the trip back.
  double budget_ms = 10'000;
  if (std::string_view t = req.query_param("timeout"); !t.empty()) {
    budget_ms = server::parse_duration_ms(t);
    if (budget_ms <= 0)
      return Response::text(400, "invalid timeout query parameter '" + std::string(t) + "' (want e.g. 10s)\n");
    budget_ms = std::min(budget_ms, 30'000.0);
  }
  const auto budget_us = static_cast<long long>(budget_ms * 1000);
  const auto margin = std::chrono::microseconds(std::min(100'000LL, budget_us / 10));
  const auto deadline = request.start + std::chrono::microseconds(budget_us) - margin;
  ReviewOutcome outcome = engine()->review(std::string(request.body), deadline);
  const double seconds = std::chrono::duration<double>(server::Clock::now() - request.start).count();
  counters_->record(outcome.summary, seconds);
  audit_->write(audit_record(outcome.summary, seconds));
  if (outcome.http_status != 200) return Response::text(outcome.http_status, std::move(outcome.body));
  return Response::json(std::move(outcome.body));
}

std::string AdmissionHandler::not_ready() const {
  auto e = engine();
  if (!e->namespaces().ready()) return "namespace labels not synced (" + e->namespaces().describe() + ")";
  return {};
}

void AdmissionHandler::render_metrics(std::string& out) const {
  counters_->render(out);
  if (options_.images) options_.images->render_metrics(out);
  if (options_.signatures) options_.signatures->render_metrics(out);
}

std::vector<std::string> AdmissionHandler::watched_files() const {
  if (options_.config_file.empty()) return {};
  return {options_.config_file};
}

void AdmissionHandler::reload(server::ReloadReason reason, server::Metrics& metrics) {
  load(false, &metrics);
  if (reason == server::ReloadReason::Signal) {
    if (std::string e; !audit_->reopen(e)) log_line("error", "cannot reopen the audit log", {{"error", e}});
  }
}

void AdmissionHandler::tick() { audit_->flush(); }

}  // namespace kg::admit

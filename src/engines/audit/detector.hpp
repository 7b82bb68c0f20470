// The audit detection engine: events in, alerts out. Each enabled rule is
// matched on every event (indexed by resource); a match is de-duplicated per
// (rule, auditID) — the stages of one request raise one alert — then checked
// against the exemptions and folded into an aggregation group (rule.yaml
// `aggregateBy`): a controller reading Secrets 40,000 times is one alert
// with count 40,000.
//
// When groups are emitted: with `window_us` 0 (a file read to its end), once,
// at finish(); otherwise (follow, serve) `window_us` after a group's first
// event by the processing clock given to process()/tick(), then at most once
// per `repeat_us` with the count since the last emission.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "config/config.hpp"
#include "core/document.hpp"
#include "engines/audit/event.hpp"
#include "engines/audit/rules.hpp"
#include "model/engine_result.hpp"

namespace kg::audit {

struct Alert {
  const AuditRule* rule = nullptr;
  std::string user;
  std::vector<std::string> groups;
  std::vector<std::string> source_ips;
  std::string verb;
  std::string api_group, resource, subresource, ns, name;
  std::string request_uri;
  std::string audit_id;
  std::uint64_t count = 0;
  std::int64_t first_us = 0, last_us = 0;
  std::string message;
  std::string input;      // where the first event was read ("audit.log", "-", "webhook")
  std::uint64_t line = 0; // its line (0 when unknown)
  bool exempt = false;
  std::string exemption_reason, exemption_until;
};

// One alert as a JSON line (CONTRACTS C2), without the newline.
std::string alert_json(const Alert& a);

struct DetectorOptions {
  std::int64_t window_us = 0;  // 0: aggregate until finish()
  std::int64_t repeat_us = 3'600'000'000;
  // Baseline learning: events in the first `learn_us` of the stream (event
  // time) teach audit-baseline rules and raise none of their alerts.
  std::int64_t learn_us = 0;
  std::vector<ExemptionRule> exemptions;
  std::string today;  // YYYY-MM-DD, for exemption expiry
  std::size_t max_groups = 50'000;   // beyond: the oldest pending groups are emitted early (memory bound)
  std::size_t dedupe_capacity = 1u << 16;  // (rule, auditID) pairs remembered
};

struct RuleCounters {
  std::uint64_t matched = 0;  // events that raised or joined an alert
  std::uint64_t alerts = 0;   // alerts emitted
  std::uint64_t exempted = 0;
};

class Detector {
 public:
  using AlertSink = std::function<void(Alert&&)>;

  Detector(std::shared_ptr<const RuleSet> rules, DetectorOptions options, AlertSink sink);

  // Events of the baseline (--baseline FILE): who reads what, learnt.
  void learn(const AuditEvent& ev);
  bool has_baseline() const { return baseline_given_; }
  // One event; `now_us` is the processing clock for emission windows.
  void process(const AuditEvent& ev, std::int64_t now_us = 0, std::string_view input = {}, std::uint64_t line = 0);
  // Emits groups whose window has passed (callers tick after each batch or read, and on a timer).
  void tick(std::int64_t now_us);
  // Emits every pending group.
  void finish();

  std::uint64_t events() const { return events_; }
  std::uint64_t alerts() const { return alerts_; }
  std::size_t open_groups() const { return groups_.size(); }
  const std::vector<RuleCounters>& counters() const { return counters_; }
  const RuleSet& rules() const { return *rules_; }
  // Rules not in force, and why ("audit-secret-read-unexpected: no baseline").
  std::vector<std::string> inactive() const;
  // Warnings about expired exemptions (once).
  const std::vector<InputError>& warnings() const { return warnings_; }

 private:
  struct Group {
    Alert alert;             // the first event's fields; count/first/last of the pending part
    std::uint64_t pending = 0;
    std::int64_t next_emit = 0;
    std::int64_t last_seen_clock = 0;
    std::uint64_t order = 0;
  };
  struct Burst {
    std::int64_t start_us = 0;
    std::uint64_t count = 0;
    bool fired = false;
  };

  void match(std::size_t ri, const AuditEvent& ev, std::int64_t now_us, std::string_view input, std::uint64_t line);
  void raise(std::size_t ri, const AuditEvent& ev, std::string detail, std::uint64_t count, std::int64_t now_us,
             std::string_view input, std::uint64_t line);
  bool seen(std::size_t ri, std::string_view audit_id);
  void emit(Group& g);
  const ExemptionRule* exemption(const AuditRule& r, const AuditEvent& ev);
  const Node* body(const AuditEvent& ev);
  std::string baseline_key(const AuditRule& r, const AuditEvent& ev) const;

  std::shared_ptr<const RuleSet> rules_;
  DetectorOptions options_;
  AlertSink sink_;
  std::vector<RuleCounters> counters_;
  // Rules by "resource\0verb" ("*" for any); any_resource_: rules on any resource and verb.
  std::unordered_map<std::string, std::vector<std::size_t>> by_resource_;
  std::vector<std::size_t> any_resource_;
  std::unordered_map<std::string, Group> groups_;
  std::unordered_map<std::string, Burst> bursts_;
  std::unordered_set<std::string> baseline_;
  bool baseline_given_ = false;
  std::int64_t learn_until_ = -1;
  std::unordered_set<std::string> dedupe_;
  std::deque<std::string> dedupe_order_;
  std::unique_ptr<SourceFile> body_;
  const AuditEvent* body_of_ = nullptr;
  std::uint64_t events_ = 0, alerts_ = 0, order_ = 0;
  std::string key_;
  std::vector<InputError> warnings_;
  std::unordered_set<const ExemptionRule*> expired_warned_;
};

// The alerts of a run in the report model: each audit rule in force (which must
// outlive the result, and whose `category` the caller set: the CLI gives them
// Security) with its tally, a finding (failure, or exemption) per alert.
void add_to_result(const Detector& d, const std::vector<Alert>& alerts, Category category, EngineResult& result);

}  // namespace kg::audit

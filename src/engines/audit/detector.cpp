#include "engines/audit/detector.hpp"

#include <algorithm>

#include "core/glob.hpp"
#include "core/json_writer.hpp"

namespace kg::audit {
namespace {

bool rule_named(const std::vector<std::string>& names, const AuditRule& r) {
  for (const std::string& n : names) {
    if (n == "*" || n == "all" || n == r.id || n == "audit") return true;
    if (std::find(r.tags.begin(), r.tags.end(), n) != r.tags.end()) return true;
  }
  return false;
}

std::string object_text(const Alert& a) {
  std::string s = a.resource.empty() ? a.request_uri : a.resource;
  if (!a.subresource.empty()) s += "/" + a.subresource;
  if (!a.ns.empty() || !a.name.empty()) s += " " + (a.ns.empty() ? std::string() : a.ns + "/") + a.name;
  return s;
}

}  // namespace

Detector::Detector(std::shared_ptr<const RuleSet> rules, DetectorOptions options, AlertSink sink)
    : rules_(std::move(rules)), options_(std::move(options)), sink_(std::move(sink)) {
  counters_.resize(rules_->rules.size());
  // Each rule is filed under the (resource, verb) pairs it names, so an event meets only the
  // rules that can match its resource and verb.
  for (std::size_t i = 0; i < rules_->rules.size(); ++i) {
    const AuditRule& r = *rules_->rules[i];
    if (!r.enabled) continue;
    const bool any_res = r.resources.empty() ||
                         std::find(r.resources.begin(), r.resources.end(), "*") != r.resources.end();
    const bool any_verb = r.verbs.empty() || std::find(r.verbs.begin(), r.verbs.end(), "*") != r.verbs.end();
    const std::vector<std::string> res = any_res ? std::vector<std::string>{"*"} : r.resources;
    const std::vector<std::string> verbs = any_verb ? std::vector<std::string>{"*"} : r.verbs;
    for (const std::string& x : res)
      for (const std::string& v : verbs) {
        if (x == "*" && v == "*") any_resource_.push_back(i);
        else by_resource_[x + '\0' + v].push_back(i);
      }
  }
  body_ = std::make_unique<SourceFile>();
}

std::vector<std::string> Detector::inactive() const {
  std::vector<std::string> out;
  for (const auto& r : rules_->rules) {
    if (!r->enabled) out.push_back(r->id + ": disabled");
    else if (r->tmpl == Template::Baseline && !baseline_given_ && options_.learn_us <= 0)
      out.push_back(r->id + ": no baseline (--baseline FILE or --learn SECONDS)");
  }
  return out;
}

std::string Detector::baseline_key(const AuditRule& r, const AuditEvent& ev) const {
  std::string k = r.id;
  k += '\0';
  k += ev.username;
  if (r.per_namespace) {
    k += '\0';
    k += ev.object.ns;
  }
  return k;
}

void Detector::learn(const AuditEvent& ev) {
  baseline_given_ = true;
  for (const auto& r : rules_->rules)
    if (r->tmpl == Template::Baseline && matches_event(*r, ev)) baseline_.insert(baseline_key(*r, ev));
}

bool Detector::seen(std::size_t ri, std::string_view audit_id) {
  if (audit_id.empty()) return false;
  key_.assign(audit_id);
  key_ += '\0';
  key_ += std::to_string(ri);
  if (dedupe_.count(key_)) return true;
  dedupe_.insert(key_);
  dedupe_order_.push_back(key_);
  while (dedupe_order_.size() > options_.dedupe_capacity) {
    dedupe_.erase(dedupe_order_.front());
    dedupe_order_.pop_front();
  }
  return false;
}

const Node* Detector::body(const AuditEvent& ev) {
  if (body_of_ == &ev && !body_->documents.empty()) return body_->documents[0].root;
  if (ev.request_object.empty()) return nullptr;
  // One SourceFile reused: its arena's memory is handed back and taken again, no fresh pages per body.
  body_->documents.clear();
  body_->errors.clear();
  body_->errors_dropped = 0;
  body_->limit_hit = false;
  body_->arena.release();
  body_->path = "requestObject";
  body_->view = ev.request_object;  // read in place
  LoadLimits limits;
  limits.max_errors_per_file = 1;
  load_documents(*body_, limits);
  body_of_ = &ev;
  if (body_->documents.empty()) return nullptr;
  return body_->documents[0].root;
}

const ExemptionRule* Detector::exemption(const AuditRule& r, const AuditEvent& ev) {
  for (const ExemptionRule& x : options_.exemptions) {
    if (!rule_named(x.rules, r) || rule_named(x.except_rules, r)) continue;
    if (!x.namespaces.empty() && !any_glob(x.namespaces, ev.object.ns)) continue;
    if (!x.names.empty() && !any_glob(x.names, ev.object.name)) continue;
    if (!x.users.empty() && !any_glob(x.users, ev.username)) continue;
    if (!x.kinds.empty() && !any_glob(x.kinds, ev.object.resource)) continue;
    if (!x.until.empty() && !options_.today.empty() && x.until < options_.today) {
      if (expired_warned_.insert(&x).second)
        warnings_.push_back({x.file, x.line, x.column,
                             x.field + ": exemption expired on " + x.until + "; " + r.id + " alerts again"});
      continue;
    }
    return &x;
  }
  return nullptr;
}

void Detector::process(const AuditEvent& ev, std::int64_t now_us, std::string_view input, std::uint64_t line) {
  ++events_;
  body_of_ = nullptr;
  if (options_.learn_us > 0 && ev.time_us > 0) {
    if (learn_until_ < 0) learn_until_ = ev.time_us + options_.learn_us;
    if (ev.time_us < learn_until_) {
      for (const auto& r : rules_->rules)
        if (r->tmpl == Template::Baseline && matches_event(*r, ev)) baseline_.insert(baseline_key(*r, ev));
    }
  }
  if (!by_resource_.empty()) {
    auto run = [&](std::string_view res, std::string_view verb) {
      key_.assign(res);
      key_ += '\0';
      key_ += verb;
      auto it = by_resource_.find(key_);
      if (it != by_resource_.end())
        for (std::size_t ri : it->second) match(ri, ev, now_us, input, line);
    };
    if (ev.has_object_ref) {
      run(ev.object.resource, ev.verb);
      run(ev.object.resource, "*");
    }
    run("*", ev.verb);
  }
  for (std::size_t ri : any_resource_) match(ri, ev, now_us, input, line);
}

void Detector::match(std::size_t ri, const AuditEvent& ev, std::int64_t now_us, std::string_view input,
                     std::uint64_t line) {
  const AuditRule& r = *rules_->rules[ri];
  if (!matches_event(r, ev)) return;
  std::string detail;
  std::uint64_t count = 1;
  switch (r.tmpl) {
    case Template::Event:
      break;
    case Template::Pod:
    case Template::Request:
      detail = body_condition(r, body(ev));
      if (detail.empty()) return;
      break;
    case Template::Baseline: {
      const bool learning = learn_until_ >= 0 && ev.time_us < learn_until_;
      if (learning || (!baseline_given_ && options_.learn_us <= 0)) return;
      if (baseline_.count(baseline_key(r, ev))) return;
      detail = "not among the identities seen reading them in the baseline";
      break;
    }
    case Template::Burst: {
      // A request counts once whatever stages record it (a refused watch is recorded at
      // ResponseStarted and ResponseComplete; a failed authentication only at ResponseStarted).
      if (r.stages.size() > 1 && seen(ri, ev.audit_id)) return;
      std::string k = r.id;
      k += '\0';
      if (r.by_source_ip) k += ev.source_ips.empty() ? std::string_view() : ev.source_ips.front();
      else k += ev.username;
      Burst& b = bursts_[k];
      if (b.count == 0 || ev.time_us - b.start_us > r.window_us) {
        b = Burst{ev.time_us, 0, false};
      }
      ++b.count;
      if (b.count < r.threshold) return;
      if (b.fired) break;  // the burst's group exists: the event only adds to its count
      b.fired = true;
      count = b.count;
      detail = std::to_string(b.count) + " responses " + std::to_string(ev.code) + " within " +
               std::to_string(r.window_us / 1'000'000) + "s from " +
               (r.by_source_ip ? "source IP " + (ev.source_ips.empty() ? std::string("?") : std::string(ev.source_ips.front()))
                               : "user " + std::string(ev.username));
      break;
    }
  }
  // One request, one alert: a rule that accepts several stages (exec: ResponseStarted and
  // ResponseComplete) or groups by auditID remembers the auditIDs it raised for; for the others
  // the stage filter and aggregation already make a request count once per group.
  if (r.tmpl != Template::Burst && (r.stages.size() > 1 || (r.aggregate & kAggAuditID)) && seen(ri, ev.audit_id))
    return;
  raise(ri, ev, std::move(detail), count, now_us, input, line);
}

void Detector::raise(std::size_t ri, const AuditEvent& ev, std::string detail, std::uint64_t count,
                     std::int64_t now_us, std::string_view input, std::uint64_t line) {
  const AuditRule& r = *rules_->rules[ri];
  RuleCounters& c = counters_[ri];
  c.matched += count;
  const ExemptionRule* x = exemption(r, ev);
  std::string& k = key_;
  k.assign(r.id);
  auto add = [&](unsigned bit, std::string_view v) {
    k += '\0';
    if (r.aggregate & bit) k += v;
  };
  add(kAggUser, ev.username);
  add(kAggVerb, ev.verb);
  add(kAggResource, ev.object.resource);
  if (r.aggregate & kAggResource) {
    k += '/';
    k += ev.object.subresource;
    k += '/';
    k += ev.object.api_group;
  }
  add(kAggNamespace, ev.object.ns);
  add(kAggName, ev.object.name);
  add(kAggSourceIP, ev.source_ips.empty() ? std::string_view() : ev.source_ips.front());
  add(kAggAuditID, ev.audit_id);
  if (r.tmpl == Template::Event || r.tmpl == Template::Baseline) {
    // Same detail for all; Pod/Request details differ per object: part of the key when names are.
  } else if (r.aggregate & kAggName) {
    k += '\0';
    k += detail;
  }
  if (x) k += std::string_view("\0x", 2);
  auto [it, fresh] = groups_.try_emplace(k);
  Group& g = it->second;
  if (fresh || g.pending == 0) {
    if (fresh) {
      Alert& a = g.alert;
      a.rule = &r;
      a.user = ev.username;
      a.groups.assign(ev.groups.begin(), ev.groups.end());
      a.source_ips.assign(ev.source_ips.begin(), ev.source_ips.end());
      a.verb = ev.verb;
      a.api_group = ev.object.api_group;
      a.resource = ev.object.resource;
      a.subresource = ev.object.subresource;
      a.ns = ev.object.ns;
      a.name = ev.object.name;
      a.request_uri = ev.request_uri;
      a.audit_id = ev.audit_id;
      a.input = input;
      a.line = line;
      std::string who = a.user.empty() ? std::string("(no user)") : a.user;
      a.message = std::string(r.title) + ": " + who + " " + a.verb + " " + object_text(a);
      if (!detail.empty()) a.message += " (" + detail + ")";
      if (x) {
        a.exempt = true;
        a.exemption_reason = x->reason;
        a.exemption_until = x->until;
      }
      g.order = order_++;
      g.next_emit = now_us + options_.window_us;
    } else {
      // A new period of a known group: the alert names this period's first request.
      Alert& a = g.alert;
      a.audit_id = ev.audit_id;
      a.request_uri = ev.request_uri;
      a.source_ips.assign(ev.source_ips.begin(), ev.source_ips.end());
      a.input = input;
      a.line = line;
      g.next_emit = std::max(g.next_emit, now_us);
    }
    g.alert.first_us = ev.time_us;
    g.alert.count = 0;
  }
  g.pending += count;
  g.alert.count += count;
  g.alert.last_us = ev.time_us;
  if (ev.time_us && (g.alert.first_us == 0 || ev.time_us < g.alert.first_us)) g.alert.first_us = ev.time_us;
  g.last_seen_clock = now_us;
  if (groups_.size() > options_.max_groups) {
    // Memory stays bounded: the oldest pending groups go out now.
    std::vector<std::pair<std::uint64_t, Group*>> order;
    for (auto& [key, grp] : groups_)
      if (grp.pending) order.push_back({grp.order, &grp});
    std::sort(order.begin(), order.end());
    for (std::size_t i = 0; i < order.size() / 2; ++i) emit(*order[i].second);
    for (auto it2 = groups_.begin(); it2 != groups_.end();)
      it2 = it2->second.pending == 0 ? groups_.erase(it2) : std::next(it2);
  }
}

void Detector::emit(Group& g) {
  if (g.pending == 0) return;
  Alert a = g.alert;
  a.count = g.pending;
  g.pending = 0;
  RuleCounters& c = counters_[static_cast<std::size_t>(
      std::find_if(rules_->rules.begin(), rules_->rules.end(), [&](const auto& r) { return r.get() == a.rule; }) -
      rules_->rules.begin())];
  if (a.exempt) c.exempted += 1;
  else {
    c.alerts += 1;
    ++alerts_;
  }
  g.next_emit = g.last_seen_clock + options_.repeat_us;
  sink_(std::move(a));
}

void Detector::tick(std::int64_t now_us) {
  if (options_.window_us <= 0) return;
  for (auto it = groups_.begin(); it != groups_.end();) {
    Group& g = it->second;
    if (g.pending && now_us >= g.next_emit) {
      emit(g);
      g.next_emit = now_us + options_.repeat_us;
    }
    // A group quiet for a whole repeat interval is forgotten.
    if (!g.pending && now_us - g.last_seen_clock > options_.repeat_us) it = groups_.erase(it);
    else ++it;
  }
  // Bursts whose window has long passed are forgotten too (bounded memory).
  if (bursts_.size() > 4096) bursts_.clear();
}

void Detector::finish() {
  std::vector<std::pair<std::uint64_t, Group*>> order;
  for (auto& [key, g] : groups_)
    if (g.pending) order.push_back({g.order, &g});
  std::sort(order.begin(), order.end());
  for (auto& [o, g] : order) emit(*g);
}

std::string alert_json(const Alert& a) {
  std::string out;
  out.reserve(512);
  auto str = [&](std::string_view k, std::string_view v) {
    out += '"';
    out += k;
    out += "\":";
    JsonWriter::escape(out, v);  // quoted
  };
  auto list = [&](std::string_view k, const std::vector<std::string>& v) {
    out += '"';
    out += k;
    out += "\":[";
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (i) out += ',';
      JsonWriter::escape(out, v[i]);
    }
    out += ']';
  };
  out += '{';
  str("rule", a.rule->id);
  out += ',';
  str("severity", to_string(a.rule->severity));
  out += ',';
  str("title", a.rule->title);
  out += ',';
  str("user", a.user);
  out += ',';
  list("groups", a.groups);
  out += ',';
  list("sourceIPs", a.source_ips);
  out += ',';
  str("verb", a.verb);
  out += ",\"object\":{";
  str("apiGroup", a.api_group);
  out += ',';
  str("resource", a.resource);
  out += ',';
  str("subresource", a.subresource);
  out += ',';
  str("namespace", a.ns);
  out += ',';
  str("name", a.name);
  out += "},";
  str("requestURI", a.request_uri);
  out += ',';
  str("auditID", a.audit_id);
  out += ",\"count\":" + std::to_string(a.count) + ",";
  str("first", format_time_us(a.first_us));
  out += ',';
  str("last", format_time_us(a.last_us));
  out += ',';
  str("message", a.message);
  if (a.exempt) {
    out += ",\"exempt\":true,";
    str("exemptionReason", a.exemption_reason);
  }
  out += '}';
  return out;
}

void add_to_result(const Detector& d, const std::vector<Alert>& alerts, Category category, EngineResult& result) {
  if (std::find(result.categories.begin(), result.categories.end(), category) == result.categories.end())
    result.categories.push_back(category);
  std::unordered_map<const RuleInfo*, std::size_t> index;
  for (const auto& r : d.rules().rules) {
    if (!r->enabled) continue;
    index[r.get()] = result.rules.size();
    result.rules.push_back(r.get());
    RuleTally t;
    t.evaluated = d.events();
    result.tallies.push_back(t);
  }
  for (ScopeSummary& s : result.scopes) s.tallies.resize(result.rules.size());
  for (const Alert& a : alerts) {
    auto it = index.find(a.rule);
    if (it == index.end()) continue;
    RuleTally& t = result.tallies[it->second];
    Finding f;
    f.rule = a.rule;
    f.result = a.exempt ? Result::Exempt : Result::Fail;
    if (a.exempt) {
      ++t.exempted;
      f.exemption_reason = a.exemption_reason;
      f.exemption_until = a.exemption_until;
    } else {
      ++t.failed;
    }
    f.kind = a.resource.empty() ? "request" : a.resource;
    if (!a.subresource.empty()) f.kind += "/" + a.subresource;
    f.ns = a.ns;
    f.name = a.name.empty() ? a.request_uri : a.name;
    f.subject = "user " + a.user + ", " + a.verb + ", auditID " + a.audit_id;
    f.message = a.message + (a.count > 1 ? " ×" + std::to_string(a.count) : "") + " [" + format_time_us(a.first_us) +
                (a.count > 1 ? " – " + format_time_us(a.last_us) : "") + "]";
    f.location = {a.input, static_cast<std::uint32_t>(a.line), 1, "auditID " + a.audit_id};
    f.object = 0;
    result.findings.push_back(f);
  }
  for (std::size_t i = 0; i < result.tallies.size(); ++i) {
    RuleTally& t = result.tallies[i];
    t.passed = t.evaluated > t.failed + t.exempted ? t.evaluated - t.failed - t.exempted : 0;
  }
}

}  // namespace kg::audit

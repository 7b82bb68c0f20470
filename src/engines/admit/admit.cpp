#include "engines/admit/admit.hpp"

#include <algorithm>
#include <charconv>
#include <set>

#include "core/clock.hpp"
#include "core/glob.hpp"
#include "core/json_writer.hpp"

namespace kg::admit {

namespace {

constexpr std::string_view kEnforceLabel = "pod-security.kubernetes.io/enforce";
constexpr std::string_view kEnforceVersionLabel = "pod-security.kubernetes.io/enforce-version";
constexpr std::string_view kAuditLabel = "pod-security.kubernetes.io/audit";
constexpr std::string_view kAuditVersionLabel = "pod-security.kubernetes.io/audit-version";
constexpr std::string_view kWarnLabel = "pod-security.kubernetes.io/warn";
constexpr std::string_view kWarnVersionLabel = "pod-security.kubernetes.io/warn-version";
constexpr std::string_view kKguardEnforceLabel = "kguard.io/enforce";
constexpr std::string_view kKguardAuditLabel = "kguard.io/audit";
constexpr std::string_view kKguardWarnLabel = "kguard.io/warn";
// Kubernetes asks warnings to stay within 120 characters.
constexpr std::size_t kMaxWarning = 120;

// Pod subresources PSA never evaluates (admission/admission.go).
bool ignored_pod_subresource(std::string_view s) {
  static const std::string_view kIgnored[] = {"exec",        "attach", "binding", "eviction",
                                              "log",         "portforward", "proxy", "status"};
  return std::find(std::begin(kIgnored), std::end(kIgnored), s) != std::end(kIgnored);
}

const std::string* find_label(const Labels& labels, std::string_view key) {
  for (const auto& [k, v] : labels)
    if (k == key) return &v;
  return nullptr;
}

// JsonWriter::escape writes the quotes too.
void json_string(std::string& out, std::string_view s) { JsonWriter::escape(out, s); }

// Cuts `s` to at most `max` bytes on a UTF-8 boundary, ending in "...".
std::string truncate_utf8(std::string s, std::size_t max) {
  if (s.size() <= max) return s;
  std::size_t cut = max - 3;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  s.resize(cut);
  s += "...";
  return s;
}

std::string join(const std::vector<std::string>& v, std::string_view sep) {
  std::string out;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i) out += sep;
    out += v[i];
  }
  return out;
}

// Failed findings grouped by rule, in the order the evaluator produced them.
struct RuleFailures {
  const RuleInfo* rule;
  std::vector<std::string> messages;
};

std::vector<RuleFailures> failures_by_rule(const std::vector<Finding>& findings) {
  std::vector<RuleFailures> out;
  for (const Finding& f : findings) {
    if (f.result != Result::Fail) continue;
    auto it = std::find_if(out.begin(), out.end(),
                           [&](const RuleFailures& r) { return r.rule == f.rule; });
    if (it == out.end()) it = out.insert(out.end(), RuleFailures{f.rule, {}});
    if (std::find(it->messages.begin(), it->messages.end(), f.message) == it->messages.end())
      it->messages.push_back(f.message);
  }
  return out;
}

std::vector<std::string> rule_ids(const std::vector<RuleFailures>& failures) {
  std::vector<std::string> ids;
  ids.reserve(failures.size());
  for (const RuleFailures& r : failures) ids.push_back(r.rule->id);
  return ids;
}

// "pss-run-as-non-root (container "app" must set ...; fix: Set runAsNonRoot...)".
std::string denial_detail(const std::vector<RuleFailures>& failures) {
  std::string out;
  for (const RuleFailures& r : failures) {
    if (!out.empty()) out += ", ";
    out += r.rule->id + " (" + join(r.messages, "; ") + "; fix: " + r.rule->remediation + ")";
  }
  return out;
}

void add_warnings(std::vector<std::string>& warnings, std::string_view policy,
                  const std::vector<RuleFailures>& failures) {
  for (const RuleFailures& r : failures) {
    std::string w = "[" + std::string(policy) + "] " + r.rule->id + ": " + r.messages.front();
    if (r.messages.size() > 1) w += " (+" + std::to_string(r.messages.size() - 1) + " more)";
    warnings.push_back(truncate_utf8(std::move(w), kMaxWarning));
  }
}

// PSA's isSignificantPodUpdate: only images and container lists are mutable
// in a pod spec, so an update that changes neither cannot change the verdict.
bool significant_pod_update(const Node* pod, const Node* old_pod) {
  const Node* spec = get(pod, "spec");
  const Node* old_spec = get(old_pod, "spec");
  if (!spec || !old_spec) return true;
  const Node* annotations = get(get(pod, "metadata"), "annotations");
  const Node* old_annotations = get(get(old_pod, "metadata"), "annotations");
  for (std::string_view list : {"containers", "initContainers", "ephemeralContainers"}) {
    auto now = items(spec->get(list));
    auto before = items(old_spec->get(list));
    if (now.size() != before.size()) return true;
    for (std::size_t i = 0; i < now.size(); ++i) {
      if (str(get(now[i], "image")) != str(get(before[i], "image"))) return true;
      // The legacy per-container seccomp annotation was mutable too.
      const std::string key =
          "container.seccomp.security.alpha.kubernetes.io/" + std::string(str(get(now[i], "name")));
      if (str(get(annotations, key)) != str(get(old_annotations, key))) return true;
    }
  }
  return false;
}

struct Request {
  std::string_view uid, group, kind, resource, resource_group, sub_resource, name, ns, operation,
      username;
  bool dry_run = false;
  const Node* object = nullptr;
  const Node* old_object = nullptr;
};

}  // namespace

std::string LevelVersion::display() const {
  return std::string(to_string(level)) + ":" + (latest ? "latest" : "v1." + std::to_string(minor));
}

std::optional<PssLevel> parse_psa_level(std::string_view s) {
  if (s == "privileged") return PssLevel::Privileged;
  if (s == "baseline") return PssLevel::Baseline;
  if (s == "restricted") return PssLevel::Restricted;
  return std::nullopt;
}

std::optional<LevelVersion> parse_psa_version(std::string_view s, PssLevel level) {
  LevelVersion lv;
  lv.level = level;
  if (s == "latest") return lv;
  // ^v1\.(0|[1-9][0-9]*)$ as PSA's api/helpers.go.
  if (s.size() < 4 || s.substr(0, 3) != "v1.") return std::nullopt;
  std::string_view digits = s.substr(3);
  if (digits.empty() || (digits.size() > 1 && digits[0] == '0') ||
      digits.find_first_not_of("0123456789") != std::string_view::npos)
    return std::nullopt;
  int minor = 0;
  auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), minor);
  if (ec == std::errc::result_out_of_range) minor = kLatestPssMinor;  // huge: clamp like PSA
  else if (ec != std::errc{} || p != digits.data() + digits.size()) return std::nullopt;
  lv.latest = false;
  lv.minor = std::min(minor, kLatestPssMinor);  // newer than known: the newest known
  return lv;
}

NamespacePolicy policy_for_labels(const Labels& labels, const AdmitConfig& config) {
  NamespacePolicy p;
  // Defaults (validated when the config was read).
  auto def = [&](std::string_view key) -> std::string {
    auto it = config.default_labels.find(key);
    return it == config.default_labels.end() ? std::string() : it->second;
  };
  auto default_mode = [&](std::string_view level_key, std::string_view version_key) {
    LevelVersion lv;
    if (auto l = parse_psa_level(def(level_key))) lv.level = *l;
    if (auto v = parse_psa_version(def(version_key), lv.level)) lv = *v;
    return lv;
  };
  p.enforce = default_mode("enforce", "enforce-version");
  p.audit = default_mode("audit", "audit-version");
  p.warn = default_mode("warn", "warn-version");
  p.kguard_enforce = def("kguard-enforce");
  p.kguard_audit = def("kguard-audit");
  p.kguard_warn = def("kguard-warn");

  auto label_error = [&](std::string_view key, const std::string& value, std::string_view want) {
    p.errors.push_back(std::string(key) + "=" + value + ": must be " + std::string(want));
  };
  // PSA's PolicyToEvaluate: invalid enforce → restricted:latest (fail
  // closed); invalid audit/warn level → privileged (fail open); invalid
  // versions → latest.
  bool has_enforce_level = false;
  bool has_warn_level = false;
  bool has_warn_version = false;
  auto apply_version = [&](LevelVersion& lv, std::string_view key, bool enforce) {
    const std::string* v = find_label(labels, key);
    if (!v) return true;
    if (auto parsed = parse_psa_version(*v, lv.level)) {
      lv.minor = parsed->minor;
      lv.latest = parsed->latest;
      return true;
    }
    label_error(key, *v, "latest or v1.N");
    lv.minor = kLatestPssMinor;
    lv.latest = true;
    if (enforce) p.enforce_invalid = true;
    return false;
  };
  if (const std::string* v = find_label(labels, kEnforceLabel)) {
    if (auto l = parse_psa_level(*v)) {
      p.enforce.level = *l;
      has_enforce_level = true;
    } else {
      label_error(kEnforceLabel, *v, "privileged, baseline or restricted");
      p.enforce.level = PssLevel::Restricted;
      p.enforce_invalid = true;
    }
  }
  apply_version(p.enforce, kEnforceVersionLabel, true);
  if (const std::string* v = find_label(labels, kAuditLabel)) {
    if (auto l = parse_psa_level(*v)) {
      p.audit.level = *l;
    } else {
      label_error(kAuditLabel, *v, "privileged, baseline or restricted");
      p.audit.level = PssLevel::Privileged;
    }
  }
  apply_version(p.audit, kAuditVersionLabel, false);
  if (const std::string* v = find_label(labels, kWarnLabel)) {
    has_warn_level = true;
    if (auto l = parse_psa_level(*v)) {
      p.warn.level = *l;
    } else {
      label_error(kWarnLabel, *v, "privileged, baseline or restricted");
      p.warn.level = PssLevel::Privileged;
    }
  }
  has_warn_version = find_label(labels, kWarnVersionLabel) != nullptr;
  apply_version(p.warn, kWarnVersionLabel, false);
  // An explicit enforce level stricter than warn raises warn to it.
  if (!has_warn_level && has_enforce_level && p.enforce.level > p.warn.level) {
    p.warn.level = p.enforce.level;
    if (!has_warn_version) {
      p.warn.minor = p.enforce.minor;
      p.warn.latest = p.enforce.latest;
    }
  }

  // kguard profiles: an unknown enforce profile fails closed (every rule),
  // unknown audit/warn profiles are dropped.
  auto profile = [&](std::string_view key, std::string& into, bool enforce) {
    const std::string* v = find_label(labels, key);
    if (!v) return;
    if (config.profiles.count(*v)) {
      into = *v;
      return;
    }
    std::string known;
    for (const auto& [name, prof] : config.profiles) known += (known.empty() ? "" : ", ") + name;
    label_error(key, *v, "a profile from the config (" + (known.empty() ? "none defined" : known) + ")");
    into = enforce ? *v : std::string();
    if (enforce) p.enforce_invalid = true;
  };
  const bool had_kguard_warn = find_label(labels, kKguardWarnLabel) != nullptr;
  profile(kKguardEnforceLabel, p.kguard_enforce, true);
  profile(kKguardAuditLabel, p.kguard_audit, false);
  profile(kKguardWarnLabel, p.kguard_warn, false);
  // As PSA's warn inherits enforce: workloads (not denied at admission) still
  // hear about what their Pods will be refused for.
  if (!had_kguard_warn && p.kguard_warn.empty()) p.kguard_warn = p.kguard_enforce;
  return p;
}

std::unique_ptr<Engine> Engine::create(const Config& config, const AdmitConfig& admit,
                                       std::shared_ptr<const NamespaceSource> namespaces,
                                       std::vector<InputError>& errors,
                                       std::shared_ptr<ImageVerdictSource> images,
                                       std::shared_ptr<ImageSignatureSource> signatures) {
  std::unique_ptr<Engine> e(new Engine());
  e->signatures_ = std::move(signatures);
  e->admit_ = admit;
  e->config_ = config;
  e->namespaces_ = std::move(namespaces);
  e->images_ = std::move(images);
  const Catalog& catalog = Catalog::builtin();
  EvalOptions base;
  config.apply(base);
  base.use_annotation_exemptions = admit.annotation_exemptions;
  e->pod_specs_ = base.pod_specs;
  bool ok = true;
  auto check_setup = [&](const Evaluator& s, const std::string& what) {
    for (const InputError& err : s.setup_errors()) {
      ok = false;
      // Every per-level Evaluator sees the same config: report each problem once.
      if (std::any_of(errors.begin(), errors.end(), [&](const InputError& x) {
            return x.file == err.file && x.line == err.line && x.message.ends_with(err.message);
          }))
        continue;
      errors.push_back({err.file, err.line, err.column, what + ": " + err.message});
    }
  };
  for (PssLevel level : {PssLevel::Baseline, PssLevel::Restricted}) {
    auto& by_minor = e->pss_[level == PssLevel::Baseline ? 0 : 1];
    for (int minor = 0; minor <= kLatestPssMinor; ++minor) {
      EvalOptions o = base;
      o.only = {"pss"};
      o.pss_level = level;
      o.pss_minor = minor;
      by_minor.push_back(std::make_unique<Evaluator>(catalog, o));
    }
  }
  check_setup(*e->pss_[0].front(), "rules");
  for (const auto& [name, prof] : admit.profiles) {
    for (const std::string& sel : prof.rules) {
      bool known = catalog.categories().find(sel).has_value() || sel == "*";
      for (const auto& r : catalog.rules())
        if (r->id == sel || r->has_tag(sel)) known = true;
      if (!known) {
        errors.push_back({config.path, 0, 0,
                          "admission.profiles." + name + ": no rule, category or tag named '" + sel + "'"});
        ok = false;
      }
    }
    EvalOptions o = base;
    for (const std::string& sel : prof.rules)
      if (sel != "*") o.only.push_back(sel);
    o.pss_level = prof.pss_level;
    o.pss_minor = prof.pss_minor;
    auto s = std::make_unique<Evaluator>(catalog, o);
    check_setup(*s, "admission.profiles." + name);
    e->profiles_[name] = std::move(s);
  }
  e->strictest_ = std::make_unique<Evaluator>(catalog, base);
  if (!admit.vulnerabilities.empty() && !e->images_) {
    errors.push_back({config.path, admit.vulnerabilities.front().line, 0,
                      "admission.vulnerabilities: this kguard admit has no image scanner (run it with a "
                      "vulnerability database: --vuln-db)"});
    ok = false;
  }
  if (!admit.signatures.empty() && !e->signatures_) {
    errors.push_back({config.path, admit.signatures.front().line, 0,
                      "admission.signatures: this kguard admit has no signature verifier"});
    ok = false;
  }
  if (!ok) return nullptr;
  return e;
}

const Evaluator& Engine::pss_evaluator(const LevelVersion& lv) const {
  const int minor = std::clamp(lv.minor, 0, kLatestPssMinor);
  return *pss_[lv.level == PssLevel::Baseline ? 0 : 1][static_cast<std::size_t>(minor)];
}

const Evaluator* Engine::profile_evaluator(std::string_view name) const {
  if (name.empty()) return nullptr;
  auto it = profiles_.find(name);
  return it == profiles_.end() ? strictest_.get() : it->second.get();
}

namespace {

// The response body: an AdmissionReview v1 echoing the uid.
std::string encode_response(std::string_view uid, bool allowed, int code, std::string_view reason,
                            std::string_view message, const std::vector<std::string>& warnings,
                            const std::vector<std::pair<std::string, std::string>>& annotations) {
  std::string out;
  out.reserve(256 + message.size());
  out += R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":)";
  json_string(out, uid);
  out += allowed ? R"(,"allowed":true)" : R"(,"allowed":false)";
  if (!allowed) {
    out += R"(,"status":{"status":"Failure","code":)";
    out += std::to_string(code);
    out += R"(,"reason":)";
    json_string(out, reason);
    out += R"(,"message":)";
    json_string(out, message);
    out += '}';
  }
  if (!warnings.empty()) {
    out += R"(,"warnings":[)";
    for (std::size_t i = 0; i < warnings.size(); ++i) {
      if (i) out += ',';
      json_string(out, warnings[i]);
    }
    out += ']';
  }
  if (!annotations.empty()) {
    out += R"(,"auditAnnotations":{)";
    for (std::size_t i = 0; i < annotations.size(); ++i) {
      if (i) out += ',';
      json_string(out, annotations[i].first);
      out += ':';
      json_string(out, annotations[i].second);
    }
    out += '}';
  }
  out += "}}";
  return out;
}

// A value from the request quoted in an error message, cut so a hostile
// request cannot make the answer or the audit log large.
std::string excerpt(std::string_view v) { return truncate_utf8(std::string(v), 64); }

ReviewOutcome bad_request(std::string message) {
  ReviewOutcome r;
  r.http_status = 400;
  r.summary.decision = "error";
  r.summary.code = 400;
  r.summary.message = message;
  r.body = std::move(message);
  r.body += '\n';
  return r;
}

// The vulnerability gate over one Pod's images (docs/admission.md
// "Vulnerability policy"): each image under the first policy that matches it
// and the namespace, answered by the ImageVerdictSource within the policy's
// budget and the request's deadline.
struct GateOutcome {
  std::vector<std::string> denials;
  std::vector<std::string> warnings;
  std::vector<std::string> audit;  // audit-mode findings, for the audit annotation
};

std::string short_digest(std::string_view d) { return std::string(d.substr(0, std::min<std::size_t>(d.size(), 19))); }

void run_gate(const std::vector<VulnPolicy>& policies, ImageVerdictSource* source, const PodView& pod,
              std::string_view ns, const Labels& labels, Deadline deadline, ReviewSummary& s, GateOutcome& out) {
  std::vector<std::pair<std::string, const VulnPolicy*>> pending;
  for (const ContainerRef& c : containers_of(pod)) {
    const std::string image(str(get(c.node, "image")));
    if (image.empty() || std::any_of(pending.begin(), pending.end(), [&](const auto& t) { return t.first == image; }))
      continue;
    if (const VulnPolicy* p = select_policy(policies, image, ns, labels)) pending.emplace_back(image, p);
  }
  if (pending.empty()) return;
  const auto start = std::chrono::steady_clock::now();
  if (source) {
    for (const auto& [image, p] : pending) source->prefetch(image);
  }
  const std::string today = utc_today();
  for (const auto& item : pending) {
    // Named, not structured bindings: lambdas below capture them (clang before 16 refuses bindings).
    const std::string& image = item.first;
    const VulnPolicy* p = item.second;
    ImageCheck check;
    check.image = image;
    check.policy = p->name;
    check.mode = std::string(to_string(p->mode));
    const std::string where = "vulnerability policy \"" + p->name + "\"";
    // Cannot judge: enforce + fail-closed denies, anything else admits with a warning.
    auto cannot_judge = [&](const std::string& why) {
      const std::string msg = "image " + image + " cannot be judged: " + why;
      if (p->mode == GateMode::Enforce && p->fail_closed) {
        out.denials.push_back(msg + " (" + where + " fails closed)");
      } else {
        out.warnings.push_back("[" + p->name + "] " + msg);
        if (p->mode == GateMode::Audit) out.audit.push_back(msg);
      }
    };
    if (!source) {
      check.outcome = "error";
      check.error = "no image scanner";
      cannot_judge(check.error);
      s.images.push_back(std::move(check));
      continue;
    }
    const Deadline image_deadline = std::min(deadline, start + std::chrono::milliseconds(p->budget_ms));
    const ImageVerdict v = source->verdict(image, image_deadline, p->on_miss == OnMiss::Scan);
    check.digest = v.digest;
    check.scan_ms = v.scan_ms;
    const std::string named = image + (v.digest.empty() || image.find(v.digest) != std::string::npos
                                           ? ""
                                           : " (" + v.digest + ")");
    switch (v.status) {
      case ImageVerdict::Status::Error:
        check.outcome = "error";
        check.error = v.error;
        cannot_judge(v.error);
        break;
      case ImageVerdict::Status::Timeout:
        check.outcome = "timeout";
        check.error = "not scanned within " + std::to_string(p->budget_ms) + " ms (the scan goes on; a retry is answered from the cache)";
        cannot_judge(check.error);
        break;
      case ImageVerdict::Status::Miss:
        check.outcome = "miss";
        if (p->on_miss == OnMiss::Deny && p->mode == GateMode::Enforce) {
          out.denials.push_back("image " + named + " has not been scanned yet (" + where +
                                " has onMiss: deny; kguard is scanning it now, retry shortly)");
        } else {
          out.warnings.push_back("[" + p->name + "] image " + image + " admitted unscanned (onMiss: " +
                                 std::string(to_string(p->on_miss)) + "); being scanned now");
        }
        break;
      case ImageVerdict::Status::Scanned: {
        check.cache = v.cache_hit ? "hit" : "scan";
        const ImageJudgement j = judge_image(*p, *v.vulns, today);
        std::copy(std::begin(j.counts), std::end(j.counts), std::begin(check.counts));
        // One line per vulnerability: its worst package (a source package's binaries share an id).
        std::vector<const VulnMatch*> distinct;
        for (const VulnMatch* m : j.violations) {
          if (std::none_of(distinct.begin(), distinct.end(), [&](const VulnMatch* d) { return d->id == m->id; }))
            distinct.push_back(m);
        }
        for (const VulnMatch* m : distinct)
          if (check.violations.size() < 10) check.violations.push_back(m->id);
        for (const auto& ig : j.ignored) {
          if (std::find(check.ignored.begin(), check.ignored.end(), ig.match->id) != check.ignored.end()) continue;
          check.ignored.push_back(ig.match->id);
          out.warnings.push_back("[" + p->name + "] " + image + ": " + ig.match->id + " (" +
                                 std::string(kg::to_string(ig.match->severity)) + ", " + ig.match->package_name +
                                 ") ignored: " + ig.by->reason);
        }
        if (distinct.empty()) {
          check.outcome = "pass";
          break;
        }
        check.outcome = "violation";
        std::string worst;
        constexpr std::size_t kShown = 3;
        for (std::size_t i = 0; i < distinct.size() && i < kShown; ++i)
          worst += (i ? ", " : "") + describe_match(*distinct[i]);
        if (distinct.size() > kShown) worst += " and " + std::to_string(distinct.size() - kShown) + " more";
        const std::string n = std::to_string(distinct.size());
        const std::string what = "image " + named + " has " + n + " vulnerabilit" +
                                 (distinct.size() == 1 ? "y" : "ies") + " over " + where + " (" + p->threshold() +
                                 "): " + worst;
        if (p->mode == GateMode::Enforce) {
          out.denials.push_back(what);
        } else if (p->mode == GateMode::Warn) {
          out.warnings.push_back("[" + p->name + "] " + image + " would be denied: " +
                                 n + " over " + p->threshold() + ", worst " + describe_match(*distinct.front()));
        } else {
          out.audit.push_back(what);
        }
        break;
      }
    }
    s.images.push_back(std::move(check));
  }
}

// What a denial says of each required attestation the digest lacks or whose content was refused:
// the image, the digest, the predicate type and why.
std::vector<std::string> attestation_problems(const SignatureVerdict& v, const std::string& named,
                                              const std::string& where) {
  std::vector<std::string> out;
  for (const AttestationVerdict& a : v.attestations) {
    if (a.outcome == "verified") continue;
    out.push_back("image " + named + (a.outcome == "missing" ? " lacks the attestation " : " fails the attestation ") +
                  a.predicate_type + " that " + where + " requires: " + a.reason);
  }
  return out;
}

// The signature gate over one Pod's images (docs/admission.md "Signature
// policy"): each image under the first signature policy that matches it, its
// digest verified by the ImageSignatureSource within the policy's budget.
void run_signature_gate(const std::vector<SignaturePolicy>& policies, ImageSignatureSource* source,
                        const PodView& pod, std::string_view ns, const Labels& labels, Deadline deadline,
                        ReviewSummary& s, GateOutcome& out) {
  std::vector<std::pair<std::string, const SignaturePolicy*>> pending;
  for (const ContainerRef& c : containers_of(pod)) {
    const std::string image(str(get(c.node, "image")));
    if (image.empty() || std::any_of(pending.begin(), pending.end(), [&](const auto& t) { return t.first == image; }))
      continue;
    if (const SignaturePolicy* p = select_signature_policy(policies, image, ns, labels)) pending.emplace_back(image, p);
  }
  const auto start = std::chrono::steady_clock::now();
  for (const auto& item : pending) {
    const std::string& image = item.first;
    const SignaturePolicy* p = item.second;
    SignatureCheck check;
    check.image = image;
    check.policy = p->name;
    check.mode = std::string(to_string(p->mode));
    const std::string where = "signature policy \"" + p->name + "\"";
    SignatureVerdict v;
    if (source) {
      const Deadline image_deadline = std::min(deadline, start + std::chrono::milliseconds(p->budget_ms));
      v = source->verify(image, *p, image_deadline);
    } else {
      v.reason = "no signature verifier";
    }
    check.digest = v.digest;
    check.verify_ms = v.verify_ms;
    check.signed_by = v.signed_by;
    check.reason = v.reason;
    check.attestations = v.attestations;
    const std::string named = image + (v.digest.empty() || image.find(v.digest) != std::string::npos
                                           ? ""
                                           : " (" + v.digest + ")");
    std::string problem;  // what a denial says
    bool cannot_verify = false;
    switch (v.status) {
      case SignatureVerdict::Status::Verified:
        check.outcome = "verified";
        check.cache = v.cache_hit ? "hit" : "verify";
        break;
      case SignatureVerdict::Status::Unverified:
        check.outcome = "unverified";
        check.cache = v.cache_hit ? "hit" : "verify";
        problem = "image " + named + " is not signed as " + where + " requires: " + v.reason;
        break;
      case SignatureVerdict::Status::Timeout:
        check.outcome = "timeout";
        cannot_verify = true;
        problem = "image " + named + " cannot be verified: the registry did not answer within " +
                  std::to_string(p->budget_ms) + " ms";
        break;
      case SignatureVerdict::Status::Error:
        check.outcome = "error";
        cannot_verify = true;
        problem = "image " + named + " cannot be verified: " + v.reason;
        break;
    }
    std::vector<std::string> problems;
    if (!problem.empty()) problems.push_back(problem);
    if (!cannot_verify)
      for (std::string& a : attestation_problems(v, named, where)) problems.push_back(std::move(a));
    for (const std::string& one : problems) {
      if (p->mode == GateMode::Enforce && (!cannot_verify || p->fail_closed)) {
        out.denials.push_back(one + (cannot_verify ? " (" + where + " fails closed)" : ""));
      } else {
        // As the vulnerability gate: audit mode records an answered "unsigned" silently; what
        // could not be verified is also warned about (the user should know the check did not run).
        if (p->mode != GateMode::Audit || cannot_verify) out.warnings.push_back("[" + p->name + "] " + one);
        if (p->mode == GateMode::Audit) out.audit.push_back(one);
      }
    }
    s.signatures.push_back(std::move(check));
  }
}
}  // namespace

ReviewOutcome Engine::review(std::string body, std::chrono::steady_clock::time_point deadline) const {
  SourceFile file;
  file.path = "AdmissionReview";
  file.content = std::move(body);
  const Node* root = nullptr;
  std::size_t values = 0;
  LoadLimits limits;
  limits.max_depth = 256;
  load_json(file, file.arena, false, limits, [&](const Document& d) {
    if (values++ == 0) root = d.root;
  });
  if (!file.errors.empty()) {
    const InputError& e = file.errors.front();
    return bad_request("request body is not valid JSON: line " + std::to_string(e.line) +
                       " column " + std::to_string(e.column) + ": " + e.message);
  }
  if (values != 1 || !root || !root->is_map())
    return bad_request("request body must be one JSON object (an AdmissionReview)");
  const std::string_view api_version = str(root->get("apiVersion"));
  if (api_version != "admission.k8s.io/v1") {
    return bad_request("apiVersion must be admission.k8s.io/v1, not '" + excerpt(api_version) +
                       "' (register the webhook with admissionReviewVersions: [v1])");
  }
  if (str(root->get("kind")) != "AdmissionReview")
    return bad_request("kind must be AdmissionReview, not '" + excerpt(str(root->get("kind"))) + "'");
  const Node* req_node = root->get("request");
  if (!req_node || !req_node->is_map()) return bad_request("AdmissionReview has no request object");

  Request req;
  req.uid = str(req_node->get("uid"));
  if (req.uid.empty()) return bad_request("request.uid is missing or not a string");
  const Node* kind = req_node->get("kind");
  req.group = str(get(kind, "group"));
  req.kind = str(get(kind, "kind"));
  if (req.kind.empty()) return bad_request("request.kind.kind is missing");
  const Node* resource = req_node->get("resource");
  req.resource = str(get(resource, "resource"));
  req.resource_group = str(get(resource, "group"));
  req.sub_resource = str(req_node->get("subResource"));
  req.name = str(req_node->get("name"));
  req.ns = str(req_node->get("namespace"));
  req.operation = str(req_node->get("operation"));
  if (req.operation != "CREATE" && req.operation != "UPDATE" && req.operation != "DELETE" &&
      req.operation != "CONNECT") {
    return bad_request("request.operation must be CREATE, UPDATE, DELETE or CONNECT, not '" +
                       excerpt(req.operation) + "'");
  }
  req.username = str(get(req_node->get("userInfo"), "username"));
  req.dry_run = is_true(req_node->get("dryRun"));
  req.object = req_node->get("object");
  req.old_object = req_node->get("oldObject");
  if (req.object && req.object->is_null()) req.object = nullptr;
  if (req.old_object && req.old_object->is_null()) req.old_object = nullptr;
  if ((req.operation == "CREATE" || req.operation == "UPDATE") && !req.sub_resource.size() &&
      (!req.object || !req.object->is_map()))
    return bad_request("request.object must be an object for " + std::string(req.operation));

  ReviewOutcome out;
  ReviewSummary& s = out.summary;
  s.uid = std::string(req.uid);
  s.kind = std::string(req.kind);
  s.ns = std::string(req.ns);
  s.name = std::string(req.name);
  if (s.name.empty() && req.object)
    s.name = std::string(str(get(get(req.object, "metadata"), "generateName")));
  s.operation = std::string(req.operation);
  s.sub_resource = std::string(req.sub_resource);
  s.username = std::string(req.username);
  s.dry_run = req.dry_run;

  std::vector<std::pair<std::string, std::string>> annotations;
  std::vector<std::string> warnings;
  auto finish = [&](bool allowed, int code, std::string_view reason, const std::string& message) {
    s.code = allowed ? 200 : code;
    if (!allowed) s.decision = "deny";
    else if (!s.exempt.empty()) s.decision = "exempt";
    else if (!warnings.empty()) s.decision = "warn";
    else s.decision = "allow";
    s.message = message;
    annotations.emplace_back("decision", s.decision);
    out.body = encode_response(req.uid, allowed, code, reason, message, warnings, annotations);
    return out;
  };
  auto allow = [&] { return finish(true, 200, "", ""); };

  const bool is_pod = req.group.empty() && req.kind == "Pod";
  const bool is_namespace = req.group.empty() && req.kind == "Namespace";
  const std::string* template_path = pod_specs_.find(req.kind);
  const bool is_workload = !is_pod && template_path != nullptr;
  // What a denial names: `pods "web"`, `deployments.apps "web"`.
  std::string subject = std::string(req.resource.empty() ? req.kind : req.resource);
  if (!req.resource_group.empty()) subject += "." + std::string(req.resource_group);
  subject += " \"" + s.name + "\"";

  if (req.operation == "DELETE" || req.operation == "CONNECT") return allow();
  if (is_pod ? ignored_pod_subresource(req.sub_resource) : !req.sub_resource.empty()) return allow();

  std::optional<Labels> own_labels;  // a Namespace is selected by its own labels
  if (is_namespace) {
    // Invalid policy labels on a Namespace are refused (422) as PSA does.
    if (any_glob(admit_.exempt_namespaces, req.name)) return allow();
    own_labels = read_labels(get(get(req.object, "metadata"), "labels"));
    const NamespacePolicy p = policy_for_labels(*own_labels, admit_);
    if (!p.errors.empty())
      return finish(false, 422, "Invalid", subject + " is invalid: " + join(p.errors, "; "));
  }

  if (any_glob(admit_.exempt_namespaces, req.ns)) {
    s.exempt = "namespace";
    annotations.emplace_back("exempt", "namespace");
    return allow();
  }
  if (any_glob(admit_.exempt_usernames, req.username)) {
    s.exempt = "user";
    annotations.emplace_back("exempt", "user");
    return allow();
  }

  std::optional<Labels> labels = own_labels       ? own_labels
                                 : req.ns.empty() ? Labels{}
                                                  : namespaces_->labels(req.ns);
  if (!labels) {
    const std::string msg = "kguard: the labels of namespace \"" + std::string(req.ns) +
                            "\" are not known yet (" + namespaces_->describe() + ")";
    annotations.emplace_back("error", msg);
    if (is_pod) return finish(false, 500, "InternalError", msg);  // fail closed, as PSA
    return allow();                                                // fail open for the rest
  }
  const NamespacePolicy policy = policy_for_labels(*labels, admit_);
  if (!policy.errors.empty()) annotations.emplace_back("error", "invalid namespace labels: " + join(policy.errors, "; "));

  const bool pss_applies = is_pod || is_workload;
  const bool pss_idle = policy.enforce.level == PssLevel::Privileged &&
                        policy.audit.level == PssLevel::Privileged &&
                        policy.warn.level == PssLevel::Privileged;
  const bool kguard_idle =
      policy.kguard_enforce.empty() && policy.kguard_audit.empty() && policy.kguard_warn.empty();
  if (is_pod) annotations.emplace_back("enforce-policy", policy.enforce.display());
  // The vulnerability gate judges Pods (their images are what runs); workloads are left to their Pods.
  const bool gate_applies = is_pod && !admit_.vulnerabilities.empty() &&
                            (req.operation == "CREATE" || req.operation == "UPDATE");
  const bool sig_gate_applies = is_pod && !admit_.signatures.empty() &&
                                (req.operation == "CREATE" || req.operation == "UPDATE");
  if ((!pss_applies || pss_idle) && kguard_idle && !gate_applies && !sig_gate_applies) return allow();

  if (is_pod && req.operation == "UPDATE" && req.old_object &&
      !significant_pod_update(req.object, req.old_object))
    return allow();

  // The object as the scan engine sees it; its namespace defaults to the request's.
  if (!req.object || !req.object->is_map()) {
    return bad_request("request.object must be an object for " + std::string(req.operation) +
                       (req.sub_resource.empty() ? "" : " of " + std::string(req.sub_resource)));
  }
  Document doc;
  doc.root = req.object;
  std::vector<Object> objects;
  std::vector<InputError> object_errors;
  collect_objects(file, doc, objects, object_errors);
  if (objects.size() != 1) {
    const std::string msg = object_errors.empty()
                                ? "request.object must be one Kubernetes object"
                                : "request.object: " + object_errors.front().message;
    return bad_request(msg);
  }
  Object obj = objects.front();
  if (obj.ns.empty()) obj.ns = req.ns;
  if (obj.name.empty()) obj.name = s.name;

  if (pss_applies && !admit_.exempt_runtime_classes.empty()) {
    const PodView pod = pod_view(obj, pod_specs_);
    if (pod && any_glob(admit_.exempt_runtime_classes, str(pod.spec->get("runtimeClassName")))) {
      s.exempt = "runtimeClass";
      annotations.emplace_back("exempt", "runtimeClass");
      return allow();
    }
  }

  auto past_deadline = [&] { return std::chrono::steady_clock::now() > deadline; };
  auto timed_out = [&] {
    const std::string msg = "kguard: evaluation did not finish within the request's timeout";
    annotations.emplace_back("error", msg);
    if (is_pod) return finish(false, 500, "InternalError", msg);
    return allow();
  };
  if (past_deadline()) return timed_out();

  // Each (evaluator) is evaluated at most once per request, then reused by the
  // modes that share it, as PSA reuses results across equal level:versions.
  std::vector<std::pair<const Evaluator*, std::vector<RuleFailures>>> memo;
  std::vector<InputError> ignored_warnings;
  auto evaluate = [&](const Evaluator* evaluator) -> const std::vector<RuleFailures>& {
    for (const auto& [sc, f] : memo)
      if (sc == evaluator) return f;
    std::vector<Finding> findings;
    evaluator->evaluate_object(obj, findings, ignored_warnings);
    memo.emplace_back(evaluator, failures_by_rule(findings));
    return memo.back().second;
  };
  auto pss = [&](const LevelVersion& lv) -> const Evaluator* {
    return pss_applies && lv.level != PssLevel::Privileged ? &pss_evaluator(lv) : nullptr;
  };

  bool allowed = true;
  std::vector<std::string> denial;
  // Enforce: Pods always; workloads only for kguard profiles with enforceWorkloads;
  // other kinds (no Pod is created from them later) by kguard profiles.
  if (const Evaluator* sc = pss(policy.enforce); sc && is_pod) {
    const auto& f = evaluate(sc);
    if (!f.empty()) {
      allowed = false;
      s.enforce_rules = rule_ids(f);
      denial.push_back("violates PodSecurity \"" + policy.enforce.display() + "\": " + denial_detail(f));
    }
  }
  const bool kguard_enforces = is_pod || !is_workload || admit_.enforce_workloads;
  if (const Evaluator* sc = profile_evaluator(policy.kguard_enforce); sc && kguard_enforces) {
    if (past_deadline()) return timed_out();
    const auto& f = evaluate(sc);
    if (!f.empty()) {
      allowed = false;
      for (const std::string& id : rule_ids(f)) s.enforce_rules.push_back(id);
      denial.push_back("violates kguard profile \"" + policy.kguard_enforce + "\"" +
                       (policy.enforce_invalid && !admit_.profiles.count(policy.kguard_enforce)
                            ? " (unknown profile: every rule applies)"
                            : "") +
                       ": " + denial_detail(f));
    }
  }
  if (!s.enforce_rules.empty()) annotations.emplace_back("enforce-violations", join(s.enforce_rules, ","));

  // The vulnerability gate: only when nothing denied the Pod already (an
  // image scan is the most expensive thing a review can do).
  GateOutcome gate;
  // The signature gate first: verifying is cheaper than scanning, and an
  // unsigned image need not be scanned.
  if (sig_gate_applies && allowed) {
    GateOutcome sig;
    run_signature_gate(admit_.signatures, signatures_.get(), pod_view(obj, pod_specs_), req.ns, *labels, deadline, s,
                       sig);
    if (!sig.denials.empty()) {
      allowed = false;
      denial.push_back(join(sig.denials, "; "));
    }
    std::string summary;
    for (const SignatureCheck& c : s.signatures) {
      if (!summary.empty()) summary += "; ";
      std::size_t refused = 0;
      for (const AttestationVerdict& a : c.attestations) refused += a.outcome != "verified";
      summary += c.image + (c.digest.empty() ? "" : "@" + short_digest(c.digest)) + ": " + c.outcome +
                 (refused ? ", " + std::to_string(refused) + " attestation(s) missing or failed" : "") + " (" +
                 c.policy + ")";
    }
    if (!summary.empty()) annotations.emplace_back("image-signatures", truncate_utf8(summary, 1024));
    if (!sig.audit.empty())
      annotations.emplace_back("image-signatures-audit", truncate_utf8(join(sig.audit, "; "), 1024));
    for (std::string& w : sig.warnings) gate.warnings.push_back(std::move(w));
  }
  if (gate_applies && allowed) {
    run_gate(admit_.vulnerabilities, images_.get(), pod_view(obj, pod_specs_), req.ns, *labels, deadline, s, gate);
    if (!gate.denials.empty()) {
      allowed = false;
      denial.push_back(join(gate.denials, "; "));
    }
    std::string summary;
    for (const ImageCheck& c : s.images) {
      if (!summary.empty()) summary += "; ";
      summary += c.image + (c.digest.empty() ? "" : "@" + short_digest(c.digest)) + ": " + c.outcome + " (" +
                 c.policy + ")";
    }
    if (!summary.empty()) annotations.emplace_back("image-vulnerabilities", truncate_utf8(summary, 1024));
    if (!gate.audit.empty())
      annotations.emplace_back("image-vulnerabilities-audit", truncate_utf8(join(gate.audit, "; "), 1024));
  }

  // Audit: recorded in the audit annotations and the audit log, never denied.
  std::vector<std::string> audit_parts;
  if (const Evaluator* sc = pss(policy.audit)) {
    if (past_deadline()) return timed_out();
    const auto& f = evaluate(sc);
    if (!f.empty()) {
      s.audit_rules = rule_ids(f);
      annotations.emplace_back("audit-violations", "would violate PodSecurity \"" +
                                                       policy.audit.display() + "\": " +
                                                       join(s.audit_rules, ", "));
    }
  }
  if (const Evaluator* sc = profile_evaluator(policy.kguard_audit)) {
    if (past_deadline()) return timed_out();
    const auto& f = evaluate(sc);
    if (!f.empty()) {
      const auto ids = rule_ids(f);
      for (const std::string& id : ids) s.audit_rules.push_back(id);
      annotations.emplace_back("kguard-audit-violations", "would violate kguard profile \"" +
                                                              policy.kguard_audit + "\": " +
                                                              join(ids, ", "));
    }
  }

  // Warn: only when the request is still allowed (PSA does not pile warnings on a denial).
  if (allowed) {
    if (const Evaluator* sc = pss(policy.warn)) {
      if (past_deadline()) return timed_out();
      const auto& f = evaluate(sc);
      s.warn_rules = rule_ids(f);
      add_warnings(warnings, policy.warn.display(), f);
    }
    // A workload's kguard enforce profile warns when it does not deny.
    std::string warn_profile = policy.kguard_warn;
    if (const Evaluator* sc = profile_evaluator(warn_profile)) {
      if (past_deadline()) return timed_out();
      const auto& f = evaluate(sc);
      for (const std::string& id : rule_ids(f)) s.warn_rules.push_back(id);
      add_warnings(warnings, warn_profile, f);
    }
    if (!s.warn_rules.empty()) annotations.emplace_back("warn-violations", join(s.warn_rules, ","));
    // An ignore's reason is the point of its warning: the API server's own
    // per-item cut (256 runes, when the warnings pass 4 KiB) instead of 120.
    for (std::string& w : gate.warnings) warnings.push_back(truncate_utf8(std::move(w), 256));
  }

  std::set<std::string> hit(s.enforce_rules.begin(), s.enforce_rules.end());
  hit.insert(s.audit_rules.begin(), s.audit_rules.end());
  hit.insert(s.warn_rules.begin(), s.warn_rules.end());
  if (!hit.empty()) annotations.emplace_back("rules", join({hit.begin(), hit.end()}, ","));
  if (!allowed)
    return finish(false, 403, "Forbidden", subject + " is forbidden: " + join(denial, "; "));
  return allow();
}

}  // namespace kg::admit

// The audit engine (engines/audit): the event parser, stages and auditID
// de-duplication, aggregation, bursts, the baseline, exemptions, and the
// generic fixture runner over rules/audit/<id>/{fires,quiet}.jsonl.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "catalog/catalog.hpp"
#include "core/document.hpp"
#include "engines/audit/detector.hpp"
#include "engines/audit/event.hpp"
#include "engines/audit/rules.hpp"

namespace kg::audit {
namespace {

namespace fs = std::filesystem;

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Every event of a text (JSON lines, pretty values, EventLists), with its line.
struct Read {
  std::vector<std::string> errors;
  std::uint64_t events = 0;
};

template <typename F>
Read read_events(std::string_view text, F&& on_event) {
  Read r;
  EventParser p;
  split_values(
      text, 1, true,
      [&](std::string_view v, std::uint64_t line) {
        ParseError e;
        if (!p.parse_value(v, [&](const AuditEvent& ev) { ++r.events; on_event(ev, line); }, e))
          r.errors.push_back(std::to_string(line) + ": " + e.message);
      },
      [&](std::uint64_t line, const std::string& m) { r.errors.push_back(std::to_string(line) + ": " + m); });
  return r;
}

TEST(AuditParser, ReadsTheFieldsRulesUse) {
  const std::string line =
      R"({"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"RequestResponse","auditID":"a-1","stage":"ResponseStarted",)"
      R"("requestURI":"/api/v1/namespaces/default/pods/web/exec?command=sh","verb":"create",)"
      R"("user":{"username":"al\u00efce","uid":"1","groups":["system:masters","system:authenticated"],"extra":{"k":["v"]}},)"
      R"("impersonatedUser":{"username":"bob"},"sourceIPs":["10.0.0.1","127.0.0.1"],"userAgent":"kubectl",)"
      R"("objectRef":{"resource":"pods","namespace":"default","name":"web","apiVersion":"v1","subresource":"exec"},)"
      R"("responseStatus":{"metadata":{},"code":101},"requestObject":{"a":[1,2,{"b":"}"}]},"responseObject":null,)"
      R"("requestReceivedTimestamp":"2026-12-05T04:00:00.000001Z","stageTimestamp":"2026-12-05T04:00:01.5Z",)"
      R"("annotations":{"authorization.k8s.io/decision":"allow","authorization.k8s.io/reason":"RBAC: \"x\""}})";
  int n = 0;
  const Read r = read_events(line, [&](const AuditEvent& ev, std::uint64_t) {
    ++n;
    EXPECT_EQ(ev.audit_id, "a-1");
    EXPECT_EQ(ev.stage, "ResponseStarted");
    EXPECT_EQ(ev.verb, "create");
    EXPECT_EQ(ev.username, "al\xc3\xaf" "ce");
    ASSERT_EQ(ev.groups.size(), 2u);
    EXPECT_EQ(ev.groups[0], "system:masters");
    EXPECT_EQ(ev.impersonated_user, "bob");
    ASSERT_EQ(ev.source_ips.size(), 2u);
    EXPECT_EQ(ev.object.resource, "pods");
    EXPECT_EQ(ev.object.subresource, "exec");
    EXPECT_EQ(ev.object.ns, "default");
    EXPECT_EQ(ev.object.name, "web");
    EXPECT_EQ(ev.code, 101);
    EXPECT_EQ(ev.decision, "allow");
    EXPECT_EQ(ev.reason, "RBAC: \"x\"");
    EXPECT_EQ(ev.request_object, R"({"a":[1,2,{"b":"}"}]})");
    EXPECT_TRUE(ev.response_object.empty());
    EXPECT_EQ(ev.time_us, parse_time_us("2026-12-05T04:00:01.500000Z"));
  });
  EXPECT_TRUE(r.errors.empty()) << r.errors.front();
  EXPECT_EQ(n, 1);
}

TEST(AuditParser, EventListsPrettyValuesV1beta1AndBadLines) {
  const std::string text =
      "{\"kind\":\"EventList\",\"apiVersion\":\"audit.k8s.io/v1\",\"metadata\":{},\"items\":["
      "{\"auditID\":\"1\",\"stage\":\"ResponseComplete\",\"verb\":\"get\"},"
      "{\"auditID\":\"2\",\"stage\":\"ResponseComplete\",\"verb\":\"list\"}]}\n"
      "not json at all\n"
      "{\n  \"kind\": \"Event\",\n  \"apiVersion\": \"audit.k8s.io/v1beta1\",\n  \"auditID\": \"3\",\n"
      "  \"stage\": \"ResponseComplete\", \"verb\": \"delete\", \"timestamp\": \"2018-01-01T00:00:00Z\"\n}\n"
      "{\"kind\":\"Pod\",\"apiVersion\":\"v1\"}\n"
      "{\"auditID\":\"4\",\"verb\":\"get\",\"stage\":\"ResponseComplete\"\n"
      "{\"auditID\":\"5\",\"verb\":\"get\",\"stage\":\"ResponseComplete\"}";
  std::vector<std::string> ids;
  std::vector<std::uint64_t> lines;
  const Read r = read_events(text, [&](const AuditEvent& ev, std::uint64_t line) {
    ids.emplace_back(ev.audit_id);
    lines.push_back(line);
  });
  EXPECT_EQ(ids, (std::vector<std::string>{"1", "2", "3", "5"}));
  EXPECT_EQ(lines, (std::vector<std::uint64_t>{1, 1, 3, 11}));
  ASSERT_EQ(r.errors.size(), 3u);
  EXPECT_EQ(r.errors[0].substr(0, 2), "2:");
  EXPECT_NE(r.errors[1].find("kind Pod"), std::string::npos);
  EXPECT_EQ(r.errors[2].substr(0, 3), "10:");
}

TEST(AuditParser, HostileInputNeverCrashes) {
  std::string deep(100000, '[');
  std::vector<std::string> inputs = {deep, "{\"requestObject\":" + deep + "}", "{\"a\":\"\\", "{\"user\":{\"groups\":[1]}}",
                                     "{\"auditID\":\"\\ud800\",\"verb\":\"x\"}", "{}", "{\"items\":5}", "\"str\""};
  for (const std::string& s : inputs) {
    EventParser p;
    ParseError e;
    int n = 0;
    p.parse_value(s, [&](const AuditEvent&) { ++n; }, e);
    EXPECT_LE(n, 1);
  }
}

TEST(AuditParser, Times) {
  EXPECT_EQ(parse_time_us("1970-01-01T00:00:01Z"), 1'000'000);
  EXPECT_EQ(parse_time_us("2026-12-05T04:00:00.123456Z"), parse_time_us("2026-12-05T05:00:00.123456+01:00"));
  EXPECT_EQ(parse_time_us("2026-13-05T04:00:00Z"), -1);
  EXPECT_EQ(parse_time_us("yesterday"), -1);
  EXPECT_EQ(format_time_us(parse_time_us("2026-12-05T04:00:00.5Z")), "2026-12-05T04:00:00.500000Z");
}

std::shared_ptr<RuleSet> one_rule(const std::string& yaml) {
  auto set = std::make_shared<RuleSet>();
  std::vector<InputError> errors;
  EXPECT_TRUE(add_rule(*set, "test/rule.yaml", yaml, errors)) << (errors.empty() ? "" : errors.front().message);
  return set;
}

const char* kSecretGet = R"(id: audit-test
title: t
severity: high
rationale: r
remediation: m
check: audit-event
params: {verbs: [get], resources: [secrets], codes: [2xx]}
)";

std::string event(const std::string& id, const std::string& user, const std::string& name, int second,
                  const std::string& stage = "ResponseComplete", int code = 200) {
  char ts[64];
  std::snprintf(ts, sizeof ts, "2026-12-05T04:%02d:%02d.000000Z", second / 60, second % 60);
  return R"({"auditID":")" + id + R"(","stage":")" + stage + R"(","verb":"get","user":{"username":")" + user +
         R"("},"objectRef":{"resource":"secrets","namespace":"ns","name":")" + name +
         R"("},"responseStatus":{"code":)" + std::to_string(code) + R"(},"stageTimestamp":")" + ts + "\"}\n";
}

std::vector<Alert> run(std::shared_ptr<RuleSet> rules, const std::string& text, DetectorOptions o = {},
                       const std::string& baseline = {}) {
  std::vector<Alert> out;
  Detector d(rules, o, [&](Alert&& a) { out.push_back(std::move(a)); });
  if (!baseline.empty()) read_events(baseline, [&](const AuditEvent& ev, std::uint64_t) { d.learn(ev); });
  read_events(text, [&](const AuditEvent& ev, std::uint64_t line) { d.process(ev, 0, "t", line); });
  d.finish();
  return out;
}

TEST(AuditDetector, OneControllerReadingSecretsIsOneAlertWithACount) {
  std::string text;
  for (int i = 0; i < 40000; ++i) text += event("id-" + std::to_string(i), "system:serviceaccount:x:ctrl", "s" + std::to_string(i % 7), i % 3600);
  text += event("other", "eve", "s1", 10);
  const auto alerts = run(one_rule(kSecretGet), text);
  ASSERT_EQ(alerts.size(), 2u);
  EXPECT_EQ(alerts[0].user, "system:serviceaccount:x:ctrl");
  EXPECT_EQ(alerts[0].count, 40000u);
  EXPECT_EQ(alerts[0].audit_id, "id-0");
  EXPECT_EQ(format_time_us(alerts[0].first_us), "2026-12-05T04:00:00.000000Z");
  EXPECT_EQ(alerts[1].user, "eve");
  EXPECT_EQ(alerts[1].count, 1u);
}

TEST(AuditDetector, StagesOfOneRequestRaiseOneAlert) {
  auto rules = one_rule(std::string(kSecretGet) + "aggregateBy: [auditID]\n");
  // The same auditID twice at ResponseComplete (a log replayed with the webhook's copy): one alert.
  const auto alerts = run(rules, event("a", "u", "s", 1) + event("a", "u", "s", 1) + event("b", "u", "s", 2));
  ASSERT_EQ(alerts.size(), 2u);
  EXPECT_EQ(alerts[0].count, 1u);
  // A rule on ResponseComplete ignores the other stages.
  EXPECT_TRUE(run(rules, event("c", "u", "s", 1, "RequestReceived") + event("d", "u", "s", 1, "ResponseStarted")).empty());
}

TEST(AuditDetector, WindowsEmitByTheProcessingClockThenRepeat) {
  DetectorOptions o;
  o.window_us = 10'000'000;
  o.repeat_us = 60'000'000;
  std::vector<Alert> out;
  Detector d(one_rule(kSecretGet), o, [&](Alert&& a) { out.push_back(std::move(a)); });
  auto feed = [&](const std::string& id, std::int64_t now) {
    read_events(event(id, "u", "s", 1), [&](const AuditEvent& ev, std::uint64_t) { d.process(ev, now); });
  };
  feed("1", 0);
  feed("2", 5'000'000);
  EXPECT_TRUE(out.empty());
  d.tick(10'000'000);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].count, 2u);
  feed("3", 20'000'000);
  d.tick(30'000'000);
  EXPECT_EQ(out.size(), 1u);  // within the repeat interval
  d.tick(75'000'000);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[1].count, 1u);
}

TEST(AuditDetector, ExemptionsWithUsersReasonsAndExpiry) {
  DetectorOptions o;
  o.today = "2026-12-05";
  ExemptionRule x;
  x.rules = {"audit-test"};
  x.users = {"system:serviceaccount:x:*"};
  x.reason = "the backup controller reads every Secret";
  o.exemptions.push_back(x);
  ExemptionRule expired = x;
  expired.users = {"eve"};
  expired.until = "2026-01-01";
  o.exemptions.push_back(expired);
  const auto alerts = run(one_rule(kSecretGet), event("1", "system:serviceaccount:x:ctrl", "s", 1) + event("2", "eve", "s", 2), o);
  ASSERT_EQ(alerts.size(), 2u);
  EXPECT_TRUE(alerts[0].exempt);
  EXPECT_EQ(alerts[0].exemption_reason, "the backup controller reads every Secret");
  EXPECT_FALSE(alerts[1].exempt);  // its exemption expired
}

TEST(AuditDetector, LearnWindowTeachesTheBaseline) {
  auto rules = one_rule(R"(id: audit-test
title: t
severity: high
rationale: r
remediation: m
check: audit-baseline
params: {verbs: [get], resources: [secrets]}
aggregateBy: [user, namespace]
)");
  DetectorOptions o;
  o.learn_us = 60'000'000;
  // In the first minute ctrl reads; afterwards ctrl again (quiet) and eve (alert).
  const auto alerts = run(rules, event("1", "ctrl", "s", 0) + event("2", "ctrl", "s", 30) + event("3", "ctrl", "s", 90) +
                                     event("4", "eve", "s", 100) + event("5", "eve", "s", 101), o);
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].user, "eve");
  EXPECT_EQ(alerts[0].count, 2u);
  // Without a baseline the rule is not in force.
  EXPECT_TRUE(run(rules, event("4", "eve", "s", 100)).empty());
}

TEST(AuditRules, LoaderNamesFileLineAndField) {
  RuleSet set;
  std::vector<InputError> errors;
  EXPECT_FALSE(add_rule(set, "r/rule.yaml", R"(id: audit-x
title: t
severity: high
rationale: r
remediation: m
check: audit-event
params: {verbs: [get], codes: [299x], colour: red}
needs: [{level: Everything}]
)", errors));
  ASSERT_GE(errors.size(), 3u);
  std::string all;
  for (const InputError& e : errors) {
    EXPECT_EQ(e.file, "r/rule.yaml");
    EXPECT_GT(e.line, 0u);
    all += e.message + "\n";
  }
  EXPECT_NE(all.find("params.codes"), std::string::npos) << all;
  EXPECT_NE(all.find("params.colour"), std::string::npos) << all;
  EXPECT_NE(all.find("needs[0].level"), std::string::npos) << all;
}

// Falco's default-enabled k8saudit rules (falcosecurity/plugins rules/k8s_audit_rules.yaml):
// each must be the reference of one kguard rule.
constexpr const char* kFalcoRules[] = {
    "Disallowed K8s User", "Create Disallowed Pod", "Create Privileged Pod", "Create Sensitive Mount Pod",
    "Create HostNetwork Pod", "Create HostPid Pod", "Create HostIPC Pod", "Create NodePort Service",
    "Create/Modify Configmap With Private Credentials", "Anonymous Request Allowed", "Attach/Exec Pod", "port-forward",
    "EphemeralContainers Created", "Create Disallowed Namespace", "Pod Created in Kube Namespace",
    "Service Account Created in Kube Namespace", "System ClusterRole Modified/Deleted", "Attach to cluster-admin Role",
    "ClusterRole With Wildcard Created", "ClusterRole With Write Privileges Created", "ClusterRole With Pod Exec Created",
    "K8s Deployment Created", "K8s Deployment Deleted", "K8s Service Created", "K8s Service Deleted",
    "K8s ConfigMap Created", "K8s ConfigMap Deleted", "K8s Namespace Created", "K8s Namespace Deleted",
    "K8s Serviceaccount Created", "K8s Serviceaccount Deleted", "K8s Role Created", "K8s Role Deleted",
    "K8s ClusterRole Created", "K8s ClusterRole Deleted", "K8s RoleBinding Created", "K8s RoleBinding Deleted",
    "K8s ClusterRoleBinding Created", "K8s ClusterRoleBinding Deleted", "K8s Secret Created", "K8s Secret Deleted",
    "K8s Secret Get Successfully", "K8s Secret Get Unsuccessfully Tried", "Full K8s Administrative Access",
    "Ingress Object without TLS Certificate Created", "Untrusted Node Successfully Joined the Cluster",
    "Untrusted Node Unsuccessfully Tried to Join the Cluster"};

TEST(AuditRules, EmbeddedRulesLoadAndCoverEveryDefaultFalcoRule) {
  std::vector<InputError> errors;
  RuleSet set = builtin_rules(errors);
  for (const InputError& e : errors) ADD_FAILURE() << e.file << ":" << e.line << ": " << e.message;
  std::size_t on_disk = 0;
  for (const auto& e : fs::directory_iterator(fs::path(KGUARD_SOURCE_DIR) / "rules" / "audit"))
    if (fs::exists(e.path() / "rule.yaml")) ++on_disk;
  EXPECT_EQ(set.rules.size(), on_disk);
  std::map<std::string, std::string> falco;  // Falco rule -> kguard id
  for (const auto& r : set.rules) {
    EXPECT_FALSE(r->zh.title.empty() || r->zh.rationale.empty() || r->zh.remediation.empty()) << r->id;
    EXPECT_FALSE(r->needs.empty()) << r->id;
    for (const std::string& ref : r->references) {
      if (ref.rfind("Falco k8saudit: ", 0) == 0) {
        EXPECT_TRUE(falco.emplace(ref.substr(16), r->id).second) << ref << " named twice";
      }
    }
  }
  for (const char* name : kFalcoRules) EXPECT_EQ(falco.count(name), 1u) << "no rule for Falco's " << name;
  EXPECT_EQ(falco.size(), std::size(kFalcoRules));
}

// The generic fixture runner: each rule alone (enabled), over its fires.jsonl
// (the alerts must be exactly the events annotated kguard.test/alert, with the
// count of kguard.test/count when given) and its quiet.jsonl (no alert).
// baseline.jsonl, when present, is learnt first.
TEST(AuditRules, EveryRuleFiresOnItsFixturesAndStaysQuietOnTheOthers) {
  std::size_t rules = 0;
  for (const auto& dir : fs::directory_iterator(fs::path(KGUARD_SOURCE_DIR) / "rules" / "audit")) {
    const fs::path folder = dir.path();
    if (!fs::exists(folder / "rule.yaml")) continue;
    ++rules;
    SCOPED_TRACE(folder.filename().string());
    auto set = std::make_shared<RuleSet>();
    std::vector<InputError> errors;
    ASSERT_TRUE(add_rule(*set, (folder / "rule.yaml").string(), slurp(folder / "rule.yaml"), errors));
    set->rules[0]->enabled = true;
    ASSERT_TRUE(fs::exists(folder / "fires.jsonl"));
    ASSERT_TRUE(fs::exists(folder / "quiet.jsonl"));
    const std::string baseline = fs::exists(folder / "baseline.jsonl") ? slurp(folder / "baseline.jsonl") : "";
    const std::string fires = slurp(folder / "fires.jsonl");
    // Expected: the annotated events' auditIDs and counts. The annotations are
    // read with the core JSON loader, independently of the audit parser.
    std::map<std::string, std::uint64_t> expected;
    SourceFile src;
    src.path = "fires.jsonl";
    src.content = fires;
    load_documents(src);
    ASSERT_TRUE(src.errors.empty());
    for (const Document& d : src.documents) {
      const Node* ann = get(d.root, "annotations");
      if (str(get(ann, "kguard.test/alert")).empty()) continue;
      const std::string_view count = str(get(ann, "kguard.test/count"));
      expected[std::string(str(get(d.root, "auditID")))] = count.empty() ? 1 : std::stoull(std::string(count));
    }
    EXPECT_FALSE(expected.empty()) << "fires.jsonl names no alert";
    std::map<std::string, std::uint64_t> got;
    for (const Alert& a : run(set, fires, {}, baseline)) {
      EXPECT_FALSE(a.message.empty());
      // The JSON line is JSON, and names the rule.
      SourceFile line;
      line.path = "alert";
      line.content = alert_json(a);
      load_documents(line);
      ASSERT_TRUE(line.errors.empty() && line.documents.size() == 1) << line.content;
      EXPECT_EQ(str(get(line.documents[0].root, "rule")), a.rule->id);
      got[a.audit_id] = a.count;
    }
    EXPECT_EQ(got, expected);
    const auto quiet = run(set, slurp(folder / "quiet.jsonl"), {}, baseline);
    for (const Alert& a : quiet) ADD_FAILURE() << "quiet.jsonl raised: " << a.message;
    // Every fixture line is a readable audit event.
    Read r = read_events(fires + slurp(folder / "quiet.jsonl"), [](const AuditEvent&, std::uint64_t) {});
    EXPECT_TRUE(r.errors.empty()) << r.errors.front();
  }
  EXPECT_GE(rules, 50u);
}

}  // namespace
}  // namespace kg::audit

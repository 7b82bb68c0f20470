// kguard's audit-log detection throughput (bench/results/audit.md).
//
//   audit_bench generate N FILE      write N realistic audit events (JSON lines): mixed verbs and
//                                    resources, Metadata / Request / RequestResponse levels with
//                                    request and response bodies, controllers, exec sessions,
//                                    refused requests, anonymous probes
//   audit_bench run FILE [ROUNDS]    single-threaded events/s of: the floor (each line parsed by
//                                    core's JSON loader into a tree and discarded), kguard's event
//                                    parser alone, and parser + every built-in rule (all enabled)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "catalog/catalog.hpp"
#include "core/document.hpp"
#include "engines/audit/detector.hpp"
#include "engines/audit/event.hpp"
#include "engines/audit/rules.hpp"

namespace {

using Clock = std::chrono::steady_clock;

std::string pad(std::mt19937_64& rng, std::size_t n) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string s(n, 'A');
  for (char& c : s) c = kAlphabet[rng() % 64];
  return s;
}

std::string timestamp(std::uint64_t ms) {
  const std::uint64_t s = ms / 1000;
  char buf[64];
  std::snprintf(buf, sizeof buf, "2026-12-05T%02llu:%02llu:%02llu.%06lluZ", static_cast<unsigned long long>((4 + s / 3600) % 24),
                static_cast<unsigned long long>(s / 60 % 60), static_cast<unsigned long long>(s % 60),
                static_cast<unsigned long long>(ms % 1000 * 1000));
  return buf;
}

std::string pod_body(std::mt19937_64& rng, bool privileged) {
  std::string env;
  const int n = static_cast<int>(rng() % 12);
  for (int i = 0; i < n; ++i) env += std::string(i ? "," : "") + "{\"name\":\"VAR_" + std::to_string(i) + "\",\"value\":\"" + pad(rng, 24) + "\"}";
  return "{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":{\"generateName\":\"web-7d9f-\",\"namespace\":\"shop\",\"labels\":{\"app\":\"web\","
         "\"pod-template-hash\":\"7d9f\"},\"ownerReferences\":[{\"apiVersion\":\"apps/v1\",\"kind\":\"ReplicaSet\",\"name\":\"web-7d9f\","
         "\"uid\":\"6b0f2c1e-1d8a-4f53-9a55-2f7c1c9b1e20\",\"controller\":true}]},\"spec\":{\"containers\":[{\"name\":\"web\",\"image\":"
         "\"registry.example.com/shop/web:1.4.2\",\"ports\":[{\"containerPort\":8080}],\"env\":[" + env +
         "],\"resources\":{\"limits\":{\"cpu\":\"500m\",\"memory\":\"256Mi\"}},\"securityContext\":{\"privileged\":" +
         (privileged ? "true" : "false") + ",\"runAsNonRoot\":true}}],\"serviceAccountName\":\"web\",\"volumes\":[{\"name\":\"kube-api-access\","
         "\"projected\":{\"sources\":[{\"serviceAccountToken\":{\"expirationSeconds\":3607,\"path\":\"token\"}}]}}]}}";
}

std::string generate_event(std::mt19937_64& rng, std::uint64_t i) {
  struct Kind {
    const char* verb;
    const char* resource;
    const char* group;
    const char* sub;
    const char* user;
    int weight;
  };
  static constexpr Kind kKinds[] = {
      {"get", "configmaps", "", "", "system:serviceaccount:kube-system:coredns", 10},
      {"watch", "pods", "", "", "system:kube-scheduler", 8},
      {"list", "nodes", "", "", "system:kube-controller-manager", 6},
      {"get", "leases", "coordination.k8s.io", "", "system:kube-controller-manager", 14},
      {"update", "leases", "coordination.k8s.io", "", "system:node:node-17", 14},
      {"get", "secrets", "", "", "system:serviceaccount:cert-manager:cert-manager", 8},
      {"patch", "pods", "", "status", "system:node:node-3", 10},
      {"create", "pods", "", "", "system:serviceaccount:kube-system:replicaset-controller", 6},
      {"update", "deployments", "apps", "", "alice", 4},
      {"get", "pods", "", "", "bob", 6},
      {"create", "pods", "", "exec", "alice", 1},
      {"list", "secrets", "", "", "mallory", 2},
      {"create", "events", "", "", "system:node:node-9", 8},
      {"get", "", "", "", "system:anonymous", 3},
  };
  int total = 0;
  for (const Kind& k : kKinds) total += k.weight;
  int pick = static_cast<int>(rng() % static_cast<std::uint64_t>(total));
  const Kind* k = kKinds;
  for (const Kind& c : kKinds) {
    if (pick < c.weight) {
      k = &c;
      break;
    }
    pick -= c.weight;
  }
  const std::string ns = std::string("ns-") + std::to_string(rng() % 40);
  const std::string name = std::string(k->resource).substr(0, 3) + "-" + std::to_string(rng() % 5000);
  const bool non_resource = std::strlen(k->resource) == 0;
  const bool exec = std::strcmp(k->sub, "exec") == 0;
  int code = 200;
  if (std::strcmp(k->user, "mallory") == 0) code = 403;
  if (non_resource) code = (rng() % 2) ? 200 : 403;
  if (exec) code = 101;
  const bool write = !std::strcmp(k->verb, "create") || !std::strcmp(k->verb, "update") || !std::strcmp(k->verb, "patch");
  const char* level = write ? (rng() % 3 == 0 ? "RequestResponse" : "Request") : "Metadata";
  const std::uint64_t ms = i / 10;  // 10,000 events per second of log time
  char id[40];
  std::snprintf(id, sizeof id, "%08llx-0000-4000-8000-%012llx", static_cast<unsigned long long>(rng() & 0xffffffff),
                static_cast<unsigned long long>(i));
  std::string uri = non_resource ? (rng() % 2 ? "/healthz" : "/api/v1/namespaces/kube-system/secrets")
                                 : std::string(*k->group ? "/apis/" + std::string(k->group) + "/v1" : "/api/v1") + "/namespaces/" + ns + "/" +
                                       k->resource + "/" + name + (*k->sub ? "/" + std::string(k->sub) : "");
  std::string e;
  e.reserve(4096);
  e += "{\"kind\":\"Event\",\"apiVersion\":\"audit.k8s.io/v1\",\"level\":\"";
  e += level;
  e += "\",\"auditID\":\"";
  e += id;
  e += "\",\"stage\":\"";
  e += exec ? "ResponseStarted" : "ResponseComplete";
  e += "\",\"requestURI\":\"" + uri + "\",\"verb\":\"" + k->verb + "\",\"user\":{\"username\":\"" + k->user +
       "\",\"uid\":\"" + pad(rng, 12) + "\",\"groups\":[\"system:authenticated\"" +
       (std::strncmp(k->user, "system:serviceaccount:", 22) == 0 ? ",\"system:serviceaccounts\"" : "") +
       "],\"extra\":{\"authentication.kubernetes.io/credential-id\":[\"JTI=" + pad(rng, 36) + "\"]}},\"sourceIPs\":[\"10.1." +
       std::to_string(rng() % 255) + "." + std::to_string(rng() % 255) + "\"],\"userAgent\":\"kube-controller-manager/v1.37.2 (linux/amd64) kubernetes/a1b2c3d/system:serviceaccount:kube-system:generic-garbage-collector\"";
  if (!non_resource) {
    e += ",\"objectRef\":{\"resource\":\"";
    e += k->resource;
    e += "\",\"namespace\":\"" + ns + "\",\"name\":\"" + name + "\"";
    if (*k->group) e += ",\"apiGroup\":\"" + std::string(k->group) + "\"";
    e += ",\"apiVersion\":\"v1\"";
    if (*k->sub) e += ",\"subresource\":\"" + std::string(k->sub) + "\"";
    e += "}";
  }
  e += ",\"responseStatus\":{\"metadata\":{},\"code\":" + std::to_string(code) + "}";
  if (write) {
    const bool pod = !std::strcmp(k->resource, "pods") && !*k->sub;
    const std::string body = pod ? pod_body(rng, rng() % 50 == 0)
                                 : "{\"kind\":\"Object\",\"metadata\":{\"name\":\"" + name + "\",\"resourceVersion\":\"" +
                                       std::to_string(rng() % 100000000) + "\"},\"spec\":{\"holderIdentity\":\"" + pad(rng, 40) +
                                       "\",\"leaseDurationSeconds\":40,\"renewTime\":\"" + timestamp(ms) + "\",\"data\":\"" +
                                       pad(rng, rng() % 600) + "\"}}";
    e += ",\"requestObject\":" + body;
    if (!std::strcmp(level, "RequestResponse"))
      e += ",\"responseObject\":{\"kind\":\"Object\",\"metadata\":{\"name\":\"" + name + "\",\"uid\":\"" + pad(rng, 36) +
           "\",\"managedFields\":[{\"manager\":\"kubectl\",\"operation\":\"Update\",\"fieldsV1\":{\"f:data\":\"" + pad(rng, 200 + rng() % 2000) +
           "\"}}]},\"status\":{\"phase\":\"Pending\"}}";
  }
  e += ",\"requestReceivedTimestamp\":\"" + timestamp(ms) + "\",\"stageTimestamp\":\"" + timestamp(ms + 2) +
       "\",\"annotations\":{\"authorization.k8s.io/decision\":\"" + (code == 403 ? "forbid" : "allow") +
       "\",\"authorization.k8s.io/reason\":\"RBAC: allowed by ClusterRoleBinding \\\"system:controller\\\"\"}}\n";
  return e;
}

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// This thread's CPU time: events per second *per core* whatever else the machine runs.
double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 4 && std::string(argv[1]) == "generate") {
    const std::uint64_t n = std::stoull(argv[2]);
    std::ofstream out(argv[3], std::ios::binary);
    std::mt19937_64 rng(42);
    for (std::uint64_t i = 0; i < n; ++i) out << generate_event(rng, i);
    return out ? 0 : 1;
  }
  if (argc < 3 || std::string(argv[1]) != "run") {
    std::fprintf(stderr, "usage: audit_bench generate N FILE | audit_bench run FILE [ROUNDS]\n");
    return 2;
  }
  std::string text;
  if (!kg::read_file(argv[2], text)) {
    std::fprintf(stderr, "cannot read %s\n", argv[2]);
    return 2;
  }
  const int rounds = argc > 3 ? std::atoi(argv[3]) : 3;
  std::uint64_t lines = static_cast<std::uint64_t>(std::count(text.begin(), text.end(), '\n'));
  std::printf("input: %llu events, %.1f MiB, %.0f bytes/event\n", static_cast<unsigned long long>(lines),
              static_cast<double>(text.size()) / 1048576.0, static_cast<double>(text.size()) / static_cast<double>(lines));

  std::printf("| phase (best of %d) | CPU s | wall s | events/s per core | MiB/s | result |\n|---|---:|---:|---:|---:|---:|\n",
              rounds);
  auto best = [&](const char* what, auto&& fn) {
    double t_best = 1e100, wall_best = 1e100;
    std::uint64_t result = 0;
    for (int r = 0; r < rounds; ++r) {
      const auto t0 = Clock::now();
      const double c0 = cpu_seconds();
      result = fn();
      t_best = std::min(t_best, cpu_seconds() - c0);
      wall_best = std::min(wall_best, seconds_since(t0));
    }
    std::printf("| %-44s | %7.3f | %7.3f | %10.0f | %7.1f | %llu |\n", what, t_best, wall_best,
                static_cast<double>(lines) / t_best, static_cast<double>(text.size()) / 1048576.0 / t_best,
                static_cast<unsigned long long>(result));
  };

  // The floor: core's JSON loader builds each line's tree, which is dropped (streamed, arena released).
  best("floor: core JSON loader, tree per line", [&] {
    std::uint64_t docs = 0;
    constexpr std::size_t kChunk = 8u << 20;
    std::size_t pos = 0;
    while (pos < text.size()) {
      std::size_t end = std::min(text.size(), pos + kChunk);
      end = text.find('\n', end);
      end = end == std::string::npos ? text.size() : end + 1;
      kg::SourceFile f;
      f.path = "audit.log";
      f.view = std::string_view(text).substr(pos, end - pos);
      kg::stream_documents(f, kg::LoadLimits{}, [&](const kg::Document&) { ++docs; });
      pos = end;
    }
    return docs;
  });

  best("kguard event parser alone", [&] {
    kg::audit::EventParser p;
    std::uint64_t n = 0;
    kg::audit::split_values(
        text, 1, true,
        [&](std::string_view v, std::uint64_t) {
          kg::audit::ParseError e;
          p.parse_value(v, [&](const kg::audit::AuditEvent&) { ++n; }, e);
        },
        [](std::uint64_t, const std::string&) {});
    return n;
  });

  std::vector<kg::InputError> errors;
  auto rules = std::make_shared<kg::audit::RuleSet>(kg::audit::builtin_rules(errors));
  for (auto& r : rules->rules) r->enabled = true;
  best("kguard parser + every rule (56, all enabled)", [&] {
    kg::audit::EventParser p;
    std::uint64_t alerts = 0;
    kg::audit::Detector d(rules, {}, [&](kg::audit::Alert&&) { ++alerts; });
    kg::audit::split_values(
        text, 1, true,
        [&](std::string_view v, std::uint64_t line) {
          kg::audit::ParseError e;
          p.parse_value(v, [&](const kg::audit::AuditEvent& ev) { d.process(ev, 0, "audit.log", line); }, e);
        },
        [](std::uint64_t, const std::string&) {});
    d.finish();
    return alerts;
  });
  return 0;
}

// The RBAC engine at scale (bench/results/rbac.md): generates, with a fixed
// seed, ROLES Roles and ClusterRoles (default 10,000: a tenth of them
// ClusterRoles, some aggregated, some with wildcards, subresources,
// resourceNames and non-resource URLs) and BINDINGS RoleBindings and
// ClusterRoleBindings (default 20,000, 1–3 subjects each: users, groups,
// ServiceAccounts), as one YAML stream; then times, in this process:
//   * load: YAML parse + PolicyLoader (what `kguard rbac` does with files),
//   * index: RbacIndex (aggregation, binding resolution, subject and
//     resource indexes),
//   * who-can: each of a set of queries, the median of RUNS runs,
//   * check: authorize() over 10,000 random questions,
//   * every subject's compacted permissions (the "identity → permissions"
//     pass the escalation analysis builds on),
// and the peak RSS. Wall and CPU time both (the machine is shared).
//
//   rbac_bench [--roles N] [--bindings N] [--runs N] [--write-yaml FILE]
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "core/document.hpp"
#include "core/object.hpp"
#include "engines/rbac/compact.hpp"
#include "engines/rbac/rbac.hpp"

using namespace kg;
using namespace kg::rbac;

namespace {

double cpu_ms() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

double wall_ms() {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

struct Timer {
  double wall = wall_ms(), cpu = cpu_ms();
  std::pair<double, double> stop() const { return {wall_ms() - wall, cpu_ms() - cpu}; }
};

struct Resource {
  const char* group;
  const char* resource;
};

constexpr Resource kResources[] = {
    {"", "pods"},           {"", "pods/log"},          {"", "pods/exec"},       {"", "pods/portforward"},
    {"", "secrets"},        {"", "configmaps"},        {"", "services"},        {"", "endpoints"},
    {"", "serviceaccounts"}, {"", "serviceaccounts/token"}, {"", "persistentvolumeclaims"}, {"", "events"},
    {"", "nodes"},          {"", "nodes/proxy"},       {"", "namespaces"},      {"apps", "deployments"},
    {"apps", "deployments/scale"}, {"apps", "statefulsets"}, {"apps", "daemonsets"}, {"apps", "replicasets"},
    {"batch", "jobs"},      {"batch", "cronjobs"},     {"networking.k8s.io", "ingresses"},
    {"networking.k8s.io", "networkpolicies"}, {"rbac.authorization.k8s.io", "roles"},
    {"rbac.authorization.k8s.io", "rolebindings"}, {"policy", "poddisruptionbudgets"},
    {"coordination.k8s.io", "leases"}, {"example.com", "widgets"}, {"example.com", "gadgets"}};
constexpr const char* kVerbs[] = {"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"};

std::string generate(std::size_t roles, std::size_t bindings, std::mt19937& rng) {
  auto pick = [&](std::size_t n) { return static_cast<std::size_t>(rng() % n); };
  constexpr std::size_t kNamespaces = 200;
  const std::size_t cluster_roles = roles / 10;
  std::string y;
  y.reserve(roles * 400 + bindings * 300);
  auto rules = [&](bool cluster) {
    const std::size_t n = 1 + pick(6);
    y += "rules:\n";
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t kind = pick(100);
      if (cluster && kind < 3) {
        y += "- nonResourceURLs: [\"/metrics\", \"/debug/*\"]\n  verbs: [get]\n";
        continue;
      }
      const Resource& r = kResources[pick(std::size(kResources))];
      y += "- apiGroups: [\"";
      y += kind < 5 ? "*" : r.group;
      y += "\"]\n  resources: [";
      if (kind < 4) y += "\"*\"";
      else if (kind < 7) y += "\"*/status\"";
      else {
        y += r.resource;
        y += ", ";
        y += kResources[pick(std::size(kResources))].resource;
      }
      y += "]\n  verbs: [";
      if (kind >= 95) y += "\"*\"";
      else {
        const std::size_t verbs = 1 + pick(4);
        for (std::size_t v = 0; v < verbs; ++v) {
          if (v) y += ", ";
          y += kVerbs[pick(std::size(kVerbs))];
        }
      }
      y += "]\n";
      if (kind >= 90 && kind < 95) y += "  resourceNames: [a, b]\n";
    }
  };
  for (std::size_t i = 0; i < roles; ++i) {
    const bool cluster = i < cluster_roles;
    y += "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ";
    y += cluster ? "ClusterRole" : "Role";
    y += "\nmetadata:\n  name: role-" + std::to_string(i) + "\n";
    if (!cluster) y += "  namespace: ns-" + std::to_string(i % kNamespaces) + "\n";
    if (cluster) y += "  labels: {tier: t" + std::to_string(i % 50) + "}\n";
    if (cluster && i % 60 == 0) y += "aggregationRule:\n  clusterRoleSelectors:\n  - matchLabels: {tier: t" +
                                     std::to_string(pick(50)) + "}\n";
    rules(cluster);
  }
  for (std::size_t i = 0; i < bindings; ++i) {
    const bool cluster = i % 4 == 0;
    y += "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ";
    y += cluster ? "ClusterRoleBinding" : "RoleBinding";
    const std::string ns = "ns-" + std::to_string(pick(kNamespaces));
    y += "\nmetadata:\n  name: binding-" + std::to_string(i) + "\n";
    if (!cluster) y += "  namespace: " + ns + "\n";
    y += "subjects:\n";
    const std::size_t n = 1 + pick(3);
    for (std::size_t s = 0; s < n; ++s) {
      const std::size_t kind = pick(10);
      if (kind < 4) y += "- {kind: User, name: user-" + std::to_string(pick(2000)) + ", apiGroup: rbac.authorization.k8s.io}\n";
      else if (kind < 6) y += "- {kind: Group, name: group-" + std::to_string(pick(200)) + ", apiGroup: rbac.authorization.k8s.io}\n";
      else y += "- {kind: ServiceAccount, name: sa-" + std::to_string(pick(20)) + ", namespace: " + ns + "}\n";
    }
    // RoleBindings refer to a Role of their namespace or to a ClusterRole.
    std::string ref_kind = "ClusterRole", ref = "role-" + std::to_string(pick(cluster_roles));
    if (!cluster && pick(3) != 0) {
      ref_kind = "Role";
      const std::size_t ns_index = std::stoul(ns.substr(3));
      // Roles of namespace k are role-i with i % 200 == k, i >= cluster_roles.
      std::size_t r = cluster_roles + pick((roles - cluster_roles) / kNamespaces) * kNamespaces;
      r += (ns_index + kNamespaces - r % kNamespaces) % kNamespaces;
      ref = "role-" + std::to_string(std::min(r, roles - 1));
    }
    y += "roleRef: {kind: " + ref_kind + ", name: " + ref + ", apiGroup: rbac.authorization.k8s.io}\n";
  }
  return y;
}

long peak_rss_kib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t roles = 10000, bindings = 20000, runs = 101;
  std::string write_yaml;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--roles") roles = std::stoul(argv[i + 1]);
    else if (a == "--bindings") bindings = std::stoul(argv[i + 1]);
    else if (a == "--runs") runs = std::stoul(argv[i + 1]);
    else if (a == "--write-yaml") write_yaml = argv[i + 1];
    else {
      std::cerr << "usage: rbac_bench [--roles N] [--bindings N] [--runs N] [--write-yaml FILE]\n";
      return 2;
    }
  }
  if (roles < 400) roles = 400;
  std::mt19937 rng(20261205);
  const std::string yaml = generate(roles, bindings, rng);
  if (!write_yaml.empty()) std::ofstream(write_yaml) << yaml;
  std::printf("input: %zu roles, %zu bindings, %.1f MiB of YAML\n", roles, bindings,
              static_cast<double>(yaml.size()) / (1024.0 * 1024.0));

  Timer load_timer;
  SourceFile file;
  file.path = "generated.yaml";
  file.content = yaml;
  PolicyLoader loader;
  std::vector<InputError> errors;
  std::vector<Object> objects;
  stream_documents(file, {}, [&](const Document& d) {
    objects.clear();
    collect_objects(file, d, objects, errors);
    for (const Object& o : objects) loader.add(o, errors);
  });
  loader.add_bootstrap();
  const auto [load_wall, load_cpu] = load_timer.stop();
  if (!errors.empty() || !file.errors.empty()) {
    std::cerr << "generated input has errors: " << (errors.empty() ? file.errors[0].message : errors[0].message) << '\n';
    return 1;
  }
  Timer index_timer;
  const RbacIndex index(loader.take());
  const auto [index_wall, index_cpu] = index_timer.stop();
  std::printf("load (parse + loader + bootstrap): %.1f ms wall, %.1f ms CPU\n", load_wall, load_cpu);
  std::printf("index build:                       %.1f ms wall, %.1f ms CPU\n", index_wall, index_cpu);

  struct Query {
    const char* label;
    Request r;
    bool any_namespace;
  };
  auto res = [](const char* verb, const char* group, const char* resource, const char* sub, const char* ns) {
    Request r;
    r.verb = verb;
    r.api_group = group;
    r.resource = resource;
    r.subresource = sub;
    r.ns = ns;
    return r;
  };
  Request healthz;
  healthz.resource_request = false;
  healthz.verb = "get";
  healthz.path = "/debug/pprof";
  const std::vector<Query> queries = {
      {"get secrets -n ns-7", res("get", "", "secrets", "", "ns-7"), false},
      {"list pods (cluster-wide)", res("list", "", "pods", "", ""), false},
      {"create pods/exec -A", res("create", "", "pods", "exec", ""), true},
      {"update deployments/status -n ns-3", res("update", "apps", "deployments", "status", "ns-3"), false},
      {"delete widgets.example.com -A", res("delete", "example.com", "widgets", "", ""), true},
      {"get /debug/pprof", healthz, false},
  };
  std::printf("\n| who-can query | subjects found | median wall ms | max wall ms |\n|---|---:|---:|---:|\n");
  for (const Query& q : queries) {
    std::vector<double> times;
    std::size_t found = 0;
    for (std::size_t i = 0; i < runs; ++i) {
      Timer t;
      found = index.who_can(q.r, q.any_namespace).size();
      times.push_back(t.stop().first);
    }
    std::sort(times.begin(), times.end());
    std::printf("| %s | %zu | %.3f | %.3f |\n", q.label, found, times[times.size() / 2], times.back());
  }

  // 10,000 random questions, as `check --batch` asks them.
  std::vector<std::pair<Identity, Request>> questions;
  for (std::size_t i = 0; i < 10000; ++i) {
    Identity who;
    const std::size_t k = rng() % 3;
    if (k == 0) who = {"user-" + std::to_string(rng() % 2000), {"group-" + std::to_string(rng() % 200), "system:authenticated"}};
    else if (k == 1) who = service_account_identity("ns-" + std::to_string(rng() % 200), "sa-" + std::to_string(rng() % 20));
    else who = {"nobody", {"system:authenticated"}};
    const Resource& r = kResources[rng() % std::size(kResources)];
    std::string resource = r.resource, sub;
    if (auto slash = resource.find('/'); slash != std::string::npos) {
      sub = resource.substr(slash + 1);
      resource = resource.substr(0, slash);
    }
    Request q = res(kVerbs[rng() % std::size(kVerbs)], r.group, "", "", "");
    q.resource = resource;
    q.subresource = sub;
    q.ns = "ns-" + std::to_string(rng() % 200);
    questions.emplace_back(std::move(who), std::move(q));
  }
  Timer check_timer;
  std::size_t allowed = 0;
  for (const auto& [who, q] : questions) allowed += index.authorize(who, q).allowed;
  const auto [check_wall, check_cpu] = check_timer.stop();
  std::printf("\ncheck: 10,000 questions (%zu allowed) in %.1f ms wall, %.1f ms CPU (%.2f µs each)\n", allowed,
              check_wall, check_cpu, check_wall * 1000.0 / 10000.0);

  Timer all_timer;
  const std::vector<SubjectEntry> subjects = index.subjects();
  std::size_t rows = 0;
  for (const SubjectEntry& s : subjects) rows += compact_rules(index, RbacIndex::identity_of(s)).size();
  const auto [all_wall, all_cpu] = all_timer.stop();
  std::printf("every subject's compacted permissions: %zu subjects, %zu rows in %.1f ms wall, %.1f ms CPU\n",
              subjects.size(), rows, all_wall, all_cpu);
  std::printf("peak RSS: %.1f MiB\n", static_cast<double>(peak_rss_kib()) / 1024.0);
  return 0;
}

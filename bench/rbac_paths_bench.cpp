// The all-identities escalation-path analysis (engines/rbac/paths) and the
// credential hygiene on a large RBAC input: the YAML `rbac_bench
// --write-yaml FILE` writes (10,000 roles / 20,000 bindings by default),
// plus workloads and token Secrets generated here with a fixed seed (the
// paths run through them). Prints wall and CPU times per step and peak RSS;
// results in bench/results/rbac.md.
//
//   rbac_paths_bench FILE [--workloads N] [--tokens N] [--runs N]
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <random>
#include <string>

#include "core/document.hpp"
#include "core/object.hpp"
#include "engines/rbac/hygiene.hpp"
#include "engines/rbac/paths.hpp"
#include "engines/rbac/rbac.hpp"

using namespace kg;
using namespace kg::rbac;

namespace {

double cpu_ms() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return (u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1e3 + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e3;
}
double wall_ms() {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: rbac_paths_bench FILE [--workloads N] [--tokens N] [--runs N]\n";
    return 2;
  }
  std::size_t workloads = 5000, tokens = 1000, runs = 5;
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--workloads") workloads = std::stoul(argv[i + 1]);
    else if (a == "--tokens") tokens = std::stoul(argv[i + 1]);
    else if (a == "--runs") runs = std::stoul(argv[i + 1]);
  }
  SourceFile file;
  file.path = argv[1];
  if (!read_file(file.path, file.content)) {
    std::cerr << "cannot read " << file.path << '\n';
    return 2;
  }
  load_documents(file);
  PolicyLoader loader;
  std::vector<InputError> errors;
  for (const Document& d : file.documents) {
    std::vector<Object> objects;
    collect_objects(file, d, objects, errors);
    for (const Object& o : objects) loader.add(o, errors);
  }
  loader.add_bootstrap();
  const RbacIndex index(loader.take());
  // Workloads and token Secrets over the namespaces the input's ServiceAccount subjects use.
  std::vector<std::pair<std::string, std::string>> accounts;
  for (const SubjectEntry& s : index.subjects())
    if (s.kind == SubjectKind::ServiceAccount) accounts.emplace_back(s.ns, s.name);
  std::mt19937 rng(17);
  Assets assets;
  for (std::size_t i = 0; i < workloads && !accounts.empty(); ++i) {
    const auto& [ns, sa] = accounts[rng() % accounts.size()];
    Workload w;
    w.kind = "Deployment";
    w.ns = ns;
    w.name = "Deployment " + ns + "/app-" + std::to_string(i);
    w.service_account = sa;
    if (rng() % 20 == 0) w.node_access = "privileged container app";
    w.host_network = rng() % 50 == 0;
    assets.workloads.push_back(std::move(w));
  }
  for (std::size_t i = 0; i < tokens && !accounts.empty(); ++i) {
    const auto& [ns, sa] = accounts[rng() % accounts.size()];
    assets.token_secrets.push_back({ns, sa + "-token-" + std::to_string(i), sa, "2024-01-01T00:00:00Z", {}});
  }
  std::printf("input: %zu roles, %zu bindings, %zu distinct subjects, %zu workloads, %zu token Secrets\n",
              index.policy().roles.size(), index.policy().bindings.size(), index.subjects().size(),
              assets.workloads.size(), assets.token_secrets.size());
  for (std::size_t r = 0; r < runs; ++r) {
    const double w0 = wall_ms(), c0 = cpu_ms();
    const PathAnalysis paths(index, assets);
    const double w1 = wall_ms(), c1 = cpu_ms();
    const std::vector<Path> all = paths.all_paths();
    const double w2 = wall_ms(), c2 = cpu_ms();
    const Hygiene h = check_hygiene(paths, days_since_epoch("2026-12-05"));
    const double w3 = wall_ms();
    std::size_t by[kTargets] = {};
    for (const Path& p : all) ++by[static_cast<std::size_t>(p.target)];
    std::printf("run %zu: graph %zu nodes %zu edges + searches %.1f ms wall %.1f ms CPU; shortest paths of every "
                "identity %.1f ms wall %.1f ms CPU (%zu paths: %zu cluster-admin, %zu node-root, %zu secrets); "
                "hygiene %.1f ms (%zu tokens, %zu dangling)\n",
                r, paths.node_count(), paths.edge_count(), w1 - w0, c1 - c0, w2 - w1, c2 - c1, all.size(), by[0], by[1],
                by[2], w3 - w2, h.tokens.size(), h.dangling.size());
  }
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  std::printf("peak RSS %.1f MiB\n", u.ru_maxrss / 1024.0);
  return 0;
}

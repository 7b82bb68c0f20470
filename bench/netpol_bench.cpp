// Times the NetworkPolicy engine on one input (bench/results/netpol.md): the
// read into the engine's model, the analysis (selection, chains, defaults and
// exceptions), the full matrix (every ordered pair's connection, counted),
// one explain, and peak RSS. usage: netpol_bench FILE.yaml [SRC DST]
#include <sys/resource.h>

#include <chrono>
#include <ctime>
#include <cstdio>
#include <string>

#include "core/object.hpp"
#include "engines/netpol/analysis.hpp"

using namespace kg;
using Clock = std::chrono::steady_clock;

static double ms_since(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

// CPU time of the process: what the machine's other load distorts least.
static double cpu_ms() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: netpol_bench FILE [SRC DST]\n");
    return 2;
  }
  auto t0 = Clock::now();
  const double c0 = cpu_ms();
  PodSpecTable specs;
  netpol::InputBuilder builder(specs);
  SourceFile f;
  f.path = argv[1];
  if (!read_file(f.path, f.content)) {
    std::fprintf(stderr, "cannot read %s\n", argv[1]);
    return 2;
  }
  stream_documents(f, LoadLimits{}, [&](const Document& d) {
    std::vector<Object> objs;
    std::vector<InputError> errs;
    collect_objects(f, d, objs, errs);
    for (const Object& o : objs) builder.add(o);
  });
  netpol::NetpolInput in = builder.finish();
  const double load_ms = ms_since(t0);
  const double c1 = cpu_ms();
  auto t1 = Clock::now();
  netpol::Analysis a(in);
  const double build_ms = ms_since(t1);
  const double c2 = cpu_ms();
  auto t2 = Clock::now();
  netpol::Analysis::Totals t = a.totals();
  const double matrix_ms = ms_since(t2);
  const double c3 = cpu_ms();
  std::string why;
  auto src = a.find_peer(argc > 3 ? argv[2] : in.workloads.front().id(), why);
  auto dst = a.find_peer(argc > 3 ? argv[3] : in.workloads.back().id(), why);
  auto t3 = Clock::now();
  netpol::Explanation e = a.explain(*src, *dst);
  const double explain_ms = ms_since(t3);
  std::printf("cpu: load_ms %.1f analysis_ms %.1f matrix_ms %.1f compute_ms %.1f\n", c1 - c0, c2 - c1, c3 - c2,
              c3 - c1);
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  std::printf("workloads %zu namespaces %zu policies %zu errors %zu ranges %zu\n", in.workloads.size(),
              in.namespaces.size(), in.policies.size(), in.errors.size(), a.ip_ranges().size());
  std::printf("chains ingress %zu egress %zu, distinct connection sets %zu\n", a.chain_count(netpol::Direction::Ingress),
              a.chain_count(netpol::Direction::Egress), a.conn_count());
  std::printf("pairs %llu allowed %llu all %llu\n", static_cast<unsigned long long>(t.pairs),
              static_cast<unsigned long long>(t.allowed), static_cast<unsigned long long>(t.all));
  std::printf("explain %s => %s : %s\n", a.peer_name(*src).c_str(), a.peer_name(*dst).c_str(),
              e.allowed.analyzer_str().c_str());
  std::printf("wall: load_ms %.1f analysis_ms %.1f matrix_ms %.1f compute_ms %.1f explain_ms %.3f maxrss_mb %.1f\n", load_ms,
              build_ms, matrix_ms, build_ms + matrix_ms, explain_ms, ru.ru_maxrss / 1024.0);
  return 0;
}

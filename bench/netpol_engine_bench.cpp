// The network policy engine alone, phase by phase, on one input file (bench/run_netpol_peer_bench.sh):
// read + parse + load (InputBuilder), the Analysis (selection, chains), the full connectivity
// (every ordered pair's ConnSet, as `netpol list` walks them, without formatting any output), the
// totals only, and one explanation. CPU time of this process (the machine is shared) and wall
// time, best of RUNS for the phases after loading.
//
//   netpol_engine_bench FILE [RUNS] [SRC DST]
#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>
#include <vector>

#include "core/document.hpp"
#include "core/object.hpp"
#include "engines/netpol/analysis.hpp"
#include "engines/netpol/model.hpp"

namespace {

double cpu_s() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}
double wall_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

struct Timing {
  double cpu = 1e30, wall = 1e30;
  void keep(double c, double w) {
    if (c < cpu) cpu = c;
    if (w < wall) wall = w;
  }
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: netpol_engine_bench FILE [RUNS] [SRC DST]\n");
    return 2;
  }
  const int runs = argc > 2 ? std::atoi(argv[2]) : 3;
  const std::string src_name = argc > 4 ? argv[3] : "ns-0000/api[Deployment]";
  const std::string dst_name = argc > 4 ? argv[4] : "ns-0000/orders[Deployment]";

  double c0 = cpu_s(), w0 = wall_s();
  kg::SourceFile file;
  file.path = argv[1];
  if (!kg::read_file(file.path, file.content)) {
    std::fprintf(stderr, "cannot read %s\n", argv[1]);
    return 2;
  }
  kg::PodSpecTable pod_specs;
  kg::netpol::InputBuilder builder(pod_specs);
  kg::LoadLimits limits;
  kg::stream_documents(file, limits, [&](const kg::Document& doc) {
    std::vector<kg::Object> objects;
    std::vector<kg::InputError> errors;
    kg::collect_objects(file, doc, objects, errors);
    for (const kg::Object& o : objects) builder.add(o);
  });
  const kg::netpol::NetpolInput input = builder.finish();
  const double load_cpu = cpu_s() - c0, load_wall = wall_s() - w0;

  Timing analysis_t, full_t, totals_t, explain_t;
  std::uint64_t pairs_listed = 0;
  kg::netpol::Analysis::Totals totals;
  for (int r = 0; r < runs; ++r) {
    c0 = cpu_s();
    w0 = wall_s();
    const kg::netpol::Analysis analysis(input);
    analysis_t.keep(cpu_s() - c0, wall_s() - w0);

    c0 = cpu_s();
    w0 = wall_s();
    std::uint64_t listed = 0;
    analysis.for_each_connection([&](kg::netpol::PeerRef, kg::netpol::PeerRef, const kg::netpol::ConnSet& conn) {
      if (!conn.empty()) ++listed;
    });
    full_t.keep(cpu_s() - c0, wall_s() - w0);
    pairs_listed = listed;

    c0 = cpu_s();
    w0 = wall_s();
    totals = analysis.totals();
    totals_t.keep(cpu_s() - c0, wall_s() - w0);

    std::string why;
    const auto src = analysis.find_peer(src_name, why);
    const auto dst = analysis.find_peer(dst_name, why);
    if (!src || !dst) {
      std::fprintf(stderr, "no peer %s or %s: %s\n", src_name.c_str(), dst_name.c_str(), why.c_str());
      return 1;
    }
    c0 = cpu_s();
    w0 = wall_s();
    const kg::netpol::Explanation e = analysis.explain(*src, *dst);
    explain_t.keep(cpu_s() - c0, wall_s() - w0);
    if (e.egress_decisions.empty() && e.ingress_decisions.empty()) return 1;
  }
  std::printf("workloads %zu policies %zu errors %zu\n", input.workloads.size(), input.policies.size(),
              input.errors.size());
  std::printf("load cpu %.3f wall %.3f\n", load_cpu, load_wall);
  std::printf("analysis cpu %.3f wall %.3f\n", analysis_t.cpu, analysis_t.wall);
  std::printf("connectivity cpu %.3f wall %.3f pairs_allowed %llu\n", full_t.cpu, full_t.wall,
              static_cast<unsigned long long>(pairs_listed));
  std::printf("totals cpu %.3f wall %.3f pairs %llu allowed %llu all %llu\n", totals_t.cpu, totals_t.wall,
              static_cast<unsigned long long>(totals.pairs), static_cast<unsigned long long>(totals.allowed),
              static_cast<unsigned long long>(totals.all));
  std::printf("explain cpu %.6f wall %.6f\n", explain_t.cpu, explain_t.wall);
  return 0;
}

// libFuzzer target for the NetworkPolicy engine (engines/netpol): manifests
// of workloads, namespaces and policies of every tier (untrusted: pulled
// from clusters and pull requests) through the policy loader, the label
// selectors and the analysis. Every pair's fast verdict must equal the direct
// evaluation explain runs; errors must have a message and a line.
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/object.hpp"
#include "engines/netpol/analysis.hpp"
#include "engines/netpol/findings.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 64 * 1024) return 0;  // pairs grow with the square of the workloads
  kg::PodSpecTable specs;
  kg::netpol::InputBuilder builder(specs);
  kg::SourceFile file;
  file.path = "fuzz.yaml";
  file.content.assign(reinterpret_cast<const char*>(data), size);
  kg::stream_documents(file, kg::LoadLimits{}, [&](const kg::Document& d) {
    std::vector<kg::Object> objects;
    std::vector<kg::InputError> errors;
    kg::collect_objects(file, d, objects, errors);
    for (const kg::Object& o : objects) builder.add(o);
  });
  kg::netpol::NetpolInput in = builder.finish();
  for (const kg::InputError& e : in.errors)
    if (e.message.empty()) __builtin_trap();
  kg::netpol::Analysis a(in);
  const std::uint32_t n = static_cast<std::uint32_t>(in.workloads.size());
  const std::uint32_t m = static_cast<std::uint32_t>(a.ip_ranges().size());
  std::vector<kg::netpol::PeerRef> peers;
  for (std::uint32_t i = 0; i < n && i < 32; ++i) peers.push_back({false, i});
  for (std::uint32_t i = 0; i < m && i < 16; ++i) peers.push_back({true, i});
  for (auto s : peers)
    for (auto d : peers) {
      if (s == d || (s.ip && d.ip)) continue;
      if (!(a.connection(s, d) == a.explain(s, d).allowed)) __builtin_trap();
    }
  std::uint64_t seen = 0;
  a.for_each_connection([&](kg::netpol::PeerRef, kg::netpol::PeerRef, const kg::netpol::ConnSet& c) {
    if (c.empty()) __builtin_trap();
    ++seen;
  });
  if (a.totals().allowed != seen) __builtin_trap();
  for (std::uint32_t w = 0; w < n && w < 32; ++w) (void)a.exposure(w);
  kg::EngineResult result;
  kg::netpol::add_findings(a, result, kg::Category{});
  return 0;
}

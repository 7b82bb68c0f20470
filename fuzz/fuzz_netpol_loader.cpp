// libFuzzer target for the network policy engine's loader and analysis (engines/netpol): any bytes
// as a manifest file (YAML or JSON, Lists, every tier's policy kinds) go through the loader kguard
// netpol uses (stream_documents → collect_objects → InputBuilder), then the whole connectivity is
// computed. Beyond not crashing, what must hold for any input: every error names something; a
// peer reaches itself on everything; a pair's explanation allows exactly what the list says, and
// is the intersection of its two ends; every peer is found again by its printed name.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/document.hpp"
#include "core/object.hpp"
#include "engines/netpol/analysis.hpp"
#include "engines/netpol/model.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  kg::SourceFile file;
  file.path = size > 0 && data[0] == '{' ? "fuzz.json" : "fuzz.yaml";
  file.content.assign(reinterpret_cast<const char*>(data), size);
  kg::PodSpecTable pod_specs;
  kg::netpol::InputBuilder builder(pod_specs);
  kg::LoadLimits limits;
  kg::stream_documents(file, limits, [&](const kg::Document& doc) {
    std::vector<kg::Object> objects;
    std::vector<kg::InputError> errors;
    kg::collect_objects(file, doc, objects, errors);
    for (kg::InputError& e : errors) builder.add_error(std::move(e));
    for (const kg::Object& o : objects) builder.add(o);
  });
  for (kg::InputError& e : file.errors) builder.add_error(std::move(e));
  const kg::netpol::NetpolInput input = builder.finish();
  for (const kg::InputError& e : input.errors)
    if (e.message.empty()) __builtin_trap();
  for (const kg::InputError& e : input.warnings)
    if (e.message.empty()) __builtin_trap();

  const kg::netpol::Analysis analysis(input);
  const std::size_t workloads = input.workloads.size();
  const std::size_t peers = analysis.peer_count();
  auto peer_at = [&](std::size_t i) {
    return i < workloads ? kg::netpol::PeerRef{false, static_cast<std::uint32_t>(i)}
                         : kg::netpol::PeerRef{true, static_cast<std::uint32_t>(i - workloads)};
  };
  std::size_t listed = 0;
  analysis.for_each_connection([&](kg::netpol::PeerRef src, kg::netpol::PeerRef dst, const kg::netpol::ConnSet& conn) {
    if (conn.empty() || src == dst || (src.ip && dst.ip)) __builtin_trap();
    if (!(analysis.connection(src, dst) == conn)) __builtin_trap();
    ++listed;
  });
  (void)listed;
  // A bounded sample of pairs (the first peers), so that large inputs stay fast.
  const std::size_t sample = peers < 12 ? peers : 12;
  for (std::size_t i = 0; i < sample; ++i) {
    const kg::netpol::PeerRef src = peer_at(i);
    if (!analysis.connection(src, src).is_all()) __builtin_trap();
    std::string why;
    const std::string name = analysis.peer_name(src);
    if (name.empty()) __builtin_trap();
    if (!src.ip) {
      const auto found = analysis.find_peer(name, why);
      if (!found || !(*found == src)) __builtin_trap();
    }
    for (std::size_t j = 0; j < sample; ++j) {
      const kg::netpol::PeerRef dst = peer_at(j);
      if (i == j || (src.ip && dst.ip)) continue;
      const kg::netpol::Explanation e = analysis.explain(src, dst);
      if (!(e.allowed == analysis.connection(src, dst))) __builtin_trap();
      if (!(e.allowed == (e.egress & e.ingress))) __builtin_trap();
    }
  }
  return 0;
}

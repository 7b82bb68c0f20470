// libFuzzer target for what `kguard node` reads from a node's files (untrusted:
// a root copied from a node, or /host in the DaemonSet): systemd unit text and
// drop-ins, EnvironmentFile= files, ExecStart expansion and the kubelet's flag
// parser (sources/host), and a kubelet /configz answer (engines/node). The
// input's first byte picks how the rest is split between the pieces.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

#include "engines/node/node_config.hpp"
#include "sources/host/systemd_unit.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  kg::host::ServiceState state;
  std::vector<kg::InputError> errors;
  kg::host::apply_unit_text(text, "/fuzz/kubelet.service", state, errors);
  for (const auto& e : errors)
    if (e.message.empty() || e.line == 0) __builtin_trap();
  std::map<std::string, std::string> env;
  for (const auto& [k, v] : state.environment) env[k] = v;
  for (auto& [k, v] : kg::host::parse_environment_file(text)) {
    if (k.empty()) __builtin_trap();
    env[k] = v;
  }
  for (const std::string& cmd : state.exec_start) {
    const auto argv = kg::host::expand_command(kg::host::split_unit_words(cmd), env);
    const auto flags = kg::host::parse_flags(argv, 1, kg::node::kubelet_bool_flags());
    if (flags.order.size() != flags.values.size()) __builtin_trap();
  }
  const auto words = kg::host::split_unit_words(text);
  (void)kg::host::parse_flags(words, 0, kg::node::kubelet_bool_flags());
  // The same bytes as a /configz answer: an object or errors, never a crash.
  const kg::node::NodeRead r = kg::node::node_from_configz("fuzz", text, "/fuzz/configz.json");
  if (r.object_json.empty()) __builtin_trap();
  return 0;
}

// libFuzzer target for kubeconfig files (untrusted: users pass files they were
// sent) and for kguard snapshot envelopes: the YAML loader, the merge and
// context resolution, base64 *-data fields, exec plugin entries, and the
// kguardSnapshot reader.
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/cluster_info.hpp"
#include "sources/kube/kubeconfig.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  std::vector<kg::InputError> errors;
  auto config = kg::kube::load_kubeconfig_text("/fuzz/config", text, "", errors);
  // Either a usable config or at least one error with a message.
  if (!config && errors.empty()) __builtin_trap();
  for (const auto& e : errors)
    if (e.message.empty()) __builtin_trap();
  if (config && config->server.empty()) __builtin_trap();
  // The same bytes as a snapshot envelope's kguardSnapshot field.
  kg::SourceFile file;
  file.path = "snapshot.json";
  file.content = text;
  kg::load_documents(file);
  for (const auto& d : file.documents)
    if (const kg::Node* s = kg::get(d.root, "kguardSnapshot")) {
      std::vector<kg::InputError> snapshot_errors;
      kg::parse_cluster_info(file.path, *s, snapshot_errors);
    }
  (void)kg::kube::base64_decode(text);
  return 0;
}

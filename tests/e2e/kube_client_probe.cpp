// Drives the sources/kube client library against the real API server of
// cluster_e2e.py: GET, a paginated list and a watch, as the admission webhook
// will use them. Usage: kube_client_probe KUBECONFIG NAMESPACE
// Prints "version V", "listed N namespaces in P pages", then one line per watch
// event on Namespaces, and exits 0 once NAMESPACE is ADDED.
#include <iostream>

#include "sources/kube/client.hpp"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: kube_client_probe KUBECONFIG NAMESPACE\n";
    return 2;
  }
  std::vector<kg::InputError> errors;
  auto config = kg::kube::load_kubeconfig({argv[1]}, "", errors);
  if (!config) {
    std::cerr << errors[0].file << ":" << errors[0].line << ": " << errors[0].message << '\n';
    return 2;
  }
  std::string error;
  auto session = kg::kube::Session::connect(*config, {}, error);
  if (!session) {
    std::cerr << error << '\n';
    return 2;
  }
  kg::kube::Client client(session);
  auto version = client.get("/version");
  if (!version.ok()) {
    std::cerr << version.error << '\n';
    return 1;
  }
  std::cout << "version " << (version.body.find("v1.") != std::string::npos ? "ok" : "missing") << std::endl;
  std::size_t listed = 0;
  auto list = client.list("/api/v1/namespaces", 1, [&](const kg::Node& ns) {
    if (!kg::str(kg::get(kg::get(&ns, "metadata"), "name")).empty()) ++listed;
  });
  if (!list.ok()) {
    std::cerr << list.error << '\n';
    return 1;
  }
  std::cout << "listed " << listed << " namespaces" << std::endl;
  const std::string wanted = argv[2];
  bool seen = false;
  auto watch = client.watch("/api/v1/namespaces", [&](std::string_view type, const kg::Node& ns) {
    const std::string_view name = kg::str(kg::get(kg::get(&ns, "metadata"), "name"));
    std::cout << type << ' ' << name << std::endl;
    seen = type == "ADDED" && name == wanted;
    return !seen;
  });
  if (!seen) {
    std::cerr << "watch ended without seeing " << wanted << ": " << watch.error << '\n';
    return 1;
  }
  return 0;
}

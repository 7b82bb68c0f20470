// Drives sources/kube's NamespaceCache (kguard admit's namespace labels)
// against the local API stand-in of tests/server/namespace_watch_test.py.
// Usage: namespace_watch_probe KUBECONFIG NAMESPACE...
// Waits until every NAMESPACE has labels (list pages and watch events), prints
// "labels NAME k=v,..." for each, then stops the cache and prints
// "stopped MS" (how long stop() took to end the blocked watch and join its
// thread), then stays alive for 2 s so the test can see the watch connection
// was closed by stop() and not by the process exiting.
#include <chrono>
#include <iostream>
#include <thread>

#include "sources/kube/kubeconfig.hpp"
#include "sources/kube/namespace_cache.hpp"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: namespace_watch_probe KUBECONFIG NAMESPACE...\n";
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
  kg::kube::NamespaceCache cache(session, std::chrono::seconds(300));
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  for (int i = 2; i < argc; ++i) {
    std::optional<kg::Labels> labels;
    while (!(labels = cache.labels(argv[i])) && std::chrono::steady_clock::now() < give_up)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (!labels) {
      std::cout << "missing " << argv[i] << " (" << cache.describe() << ")" << std::endl;
      return 1;
    }
    std::cout << "labels " << argv[i] << ' ';
    bool first = true;
    for (const auto& [k, v] : *labels) {
      std::cout << (first ? "" : ",") << k << '=' << v;
      first = false;
    }
    std::cout << std::endl;
  }
  const auto t0 = std::chrono::steady_clock::now();
  cache.stop();
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
  std::cout << "stopped " << ms << std::endl;
  std::this_thread::sleep_for(std::chrono::seconds(2));
  std::cout << "exiting" << std::endl;
  return 0;
}

// libFuzzer target for AdmissionReview decoding and the whole admission
// decision: the bytes are a request body, reviewed under a policy that turns
// on every mode (PSS enforce, audit and warn, and a kguard profile with the
// whole catalog), so every rule meets the object.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "engines/admit/admit.hpp"

namespace {

const kg::admit::Engine& engine() {
  static const std::unique_ptr<kg::admit::Engine> e = [] {
    kg::admit::AdmitConfig cfg;
    cfg.default_labels = {{"enforce", "baseline"}, {"audit", "restricted"}, {"warn", "restricted"},
                          {"kguard-audit", "all"}};
    cfg.profiles["all"] = kg::admit::Profile{"all", {}, kg::PssLevel::Restricted, kg::kLatestPssMinor};
    cfg.namespaces["labelled"] = {{"kguard.io/enforce", "all"},
                                  {"pod-security.kubernetes.io/enforce", "v1.x"}};
    std::vector<kg::InputError> errors;
    auto ns = std::make_shared<kg::admit::ConfigNamespaceSource>(cfg.namespaces);
    return kg::admit::Engine::create(kg::Config{}, cfg, ns, errors);
  }();
  return *e;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string body(reinterpret_cast<const char*>(data), size);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  kg::admit::ReviewOutcome r = engine().review(std::move(body), deadline);
  if (r.http_status != 200 && r.http_status != 400) __builtin_trap();
  if (r.body.empty()) __builtin_trap();
  if (r.http_status == 200 && r.body.find(R"("uid":)") == std::string::npos) __builtin_trap();
  return 0;
}

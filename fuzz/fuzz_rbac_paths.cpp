// libFuzzer target for the escalation paths and credential hygiene over
// untrusted manifests: RBAC objects, pod templates, token Secrets and
// Namespaces read into the graph, every identity's shortest path, the
// hygiene checks and their findings. Every path must start at its identity,
// end at its target, and name witnesses that exist.
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/object.hpp"
#include "engines/rbac/findings.hpp"
#include "engines/rbac/hygiene.hpp"
#include "engines/rbac/paths.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  kg::SourceFile file;
  file.path = "fuzz.yaml";
  file.content.assign(reinterpret_cast<const char*>(data), size);
  kg::load_documents(file);
  std::vector<kg::InputError> errors;
  kg::rbac::PolicyLoader loader;
  kg::rbac::Assets assets;
  const kg::PodSpecTable pod_specs;
  for (const kg::Document& d : file.documents) {
    std::vector<kg::Object> objects;
    kg::collect_objects(file, d, objects, errors);
    for (const kg::Object& o : objects)
      if (!loader.add(o, errors)) kg::rbac::add_asset(o, pod_specs, "default", assets);
  }
  loader.add_bootstrap();
  const kg::rbac::RbacIndex index(loader.take());
  kg::rbac::PathOptions options;
  options.known_controllers = {"sa:kube-system:*", "user:x*"};
  const kg::rbac::PathAnalysis paths(index, assets, options);
  for (const kg::rbac::Path& p : paths.all_paths()) {
    if (p.steps.empty()) __builtin_trap();
    const kg::rbac::PathNode& end = paths.node(p.steps.back().to);
    if (end.kind != kg::rbac::NodeKind::Target || end.target != p.target) __builtin_trap();
    for (const kg::rbac::PathStep& s : p.steps)
      for (const kg::rbac::Witness& w : s.via) (void)kg::rbac::witness_text(index, w);
    (void)kg::rbac::path_text(paths, p);
  }
  const kg::rbac::Hygiene hygiene = kg::rbac::check_hygiene(paths, kg::rbac::days_since_epoch("2026-12-05"));
  kg::EngineResult result;
  kg::rbac::add_rbac_findings(result, kg::Category{}, paths, hygiene);
  return 0;
}

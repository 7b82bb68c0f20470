// libFuzzer target for the RBAC engine's untrusted inputs: manifests read into
// a Policy (the loader's validation, aggregation selectors, cycles among
// aggregated ClusterRoles), the index and every query over it, and the same
// bytes line by line as `rbac check --batch` questions.
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/object.hpp"
#include "engines/rbac/compact.hpp"
#include "engines/rbac/rbac.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  kg::SourceFile file;
  file.path = "fuzz.yaml";
  file.content = text;
  kg::load_documents(file);
  std::vector<kg::InputError> errors;
  kg::rbac::PolicyLoader loader;
  for (const kg::Document& d : file.documents) {
    std::vector<kg::Object> objects;
    kg::collect_objects(file, d, objects, errors);
    for (const kg::Object& o : objects) loader.add(o, errors);
  }
  for (const kg::InputError& e : errors)
    if (e.message.empty()) __builtin_trap();
  const kg::rbac::RbacIndex index(loader.take());
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t end = std::min(text.find('\n', start), text.size());
    kg::rbac::Identity who;
    kg::rbac::Request request;
    std::string error;
    if (kg::rbac::parse_access_question(std::string_view(text).substr(start, end - start), who, request, error)) {
      const kg::rbac::Decision d = index.authorize(who, request);
      // Whatever allowed it must itself allow it: the grant names a real rule.
      if (d.by && !kg::rbac::rule_allows(request, index.effective_rule(d.by->role, d.by->rule))) __builtin_trap();
      for (const kg::rbac::Allowing& a : index.who_can(request, true))
        if (!kg::rbac::rule_allows(request, index.effective_rule(a.role, a.rule))) __builtin_trap();
    } else if (error.empty()) {
      __builtin_trap();
    }
    start = end + 1;
  }
  for (const kg::rbac::SubjectEntry& s : index.subjects()) (void)kg::rbac::compact_rules(index, index.identity_of(s));
  for (std::size_t r = 0; r + 1 < index.policy().roles.size() && r < 8; ++r) {
    std::vector<kg::rbac::PolicyRule> a, b;
    for (const kg::rbac::PolicyRule* p : index.effective_rules(r)) a.push_back(*p);
    for (const kg::rbac::PolicyRule* p : index.effective_rules(r + 1)) b.push_back(*p);
    (void)kg::rbac::covers(a, b);
  }
  return 0;
}

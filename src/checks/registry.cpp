#include "checks/registry.hpp"

namespace kg {

std::vector<std::string> Params::strings(std::string_view key) const {
  std::vector<std::string> out;
  const Node* n = get(key);
  if (n && n->is_scalar()) out.emplace_back(n->text());
  for (const Node* item : items(n))
    if (item->is_scalar()) out.emplace_back(item->text());
  return out;
}

std::optional<std::int64_t> Params::integer(std::string_view key) const {
  const Node* n = get(key);
  return n ? n->as_int() : std::nullopt;
}

// The one list of check templates. Add a template here and in registry.hpp.
std::span<const CheckTemplate> check_templates() {
  static const CheckTemplate kTemplates[] = {
      {"pss", "A Pod Security Standards control, evaluated exactly as upstream (param: control)",
       compile_pss_check},
      {"field", "A condition on a field of each container, the pod spec or the object",
       compile_field_check},
      {"image", "Image reference hygiene: tag, digest, registry", compile_image_check},
  };
  return kTemplates;
}

const CheckTemplate* find_check_template(std::string_view name) {
  for (const CheckTemplate& t : check_templates())
    if (t.name == name) return &t;
  return nullptr;
}

}  // namespace kg

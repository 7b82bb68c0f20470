// The image engine's hardening lint: the Image object (image_object.hpp)
// judged by the catalog's rules for `kind: Image` through the catalog's
// KindLinter (catalog/kind_linter.hpp, shared with the node engine), into the
// one report model, so every report format and --lang work for images as they
// do for manifests.
#pragma once

#include <string>

#include "catalog/kind_linter.hpp"

namespace kg::image {

// The rules that judge images: kinds names Image (a "*" rule is a manifest
// rule and does not).
inline bool is_image_rule(const Rule& rule) { return rule_judges_kind(rule, "Image"); }

// The image rules of a catalog that the options select; lint(subject,
// object_json) evaluates one kind: Image object, `subject` naming the image
// reference. Keep the linter alive while its results are used.
class ImageLinter final : public KindLinter {
 public:
  ImageLinter(const Catalog& catalog, const EvalOptions& options)
      : KindLinter(catalog, options, {"Image", "image", "Image hardening"}) {}
};

}  // namespace kg::image

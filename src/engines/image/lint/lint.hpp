// The image engine's hardening lint: the Image object (image_object.hpp)
// judged by the catalog's rules for `kind: Image` through the catalog's
// object-level Evaluator, into the one report model (EngineResult), so every
// report format and --lang work for images as they do for manifests.
#pragma once

#include <string>
#include <vector>

#include "catalog/catalog.hpp"
#include "catalog/evaluator.hpp"
#include "model/engine_result.hpp"

namespace kg::image {

// The rules that judge images: kinds names Image (a "*" rule is a manifest
// rule and does not).
bool is_image_rule(const Rule& rule);

// The image rules of a catalog that the options select (--only, config
// overrides and exemptions), ready to judge Image objects. A rule the config
// changed is owned here: keep the linter alive while its results are used.
class ImageLinter final : public Evaluator {
 public:
  ImageLinter(const Catalog& catalog, const EvalOptions& options);
  // Evaluates `object_json` (one kind: Image object); `subject` names the
  // input (the image reference). Problems with the options or the object
  // land in EngineResult::errors.
  EngineResult lint(const std::string& subject, std::string object_json) const;

 private:
  void judge(const Object& obj, EngineResult& r) const;
};

}  // namespace kg::image

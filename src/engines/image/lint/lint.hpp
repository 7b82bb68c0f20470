// The image engine's hardening lint: the Image object (image_object.hpp)
// judged by the catalog's rules for `kind: Image` through the catalog's
// object-level Evaluator, into the one report model (EngineResult), so every
// report format and --lang work for images as they do for manifests.
#pragma once

#include <string>

#include "catalog/catalog.hpp"
#include "catalog/evaluator.hpp"
#include "model/engine_result.hpp"

namespace kg::image {

// The rules that judge images: kinds names Image (a "*" rule is a manifest
// rule and does not).
bool is_image_rule(const Rule& rule);

// Evaluates `object_json` (one kind: Image object) with the image rules of
// `catalog` that `options` selects (--only, config overrides and
// exemptions). `subject` names the input (the image reference). Problems
// with the options or the object land in EngineResult::errors.
EngineResult lint_image_object(const Catalog& catalog, const EvalOptions& options, const std::string& subject,
                               std::string object_json);

}  // namespace kg::image

// The one Kubernetes-shaped object the image hardening rules judge: what the
// walk saw (config, history, layers, OS, packages, the lint's file facts)
// written as `apiVersion: kguard.io/v1`, `kind: Image`, so the rules are
// ordinary catalog rules (rules/images/image-*) evaluated by the catalog's
// object-level Evaluator, with pass/fail fixtures like every other rule.
// docs/images.md "Hardening lint" lists the fields.
#pragma once

#include <string>

#include "engines/image/lint/lint_facts.hpp"
#include "engines/image/walk.hpp"

namespace kg::image {

// The Image object as JSON text. `r` is a successful read (its config, tag,
// inventory, byte count); `facts` what the LintCataloger gathered in it.
std::string image_object_json(const ImageReadResult& r, const LintFacts& facts);

// Bump when the object's fields change: scan --images caches objects by image
// digest under this version, so an old cache is never judged as a new object.
constexpr int kImageObjectVersion = 1;

}  // namespace kg::image

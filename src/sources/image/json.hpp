// A small JSON document (manifest, index, config, docker manifest.json,
// config.json) parsed strictly into the core Node tree, kept alive with
// its arena.
#pragma once

#include <memory>
#include <string>

#include "core/document.hpp"

namespace kg::image {

struct JsonDoc {
  SourceFile file;
  const Node* root = nullptr;
};

// Throws ImageError "<where>:line:column: ..." on bad JSON or when the
// top-level value is not an object (an array when `array` is set).
std::unique_ptr<JsonDoc> parse_json(std::string bytes, const std::string& where, bool array = false);

}  // namespace kg::image

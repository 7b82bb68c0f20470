#include "sources/image/json.hpp"

#include "sources/image/stream.hpp"

namespace kg::image {

std::unique_ptr<JsonDoc> parse_json(std::string bytes, const std::string& where, bool array) {
  auto doc = std::make_unique<JsonDoc>();
  doc->file.path = where;
  doc->file.content = std::move(bytes);
  LoadLimits limits;
  limits.max_depth = 64;
  JsonDoc* d = doc.get();
  load_json(doc->file, doc->file.arena, false, limits, [d](const Document& document) {
    if (!d->root) d->root = document.root;
  });
  if (!doc->file.errors.empty()) {
    const InputError& e = doc->file.errors.front();
    throw ImageError(where + ":" + std::to_string(e.line) + ":" + std::to_string(e.column) + ": " + e.message);
  }
  if (!doc->root) throw ImageError(where + ": empty, expected a JSON " + (array ? "array" : "object"));
  if (array ? !doc->root->is_seq() : !doc->root->is_map()) {
    throw ImageError(where + ":" + std::to_string(doc->root->line) + ":" + std::to_string(doc->root->column) +
                     ": expected a JSON " + (array ? "array" : "object"));
  }
  return doc;
}

}  // namespace kg::image

// JSON helpers of the signing engine (json_read.hpp).
#include "engines/sign/json_read.hpp"

#include "core/json_writer.hpp"
#include "engines/sign/keys.hpp"
#include "sources/image/stream.hpp"

namespace kg::sign::json {

std::string q(std::string_view s) {
  std::string out;
  JsonWriter::escape(out, s);
  return out;
}

std::unique_ptr<image::JsonDoc> parse(const std::string& bytes, const std::string& where) {
  try {
    return image::parse_json(bytes, where);
  } catch (const image::ImageError& e) {
    throw SignError(e.what());
  }
}

std::string at(const std::string& where, const Node* n) {
  return n ? where + ":" + std::to_string(n->line) + ":" + std::to_string(n->column) : where;
}

std::string need(const Node* parent, std::string_view key, const std::string& where, const std::string& path) {
  const Node* n = get(parent, key);
  if (!n || !n->is_scalar() || !n->quoted)
    throw SignError(at(where, n ? n : parent) + ": " + path + " is missing or not a string");
  return std::string(str(n));
}

std::string need(const Node* parent, std::string_view key, const std::string& where) {
  return need(parent, key, where, std::string(key));
}

}  // namespace kg::sign::json

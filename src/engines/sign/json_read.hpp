// JSON helpers shared by the signature formats (formats.cpp) and attestations (attest.cpp):
// literals out, documents in, and errors that name where:line:column.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/document.hpp"
#include "sources/image/json.hpp"

namespace kg::sign::json {

// A JSON string literal (JsonWriter::escape writes the quotes).
std::string q(std::string_view s);

// The parsed document; a parse error becomes a SignError (it already names where:line).
std::unique_ptr<image::JsonDoc> parse(const std::string& bytes, const std::string& where);

// "where:line:column" of n, or where alone when n is null.
std::string at(const std::string& where, const Node* n);

// The string field `key` of parent; SignError naming `path` (default: key) when missing or not a string.
std::string need(const Node* parent, std::string_view key, const std::string& where, const std::string& path);
std::string need(const Node* parent, std::string_view key, const std::string& where);

}  // namespace kg::sign::json

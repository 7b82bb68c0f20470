// Builds Node trees bottom-up from a stream of parse events. Shared by the
// YAML and JSON loaders so both produce identical trees and enforce the same
// limits (depth, alias expansion, duplicate keys).
#pragma once

#include <cstring>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/document.hpp"

namespace kg::detail {

class TreeBuilder {
 public:
  TreeBuilder(Arena& arena, const LoadLimits& limits) : arena_(arena), limits_(limits) {}

  // Starts a new document; clears anchors and the error state.
  void reset();

  // Event handlers. Each returns false once the document has failed; the
  // failure message and location are then in error().
  bool scalar(std::string_view text, bool quoted, bool is_null, std::uint32_t line,
              std::uint32_t col, std::string_view anchor = {}, bool copy_text = true);
  bool begin(NodeType type, std::uint32_t line, std::uint32_t col, std::string_view anchor = {});
  bool end();
  bool alias(std::string_view anchor, std::uint32_t line, std::uint32_t col);

  // The finished root (valid after the outermost end()/scalar()).
  const Node* root() const { return root_; }
  bool failed() const { return !error_.message.empty(); }
  const InputError& error() const { return error_; }
  // Non-fatal findings about the document (duplicate keys).
  std::vector<InputError>& warnings() { return warnings_; }
  std::size_t depth() const { return frames_.size(); }

  void fail(std::uint32_t line, std::uint32_t col, std::string message);

 private:
  struct Frame {
    Node* node;
    std::size_t scratch_start;
    std::size_t expanded_start;
    std::string anchor;
  };
  struct Anchor {
    const Node* node;
    std::size_t expanded;  // nodes this anchor expands to
  };

  bool add(const Node* n, std::size_t expanded_size);
  void finish_map(Node* node, std::size_t start);
  std::string_view copy(std::string_view text);

  Arena& arena_;
  const LoadLimits& limits_;
  std::vector<Frame> frames_;
  std::vector<const Node*> scratch_;
  std::unordered_map<std::string, Anchor> anchors_;
  std::size_t expanded_ = 0;        // nodes of the document as aliases expand it
  std::size_t alias_expanded_ = 0;  // of which added by aliases
  const Node* root_ = nullptr;
  InputError error_;
  std::vector<InputError> warnings_;
};

}  // namespace kg::detail

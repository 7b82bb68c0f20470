// Builds Node trees bottom-up from a stream of parse events. Shared by the
// YAML and JSON loaders so both produce identical trees and enforce the same
// limits (depth, alias expansion, duplicate keys).
#pragma once

#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/document.hpp"

namespace kg::detail {

class TreeBuilder {
 public:
  TreeBuilder(Arena& arena, const LoadLimits& limits)
      : main_arena_(arena), arena_(&arena), limits_(limits) {}

  // Streams the elements of a root mapping's `items` sequence (kind: List
  // envelopes, `kubectl get -o yaml|json`) to `sink` one at a time, each in
  // its own arena that is released afterwards, so a 70 MB List never
  // exists as one tree. The envelope is delivered with an empty `items`.
  // Anchors defined inside one item are forgotten with it (an alias to them
  // from a later item is an error); generated Lists never use them.
  using ItemSink = std::function<void(const Node* item, std::size_t index)>;
  void stream_list_items(ItemSink sink) { item_sink_ = std::move(sink); }

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
  // Non-fatal findings about the document (duplicate keys), at most
  // max_errors_per_file of them; the rest are only counted.
  std::vector<InputError>& warnings() { return warnings_; }
  std::size_t warnings_dropped() const { return warnings_dropped_; }
  // The failure is a limit (depth, alias expansion), not a syntax error.
  bool limit_failed() const { return limit_failed_; }
  std::size_t depth() const { return frames_.size(); }

  void fail(std::uint32_t line, std::uint32_t col, std::string message);

 private:
  struct Frame {
    Node* node;
    std::size_t scratch_start;
    std::size_t expanded_start;
    std::string anchor;
    bool streaming = false;  // a root `items` sequence whose elements go to item_sink_
    std::size_t streamed = 0;
  };
  struct Anchor {
    const Node* node;
    std::size_t expanded;  // nodes this anchor expands to
  };

  bool add(const Node* n, std::size_t expanded_size);
  void enter_item_if_streaming();
  void register_anchor(std::string_view name, const Node* n, std::size_t size);
  void finish_map(Node* node, std::size_t start);
  std::string_view copy(std::string_view text);

  Arena& main_arena_;
  Arena* arena_;  // main_arena_, or item_arena_ while inside a streamed item
  // Left uninitialized: zeroing it would cost a memset and page faults per file.
  static constexpr std::size_t kItemBufferBytes = std::size_t{64} * 1024;
  std::unique_ptr<std::byte[]> item_buffer_ = std::make_unique_for_overwrite<std::byte[]>(kItemBufferBytes);
  Arena item_arena_{item_buffer_.get(), kItemBufferBytes};  // reused for every List item
  ItemSink item_sink_;
  std::vector<std::string> item_anchors_;  // anchors to forget when the item is released
  const LoadLimits& limits_;
  std::vector<Frame> frames_;
  std::vector<const Node*> scratch_;
  std::unordered_map<std::string, Anchor> anchors_;
  std::size_t expanded_ = 0;        // nodes of the document as aliases expand it
  std::size_t alias_expanded_ = 0;  // of which added by aliases
  const Node* root_ = nullptr;
  InputError error_;
  bool limit_failed_ = false;
  std::vector<InputError> warnings_;
  std::size_t warnings_dropped_ = 0;
};

}  // namespace kg::detail

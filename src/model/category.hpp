// Categories are data: whoever defines rules registers its categories (the
// catalog registers kguard's five; an engine may register its own), and
// reports list the categories a result names, in registration order. No
// layer above this one holds a fixed list of them.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kg {

struct CategoryInfo {
  std::string id;     // "security": rule.yaml `category`, selectors, report ids
  std::string title;  // English; renderers translate it with tr()
  std::size_t index = 0;  // registration order in its registry
};

// A handle on a registered category; equal when it is the same registration.
class Category {
 public:
  Category() = default;
  explicit Category(const CategoryInfo* info) : info_(info) {}
  std::string_view id() const { return info_ ? std::string_view(info_->id) : std::string_view(); }
  std::string_view title() const { return info_ ? std::string_view(info_->title) : std::string_view(); }
  std::size_t index() const { return info_ ? info_->index : 0; }
  explicit operator bool() const { return info_ != nullptr; }
  bool operator==(const Category& other) const { return info_ == other.info_; }

 private:
  const CategoryInfo* info_ = nullptr;
};

inline std::string_view to_string(Category c) { return c.id(); }
inline std::string_view category_title(Category c) { return c.title(); }

// Owns the categories it registered; handles stay valid while it lives
// (also across a move of the registry).
class CategoryRegistry {
 public:
  // Registers `id` (or returns the handle it already has).
  Category add(std::string_view id, std::string_view title);
  std::optional<Category> find(std::string_view id) const;
  // Every category, in registration order.
  std::vector<Category> all() const;

 private:
  std::vector<std::unique_ptr<CategoryInfo>> items_;
};

}  // namespace kg

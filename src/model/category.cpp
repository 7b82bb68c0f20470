#include "model/category.hpp"

namespace kg {

Category CategoryRegistry::add(std::string_view id, std::string_view title) {
  if (auto known = find(id)) return *known;
  items_.push_back(std::make_unique<CategoryInfo>(
      CategoryInfo{std::string(id), std::string(title), items_.size()}));
  return Category(items_.back().get());
}

std::optional<Category> CategoryRegistry::find(std::string_view id) const {
  for (const auto& c : items_)
    if (c->id == id) return Category(c.get());
  return std::nullopt;
}

std::vector<Category> CategoryRegistry::all() const {
  std::vector<Category> out;
  out.reserve(items_.size());
  for (const auto& c : items_) out.emplace_back(c.get());
  return out;
}

}  // namespace kg

#include "core/facts.hpp"

#include <algorithm>

namespace kg {

FactPlan::FactPlan(std::vector<const FactCollector*> collectors, const std::vector<std::string>& kinds)
    : collectors_(std::move(collectors)) {
  for (const std::string& kind : kinds) {
    for (std::size_t i = 0; i < collectors_.size(); ++i) {
      const auto& ks = collectors_[i]->kinds;
      const bool named = std::find(ks.begin(), ks.end(), kind) != ks.end();
      const bool workloads = std::find(ks.begin(), ks.end(), "workloads") != ks.end();
      if (named) plain_[kind].push_back(static_cast<std::uint16_t>(i));
      if (named || workloads) with_pod_[kind].push_back(static_cast<std::uint16_t>(i));
    }
}
}

const std::vector<std::uint16_t>* FactPlan::readers(std::string_view kind, bool pod) const {
  const auto& m = pod ? with_pod_ : plain_;
  auto it = m.find(kind);
  return it == m.end() ? nullptr : &it->second;
}

}  // namespace kg

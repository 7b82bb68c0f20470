// Facts are owned by whoever reads them. A set-level check (or an engine)
// declares the fact tables it reads as FactCollectors; a scan makes a
// FactPlan of the collectors its rules need, and the Inventory offers each
// object to the tables whose collector reads the object's kind. core knows
// only this interface: the tables themselves (workloads, Services, RBAC…)
// live beside the checks that read them (checks/facts.hpp), so a new check or
// engine brings its own facts without editing core.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/object.hpp"

namespace kg {

// One table of facts, filled while documents stream past (one per scan worker
// and file), then merged in input order and cut per reference scope.
class FactTable {
 public:
  // subset(): objects left out of the copy.
  static constexpr std::size_t kDropped = static_cast<std::size_t>(-1);
  virtual ~FactTable() = default;
  // Records the facts of `obj`, which is Inventory::objects[object].
  virtual void add(std::size_t object, const Object& obj, const PodView& pod) = 0;
  // Appends a table made by the same collector (a later file's), whose object
  // indices are shifted by `base`.
  virtual void append(FactTable&& later, std::size_t base) = 0;
  // A copy with the facts of the objects `local` keeps, renumbered:
  // local[i] is object i's new index, or kDropped.
  virtual std::unique_ptr<FactTable> subset(const std::vector<std::size_t>& local) const = 0;
};

// Which objects feed a table, and how to make an empty one. Identified by
// address: declare each as a function-local `static const` (see facts.cpp).
struct FactCollector {
  std::string_view name;
  // Kinds whose objects it reads; "workloads": every object with a pod template.
  std::span<const std::string_view> kinds;
  std::unique_ptr<FactTable> (*make)();
};

// The collectors a scan fills and, per kind, which of them read an object
// (of the kinds the scan collects facts of only: kinds_needed).
class FactPlan {
 public:
  FactPlan() = default;
  // `kinds`: the kinds facts are collected of, workload kinds spelled out.
  FactPlan(std::vector<const FactCollector*> collectors, const std::vector<std::string>& kinds);
  const std::vector<const FactCollector*>& collectors() const { return collectors_; }
  // Indices into collectors() of those reading an object of `kind`; `pod`:
  // the object carries a pod template. Null when none does.
  const std::vector<std::uint16_t>* readers(std::string_view kind, bool pod) const;

 private:
  std::vector<const FactCollector*> collectors_;
  std::map<std::string, std::vector<std::uint16_t>, std::less<>> plain_, with_pod_;
};

// A table of rows, each naming its object (`std::size_t object`); Self
// adds rows in add(). Rows of one object are contiguous and in object order.
template <class Self, class Row>
class RowTable : public FactTable {
 public:
  std::vector<Row> rows;

  void append(FactTable&& later, std::size_t base) override {
    auto& o = static_cast<Self&>(later);
    if (rows.empty() && base == 0) {
      rows.swap(o.rows);
    } else {
      // Grown geometrically: a large input comes in many pieces, and an exact
      // reserve per piece would move every row at each one.
      if (rows.capacity() < rows.size() + o.rows.size())
        rows.reserve(std::max(rows.size() + o.rows.size(), 2 * rows.capacity()));
      for (Row& r : o.rows) {
        r.object += base;
        rows.push_back(std::move(r));
      }
    }
    static_cast<Self&>(*this).changed();
  }
  std::unique_ptr<FactTable> subset(const std::vector<std::size_t>& local) const override {
    auto s = std::make_unique<Self>();
    for (const Row& r : rows) {
      if (local[r.object] != kDropped) {
        s->rows.push_back(r);
        s->rows.back().object = local[r.object];
      }
}
    return s;
  }
  // Lookups built from the rows are dropped when rows change.
  void changed() {}
};

}  // namespace kg

// The mutable state of one evaluating thread: a scan worker owns one for the
// files it scans, an admission request one for its object. Check templates
// keep their scratch buffers and per-object caches here, never in statics or
// thread_locals, so two scans (or two admission Scanners) in one process
// share nothing mutable and a check's state ends with its scan.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

namespace kg {

class EvalContext {
 public:
  EvalContext() = default;
  EvalContext(const EvalContext&) = delete;
  EvalContext& operator=(const EvalContext&) = delete;

  // The engine calls this before an object's checks run.
  void begin_object() { ++object_; }
  // Which object is being evaluated (1, 2, … in this context): a template
  // that parses something once per object for the several rules binding it
  // compares this with what it cached.
  std::uint64_t object() const { return object_; }

  // This context's one T, value-initialized on first use. T is a type private
  // to one check template (its scratch or cache), so templates never collide.
  template <class T>
  T& local() {
    const void* key = &kKey<T>;
    for (const Slot& s : slots_)
      if (s.key == key) return *static_cast<T*>(s.value.get());
    slots_.push_back(Slot{key, Owned(new T(), [](void* p) { delete static_cast<T*>(p); })});
    return *static_cast<T*>(slots_.back().value.get());
  }

 private:
  // One address per type: the key of its slot.
  template <class T>
  static constexpr char kKey = 0;
  using Owned = std::unique_ptr<void, void (*)(void*)>;
  struct Slot {
    const void* key;
    Owned value;
  };
  std::vector<Slot> slots_;
  std::uint64_t object_ = 0;
};

}  // namespace kg

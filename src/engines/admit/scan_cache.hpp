// The pieces the vulnerability gate's image source is built from
// (src/cli/admit_images.cpp), kept here so they are unit-tested without a
// registry: a bounded LRU keyed by digest, a TTL map for tag → digest, a
// small worker pool, and single-flight so concurrent misses for one key run
// one job whose result every waiter shares.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <future>
#include <list>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace kg::admit {

// A fixed set of threads running submitted jobs in order. The destructor
// finishes the running jobs, drops the queued ones and joins.
class Workers {
 public:
  Workers(unsigned threads, std::string name);
  ~Workers();
  Workers(const Workers&) = delete;
  Workers& operator=(const Workers&) = delete;
  void submit(std::function<void()> job);
  std::size_t queued() const;

 private:
  void run();
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
  std::string name_;
};

// Least recently used entries go first once `capacity` is reached.
template <class V>
class LruCache {
 public:
  explicit LruCache(std::size_t capacity) : capacity_(capacity ? capacity : 1) {}
  std::optional<V> get(const std::string& key) {
    std::lock_guard lock(mu_);
    auto it = index_.find(key);
    if (it == index_.end()) return std::nullopt;
    order_.splice(order_.begin(), order_, it->second);  // now the most recent
    return it->second->second;
  }
  void put(const std::string& key, V value) {
    std::lock_guard lock(mu_);
    if (auto it = index_.find(key); it != index_.end()) {
      it->second->second = std::move(value);
      order_.splice(order_.begin(), order_, it->second);
      return;
    }
    order_.emplace_front(key, std::move(value));
    index_[key] = order_.begin();
    while (order_.size() > capacity_) {
      index_.erase(order_.back().first);
      order_.pop_back();
      ++evictions_;
    }
  }
  void clear() {
    std::lock_guard lock(mu_);
    order_.clear();
    index_.clear();
  }
  std::size_t size() const {
    std::lock_guard lock(mu_);
    return order_.size();
  }
  std::size_t capacity() const { return capacity_; }
  std::uint64_t evictions() const {
    std::lock_guard lock(mu_);
    return evictions_;
  }

 private:
  const std::size_t capacity_;
  mutable std::mutex mu_;
  std::list<std::pair<std::string, V>> order_;
  std::unordered_map<std::string, typename std::list<std::pair<std::string, V>>::iterator> index_;
  std::uint64_t evictions_ = 0;
};

// Values that are trusted for `ttl` only (a tag may move: its digest is
// asked again after that). Bounded: the oldest entry goes first.
template <class V>
class TtlCache {
 public:
  using Clock = std::chrono::steady_clock;
  TtlCache(std::chrono::milliseconds ttl, std::size_t capacity) : ttl_(ttl), capacity_(capacity ? capacity : 1) {}
  std::optional<V> get(const std::string& key, Clock::time_point now = Clock::now()) {
    std::lock_guard lock(mu_);
    auto it = map_.find(key);
    if (it == map_.end()) return std::nullopt;
    if (now - it->second.second >= ttl_) {
      map_.erase(it);
      return std::nullopt;
    }
    return it->second.first;
  }
  void put(const std::string& key, V value, Clock::time_point now = Clock::now()) {
    std::lock_guard lock(mu_);
    if (ttl_.count() <= 0) return;
    if (map_.size() >= capacity_ && !map_.count(key)) {
      auto oldest = map_.begin();
      for (auto it = map_.begin(); it != map_.end(); ++it)
        if (it->second.second < oldest->second.second) oldest = it;
      map_.erase(oldest);
    }
    map_[key] = {std::move(value), now};
  }
  std::size_t size() const {
    std::lock_guard lock(mu_);
    return map_.size();
  }

 private:
  const std::chrono::milliseconds ttl_;
  const std::size_t capacity_;
  mutable std::mutex mu_;
  std::map<std::string, std::pair<V, Clock::time_point>> map_;
};

// One job per key at a time: the first caller submits it to `workers`, the
// others get the same future. The key is forgotten when the job ends, so a
// later call runs it again (a cache in front decides whether it needs to).
template <class V>
class SingleFlight {
 public:
  // `started` tells whether this call submitted the job.
  std::shared_future<V> run(const std::string& key, Workers& workers, std::function<V()> job, bool* started = nullptr) {
    std::lock_guard lock(mu_);
    if (auto it = flights_.find(key); it != flights_.end()) {
      if (started) *started = false;
      return it->second;
    }
    auto promise = std::make_shared<std::promise<V>>();
    std::shared_future<V> future = promise->get_future().share();
    flights_.emplace(key, future);
    if (started) *started = true;
    workers.submit([this, key, promise, job = std::move(job)] {
      V value = job();
      {
        std::lock_guard done(mu_);
        flights_.erase(key);
      }
      promise->set_value(std::move(value));
    });
    return future;
  }
  std::size_t in_flight() const {
    std::lock_guard lock(mu_);
    return flights_.size();
  }

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::shared_future<V>> flights_;
};

}  // namespace kg::admit

#include "engines/admit/scan_cache.hpp"

namespace kg::admit {

Workers::Workers(unsigned threads, std::string name) : name_(std::move(name)) {
  if (threads == 0) threads = 1;
  threads_.reserve(threads);
  for (unsigned i = 0; i < threads; ++i) threads_.emplace_back([this] { run(); });
}

Workers::~Workers() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    queue_.clear();  // queued jobs are dropped: their promises break, waiters see an error
  }
  cv_.notify_all();
  for (std::thread& t : threads_) t.join();
}

void Workers::submit(std::function<void()> job) {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    queue_.push_back(std::move(job));
  }
  cv_.notify_one();
}

std::size_t Workers::queued() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

void Workers::run() {
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    job();
  }
}

}  // namespace kg::admit

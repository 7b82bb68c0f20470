// The namespace labels kguard admit needs, kept current from the API server:
// list, then watch from the list's resourceVersion (with bookmarks); when
// the watch ends (its timeoutSeconds is the resync period), fails, or the
// server says the version is gone (410), list again. Connection failures are
// retried with backoff; meanwhile the last known labels keep being served.
//
// The engine sees it through admit::NamespaceSource: labels() answers from
// memory (a lock and a map lookup), never from the network.
//
// stop() (or the destructor) ends the watch thread and joins it: the flag
// aborts a request under way within about a second (libcurl's progress
// callback) and wakes a backoff sleep at once.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "sources/namespaces.hpp"
#include "sources/kube/client.hpp"

namespace kg::kube {

class NamespaceCache final : public admit::NamespaceSource {
 public:
  NamespaceCache(std::shared_ptr<const Session> session, std::chrono::seconds resync);
  ~NamespaceCache() override;
  NamespaceCache(const NamespaceCache&) = delete;
  NamespaceCache& operator=(const NamespaceCache&) = delete;

  std::optional<Labels> labels(std::string_view name) const override;
  bool ready() const override { return synced_.load(); }
  std::string describe() const override;
  // Full lists done so far (the first sync included).
  std::uint64_t relists() const { return relists_.load(); }

  // Ends the watch and joins its thread; idempotent.
  void stop();

 private:
  void run(std::shared_ptr<const Session> session, std::chrono::seconds resync);
  // Sleeps up to `d`; false when stop() was called.
  bool sleep_for(std::chrono::milliseconds d);

  mutable std::mutex mu_;
  std::map<std::string, Labels, std::less<>> labels_;
  std::atomic<bool> synced_{false};
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> relists_{0};
  std::string server_;
  std::mutex wait_mu_;
  std::condition_variable wake_;
  std::thread thread_;  // last: started when everything above exists
};

}  // namespace kg::kube

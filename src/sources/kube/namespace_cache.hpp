// The namespace labels kguard admit needs, kept current from the API server:
// list, then watch from the list's resourceVersion (with bookmarks); when
// the watch ends (its timeoutSeconds is the resync period), fails, or the
// server says the version is gone (410), list again. Connection failures are
// retried with backoff; meanwhile the last known labels keep being served.
//
// The engine sees it through admit::NamespaceSource: labels() answers from
// memory (a lock and a map lookup), never from the network.
#pragma once

#include <atomic>
#include <chrono>
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

  std::optional<Labels> labels(std::string_view name) const override;
  bool ready() const override { return state_->synced.load(); }
  std::string describe() const override;

  struct State {
    std::mutex mu;
    std::map<std::string, Labels, std::less<>> labels;
    std::atomic<bool> synced{false};
    std::atomic<bool> stop{false};
    std::atomic<std::uint64_t> relists{0};
    std::string server;
  };

 private:
  std::shared_ptr<State> state_;  // shared with the watch thread, which may outlive us briefly
  std::thread thread_;
};

}  // namespace kg::kube

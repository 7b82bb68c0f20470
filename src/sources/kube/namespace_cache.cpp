#include "sources/kube/namespace_cache.hpp"

#include "core/log.hpp"

namespace kg::kube {

NamespaceCache::NamespaceCache(std::shared_ptr<const Session> session, std::chrono::seconds resync)
    : server_(session->config().server) {
  thread_ = std::thread([this, session = std::move(session), resync]() mutable { run(std::move(session), resync); });
}

NamespaceCache::~NamespaceCache() { stop(); }

void NamespaceCache::stop() {
  {
    std::lock_guard lock(wait_mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool NamespaceCache::sleep_for(std::chrono::milliseconds d) {
  std::unique_lock lock(wait_mu_);
  return !wake_.wait_for(lock, d, [this] { return stop_.load(); });
}

void NamespaceCache::run(std::shared_ptr<const Session> session, std::chrono::seconds resync) {
  Client client(std::move(session));
  client.set_cancel_flag(&stop_);
  auto backoff = std::chrono::milliseconds(250);
  auto back_off = [&] {
    const bool go_on = sleep_for(backoff);
    backoff = std::min(backoff * 2, std::chrono::milliseconds(30'000));
    return go_on;
  };
  while (!stop_.load()) {
    // List (paged) into a fresh map, then swap it in: deletions missed while
    // disconnected disappear.
    std::map<std::string, Labels, std::less<>> fresh;
    std::string rv;
    Response r = client.list("/api/v1/namespaces", 500, [&](const Node& item) {
      const Node* m = get(&item, "metadata");
      fresh[std::string(str(get(m, "name")))] = read_labels(get(m, "labels"));
    }, &rv);
    if (stop_.load()) break;
    if (!r.ok()) {
      log_line("error", "namespace list failed; serving the last known labels",
               {{"error", r.error}, {"status", std::to_string(r.status)}});
      if (!back_off()) break;
      continue;
    }
    {
      std::lock_guard lock(mu_);
      labels_ = std::move(fresh);
    }
    relists_.fetch_add(1);
    if (!synced_.exchange(true))
      log_line("info", "namespace labels synced from the API server", {{"server", server_}});
    backoff = std::chrono::milliseconds(250);
    // Watch from there until the server ends the watch (the resync period),
    // the version is gone, or the connection fails.
    const std::string path = "/api/v1/namespaces?allowWatchBookmarks=true&resourceVersion=" + rv +
                             "&timeoutSeconds=" + std::to_string(resync.count());
    Response w = client.watch(path, [&](std::string_view type, const Node& obj) {
      if (stop_.load()) return false;
      const Node* m = get(&obj, "metadata");
      if (type == "ERROR") return false;  // 410 Gone: list again
      if (type == "BOOKMARK") return true;
      const std::string name(str(get(m, "name")));
      std::lock_guard lock(mu_);
      if (type == "DELETED") labels_.erase(name);
      else labels_[name] = read_labels(get(m, "labels"));
      return true;
    });
    if (stop_.load()) break;
    if (!w.ok() && w.status != 0)
      log_line("warn", "namespace watch ended; listing again", {{"error", w.error}});
    if (w.status == 0 && !back_off()) break;
  }
}

std::optional<Labels> NamespaceCache::labels(std::string_view name) const {
  if (!synced_.load()) return std::nullopt;
  std::lock_guard lock(mu_);
  auto it = labels_.find(name);
  // A namespace the cache has not seen (created a moment ago): unknown, so a
  // Pod in it is denied and retried rather than judged by the defaults.
  if (it == labels_.end()) return std::nullopt;
  return it->second;
}

std::string NamespaceCache::describe() const {
  return "watch of " + server_ + (synced_.load() ? "" : " (not synced yet)");
}

}  // namespace kg::kube

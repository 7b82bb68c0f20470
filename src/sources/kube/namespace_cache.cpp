#include "sources/kube/namespace_cache.hpp"

#include "core/log.hpp"

namespace kg::kube {
namespace {

// One page of GET /api/v1/namespaces: names and labels, the list's
// resourceVersion and continue token.
bool read_page(const std::string& body, std::map<std::string, Labels, std::less<>>& into,
               std::string& resource_version, std::string& next, std::string& error) {
  SourceFile file;
  file.path = "namespace list";
  file.content = body;
  const Node* root = nullptr;
  load_json(file, file.arena, false, LoadLimits{}, [&](const Document& d) {
    if (!root) root = d.root;
  });
  if (!file.errors.empty() || !root) {
    error = file.errors.empty() ? "empty namespace list" : file.errors.front().message;
    return false;
  }
  const Node* meta = get(root, "metadata");
  resource_version = std::string(str(get(meta, "resourceVersion")));
  next = std::string(str(get(meta, "continue")));
  for (const Node* item : items(get(root, "items"))) {
    const Node* m = get(item, "metadata");
    into[std::string(str(get(m, "name")))] = read_labels(get(m, "labels"));
  }
  return true;
}

void run(std::shared_ptr<NamespaceCache::State> state, std::shared_ptr<const Session> session,
         std::chrono::seconds resync) {
  Client client(session);
  auto backoff = std::chrono::milliseconds(250);
  while (!state->stop.load()) {
    // List (paged) into a fresh map, then swap it in: deletions missed while
    // disconnected disappear.
    std::map<std::string, Labels, std::less<>> fresh;
    std::string rv, next, error;
    bool ok = true;
    do {
      std::string path = "/api/v1/namespaces?limit=500";
      if (!next.empty()) path += "&continue=" + next;
      Response r = client.get(path);
      if (!r.ok() || !read_page(r.body, fresh, rv, next, error)) {
        log_line("error", "namespace list failed; serving the last known labels",
                         {{"error", r.ok() ? error : r.error}, {"status", std::to_string(r.status)}});
        ok = false;
        break;
      }
    } while (!next.empty());
    if (!ok) {
      std::this_thread::sleep_for(backoff);
      backoff = std::min(backoff * 2, std::chrono::milliseconds(30'000));
      continue;
    }
    {
      std::lock_guard lock(state->mu);
      state->labels = std::move(fresh);
    }
    state->relists.fetch_add(1);
    if (!state->synced.exchange(true))
      log_line("info", "namespace labels synced from the API server", {{"server", state->server}});
    backoff = std::chrono::milliseconds(250);
    // Watch from there until the server ends the watch (the resync period),
    // the version is gone, or the connection fails.
    const std::string path = "/api/v1/namespaces?allowWatchBookmarks=true&resourceVersion=" + rv +
                             "&timeoutSeconds=" + std::to_string(resync.count());
    Response w = client.watch(path, [&](std::string_view type, const Node& obj) {
      if (state->stop.load()) return false;
      const Node* m = get(&obj, "metadata");
      if (type == "ERROR") return false;  // 410 Gone: list again
      if (type == "BOOKMARK") return true;
      const std::string name(str(get(m, "name")));
      std::lock_guard lock(state->mu);
      if (type == "DELETED") state->labels.erase(name);
      else state->labels[name] = read_labels(get(m, "labels"));
      return true;
    });
    if (!w.ok() && w.status != 0 && !state->stop.load())
      log_line("warn", "namespace watch ended; listing again", {{"error", w.error}});
    if (w.status == 0 && !state->stop.load()) {
      std::this_thread::sleep_for(backoff);
      backoff = std::min(backoff * 2, std::chrono::milliseconds(30'000));
    }
  }
}

}  // namespace

NamespaceCache::NamespaceCache(std::shared_ptr<const Session> session, std::chrono::seconds resync)
    : state_(std::make_shared<State>()) {
  state_->server = session->config().server;
  thread_ = std::thread(run, state_, std::move(session), resync);
}

NamespaceCache::~NamespaceCache() {
  state_->stop = true;
  // A watch blocks until its next event or timeout; the thread holds its own
  // reference to the state, so it can finish on its own.
  thread_.detach();
}

std::optional<Labels> NamespaceCache::labels(std::string_view name) const {
  if (!state_->synced.load()) return std::nullopt;
  std::lock_guard lock(state_->mu);
  auto it = state_->labels.find(name);
  // A namespace the cache has not seen (created a moment ago): unknown, so a
  // Pod in it is denied and retried rather than judged by the defaults.
  if (it == state_->labels.end()) return std::nullopt;
  return it->second;
}

std::string NamespaceCache::describe() const {
  return "watch of " + state_->server + (state_->synced.load() ? "" : " (not synced yet)");
}

}  // namespace kg::kube

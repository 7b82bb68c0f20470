// A small Kubernetes API client over libcurl (HTTP/1.1 keep-alive, TLS with
// client certificates from memory, bearer tokens, exec credential plugins,
// proxies). Used by the cluster source to read a live cluster and meant to be
// reused (e.g. a Namespace watch for the admission webhook).
//
//   std::string error;
//   auto session = kube::Session::connect(config, {}, error);   // runs exec plugins once
//   kube::Client client(session);                                // one per thread
//   auto r = client.get("/version");
//   client.list("/apis/apps/v1/deployments", 500, [](const Node& item) { ... });
//   client.watch("/api/v1/namespaces", [](std::string_view type, const Node& obj) { return true; });
//
// Requests are retried with exponential backoff on 429 and 5xx (honouring
// Retry-After) and on connection failures. Credentials never appear in error
// messages.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "core/document.hpp"
#include "sources/kube/kubeconfig.hpp"

namespace kg::kube {

struct ClientOptions {
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::milliseconds request_timeout{60'000};  // per request; watches have none
  int max_retries = 4;                                 // after the first attempt
  std::chrono::milliseconds first_backoff{250};        // doubles per retry, capped at 8 s
  std::string user_agent = "kguard";
};

// The credentials of a session at one point in time. Requests hold a
// reference for their duration, so a refresh never frees blobs in use.
struct Credentials {
  std::string token;
  std::string cert_pem;
  std::string key_pem;
  std::uint64_t generation = 0;
};

// The resolved connection settings and credentials, shared by every Client
// (thread) of a scan.
class Session {
 public:
  // Reads certificate, key, CA and token files and runs the exec plugin.
  // Returns nullptr with `error` set when a credential cannot be obtained.
  static std::shared_ptr<const Session> connect(const ClientConfig& config, ClientOptions options,
                                                std::string& error);

  const ClientConfig& config() const { return config_; }
  const ClientOptions& options() const { return options_; }
  const std::string& ca_pem() const { return ca_pem_; }
  std::shared_ptr<const Credentials> credentials() const;
  // After a 401 with credentials of `generation`: re-reads the token file or
  // re-runs the exec plugin (as kubectl does when a token expired), once per
  // generation whatever the number of threads. False when nothing can be
  // refreshed or obtaining new credentials failed.
  bool refresh(std::uint64_t generation) const;

 private:
  bool obtain(Credentials& into, std::string& error) const;

  ClientConfig config_;
  ClientOptions options_;
  std::string ca_pem_;
  mutable std::mutex mutex_;
  mutable std::shared_ptr<const Credentials> credentials_;
};

struct Response {
  long status = 0;            // HTTP status; 0 when no response arrived
  std::string body;
  std::string error;          // transport error or the API Status message, for people
  std::string reason;         // the API Status reason (Forbidden, NotFound…) when given
  int attempts = 0;
  bool ok() const { return status >= 200 && status < 300; }
};

// Runs an exec credential plugin and parses its ExecCredential: a token or a
// client certificate and key. Exposed for tests.
struct ExecCredential {
  std::string token;
  std::string cert_pem;
  std::string key_pem;
};
std::optional<ExecCredential> run_exec_plugin(const ExecPlugin& plugin, const std::string& server,
                                              std::string& error);

class Client {
 public:
  explicit Client(std::shared_ptr<const Session> session);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // GET server + path (path includes any query), with retries.
  Response get(std::string_view path);

  // Lists a collection page by page (limit/continue), handing every item to
  // `on_item` as soon as its page is parsed. Returns the last response: its
  // status and error tell why listing stopped early.
  // `resource_version`, when given, receives the list's resourceVersion (to
  // watch from). The continue token is URL-escaped: it is opaque base64.
  using ItemSink = std::function<void(const Node& item)>;
  Response list(std::string_view path, std::size_t page_size, const ItemSink& on_item,
                std::string* resource_version = nullptr);

  // Watches a collection (?watch=1): `on_event` gets each event's type
  // (ADDED, MODIFIED, DELETED, BOOKMARK, ERROR) and object until it returns
  // false or the server closes the stream. No retries.
  using EventSink = std::function<bool(std::string_view type, const Node& object)>;
  Response watch(std::string_view path, const EventSink& on_event);

  // Server-side apply: PATCH server + path with `body` (YAML or JSON) as
  // application/apply-patch+yaml; path carries ?fieldManager=…&force=true.
  // With retries, like get.
  Response apply(std::string_view path, std::string_view body);

  // Once `*flag` is true, a request under way (a watch blocked waiting for
  // events included) ends within about a second, and retries stop; the
  // response then has status 0 and error "cancelled". The flag must outlive
  // the client.
  void set_cancel_flag(const std::atomic<bool>* flag) { cancel_ = flag; }

 private:
  bool cancelled() const { return cancel_ && cancel_->load(); }
  Response perform(std::string_view path, bool streaming,
                   const std::function<bool(std::string_view chunk)>* on_chunk);
  std::shared_ptr<const Session> session_;
  void* curl_ = nullptr;  // CURL*, reused for keep-alive
  const std::atomic<bool>* cancel_ = nullptr;
  std::optional<std::string_view> apply_body_;  // set while apply() performs
};

}  // namespace kg::kube

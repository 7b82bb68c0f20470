// What an application plugs into the server core: a request in, a response
// out. The core (TLS, event loop, connections, limits, HTTP parsing, health,
// metrics, reload and drain) knows nothing of what a handler does, so the
// admission webhook, an audit webhook or a registry hook reuse it whole.
//
// handle() runs on a worker thread, inline, and must not block for long:
// every connection of that worker waits meanwhile. It is called from several
// workers at once.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "server/http_parser.hpp"

namespace kg::server {

using Clock = std::chrono::steady_clock;

class Metrics;

struct Request {
  const HttpRequest& head;  // method, path, query, headers (names lower-cased)
  std::string_view body;
  Clock::time_point start;  // first byte of the request arrived
};

struct Response {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::string headers;  // extra header lines, each ending in "\r\n"

  static Response text(int status, std::string body, std::string headers = {}) {
    return Response{status, "text/plain; charset=utf-8", std::move(body), std::move(headers)};
  }
  static Response json(std::string body) {
    return Response{200, "application/json", std::move(body), {}};
  }
};

enum class ReloadReason { Signal, FileChanged };

class HttpHandler {
 public:
  virtual ~HttpHandler() = default;

  virtual Response handle(const Request& request) = 0;

  // Readiness beyond the server's own (started, not draining): empty when
  // ready, else why not (the body of /readyz's 503).
  virtual std::string not_ready() const { return {}; }
  // Prometheus text the handler adds to /metrics (before the server's own).
  virtual void render_metrics(std::string& /*out*/) const {}
  // Files whose change calls reload(FileChanged) (a config file).
  virtual std::vector<std::string> watched_files() const { return {}; }
  // SIGHUP, or a watched file changed. Runs on the main thread; a failed
  // reload must keep what is in force. Record outcomes in `metrics`.
  virtual void reload(ReloadReason /*reason*/, Metrics& /*metrics*/) {}
  // Main thread, a few times a second and once after the drain: flush
  // buffers (an audit log) without making requests wait for the disk.
  virtual void tick() {}
};

// A route table: exact path and method to a function. Unknown paths are 404,
// a known path with another method 405 with Allow; a GET route answers HEAD.
class Router {
 public:
  using Fn = std::function<Response(const Request&)>;
  void add(std::string method, std::string path, Fn fn);
  // True when some route has this path.
  bool has_path(std::string_view path) const;
  Response route(const Request& request) const;
  // "POST /validate, GET /healthz" for 404 texts.
  std::string describe() const;
  // The 404 text (default: "no such path; this server serves " + describe()).
  void set_not_found(std::string text) { not_found_ = std::move(text); }

 private:
  struct Route {
    std::string method, path;
    Fn fn;
  };
  std::vector<Route> routes_;
  std::string not_found_;
};

}  // namespace kg::server

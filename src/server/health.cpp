#include "server/health.hpp"

namespace kg::server {

Response ServiceRoutes::handle(const Request& request) {
  const HttpRequest& h = request.head;
  const bool get = h.method == "GET" || h.method == "HEAD";
  if (h.path == "/healthz" || h.path == "/readyz" || h.path == "/metrics") {
    if (!get) return Response::text(405, "use GET\n", "Allow: GET, HEAD\r\n");
    if (h.path == "/healthz") return Response::text(200, "ok\n");
    if (h.path == "/readyz") {
      if (unready.load()) return Response::text(503, "draining\n");
      if (!started.load()) return Response::text(503, "starting\n");
      if (std::string why = app_.not_ready(); !why.empty()) return Response::text(503, why + "\n");
      return Response::text(200, "ok\n");
    }
    Response r{200, "text/plain; version=0.0.4; charset=utf-8", {}, {}};
    app_.render_metrics(r.body);
    metrics_.render(r.body);
    return r;
  }
  return app_.handle(request);
}

}  // namespace kg::server

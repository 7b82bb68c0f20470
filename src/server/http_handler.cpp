#include "server/http_handler.hpp"

namespace kg::server {

void Router::add(std::string method, std::string path, Fn fn) {
  routes_.push_back({std::move(method), std::move(path), std::move(fn)});
}

bool Router::has_path(std::string_view path) const {
  for (const Route& r : routes_)
    if (r.path == path) return true;
  return false;
}

Response Router::route(const Request& request) const {
  const HttpRequest& h = request.head;
  std::string allow;
  for (const Route& r : routes_) {
    if (r.path != h.path) continue;
    if (r.method == h.method || (r.method == "GET" && h.method == "HEAD")) return r.fn(request);
    if (!allow.empty()) allow += ", ";
    allow += r.method;
    if (r.method == "GET") allow += ", HEAD";
  }
  if (!allow.empty())
    return Response::text(405, "use " + allow + " for " + h.path + "\n", "Allow: " + allow + "\r\n");
  if (!not_found_.empty()) return Response::text(404, not_found_);
  return Response::text(404, "no such path; this server serves " + describe() + "\n");
}

std::string Router::describe() const {
  std::string out;
  for (const Route& r : routes_) {
    if (!out.empty()) out += ", ";
    out += r.method + " " + r.path;
  }
  return out;
}

}  // namespace kg::server

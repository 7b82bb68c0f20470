// Pieces of the server core that need no socket: the route table, the body
// budget and its RAII reservations, the connection's owning descriptor.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "server/connection.hpp"
#include "server/http_handler.hpp"
#include "server/limits.hpp"
#include "server/server.hpp"

namespace kg::server {
namespace {

Response call(const Router& r, const std::string& method, const std::string& path) {
  HttpRequest h;
  h.method = method;
  h.path = path;
  return r.route(Request{h, {}, Clock::now()});
}

TEST(ServerRouter, RoutesByPathAndMethod) {
  Router r;
  r.add("POST", "/validate", [](const Request& q) { return Response::text(200, "posted " + std::string(q.body)); });
  r.add("GET", "/info", [](const Request&) { return Response::json("{}"); });
  EXPECT_EQ(call(r, "POST", "/validate").status, 200);
  Response info = call(r, "GET", "/info");
  EXPECT_EQ(info.status, 200);
  EXPECT_EQ(info.content_type, "application/json");
  EXPECT_EQ(call(r, "HEAD", "/info").status, 200);  // a GET route answers HEAD
  Response wrong = call(r, "GET", "/validate");
  EXPECT_EQ(wrong.status, 405);
  EXPECT_EQ(wrong.headers, "Allow: POST\r\n");
  EXPECT_EQ(wrong.body, "use POST for /validate\n");
  Response missing = call(r, "GET", "/nope");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.body, "no such path; this server serves POST /validate, GET /info\n");
  r.set_not_found("custom\n");
  EXPECT_EQ(call(r, "GET", "/nope").body, "custom\n");
  EXPECT_TRUE(r.has_path("/info"));
  EXPECT_FALSE(r.has_path("/nope"));
}

TEST(ServerLimits, BodyReservationsAreGivenBack) {
  BodyBudget budget(100);
  {
    BodyReservation a, b;
    EXPECT_TRUE(a.reserve(budget, 60));
    EXPECT_FALSE(b.reserve(budget, 50));  // 110 > 100
    EXPECT_TRUE(b.reserve(budget, 40));
    a.reset();
    EXPECT_TRUE(a.reserve(budget, 60));
  }  // both destroyed: everything back
  BodyReservation c;
  EXPECT_TRUE(c.reserve(budget, 100));
  EXPECT_FALSE(BodyReservation().reserve(budget, 1));
}

TEST(ServerLimits, OverflowConnections) {
  ServerLimits l;
  l.max_connections = 2;
  EXPECT_EQ(l.overflow_connections(), 16u);
  l.max_connections = 10000;
  EXPECT_EQ(l.overflow_connections(), 625u);
}

TEST(ServerConnection, UniqueFdClosesOnce) {
  int fds[2];
  ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
  {
    UniqueFd a(fds[0]);
    UniqueFd b(std::move(a));
    EXPECT_EQ(a.get(), -1);
    EXPECT_EQ(b.get(), fds[0]);
  }
  EXPECT_EQ(fcntl(fds[0], F_GETFD), -1);  // closed by b
  ::close(fds[1]);
}

TEST(ServerDuration, GoStyle) {
  EXPECT_DOUBLE_EQ(parse_duration_ms("10s"), 10'000);
  EXPECT_DOUBLE_EQ(parse_duration_ms("1m30s"), 90'000);
  EXPECT_DOUBLE_EQ(parse_duration_ms("250ms"), 250);
  EXPECT_DOUBLE_EQ(parse_duration_ms("2"), 2000);
  EXPECT_LT(parse_duration_ms("soon"), 0);
  EXPECT_LT(parse_duration_ms(""), 0);
}

}  // namespace
}  // namespace kg::server

// Open-loop load generator for `kguard admit`: POSTs request bodies over TLS
// keep-alive connections at a fixed rate and measures each request's latency
// from the time it was *scheduled* to be sent (so a stalled server is not
// hidden by the generator waiting for it: no coordinated omission, as wrk2).
// With --rate 0 it runs closed-loop (every connection sends again as soon as
// its answer arrives) to find the saturation throughput.
//
//   admit_load --port P --ca CA.crt --body review.json [--body deployment.json]
//              --rate 5000 --duration 10 --connections 64 [--expect '"allowed":true']
//              [--reconnect-every N] [--json]
//
// Every response must be HTTP 200 and contain --expect; anything else, and
// any connection error, counts as an error. Loopback only: --host must be
// 127.0.0.1 or ::1.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <deque>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string host = "127.0.0.1";
  int port = 0;
  std::string ca;
  std::vector<std::string> bodies;
  std::string path = "/validate?timeout=10s";
  double rate = 1000;
  double duration = 10;
  int connections = 64;
  std::string expect = "\"allowed\":";
  long reconnect_every = 0;
  bool json = false;
};

struct Conn {
  int fd = -1;
  SSL* ssl = nullptr;
  bool busy = false;
  Clock::time_point scheduled;
  std::string out;
  std::size_t out_off = 0;
  std::string in;
  long sent = 0;
  Clock::time_point last_used = Clock::now();
};

[[noreturn]] void die(const std::string& msg) {
  std::fprintf(stderr, "admit_load: %s\n", msg.c_str());
  std::exit(2);
}

bool connect_tls(SSL_CTX* ctx, const Options& o, Conn& c) {
  sockaddr_storage addr{};
  socklen_t len = 0;
  if (o.host.find(':') != std::string::npos) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&addr);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(static_cast<std::uint16_t>(o.port));
    inet_pton(AF_INET6, o.host.c_str(), &a->sin6_addr);
    len = sizeof *a;
  } else {
    auto* a = reinterpret_cast<sockaddr_in*>(&addr);
    a->sin_family = AF_INET;
    a->sin_port = htons(static_cast<std::uint16_t>(o.port));
    inet_pton(AF_INET, o.host.c_str(), &a->sin_addr);
    len = sizeof *a;
  }
  c.fd = socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (c.fd < 0 || connect(c.fd, reinterpret_cast<sockaddr*>(&addr), len) != 0) {
    if (c.fd >= 0) close(c.fd);
    c.fd = -1;
    return false;
  }
  int one = 1;
  setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  c.ssl = SSL_new(ctx);
  SSL_set_fd(c.ssl, c.fd);
  // SSL_set_tlsext_host_name is a macro with a C cast; call what it expands to.
  SSL_ctrl(c.ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name, const_cast<char*>("localhost"));
  SSL_set1_host(c.ssl, "127.0.0.1");
  if (SSL_connect(c.ssl) != 1) {
    ERR_clear_error();
    SSL_free(c.ssl);
    close(c.fd);
    c.ssl = nullptr;
    c.fd = -1;
    return false;
  }
  fcntl(c.fd, F_SETFL, fcntl(c.fd, F_GETFL) | O_NONBLOCK);
  c.busy = false;
  c.in.clear();
  c.out.clear();
  c.out_off = 0;
  c.sent = 0;
  return true;
}

void disconnect(Conn& c) {
  if (c.ssl) SSL_free(c.ssl);
  if (c.fd >= 0) close(c.fd);
  c.ssl = nullptr;
  c.fd = -1;
}

// Length of a complete HTTP response at the start of `in`, or 0.
std::size_t complete_response(const std::string& in, int& status) {
  auto end = in.find("\r\n\r\n");
  if (end == std::string::npos) return 0;
  if (in.compare(0, 9, "HTTP/1.1 ") != 0) {
    status = -1;
    return end + 4;
  }
  status = std::atoi(in.c_str() + 9);
  std::size_t length = 0;
  std::size_t pos = 0;
  while ((pos = in.find("\r\n", pos)) != std::string::npos && pos < end) {
    pos += 2;
    if (strncasecmp(in.c_str() + pos, "content-length:", 15) == 0)
      length = std::strtoul(in.c_str() + pos + 15, nullptr, 10);
  }
  if (in.size() < end + 4 + length) return 0;
  return end + 4 + length;
}

double percentile(std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  std::size_t i = static_cast<std::size_t>(std::ceil(p / 100.0 * sorted.size())) - 1;
  return sorted[std::min(i, sorted.size() - 1)];
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) die(a + " needs a value");
      return argv[++i];
    };
    if (a == "--host") o.host = next();
    else if (a == "--port") o.port = std::atoi(next().c_str());
    else if (a == "--ca") o.ca = next();
    else if (a == "--body") o.bodies.push_back(next());
    else if (a == "--path") o.path = next();
    else if (a == "--rate") o.rate = std::atof(next().c_str());
    else if (a == "--duration") o.duration = std::atof(next().c_str());
    else if (a == "--connections") o.connections = std::atoi(next().c_str());
    else if (a == "--expect") o.expect = next();
    else if (a == "--reconnect-every") o.reconnect_every = std::atol(next().c_str());
    else if (a == "--json") o.json = true;
    else die("unknown option " + a);
  }
  if (o.host != "127.0.0.1" && o.host != "::1") die("--host must be a loopback address");
  if (o.port <= 0 || o.ca.empty() || o.bodies.empty() || o.connections <= 0 || o.duration <= 0)
    die("need --port, --ca, --body, --connections > 0, --duration > 0");

  std::vector<std::string> requests;
  for (const std::string& path : o.bodies) {
    std::ifstream in(path, std::ios::binary);
    if (!in) die("cannot read " + path);
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string body = ss.str();
    requests.push_back("POST " + o.path + " HTTP/1.1\r\nHost: kguard.kguard.svc\r\n"
                       "Content-Type: application/json\r\nAccept: application/json\r\n"
                       "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
  }

  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  if (SSL_CTX_load_verify_locations(ctx, o.ca.c_str(), nullptr) != 1) die("cannot load CA " + o.ca);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);

  std::vector<Conn> conns(static_cast<std::size_t>(o.connections));
  int ep = epoll_create1(0);
  auto add = [&](Conn& c) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = &c;
    epoll_ctl(ep, EPOLL_CTL_ADD, c.fd, &ev);
  };
  for (Conn& c : conns) {
    if (!connect_tls(ctx, o, c)) die("cannot connect to the server");
    add(c);
  }

  const bool open_loop = o.rate > 0;
  const auto start = Clock::now();
  const auto end = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.duration));
  const auto interval = open_loop ? std::chrono::duration<double>(1.0 / o.rate) : std::chrono::duration<double>(0);
  std::uint64_t scheduled_count = 0;
  std::deque<Clock::time_point> backlog;  // scheduled but no idle connection yet
  std::vector<double> latencies;
  latencies.reserve(static_cast<std::size_t>(std::max(1.0, o.rate) * o.duration * 1.1));
  std::uint64_t errors = 0, reconnects = 0, request_index = 0;
  std::string first_error;

  auto send_on = [&](Conn& c, Clock::time_point scheduled) {
    // Like Go's http.Transport (IdleConnTimeout 90 s, below kguard's 120 s
    // --idle-timeout): a connection idle for long is replaced before use, so
    // the client never races the server closing it.
    if (Clock::now() - c.last_used > std::chrono::seconds(60)) {
      epoll_ctl(ep, EPOLL_CTL_DEL, c.fd, nullptr);
      disconnect(c);
      ++reconnects;
      if (!connect_tls(ctx, o, c)) {
        ++errors;
        if (first_error.empty()) first_error = "reconnect failed";
        return;
      }
      add(c);
    }
    c.last_used = Clock::now();
    c.busy = true;
    c.scheduled = scheduled;
    c.out = requests[request_index++ % requests.size()];
    c.out_off = 0;
    while (c.out_off < c.out.size()) {
      int n = SSL_write(c.ssl, c.out.data() + c.out_off, static_cast<int>(c.out.size() - c.out_off));
      if (n > 0) {
        c.out_off += static_cast<std::size_t>(n);
        continue;
      }
      int err = SSL_get_error(c.ssl, n);
      if (err == SSL_ERROR_WANT_WRITE || err == SSL_ERROR_WANT_READ) {
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLOUT;
        ev.data.ptr = &c;
        epoll_ctl(ep, EPOLL_CTL_MOD, c.fd, &ev);
        return;
      }
      ++errors;
      if (first_error.empty()) first_error = "write failed";
      c.busy = false;
      return;
    }
    ++c.sent;
  };
  auto idle_conn = [&]() -> Conn* {
    for (Conn& c : conns)
      if (!c.busy && c.fd >= 0) return &c;
    return nullptr;
  };

  if (!open_loop)
    for (Conn& c : conns) send_on(c, Clock::now());

  epoll_event events[256];
  for (;;) {
    const auto now = Clock::now();
    if (open_loop) {
      // Schedule every request due by now; exactly rate × duration in all.
      for (;;) {
        auto due = start + std::chrono::duration_cast<Clock::duration>(interval * static_cast<double>(scheduled_count));
        if (due >= end || due > now) break;
        backlog.push_back(due);
        ++scheduled_count;
      }
      while (!backlog.empty()) {
        Conn* c = idle_conn();
        if (!c) break;
        send_on(*c, backlog.front());
        backlog.pop_front();
      }
    }
    bool any_busy = std::any_of(conns.begin(), conns.end(), [](const Conn& c) { return c.busy; });
    if (now >= end && backlog.empty() && !any_busy) break;
    if (now >= end + std::chrono::seconds(10)) {
      errors += backlog.size();
      for (Conn& c : conns) errors += c.busy;
      if (first_error.empty()) first_error = "requests unanswered 10 s after the run";
      break;
    }
    // Sleep exactly until the next request is due (epoll_pwait2 takes
    // nanoseconds), or 1 ms when nothing is scheduled.
    timespec wait{0, 1'000'000};
    if (open_loop && now < end) {
      auto due = start + std::chrono::duration_cast<Clock::duration>(interval * static_cast<double>(scheduled_count));
      auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(due - Clock::now()).count();
      if (backlog.empty()) wait.tv_nsec = std::clamp<long long>(ns, 0, 1'000'000);
    }
    const int n = epoll_pwait2(ep, events, 256, &wait, nullptr);
    for (int i = 0; i < n; ++i) {
      Conn& c = *static_cast<Conn*>(events[i].data.ptr);
      if (c.out_off < c.out.size() && (events[i].events & EPOLLOUT)) {
        while (c.out_off < c.out.size()) {
          int w = SSL_write(c.ssl, c.out.data() + c.out_off, static_cast<int>(c.out.size() - c.out_off));
          if (w <= 0) break;
          c.out_off += static_cast<std::size_t>(w);
        }
        if (c.out_off >= c.out.size()) {
          ++c.sent;
          epoll_event ev{};
          ev.events = EPOLLIN;
          ev.data.ptr = &c;
          epoll_ctl(ep, EPOLL_CTL_MOD, c.fd, &ev);
        }
      }
      char buf[16384];
      bool closed = false;
      std::string close_reason;
      for (;;) {
        errno = 0;
        int r = SSL_read(c.ssl, buf, sizeof buf);
        if (r > 0) {
          c.in.append(buf, static_cast<std::size_t>(r));
          continue;
        }
        int err = SSL_get_error(c.ssl, r);
        if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
          closed = true;
          char e[160];
          ERR_error_string_n(ERR_peek_error(), e, sizeof e);
          close_reason = "SSL error " + std::to_string(err) + ", errno " + std::to_string(errno) + " (" +
                         std::strerror(errno) + "), " + e + ", epoll events " + std::to_string(events[i].events);
        }
        ERR_clear_error();
        break;
      }
      int status = 0;
      std::size_t len;
      while ((len = complete_response(c.in, status)) > 0) {
        const auto done = Clock::now();
        const std::string body = c.in.substr(0, len);
        c.in.erase(0, len);
        if (!c.busy) continue;
        c.busy = false;
        if (status != 200 || body.find(o.expect) == std::string::npos) {
          ++errors;
          if (first_error.empty()) first_error = "unexpected response: " + body.substr(0, 200);
        } else {
          latencies.push_back(std::chrono::duration<double, std::micro>(done - c.scheduled).count());
        }
        if (o.reconnect_every > 0 && c.sent >= o.reconnect_every) {
          epoll_ctl(ep, EPOLL_CTL_DEL, c.fd, nullptr);
          disconnect(c);
          ++reconnects;
          if (!connect_tls(ctx, o, c)) {
            ++errors;
            if (first_error.empty()) first_error = "reconnect failed";
          } else {
            add(c);
          }
        }
        if (!open_loop && c.fd >= 0 && Clock::now() < end) send_on(c, Clock::now());
      }
      if (closed && c.fd >= 0 && (c.ssl == nullptr || &c == static_cast<Conn*>(events[i].data.ptr))) {
        if (c.busy) {
          ++errors;
          if (first_error.empty()) first_error = "connection closed with a request in flight: " + close_reason;
        }
        epoll_ctl(ep, EPOLL_CTL_DEL, c.fd, nullptr);
        disconnect(c);
        ++reconnects;
        if (connect_tls(ctx, o, c)) add(c);
        if (!open_loop && c.fd >= 0 && Clock::now() < end) send_on(c, Clock::now());
      }
    }
  }
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  std::sort(latencies.begin(), latencies.end());
  const double p50 = percentile(latencies, 50), p90 = percentile(latencies, 90),
               p95 = percentile(latencies, 95), p99 = percentile(latencies, 99), p999 = percentile(latencies, 99.9),
               max = latencies.empty() ? 0 : latencies.back();
  const double throughput = static_cast<double>(latencies.size()) / std::min(elapsed, o.duration + 0.001);
  if (o.json) {
    std::printf("{\"target_rate\":%.0f,\"connections\":%d,\"duration_s\":%.1f,\"scheduled\":%llu,\"ok\":%zu,\"errors\":%llu,"
                "\"reconnects\":%llu,\"throughput_rps\":%.0f,\"p50_us\":%.0f,\"p90_us\":%.0f,\"p95_us\":%.0f,"
                "\"p99_us\":%.0f,\"p999_us\":%.0f,\"max_us\":%.0f,\"first_error\":\"%s\"}\n",
                o.rate, o.connections, o.duration, static_cast<unsigned long long>(scheduled_count),
                latencies.size(), static_cast<unsigned long long>(errors),
                static_cast<unsigned long long>(reconnects),
                throughput, p50, p90, p95, p99, p999, max, first_error.empty() ? "" : "see stderr");
  } else {
    std::printf("rate %.0f/s (%s), %d connections, %.1f s: %zu ok, %llu errors, %.0f req/s\n"
                "latency us: p50 %.0f  p90 %.0f  p99 %.0f  p99.9 %.0f  max %.0f\n",
                o.rate, open_loop ? "open loop" : "closed loop", o.connections, o.duration,
                latencies.size(), static_cast<unsigned long long>(errors), throughput, p50, p90, p99,
                p999, max);
  }
  if (!first_error.empty()) std::fprintf(stderr, "admit_load: first error: %s\n", first_error.c_str());
  for (Conn& c : conns) disconnect(c);
  SSL_CTX_free(ctx);
  return errors ? 1 : 0;
}

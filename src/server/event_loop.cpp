#include "server/event_loop.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "core/log.hpp"

namespace kg::server {
namespace {

std::string errno_text(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

Clock::time_point after_ms(Clock::time_point t, int ms) { return t + std::chrono::milliseconds(ms); }

}  // namespace

std::unique_ptr<Worker> Worker::create(ServerState& state, int listen_fd, std::string& error) {
  std::unique_ptr<Worker> w(new Worker(state, listen_fd));
  w->epoll_fd_.reset(epoll_create1(EPOLL_CLOEXEC));
  if (!w->epoll_fd_) {
    error = errno_text("epoll_create1");
    return nullptr;
  }
  w->wake_fd_.reset(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!w->wake_fd_) {
    error = errno_text("eventfd");
    return nullptr;
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = &w->wake_tag_;
  if (epoll_ctl(w->epoll_fd_.get(), EPOLL_CTL_ADD, w->wake_fd_.get(), &ev) != 0) {
    error = errno_text("epoll_ctl(ADD eventfd)");
    return nullptr;
  }
  if (!w->watch_listener()) {
    error = errno_text("epoll_ctl(ADD listener)");
    return nullptr;
  }
  return w;
}

Worker::~Worker() = default;  // connections, epoll set and eventfd close themselves

bool Worker::watch_listener() {
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLEXCLUSIVE;
  ev.data.ptr = &listen_tag_;
  if (epoll_ctl(epoll_fd_.get(), EPOLL_CTL_ADD, listen_fd_, &ev) != 0) return false;
  listening_ = true;
  return true;
}

void Worker::wake() {
  std::uint64_t one = 1;
  // EAGAIN means the counter is already non-zero: the worker wakes anyway.
  if (::write(wake_fd_.get(), &one, sizeof one) < 0 && errno != EAGAIN)
    log_line("error", "cannot wake a worker", {{"error", errno_text("write(eventfd)")}});
}

void Worker::set_interest(Connection* c, std::uint32_t events) {
  if (c->interest == events) return;
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = c;
  if (epoll_ctl(epoll_fd_.get(), EPOLL_CTL_MOD, c->fd.get(), &ev) != 0) {
    log_line("error", "cannot watch a connection; closing it", {{"error", errno_text("epoll_ctl(MOD)")}});
    c->tls_failed = true;
    return close_connection(c);
  }
  c->interest = events;
}

void Worker::close_connection(Connection* c) {
  // The kernel drops the descriptor from the epoll set when it is closed
  // (no dup exists), so no EPOLL_CTL_DEL is needed.
  c->send_close_notify();
  if (c->over_limit) {
    state_.overflow.fetch_sub(1);
  } else {
    state_.connections.fetch_sub(1);
    state_.metrics.connection_closed();
  }
  connections_.erase(c);  // frees the SSL object, the socket and the body reservation
}

void Worker::accept_all() {
  // A few at a time: the listener stays readable and the next wake-up may go
  // to another worker, so connections spread over the workers.
  for (int accepted = 0; accepted < 8; ++accepted) {
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    UniqueFd fd(accept4(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len, SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (!fd) {
      const int e = errno;
      if (e == EAGAIN || e == EWOULDBLOCK) return;  // another worker took it, or nothing left
      if (state_.draining.load()) return;           // the listener was shut down
      if (e == EINTR || e == ECONNABORTED || e == EPROTO || e == EPERM) continue;  // that client's problem
      // Out of descriptors or memory: the listener stays readable, so stop
      // watching it for a moment rather than spin.
      log_line("error",
               e == EMFILE || e == ENFILE ? "out of file descriptors; raise the limit or lower --max-connections"
                                          : "cannot accept connections; pausing 100ms",
               {{"error", std::string("accept4: ") + std::strerror(e)}});
      if (epoll_ctl(epoll_fd_.get(), EPOLL_CTL_DEL, listen_fd_, nullptr) == 0) listening_ = false;
      listen_paused_until_ = after_ms(Clock::now(), 100);
      return;
    }
    bool over_limit = false;
    if (static_cast<std::size_t>(state_.connections.load()) >= state_.limits.max_connections) {
      state_.metrics.connection_rejected();
      if (static_cast<std::size_t>(state_.overflow.load()) >= state_.limits.overflow_connections())
        continue;  // closed at once: answering costs a handshake
      over_limit = true;
    }
    int one = 1;
    if (setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0) {
      log_line("warn", "cannot set TCP_NODELAY; closing the connection", {{"error", errno_text("setsockopt")}});
      continue;
    }
    std::shared_ptr<SSL_CTX> ctx = state_.tls.current();
    SslPtr ssl(SSL_new(ctx.get()));  // holds its own reference to ctx
    if (!ssl || SSL_set_fd(ssl.get(), fd.get()) != 1) {
      log_line("error", "cannot create a TLS session", {{"error", openssl_error()}});
      continue;
    }
    SSL_set_accept_state(ssl.get());
    auto conn = std::make_unique<Connection>(std::move(fd), std::move(ssl));
    Connection* c = conn.get();
    c->over_limit = over_limit;
    c->deadline = after_ms(Clock::now(), state_.limits.header_timeout_ms);
    c->interest = EPOLLIN;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = c;
    if (epoll_ctl(epoll_fd_.get(), EPOLL_CTL_ADD, c->fd.get(), &ev) != 0) {
      log_line("error", "cannot watch a new connection; closing it", {{"error", errno_text("epoll_ctl(ADD)")}});
      continue;
    }
    connections_.emplace(c, std::move(conn));
    if (over_limit) {
      state_.overflow.fetch_add(1);
    } else {
      state_.connections.fetch_add(1);
      state_.metrics.connection_opened();
    }
  }
}

void Worker::on_event(Connection* c, std::uint32_t events) {
  if (c->lingering) {
    char buf[16 * 1024];
    for (;;) {
      ssize_t n = ::recv(c->fd.get(), buf, sizeof buf, 0);
      if (n > 0) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
      if (n < 0 && errno == EINTR) continue;
      return close_connection(c);  // the client closed or reset
    }
  }
  if (c->handshaking) {
    ERR_clear_error();
    int r = SSL_do_handshake(c->ssl.get());
    if (r != 1) {
      int err = SSL_get_error(c->ssl.get(), r);
      if (err == SSL_ERROR_WANT_READ) return set_interest(c, EPOLLIN);
      if (err == SSL_ERROR_WANT_WRITE) return set_interest(c, EPOLLOUT);
      state_.metrics.tls_handshake_failed();
      ERR_clear_error();
      return close_connection(c);
    }
    c->handshaking = false;
    c->deadline = after_ms(Clock::now(), c->over_limit ? state_.limits.header_timeout_ms
                                                       : state_.limits.idle_timeout_ms);
    set_interest(c, EPOLLIN);
    if (!connections_.count(c)) return;  // set_interest failed and closed it
  } else if (events & (EPOLLERR | EPOLLHUP)) {
    if (!(events & EPOLLIN)) return close_connection(c);
  }
  if (c->out_off < c->out.size()) {
    flush(c);
    return;  // flush() closes or goes back to reading when done
  }
  read_and_process(c);
}

void Worker::read_and_process(Connection* c) {
  char buf[16 * 1024];
  const std::size_t cap = state_.limits.http.max_head + state_.limits.http.max_body + sizeof buf;
  bool peer_closed = false;
  for (;;) {
    if (c->in.size() >= cap) break;  // a whole request is there; process it first
    ERR_clear_error();
    int n = SSL_read(c->ssl.get(), buf, sizeof buf);
    if (n > 0) {
      c->in.append(buf, static_cast<std::size_t>(n));
      continue;
    }
    int err = SSL_get_error(c->ssl.get(), n);
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) break;
    peer_closed = true;  // close_notify, EOF or a TLS error
    c->tls_failed = err != SSL_ERROR_ZERO_RETURN;
    ERR_clear_error();
    break;
  }
  process(c);
  if (peer_closed && c->out_off >= c->out.size()) return close_connection(c);
  if (peer_closed) c->close_after_write = true;
  flush(c);
}

void Worker::process(Connection* c) {
  const Clock::time_point now = Clock::now();
  const ServerLimits& limits = state_.limits;
  while (!c->close_after_write && !c->in.empty()) {
    if (!c->request_started) {
      c->request_started = true;
      c->request_start = now;
      c->deadline = after_ms(now, limits.header_timeout_ms);
    }
    if (!c->have_head) {
      ParseResult r = parse_request_head(c->in, c->scanned, limits.http, c->req);
      if (r.status == ParseStatus::NeedMore) return;
      if (r.status == ParseStatus::Error) {
        respond(c, Response::text(r.error_status, r.error + "\n"), true);
        c->linger_on_close = true;
        c->in.clear();
        return;
      }
      if (c->over_limit) {
        respond(c, Response::text(503, "too many connections; retry\n", "Retry-After: 1\r\n"), true);
        c->linger_on_close = true;
        c->in.clear();
        return;
      }
      // Bodies larger than what arrived with the head reserve their size.
      const std::size_t pending = c->req.head_size + c->req.content_length;
      if (pending > c->in.size() && !c->body_budget.reserve(state_.body_budget, c->req.content_length)) {
        respond(c, Response::text(503, "too many large request bodies in flight; retry\n", "Retry-After: 1\r\n"),
                true);
        c->linger_on_close = true;
        c->in.clear();
        return;
      }
      c->have_head = true;
      c->continue_sent = false;
      c->deadline = after_ms(now, limits.body_timeout_ms);
    }
    const std::size_t total = c->req.head_size + c->req.content_length;
    if (c->in.size() < total) {
      if (c->req.expect_continue && !c->continue_sent) {
        c->out += "HTTP/1.1 100 Continue\r\n\r\n";
        c->continue_sent = true;
      }
      return;
    }
    c->body_budget.reset();
    c->scanned = 0;
    c->have_head = false;
    c->request_started = false;
    c->http10 = c->req.minor_version == 0;
    c->head_request = c->req.method == "HEAD";
    handle(c, std::string_view(c->in).substr(c->req.head_size, c->req.content_length));
    c->in.erase(0, total);
    c->http10 = false;
    c->head_request = false;
    if (c->in.empty()) c->deadline = after_ms(Clock::now(), limits.idle_timeout_ms);
  }
}

void Worker::handle(Connection* c, std::string_view body) {
  Response r;
  try {
    r = state_.handler.handle(Request{c->req, body, c->request_start});
  } catch (const std::exception& e) {
    // Never lets an exception out of a request: the connection gets a 500.
    log_line("error", "request handler failed", {{"path", c->req.path}, {"error", e.what()}});
    r = Response::text(500, "internal error\n");
  }
  respond(c, r, !c->req.keep_alive);
}

void Worker::respond(Connection* c, const Response& r, bool close) {
  close = close || state_.draining.load() || c->over_limit;
  std::string& out = c->out;
  out += "HTTP/1.1 " + std::to_string(r.status) + " " + std::string(status_text(r.status)) + "\r\n";
  out += "Content-Type: ";
  out += r.content_type;
  out += "\r\nContent-Length: " + std::to_string(r.body.size()) + "\r\n";
  out += r.headers;
  if (close) out += "Connection: close\r\n";
  else if (c->http10) out += "Connection: keep-alive\r\n";
  out += "\r\n";
  if (!c->head_request) out += r.body;  // HEAD: the headers of a GET, no body
  if (close) c->close_after_write = true;
  state_.metrics.record_http(r.status);
}

void Worker::flush(Connection* c) {
  while (c->out_off < c->out.size()) {
    ERR_clear_error();
    const std::size_t left = c->out.size() - c->out_off;
    int n = SSL_write(c->ssl.get(), c->out.data() + c->out_off,
                      static_cast<int>(std::min<std::size_t>(left, 1 << 20)));
    if (n > 0) {
      c->out_off += static_cast<std::size_t>(n);
      continue;
    }
    int err = SSL_get_error(c->ssl.get(), n);
    if (err == SSL_ERROR_WANT_WRITE || err == SSL_ERROR_WANT_READ)
      return set_interest(c, err == SSL_ERROR_WANT_WRITE ? EPOLLOUT : EPOLLIN);
    c->tls_failed = true;
    ERR_clear_error();
    return close_connection(c);
  }
  c->out.clear();
  c->out_off = 0;
  if (c->close_after_write && c->linger_on_close && !c->lingering) {
    c->send_close_notify();
    c->tls_failed = true;
    if (::shutdown(c->fd.get(), SHUT_WR) != 0) return close_connection(c);  // already gone
    c->lingering = true;
    c->deadline = Clock::now() + std::chrono::seconds(2);
    return set_interest(c, EPOLLIN);
  }
  if (c->close_after_write) return close_connection(c);
  set_interest(c, EPOLLIN);
  if (!connections_.count(c)) return;
  // Bytes OpenSSL already decrypted are invisible to epoll: read them now.
  if (SSL_pending(c->ssl.get()) > 0) return read_and_process(c);
  // Requests pipelined behind the one just answered.
  if (!c->in.empty() && !c->have_head) {
    process(c);
    if (c->out_off < c->out.size()) flush(c);
  }
}

void Worker::sweep(Clock::time_point now) {
  std::vector<Connection*> expired;
  for (const auto& [c, owned] : connections_)
    if (now >= c->deadline) expired.push_back(c);
  for (Connection* c : expired) {
    // A request begun and not received in time is answered 408; anything else is closed.
    if (!c->lingering && !c->handshaking && c->request_started && c->out_off >= c->out.size()) {
      respond(c, Response::text(408, "request not received in time\n"), true);
      c->in.clear();
      flush(c);
      continue;
    }
    if (!c->lingering && c->handshaking) state_.metrics.tls_handshake_failed();  // half-open or stalled handshake
    close_connection(c);
  }
}

void Worker::run() {
  epoll_event events[256];
  Clock::time_point last_sweep = Clock::now();
  for (;;) {
    const int n = epoll_wait(epoll_fd_.get(), events, 256, 100);
    if (n < 0 && errno != EINTR) {
      log_line("error", "the event loop failed; stopping", {{"error", errno_text("epoll_wait")}});
      state_.failed = true;
      return;
    }
    for (int i = 0; i < n; ++i) {
      void* tag = events[i].data.ptr;
      if (tag == &listen_tag_) {
        if (listening_ && !state_.draining.load()) accept_all();
      } else if (tag == &wake_tag_) {
        std::uint64_t v;
        if (::read(wake_fd_.get(), &v, sizeof v) < 0 && errno != EAGAIN)
          log_line("error", "cannot read the wake-up eventfd", {{"error", errno_text("read(eventfd)")}});
      } else {
        // A connection closed earlier in this batch cannot appear: each has
        // one epoll entry and is only closed by its own event or the sweep.
        on_event(static_cast<Connection*>(tag), events[i].events);
      }
    }
    const Clock::time_point now = Clock::now();
    if (state_.draining.load()) {
      if (listening_) {
        if (epoll_ctl(epoll_fd_.get(), EPOLL_CTL_DEL, listen_fd_, nullptr) != 0)
          log_line("warn", "cannot stop watching the listener", {{"error", errno_text("epoll_ctl(DEL)")}});
        listening_ = false;
        listen_paused_until_ = {};
      }
      // Idle keep-alive connections close now; those mid-request finish first
      // (their response carries Connection: close).
      std::vector<Connection*> idle;
      for (const auto& [c, owned] : connections_)
        if (!c->request_started && c->out_off >= c->out.size()) idle.push_back(c);
      for (Connection* c : idle) close_connection(c);
      if (connections_.empty() || now.time_since_epoch().count() >= state_.drain_deadline.load()) break;
    }
    if (now - last_sweep >= std::chrono::milliseconds(100)) {
      sweep(now);
      last_sweep = now;
      if (listen_paused_until_ != Clock::time_point{} && now >= listen_paused_until_ && !listening_ &&
          !state_.draining.load()) {
        if (watch_listener()) listen_paused_until_ = {};
        else listen_paused_until_ = after_ms(now, 100);
      }
    }
  }
}

}  // namespace kg::server

#include "server/server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_set>
#include <vector>

#include "config/config.hpp"
#include "core/clock.hpp"
#include "engines/admit/admit.hpp"
#include "core/json_writer.hpp"
#include "server/metrics.hpp"
#include "sources/kube/kubeconfig.hpp"
#include "sources/kube/namespace_cache.hpp"

namespace kg::server {

using Clock = std::chrono::steady_clock;

double parse_duration_ms(std::string_view s) {
  if (s.empty()) return -1;
  double total = 0;
  std::size_t i = 0;
  while (i < s.size()) {
    std::size_t start = i;
    while (i < s.size() && ((s[i] >= '0' && s[i] <= '9') || s[i] == '.')) ++i;
    if (i == start) return -1;
    double value = 0;
    try {
      value = std::stod(std::string(s.substr(start, i - start)));
    } catch (...) {
      return -1;
    }
    std::size_t unit_start = i;
    while (i < s.size() && ((s[i] >= 'a' && s[i] <= 'z') || s[i] == 'u')) ++i;
    std::string_view unit = s.substr(unit_start, i - unit_start);
    if (unit.empty() && unit_start == s.size() && start == 0) unit = "s";
    if (unit == "ms") total += value;
    else if (unit == "s") total += value * 1000;
    else if (unit == "m") total += value * 60'000;
    else if (unit == "h") total += value * 3'600'000;
    else if (unit == "us") total += value / 1000;
    else if (unit == "ns") total += value / 1e6;
    else return -1;
  }
  if (total > 1e12) return -1;
  return total;
}

namespace {

std::string openssl_error() {
  char buf[256];
  unsigned long e = ERR_get_error();
  if (!e) return "unknown OpenSSL error";
  ERR_error_string_n(e, buf, sizeof buf);
  ERR_clear_error();
  return buf;
}

using TlsContext = std::shared_ptr<SSL_CTX>;

int select_alpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                unsigned int inlen, void*) {
  // Only HTTP/1.1; a client offering only h2 continues without ALPN.
  for (unsigned int i = 0; i < inlen;) {
    unsigned int len = in[i];
    if (i + 1 + len > inlen) break;
    if (len == 8 && std::memcmp(in + i + 1, "http/1.1", 8) == 0) {
      *out = in + i + 1;
      *outlen = 8;
      return SSL_TLSEXT_ERR_OK;
    }
    i += 1 + len;
  }
  return SSL_TLSEXT_ERR_NOACK;
}

TlsContext load_tls(const std::string& cert, const std::string& key, double& not_after,
                    std::string& error) {
  ERR_clear_error();
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (!ctx) {
    error = openssl_error();
    return nullptr;
  }
  TlsContext holder(ctx, SSL_CTX_free);
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
                               SSL_OP_NO_COMPRESSION);
  // TLS 1.2: forward-secret AEAD suites only (TLS 1.3 suites are all modern).
  SSL_CTX_set_cipher_list(ctx,
                          "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
                          "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
                          "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305");
  // Idle keep-alive connections give their buffers back.
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
                            SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  SSL_CTX_set_alpn_select_cb(ctx, select_alpn, nullptr);
  static const unsigned char kSessionContext[] = "kguard-admit";
  SSL_CTX_set_session_id_context(ctx, kSessionContext, sizeof kSessionContext - 1);
  if (SSL_CTX_use_certificate_chain_file(ctx, cert.c_str()) != 1) {
    error = "cannot load certificate " + cert + ": " + openssl_error();
    return nullptr;
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, key.c_str(), SSL_FILETYPE_PEM) != 1) {
    error = "cannot load key " + key + ": " + openssl_error();
    return nullptr;
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    error = "the key " + key + " does not match the certificate " + cert;
    ERR_clear_error();
    return nullptr;
  }
  not_after = 0;
  if (X509* x = SSL_CTX_get0_certificate(ctx)) {
    std::tm tm{};
    if (ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) == 1) not_after = static_cast<double>(timegm(&tm));
  }
  return holder;
}

// `api_namespaces`: the long-lived watch cache when labels come from the API
// server; it outlives config reloads. Otherwise the config's labels are used.
std::shared_ptr<const admit::Engine> load_engine(const std::string& path,
                                                 std::shared_ptr<const admit::NamespaceSource> api_namespaces,
                                                 std::string& error) {
  Config config;
  std::vector<InputError> errors;
  if (!path.empty()) {
    auto loaded = load_config(path, errors);
    if (!loaded) {
      for (const InputError& e : errors)
        error += e.file + ":" + std::to_string(e.line) + ":" + std::to_string(e.column) + ": " +
                 e.message + "\n";
      return nullptr;
    }
    config = std::move(*loaded);
  }
  admit::AdmitConfig admit;
  if (!admit::read_admit_config(config, admit, errors)) {
    for (const InputError& e : errors)
      error += e.file + ":" + std::to_string(e.line) + ":" + std::to_string(e.column) + ": " +
               e.message + "\n";
    return nullptr;
  }
  std::shared_ptr<const admit::NamespaceSource> namespaces = api_namespaces;
  if (!namespaces) namespaces = std::make_shared<admit::ConfigNamespaceSource>(admit.namespaces);
  auto engine = admit::Engine::create(config, admit, namespaces, errors);
  if (!engine) {
    for (const InputError& e : errors) error += e.file + ": " + e.message + "\n";
    return nullptr;
  }
  return engine;
}

// Audit log: JSON lines buffered in memory and written by the main thread a
// few times a second (and when the buffer grows), so a request never waits
// for the disk.
class AuditLog {
 public:
  bool open(const std::string& path, std::string& error) {
    std::lock_guard lock(mu_);
    path_ = path;
    return reopen_locked(error);
  }
  bool reopen(std::string& error) {
    std::lock_guard lock(mu_);
    flush_locked();
    return reopen_locked(error);
  }
  void write(std::string line) {
    std::lock_guard lock(mu_);
    if (fd_ < 0) return;
    buffer_ += line;
    if (buffer_.size() > 256 * 1024) flush_locked();
  }
  void flush() {
    std::lock_guard lock(mu_);
    flush_locked();
  }
  ~AuditLog() {
    flush();
    if (fd_ > 2) ::close(fd_);
  }

 private:
  bool reopen_locked(std::string& error) {
    if (path_.empty()) return true;
    if (path_ == "-") {
      fd_ = STDOUT_FILENO;
      return true;
    }
    int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (fd < 0) {
      error = "cannot open audit log " + path_ + ": " + std::strerror(errno);
      return false;
    }
    if (fd_ > 2) ::close(fd_);
    fd_ = fd;
    return true;
  }
  void flush_locked() {
    std::size_t off = 0;
    while (fd_ >= 0 && off < buffer_.size()) {
      ssize_t n = ::write(fd_, buffer_.data() + off, buffer_.size() - off);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;  // disk full or closed pipe: drop rather than block requests
      off += static_cast<std::size_t>(n);
    }
    buffer_.clear();
  }
  std::mutex mu_;
  std::string path_;
  int fd_ = -1;
  std::string buffer_;
};

std::string audit_record(const admit::ReviewSummary& s, double seconds) {
  // JsonWriter::escape writes the quotes too.
  std::string out = "{\"time\":\"" + utc_now_rfc3339_millis() + "\"";
  auto field = [&](std::string_view k, std::string_view v) {
    out += ",\"";
    out += k;
    out += "\":";
    JsonWriter::escape(out, v);
  };
  auto list = [&](std::string_view k, const std::vector<std::string>& v) {
    out += ",\"";
    out += k;
    out += "\":[";
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (i) out += ',';
      JsonWriter::escape(out, v[i]);
    }
    out += ']';
  };
  field("uid", s.uid);
  field("user", s.username);
  field("operation", s.operation);
  out += ",\"object\":{\"kind\":";
  JsonWriter::escape(out, s.kind);
  out += ",\"namespace\":";
  JsonWriter::escape(out, s.ns);
  out += ",\"name\":";
  JsonWriter::escape(out, s.name);
  out += ",\"subResource\":";
  JsonWriter::escape(out, s.sub_resource);
  out += '}';
  field("verdict", s.decision);
  out += ",\"code\":" + std::to_string(s.code);
  out += s.dry_run ? ",\"dryRun\":true" : ",\"dryRun\":false";
  std::vector<std::string> hit = s.enforce_rules;
  for (const auto* v : {&s.audit_rules, &s.warn_rules})
    for (const std::string& r : *v)
      if (std::find(hit.begin(), hit.end(), r) == hit.end()) hit.push_back(r);
  list("rulesHit", hit);
  list("enforce", s.enforce_rules);
  list("audit", s.audit_rules);
  list("warn", s.warn_rules);
  if (!s.exempt.empty()) field("exempt", s.exempt);
  // Our own message (rule ids, fixes, field paths): never the object's data.
  if (!s.message.empty()) field("message", s.message);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6f", seconds);
  out += ",\"latencySeconds\":";
  out += buf;
  out += "}\n";
  return out;
}

struct Connection {
  int fd = -1;
  SSL* ssl = nullptr;
  bool handshaking = true;
  bool tls_failed = false;  // after a fatal TLS error no close_notify may be sent
  std::string in;
  std::size_t scanned = 0;
  bool have_head = false;
  bool request_started = false;
  bool continue_sent = false;
  bool have_head_version0 = false;  // answering an HTTP/1.0 keep-alive request
  bool head_request = false;        // answering HEAD
  HttpRequest req;
  std::size_t reserved_body = 0;  // share of max_body_bytes_in_flight held by this request
  Clock::time_point request_start;
  std::string out;
  std::size_t out_off = 0;
  bool close_after_write = false;
  // After an error answer to a request whose bytes may still be arriving
  // (413, 400), read and drop input for a while before closing, so the
  // kernel does not reset the connection before the client reads the answer.
  bool linger_on_close = false;
  bool lingering = false;
  Clock::time_point deadline;
  std::uint32_t interest = 0;
  std::string peer;
};

class Server;

class Worker {
 public:
  Worker(Server& server, int listen_fd);
  ~Worker();
  void run();
  void wake();

 private:
  void accept_all();
  void on_event(Connection* c, std::uint32_t events);
  void read_and_process(Connection* c);
  void process(Connection* c);
  void handle(Connection* c, std::string_view body);
  void respond(Connection* c, int status, std::string_view content_type, std::string_view body,
               bool close, std::string_view extra_headers = {});
  void flush(Connection* c);
  void set_interest(Connection* c, std::uint32_t events);
  void close_connection(Connection* c);
  void sweep(Clock::time_point now);

  Server& server_;
  int listen_fd_;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  bool listening_ = true;
  Clock::time_point listen_paused_until_{};  // after EMFILE
  std::unordered_set<Connection*> connections_;
  char listen_tag_ = 0;
  char wake_tag_ = 0;
};

class Server {
 public:
  explicit Server(const ServerOptions& o) : options(o) {}

  TlsContext tls() {
    std::lock_guard lock(mu);
    return tls_ctx;
  }
  std::shared_ptr<const admit::Engine> engine() {
    std::lock_guard lock(mu);
    return engine_ptr;
  }
  bool reload_tls(bool at_start) {
    std::string error;
    double not_after = 0;
    TlsContext ctx = load_tls(options.cert_file, options.key_file, not_after, error);
    if (!ctx) {
      log_line("error", at_start ? "cannot load the TLS certificate" : "TLS reload failed; keeping the previous certificate",
               {{"error", error}});
      if (!at_start) metrics.record_reload("tls", false);
      return false;
    }
    {
      std::lock_guard lock(mu);
      tls_ctx = std::move(ctx);
    }
    metrics.set_certificate_expiry(not_after);
    if (!at_start) {
      metrics.record_reload("tls", true);
      log_line("info", "TLS certificate reloaded", {{"cert", options.cert_file}});
    }
    return true;
  }
  bool reload_config(bool at_start) {
    std::string error;
    auto e = load_engine(options.config_file, api_namespaces, error);
    if (!e) {
      log_line("error", at_start ? "invalid configuration" : "config reload failed; keeping the previous config",
               {{"error", error}});
      if (!at_start) metrics.record_reload("config", false);
      return false;
    }
    {
      std::lock_guard lock(mu);
      engine_ptr = std::move(e);
    }
    if (!at_start) {
      metrics.record_reload("config", true);
      log_line("info", "configuration reloaded", {{"config", options.config_file}});
    }
    return true;
  }

  const ServerOptions options;
  std::shared_ptr<const admit::NamespaceSource> api_namespaces;  // null: labels from the config
  Metrics metrics;
  AuditLog audit;
  std::atomic<bool> ready{false};
  std::atomic<bool> draining{false};    // stop accepting, finish and close
  std::atomic<bool> unready{false};     // SIGTERM seen: /readyz says 503
  Clock::time_point drain_deadline{};
  std::atomic<std::int64_t> connections{0};
  std::atomic<std::size_t> body_bytes_in_flight{0};

 private:
  std::mutex mu;
  TlsContext tls_ctx;
  std::shared_ptr<const admit::Engine> engine_ptr;
};

Worker::Worker(Server& server, int listen_fd) : server_(server), listen_fd_(listen_fd) {
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLEXCLUSIVE;
  ev.data.ptr = &listen_tag_;
  epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, listen_fd_, &ev);
  ev.events = EPOLLIN;
  ev.data.ptr = &wake_tag_;
  epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev);
}

Worker::~Worker() {
  for (Connection* c : connections_) {
    SSL_free(c->ssl);
    ::close(c->fd);
    delete c;
  }
  ::close(epoll_fd_);
  ::close(wake_fd_);
}

void Worker::wake() {
  std::uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(wake_fd_, &one, sizeof one);
}

void Worker::set_interest(Connection* c, std::uint32_t events) {
  if (c->interest == events) return;
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = c;
  epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, c->fd, &ev);
  c->interest = events;
}

void Worker::close_connection(Connection* c) {
  server_.body_bytes_in_flight.fetch_sub(c->reserved_body);
  epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, c->fd, nullptr);
  if (!c->handshaking && !c->tls_failed) {
    ERR_clear_error();
    SSL_shutdown(c->ssl);  // best effort close_notify; never waits
  }
  SSL_free(c->ssl);
  ::close(c->fd);
  connections_.erase(c);
  server_.connections.fetch_sub(1);
  server_.metrics.connection_closed();
  delete c;
}

void Worker::accept_all() {
  // A few at a time: the listener stays readable and the next wake-up may go
  // to another worker, so connections spread over the workers.
  for (int accepted = 0; accepted < 8; ++accepted) {
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    int fd = accept4(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EMFILE || errno == ENFILE) {
        // The listener stays readable; stop watching it for a moment rather than spin.
        log_line("error", "out of file descriptors; raise the limit or lower --max-connections");
        epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, listen_fd_, nullptr);
        listen_paused_until_ = Clock::now() + std::chrono::milliseconds(100);
      }
      return;  // EAGAIN: another worker took it, or nothing left
    }
    if (static_cast<std::size_t>(server_.connections.load()) >= server_.options.max_connections) {
      server_.metrics.connection_rejected();
      ::close(fd);
      continue;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    TlsContext ctx = server_.tls();
    SSL* ssl = SSL_new(ctx.get());  // holds its own reference to ctx
    if (!ssl) {
      ::close(fd);
      continue;
    }
    SSL_set_fd(ssl, fd);
    SSL_set_accept_state(ssl);
    auto* c = new Connection();
    c->fd = fd;
    c->ssl = ssl;
    c->deadline = Clock::now() + std::chrono::milliseconds(server_.options.header_timeout_ms);
    c->interest = EPOLLIN;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = c;
    if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
      SSL_free(ssl);
      ::close(fd);
      delete c;
      continue;
    }
    connections_.insert(c);
    server_.connections.fetch_add(1);
    server_.metrics.connection_opened();
  }
}

void Worker::on_event(Connection* c, std::uint32_t events) {
  if (c->lingering) {
    char buf[16 * 1024];
    for (;;) {
      ssize_t n = ::recv(c->fd, buf, sizeof buf, 0);
      if (n > 0) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
      if (n < 0 && errno == EINTR) continue;
      return close_connection(c);  // the client closed or reset
    }
  }
  if (c->handshaking) {
    ERR_clear_error();
    int r = SSL_do_handshake(c->ssl);
    if (r != 1) {
      int err = SSL_get_error(c->ssl, r);
      if (err == SSL_ERROR_WANT_READ) return set_interest(c, EPOLLIN);
      if (err == SSL_ERROR_WANT_WRITE) return set_interest(c, EPOLLOUT);
      server_.metrics.tls_handshake_failed();
      ERR_clear_error();
      return close_connection(c);
    }
    c->handshaking = false;
    c->deadline = Clock::now() + std::chrono::milliseconds(server_.options.idle_timeout_ms);
    set_interest(c, EPOLLIN);
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
  const std::size_t cap = server_.options.limits.max_head + server_.options.limits.max_body + sizeof buf;
  bool peer_closed = false;
  for (;;) {
    if (c->in.size() >= cap) break;  // a whole request is there; process it first
    ERR_clear_error();
    int n = SSL_read(c->ssl, buf, sizeof buf);
    if (n > 0) {
      c->in.append(buf, static_cast<std::size_t>(n));
      continue;
    }
    int err = SSL_get_error(c->ssl, n);
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
  while (!c->close_after_write && !c->in.empty()) {
    if (!c->request_started) {
      c->request_started = true;
      c->request_start = now;
      c->deadline = now + std::chrono::milliseconds(server_.options.header_timeout_ms);
    }
    if (!c->have_head) {
      ParseResult r = parse_request_head(c->in, c->scanned, server_.options.limits, c->req);
      if (r.status == ParseStatus::NeedMore) return;
      if (r.status == ParseStatus::Error) {
        respond(c, r.error_status, "text/plain; charset=utf-8", r.error + "\n", true);
        c->linger_on_close = true;
        c->in.clear();
        return;
      }
      // Bodies larger than what arrived with the head reserve their size.
      const std::size_t pending = c->req.head_size + c->req.content_length;
      if (pending > c->in.size()) {
        const std::size_t want = c->req.content_length;
        if (server_.body_bytes_in_flight.fetch_add(want) + want > server_.options.max_body_bytes_in_flight) {
          server_.body_bytes_in_flight.fetch_sub(want);
          respond(c, 503, "text/plain; charset=utf-8",
                  "too many large request bodies in flight; retry\n", true, "Retry-After: 1\r\n");
          c->linger_on_close = true;
          c->in.clear();
          return;
        }
        c->reserved_body = want;
      }
      c->have_head = true;
      c->continue_sent = false;
      c->deadline = now + std::chrono::milliseconds(server_.options.body_timeout_ms);
    }
    const std::size_t total = c->req.head_size + c->req.content_length;
    if (c->in.size() < total) {
      if (c->req.expect_continue && !c->continue_sent) {
        c->out += "HTTP/1.1 100 Continue\r\n\r\n";
        c->continue_sent = true;
      }
      return;
    }
    std::string body = c->in.substr(c->req.head_size, c->req.content_length);
    c->in.erase(0, total);
    server_.body_bytes_in_flight.fetch_sub(c->reserved_body);
    c->reserved_body = 0;
    c->scanned = 0;
    c->have_head = false;
    c->request_started = false;
    c->have_head_version0 = c->req.minor_version == 0;
    c->head_request = c->req.method == "HEAD";
    handle(c, body);
    c->have_head_version0 = false;
    c->head_request = false;
    if (c->in.empty())
      c->deadline = Clock::now() + std::chrono::milliseconds(server_.options.idle_timeout_ms);
  }
}

void Worker::respond(Connection* c, int status, std::string_view content_type, std::string_view body,
                     bool close, std::string_view extra_headers) {
  close = close || server_.draining.load();
  std::string& out = c->out;
  out += "HTTP/1.1 " + std::to_string(status) + " " + std::string(status_text(status)) + "\r\n";
  out += "Content-Type: ";
  out += content_type;
  out += "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  out += extra_headers;
  if (close) out += "Connection: close\r\n";
  else if (c->have_head_version0) out += "Connection: keep-alive\r\n";
  out += "\r\n";
  if (!c->head_request) out += body;  // HEAD: the headers of a GET, no body
  if (close) c->close_after_write = true;
  server_.metrics.record_http(status);
}

void Worker::handle(Connection* c, std::string_view body) {
  const HttpRequest& req = c->req;
  const bool close = !req.keep_alive;
  if (req.path == "/validate") {
    if (req.method != "POST")
      return respond(c, 405, "text/plain; charset=utf-8", "use POST for /validate\n", close,
                     "Allow: POST\r\n");
    const std::string_view type = req.header("content-type");
    if (!type.empty() && type.find("json") == std::string_view::npos)
      return respond(c, 415, "text/plain; charset=utf-8",
                     "Content-Type must be application/json (an AdmissionReview)\n", close);
    // The API server sends its own deadline; keep a margin for the trip back.
    double budget_ms = 10'000;
    if (std::string_view t = req.query_param("timeout"); !t.empty()) {
      budget_ms = parse_duration_ms(t);
      if (budget_ms <= 0)
        return respond(c, 400, "text/plain; charset=utf-8",
                       "invalid timeout query parameter '" + std::string(t) + "' (want e.g. 10s)\n", close);
      budget_ms = std::min(budget_ms, 30'000.0);
    }
    const auto budget_us = static_cast<long long>(budget_ms * 1000);
    const auto margin = std::chrono::microseconds(std::min(100'000LL, budget_us / 10));
    const Clock::time_point deadline = c->request_start + std::chrono::microseconds(budget_us) - margin;
    auto engine = server_.engine();
    admit::ReviewOutcome outcome = engine->review(std::string(body), deadline);
    const double seconds = std::chrono::duration<double>(Clock::now() - c->request_start).count();
    server_.metrics.record_review(outcome.summary, seconds);
    server_.audit.write(audit_record(outcome.summary, seconds));
    if (outcome.http_status != 200)
      return respond(c, outcome.http_status, "text/plain; charset=utf-8", outcome.body, close);
    return respond(c, 200, "application/json", outcome.body, close);
  }
  if (req.method != "GET" && req.method != "HEAD")
    return respond(c, 405, "text/plain; charset=utf-8", "use GET\n", close, "Allow: GET, HEAD\r\n");
  if (req.path == "/healthz") return respond(c, 200, "text/plain; charset=utf-8", "ok\n", close);
  if (req.path == "/readyz") {
    if (server_.unready.load() || server_.draining.load())
      return respond(c, 503, "text/plain; charset=utf-8", "draining\n", close);
    auto engine = server_.engine();
    if (!server_.ready.load() || !engine->namespaces().ready())
      return respond(c, 503, "text/plain; charset=utf-8",
                     "namespace labels not synced (" + engine->namespaces().describe() + ")\n", close);
    return respond(c, 200, "text/plain; charset=utf-8", "ok\n", close);
  }
  if (req.path == "/metrics")
    return respond(c, 200, "text/plain; version=0.0.4; charset=utf-8", server_.metrics.render(), close);
  respond(c, 404, "text/plain; charset=utf-8",
          "no such path; the webhook serves POST /validate, GET /healthz, /readyz and /metrics\n", close);
}

void Worker::flush(Connection* c) {
  while (c->out_off < c->out.size()) {
    ERR_clear_error();
    const std::size_t left = c->out.size() - c->out_off;
    int n = SSL_write(c->ssl, c->out.data() + c->out_off, static_cast<int>(std::min<std::size_t>(left, 1 << 20)));
    if (n > 0) {
      c->out_off += static_cast<std::size_t>(n);
      continue;
    }
    int err = SSL_get_error(c->ssl, n);
    if (err == SSL_ERROR_WANT_WRITE || err == SSL_ERROR_WANT_READ) {
      set_interest(c, err == SSL_ERROR_WANT_WRITE ? EPOLLOUT : EPOLLIN);
      return;
    }
    c->tls_failed = true;
    ERR_clear_error();
    return close_connection(c);
  }
  c->out.clear();
  c->out_off = 0;
  if (c->close_after_write && c->linger_on_close && !c->lingering) {
    ERR_clear_error();
    if (!c->tls_failed) SSL_shutdown(c->ssl);
    c->tls_failed = true;  // no second close_notify
    ::shutdown(c->fd, SHUT_WR);
    c->lingering = true;
    c->deadline = Clock::now() + std::chrono::seconds(2);
    set_interest(c, EPOLLIN);
    return;
  }
  if (c->close_after_write) return close_connection(c);
  set_interest(c, EPOLLIN);
  // Bytes OpenSSL already decrypted are invisible to epoll: read them now.
  if (SSL_pending(c->ssl) > 0) return read_and_process(c);
  // Requests pipelined behind the one just answered.
  if (!c->in.empty() && c->have_head == false) {
    process(c);
    if (c->out_off < c->out.size()) flush(c);
  }
}

void Worker::sweep(Clock::time_point now) {
  std::vector<Connection*> expired;
  for (Connection* c : connections_)
    if (now >= c->deadline) expired.push_back(c);
  for (Connection* c : expired) {
    if (c->lingering) {
      close_connection(c);
    } else if (c->handshaking) {
      server_.metrics.tls_handshake_failed();  // half-open or stalled handshake
      close_connection(c);
    } else if (c->request_started && c->out_off >= c->out.size()) {
      respond(c, 408, "text/plain; charset=utf-8", "request not received in time\n", true);
      c->in.clear();
      flush(c);
    } else {
      close_connection(c);
    }
  }
}

void Worker::run() {
  epoll_event events[256];
  Clock::time_point last_sweep = Clock::now();
  for (;;) {
    const int n = epoll_wait(epoll_fd_, events, 256, 100);
    for (int i = 0; i < n; ++i) {
      void* tag = events[i].data.ptr;
      if (tag == &listen_tag_) {
        if (listening_) accept_all();
      } else if (tag == &wake_tag_) {
        std::uint64_t v;
        [[maybe_unused]] ssize_t r = ::read(wake_fd_, &v, sizeof v);
      } else {
        on_event(static_cast<Connection*>(tag), events[i].events);
      }
    }
    const Clock::time_point now = Clock::now();
    if (server_.draining.load()) {
      if (listening_) {
        epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, listen_fd_, nullptr);
        listening_ = false;
      }
      // Idle keep-alive connections close now; those mid-request finish first
      // (their response carries Connection: close).
      std::vector<Connection*> idle;
      for (Connection* c : connections_)
        if (!c->request_started && c->out_off >= c->out.size()) idle.push_back(c);
      for (Connection* c : idle) close_connection(c);
      if (connections_.empty() || now >= server_.drain_deadline) break;
    }
    if (now - last_sweep >= std::chrono::milliseconds(100)) {
      sweep(now);
      last_sweep = now;
      if (listen_paused_until_ != Clock::time_point{} && now >= listen_paused_until_ && listening_) {
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLEXCLUSIVE;
        ev.data.ptr = &listen_tag_;
        epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, listen_fd_, &ev);
        listen_paused_until_ = {};
      }
    }
  }
}

int open_listener(const std::string& listen, std::string& bound, std::string& error) {
  std::string host, port;
  if (!listen.empty() && listen.front() == '[') {
    auto close = listen.find(']');
    if (close == std::string::npos || close + 1 >= listen.size() || listen[close + 1] != ':') {
      error = "--listen must be ADDR:PORT or [IPv6]:PORT";
      return -1;
    }
    host = listen.substr(1, close - 1);
    port = listen.substr(close + 2);
  } else {
    auto colon = listen.rfind(':');
    if (colon == std::string::npos) {
      error = "--listen must be ADDR:PORT (e.g. 0.0.0.0:8443)";
      return -1;
    }
    host = listen.substr(0, colon);
    port = listen.substr(colon + 1);
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  if (int rc = getaddrinfo(host.empty() ? nullptr : host.c_str(), port.c_str(), &hints, &res); rc != 0) {
    error = "--listen " + listen + ": " + gai_strerror(rc) + " (give a numeric address and port)";
    return -1;
  }
  int fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (fd < 0 || bind(fd, res->ai_addr, res->ai_addrlen) != 0 || ::listen(fd, 4096) != 0) {
    error = "cannot listen on " + listen + ": " + std::strerror(errno);
    freeaddrinfo(res);
    if (fd >= 0) ::close(fd);
    return -1;
  }
  freeaddrinfo(res);
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  char text[INET6_ADDRSTRLEN] = {};
  int actual_port = 0;
  if (addr.ss_family == AF_INET6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&addr);
    inet_ntop(AF_INET6, &a->sin6_addr, text, sizeof text);
    actual_port = ntohs(a->sin6_port);
    bound = "[" + std::string(text) + "]:" + std::to_string(actual_port);
  } else {
    auto* a = reinterpret_cast<sockaddr_in*>(&addr);
    inet_ntop(AF_INET, &a->sin_addr, text, sizeof text);
    actual_port = ntohs(a->sin_port);
    bound = std::string(text) + ":" + std::to_string(actual_port);
  }
  return fd;
}

struct FileStamp {
  bool exists = false;
  dev_t dev = 0;
  ino_t ino = 0;
  off_t size = 0;
  timespec mtime{};
  bool operator==(const FileStamp& o) const {
    return exists == o.exists && dev == o.dev && ino == o.ino && size == o.size &&
           mtime.tv_sec == o.mtime.tv_sec && mtime.tv_nsec == o.mtime.tv_nsec;
  }
};

// stat() follows symlinks, so a Secret volume's atomic ..data swap shows up.
FileStamp stamp(const std::string& path) {
  FileStamp s;
  struct stat st {};
  if (path.empty() || ::stat(path.c_str(), &st) != 0) return s;
  s.exists = true;
  s.dev = st.st_dev;
  s.ino = st.st_ino;
  s.size = st.st_size;
  s.mtime = st.st_mtim;
  return s;
}

}  // namespace

int run_admission_server(const ServerOptions& options) {
  // Signals are read from a signalfd by the main thread; every thread
  // inherits the mask.
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGHUP);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  pthread_sigmask(SIG_BLOCK, &mask, nullptr);
  signal(SIGPIPE, SIG_IGN);
  // Thousands of idle connections need as many descriptors.
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
  }

  Server server(options);
  if (options.namespaces_from_api) {
    std::vector<InputError> errors;
    kube::KubeconfigOptions ko;
    ko.kubeconfig = options.kubeconfig;
    ko.context = options.context;
    auto client_config = kube::resolve_client_config(ko, errors);
    std::string error;
    std::shared_ptr<const kube::Session> session;
    if (client_config) session = kube::Session::connect(*client_config, {}, error);
    if (!session) {
      for (const InputError& e : errors) error += (error.empty() ? "" : "; ") + e.file + ": " + e.message;
      log_line("error", "cannot reach the API server for namespace labels", {{"error", error}});
      return 2;
    }
    server.api_namespaces =
        std::make_shared<kube::NamespaceCache>(session, std::chrono::seconds(options.resync_seconds));
  }
  if (!server.reload_tls(true) || !server.reload_config(true)) return 2;
  std::string error;
  if (!server.audit.open(options.audit_log, error)) {
    log_line("error", "cannot open the audit log", {{"error", error}});
    return 2;
  }
  std::string bound;
  const int listen_fd = open_listener(options.listen, bound, error);
  if (listen_fd < 0) {
    log_line("error", "cannot listen", {{"error", error}});
    return 2;
  }
  const int sig_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);

  std::vector<std::unique_ptr<Worker>> workers;
  for (unsigned i = 0; i < std::max(1u, options.workers); ++i)
    workers.push_back(std::make_unique<Worker>(server, listen_fd));
  std::vector<std::thread> threads;
  for (auto& w : workers) threads.emplace_back([&w] { w->run(); });
  server.ready = true;
  log_line("info", "listening", {{"address", bound},
                                 {"workers", std::to_string(workers.size())},
                                 {"config", options.config_file.empty() ? "(none)" : options.config_file},
                                 {"namespaces", server.engine()->namespaces().describe()}});

  FileStamp cert_stamp = stamp(options.cert_file), key_stamp = stamp(options.key_file),
            config_stamp = stamp(options.config_file);
  Clock::time_point last_watch = Clock::now();
  Clock::time_point drain_at{};
  bool terminating = false;
  for (;;) {
    pollfd p{sig_fd, POLLIN, 0};
    poll(&p, 1, 200);
    signalfd_siginfo si{};
    while (::read(sig_fd, &si, sizeof si) == static_cast<ssize_t>(sizeof si)) {
      if (si.ssi_signo == SIGHUP) {
        log_line("info", "SIGHUP: reloading certificate, key, config and audit log");
        // Stamps first: a file changed during the reload is reloaded again.
        cert_stamp = stamp(options.cert_file);
        key_stamp = stamp(options.key_file);
        config_stamp = stamp(options.config_file);
        server.reload_tls(false);
        server.reload_config(false);
        if (std::string e; !server.audit.reopen(e)) log_line("error", "cannot reopen the audit log", {{"error", e}});
      } else if (!terminating) {
        terminating = true;
        server.unready = true;
        drain_at = Clock::now() + std::chrono::milliseconds(options.drain_delay_ms);
        log_line("info", "shutting down: draining", {{"signal", si.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM"},
                                                     {"drainDelayMs", std::to_string(options.drain_delay_ms)}});
      }
    }
    server.audit.flush();
    const Clock::time_point now = Clock::now();
    if (terminating && !server.draining.load() && now >= drain_at) {
      server.drain_deadline = now + std::chrono::milliseconds(options.drain_timeout_ms);
      server.draining = true;
      for (auto& w : workers) w->wake();
      break;
    }
    if (now - last_watch >= std::chrono::milliseconds(options.watch_interval_ms)) {
      last_watch = now;
      // Cert and key change together; a half-written pair fails the key check
      // and is retried when the other file changes.
      FileStamp c = stamp(options.cert_file), k = stamp(options.key_file);
      if (!(c == cert_stamp) || !(k == key_stamp)) {
        cert_stamp = c;
        key_stamp = k;
        server.reload_tls(false);
      }
      if (!options.config_file.empty()) {
        FileStamp cf = stamp(options.config_file);
        if (!(cf == config_stamp)) {
          config_stamp = cf;
          server.reload_config(false);
        }
      }
    }
  }
  for (auto& t : threads) t.join();
  workers.clear();
  ::close(listen_fd);
  ::close(sig_fd);
  server.audit.flush();
  log_line("info", "stopped");
  return 0;
}

}  // namespace kg::server

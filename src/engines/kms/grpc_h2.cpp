// gRPC over h2c on a UNIX socket with libnghttp2 (grpc_h2.hpp).
#include "engines/kms/grpc_h2.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <list>
#include <map>
#include <mutex>
#include <thread>

#include "core/log.hpp"
#include "engines/kms/secret.hpp"
#include "engines/kms/state.hpp"

namespace kg::kms {

std::string grpc_percent_encode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c > 0x7e || c == '%') {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += ch;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// One connection's protocol.

namespace {

struct Stream {
  std::string method, path, content_type;
  std::size_t header_bytes = 0;
  std::string body;
  bool taken = false, answered = false;
  std::string out;  // the framed response message
  std::size_t out_off = 0;
};

// Request and response messages carry DEKs: zeroed before their memory is given back.
void scrub(std::string& s) {
  wipe(s.data(), s.size());
  s.clear();
  s.shrink_to_fit();
}

nghttp2_nv nv(const std::string& name, const std::string& value) {
  return {reinterpret_cast<std::uint8_t*>(const_cast<char*>(name.data())),
          reinterpret_cast<std::uint8_t*>(const_cast<char*>(value.data())), name.size(), value.size(),
          NGHTTP2_NV_FLAG_NONE};
}

}  // namespace

struct GrpcSession::Impl {
  GrpcLimits lim;
  nghttp2_session* s = nullptr;
  std::map<std::int32_t, Stream> streams;
  std::vector<Call> calls;
  std::size_t buffered = 0;  // request bytes held across streams

  Stream* find(std::int32_t id) {
    auto it = streams.find(id);
    return it == streams.end() ? nullptr : &it->second;
  }

  // Answers with an HTTP status and no gRPC status (wrong :method or content-type).
  void answer_http(std::int32_t id, Stream& st, const char* code) {
    st.answered = true;
    std::string k = ":status", v = code;
    nghttp2_nv h[] = {nv(k, v)};
    nghttp2_submit_response(s, id, h, 1, nullptr);
  }

  void answer(std::int32_t id, Stream& st, const RpcStatus& rs, std::string_view message) {
    if (st.answered) return;
    st.answered = true;
    buffered -= std::min(buffered, st.body.size());
    scrub(st.body);
    std::string ks = ":status", vs = "200", kc = "content-type", vc = "application/grpc";
    std::string kg = "grpc-status", vg = std::to_string(static_cast<int>(rs.error_code()));
    std::string km = "grpc-message", vm = grpc_percent_encode(rs.error_message());
    if (!rs.ok()) {  // Trailers-Only
      std::vector<nghttp2_nv> h = {nv(ks, vs), nv(kc, vc), nv(kg, vg)};
      if (!vm.empty()) h.push_back(nv(km, vm));
      nghttp2_submit_response(s, id, h.data(), h.size(), nullptr);
      return;
    }
    st.out.resize(5);
    st.out[0] = 0;
    auto n = static_cast<std::uint32_t>(message.size());
    for (int i = 0; i < 4; ++i) st.out[static_cast<std::size_t>(1 + i)] = static_cast<char>(n >> (24 - 8 * i));
    st.out.append(message);
    nghttp2_nv h[] = {nv(ks, vs), nv(kc, vc)};
    nghttp2_data_provider dp{};
    dp.read_callback = &Impl::read_body;
    nghttp2_submit_response(s, id, h, 2, &dp);
  }

  void finish(std::int32_t id, Stream& st) {
    if (st.method != "POST") return answer_http(id, st, "405");
    if (st.content_type.rfind("application/grpc", 0) != 0 ||
        (st.content_type.size() > 16 && st.content_type[16] != '+' && st.content_type[16] != ';'))
      return answer_http(id, st, "415");
    const std::string& b = st.body;
    if (b.size() < 5) return answer(id, st, {StatusCode::INTERNAL, "the request carries no message"}, "");
    auto flag = static_cast<unsigned char>(b[0]);
    if (flag == 1)
      return answer(id, st, {StatusCode::UNIMPLEMENTED, "compressed messages are not supported (send identity)"}, "");
    if (flag != 0) return answer(id, st, {StatusCode::INTERNAL, "bad message flag " + std::to_string(flag)}, "");
    std::size_t n = 0;
    for (int i = 1; i <= 4; ++i) n = (n << 8) | static_cast<unsigned char>(b[static_cast<std::size_t>(i)]);
    if (n > lim.max_message)
      return answer(id, st, {StatusCode::RESOURCE_EXHAUSTED, "request message of " + std::to_string(n) +
                                                                  " bytes is larger than the limit of " +
                                                                  std::to_string(lim.max_message)}, "");
    if (n != b.size() - 5)
      return answer(id, st, {StatusCode::INTERNAL, n > b.size() - 5 ? "the request message is truncated"
                                                                     : "more than one request message in a unary call"}, "");
    st.taken = true;
    calls.push_back({id, st.path, b.substr(5)});
    buffered -= std::min(buffered, b.size());
    scrub(st.body);
  }

  // nghttp2's callbacks (user_data is the Impl).
  static ssize_t read_body(nghttp2_session* session, std::int32_t id, std::uint8_t* buf, std::size_t len,
                           std::uint32_t* flags, nghttp2_data_source*, void* user) {
    auto* im = static_cast<Impl*>(user);
    Stream* st = im->find(id);
    if (!st) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    std::size_t n = std::min(len, st->out.size() - st->out_off);
    std::memcpy(buf, st->out.data() + st->out_off, n);
    st->out_off += n;
    if (st->out_off == st->out.size()) {
      *flags |= NGHTTP2_DATA_FLAG_EOF | NGHTTP2_DATA_FLAG_NO_END_STREAM;
      std::string kg = "grpc-status", vg = "0";
      nghttp2_nv t[] = {nv(kg, vg)};
      if (nghttp2_submit_trailer(session, id, t, 1) != 0) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
      scrub(st->out);
      st->out_off = 0;
    }
    return static_cast<ssize_t>(n);
  }
  static int on_begin_headers(nghttp2_session*, const nghttp2_frame* f, void* user) {
    auto* im = static_cast<Impl*>(user);
    if (f->hd.type == NGHTTP2_HEADERS && f->headers.cat == NGHTTP2_HCAT_REQUEST) im->streams[f->hd.stream_id] = Stream{};
    return 0;
  }
  static int on_header(nghttp2_session*, const nghttp2_frame* f, const std::uint8_t* name, std::size_t namelen,
                       const std::uint8_t* value, std::size_t valuelen, std::uint8_t, void* user) {
    auto* im = static_cast<Impl*>(user);
    if (f->hd.type != NGHTTP2_HEADERS) return 0;
    Stream* st = im->find(f->hd.stream_id);
    if (!st) return 0;
    st->header_bytes += namelen + valuelen + 32;  // as SETTINGS_MAX_HEADER_LIST_SIZE counts
    if (st->header_bytes > im->lim.max_header_bytes) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;  // RST_STREAM
    if (f->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;  // trailers of the request: nothing to read
    std::string_view n(reinterpret_cast<const char*>(name), namelen), v(reinterpret_cast<const char*>(value), valuelen);
    if (n == ":method") st->method = v;
    else if (n == ":path") st->path = v;
    else if (n == "content-type") st->content_type = v;
    return 0;
  }
  static int on_data(nghttp2_session*, std::uint8_t, std::int32_t id, const std::uint8_t* data, std::size_t len,
                     void* user) {
    auto* im = static_cast<Impl*>(user);
    Stream* st = im->find(id);
    if (!st || st->answered || st->taken) return 0;
    if (st->body.size() + len > im->lim.max_message + 5) {
      im->answer(id, *st, {StatusCode::RESOURCE_EXHAUSTED, "request message larger than the limit of " +
                                                               std::to_string(im->lim.max_message) + " bytes"}, "");
      return 0;
    }
    if (im->buffered + len > im->lim.max_buffered) {
      im->answer(id, *st, {StatusCode::RESOURCE_EXHAUSTED, "too many request bytes in flight on this connection"}, "");
      return 0;
    }
    st->body.append(reinterpret_cast<const char*>(data), len);
    im->buffered += len;
    return 0;
  }
  static int on_frame(nghttp2_session*, const nghttp2_frame* f, void* user) {
    auto* im = static_cast<Impl*>(user);
    if ((f->hd.type == NGHTTP2_HEADERS || f->hd.type == NGHTTP2_DATA) && (f->hd.flags & NGHTTP2_FLAG_END_STREAM)) {
      Stream* st = im->find(f->hd.stream_id);
      if (st && !st->answered && !st->taken) im->finish(f->hd.stream_id, *st);
    }
    return 0;
  }
  static int on_close(nghttp2_session*, std::int32_t id, std::uint32_t, void* user) {
    auto* im = static_cast<Impl*>(user);
    auto it = im->streams.find(id);
    if (it != im->streams.end()) {
      im->buffered -= std::min(im->buffered, it->second.body.size());
      scrub(it->second.body);
      scrub(it->second.out);
      im->streams.erase(it);
    }
    return 0;
  }
};

GrpcSession::GrpcSession(const GrpcLimits& limits) : impl_(std::make_unique<Impl>()) {
  impl_->lim = limits;
  nghttp2_session_callbacks* cb = nullptr;
  if (nghttp2_session_callbacks_new(&cb) != 0) throw KmsError("nghttp2: out of memory");
  nghttp2_session_callbacks_set_on_begin_headers_callback(cb, &Impl::on_begin_headers);
  nghttp2_session_callbacks_set_on_header_callback(cb, &Impl::on_header);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, &Impl::on_data);
  nghttp2_session_callbacks_set_on_frame_recv_callback(cb, &Impl::on_frame);
  nghttp2_session_callbacks_set_on_stream_close_callback(cb, &Impl::on_close);
  int rc = nghttp2_session_server_new(&impl_->s, cb, impl_.get());
  nghttp2_session_callbacks_del(cb);
  if (rc != 0) throw KmsError(std::string("nghttp2: ") + nghttp2_strerror(rc));
  nghttp2_settings_entry iv[] = {{NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, limits.max_streams},
                                 {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, static_cast<std::uint32_t>(limits.max_header_bytes)}};
  nghttp2_submit_settings(impl_->s, NGHTTP2_FLAG_NONE, iv, 2);
}

GrpcSession::~GrpcSession() { nghttp2_session_del(impl_->s); }

bool GrpcSession::feed(std::string_view in) {
  ssize_t n = nghttp2_session_mem_recv(impl_->s, reinterpret_cast<const std::uint8_t*>(in.data()), in.size());
  return n >= 0;
}

std::vector<GrpcSession::Call> GrpcSession::take_calls() { return std::exchange(impl_->calls, {}); }

void GrpcSession::respond(std::int32_t stream, const RpcStatus& st, std::string_view message) {
  Stream* s = impl_->find(stream);
  if (!s || s->answered || !s->taken) return;
  impl_->answer(stream, *s, st, message);
}

std::string GrpcSession::take_output() {
  std::string out;
  for (;;) {
    const std::uint8_t* d = nullptr;
    ssize_t n = nghttp2_session_mem_send(impl_->s, &d);
    if (n <= 0) break;
    out.append(reinterpret_cast<const char*>(d), static_cast<std::size_t>(n));
  }
  return out;
}

bool GrpcSession::wants_io() const { return nghttp2_session_want_read(impl_->s) || nghttp2_session_want_write(impl_->s); }

void GrpcSession::goaway() {
  nghttp2_submit_goaway(impl_->s, NGHTTP2_FLAG_NONE, nghttp2_session_get_last_proc_stream_id(impl_->s), NGHTTP2_NO_ERROR,
                        nullptr, 0);
}

std::size_t GrpcSession::pending() const {
  std::size_t n = 0;
  for (const auto& [id, st] : impl_->streams)
    if (st.taken && !st.answered) ++n;
  return n;
}

// ---------------------------------------------------------------------------------------------
// The socket: connections, workers.

namespace {

struct Conn {
  int fd = -1;
  int wake = -1;  // eventfd: answers are waiting, or the server stops
  std::mutex mu;
  struct Done {
    std::int32_t stream;
    RpcStatus st;
    std::string message;
  };
  std::vector<Done> done;
  std::atomic<bool> finished{false};
  ~Conn() {
    if (fd >= 0) ::close(fd);
    if (wake >= 0) ::close(wake);
  }
  void poke() {
    std::uint64_t one = 1;
    if (::write(wake, &one, sizeof one) < 0) {
    }
  }
};

struct Job {
  std::shared_ptr<Conn> conn;
  std::int32_t stream;
  std::string path, message;
};

}  // namespace

struct GrpcUnixServer::Impl {
  GrpcHandler handler;
  GrpcLimits lim;
  int listen_fd = -1;
  int stop_pipe[2] = {-1, -1};
  std::atomic<bool> stopping{false};
  std::chrono::steady_clock::time_point deadline{};
  std::mutex deadline_mu;
  bool stopped = false;

  std::thread acceptor;
  struct Running {
    std::shared_ptr<Conn> conn;
    std::thread thread;
  };
  std::list<Running> conns;  // the acceptor's (and stop()'s after the acceptor ended)

  std::mutex jobs_mu;
  std::condition_variable jobs_cv;
  std::deque<Job> jobs;
  bool workers_stop = false;
  std::vector<std::thread> workers;

  void work() {
    for (;;) {
      Job j;
      {
        std::unique_lock l(jobs_mu);
        jobs_cv.wait(l, [&] { return workers_stop || !jobs.empty(); });
        if (workers_stop) return;
        j = std::move(jobs.front());
        jobs.pop_front();
      }
      RpcStatus st;
      std::string out;
      if (!j.conn->finished.load()) {
        try {
          out = handler(j.path, j.message, st);
        } catch (const std::exception& e) {
          st = RpcStatus(StatusCode::INTERNAL, e.what());
          out.clear();
        }
      }
      scrub(j.message);
      {
        std::lock_guard l(j.conn->mu);
        j.conn->done.push_back({j.stream, std::move(st), std::move(out)});
      }
      j.conn->poke();
    }
  }

  void serve_conn(const std::shared_ptr<Conn>& c) {
    constexpr std::size_t kMaxOut = 1 << 20;  // stop reading while this much waits to be written
    GrpcSession sess(lim);
    std::string out = sess.take_output();
    std::size_t off = 0;
    bool goaway_sent = false, closing = false;
    for (;;) {
      if (stopping.load() && !goaway_sent) {
        sess.goaway();
        goaway_sent = true;
      }
      std::vector<Conn::Done> done;
      {
        std::lock_guard l(c->mu);
        done.swap(c->done);
      }
      for (auto& d : done) {
        sess.respond(d.stream, d.st, d.message);
        scrub(d.message);
      }
      for (auto& call : sess.take_calls()) {
        {
          std::lock_guard l(jobs_mu);
          jobs.push_back({c, call.stream, std::move(call.path), std::move(call.message)});
        }
        jobs_cv.notify_one();
      }
      out += sess.take_output();
      while (off < out.size()) {
        ssize_t n = ::send(c->fd, out.data() + off, out.size() - off, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) break;
        if (n <= 0) return;  // the peer is gone
        off += static_cast<std::size_t>(n);
      }
      if (off == out.size()) {
        out.clear();
        off = 0;
      }
      if (closing && out.empty()) return;
      if (!sess.wants_io() && out.empty()) return;
      if (goaway_sent) {
        std::lock_guard l(deadline_mu);
        if (std::chrono::steady_clock::now() >= deadline) return;
      }
      short ev = static_cast<short>((out.size() - off < kMaxOut && !closing ? POLLIN : 0) | (out.empty() ? 0 : POLLOUT));
      pollfd p[2] = {{c->fd, ev, 0}, {c->wake, POLLIN, 0}};
      if (::poll(p, 2, goaway_sent ? 100 : -1) < 0 && errno != EINTR) return;
      if (p[1].revents & POLLIN) {
        std::uint64_t v = 0;
        if (::read(c->wake, &v, sizeof v) < 0) {
        }
      }
      if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
        char buf[16384];
        ssize_t n = ::recv(c->fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n == 0) return;  // the peer closed: its calls in flight are dropped when they finish
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return;
        if (n > 0 && !sess.feed(std::string_view(buf, static_cast<std::size_t>(n)))) closing = true;
      }
    }
  }

  void accept_loop() {
    for (;;) {
      pollfd p[2] = {{listen_fd, POLLIN, 0}, {stop_pipe[0], POLLIN, 0}};
      if (::poll(p, 2, -1) < 0) {
        if (errno == EINTR) continue;
        return;
      }
      if (p[1].revents) return;
      if (!(p[0].revents & POLLIN)) continue;
      int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
      if (fd < 0) {
        if (errno == EMFILE || errno == ENFILE) ::poll(nullptr, 0, 100);  // out of descriptors: do not spin
        continue;
      }
      for (auto it = conns.begin(); it != conns.end();) {
        if (it->conn->finished.load()) {
          it->thread.join();
          it = conns.erase(it);
        } else {
          ++it;
        }
      }
      if (conns.size() >= lim.max_connections) {
        log_line("warn", "kguard kms: connection refused: too many connections", {{"limit", std::to_string(lim.max_connections)}});
        ::close(fd);
        continue;
      }
      auto c = std::make_shared<Conn>();
      c->fd = fd;
      c->wake = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
      if (c->wake < 0) continue;  // ~Conn closes fd
      conns.push_back({c, std::thread([this, c] {
                         try {
                           serve_conn(c);
                         } catch (const std::exception& e) {
                           log_line("error", "kguard kms: connection ended", {{"error", e.what()}});
                         }
                         ::shutdown(c->fd, SHUT_RDWR);
                         c->finished.store(true);
                       })});
    }
  }
};

GrpcUnixServer::GrpcUnixServer(const std::string& path, GrpcHandler handler, unsigned workers, GrpcLimits limits)
    : impl_(std::make_unique<Impl>()) {
  impl_->handler = std::move(handler);
  impl_->lim = limits;
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  if (path.size() >= sizeof a.sun_path) throw KmsError(path + ": the socket path is too long");
  std::memcpy(a.sun_path, path.c_str(), path.size() + 1);
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw KmsError("socket: " + std::string(std::strerror(errno)));
  mode_t old = ::umask(0177);  // created 0600: only the API server's user may call
  int rc = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  ::umask(old);
  if (rc != 0 || ::listen(fd, 64) != 0) {
    std::string e = std::strerror(errno);
    ::close(fd);
    throw KmsError(path + ": cannot listen: " + e);
  }
  ::chmod(path.c_str(), 0600);
  impl_->listen_fd = fd;
  if (::pipe2(impl_->stop_pipe, O_CLOEXEC) != 0) {
    ::close(fd);
    throw KmsError("pipe: " + std::string(std::strerror(errno)));
  }
  for (unsigned i = 0; i < std::max(1u, workers); ++i) impl_->workers.emplace_back([this] { impl_->work(); });
  impl_->acceptor = std::thread([this] { impl_->accept_loop(); });
}

GrpcUnixServer::~GrpcUnixServer() { stop(std::chrono::seconds(5)); }

void GrpcUnixServer::stop(std::chrono::milliseconds grace) {
  Impl& im = *impl_;
  if (im.stopped) return;
  im.stopped = true;
  {
    std::lock_guard l(im.deadline_mu);
    im.deadline = std::chrono::steady_clock::now() + grace;
  }
  im.stopping.store(true);
  char c = 1;
  if (::write(im.stop_pipe[1], &c, 1) < 0) {
  }
  if (im.acceptor.joinable()) im.acceptor.join();
  ::close(im.listen_fd);
  for (auto& r : im.conns) r.conn->poke();
  for (auto& r : im.conns)
    if (r.thread.joinable()) r.thread.join();
  im.conns.clear();
  {
    std::lock_guard l(im.jobs_mu);
    im.workers_stop = true;
    im.jobs.clear();
  }
  im.jobs_cv.notify_all();
  for (auto& t : im.workers) t.join();
  ::close(im.stop_pipe[0]);
  ::close(im.stop_pipe[1]);
}

}  // namespace kg::kms

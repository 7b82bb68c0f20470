// kguard kms serve (server.hpp).
#include "engines/kms/server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <thread>

#include "core/log.hpp"
#include "engines/kms/grpc_h2.hpp"
#include "engines/kms/service.hpp"

namespace kg::kms {
namespace {

// /metrics and /healthz over plain HTTP/1.0 on loopback: one connection at a time, 2 s to send the
// request head, then closed.
class MetricsListener {
 public:
  MetricsListener(KmsService& s, const std::string& listen) : s_(s) {
    std::size_t colon = listen.rfind(':');
    if (colon == std::string::npos) throw KmsError("--metrics-listen " + listen + ": expected ADDR:PORT");
    std::string host = listen.substr(0, colon), port = listen.substr(colon + 1);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    long p = std::strtol(port.c_str(), nullptr, 10);
    if (inet_pton(AF_INET, host.c_str(), &a.sin_addr) != 1 || p < 0 || p > 65535 || port.empty())
      throw KmsError("--metrics-listen " + listen + ": expected IPv4ADDR:PORT (127.0.0.1:9464)");
    a.sin_port = htons(static_cast<std::uint16_t>(p));
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd_, 16) != 0) {
      std::string e = std::strerror(errno);
      if (fd_ >= 0) ::close(fd_);
      throw KmsError("--metrics-listen " + listen + ": " + e);
    }
    if (::pipe2(stop_, O_CLOEXEC) != 0) throw KmsError("pipe: " + std::string(std::strerror(errno)));
    thread_ = std::thread([this] { loop(); });
  }
  ~MetricsListener() {
    char c = 1;
    if (::write(stop_[1], &c, 1) < 0) {
    }
    if (thread_.joinable()) thread_.join();
    ::close(fd_);
    ::close(stop_[0]);
    ::close(stop_[1]);
  }

 private:
  void loop() {
    for (;;) {
      pollfd p[2] = {{fd_, POLLIN, 0}, {stop_[0], POLLIN, 0}};
      if (::poll(p, 2, -1) < 0) {
        if (errno == EINTR) continue;
        return;
      }
      if (p[1].revents) return;
      if (!(p[0].revents & POLLIN)) continue;
      int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) continue;
      serve_one(c);
      ::close(c);
    }
  }
  void serve_one(int c) {
    std::string head;
    char buf[1024];
    while (head.find("\r\n\r\n") == std::string::npos && head.size() < 8192) {
      pollfd p{c, POLLIN, 0};
      if (::poll(&p, 1, 2000) <= 0) return;
      ssize_t n = ::recv(c, buf, sizeof buf, 0);
      if (n <= 0) return;
      head.append(buf, static_cast<std::size_t>(n));
    }
    std::string path = head.substr(0, head.find("\r\n"));
    std::string body, status = "200 OK";
    if (path.rfind("GET /metrics ", 0) == 0) {
      body = s_.render_metrics();
    } else if (path.rfind("GET /healthz ", 0) == 0) {
      v2::StatusResponse r;
      s_.status(v2::StatusRequest(), &r);
      body = r.healthz() + "\n";
      if (r.healthz() != "ok") status = "503 Service Unavailable";
    } else {
      status = "404 Not Found";
      body = "not found\n";
    }
    std::string resp = "HTTP/1.0 " + status + "\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: " +
                       std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
    std::size_t off = 0;
    while (off < resp.size()) {
      ssize_t n = ::send(c, resp.data() + off, resp.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return;
      off += static_cast<std::size_t>(n);
    }
  }

  KmsService& s_;
  int fd_ = -1;
  int stop_[2] = {-1, -1};
  std::thread thread_;
};

std::string socket_path(const std::string& s) {
  if (s.rfind("unix://", 0) == 0) return s.substr(7);
  if (s.rfind("unix:", 0) == 0) return s.substr(5);
  return s;
}

}  // namespace

int serve(const ServeOptions& o) {
  std::string path = socket_path(o.socket);
  if (path.empty() || path[0] != '/') {
    log_line("error", "kguard kms serve: --socket must be an absolute path (unix:///run/kguard/kms.sock)");
    return 2;
  }
  {
    struct stat d{};
    std::string dir = path.substr(0, path.rfind('/'));
    if (!dir.empty() && (::stat(dir.c_str(), &d) != 0 || !S_ISDIR(d.st_mode))) {
      log_line("error", "kguard kms serve: the socket's directory does not exist", {{"directory", dir}});
      return 2;
    }
  }
  // SIGHUP/SIGTERM/SIGINT are read by this thread alone (the server's threads inherit the mask).
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGHUP);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGINT);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  std::unique_ptr<KmsService> service;
  std::unique_ptr<MetricsListener> metrics;
  try {
    BackendOptions b = o.backend;
    b.admin = false;
    b.sessions = std::max(1u, o.threads);
    service = std::make_unique<KmsService>(open_backend(b), ServiceOptions{o.state_dir, o.audit_log});
    if (!o.metrics_listen.empty()) metrics = std::make_unique<MetricsListener>(*service, o.metrics_listen);
  } catch (const std::exception& e) {
    log_line("error", "kguard kms serve cannot start", {{"error", e.what()}});
    return 2;
  }
  struct stat st{};
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      log_line("error", "kguard kms serve: --socket exists and is not a socket", {{"socket", path}});
      return 2;
    }
    ::unlink(path.c_str());  // a stale socket of an earlier run
  }
  constexpr std::string_view kService = "/v2.KeyManagementService/";
  std::unique_ptr<GrpcUnixServer> server;
  try {
    server = std::make_unique<GrpcUnixServer>(
        path,
        [&svc = *service, kService](std::string_view p, std::string_view message, RpcStatus& result) {
          if (p.substr(0, kService.size()) != kService) {
            result = RpcStatus(StatusCode::UNIMPLEMENTED, "unknown service of " + std::string(p.substr(0, 128)));
            return std::string();
          }
          return handle_raw(svc, p.substr(kService.size()), message, result);
        },
        std::max(1u, o.threads));
  } catch (const std::exception& e) {
    log_line("error", "kguard kms serve: cannot listen on the socket", {{"socket", path}, {"error", e.what()}});
    return 2;
  }
  log_line("info", "kguard kms serving", {{"socket", path}, {"backend", redact_backend_uri(o.backend.uri)},
                                          {"current", std::to_string(service->current_version())}});
  timespec tick{1, 0};
  for (;;) {
    int sig = sigtimedwait(&sigs, nullptr, &tick);
    if (sig == SIGTERM || sig == SIGINT) break;
    service->reload(sig == SIGHUP);
    service->flush_usage();
  }
  log_line("info", "kguard kms stopping");
  server->stop(std::chrono::seconds(5));  // calls in flight finish, 5 s at most
  service->flush_usage();
  metrics.reset();
  ::unlink(path.c_str());
  return 0;
}

}  // namespace kg::kms

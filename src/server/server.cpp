#include "server/server.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#include "server/connection.hpp"
#include "server/event_loop.hpp"
#include "server/health.hpp"
#include "core/log.hpp"
#include "server/tls_context.hpp"

namespace kg::server {

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

std::string errno_text(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

UniqueFd open_listener(const std::string& listen, std::string& bound, std::string& error) {
  std::string host, port;
  if (!listen.empty() && listen.front() == '[') {
    auto close = listen.find(']');
    if (close == std::string::npos || close + 1 >= listen.size() || listen[close + 1] != ':') {
      error = "--listen must be ADDR:PORT or [IPv6]:PORT";
      return {};
    }
    host = listen.substr(1, close - 1);
    port = listen.substr(close + 2);
  } else {
    auto colon = listen.rfind(':');
    if (colon == std::string::npos) {
      error = "--listen must be ADDR:PORT (e.g. 0.0.0.0:8443)";
      return {};
    }
    host = listen.substr(0, colon);
    port = listen.substr(colon + 1);
  }
  // getaddrinfo() takes 99999 modulo 65536: check the range first.
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
      std::stoul(port) > 65535) {
    error = "--listen " + listen + ": the port must be a number from 0 to 65535";
    return {};
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  if (int rc = getaddrinfo(host.empty() ? nullptr : host.c_str(), port.c_str(), &hints, &res); rc != 0) {
    error = "--listen " + listen + ": " + gai_strerror(rc) + " (give a numeric address and port)";
    return {};
  }
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> holder(res, freeaddrinfo);
  UniqueFd fd(socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) {
    error = "cannot listen on " + listen + ": " + errno_text("socket");
    return {};
  }
  int one = 1;
  if (setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0) {
    error = "cannot listen on " + listen + ": " + errno_text("setsockopt(SO_REUSEADDR)");
    return {};
  }
  if (bind(fd.get(), res->ai_addr, res->ai_addrlen) != 0) {
    error = "cannot listen on " + listen + ": " + std::strerror(errno);
    return {};
  }
  if (::listen(fd.get(), 4096) != 0) {
    error = "cannot listen on " + listen + ": " + errno_text("listen");
    return {};
  }
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    error = "cannot listen on " + listen + ": " + errno_text("getsockname");
    return {};
  }
  char text[INET6_ADDRSTRLEN] = {};
  if (addr.ss_family == AF_INET6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&addr);
    inet_ntop(AF_INET6, &a->sin6_addr, text, sizeof text);
    bound = "[" + std::string(text) + "]:" + std::to_string(ntohs(a->sin6_port));
  } else {
    auto* a = reinterpret_cast<sockaddr_in*>(&addr);
    inet_ntop(AF_INET, &a->sin_addr, text, sizeof text);
    bound = std::string(text) + ":" + std::to_string(ntohs(a->sin_port));
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

std::vector<FileStamp> stamps(const std::vector<std::string>& paths) {
  std::vector<FileStamp> out;
  out.reserve(paths.size());
  for (const std::string& p : paths) out.push_back(stamp(p));
  return out;
}

// New connections are refused from the start of the drain, not queued
// unanswered until exit. shutdown() rather than close(): the workers may
// still hold the descriptor in their epoll sets, and its number must not be
// reused by a connection while they do.
void stop_listening(int listen_fd) {
  if (::shutdown(listen_fd, SHUT_RDWR) != 0) {
    log_line("warn", "cannot stop the listener; new connections wait for the exit",
             {{"error", errno_text("shutdown")}});
  }
}

bool reload_tls(TlsContext& tls, Metrics& metrics, bool at_start) {
  std::string error;
  if (!tls.reload(error)) {
    log_line("error", at_start ? "cannot load the TLS certificate" : "TLS reload failed; keeping the previous certificate",
             {{"error", error}});
    if (!at_start) metrics.record_reload("tls", false);
    return false;
  }
  metrics.set_certificate_expiry(tls.not_after());
  if (!at_start) {
    metrics.record_reload("tls", true);
    log_line("info", "TLS certificate reloaded", {{"cert", tls.cert_file()}});
  }
  return true;
}

}  // namespace

namespace {

sigset_t server_signals() {
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGHUP);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  return mask;
}

}  // namespace

bool Server::block_signals() {
  const sigset_t mask = server_signals();
  if (int rc = pthread_sigmask(SIG_BLOCK, &mask, nullptr); rc != 0) {
    log_line("error", "cannot block signals", {{"error", std::strerror(rc)}});
    return false;
  }
  if (signal(SIGPIPE, SIG_IGN) == SIG_ERR) {
    log_line("error", "cannot ignore SIGPIPE", {{"error", errno_text("signal")}});
    return false;
  }
  return true;
}

int Server::run() {
  // Signals are read from a signalfd by this thread; every thread started
  // from here inherits the mask.
  if (!block_signals()) return 2;
  const sigset_t mask = server_signals();
  // Thousands of idle connections need as many descriptors.
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &lim) != 0)
      log_line("warn", "cannot raise the open file limit", {{"error", errno_text("setrlimit")}});
  }

  TlsContext tls(options_.cert_file, options_.key_file, options_.client_ca_file);
  if (!reload_tls(tls, metrics_, true)) return 2;
  std::string error, bound;
  UniqueFd listen_fd = open_listener(options_.listen, bound, error);
  if (!listen_fd) {
    log_line("error", "cannot listen", {{"error", error}});
    return 2;
  }
  UniqueFd sig_fd(signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!sig_fd) {
    log_line("error", "cannot read signals", {{"error", errno_text("signalfd")}});
    return 2;
  }

  ServiceRoutes routes(handler_, metrics_);
  ServerState state(options_.limits, tls, metrics_, routes);
  std::vector<std::unique_ptr<Worker>> workers;
  for (unsigned i = 0; i < std::max(1u, options_.workers); ++i) {
    auto w = Worker::create(state, listen_fd.get(), error);
    if (!w) {
      log_line("error", "cannot start the event loop", {{"error", error}});
      return 2;
    }
    workers.push_back(std::move(w));
  }
  std::vector<std::thread> threads;
  threads.reserve(workers.size());
  for (auto& w : workers) threads.emplace_back([&w] { w->run(); });
  routes.started = true;
  {
    std::vector<std::pair<std::string_view, std::string_view>> fields;
    const std::string nworkers = std::to_string(workers.size());
    fields.emplace_back("address", bound);
    fields.emplace_back("workers", nworkers);
    for (const auto& [k, v] : options_.describe) fields.emplace_back(k, v);
    // log_line takes an initializer_list: build the line's fields by hand.
    switch (fields.size()) {
      default:
      case 2: log_line("info", "listening", {fields[0], fields[1]}); break;
      case 3: log_line("info", "listening", {fields[0], fields[1], fields[2]}); break;
      case 4: log_line("info", "listening", {fields[0], fields[1], fields[2], fields[3]}); break;
    }
  }

  const std::vector<std::string> handler_files = handler_.watched_files();
  FileStamp cert_stamp = stamp(options_.cert_file), key_stamp = stamp(options_.key_file);
  FileStamp ca_stamp = stamp(options_.client_ca_file);
  std::vector<FileStamp> handler_stamps = stamps(handler_files);
  Clock::time_point last_watch = Clock::now();
  Clock::time_point drain_at{};
  bool terminating = false;
  for (;;) {
    pollfd p{sig_fd.get(), POLLIN, 0};
    if (poll(&p, 1, 200) < 0 && errno != EINTR) {
      log_line("error", "cannot wait for signals", {{"error", errno_text("poll")}});
      break;
    }
    signalfd_siginfo si{};
    while (::read(sig_fd.get(), &si, sizeof si) == static_cast<ssize_t>(sizeof si)) {
      if (si.ssi_signo == SIGHUP) {
        log_line("info", "SIGHUP: reloading certificate, key, config and audit log");
        // Stamps first: a file changed during the reload is reloaded again.
        cert_stamp = stamp(options_.cert_file);
        key_stamp = stamp(options_.key_file);
        ca_stamp = stamp(options_.client_ca_file);
        handler_stamps = stamps(handler_files);
        reload_tls(tls, metrics_, false);
        handler_.reload(ReloadReason::Signal, metrics_);
      } else if (!terminating) {
        terminating = true;
        routes.unready = true;
        drain_at = Clock::now() + std::chrono::milliseconds(options_.drain_delay_ms);
        log_line("info", "shutting down: draining", {{"signal", si.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM"},
                                                     {"drainDelayMs", std::to_string(options_.drain_delay_ms)}});
      }
    }
    handler_.tick();
    const Clock::time_point now = Clock::now();
    if (state.failed.load() && !terminating) {
      terminating = true;
      routes.unready = true;
      drain_at = now;
    }
    if (terminating && !state.draining.load() && now >= drain_at) {
      state.drain_deadline = (now + std::chrono::milliseconds(options_.drain_timeout_ms)).time_since_epoch().count();
      state.draining = true;
      stop_listening(listen_fd.get());
      for (auto& w : workers) w->wake();
      break;
    }
    if (now - last_watch >= std::chrono::milliseconds(options_.watch_interval_ms)) {
      last_watch = now;
      // Cert and key change together; a half-written pair fails the key check
      // and is retried when the other file changes.
      FileStamp c = stamp(options_.cert_file), k = stamp(options_.key_file), ca = stamp(options_.client_ca_file);
      if (!(c == cert_stamp) || !(k == key_stamp) || !(ca == ca_stamp)) {
        cert_stamp = c;
        key_stamp = k;
        ca_stamp = ca;
        reload_tls(tls, metrics_, false);
      }
      std::vector<FileStamp> hs = stamps(handler_files);
      if (hs != handler_stamps) {
        handler_stamps = std::move(hs);
        handler_.reload(ReloadReason::FileChanged, metrics_);
      }
    }
  }
  if (!state.draining.load()) {  // poll() failed: stop now
    state.drain_deadline = Clock::now().time_since_epoch().count();
    state.draining = true;
    stop_listening(listen_fd.get());
    for (auto& w : workers) w->wake();
  }
  for (auto& t : threads) t.join();
  workers.clear();  // closes every connection still open after the drain deadline
  handler_.tick();
  log_line("info", "stopped");
  return state.failed.load() ? 1 : 0;
}

}  // namespace kg::server

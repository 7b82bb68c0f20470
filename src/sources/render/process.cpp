#include "sources/render/process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

extern char** environ;

namespace kg::render {
namespace {

// Closes its descriptor once, whatever path leaves the function.
struct Fd {
  int fd = -1;
  Fd() = default;
  explicit Fd(int f) : fd(f) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }
  void reset() {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
};

bool is_executable_file(const std::string& path) {
  struct stat st{};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

struct SpawnResources {
  posix_spawn_file_actions_t actions{};
  posix_spawnattr_t attr{};
  bool have_actions = false;
  bool have_attr = false;
  ~SpawnResources() {
    if (have_actions) posix_spawn_file_actions_destroy(&actions);
    if (have_attr) posix_spawnattr_destroy(&attr);
  }
};

int wait_for(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  return status;
}

}  // namespace

std::string find_executable(std::string_view name) {
  if (name.empty()) return {};
  if (name.find('/') != std::string_view::npos) {
    std::string path(name);
    return is_executable_file(path) ? path : std::string();
  }
  const char* env = std::getenv("PATH");
  std::string_view dirs = env ? env : "/usr/local/bin:/usr/bin:/bin";
  while (true) {
    const auto colon = dirs.find(':');
    std::string_view dir = dirs.substr(0, colon);
    // An empty PATH entry is the working directory, as for execvp.
    std::string candidate = dir.empty() ? std::string(name) : std::string(dir) + "/" + std::string(name);
    if (is_executable_file(candidate)) return dir.empty() ? "./" + candidate : candidate;
    if (colon == std::string_view::npos) break;
    dirs.remove_prefix(colon + 1);
  }
  return {};
}

ProcessResult run_process(const std::string& program, const std::vector<std::string>& args,
                          const ProcessLimits& limits) {
  ProcessResult r;
  int out_pipe[2];
  int err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) {
    r.spawn_error = std::string("pipe: ") + std::strerror(errno);
    return r;
  }
  Fd out_read(out_pipe[0]);
  Fd out_write(out_pipe[1]);
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
    r.spawn_error = std::string("pipe: ") + std::strerror(errno);
    return r;
  }
  Fd err_read(err_pipe[0]);
  Fd err_write(err_pipe[1]);

  SpawnResources res;
  if (posix_spawn_file_actions_init(&res.actions) != 0 || posix_spawnattr_init(&res.attr) != 0) {
    r.spawn_error = "posix_spawn setup failed";
    return r;
  }
  res.have_actions = res.have_attr = true;
  // dup2 clears close-on-exec on the targets; every other descriptor kguard
  // holds here was opened close-on-exec.
  posix_spawn_file_actions_addopen(&res.actions, STDIN_FILENO, limits.stdin_path.c_str(), O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&res.actions, out_write.fd, STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&res.actions, err_write.fd, STDERR_FILENO);
  // Its own process group, so a timeout kills whatever it started too; the
  // default dispositions and an empty mask whatever kguard's threads set.
  sigset_t none;
  sigemptyset(&none);
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  sigaddset(&defaults, SIGINT);
  sigaddset(&defaults, SIGTERM);
  posix_spawnattr_setpgroup(&res.attr, 0);
  posix_spawnattr_setsigmask(&res.attr, &none);
  posix_spawnattr_setsigdefault(&res.attr, &defaults);
  posix_spawnattr_setflags(&res.attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  std::vector<char*> argv;
  argv.reserve(args.size() + 2);
  argv.push_back(const_cast<char*>(program.c_str()));
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);

  pid_t pid = 0;
  if (const int rc = posix_spawn(&pid, program.c_str(), &res.actions, &res.attr, argv.data(), environ);
      rc != 0) {
    r.spawn_error = std::strerror(rc);
    return r;
  }
  out_write.reset();
  err_write.reset();

  const auto deadline = std::chrono::steady_clock::now() + limits.timeout;
  char buf[64 * 1024];
  bool killed = false;
  auto kill_group = [&] {
    if (!killed) ::kill(-pid, SIGKILL);
    killed = true;
  };
  while (out_read.fd >= 0 || err_read.fd >= 0) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      r.timed_out = true;
      kill_group();
      break;
    }
    pollfd fds[2] = {{out_read.fd, POLLIN, 0}, {err_read.fd, POLLIN, 0}};
    const int n = ::poll(fds, 2, static_cast<int>(std::min<long long>(left.count(), 1000)));
    if (n < 0) {
      if (errno == EINTR) continue;
      kill_group();
      r.spawn_error = std::string("poll: ") + std::strerror(errno);
      break;
    }
    for (int k = 0; k < 2; ++k) {
      Fd& fd = k == 0 ? out_read : err_read;
      if (fd.fd < 0 || !(fds[k].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      const ssize_t got = ::read(fd.fd, buf, sizeof buf);
      if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (got <= 0) {
        fd.reset();
        continue;
      }
      std::string& sink = k == 0 ? r.out : r.err;
      const std::size_t cap = k == 0 ? limits.max_stdout : limits.max_stderr;
      const std::size_t room = cap > sink.size() ? cap - sink.size() : 0;
      sink.append(buf, std::min(room, static_cast<std::size_t>(got)));
      if (k == 0 && static_cast<std::size_t>(got) > room) {
        r.stdout_overflow = true;
        kill_group();
        out_read.reset();
        err_read.reset();
      }
    }
  }
  const int status = wait_for(pid);
  if (status < 0) {
    if (r.spawn_error.empty()) r.spawn_error = std::string("waitpid: ") + std::strerror(errno);
  } else if (WIFEXITED(status)) {
    r.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    r.signal = WTERMSIG(status);
  }
  return r;
}

}  // namespace kg::render

// Running a helper program (helm, kustomize) safely: posix_spawn with an
// argument vector (never a shell), stdin from /dev/null, stdout and stderr
// read through pipes with a deadline and a cap on what is kept; a program
// that runs past its deadline or writes past the cap is killed with its
// process group.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace kg::render {

struct ProcessLimits {
  std::chrono::milliseconds timeout{120'000};
  std::size_t max_stdout = std::size_t{256} << 20;
  std::size_t max_stderr = std::size_t{64} << 10;  // the rest is read and dropped
  // The program's stdin (a docker credential helper reads the registry there).
  std::string stdin_path = "/dev/null";
};

struct ProcessResult {
  std::string spawn_error;  // set when the program could not be started
  int exit_code = -1;       // when it exited
  int signal = 0;           // when a signal ended it
  bool timed_out = false;
  bool stdout_overflow = false;  // killed for writing more than max_stdout
  std::string out;
  std::string err;

  bool ok() const {
    return spawn_error.empty() && exit_code == 0 && !timed_out && !stdout_overflow;
  }
};

// Runs `program` (a path, not looked up) with `args` (without argv[0]).
ProcessResult run_process(const std::string& program, const std::vector<std::string>& args,
                          const ProcessLimits& limits);

// The executable `name` names: itself when it holds a '/', else the first
// match in $PATH. Empty when there is none.
std::string find_executable(std::string_view name);

}  // namespace kg::render

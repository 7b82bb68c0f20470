// Runs a libFuzzer target over files and directories without libFuzzer, so
// the seed corpus (and any crash reproducer) replays in ctest under any
// compiler and sanitizer. Each input has a time budget (KGUARD_FUZZ_TIMEOUT
// seconds, default 10, as `make fuzz` gives libFuzzer): an input that takes
// longer fails the replay, so a quadratic path found by the fuzzer stays fixed.
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <unistd.h>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

const char* g_current = "";

extern "C" void on_alarm(int) {
  // Only async-signal-safe calls here.
  const char* msg = "replay: input exceeded its time budget: ";
  (void)!write(STDERR_FILENO, msg, std::strlen(msg));
  (void)!write(STDERR_FILENO, g_current, std::strlen(g_current));
  (void)!write(STDERR_FILENO, "\n", 1);
  _exit(1);
}

}  // namespace

int main(int argc, char** argv) {
  unsigned budget = 10;
  if (const char* t = std::getenv("KGUARD_FUZZ_TIMEOUT")) budget = static_cast<unsigned>(std::atoi(t));
  std::signal(SIGALRM, on_alarm);
  namespace fs = std::filesystem;
  std::vector<fs::path> files;
  for (int i = 1; i < argc; ++i) {
    if (fs::is_directory(argv[i])) {
      for (const auto& e : fs::recursive_directory_iterator(argv[i]))
        if (e.is_regular_file()) files.push_back(e.path());
    } else {
      files.emplace_back(argv[i]);
    }
  }
  for (const fs::path& p : files) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string data = ss.str();
    const std::string name = p.string();
    g_current = name.c_str();
    alarm(budget);
    LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(data.data()), data.size());
    alarm(0);
  }
  std::printf("replayed %zu inputs\n", files.size());
  return files.empty() ? 1 : 0;
}

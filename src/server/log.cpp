#include "server/log.hpp"

#include <sys/time.h>

#include <cstdio>
#include <ctime>
#include <mutex>

#include "report/json_writer.hpp"

namespace kg {

std::string rfc3339_now() {
  timeval tv{};
  gettimeofday(&tv, nullptr);
  std::tm tm{};
  gmtime_r(&tv.tv_sec, &tm);
  char buf[40];
  std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%03dZ", static_cast<int>(tv.tv_usec / 1000));
  return buf;
}

void log_line(std::string_view level, std::string_view msg,
              std::initializer_list<std::pair<std::string_view, std::string_view>> fields) {
  // JsonWriter::escape writes the quotes too.
  std::string line = "{\"time\":\"" + rfc3339_now() + "\",\"level\":";
  JsonWriter::escape(line, level);
  line += ",\"msg\":";
  JsonWriter::escape(line, msg);
  for (const auto& [k, v] : fields) {
    line += ',';
    JsonWriter::escape(line, k);
    line += ':';
    JsonWriter::escape(line, v);
  }
  line += "}\n";
  static std::mutex mu;  // whole lines, never interleaved
  std::lock_guard lock(mu);
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

}  // namespace kg

#include "core/log.hpp"

#include <cstdio>
#include <mutex>
#include <string>

#include "core/clock.hpp"
#include "core/json_writer.hpp"

namespace kg {

void log_line(std::string_view level, std::string_view msg,
              std::initializer_list<std::pair<std::string_view, std::string_view>> fields) {
  // JsonWriter::escape writes the quotes too.
  std::string line = "{\"time\":\"" + utc_now_rfc3339_millis() + "\",\"level\":";
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
  // Lines from several threads must not interleave.
  static std::mutex mu;
  std::lock_guard lock(mu);
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

}  // namespace kg

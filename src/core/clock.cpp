#include "core/clock.hpp"

#include <sys/time.h>

#include <cstdio>
#include <ctime>

namespace kg {
namespace {

std::tm utc(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  return tm;
}

}  // namespace

std::string utc_today() {
  const std::tm tm = utc(std::time(nullptr));
  char buf[16];
  return std::string(buf, std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm));
}

std::string utc_now_rfc3339() {
  const std::tm tm = utc(std::time(nullptr));
  char buf[32];
  return std::string(buf, std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm));
}

std::string utc_now_rfc3339_millis() {
  timeval tv{};
  gettimeofday(&tv, nullptr);
  const std::tm tm = utc(tv.tv_sec);
  char buf[40];
  const std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%03dZ", static_cast<int>(tv.tv_usec / 1000));
  return buf;
}

long long utc_epoch_seconds(std::string_view rfc3339) {
  const std::string s(rfc3339);  // sscanf needs the terminator
  std::tm tm{};
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6)
    return 0;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<long long>(timegm(&tm));
}

}  // namespace kg

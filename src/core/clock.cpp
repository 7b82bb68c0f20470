#include "core/clock.hpp"

#include <sys/time.h>

#include <cstdio>
#include <string>
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

bool utc_date_or_time_seconds(std::string_view text, bool end_of_day, long long& seconds) {
  std::string t(text);
  auto digits = [&](std::size_t from, std::size_t n) {
    for (std::size_t i = from; i < from + n; ++i)
      if (i >= t.size() || t[i] < '0' || t[i] > '9') return false;
    return true;
  };
  auto shaped = [&] { return digits(0, 4) && t[4] == '-' && digits(5, 2) && t[7] == '-' && digits(8, 2); };
  if (t.size() == 10 && shaped()) t += end_of_day ? "T23:59:59Z" : "T00:00:00Z";
  // Only UTC: an offset would be silently ignored by the reader below.
  if (t.size() < 20 || !shaped() || t[10] != 'T' || t.back() != 'Z' || !digits(11, 2) || t[13] != ':' ||
      !digits(14, 2) || t[16] != ':' || !digits(17, 2))
    return false;
  const int month = std::stoi(t.substr(5, 2)), day = std::stoi(t.substr(8, 2));
  if (month < 1 || month > 12 || day < 1 || day > 31) return false;
  seconds = utc_epoch_seconds(t);
  return true;
}

}  // namespace kg

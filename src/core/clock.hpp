// The one place kguard reads the wall clock and formats UTC times, so report
// timestamps, snapshot times, log lines and exemption expiry agree.
#pragma once

#include <string>
#include <string_view>

namespace kg {

// Today's date in UTC: "2026-12-04" (exemption `until` dates compare with it).
std::string utc_today();
// Now as RFC 3339 UTC to the second: "2026-12-04T13:58:46Z".
std::string utc_now_rfc3339();
// Now as RFC 3339 UTC with milliseconds: "2026-12-04T13:58:46.123Z" (log lines).
std::string utc_now_rfc3339_millis();
// Seconds since the epoch of an RFC 3339 UTC time ("YYYY-MM-DDTHH:MM:SS…");
// 0 when it cannot be read.
long long utc_epoch_seconds(std::string_view rfc3339);
// A date ("2026-12-04": its first second, or its last when `end_of_day`) or an RFC 3339 UTC time
// ending in Z, as seconds since the epoch (key validity windows); false when unreadable.
bool utc_date_or_time_seconds(std::string_view text, bool end_of_day, long long& seconds);

}  // namespace kg

// What validation, JSON and the rotation arithmetic of on-call schedules (oncall*.cpp) share.
#pragma once

#include <array>
#include <cstdint>
#include <date/date.h>
#include <optional>
#include <string_view>

namespace netpulse::notify::detail {

// Weekday names as on-call JSON writes them, Sunday = 0 (date::weekday's C encoding).
inline constexpr std::array<std::string_view, 7> kWeekdayNames = {"sun", "mon", "tue", "wed",
                                                                  "thu", "fri", "sat"};

// The last instant NetPulse schedules, 3000-01-01T00:00:00Z, in milliseconds.
inline constexpr std::int64_t kMaxScheduleMs = std::int64_t{32'503'680'000} * 1'000;

// "HH:MM" (exactly five characters, 00:00 .. 23:59) as minutes after midnight.
std::optional<int> parse_wall_time(std::string_view text) noexcept;

// "YYYY-MM-DD" (exactly ten characters, a real date in 2000 .. 2999) as a local day.
std::optional<date::local_days> parse_local_date(std::string_view text) noexcept;

}  // namespace netpulse::notify::detail

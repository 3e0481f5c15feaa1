// A five-field cron expression ("minute hour day-of-month month day-of-week"), parsed into one
// bitset per field: the schedule of a maintenance window with recurrence "cron". Weekly and
// monthly windows are compiled into the same form, so one search (maintenance_schedule.cpp)
// evaluates all three. Pure: no time zone, no clock.
#pragma once

#include <bitset>
#include <cstddef>
#include <string_view>

#include <netpulse/core/result.hpp>

namespace netpulse::alerts::detail {

// The longest expression parse_cron reads.
inline constexpr std::size_t kMaxCronBytes = 256;

struct CronSpec {
  std::bitset<60> minutes;        // bit m: minute m
  std::bitset<24> hours;          // bit h: hour h
  std::bitset<31> days_of_month;  // bit d-1: day d
  std::bitset<12> months;         // bit m-1: month m (January = 1)
  std::bitset<7> days_of_week;    // bit w: weekday w, Sunday = 0
  // Vixie cron's rule for the two day fields: when both are restricted (neither starts with
  // '*'), a day matches if EITHER matches; otherwise both must (and the '*' one always does).
  bool day_of_month_star = true;
  bool day_of_week_star = true;

  // Whether the day month/day (1-based) with the given weekday (Sunday = 0) is a day of the
  // schedule.
  bool matches_day(unsigned month, unsigned day, unsigned weekday) const noexcept;

  friend bool operator==(const CronSpec&, const CronSpec&) = default;
};

// Parses "min hour dom mon dow", fields separated by spaces or tabs. Each field is a
// comma-separated list of `*`, `N`, `A-B`, `*/S` or `A-B/S`; months take jan..dec and days of
// week sun..sat (any case) as well as numbers, and 7 is Sunday too. Refusals are kInvalidInput
// naming the field: "cron" (empty, over 256 bytes, not five fields) or "cron.minute",
// "cron.hour", "cron.day_of_month", "cron.month", "cron.day_of_week" with the reason, e.g.
// "cron.hour: 25 is out of 0..23". Whether the schedule can ever match is not checked here
// (cron_can_match).
core::Result<CronSpec> parse_cron(std::string_view text);

// Whether some date matches the spec's day fields; false for "0 0 31 2 *" (no February has a
// 31st). February 29 counts (leap years exist). Every combination of month, day and weekday that
// exists at all recurs within 28 years: a search for the next match need not look further.
bool cron_can_match(const CronSpec& spec) noexcept;

}  // namespace netpulse::alerts::detail

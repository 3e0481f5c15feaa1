// Maintenance windows (maintenance.hpp): names, validation as a window is saved, and which
// subjects a window's scope covers. When a window is active is maintenance_schedule.cpp; JSON is
// maintenance_json.cpp.
#include "detail/maintenance.hpp"

#include <algorithm>
#include <array>
#include <date/tz.h>
#include <exception>
#include <string>
#include <utility>

#include <fmt/format.h>

#include <netpulse/alerts/maintenance.hpp>

#include "detail/cron.hpp"
#include "detail/schedule_limits.hpp"

namespace netpulse::alerts {
namespace {

constexpr std::int64_t kMinDurationS = 60;
constexpr std::int64_t kMaxDurationS = std::int64_t{31} * 86'400;
constexpr std::size_t kMaxTimeZoneBytes = 64;
constexpr std::size_t kMaxNameBytes = 200;

constexpr std::array<std::pair<Recurrence, std::string_view>, 4> kRecurrences = {
    {{Recurrence::kOnce, "once"},
     {Recurrence::kWeekly, "weekly"},
     {Recurrence::kMonthly, "monthly"},
     {Recurrence::kCron, "cron"}}};

core::Result<void> check_ids(const std::vector<std::int64_t>& ids, std::string_view field) {
  if (ids.size() > detail::kMaxScopeItems)
    return core::invalid_field(field, fmt::format("at most {} ids", detail::kMaxScopeItems));
  for (auto id : ids) {
    if (id <= 0) return core::invalid_field(field, "ids are positive integers");
  }
  return core::ok();
}

core::Result<void> check_scope(const MaintenanceWindow& w) {
  if (auto r = check_ids(w.device_ids, "scope.device_ids"); !r) return r;
  if (auto r = check_ids(w.group_ids, "scope.group_ids"); !r) return r;
  if (w.tags.size() > detail::kMaxScopeItems)
    return core::invalid_field("scope.tags",
                               fmt::format("at most {} tags", detail::kMaxScopeItems));
  for (const auto& t : w.tags) {
    if (t.empty() || t.size() > detail::kMaxTagBytes)
      return core::invalid_field("scope.tags", "a tag is 1..128 bytes");
  }
  const bool listed = !w.device_ids.empty() || !w.group_ids.empty() || !w.tags.empty();
  if (w.all_devices && listed)
    return core::invalid_field("scope.all_devices",
                               "all_devices takes no device_ids, group_ids or tags");
  if (!w.all_devices && !listed)
    return core::invalid_field("scope",
                               "an empty scope: list device_ids, group_ids or tags, or set "
                               "\"all_devices\": true for every device of the organization");
  return core::ok();
}

// The fields of one recurrence: required for it, refused for the others.
core::Result<void> check_recurrence(const MaintenanceWindow& w) {
  const bool at_time = w.recurrence == Recurrence::kWeekly || w.recurrence == Recurrence::kMonthly;
  const std::string_view kind = recurrence_name(w.recurrence);
  if (at_time && !detail::parse_local_time(w.start_time))
    return core::invalid_field("start_time", "required: local time \"HH:MM\", 00:00 .. 23:59");
  if (!at_time && !w.start_time.empty())
    return core::invalid_field("start_time", fmt::format("a {} window takes no start_time", kind));
  if ((w.recurrence == Recurrence::kWeekly) == w.weekdays.empty())
    return core::invalid_field("weekdays", w.weekdays.empty()
                                               ? "required: the days of the week, 0..6 or sun..sat"
                                               : "only a weekly window takes weekdays");
  if (w.weekdays.size() > 7) return core::invalid_field("weekdays", "at most 7 days");
  for (int d : w.weekdays) {
    if (d < 0 || d > 6) return core::invalid_field("weekdays", "0..6 (Sunday = 0) or sun..sat");
  }
  if ((w.recurrence == Recurrence::kMonthly) == w.month_days.empty())
    return core::invalid_field("month_days", w.month_days.empty()
                                                 ? "required: the days of the month, 1..31"
                                                 : "only a monthly window takes month_days");
  if (w.month_days.size() > 31) return core::invalid_field("month_days", "at most 31 days");
  for (int d : w.month_days) {
    if (d < 1 || d > 31) return core::invalid_field("month_days", "1..31");
  }
  if (w.recurrence == Recurrence::kCron) {
    if (w.cron.empty())
      return core::invalid_field("cron", "required: \"minute hour day-of-month month weekday\"");
    auto spec = detail::parse_cron(w.cron);
    if (!spec) return std::move(spec).error();
    if (!detail::cron_can_match(*spec))
      return core::invalid_field("cron",
                                 "never matches: no month listed has a day of month listed");
  } else if (!w.cron.empty()) {
    return core::invalid_field("cron", fmt::format("a {} window takes no cron", kind));
  }
  if (w.ends_at) {
    if (w.recurrence == Recurrence::kOnce)
      return core::invalid_field("ends_at", "a one-off window ends after duration_s");
    if (*w.ends_at <= w.starts_at || *w.ends_at > detail::kMaxScheduleTime)
      return core::invalid_field("ends_at", "after starts_at, at most year 3000");
  }
  return core::ok();
}

}  // namespace

std::string_view recurrence_name(Recurrence r) noexcept {
  for (const auto& [rec, name] : kRecurrences) {
    if (rec == r) return name;
  }
  return "once";
}

std::optional<Recurrence> parse_recurrence(std::string_view name) noexcept {
  for (const auto& [rec, n] : kRecurrences) {
    if (n == name) return rec;
  }
  return std::nullopt;
}

namespace detail {

std::optional<int> parse_local_time(std::string_view t) noexcept {
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  if (t.size() != 5 || t[2] != ':' || !digit(t[0]) || !digit(t[1]) || !digit(t[3]) || !digit(t[4]))
    return std::nullopt;
  const int hours = (t[0] - '0') * 10 + (t[1] - '0');
  const int minutes = (t[3] - '0') * 10 + (t[4] - '0');
  if (hours > 23 || minutes > 59) return std::nullopt;
  return hours * 60 + minutes;
}

}  // namespace detail

bool is_time_zone(std::string_view name) noexcept {
  if (name.empty() || name.size() > kMaxTimeZoneBytes) return false;
  try {
    return date::locate_zone(name) != nullptr;
  } catch (const std::exception&) {
    // locate_zone throws std::runtime_error for an unknown name (and when the tzdata cannot be
    // read at all).
    return false;
  }
}

core::Result<void> validate_maintenance(const MaintenanceWindow& w) {
  if (w.name.empty() || w.name.size() > kMaxNameBytes)
    return core::invalid_field("name", "1..200 bytes");
  if (!is_time_zone(w.time_zone))
    return core::invalid_field(
        "time_zone", fmt::format("\"{}\" is not an IANA time zone such as \"Europe/Berlin\"",
                                 w.time_zone.substr(0, kMaxTimeZoneBytes)));
  if (w.starts_at < 0 || w.starts_at > detail::kMaxScheduleTime)
    return core::invalid_field("starts_at", "Unix seconds, 0 .. year 3000");
  if (w.duration_s < kMinDurationS || w.duration_s > kMaxDurationS)
    return core::invalid_field("duration_s", "60 s .. 31 days");
  if (auto r = check_recurrence(w); !r) return r;
  if (auto r = check_scope(w); !r) return r;
  if (w.comment.size() > detail::kMaxTextBytes)
    return core::invalid_field("comment", "at most 1000 bytes");
  return core::ok();
}

bool covers(const MaintenanceWindow& w, const AlertSubject& subject) {
  if (w.all_devices) return true;
  if (!subject.device_id) return false;
  if (std::find(w.device_ids.begin(), w.device_ids.end(), *subject.device_id) != w.device_ids.end())
    return true;
  for (auto g : subject.device_groups) {
    if (std::find(w.group_ids.begin(), w.group_ids.end(), g) != w.group_ids.end()) return true;
  }
  for (const auto& t : subject.device_tags) {
    if (std::find(w.tags.begin(), w.tags.end(), t) != w.tags.end()) return true;
  }
  return false;
}

}  // namespace netpulse::alerts

// When a maintenance window is active (maintenance.hpp): active_occurrence and next_occurrence.
//
// Every recurring window is compiled into a cron spec (weekly "02:00 on sun" is "0 2 * * 0",
// monthly "02:00 on the 1st and 15th" is "0 2 1,15 * *"), whose candidate starts are local
// times: a local day the spec's day fields accept, at each hour and minute it lists. A local time
// becomes an instant through the window's time zone with date::choose::earliest: a time that
// happens twice (fall back) starts at its first occurrence, and a time that does not exist
// (spring forward) starts at the first instant after the gap (which is what date returns for a
// nonexistent time). That mapping never decreases as local time increases, so the candidates
// are walked in local order and the first that passes the instant bound is the answer; only
// the candidates within a DST shift of the bound are converted, the rest are skipped by
// comparing local times.
//
// The walks are bounded: a search back covers the local days an occurrence of at most 31 days
// can have started on; a search forward covers 28 years of days, within which every day pattern
// a cron spec can name recurs.
#include <algorithm>
#include <chrono>
#include <date/date.h>
#include <date/tz.h>
#include <exception>

#include <netpulse/alerts/maintenance.hpp>

#include "detail/cron.hpp"
#include "detail/maintenance.hpp"
#include "detail/schedule_limits.hpp"

namespace netpulse::alerts {
namespace {

using std::chrono::seconds;
using LocalSeconds = date::local_seconds;
using SysSeconds = date::sys_seconds;

constexpr int kForwardDays = 28 * 366 + 2;

const date::time_zone* find_zone(const std::string& name) {
  try {
    return date::locate_zone(name);
  } catch (const std::exception&) {
    return nullptr;  // an invalid window has no occurrences
  }
}

// The window's schedule as a cron spec, or nothing for kOnce or an invalid window.
std::optional<detail::CronSpec> compile_schedule(const MaintenanceWindow& w) {
  detail::CronSpec spec;
  switch (w.recurrence) {
    case Recurrence::kOnce:
      return std::nullopt;
    case Recurrence::kCron: {
      auto parsed = detail::parse_cron(w.cron);
      if (!parsed || !detail::cron_can_match(*parsed)) return std::nullopt;
      return *parsed;
    }
    case Recurrence::kWeekly:
    case Recurrence::kMonthly:
      break;
  }
  const auto minute_of_day = detail::parse_local_time(w.start_time);
  if (!minute_of_day) return std::nullopt;
  spec.hours.set(static_cast<std::size_t>(*minute_of_day / 60));
  spec.minutes.set(static_cast<std::size_t>(*minute_of_day % 60));
  spec.months.set();
  if (w.recurrence == Recurrence::kWeekly) {
    spec.days_of_month.set();
    spec.day_of_week_star = false;
    for (int d : w.weekdays) {
      if (d < 0 || d > 6) return std::nullopt;
      spec.days_of_week.set(static_cast<std::size_t>(d));
    }
  } else {
    spec.days_of_week.set();
    spec.day_of_month_star = false;
    for (int d : w.month_days) {
      if (d < 1 || d > 31) return std::nullopt;
      spec.days_of_month.set(static_cast<std::size_t>(d - 1));
    }
  }
  if (spec.days_of_week.none() || spec.days_of_month.none()) return std::nullopt;
  return spec;
}

bool day_matches(const detail::CronSpec& spec, date::local_days day) {
  const date::year_month_day ymd{day};
  return spec.matches_day(static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                          date::weekday{day}.c_encoding());
}

// How far past an instant's local time a local time can lie and still map to an instant at or
// before it: the length of the repeated hour when the instant is in a period that began with a
// fall-back transition, otherwise 0.
seconds repeat_margin(const date::time_zone& zone, SysSeconds t) {
  const auto info = zone.get_info(t);
  const auto before = zone.get_info(info.begin - seconds{1});
  return std::max(seconds{0}, before.offset - info.offset);
}

// A self-contained search over one window's candidates.
class Search {
 public:
  Search(const date::time_zone& zone, const detail::CronSpec& spec) : zone_(zone), spec_(spec) {}

  // The latest candidate start at or before `bound`, looking no earlier than `lowest`.
  std::optional<std::int64_t> latest_at_or_before(std::int64_t bound, std::int64_t lowest) const {
    const SysSeconds b{seconds{bound}};
    const LocalSeconds top = zone_.to_local(b) + repeat_margin(zone_, b);
    const auto last_day = date::floor<date::days>(top);
    // One day of slack below: a start in a spring-forward gap maps onto the gap's end.
    const auto first_day =
        date::floor<date::days>(zone_.to_local(SysSeconds{seconds{lowest}})) - date::days{1};
    for (auto day = last_day; day >= first_day; day -= date::days{1}) {
      if (!day_matches(spec_, day)) continue;
      for (int h = 23; h >= 0; --h) {
        if (!spec_.hours.test(static_cast<std::size_t>(h))) continue;
        for (int m = 59; m >= 0; --m) {
          if (!spec_.minutes.test(static_cast<std::size_t>(m))) continue;
          const LocalSeconds local =
              LocalSeconds{day} + std::chrono::hours{h} + std::chrono::minutes{m};
          if (local > top) continue;
          const auto start = zone_.to_sys(local, date::choose::earliest);
          if (start <= b) return start.time_since_epoch().count();
        }
      }
    }
    return std::nullopt;
  }

  // The earliest candidate start strictly after `after`, within kForwardDays local days.
  std::optional<std::int64_t> earliest_after(std::int64_t after) const {
    const SysSeconds a{seconds{after}};
    const LocalSeconds floor_local = zone_.to_local(a);
    const auto first_day = date::floor<date::days>(floor_local);
    for (auto day = first_day; day < first_day + date::days{kForwardDays}; day += date::days{1}) {
      if (!day_matches(spec_, day)) continue;
      for (int h = 0; h < 24; ++h) {
        if (!spec_.hours.test(static_cast<std::size_t>(h))) continue;
        for (int m = 0; m < 60; ++m) {
          if (!spec_.minutes.test(static_cast<std::size_t>(m))) continue;
          const LocalSeconds local =
              LocalSeconds{day} + std::chrono::hours{h} + std::chrono::minutes{m};
          // At or before the instant's own local time, a start maps at or before it.
          if (local <= floor_local) continue;
          const auto start = zone_.to_sys(local, date::choose::earliest);
          if (start > a) return start.time_since_epoch().count();
        }
      }
    }
    return std::nullopt;
  }

 private:
  const date::time_zone& zone_;
  const detail::CronSpec& spec_;
};

// The last instant a recurring window's occurrence may start at.
std::int64_t last_start(const MaintenanceWindow& w) {
  return std::min(w.ends_at.value_or(detail::kMaxScheduleTime), detail::kMaxScheduleTime);
}

}  // namespace

std::optional<Occurrence> active_occurrence(const MaintenanceWindow& w, std::int64_t unix_s) {
  if (unix_s < w.starts_at || w.duration_s <= 0) return std::nullopt;
  if (w.recurrence == Recurrence::kOnce) {
    if (unix_s - w.starts_at >= w.duration_s) return std::nullopt;
    return Occurrence{w.starts_at, w.starts_at + w.duration_s};
  }
  // A start in [lowest, bound] contains unix_s.
  const std::int64_t lowest = std::max(w.starts_at, unix_s - w.duration_s + 1);
  const std::int64_t bound = std::min(unix_s, last_start(w));
  if (lowest > bound) return std::nullopt;
  const auto* zone = find_zone(w.time_zone);
  const auto spec = compile_schedule(w);
  if (zone == nullptr || !spec) return std::nullopt;
  try {
    const auto start = Search(*zone, *spec).latest_at_or_before(bound, lowest);
    if (!start || *start < lowest) return std::nullopt;
    return Occurrence{*start, *start + w.duration_s};
  } catch (const std::exception&) {
    return std::nullopt;  // a zone whose data cannot be read: no occurrences, as for a bad name
  }
}

std::optional<Occurrence> next_occurrence(const MaintenanceWindow& w, std::int64_t after_unix_s) {
  if (w.duration_s <= 0) return std::nullopt;
  if (w.recurrence == Recurrence::kOnce) {
    if (w.starts_at <= after_unix_s) return std::nullopt;
    return Occurrence{w.starts_at, w.starts_at + w.duration_s};
  }
  const std::int64_t after = std::max(after_unix_s, w.starts_at - 1);
  if (after >= last_start(w)) return std::nullopt;
  const auto* zone = find_zone(w.time_zone);
  const auto spec = compile_schedule(w);
  if (zone == nullptr || !spec) return std::nullopt;
  try {
    const auto start = Search(*zone, *spec).earliest_after(after);
    if (!start || *start > last_start(w)) return std::nullopt;
    return Occurrence{*start, *start + w.duration_s};
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

}  // namespace netpulse::alerts

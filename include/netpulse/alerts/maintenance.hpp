// Maintenance windows: planned work during which a set of devices (by id, group or tag, or all
// the organization's devices) raises alerts that are recorded and shown as silenced but not
// notified, and does not count as down for availability. A window happens once or recurs —
// weekly or monthly at a local time, or by a cron expression — in the organization's IANA time
// zone, DST-correct (the system tzdata, read by Howard Hinnant's date library).
//
// Everything here is pure: no I/O, no clock; times are Unix seconds passed in. The JSON shape
// (the body of /api/v1/maintenance-windows) and the DST rules are in docs/alerts.md,
// "Silences and maintenance windows".
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <netpulse/alerts/silence.hpp>
#include <netpulse/core/result.hpp>

namespace netpulse::alerts {

enum class Recurrence : std::uint8_t {
  kOnce,     // one occurrence: [starts_at, starts_at + duration_s)
  kWeekly,   // at start_time on each of weekdays
  kMonthly,  // at start_time on each of month_days (a day a month lacks is skipped that month)
  kCron,     // at each minute the cron expression names
};
std::string_view recurrence_name(Recurrence r) noexcept;  // "once", "weekly", "monthly", "cron"
std::optional<Recurrence> parse_recurrence(std::string_view name) noexcept;

struct MaintenanceWindow {
  std::int64_t id = 0;            // set by the store; 0 before
  std::int64_t org_id = 0;        // set by the API from the caller's organization
  std::string name;               // 1..200 bytes
  std::string time_zone = "UTC";  // an IANA name ("Europe/Berlin"), at most 64 bytes
  Recurrence recurrence = Recurrence::kOnce;
  // kOnce: the start. Recurring: no occurrence starts before it (the schedule applies from
  // then). Unix seconds, 0 .. 32,503,680,000 (year 3000).
  std::int64_t starts_at = 0;
  // Recurring only: no occurrence starts after it (occurrences that started may run past it).
  // After starts_at. Unset: the schedule runs on.
  std::optional<std::int64_t> ends_at;
  std::string start_time;                // kWeekly, kMonthly: local "HH:MM", 00:00 .. 23:59
  std::vector<int> weekdays;             // kWeekly: 0..6, Sunday = 0
  std::vector<int> month_days;           // kMonthly: 1..31
  std::string cron;                      // kCron: "min hour dom mon dow", local time
  std::int64_t duration_s = 0;           // elapsed seconds: 60 .. 31 days
  std::vector<std::int64_t> device_ids;  // scope: each at most 1,000 items
  std::vector<std::int64_t> group_ids;
  std::vector<std::string> tags;
  // Every device of the organization. An empty scope is refused: an organization-wide window
  // must say so.
  bool all_devices = false;
  std::string comment;          // at most 1,000 bytes
  std::int64_t created_by = 0;  // the user's id; set by the API
  std::int64_t created_at = 0;  // Unix seconds; set by the API

  friend bool operator==(const MaintenanceWindow&, const MaintenanceWindow&) = default;
};

// One occurrence of a window: [starts_at, ends_at) in Unix seconds.
struct Occurrence {
  std::int64_t starts_at = 0;
  std::int64_t ends_at = 0;

  friend bool operator==(const Occurrence&, const Occurrence&) = default;
};

// Whether `name` is a time zone of the system's tzdata ("Europe/Berlin", "UTC").
bool is_time_zone(std::string_view name) noexcept;

// Checks a window as it is saved: kInvalidInput with details.field naming the first offending
// field ("name", "time_zone", "duration_s", "start_time", "weekdays", "month_days", "cron",
// "cron.hour", "ends_at", "scope", "scope.device_ids", "comment", ...). A recurrence's fields are
// required for it and refused for the others; a cron expression that can never match
// ("0 0 31 2 *") is refused ("cron: never matches ...").
core::Result<void> validate_maintenance(const MaintenanceWindow& window);

// The occurrence containing `unix_s` ([start, end)), if any. When occurrences overlap (a cron
// firing more often than the window lasts) the one that started last, which also ends last.
// Expects a window that passed validate_maintenance; an invalid one has no occurrences.
// Evaluates at most ~33 local days around the instant.
std::optional<Occurrence> active_occurrence(const MaintenanceWindow& window, std::int64_t unix_s);

// The first occurrence that starts strictly after `after_unix_s` (the engine sets its timer to
// it), or none: a one-off window already started, ends_at passed, or past the year 3000.
// Searches at most 28 years of local days ahead (where every cron schedule recurs).
std::optional<Occurrence> next_occurrence(const MaintenanceWindow& window,
                                          std::int64_t after_unix_s);

// Whether the window's scope takes in the alert's subject: all_devices covers every subject
// (with or without a device); otherwise a subject with a device is covered when the device is in
// device_ids, OR in one of group_ids, OR has one of tags. Time is not considered
// (active_occurrence).
bool covers(const MaintenanceWindow& window, const AlertSubject& subject);

// Reads a window (without id, org_id, created_by and created_at, which the server sets; they are
// accepted and ignored so a GET's answer can be PUT back) and validates it. kInvalidInput naming
// the field: a missing required field, a wrong type, an unknown field, then whatever
// validate_maintenance refuses. weekdays take numbers 0..6 or names "sun".."sat"; weekdays and
// month_days are stored sorted without repeats.
core::Result<MaintenanceWindow> maintenance_from_json(const boost::json::value& body);

// The window as maintenance_from_json reads it, plus id, created_by and created_at when set;
// weekdays as names. maintenance_from_json(maintenance_to_json(w)) == w for every window it
// returned, the server-set fields aside.
boost::json::object maintenance_to_json(const MaintenanceWindow& window);

}  // namespace netpulse::alerts

// On-call schedules: who is paged for a policy's `schedule_id` target at a given instant. A
// schedule is a rotation — an ordered list of users, each on call for `length_days` from a
// handover at a local wall time in the schedule's IANA time zone — plus overrides ("Ana covers
// Ben on Saturday") that win over the rotation while they last.
//
// Handovers follow the wall clock, DST-correct (the system tzdata, read by Howard Hinnant's date
// library): a handover at 02:30 on a spring-forward day, when 02:30 does not exist, happens at the
// first valid instant after the gap (03:00 new time); one at 01:30 on a fall-back day, when 01:30
// happens twice, happens at the first occurrence. So a weekly shift that spans a DST change lasts
// 167 or 169 hours, not 168.
//
// Pure: no I/O, no clock; times are Unix milliseconds passed in. The JSON shape and a worked DST
// example are in docs/notify-routing.md, "On-call schedules".
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <netpulse/core/result.hpp>

namespace netpulse::notify {

struct OncallRotation {
  std::vector<std::int64_t> users;  // user ids in rotation order, 1..100 (a user may recur)
  // The handover's local wall time, "HH:MM" (00:00 .. 23:59).
  std::string handover_time = "09:00";
  // The handover's weekday, 0..6 with Sunday = 0 ("sun".."sat" in JSON), or none. When given,
  // `start` must fall on it and length_days must be a multiple of 7 (so every handover does).
  std::optional<int> handover_weekday;
  int length_days = 7;  // how long each user is on call: 1..28 (7 = weekly)
  // The local date ("YYYY-MM-DD", 2000-01-01 .. 2999-12-31) of the first handover: users[0] is on
  // call from handover_time that day. Before it nobody is on call by rotation.
  std::string start;

  friend bool operator==(const OncallRotation&, const OncallRotation&) = default;
};

// A user on call instead of the rotation in [start_ms, end_ms).
struct OncallOverride {
  std::int64_t user_id = 0;
  std::int64_t start_ms = 0;  // 0 .. year 3000
  std::int64_t end_ms = 0;    // after start_ms, at most 366 days later
  std::string reason;         // at most 1,000 bytes; may be empty

  friend bool operator==(const OncallOverride&, const OncallOverride&) = default;
};

struct OncallSchedule {
  std::int64_t id = 0;            // set by the store; 0 before
  std::int64_t org_id = 0;        // set by the API from the caller's organization
  std::string name;               // 1..200 bytes
  std::string time_zone = "UTC";  // an IANA name, at most 64 bytes
  OncallRotation rotation;
  // In the order they were created: where several cover an instant the last one wins. At most
  // 500.
  std::vector<OncallOverride> overrides;

  friend bool operator==(const OncallSchedule&, const OncallSchedule&) = default;
};

// One stretch of time with one user on call.
struct OncallShift {
  std::int64_t user_id = 0;
  std::int64_t start_ms = 0;
  std::int64_t end_ms = 0;  // exclusive
  // The override that puts the user on call (an index into OncallSchedule::overrides), or none
  // for the rotation.
  std::optional<std::size_t> override_index;

  friend bool operator==(const OncallShift&, const OncallShift&) = default;
};

inline constexpr std::size_t kMaxOncallUsers = 100;
inline constexpr std::size_t kMaxOncallOverrides = 500;
inline constexpr std::int64_t kMaxOverrideMs = std::int64_t{366} * 86'400'000;
// The most shifts shifts() returns (a daily rotation over a year is 366).
inline constexpr std::size_t kMaxShifts = 1'000;

// Checks a schedule as it is saved: kInvalidInput with details.field naming the first offending
// field ("name", "time_zone", "rotation.users", "rotation.handover.time",
// "rotation.handover.weekday", "rotation.length_days", "rotation.start", "overrides[3].end_ms",
// ...).
core::Result<void> validate_oncall(const OncallSchedule& schedule);

// Reads a schedule (id and org_id are server-set: accepted and ignored) and validates it. The
// body: {"name", "time_zone", "rotation": {"users": [ids], "handover": {"weekday": "mon",
// "time": "09:00"}, "length_days": 7, "start": "2026-03-02"}, "overrides": [{"user_id",
// "start_ms", "end_ms", "reason"}]}. rotation.handover, its weekday, length_days (default 7),
// time_zone (default "UTC") and overrides may be left out. Unknown fields are refused.
core::Result<OncallSchedule> oncall_from_json(const boost::json::value& body);

// The schedule as oncall_from_json reads it (plus id when set; weekday as "mon".."sun").
// oncall_from_json(to_json(s)) == s for every schedule it returned, id and org_id aside.
boost::json::object to_json(const OncallSchedule& schedule);

// The user on call at `at_ms`: the last-created override covering it, otherwise the rotation's
// user since the last handover at or before it; none before the rotation's first handover (and
// for a schedule that fails validate_oncall).
std::optional<std::int64_t> on_call_at(const OncallSchedule& schedule, std::int64_t at_ms);

// Who is on call when in [from_ms, to_ms), in time order, overrides spliced into the rotation:
// consecutive stretches of one user from one source (the rotation, or one override) are one
// shift, clipped to the range. Stretches where nobody is on call are left out. At most
// `max_shifts` (itself at most kMaxShifts): the first ones. Empty when to_ms <= from_ms.
std::vector<OncallShift> shifts(const OncallSchedule& schedule, std::int64_t from_ms,
                                std::int64_t to_ms, std::size_t max_shifts = kMaxShifts);

// The instant of the rotation's next handover strictly after `after_ms` (the engine's timer for
// "you are now on call" messages), or none.
std::optional<std::int64_t> next_handover(const OncallSchedule& schedule, std::int64_t after_ms);

}  // namespace netpulse::notify

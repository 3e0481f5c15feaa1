// On-call schedules (oncall.hpp): validation as a schedule is saved, and its JSON form (the body
// of /api/v1/oncall-schedules). Every field is read with its type checked and its path in the
// error; unknown fields are refused. Who is on call when is oncall_rotation.cpp.
#include "detail/oncall.hpp"

#include <date/date.h>
#include <utility>

#include <fmt/format.h>

#include <netpulse/alerts/maintenance.hpp>
#include <netpulse/notify/oncall.hpp>

#include "detail/json_read.hpp"

namespace netpulse::notify {
namespace {

using boost::json::array;
using boost::json::object;
using boost::json::value;

constexpr std::size_t kMaxNameBytes = 200;
constexpr std::size_t kMaxTimeZoneBytes = 64;
constexpr std::size_t kMaxReasonBytes = 1'000;
constexpr int kMaxLengthDays = 28;

bool digits(std::string_view text) {
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

int number(std::string_view text) {
  int n = 0;
  for (char c : text) n = n * 10 + (c - '0');
  return n;
}

std::optional<int> weekday_number(std::string_view name) {
  if (name.size() != 3) return std::nullopt;
  std::string folded(name);
  for (char& c : folded) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  for (std::size_t i = 0; i < detail::kWeekdayNames.size(); ++i) {
    if (folded == detail::kWeekdayNames[i]) return static_cast<int>(i);
  }
  return std::nullopt;
}

core::Result<void> check_rotation(const OncallRotation& r) {
  if (r.users.empty() || r.users.size() > kMaxOncallUsers)
    return core::invalid_field("rotation.users",
                               fmt::format("1..{} user ids, in rotation order", kMaxOncallUsers));
  for (auto id : r.users) {
    if (id <= 0) return core::invalid_field("rotation.users", "user ids are positive integers");
  }
  if (!detail::parse_wall_time(r.handover_time))
    return core::invalid_field("rotation.handover.time", "local time \"HH:MM\", 00:00 .. 23:59");
  if (r.length_days < 1 || r.length_days > kMaxLengthDays)
    return core::invalid_field("rotation.length_days",
                               fmt::format("1..{} days (7 = weekly)", kMaxLengthDays));
  if (r.handover_weekday && (*r.handover_weekday < 0 || *r.handover_weekday > 6))
    return core::invalid_field("rotation.handover.weekday", "mon, tue, wed, thu, fri, sat or sun");
  if (r.handover_weekday && r.length_days % 7 != 0)
    return core::invalid_field("rotation.length_days",
                               "with a handover weekday, a multiple of 7 (7, 14, 21 or 28)");
  const auto start = detail::parse_local_date(r.start);
  if (!start)
    return core::invalid_field("rotation.start",
                               "required: the first handover's local date \"YYYY-MM-DD\", "
                               "2000-01-01 .. 2999-12-31");
  if (r.handover_weekday) {
    const auto day = date::weekday{*start}.c_encoding();
    if (static_cast<int>(day) != *r.handover_weekday)
      return core::invalid_field(
          "rotation.start",
          fmt::format("{} is a {}, not the handover weekday ({})", r.start,
                      detail::kWeekdayNames[day],
                      detail::kWeekdayNames[static_cast<std::size_t>(*r.handover_weekday)]));
  }
  return core::ok();
}

core::Result<void> check_override(const OncallOverride& o, std::size_t i) {
  const std::string field = fmt::format("overrides[{}]", i);
  if (o.user_id <= 0) return core::invalid_field(field + ".user_id", "a positive user id");
  if (o.start_ms < 0 || o.start_ms > detail::kMaxScheduleMs)
    return core::invalid_field(field + ".start_ms", "Unix milliseconds, 0 .. year 3000");
  if (o.end_ms <= o.start_ms)
    return core::invalid_field(field + ".end_ms", "must be after start_ms");
  if (o.end_ms - o.start_ms > kMaxOverrideMs)
    return core::invalid_field(field + ".end_ms", "an override lasts at most 366 days");
  if (o.reason.size() > kMaxReasonBytes)
    return core::invalid_field(field + ".reason", fmt::format("at most {} bytes", kMaxReasonBytes));
  return core::ok();
}

core::Result<OncallRotation> read_rotation(const object& o) {
  const detail::ObjectReader in(o, "rotation");
  if (auto r = in.refuse_unknown({"users", "handover", "length_days", "start"}, "a rotation"); !r)
    return std::move(r).error();
  OncallRotation rotation;
  auto users = in.integers("users", kMaxOncallUsers * 2);
  if (!users) return std::move(users).error();
  rotation.users = std::move(*users);
  auto handover = in.object("handover");
  if (!handover) return std::move(handover).error();
  if (*handover != nullptr) {
    const detail::ObjectReader h(**handover, "rotation.handover");
    if (auto r = h.refuse_unknown({"weekday", "time"}, "a handover"); !r)
      return std::move(r).error();
    auto weekday = h.text("weekday");
    if (!weekday) return std::move(weekday).error();
    if (*weekday) {
      rotation.handover_weekday = weekday_number(**weekday);
      if (!rotation.handover_weekday)
        return core::invalid_field("rotation.handover.weekday",
                                   "mon, tue, wed, thu, fri, sat or sun");
    }
    auto time = h.text("time");
    if (!time) return std::move(time).error();
    if (*time) rotation.handover_time = std::move(**time);
  }
  auto length = in.integer("length_days");
  if (!length) return std::move(length).error();
  if (*length) {
    if (**length < 1 || **length > kMaxLengthDays)
      return core::invalid_field("rotation.length_days",
                                 fmt::format("1..{} days (7 = weekly)", kMaxLengthDays));
    rotation.length_days = static_cast<int>(**length);
  }
  auto start = in.text("start");
  if (!start) return std::move(start).error();
  if (*start) rotation.start = std::move(**start);
  return rotation;
}

core::Result<std::vector<OncallOverride>> read_overrides(const detail::ObjectReader& in) {
  std::vector<OncallOverride> out;
  auto items = in.array("overrides", kMaxOncallOverrides);
  if (!items) return std::move(items).error();
  if (*items == nullptr) return out;
  for (std::size_t i = 0; i < (*items)->size(); ++i) {
    const std::string path = fmt::format("overrides[{}]", i);
    const auto& item = (**items)[i];
    if (!item.is_object()) return core::invalid_field(path, "must be an object");
    const detail::ObjectReader ov(item.get_object(), path);
    if (auto r = ov.refuse_unknown({"user_id", "start_ms", "end_ms", "reason"}, "an override"); !r)
      return std::move(r).error();
    OncallOverride entry;
    for (auto [name, target] :
         {std::pair{"user_id", &entry.user_id}, std::pair{"start_ms", &entry.start_ms},
          std::pair{"end_ms", &entry.end_ms}}) {
      auto n = ov.integer(name);
      if (!n) return std::move(n).error();
      if (!*n) return core::invalid_field(ov.path_of(name), "required");
      *target = **n;
    }
    auto reason = ov.text("reason");
    if (!reason) return std::move(reason).error();
    if (*reason) entry.reason = std::move(**reason);
    out.push_back(std::move(entry));
  }
  return out;
}

}  // namespace

namespace detail {

std::optional<int> parse_wall_time(std::string_view text) noexcept {
  if (text.size() != 5 || text[2] != ':') return std::nullopt;
  if (!digits(text.substr(0, 2)) || !digits(text.substr(3, 2))) return std::nullopt;
  const int hours = number(text.substr(0, 2));
  const int minutes = number(text.substr(3, 2));
  if (hours > 23 || minutes > 59) return std::nullopt;
  return hours * 60 + minutes;
}

std::optional<date::local_days> parse_local_date(std::string_view text) noexcept {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  if (!digits(text.substr(0, 4)) || !digits(text.substr(5, 2)) || !digits(text.substr(8, 2)))
    return std::nullopt;
  const int y = number(text.substr(0, 4));
  if (y < 2000 || y > 2999) return std::nullopt;
  const date::year_month_day ymd{date::year{y},
                                 date::month{static_cast<unsigned>(number(text.substr(5, 2)))},
                                 date::day{static_cast<unsigned>(number(text.substr(8, 2)))}};
  if (!ymd.ok()) return std::nullopt;
  return date::local_days{ymd};
}

}  // namespace detail

core::Result<void> validate_oncall(const OncallSchedule& s) {
  if (s.name.empty() || s.name.size() > kMaxNameBytes)
    return core::invalid_field("name", fmt::format("1..{} bytes", kMaxNameBytes));
  if (s.time_zone.size() > kMaxTimeZoneBytes || !alerts::is_time_zone(s.time_zone))
    return core::invalid_field("time_zone",
                               "an IANA time zone of the system's tzdata, e.g. \"Europe/Berlin\"");
  if (auto r = check_rotation(s.rotation); !r) return r;
  if (s.overrides.size() > kMaxOncallOverrides)
    return core::invalid_field("overrides", fmt::format("at most {}", kMaxOncallOverrides));
  for (std::size_t i = 0; i < s.overrides.size(); ++i) {
    if (auto r = check_override(s.overrides[i], i); !r) return r;
  }
  return core::ok();
}

core::Result<OncallSchedule> oncall_from_json(const value& body) {
  if (!body.is_object())
    return core::invalid_field("body", "the on-call schedule must be a JSON object");
  const detail::ObjectReader in(body.get_object(), "");
  if (auto r = in.refuse_unknown({"id", "org_id", "name", "time_zone", "rotation", "overrides"},
                                 "an on-call schedule");
      !r)
    return std::move(r).error();
  OncallSchedule s;
  auto name = in.text("name");
  if (!name) return std::move(name).error();
  if (!*name) return core::invalid_field("name", "required");
  s.name = std::move(**name);
  auto zone = in.text("time_zone");
  if (!zone) return std::move(zone).error();
  if (*zone) s.time_zone = std::move(**zone);
  auto rotation = in.object("rotation");
  if (!rotation) return std::move(rotation).error();
  if (*rotation == nullptr)
    return core::invalid_field("rotation", "required: {users, handover, length_days, start}");
  auto read = read_rotation(**rotation);
  if (!read) return std::move(read).error();
  s.rotation = std::move(*read);
  auto overrides = read_overrides(in);
  if (!overrides) return std::move(overrides).error();
  s.overrides = std::move(*overrides);
  if (auto v = validate_oncall(s); !v) return std::move(v).error();
  return s;
}

object to_json(const OncallSchedule& s) {
  object o;
  if (s.id != 0) o["id"] = s.id;
  o["name"] = s.name;
  o["time_zone"] = s.time_zone;
  object handover{{"time", s.rotation.handover_time}};
  if (s.rotation.handover_weekday && *s.rotation.handover_weekday >= 0 &&
      *s.rotation.handover_weekday <= 6)
    handover["weekday"] =
        detail::kWeekdayNames[static_cast<std::size_t>(*s.rotation.handover_weekday)];
  o["rotation"] = object{{"users", array(s.rotation.users.begin(), s.rotation.users.end())},
                         {"handover", std::move(handover)},
                         {"length_days", s.rotation.length_days},
                         {"start", s.rotation.start}};
  array overrides;
  for (const auto& ov : s.overrides) {
    overrides.emplace_back(object{{"user_id", ov.user_id},
                                  {"start_ms", ov.start_ms},
                                  {"end_ms", ov.end_ms},
                                  {"reason", ov.reason}});
  }
  o["overrides"] = std::move(overrides);
  return o;
}

}  // namespace netpulse::notify

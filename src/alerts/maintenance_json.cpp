// Maintenance windows to and from JSON (maintenance.hpp): the body of POST and PUT
// /api/v1/maintenance-windows and the stored form. Every field is read with its type checked and
// its name in the error; unknown fields are refused; the fields the server sets are accepted and
// ignored.
#include <algorithm>
#include <array>
#include <string>
#include <utility>

#include <netpulse/alerts/maintenance.hpp>

#include "detail/json_fields.hpp"

namespace netpulse::alerts {
namespace {

using boost::json::array;
using boost::json::object;
using boost::json::value;

constexpr std::array<std::string_view, 7> kWeekdayNames = {"sun", "mon", "tue", "wed",
                                                           "thu", "fri", "sat"};
constexpr std::size_t kMaxDaysRead = 64;  // validation allows 7 weekdays, 31 month days

char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

std::optional<int> weekday_number(std::string_view name) {
  if (name.size() != 3) return std::nullopt;
  const std::string folded{lower(name[0]), lower(name[1]), lower(name[2])};
  for (std::size_t i = 0; i < kWeekdayNames.size(); ++i) {
    if (folded == kWeekdayNames[i]) return static_cast<int>(i);
  }
  return std::nullopt;
}

// A list of day numbers (weekdays also by name), sorted, without repeats. Range checks are
// validate_maintenance's, so they read the same for a body and a struct.
core::Result<std::vector<int>> read_days(const object& o, std::string_view name, bool names) {
  std::vector<int> out;
  const auto* v = o.if_contains(name);
  if (v == nullptr || v->is_null()) return out;
  if (!v->is_array()) return core::invalid_field(name, "must be an array of days");
  if (v->get_array().size() > kMaxDaysRead) return core::invalid_field(name, "too many days");
  for (const auto& item : v->get_array()) {
    if (item.is_int64() && item.get_int64() >= -1000 && item.get_int64() <= 1000) {
      out.push_back(static_cast<int>(item.get_int64()));
    } else if (names && item.is_string()) {
      auto d = weekday_number(item.get_string());
      if (!d) return core::invalid_field(name, "0..6 (Sunday = 0) or sun..sat");
      out.push_back(*d);
    } else {
      return core::invalid_field(name, names ? "days are 0..6 or sun..sat" : "days are 1..31");
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

core::Result<void> read_scope(const object& o, MaintenanceWindow& w) {
  if (auto r = detail::only_fields(o, "scope", {"device_ids", "group_ids", "tags", "all_devices"},
                                   "a window's scope");
      !r)
    return r;
  auto devices = detail::get_ids(o, "scope", "device_ids");
  if (!devices) return std::move(devices).error();
  w.device_ids = std::move(*devices);
  auto groups = detail::get_ids(o, "scope", "group_ids");
  if (!groups) return std::move(groups).error();
  w.group_ids = std::move(*groups);
  auto tags = detail::get_strings(o, "scope", "tags");
  if (!tags) return std::move(tags).error();
  w.tags = std::move(*tags);
  auto all = detail::get_bool(o, "scope", "all_devices");
  if (!all) return std::move(all).error();
  w.all_devices = all->value_or(false);
  return core::ok();
}

// The string fields, each optional (validation says which a recurrence needs).
core::Result<void> read_texts(const object& o, MaintenanceWindow& w) {
  for (auto [name, target] :
       {std::pair{"time_zone", &w.time_zone}, std::pair{"start_time", &w.start_time},
        std::pair{"cron", &w.cron}, std::pair{"comment", &w.comment}}) {
    auto text = detail::get_string(o, "", name);
    if (!text) return std::move(text).error();
    if (*text) *target = std::move(**text);
  }
  return core::ok();
}

}  // namespace

core::Result<MaintenanceWindow> maintenance_from_json(const value& body) {
  if (!body.is_object())
    return core::invalid_field("body", "the maintenance window must be a JSON object");
  const auto& o = body.get_object();
  if (auto r = detail::only_fields(o, "",
                                   {"id", "name", "time_zone", "recurrence", "starts_at", "ends_at",
                                    "start_time", "weekdays", "month_days", "cron", "duration_s",
                                    "scope", "comment", "created_by", "created_at"},
                                   "a maintenance window");
      !r)
    return std::move(r).error();
  MaintenanceWindow w;
  auto name = detail::get_string(o, "", "name");
  if (!name) return std::move(name).error();
  if (!*name) return core::invalid_field("name", "required");
  w.name = std::move(**name);
  auto recurrence = detail::get_string(o, "", "recurrence");
  if (!recurrence) return std::move(recurrence).error();
  if (!*recurrence)
    return core::invalid_field("recurrence", "required: once, weekly, monthly or cron");
  auto parsed = parse_recurrence(**recurrence);
  if (!parsed) return core::invalid_field("recurrence", "once, weekly, monthly or cron");
  w.recurrence = *parsed;
  if (auto r = read_texts(o, w); !r) return std::move(r).error();
  auto starts = detail::get_int(o, "", "starts_at");
  if (!starts) return std::move(starts).error();
  if (!*starts) return core::invalid_field("starts_at", "required: Unix seconds");
  w.starts_at = **starts;
  auto ends = detail::get_int(o, "", "ends_at");
  if (!ends) return std::move(ends).error();
  w.ends_at = *ends;
  auto duration = detail::get_int(o, "", "duration_s");
  if (!duration) return std::move(duration).error();
  if (!*duration) return core::invalid_field("duration_s", "required: 60 s .. 31 days");
  w.duration_s = **duration;
  auto weekdays = read_days(o, "weekdays", true);
  if (!weekdays) return std::move(weekdays).error();
  w.weekdays = std::move(*weekdays);
  auto month_days = read_days(o, "month_days", false);
  if (!month_days) return std::move(month_days).error();
  w.month_days = std::move(*month_days);
  auto scope = detail::get_object(o, "", "scope");
  if (!scope) return std::move(scope).error();
  if (*scope) {
    if (auto r = read_scope(**scope, w); !r) return std::move(r).error();
  }
  if (auto v = validate_maintenance(w); !v) return std::move(v).error();
  return w;
}

object maintenance_to_json(const MaintenanceWindow& w) {
  object o;
  if (w.id != 0) o["id"] = w.id;
  o["name"] = w.name;
  o["time_zone"] = w.time_zone;
  o["recurrence"] = recurrence_name(w.recurrence);
  o["starts_at"] = w.starts_at;
  if (w.ends_at) o["ends_at"] = *w.ends_at;
  if (!w.start_time.empty()) o["start_time"] = w.start_time;
  if (!w.weekdays.empty()) {
    array days;
    for (int d : w.weekdays) {
      if (d >= 0 && d <= 6)
        days.emplace_back(kWeekdayNames[static_cast<std::size_t>(d)]);
      else
        days.emplace_back(d);
    }
    o["weekdays"] = std::move(days);
  }
  if (!w.month_days.empty()) o["month_days"] = array(w.month_days.begin(), w.month_days.end());
  if (!w.cron.empty()) o["cron"] = w.cron;
  o["duration_s"] = w.duration_s;
  array tags;
  for (const auto& t : w.tags) tags.emplace_back(t);
  o["scope"] = object{{"device_ids", array(w.device_ids.begin(), w.device_ids.end())},
                      {"group_ids", array(w.group_ids.begin(), w.group_ids.end())},
                      {"tags", std::move(tags)},
                      {"all_devices", w.all_devices}};
  if (!w.comment.empty()) o["comment"] = w.comment;
  if (w.created_by != 0) o["created_by"] = w.created_by;
  if (w.created_at != 0) o["created_at"] = w.created_at;
  return o;
}

}  // namespace netpulse::alerts

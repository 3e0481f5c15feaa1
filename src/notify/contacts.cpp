// Users' contact methods and quiet hours (contacts.hpp): the JSON body of
// /api/v1/me/contacts, validated field by field, and the quiet-hours test the notifier runs for
// each message to a user.
#include <algorithm>
#include <chrono>
#include <date/tz.h>

#include <fmt/format.h>

#include <netpulse/alerts/maintenance.hpp>
#include <netpulse/notify/contacts.hpp>

#include "detail/json_read.hpp"
#include "detail/mime.hpp"
#include "detail/oncall.hpp"

namespace netpulse::notify {
namespace {

using boost::json::array;
using boost::json::object;
using boost::json::value;

constexpr std::size_t kMaxAddressBytes = 254;

bool is_e164(std::string_view s) {
  // "+", a country code that does not start with 0, 7 to 15 digits in all (ITU-T E.164).
  if (s.size() < 8 || s.size() > 16 || s[0] != '+' || s[1] == '0') return false;
  return std::all_of(s.begin() + 1, s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool is_chat_id(std::string_view s) {
  const auto digits = s.starts_with('-') ? s.substr(1) : s;
  return !digits.empty() && s.size() <= 21 &&
         std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }) &&
         digits != "0";
}

core::Result<std::int64_t> channel_id_of(const detail::ObjectReader& in) {
  auto id = in.integer("channel_id");
  if (!id) return std::move(id).error();
  if (!*id || **id <= 0)
    return core::invalid_field(in.path_of("channel_id"), "required: a positive channel id");
  return **id;
}

core::Result<EmailContact> read_email(const object& o) {
  const detail::ObjectReader in(o, "email");
  if (auto r = in.refuse_unknown({"enabled", "address"}, "the email method"); !r)
    return std::move(r).error();
  EmailContact e;
  auto enabled = in.flag("enabled");
  if (!enabled) return std::move(enabled).error();
  e.enabled = enabled->value_or(true);
  auto address = in.text("address");
  if (!address) return std::move(address).error();
  if (*address && !(*address)->empty()) {
    if ((*address)->size() > kMaxAddressBytes || !detail::is_valid_addr_spec(**address))
      return core::invalid_field("email.address", "must be an email address (name@example.net)");
    e.address = std::move(**address);
  }
  return e;
}

core::Result<SmsContact> read_sms(const object& o) {
  const detail::ObjectReader in(o, "sms");
  if (auto r = in.refuse_unknown({"phone", "channel_id"}, "the sms method"); !r)
    return std::move(r).error();
  SmsContact s;
  auto phone = in.text("phone");
  if (!phone) return std::move(phone).error();
  if (!*phone || !is_e164(**phone))
    return core::invalid_field("sms.phone",
                               "required: a phone number in E.164 form (+254712345678)");
  s.phone = std::move(**phone);
  auto channel = channel_id_of(in);
  if (!channel) return std::move(channel).error();
  s.channel_id = *channel;
  return s;
}

core::Result<TelegramContact> read_telegram(const object& o) {
  const detail::ObjectReader in(o, "telegram");
  if (auto r = in.refuse_unknown({"chat_id", "channel_id"}, "the telegram method"); !r)
    return std::move(r).error();
  TelegramContact t;
  const auto* chat = in.find("chat_id");
  if (chat != nullptr && chat->is_int64()) {
    t.chat_id = std::to_string(chat->get_int64());
  } else if (chat != nullptr && chat->is_string()) {
    t.chat_id = std::string(chat->get_string());
  }
  if (!is_chat_id(t.chat_id))
    return core::invalid_field("telegram.chat_id",
                               "required: a Telegram chat id (an integer, -100... for a group)");
  auto channel = channel_id_of(in);
  if (!channel) return std::move(channel).error();
  t.channel_id = *channel;
  return t;
}

std::optional<int> weekday_number(std::string_view name) {
  for (std::size_t i = 0; i < detail::kWeekdayNames.size(); ++i) {
    if (name == detail::kWeekdayNames[i]) return static_cast<int>(i);
  }
  return std::nullopt;
}

core::Result<QuietHours> read_quiet(const object& o) {
  const detail::ObjectReader in(o, "quiet_hours");
  if (auto r = in.refuse_unknown({"time_zone", "from", "to", "weekdays"}, "quiet hours"); !r)
    return std::move(r).error();
  QuietHours q;
  auto zone = in.text("time_zone");
  if (!zone) return std::move(zone).error();
  if (*zone) q.time_zone = std::move(**zone);
  if (!alerts::is_time_zone(q.time_zone))
    return core::invalid_field("quiet_hours.time_zone",
                               "an IANA time zone of the system's tzdata, e.g. \"Europe/Berlin\"");
  for (auto [name, out] : {std::pair{"from", &q.from}, std::pair{"to", &q.to}}) {
    auto t = in.text(name);
    if (!t) return std::move(t).error();
    if (!*t || !detail::parse_wall_time(**t))
      return core::invalid_field(in.path_of(name), "required: a local time \"HH:MM\"");
    *out = std::move(**t);
  }
  if (q.from == q.to)
    return core::invalid_field("quiet_hours.to", "must differ from quiet_hours.from");
  auto days = in.texts("weekdays", 7);
  if (!days) return std::move(days).error();
  for (std::size_t i = 0; i < days->size(); ++i) {
    auto d = weekday_number((*days)[i]);
    if (!d)
      return core::invalid_field(fmt::format("quiet_hours.weekdays[{}]", i),
                                 "sun, mon, tue, wed, thu, fri or sat");
    if (std::find(q.weekdays.begin(), q.weekdays.end(), *d) != q.weekdays.end())
      return core::invalid_field(fmt::format("quiet_hours.weekdays[{}]", i), "is a duplicate");
    q.weekdays.push_back(*d);
  }
  std::sort(q.weekdays.begin(), q.weekdays.end());
  return q;
}

// The member `name` as an object, nullptr when absent or null.
core::Result<const object*> part(const detail::ObjectReader& in, std::string_view name) {
  return in.object(name);
}

}  // namespace

core::Result<UserContacts> contacts_from_json(const value& body) {
  if (!body.is_object()) return core::invalid_field("body", "contacts must be a JSON object");
  const detail::ObjectReader in(body.get_object(), "");
  if (auto r = in.refuse_unknown({"email", "sms", "telegram", "in_app", "quiet_hours"},
                                 "contact methods");
      !r)
    return std::move(r).error();
  UserContacts c;
  auto email = part(in, "email");
  if (!email) return std::move(email).error();
  if (*email != nullptr) {
    auto e = read_email(**email);
    if (!e) return std::move(e).error();
    c.email = std::move(*e);
  }
  auto sms = part(in, "sms");
  if (!sms) return std::move(sms).error();
  if (*sms != nullptr) {
    auto s = read_sms(**sms);
    if (!s) return std::move(s).error();
    c.sms = std::move(*s);
  }
  auto telegram = part(in, "telegram");
  if (!telegram) return std::move(telegram).error();
  if (*telegram != nullptr) {
    auto t = read_telegram(**telegram);
    if (!t) return std::move(t).error();
    c.telegram = std::move(*t);
  }
  auto in_app = part(in, "in_app");
  if (!in_app) return std::move(in_app).error();
  if (*in_app != nullptr) {
    const detail::ObjectReader a(**in_app, "in_app");
    if (auto r = a.refuse_unknown({"enabled"}, "the in_app method"); !r)
      return std::move(r).error();
    auto on = a.flag("enabled");
    if (!on) return std::move(on).error();
    if (*on && !**on) return core::invalid_field("in_app.enabled", "in-app is always on");
  }
  auto quiet = part(in, "quiet_hours");
  if (!quiet) return std::move(quiet).error();
  if (*quiet != nullptr) {
    auto q = read_quiet(**quiet);
    if (!q) return std::move(q).error();
    c.quiet_hours = std::move(*q);
  }
  return c;
}

object to_json(const UserContacts& c) {
  object o;
  o["email"] = object{{"enabled", c.email.enabled}, {"address", c.email.address}};
  o["sms"] = c.sms ? value(object{{"phone", c.sms->phone}, {"channel_id", c.sms->channel_id}})
                   : value(nullptr);
  o["telegram"] =
      c.telegram
          ? value(object{{"chat_id", c.telegram->chat_id}, {"channel_id", c.telegram->channel_id}})
          : value(nullptr);
  o["in_app"] = object{{"enabled", true}};
  if (c.quiet_hours) {
    array days;
    for (int d : c.quiet_hours->weekdays) {
      if (d >= 0 && d <= 6) days.emplace_back(detail::kWeekdayNames[static_cast<std::size_t>(d)]);
    }
    o["quiet_hours"] = object{{"time_zone", c.quiet_hours->time_zone},
                              {"from", c.quiet_hours->from},
                              {"to", c.quiet_hours->to},
                              {"weekdays", std::move(days)}};
  } else {
    o["quiet_hours"] = nullptr;
  }
  return o;
}

bool in_quiet_hours(const QuietHours& q, std::int64_t at_ms) {
  const auto from = detail::parse_wall_time(q.from);
  const auto to = detail::parse_wall_time(q.to);
  if (!from || !to || *from == *to) return false;
  const date::time_zone* zone = nullptr;
  try {
    zone = date::locate_zone(q.time_zone);
  } catch (const std::exception&) {
    return false;
  }
  const auto local =
      zone->to_local(date::sys_time<std::chrono::milliseconds>(std::chrono::milliseconds(at_ms)));
  const auto day = date::floor<date::days>(local);
  const auto minute =
      static_cast<int>(std::chrono::duration_cast<std::chrono::minutes>(local - day).count());
  auto listed = [&](date::local_days d) {
    if (q.weekdays.empty()) return true;
    const int wd = static_cast<int>(date::weekday{d}.c_encoding());
    return std::find(q.weekdays.begin(), q.weekdays.end(), wd) != q.weekdays.end();
  };
  if (*from < *to) return minute >= *from && minute < *to && listed(day);
  // Across midnight: the evening of a listed day, or the morning after one.
  return (minute >= *from && listed(day)) || (minute < *to && listed(day - date::days{1}));
}

}  // namespace netpulse::notify

// Users' contact methods and quiet hours (notify/contacts.hpp): what the JSON reader accepts and
// refuses (naming the field), the round trip, and the quiet-hours test across midnight, weekdays
// and time zones.
#include <string>

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <netpulse/notify/contacts.hpp>

using namespace netpulse;
namespace json = boost::json;

namespace {

// 2026-01-01 00:00 UTC, a Thursday.
constexpr std::int64_t kNewYear = 1'767'225'600'000;
constexpr std::int64_t kHour = 3'600'000;

core::Result<notify::UserContacts> read(const std::string& text) {
  return notify::contacts_from_json(json::parse(text));
}

}  // namespace

TEST_CASE("contacts: an empty body is email to the account's address, nothing else",
          "[notify][contacts]") {
  auto c = read("{}");
  REQUIRE(c);
  CHECK(c->email.enabled);
  CHECK(c->email.address.empty());
  CHECK_FALSE(c->sms);
  CHECK_FALSE(c->telegram);
  CHECK_FALSE(c->quiet_hours);
}

TEST_CASE("contacts: every method round-trips", "[notify][contacts]") {
  auto c = read(R"({"email": {"enabled": true, "address": "ana@isp.example"},
    "sms": {"phone": "+254712345678", "channel_id": 3},
    "telegram": {"chat_id": -1001234, "channel_id": 4}, "in_app": {"enabled": true},
    "quiet_hours": {"time_zone": "Africa/Nairobi", "from": "22:00", "to": "06:30",
                    "weekdays": ["fri", "mon"]}})");
  REQUIRE(c);
  CHECK(c->sms->phone == "+254712345678");
  CHECK(c->telegram->chat_id == "-1001234");
  CHECK(c->quiet_hours->weekdays == std::vector<int>{1, 5});
  auto again = notify::contacts_from_json(notify::to_json(*c));
  REQUIRE(again);
  CHECK(*again == *c);
}

TEST_CASE("contacts: bad input is refused naming the field", "[notify][contacts]") {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"([])", "body"},
      {R"({"pager": {}})", "pager"},
      {R"({"email": {"address": "not an address"}})", "email.address"},
      {R"({"email": {"enabled": "yes"}})", "email.enabled"},
      {R"({"sms": {"phone": "0712345678", "channel_id": 3}})", "sms.phone"},
      {R"({"sms": {"phone": "+0712345678", "channel_id": 3}})", "sms.phone"},
      {R"({"sms": {"phone": "+254712345678"}})", "sms.channel_id"},
      {R"({"sms": {"phone": "+254712345678", "channel_id": -1}})", "sms.channel_id"},
      {R"({"telegram": {"chat_id": "@someone", "channel_id": 3}})", "telegram.chat_id"},
      {R"({"telegram": {"chat_id": 0, "channel_id": 3}})", "telegram.chat_id"},
      {R"({"in_app": {"enabled": false}})", "in_app.enabled"},
      {R"({"quiet_hours": {"from": "22:00"}})", "quiet_hours.to"},
      {R"({"quiet_hours": {"from": "25:00", "to": "07:00"}})", "quiet_hours.from"},
      {R"({"quiet_hours": {"from": "07:00", "to": "07:00"}})", "quiet_hours.to"},
      {R"({"quiet_hours": {"time_zone": "Mars/Olympus", "from": "22:00", "to": "07:00"}})",
       "quiet_hours.time_zone"},
      {R"({"quiet_hours": {"from": "22:00", "to": "07:00", "weekdays": ["mon", "funday"]}})",
       "quiet_hours.weekdays[1]"},
      {R"({"quiet_hours": {"from": "22:00", "to": "07:00", "weekdays": ["mon", "mon"]}})",
       "quiet_hours.weekdays[1]"},
      {R"({"quiet_hours": {"from": "22:00", "to": "07:00", "snooze": 1}})", "quiet_hours.snooze"},
  };
  for (const auto& [body, field] : cases) {
    INFO(body);
    auto c = read(body);
    REQUIRE_FALSE(c);
    CHECK(c.error().code == core::Errc::kInvalidInput);
    CHECK(c.error().details.at("field").as_string() == field);
  }
}

TEST_CASE("quiet hours: across midnight, by weekday of the evening, in the user's zone",
          "[notify][contacts]") {
  notify::QuietHours q;
  q.time_zone = "UTC";
  q.from = "22:00";
  q.to = "07:00";
  CHECK(notify::in_quiet_hours(q, kNewYear));                    // 00:00
  CHECK(notify::in_quiet_hours(q, kNewYear + 6 * kHour));        // 06:00
  CHECK_FALSE(notify::in_quiet_hours(q, kNewYear + 7 * kHour));  // 07:00: over
  CHECK_FALSE(notify::in_quiet_hours(q, kNewYear + 12 * kHour));
  CHECK(notify::in_quiet_hours(q, kNewYear + 22 * kHour));
  // Only nights starting on a Wednesday: Thursday 00:00 is one, Thursday 22:00 is not.
  q.weekdays = {3};
  CHECK(notify::in_quiet_hours(q, kNewYear));
  CHECK_FALSE(notify::in_quiet_hours(q, kNewYear + 22 * kHour));
  // A daytime period in Nairobi (UTC+3): 09:00-17:00 local is 06:00-14:00 UTC.
  notify::QuietHours day{"Africa/Nairobi", "09:00", "17:00", {}};
  CHECK_FALSE(notify::in_quiet_hours(day, kNewYear + 5 * kHour));
  CHECK(notify::in_quiet_hours(day, kNewYear + 6 * kHour));
  CHECK(notify::in_quiet_hours(day, kNewYear + 13 * kHour));
  CHECK_FALSE(notify::in_quiet_hours(day, kNewYear + 14 * kHour));
  // An unknown zone is never quiet (it cannot be saved anyway).
  day.time_zone = "Nowhere/Special";
  CHECK_FALSE(notify::in_quiet_hours(day, kNewYear + 8 * kHour));
}

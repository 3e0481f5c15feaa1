// On-call schedules (src/notify/oncall*.cpp): handovers at local wall time across both DST
// changes in Europe/Berlin and America/New_York (the gap and the repeated hour), the instant of a
// handover itself, overrides winning over the rotation (the last-created of several), the shift
// listing with overrides spliced in, and validation naming the field.
#include <date/date.h>
#include <string>
#include <vector>

#include <boost/json/parse.hpp>
#include <catch2/catch.hpp>

#include <netpulse/notify/oncall.hpp>

using namespace netpulse;
using namespace netpulse::notify;

namespace {

constexpr std::int64_t kHourMs = 3'600'000;
constexpr std::int64_t kMinuteMs = 60'000;

// A UTC instant in Unix milliseconds.
std::int64_t utc(int y, unsigned m, unsigned d, int h, int min = 0) {
  const auto day = date::sys_days{date::year{y} / date::month{m} / date::day{d}};
  return (std::int64_t{day.time_since_epoch().count()} * 86'400 + h * 3'600 + min * 60) * 1'000;
}

OncallSchedule schedule(const char* zone, const char* start, const char* time, int length_days,
                        std::vector<std::int64_t> users) {
  OncallSchedule s;
  s.name = "network on-call";
  s.time_zone = zone;
  s.rotation.users = std::move(users);
  s.rotation.start = start;
  s.rotation.handover_time = time;
  s.rotation.length_days = length_days;
  return s;
}

boost::json::value parse(const std::string& text) {
  boost::system::error_code ec;
  auto v = boost::json::parse(text, ec);
  REQUIRE_FALSE(ec);
  return v;
}

// The user on call just before and at the handover instant.
void check_handover(const OncallSchedule& s, std::int64_t at, std::optional<std::int64_t> before,
                    std::int64_t after) {
  INFO(s.time_zone << " handover at " << at);
  CHECK(on_call_at(s, at - 1) == before);
  CHECK(on_call_at(s, at) == after);
  CHECK(on_call_at(s, at + kHourMs) == after);
}

}  // namespace

TEST_CASE("on-call: a weekly rotation hands over at local time across DST, Europe/Berlin",
          "[notify][oncall][dst]") {
  // Monday 09:00: CET (08:00 UTC) until 2026-03-29, CEST (07:00 UTC) after; CET again after
  // 2026-10-25. The shift spanning each change lasts 167 h, then 169 h.
  auto s = schedule("Europe/Berlin", "2026-03-23", "09:00", 7, {1, 2, 3});
  s.rotation.handover_weekday = 1;
  REQUIRE(validate_oncall(s));
  CHECK(on_call_at(s, utc(2026, 3, 23, 8) - 1) == std::nullopt);  // before the first handover
  check_handover(s, utc(2026, 3, 23, 8), std::nullopt, 1);
  check_handover(s, utc(2026, 3, 30, 7), 1, 2);  // 167 hours later
  check_handover(s, utc(2026, 4, 6, 7), 2, 3);
  check_handover(s, utc(2026, 4, 13, 7), 3, 1);
  // 2026-10-19 (CEST, 07:00 UTC) then 2026-10-26 (CET, 08:00 UTC): 30 weeks after 03-23.
  check_handover(s, utc(2026, 10, 19, 7), 3, 1);
  check_handover(s, utc(2026, 10, 26, 8), 1, 2);
  CHECK(next_handover(s, utc(2026, 10, 20, 0)) == utc(2026, 10, 26, 8));
  CHECK(next_handover(s, utc(2026, 10, 26, 8)) == utc(2026, 11, 2, 8));
}

TEST_CASE("on-call: a handover inside the spring-forward gap happens when the gap ends",
          "[notify][oncall][dst]") {
  // Daily at 02:30, Berlin: on 2026-03-29 02:30 does not exist (02:00 CET -> 03:00 CEST at
  // 01:00 UTC), so that handover happens at 03:00 CEST = 01:00 UTC.
  auto s = schedule("Europe/Berlin", "2026-03-28", "02:30", 1, {1, 2});
  REQUIRE(validate_oncall(s));
  check_handover(s, utc(2026, 3, 28, 1, 30), std::nullopt, 1);
  check_handover(s, utc(2026, 3, 29, 1), 1, 2);
  check_handover(s, utc(2026, 3, 30, 0, 30), 2, 1);
  // The same weekly, America/New_York: Sunday 02:30 on 2026-03-08 (02:00 EST -> 03:00 EDT at
  // 07:00 UTC) happens at 03:00 EDT = 07:00 UTC; the week before at 07:30 UTC, after at 06:30.
  auto ny = schedule("America/New_York", "2026-03-01", "02:30", 7, {10, 20});
  ny.rotation.handover_weekday = 0;
  REQUIRE(validate_oncall(ny));
  check_handover(ny, utc(2026, 3, 1, 7, 30), std::nullopt, 10);
  check_handover(ny, utc(2026, 3, 8, 7), 10, 20);
  check_handover(ny, utc(2026, 3, 15, 6, 30), 20, 10);
}

TEST_CASE("on-call: a handover in the repeated hour happens at its first occurrence",
          "[notify][oncall][dst]") {
  // America/New_York, 2026-11-01: 02:00 EDT -> 01:00 EST at 06:00 UTC, so 01:30 happens at
  // 05:30 UTC (EDT) and again at 06:30 UTC (EST). The handover is at 05:30 UTC, once.
  auto s = schedule("America/New_York", "2026-10-31", "01:30", 1, {10, 20});
  REQUIRE(validate_oncall(s));
  check_handover(s, utc(2026, 10, 31, 5, 30), std::nullopt, 10);
  check_handover(s, utc(2026, 11, 1, 5, 30), 10, 20);
  CHECK(on_call_at(s, utc(2026, 11, 1, 6, 30)) == 20);  // the second 01:30: no handover
  check_handover(s, utc(2026, 11, 2, 6, 30), 20, 10);   // EST from now on
  // Europe/Berlin, 2026-10-25: 03:00 CEST -> 02:00 CET at 01:00 UTC; 02:30 first at 00:30 UTC.
  auto berlin = schedule("Europe/Berlin", "2026-10-24", "02:30", 1, {1, 2});
  check_handover(berlin, utc(2026, 10, 25, 0, 30), 1, 2);
  CHECK(on_call_at(berlin, utc(2026, 10, 25, 1, 30)) == 2);
  check_handover(berlin, utc(2026, 10, 26, 1, 30), 2, 1);
}

TEST_CASE("on-call: an override wins over the rotation, the last-created of several",
          "[notify][oncall]") {
  auto s = schedule("UTC", "2026-01-05", "09:00", 7, {1, 2});
  const std::int64_t h0 = utc(2026, 1, 5, 9);
  const std::int64_t h1 = utc(2026, 1, 12, 9);
  s.overrides.push_back({99, utc(2026, 1, 7, 0), utc(2026, 1, 9, 0), "Ana is ill"});
  s.overrides.push_back({77, utc(2026, 1, 8, 0), utc(2026, 1, 8, 12), "swap"});
  REQUIRE(validate_oncall(s));
  CHECK(on_call_at(s, utc(2026, 1, 6, 0)) == 1);
  CHECK(on_call_at(s, utc(2026, 1, 7, 0)) == 99);
  CHECK(on_call_at(s, utc(2026, 1, 8, 0)) == 77);   // created later: wins
  CHECK(on_call_at(s, utc(2026, 1, 8, 12)) == 99);  // end is exclusive
  CHECK(on_call_at(s, utc(2026, 1, 9, 0)) == 1);
  // An override before the rotation starts still names someone.
  s.overrides.push_back({55, utc(2026, 1, 1, 0), utc(2026, 1, 2, 0), ""});
  CHECK(on_call_at(s, utc(2026, 1, 1, 12)) == 55);

  SECTION("shifts splice the overrides into the rotation") {
    const auto listed = shifts(s, utc(2026, 1, 5, 0), utc(2026, 1, 13, 0));
    const std::vector<OncallShift> expected = {
        {1, h0, utc(2026, 1, 7, 0), std::nullopt},
        {99, utc(2026, 1, 7, 0), utc(2026, 1, 8, 0), 0},
        {77, utc(2026, 1, 8, 0), utc(2026, 1, 8, 12), 1},
        {99, utc(2026, 1, 8, 12), utc(2026, 1, 9, 0), 0},
        {1, utc(2026, 1, 9, 0), h1, std::nullopt},
        {2, h1, utc(2026, 1, 13, 0), std::nullopt},
    };
    CHECK(listed == expected);
  }
  SECTION("shifts are bounded and clipped") {
    const auto first_two = shifts(s, utc(2026, 1, 5, 0), utc(2026, 1, 13, 0), 2);
    REQUIRE(first_two.size() == 2);
    CHECK(first_two[1].user_id == 99);
    const auto clipped = shifts(s, utc(2026, 1, 10, 0), utc(2026, 1, 10, 1));
    REQUIRE(clipped.size() == 1);
    CHECK(clipped[0] == OncallShift{1, utc(2026, 1, 10, 0), utc(2026, 1, 10, 1), std::nullopt});
    CHECK(shifts(s, h1, h0).empty());
    // A year of a daily rotation: 365 shifts, one per handover.
    auto daily = schedule("Europe/Berlin", "2026-01-01", "09:00", 1, {1, 2, 3});
    CHECK(shifts(daily, utc(2026, 1, 1, 8), utc(2027, 1, 1, 8)).size() == 365);
  }
}

TEST_CASE("on-call: one user's consecutive turns are one shift", "[notify][oncall]") {
  auto s = schedule("UTC", "2026-01-05", "09:00", 7, {4, 4, 5});
  const auto listed = shifts(s, utc(2026, 1, 5, 9), utc(2026, 1, 26, 9));
  REQUIRE(listed.size() == 2);
  CHECK(listed[0] == OncallShift{4, utc(2026, 1, 5, 9), utc(2026, 1, 19, 9), std::nullopt});
  CHECK(listed[1].user_id == 5);
  CHECK(shifts(s, utc(2026, 1, 1, 0), utc(2026, 1, 5, 9)).empty());  // nobody before the start
}

TEST_CASE("on-call: instants outside 1970 .. 3000 have nobody on call", "[notify][oncall]") {
  auto s = schedule("UTC", "2026-01-05", "09:00", 7, {4, 5});
  CHECK(on_call_at(s, INT64_MIN) == std::nullopt);
  CHECK(on_call_at(s, INT64_MAX) == std::nullopt);
  CHECK(next_handover(s, INT64_MAX) == std::nullopt);
  CHECK(shifts(s, INT64_MAX - 1, INT64_MAX).empty());
  CHECK(shifts(s, INT64_MIN, INT64_MIN + 1).empty());
  CHECK(on_call_at(s, utc(2999, 12, 31, 0)).has_value());
  // A schedule that cannot be read has no rotation (but its overrides still hold).
  s.time_zone = "Mars/Base";
  CHECK(on_call_at(s, utc(2026, 2, 1, 0)) == std::nullopt);
  s.overrides.push_back({9, utc(2026, 2, 1, 0), utc(2026, 2, 2, 0), ""});
  CHECK(on_call_at(s, utc(2026, 2, 1, 0)) == 9);
}

TEST_CASE("on-call JSON: the documented body reads as written and round-trips",
          "[notify][oncall]") {
  auto read = oncall_from_json(parse(R"({
    "name": "NOC", "time_zone": "Europe/Berlin",
    "rotation": {"users": [3, 1, 2], "handover": {"weekday": "mon", "time": "09:00"},
                 "length_days": 7, "start": "2026-03-02"},
    "overrides": [{"user_id": 9, "start_ms": 1772928000000, "end_ms": 1773014400000,
                   "reason": "covering"}]})"));
  REQUIRE(read);
  CHECK(read->rotation.users == std::vector<std::int64_t>{3, 1, 2});
  CHECK(read->rotation.handover_weekday == 1);
  CHECK(read->overrides.size() == 1);
  auto again = oncall_from_json(to_json(*read));
  REQUIRE(again);
  CHECK(*again == *read);
  // The defaults: UTC, weekly, 09:00, no weekday, no overrides.
  auto small = oncall_from_json(parse(R"({"name": "x", "rotation": {"users": [1],
                                          "start": "2026-03-03"}})"));
  REQUIRE(small);
  CHECK(small->time_zone == "UTC");
  CHECK(small->rotation.length_days == 7);
  CHECK_FALSE(small->rotation.handover_weekday);
}

TEST_CASE("on-call JSON: each way to get a schedule wrong is refused naming the field",
          "[notify][oncall]") {
  const std::string good_rotation =
      R"("users": [1, 2], "handover": {"weekday": "mon", "time": "09:00"}, "start": "2026-03-02")";
  auto body = [&](const std::string& rotation, const std::string& rest = "") {
    return R"({"name": "NOC", "time_zone": "Europe/Berlin", "rotation": {)" + rotation + "}" +
           rest + "}";
  };
  std::string many_users = "[";
  for (int i = 1; i <= 101; ++i) many_users += std::to_string(i) + (i < 101 ? "," : "]");
  std::string many_overrides = "[";
  for (int i = 0; i < 501; ++i)
    many_overrides +=
        std::string(R"({"user_id": 1, "start_ms": 0, "end_ms": 1})") + (i < 500 ? "," : "]");
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"[]", "body"},
      {R"({"rotation": {"users": [1], "start": "2026-03-02"}})", "name"},
      {R"({"name": "NOC"})", "rotation"},
      {body(good_rotation, R"(, "rotaton": 1)"), "rotaton"},
      {R"({"name": "NOC", "time_zone": "Mars/Base", "rotation": {)" + good_rotation + "}}",
       "time_zone"},
      {body(R"("users": [], "start": "2026-03-02")"), "rotation.users"},
      {body(R"("users": )" + many_users + R"(, "start": "2026-03-02")"), "rotation.users"},
      {body(R"("users": [0], "start": "2026-03-02")"), "rotation.users"},
      {body(R"("users": ["ana"], "start": "2026-03-02")"), "rotation.users"},
      {body(R"("users": [1], "handover": {"time": "25:00"}, "start": "2026-03-02")"),
       "rotation.handover.time"},
      {body(R"("users": [1], "handover": {"time": "9:00"}, "start": "2026-03-02")"),
       "rotation.handover.time"},
      {body(R"("users": [1], "handover": {"weekday": "funday"}, "start": "2026-03-02")"),
       "rotation.handover.weekday"},
      {body(R"("users": [1], "handover": {"at": "09:00"}, "start": "2026-03-02")"),
       "rotation.handover.at"},
      {body(R"("users": [1], "handover": {"weekday": "tue"}, "start": "2026-03-02")"),
       "rotation.start"},
      {body(R"("users": [1], "handover": {"weekday": "mon"}, "length_days": 3,
               "start": "2026-03-02")"),
       "rotation.length_days"},
      {body(R"("users": [1], "length_days": 29, "start": "2026-03-02")"), "rotation.length_days"},
      {body(R"("users": [1], "length_days": 0, "start": "2026-03-02")"), "rotation.length_days"},
      {body(R"("users": [1])"), "rotation.start"},
      {body(R"("users": [1], "start": "2026-02-30")"), "rotation.start"},
      {body(R"("users": [1], "start": "1999-12-31")"), "rotation.start"},
      {body(good_rotation, R"(, "overrides": [{"user_id": 1, "start_ms": 10, "end_ms": 10}])"),
       "overrides[0].end_ms"},
      {body(good_rotation,
            R"(, "overrides": [{"user_id": 1, "start_ms": 0, "end_ms": 31708800001}])"),
       "overrides[0].end_ms"},
      {body(good_rotation, R"(, "overrides": [{"user_id": 1, "start_ms": 0}])"),
       "overrides[0].end_ms"},
      {body(good_rotation, R"(, "overrides": [{"user_id": -1, "start_ms": 0, "end_ms": 5}])"),
       "overrides[0].user_id"},
      {body(good_rotation, R"(, "overrides": [{"user_id": 1, "start_ms": -5, "end_ms": 5}])"),
       "overrides[0].start_ms"},
      {body(good_rotation, R"(, "overrides": [{"user_id": 1, "start_ms": 0, "end_ms": 5,
                                                "who": 2}])"),
       "overrides[0].who"},
      {body(good_rotation, R"(, "overrides": )" + many_overrides), "overrides"},
  };
  for (const auto& [text, field] : cases) {
    INFO(text);
    auto r = oncall_from_json(parse(text));
    REQUIRE_FALSE(r);
    CHECK(r.error().code == core::Errc::kInvalidInput);
    CHECK(r.error().details.at("field").as_string() == field);
  }
}

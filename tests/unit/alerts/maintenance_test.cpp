// Maintenance windows (src/alerts/maintenance*.cpp): exact UTC instants of recurring windows on
// both sides of both DST changes in three zones (northern and southern hemisphere), the gap and
// the repeated hour, monthly days a month lacks, one-off windows, starts_at and ends_at, scope,
// validation naming the field, and JSON round trips and refusals.
#include <functional>
#include <string>
#include <vector>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <catch2/catch.hpp>

#include <netpulse/alerts/maintenance.hpp>

using namespace netpulse;
using namespace netpulse::alerts;

namespace {

constexpr std::int64_t kJan1st2026 = 1'767'225'600;  // 2026-01-01T00:00:00Z
constexpr std::int64_t kHour = 3'600;

MaintenanceWindow weekly(const char* zone, const char* at, std::vector<int> days) {
  MaintenanceWindow w;
  w.name = "core upgrade";
  w.time_zone = zone;
  w.recurrence = Recurrence::kWeekly;
  w.starts_at = kJan1st2026;
  w.start_time = at;
  w.weekdays = std::move(days);
  w.duration_s = 2 * kHour;
  w.device_ids = {7};
  return w;
}

MaintenanceWindow with_cron(const char* zone, const char* cron, std::int64_t duration_s) {
  MaintenanceWindow w = weekly(zone, "", {});
  w.recurrence = Recurrence::kCron;
  w.start_time.clear();
  w.cron = cron;
  w.duration_s = duration_s;
  return w;
}

boost::json::value parse(const char* text) {
  boost::system::error_code ec;
  auto v = boost::json::parse(text, ec);
  REQUIRE_FALSE(ec);
  return v;
}

// Every start in `starts` is an occurrence: next_occurrence finds it from just before, and
// active_occurrence holds from its first second to its last, and not after.
void check_starts(const MaintenanceWindow& w, const std::vector<std::int64_t>& starts) {
  REQUIRE(validate_maintenance(w));
  for (auto start : starts) {
    INFO(w.time_zone << " start " << start);
    const Occurrence expected{start, start + w.duration_s};
    CHECK(next_occurrence(w, start - 1) == expected);
    CHECK(active_occurrence(w, start) == expected);
    CHECK(active_occurrence(w, start + w.duration_s - 1) == expected);
    CHECK(active_occurrence(w, start + w.duration_s) == std::nullopt);
    CHECK(active_occurrence(w, start - 1) == std::nullopt);
  }
  // And they are consecutive: each is the next after the previous one.
  for (std::size_t i = 1; i < starts.size(); ++i) {
    INFO(w.time_zone << " after " << starts[i - 1]);
    auto next = next_occurrence(w, starts[i - 1]);
    REQUIRE(next);
    CHECK(next->starts_at == starts[i]);
  }
}

}  // namespace

TEST_CASE("maintenance: the system tzdata is found through the date library",
          "[alerts][maintenance]") {
  for (const char* zone : {"UTC", "Europe/Berlin", "America/New_York", "Australia/Sydney"}) {
    INFO(zone);
    CHECK(is_time_zone(zone));
  }
  for (const char* zone : {"Mars/Olympus", "", "europe/berlin", "../etc/passwd", "Europe/"}) {
    INFO(zone);
    CHECK_FALSE(is_time_zone(zone));
  }
}

TEST_CASE("maintenance: recurring maintenance across a DST change, Europe/Berlin",
          "[alerts][maintenance][dst]") {
  // Summer time 2026: from 2026-03-29 01:00 UTC (02:00 CET -> 03:00 CEST) to 2026-10-25
  // 01:00 UTC (03:00 CEST -> 02:00 CET). Sunday 02:00 is 01:00 UTC in winter, 00:00 UTC in
  // summer; on 03-29 02:00 does not exist and starts at 03:00 CEST (01:00 UTC); on 10-25 it
  // happens twice and starts at the first (00:00 UTC).
  check_starts(weekly("Europe/Berlin", "02:00", {0}),
               {1'774'141'200, 1'774'746'000, 1'775'347'200});  // 03-22, 03-29, 04-05
  check_starts(weekly("Europe/Berlin", "02:00", {0}),
               {1'792'281'600, 1'792'886'400, 1'793'494'800});  // 10-18, 10-25, 11-01
  // 02:30, inside the gap: 03-29 starts at 03:00 CEST = 01:00 UTC, the first valid instant.
  check_starts(weekly("Europe/Berlin", "02:30", {0}),
               {1'774'143'000, 1'774'746'000, 1'775'349'000});
  check_starts(weekly("Europe/Berlin", "02:30", {0}),
               {1'792'283'400, 1'792'888'200, 1'793'496'600});
  // The same schedule as cron "30 2 * * 0".
  check_starts(with_cron("Europe/Berlin", "30 2 * * 0", 2 * kHour),
               {1'774'143'000, 1'774'746'000, 1'775'349'000});
  check_starts(with_cron("Europe/Berlin", "30 2 * * 0", 2 * kHour),
               {1'792'283'400, 1'792'888'200, 1'793'496'600});
}

TEST_CASE("maintenance: the duration is elapsed time across the repeated hour",
          "[alerts][maintenance][dst]") {
  // 01:30 CEST on the fall-back night is 23:30 UTC; two real hours later is 01:30 UTC (02:30
  // CET local): three local hours of wall clock.
  auto w = weekly("Europe/Berlin", "01:30", {0});
  const std::int64_t start = 1'792'884'600;  // 2026-10-24T23:30:00Z
  CHECK(next_occurrence(w, start - 1) == Occurrence{start, start + 2 * kHour});
  CHECK(active_occurrence(w, start + 2 * kHour - 1) == Occurrence{start, start + 2 * kHour});
  CHECK(active_occurrence(w, start + 2 * kHour) == std::nullopt);
  // An instant in the second 02:xx (CET) still finds the occurrence that started in CEST.
  CHECK(active_occurrence(w, 1'792'890'000) == Occurrence{start, start + 2 * kHour});
  // At 02:10 CET (01:10 UTC, the second 02:10) a window of 02:30 has started: at 02:30 CEST.
  auto later = weekly("Europe/Berlin", "02:30", {0});
  CHECK(active_occurrence(later, 1'792'890'600) ==
        Occurrence{1'792'888'200, 1'792'888'200 + 2 * kHour});
}

TEST_CASE("maintenance: recurring maintenance across a DST change, America/New_York",
          "[alerts][maintenance][dst]") {
  // DST 2026: from 03-08 07:00 UTC (02:00 EST -> 03:00 EDT) to 11-01 06:00 UTC (02:00 EDT ->
  // 01:00 EST). Sunday 02:00: 07:00 UTC in winter, 06:00 UTC in summer; in the gap on 03-08 it
  // starts at 03:00 EDT = 07:00 UTC; on 11-01 02:00 EST happens once (07:00 UTC).
  check_starts(weekly("America/New_York", "02:00", {0}),
               {1'772'348'400, 1'772'953'200, 1'773'554'400});  // 03-01, 03-08, 03-15
  check_starts(weekly("America/New_York", "02:00", {0}),
               {1'792'908'000, 1'793'516'400, 1'794'121'200});  // 10-25, 11-01, 11-08
  // 01:30 happens twice on 11-01: the first, EDT (05:30 UTC).
  check_starts(weekly("America/New_York", "01:30", {0}), {1'793'511'000});
}

TEST_CASE("maintenance: recurring maintenance across a DST change, Australia/Sydney",
          "[alerts][maintenance][dst]") {
  // Southern hemisphere, 2026: summer time ends 04-05 (03:00 AEDT -> 02:00 AEST, 02:xx twice)
  // and starts 10-04 (02:00 AEST -> 03:00 AEDT, 02:xx missing). Sunday 02:30: 15:30 UTC the
  // day before in summer (+11), 16:30 in winter (+10).
  check_starts(weekly("Australia/Sydney", "02:30", {0}),
               {1'774'711'800, 1'775'316'600, 1'775'925'000});  // 03-29, 04-05 (first), 04-12
  check_starts(weekly("Australia/Sydney", "02:30", {0}),
               {1'790'440'200, 1'791'043'200, 1'791'646'200});  // 09-27, 10-04 (gap), 10-11
}

TEST_CASE("maintenance: monthly windows skip days a month lacks", "[alerts][maintenance]") {
  MaintenanceWindow w = weekly("UTC", "04:00", {});
  w.recurrence = Recurrence::kMonthly;
  w.month_days = {31};
  // 2026-01-31, then 03-31 (no 31 February), then 05-31 (no 31 April).
  check_starts(w, {1'769'832'000, 1'774'929'600, 1'780'200'000});
  CHECK(active_occurrence(w, 1'772'280'000) == std::nullopt);  // 2026-02-28T12:00Z
}

TEST_CASE("maintenance: starts_at and ends_at bound a recurring window", "[alerts][maintenance]") {
  auto w = weekly("UTC", "22:00", {3});                             // Wednesdays 22:00 UTC, 2 h
  const std::int64_t first = kJan1st2026 - kHour * 2 + 7 * 86'400;  // Wed 2026-01-07 22:00
  CHECK(next_occurrence(w, 0) == Occurrence{first, first + 2 * kHour});
  // Tuesday 2025-12-31 22:00 would have been one, but the schedule applies from 01-01.
  CHECK(active_occurrence(w, kJan1st2026) == std::nullopt);
  // ends_at at the last start: that occurrence runs on past it, none starts after it.
  w.ends_at = first + 7 * 86'400;
  REQUIRE(validate_maintenance(w));
  CHECK(next_occurrence(w, first) == Occurrence{*w.ends_at, *w.ends_at + 2 * kHour});
  CHECK(active_occurrence(w, *w.ends_at + kHour) == Occurrence{*w.ends_at, *w.ends_at + 2 * kHour});
  CHECK(next_occurrence(w, *w.ends_at) == std::nullopt);
  CHECK(active_occurrence(w, *w.ends_at + 7 * 86'400 + kHour) == std::nullopt);
  w.ends_at = *w.ends_at - 1;
  CHECK(next_occurrence(w, first) == std::nullopt);
}

TEST_CASE("maintenance: a one-off window is [starts_at, starts_at + duration_s)",
          "[alerts][maintenance]") {
  MaintenanceWindow w = weekly("Europe/Berlin", "", {});
  w.recurrence = Recurrence::kOnce;
  w.starts_at = 1'774'745'000;  // local times and DST do not matter: Unix seconds
  w.duration_s = 90 * 60;
  REQUIRE(validate_maintenance(w));
  const Occurrence o{1'774'745'000, 1'774'750'400};
  CHECK(next_occurrence(w, 0) == o);
  CHECK(next_occurrence(w, o.starts_at - 1) == o);
  CHECK(next_occurrence(w, o.starts_at) == std::nullopt);
  CHECK(active_occurrence(w, o.starts_at - 1) == std::nullopt);
  CHECK(active_occurrence(w, o.starts_at) == o);
  CHECK(active_occurrence(w, o.ends_at - 1) == o);
  CHECK(active_occurrence(w, o.ends_at) == std::nullopt);
}

TEST_CASE("maintenance: overlapping cron occurrences give the one that started last",
          "[alerts][maintenance]") {
  auto w = with_cron("UTC", "*/15 * * * *", kHour);
  const std::int64_t t = kJan1st2026 + 10 * kHour + 20 * 60 + 7;  // 10:20:07
  const std::int64_t start = kJan1st2026 + 10 * kHour + 15 * 60;
  CHECK(active_occurrence(w, t) == Occurrence{start, start + kHour});
  CHECK(next_occurrence(w, t) == Occurrence{start + 15 * 60, start + 15 * 60 + kHour});
  // Far-off and extreme instants are answered without overflow.
  CHECK(active_occurrence(w, INT64_MIN) == std::nullopt);
  CHECK(active_occurrence(w, INT64_MAX) == std::nullopt);
  CHECK(next_occurrence(w, INT64_MAX) == std::nullopt);
  CHECK(next_occurrence(w, INT64_MIN) == Occurrence{kJan1st2026, kJan1st2026 + kHour});
}

TEST_CASE("maintenance: a rare cron schedule is found years ahead", "[alerts][maintenance]") {
  // 29 February: 2028 is the next leap year after 2026-01-01.
  auto w = with_cron("UTC", "0 12 29 2 *", kHour);
  const std::int64_t feb29th2028 = 1'835'438'400;  // 2028-02-29T12:00:00Z
  CHECK(next_occurrence(w, kJan1st2026) == Occurrence{feb29th2028, feb29th2028 + kHour});
  CHECK(active_occurrence(w, feb29th2028 + 60) == Occurrence{feb29th2028, feb29th2028 + kHour});
}

TEST_CASE("maintenance: each way to get a window wrong is refused naming the field",
          "[alerts][maintenance]") {
  struct Case {
    const char* what;
    std::function<void(MaintenanceWindow&)> spoil;
    const char* field;
  };
  const std::vector<Case> cases{
      {"no name", [](MaintenanceWindow& w) { w.name.clear(); }, "name"},
      {"a zone that is not", [](MaintenanceWindow& w) { w.time_zone = "Mars/Olympus"; },
       "time_zone"},
      {"no zone", [](MaintenanceWindow& w) { w.time_zone.clear(); }, "time_zone"},
      {"negative start", [](MaintenanceWindow& w) { w.starts_at = -1; }, "starts_at"},
      {"59 s", [](MaintenanceWindow& w) { w.duration_s = 59; }, "duration_s"},
      {"31 days and a second",
       [](MaintenanceWindow& w) { w.duration_s = std::int64_t{31} * 86'400 + 1; }, "duration_s"},
      {"weekly without a time", [](MaintenanceWindow& w) { w.start_time.clear(); }, "start_time"},
      {"24:00", [](MaintenanceWindow& w) { w.start_time = "24:00"; }, "start_time"},
      {"2:00", [](MaintenanceWindow& w) { w.start_time = "2:00"; }, "start_time"},
      {"weekly without days", [](MaintenanceWindow& w) { w.weekdays.clear(); }, "weekdays"},
      {"weekday 7", [](MaintenanceWindow& w) { w.weekdays = {7}; }, "weekdays"},
      {"weekly with month days", [](MaintenanceWindow& w) { w.month_days = {1}; }, "month_days"},
      {"weekly with cron", [](MaintenanceWindow& w) { w.cron = "0 2 * * 0"; }, "cron"},
      {"monthly day 32",
       [](MaintenanceWindow& w) {
         w.recurrence = Recurrence::kMonthly;
         w.weekdays.clear();
         w.month_days = {32};
       },
       "month_days"},
      {"cron that never matches",
       [](MaintenanceWindow& w) {
         w.recurrence = Recurrence::kCron;
         w.weekdays.clear();
         w.start_time.clear();
         w.cron = "0 0 31 2 *";
       },
       "cron"},
      {"cron hour 25",
       [](MaintenanceWindow& w) {
         w.recurrence = Recurrence::kCron;
         w.weekdays.clear();
         w.start_time.clear();
         w.cron = "0 25 * * *";
       },
       "cron.hour"},
      {"once with weekdays", [](MaintenanceWindow& w) { w.recurrence = Recurrence::kOnce; },
       "start_time"},
      {"ends before it starts", [](MaintenanceWindow& w) { w.ends_at = w.starts_at; }, "ends_at"},
      {"empty scope", [](MaintenanceWindow& w) { w.device_ids.clear(); }, "scope"},
      {"all devices and a list", [](MaintenanceWindow& w) { w.all_devices = true; },
       "scope.all_devices"},
      {"device id 0", [](MaintenanceWindow& w) { w.device_ids = {0}; }, "scope.device_ids"},
      {"empty tag", [](MaintenanceWindow& w) { w.tags = {""}; }, "scope.tags"},
      {"long comment", [](MaintenanceWindow& w) { w.comment.assign(1'001, 'x'); }, "comment"},
  };
  REQUIRE(validate_maintenance(weekly("Europe/Berlin", "02:00", {0})));
  for (const auto& c : cases) {
    INFO(c.what);
    auto w = weekly("Europe/Berlin", "02:00", {0});
    c.spoil(w);
    auto v = validate_maintenance(w);
    REQUIRE_FALSE(v);
    CHECK(v.error().code == core::Errc::kInvalidInput);
    CHECK(v.error().details.at("field").as_string() == c.field);
  }
  auto never = with_cron("UTC", "0 0 31 2 *", kHour);
  CHECK(validate_maintenance(never).error().message ==
        "cron: never matches: no month listed has a day of month listed");
}

TEST_CASE("maintenance: the scope covers a device by id, group or tag, or all of them",
          "[alerts][maintenance]") {
  auto w = weekly("UTC", "02:00", {0});
  w.device_ids = {7};
  w.group_ids = {3};
  w.tags = {"core"};
  const std::vector<std::int64_t> groups{1, 3};
  const std::vector<std::string> tags{"edge", "core"};
  const std::vector<std::int64_t> other_groups{4};
  const std::vector<std::string> other_tags{"edge"};
  CHECK(covers(w, AlertSubject{1, 7, {}, {}, nullptr}));
  CHECK(covers(w, AlertSubject{1, 8, groups, {}, nullptr}));
  CHECK(covers(w, AlertSubject{1, 8, {}, tags, nullptr}));
  CHECK_FALSE(covers(w, AlertSubject{1, 8, other_groups, other_tags, nullptr}));
  CHECK_FALSE(covers(w, AlertSubject{1, std::nullopt, groups, tags, nullptr}));
  w.device_ids.clear();
  w.group_ids.clear();
  w.tags.clear();
  w.all_devices = true;
  CHECK(covers(w, AlertSubject{1, 8, {}, {}, nullptr}));
  CHECK(covers(w, AlertSubject{1, std::nullopt, {}, {}, nullptr}));
}

TEST_CASE("maintenance JSON: the documented bodies read as written and round-trip",
          "[alerts][maintenance][json]") {
  auto weekly_body = maintenance_from_json(parse(R"({"name": "Core upgrade",
      "time_zone": "Europe/Berlin", "recurrence": "weekly", "starts_at": 1767225600,
      "start_time": "02:00", "weekdays": ["sun", 6, "SAT"], "duration_s": 7200,
      "scope": {"group_ids": [3], "tags": ["core"]}, "comment": "firmware"})"));
  if (!weekly_body) FAIL(weekly_body.error().message);
  CHECK(weekly_body->weekdays == std::vector<int>{0, 6});
  CHECK(weekly_body->time_zone == "Europe/Berlin");
  CHECK(weekly_body->group_ids == std::vector<std::int64_t>{3});
  CHECK(boost::json::serialize(maintenance_to_json(*weekly_body)) ==
        R"({"name":"Core upgrade","time_zone":"Europe/Berlin","recurrence":"weekly",)"
        R"("starts_at":1767225600,"start_time":"02:00","weekdays":["sun","sat"],)"
        R"("duration_s":7200,"scope":{"device_ids":[],"group_ids":[3],"tags":["core"],)"
        R"("all_devices":false},"comment":"firmware"})");
  for (const char* body :
       {R"({"name": "m", "recurrence": "monthly", "starts_at": 0, "start_time": "23:59",
            "month_days": [31, 1], "duration_s": 60, "ends_at": 1800000000,
            "scope": {"all_devices": true}})",
        R"({"name": "c", "recurrence": "cron", "starts_at": 5, "cron": "30 2 * * 0",
            "time_zone": "Australia/Sydney", "duration_s": 2678400, "scope": {"device_ids": [1]},
            "id": 9, "created_by": 4, "created_at": 1767225600})",
        R"({"name": "o", "recurrence": "once", "starts_at": 1767225600, "duration_s": 600,
            "scope": {"tags": ["x"]}})"}) {
    INFO(body);
    auto w = maintenance_from_json(parse(body));
    if (!w) FAIL(w.error().message);
    CHECK(w->id == 0);
    CHECK(w->created_by == 0);
    auto again = maintenance_from_json(maintenance_to_json(*w));
    REQUIRE(again);
    CHECK(*again == *w);
  }
}

TEST_CASE("maintenance JSON: a malformed body is refused naming the field",
          "[alerts][maintenance][json]") {
  struct Case {
    const char* body;
    const char* field;
  };
  const std::vector<Case> cases{
      {R"([])", "body"},
      {R"({"name": "m", "recurrence": "once", "starts_at": 0, "duration_s": 60,
           "scope": {"tags": ["x"]}, "colour": "red"})",
       "colour"},
      {R"({"name": "m", "recurrence": "once", "starts_at": 0, "duration_s": 60,
           "scope": {"tags": ["x"], "devices": [1]}})",
       "scope.devices"},
      {R"({"name": 5, "recurrence": "once", "starts_at": 0, "duration_s": 60})", "name"},
      {R"({"name": "m", "recurrence": "daily", "starts_at": 0, "duration_s": 60})", "recurrence"},
      {R"({"name": "m", "recurrence": "once", "starts_at": "now", "duration_s": 60})", "starts_at"},
      {R"({"name": "m", "recurrence": "once", "starts_at": 0})", "duration_s"},
      {R"({"name": "m", "recurrence": "once", "starts_at": 0, "duration_s": 30,
           "scope": {"tags": ["x"]}})",
       "duration_s"},
      {R"({"name": "m", "recurrence": "once", "starts_at": 0, "duration_s": 60,
           "time_zone": "Mars/Olympus", "scope": {"tags": ["x"]}})",
       "time_zone"},
      {R"({"name": "m", "recurrence": "cron", "cron": "0 0 31 2 *", "starts_at": 0,
           "duration_s": 60, "scope": {"tags": ["x"]}})",
       "cron"},
      {R"({"name": "m", "recurrence": "cron", "cron": "* * *", "starts_at": 0,
           "duration_s": 60, "scope": {"tags": ["x"]}})",
       "cron"},
      {R"({"name": "m", "recurrence": "once", "starts_at": 0, "duration_s": 60})", "scope"},
      {R"({"name": "m", "recurrence": "once", "starts_at": 0, "duration_s": 60,
           "scope": {"all_devices": false}})",
       "scope"},
      {R"({"name": "m", "recurrence": "once", "starts_at": 0, "duration_s": 60,
           "scope": {"all_devices": "yes"}})",
       "scope.all_devices"},
      {R"({"name": "m", "recurrence": "weekly", "start_time": "02:00", "weekdays": ["sunday"],
           "starts_at": 0, "duration_s": 60, "scope": {"tags": ["x"]}})",
       "weekdays"},
      {R"({"name": "m", "recurrence": "monthly", "start_time": "02:00", "month_days": ["1"],
           "starts_at": 0, "duration_s": 60, "scope": {"tags": ["x"]}})",
       "month_days"},
  };
  for (const auto& c : cases) {
    INFO(c.body);
    auto w = maintenance_from_json(parse(c.body));
    REQUIRE_FALSE(w);
    CHECK(w.error().code == core::Errc::kInvalidInput);
    CHECK(w.error().details.at("field").as_string() == c.field);
  }
}

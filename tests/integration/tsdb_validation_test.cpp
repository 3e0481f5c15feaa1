// The time-series store through the real binary, validation of what is written: all-or-nothing
// versus partial writes, the out-of-order window, duplicates, NaN and the future. The cases share
// one server (TsdbServer), each with metric names of its own.
#include <cstdint>
#include <string>

#include <catch2/catch.hpp>

#include "support/tsdb_http.hpp"

using namespace netpulse::test::tsdb_http;

namespace {

TsdbServer& tsdb() {
  static TsdbServer shared("collector");
  return shared;
}

// Half an hour ago, a whole second, in ms.
std::int64_t half_an_hour_ago() {
  return (now_ms() / 1000 - 1800) * 1000;
}

std::string line(const std::string& metric, const std::string& value, std::int64_t t) {
  return metric + ",host=h value=" + value + " " + std::to_string(t) + "\n";
}

// Four lines of `metric`, the third with a value that is no number.
std::string body_with_bad_third_line(const std::string& metric, std::int64_t t0) {
  return line(metric, "1", t0) + line(metric, "2", t0 + 1000) + line(metric, "oops", t0 + 2000) +
         line(metric, "4", t0 + 3000);
}

}  // namespace

TEST_CASE(
    "tsdb validation: one bad line refuses a whole line-protocol body, naming the line, and "
    "stores nothing",
    "[tsdb]") {
  auto& [dir, server, c, admin, key] = tsdb();
  const std::int64_t t0 = half_an_hour_ago();
  auto res = write_lp(c, key, body_with_bad_third_line("val_a", t0));
  check_envelope(res, 400, "INVALID_INPUT");
  auto issues = issues_of(res);
  REQUIRE(issues.size() == 1);
  CHECK(issues[0].at("line").as_int64() == 3);
  CHECK(issues[0].at("field").as_string() == "field:value");
  CHECK(!issues[0].at("reason").as_string().empty());
  CHECK(res.json().at("error").at("details").at("stored").as_int64() == 0);
  CHECK(range(c, key, "val_a", t0 - 1000, t0 + 10'000).empty());
}

TEST_CASE("tsdb validation: partial=true stores the good lines and lists the bad one", "[tsdb]") {
  auto& [dir, server, c, admin, key] = tsdb();
  const std::int64_t t0 = half_an_hour_ago();
  auto res = post(c, "/api/v2/write?precision=ms&partial=true", "Token " + key, "text/plain",
                  body_with_bad_third_line("val_a_partial", t0));
  auto data = data_of(res);
  CHECK(data.at("accepted").as_int64() == 3);
  CHECK(data.at("refused_count").as_int64() == 1);
  auto issues = issues_of(res);
  REQUIRE(issues.size() == 1);
  CHECK(issues[0].at("line").as_int64() == 3);
  CHECK(issues[0].at("field").as_string() == "field:value");
  check_exact(points_of(c, key, "val_a_partial", t0 - 1000, t0 + 10'000),
              {{t0, 1}, {t0 + 1000, 2}, {t0 + 3000, 4}});
}

TEST_CASE("tsdb validation: one bad JSON sample refuses the array, naming its index", "[tsdb]") {
  auto& [dir, server, c, admin, key] = tsdb();
  const std::int64_t t0 = half_an_hour_ago();
  auto res = post(c, "/api/v1/metrics", "Bearer " + key, "application/json",
                  R"([{"metric_name":"val_j","value":1,"timestamp":)" + std::to_string(t0 / 1000) +
                      R"(},{"metric_name":"val_j","value":"2","timestamp":)" +
                      std::to_string(t0 / 1000 + 1) + "}]");
  check_envelope(res, 400, "INVALID_INPUT");
  auto issues = issues_of(res);
  REQUIRE(issues.size() == 1);
  CHECK(issues[0].at("index").as_int64() == 1);
  CHECK(issues[0].at("field").as_string() == "value");
  CHECK(range(c, key, "val_j", t0 - 1000, t0 + 10'000).empty());
}

TEST_CASE(
    "tsdb validation: a sample within the hour behind its series' newest is stored; one further "
    "behind is refused as too_old",
    "[tsdb]") {
  auto& [dir, server, c, admin, key] = tsdb();
  const std::int64_t newest = half_an_hour_ago() + 100'000;
  REQUIRE(write_lp(c, key, line("val_window", "10", newest)).status == 204);
  // 50 s behind the newest: within the one-hour window.
  REQUIRE(write_lp(c, key, line("val_window", "5", newest - 50'000)).status == 204);
  // 3601 s behind: refused, with the reason.
  auto res = write_lp(c, key, line("val_window", "1", newest - 3'601'000));
  check_envelope(res, 400, "INVALID_INPUT");
  auto issues = issues_of(res);
  REQUIRE(issues.size() == 1);
  CHECK(issues[0].at("line").as_int64() == 1);
  CHECK(issues[0].at("field").as_string() == "timestamp");
  CHECK(contains(issues[0].at("reason").as_string(), "too_old"));
  check_exact(points_of(c, key, "val_window", newest - 3'700'000, newest),
              {{newest - 50'000, 5}, {newest, 10}});
}

TEST_CASE(
    "tsdb validation: a stored sample sent again is a duplicate; another value at a stored "
    "time, in order or not, is refused",
    "[tsdb]") {
  auto& [dir, server, c, admin, key] = tsdb();
  const std::int64_t t0 = half_an_hour_ago();
  const std::int64_t newest = t0 + 100'000;
  REQUIRE(write_lp(c, key, line("val_b", "10", newest)).status == 204);
  REQUIRE(write_lp(c, key, line("val_b", "5", newest - 50'000)).status == 204);  // out of order
  // The same sample again: accepted, nothing new stored.
  auto dup = post(c, "/api/v1/metrics", "Bearer " + key, "application/json",
                  R"({"metric_name":"val_b","value":10,"timestamp":)" +
                      std::to_string(newest / 1000) + R"(,"tags":{"host":"h"}})");
  auto data = data_of(dup);
  CHECK(data.at("accepted").as_int64() == 1);
  CHECK(data.at("duplicates").as_int64() == 1);
  CHECK(write_lp(c, key, line("val_b", "10", newest)).status == 204);
  // Another value at a stored time: refused.
  CHECK(refused_once(write_lp(c, key, line("val_b", "11", newest)), "duplicate_conflict")
            .at("field")
            .as_string() == "value");
  // The same for a sample that arrived out of order.
  CHECK(write_lp(c, key, line("val_b", "5", newest - 50'000)).status == 204);
  refused_once(write_lp(c, key, line("val_b", "6", newest - 50'000)), "duplicate_conflict");
  check_exact(points_of(c, key, "val_b", t0 - 3'600'000, newest),
              {{newest - 50'000, 5}, {newest, 10}});
}

TEST_CASE(
    "tsdb validation: within one body a repeated sample counts once, and two values for one "
    "time refuse the second line",
    "[tsdb]") {
  auto& [dir, server, c, admin, key] = tsdb();
  const std::int64_t t0 = half_an_hour_ago();
  auto data = data_of(post(c, "/api/v1/metrics/csv", "Bearer " + key, "text/csv",
                           "metric,value,timestamp\nval_d,1," + std::to_string(t0 / 1000) +
                               "\nval_d,1," + std::to_string(t0 / 1000) + "\n"));
  CHECK(data.at("accepted").as_int64() == 2);
  CHECK(data.at("duplicates").as_int64() == 1);
  CHECK(refused_once(write_lp(c, key, line("val_e", "1", t0) + line("val_e", "2", t0)),
                     "duplicate_conflict")
            .at("line")
            .as_int64() == 2);
  CHECK(range(c, key, "val_e", t0 - 1000, t0 + 1000).empty());
  check_exact(points_of(c, key, "val_d", t0 - 1000, t0 + 1000), {{t0, 1}});
}

TEST_CASE(
    "tsdb validation: a store refusal inside a batch refuses it all, naming the line; "
    "partial=true stores the rest",
    "[tsdb]") {
  auto& [dir, server, c, admin, key] = tsdb();
  const std::int64_t t0 = half_an_hour_ago();
  const std::int64_t newest = t0 + 100'000;
  const std::string mixed = line("val_c", "1", newest) + line("val_c", "2", newest - 4'000'000) +
                            line("val_c", "3", newest + 1000);
  auto res = write_lp(c, key, mixed);
  check_envelope(res, 400, "INVALID_INPUT");
  auto issues = issues_of(res);
  REQUIRE(issues.size() == 1);
  CHECK(issues[0].at("line").as_int64() == 2);
  CHECK(contains(issues[0].at("reason").as_string(), "too_old"));
  CHECK(range(c, key, "val_c", t0 - 3'600'000, newest + 10'000).empty());
  res = post(c, "/api/v2/write?precision=ms&partial=true", "Token " + key, "text/plain", mixed);
  auto data = data_of(res);
  CHECK(data.at("accepted").as_int64() == 2);
  issues = issues_of(res);
  REQUIRE(issues.size() == 1);
  CHECK(issues[0].at("line").as_int64() == 2);
  check_exact(points_of(c, key, "val_c", t0 - 3'600'000, newest + 10'000),
              {{newest, 1}, {newest + 1000, 3}});
}

TEST_CASE("tsdb validation: NaN and infinities are refused in line protocol and CSV", "[tsdb]") {
  auto& [dir, server, c, admin, key] = tsdb();
  const std::int64_t t0 = half_an_hour_ago();
  for (const char* bad : {"NaN", "nan", "inf", "-Infinity"}) {
    INFO("line protocol: " << bad);
    auto res = write_lp(c, key, line("val_nan", bad, t0));
    check_envelope(res, 400, "INVALID_INPUT");
    auto issues = issues_of(res);
    REQUIRE(issues.size() == 1);
    CHECK(issues[0].at("field").as_string() == "field:value");
  }
  INFO("CSV: NaN");
  auto res = post(c, "/api/v1/metrics/csv", "Bearer " + key, "text/csv",
                  "metric,value,timestamp\nval_nan,NaN," + std::to_string(t0 / 1000) + "\n");
  check_envelope(res, 400, "INVALID_INPUT");
  auto issues = issues_of(res);
  REQUIRE(issues.size() == 1);
  CHECK(issues[0].at("line").as_int64() == 2);
  CHECK(issues[0].at("field").as_string() == "value");
  CHECK(range(c, key, "val_nan", t0 - 1000, t0 + 1000).empty());
}

TEST_CASE(
    "tsdb validation: a sample an hour in the future is refused; five minutes ahead is within "
    "the limit",
    "[tsdb]") {
  auto& [dir, server, c, admin, key] = tsdb();
  const auto now = now_ms();
  auto res = write_lp(c, key, line("val_future", "1", now + 3'600'000));
  check_envelope(res, 400, "INVALID_INPUT");
  auto issues = issues_of(res);
  REQUIRE(issues.size() == 1);
  CHECK(issues[0].at("field").as_string() == "timestamp");
  CHECK(contains(issues[0].at("reason").as_string(), "too_far_in_future"));
  CHECK(range(c, key, "val_future", now, now + 4'000'000).empty());
  REQUIRE(write_lp(c, key, line("val_future", "2", now + 300'000)).status == 204);
  check_exact(points_of(c, key, "val_future", now, now + 4'000'000), {{now + 300'000, 2}});
}

TEST_CASE("tsdb validation: a sample beyond raw retention (30 days) is refused", "[tsdb]") {
  auto& [dir, server, c, admin, key] = tsdb();
  const auto now = now_ms();
  auto res = write_lp(c, key, line("val_ancient", "1", now - 31LL * 86'400'000));
  check_envelope(res, 400, "INVALID_INPUT");
  REQUIRE(issues_of(res).size() == 1);
  CHECK(contains(issues_of(res)[0].at("reason").as_string(), "beyond_retention"));
}

// The time-series store through the real binary, validation of what is written: all-or-nothing
// versus partial writes, the out-of-order window, duplicates, NaN and the future.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <mutex>
#include <regex>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "support/server_process.hpp"
#include "support/temp_dir.hpp"
#include "support/tsdb_http.hpp"

using netpulse::test::HttpClient;
using netpulse::test::HttpRequest;
using netpulse::test::HttpResponse;
using netpulse::test::kAdminEmail;
using netpulse::test::kAdminPassword;
using netpulse::test::login;
using netpulse::test::run_netpulse;
using netpulse::test::ServerProcess;
using netpulse::test::TempDir;
using namespace netpulse::test::tsdb_http;

TEST_CASE(
    "tsdb: validation: all or nothing unless partial, the out-of-order window, "
    "duplicates, NaN and the future",
    "[tsdb]") {
  TempDir dir;
  ServerProcess server(dir.path(), tsdb_env());
  auto c = server.client();
  const auto admin = login(c, kAdminEmail, kAdminPassword);
  const auto key = create_key(c, admin, "collector");
  const std::int64_t t0 = (now_ms() / 1000 - 1800) * 1000;
  auto line = [](const std::string& metric, const std::string& value, std::int64_t t) {
    return metric + ",host=h value=" + value + " " + std::to_string(t) + "\n";
  };

  // One bad line among good ones: 400 naming line 3, nothing stored.
  const std::string body = line("val_a", "1", t0) + line("val_a", "2", t0 + 1000) +
                           line("val_a", "oops", t0 + 2000) + line("val_a", "4", t0 + 3000);
  {
    auto res = write_lp(c, key, body);
    check_envelope(res, 400, "INVALID_INPUT");
    auto issues = issues_of(res);
    REQUIRE(issues.size() == 1);
    CHECK(issues[0].at("line").as_int64() == 3);
    CHECK(issues[0].at("field").as_string() == "field:value");
    CHECK(!issues[0].at("reason").as_string().empty());
    CHECK(res.json().at("error").at("details").at("stored").as_int64() == 0);
    CHECK(range(c, key, "val_a", t0 - 1000, t0 + 10'000).empty());
  }
  // partial=true: the good ones are stored, the bad one listed.
  {
    auto res =
        post(c, "/api/v2/write?precision=ms&partial=true", "Token " + key, "text/plain", body);
    auto data = data_of(res);
    CHECK(data.at("accepted").as_int64() == 3);
    CHECK(data.at("refused_count").as_int64() == 1);
    auto issues = issues_of(res);
    REQUIRE(issues.size() == 1);
    CHECK(issues[0].at("line").as_int64() == 3);
    CHECK(issues[0].at("field").as_string() == "field:value");
    check_exact(points_of(c, key, "val_a", t0 - 1000, t0 + 10'000),
                {{t0, 1}, {t0 + 1000, 2}, {t0 + 3000, 4}});
  }
  // JSON: the issue names the array index.
  {
    auto res =
        post(c, "/api/v1/metrics", "Bearer " + key, "application/json",
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

  // Out of order within the window, too old behind the series' newest sample, duplicates.
  const std::int64_t newest = t0 + 100'000;
  {
    REQUIRE(write_lp(c, key, line("val_b", "10", newest)).status == 204);
    // 50 s behind the newest: within the one-hour window.
    REQUIRE(write_lp(c, key, line("val_b", "5", newest - 50'000)).status == 204);
    // 3601 s behind: refused, with the reason.
    auto res = write_lp(c, key, line("val_b", "1", newest - 3'601'000));
    check_envelope(res, 400, "INVALID_INPUT");
    auto issues = issues_of(res);
    REQUIRE(issues.size() == 1);
    CHECK(issues[0].at("line").as_int64() == 1);
    CHECK(issues[0].at("field").as_string() == "timestamp");
    CHECK(contains(issues[0].at("reason").as_string(), "too_old"));
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
    // Within one body: a repeated sample counts once; two values for one time refuse the line.
    data = data_of(post(c, "/api/v1/metrics/csv", "Bearer " + key, "text/csv",
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
  // A refusal by the store inside a batch: all or nothing names its line; partial stores the rest.
  {
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
  // NaN and infinities, in line protocol and CSV.
  for (const char* bad : {"NaN", "nan", "inf", "-Infinity"}) {
    INFO(bad);
    auto res = write_lp(c, key, line("val_nan", bad, t0));
    check_envelope(res, 400, "INVALID_INPUT");
    auto issues = issues_of(res);
    REQUIRE(issues.size() == 1);
    CHECK(issues[0].at("field").as_string() == "field:value");
  }
  {
    auto res = post(c, "/api/v1/metrics/csv", "Bearer " + key, "text/csv",
                    "metric,value,timestamp\nval_nan,NaN," + std::to_string(t0 / 1000) + "\n");
    check_envelope(res, 400, "INVALID_INPUT");
    auto issues = issues_of(res);
    REQUIRE(issues.size() == 1);
    CHECK(issues[0].at("line").as_int64() == 2);
    CHECK(issues[0].at("field").as_string() == "value");
    CHECK(range(c, key, "val_nan", t0 - 1000, t0 + 1000).empty());
  }
  // The future: an hour ahead is refused; five minutes ahead is within the limit.
  {
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
    // Beyond raw retention (30 days): refused.
    res = write_lp(c, key, line("val_ancient", "1", now - 31LL * 86'400'000));
    check_envelope(res, 400, "INVALID_INPUT");
    REQUIRE(issues_of(res).size() == 1);
    CHECK(contains(issues_of(res)[0].at("reason").as_string(), "beyond_retention"));
  }
}

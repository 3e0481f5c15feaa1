// The time-series store through the real binary, ingest: every format (line protocol on both
// paths and gzipped, JSON, CSV, KPIs) reads back bit for bit, and Telegraf's default batch with
// string fields is stored with the strings counted. The cases share one server (TsdbServer), each
// with metric names of its own.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "support/tsdb_http.hpp"

using namespace netpulse::test::tsdb_http;

namespace {

TsdbServer& tsdb() {
  static TsdbServer shared("telegraf");
  return shared;
}

// Half an hour ago, in whole seconds.
std::int64_t half_an_hour_ago_s() {
  return now_ms() / 1000 - 1800;
}

// Values that any rounding on the way in or out would change, among them 2^53, 2^54, the
// smallest subnormal, the largest double and negative zero.
const std::vector<double> kTricky = {0.1,
                                     1e-300,
                                     123456789.123,
                                     9007199254740992.0,
                                     1.2345678901234567e-300,
                                     5.409760742964738e+124,
                                     -0.30000000000000004,
                                     5e-324,
                                     1.7976931348623157e308,
                                     -0.0,
                                     0.0,
                                     98.2,
                                     18014398509481984.0,
                                     -123456789012.0,
                                     3.141592653589793};

}  // namespace

TEST_CASE(
    "tsdb ingest: line protocol at precision s with a Token key reads tricky doubles back bit "
    "for bit",
    "[tsdb]") {
  auto& [dir, server, c, admin, key] = tsdb();
  const std::int64_t t0 = half_an_hour_ago_s();
  const std::int64_t t0_ms = t0 * 1000;
  std::vector<Point> tricky_at;  // kTricky[i] at t0 + i s
  for (std::size_t i = 0; i < kTricky.size(); ++i)
    tricky_at.push_back({t0_ms + static_cast<std::int64_t>(i) * 1000, kTricky[i]});
  std::string lp;
  for (const auto& p : tricky_at)
    lp += "lp_exact,host=web-01,dc=eu value=" + num(p.v) + " " + std::to_string(p.t / 1000) + "\n";
  lp += "# a comment line\n\n";
  auto res = write_lp(c, key, lp, "s");
  INFO(res.body);
  REQUIRE(res.status == 204);
  CHECK(res.body.empty());

  auto s = range(c, key, R"(lp_exact{host="web-01"})", t0_ms - 1000, t0_ms + 60'000);
  REQUIRE(s.size() == 1);
  CHECK(s[0].metric == "lp_exact");
  CHECK(s[0].labels == Labels{{"dc", "eu"}, {"host", "web-01"}});
  check_exact(s[0].points, tricky_at);
}

TEST_CASE(
    "tsdb ingest: line protocol integers, unsigned integers and booleans are stored as the "
    "format page says",
    "[tsdb]") {
  auto& [dir, server, c, admin, key] = tsdb();
  const std::int64_t t0 = half_an_hour_ago_s();
  const std::int64_t t0_ms = t0 * 1000;
  const std::vector<std::pair<std::string, double>> typed = {
      {"9007199254740993i", 9007199254740992.0},  // beyond 2^53: the nearest double
      {"-9223372036854775808i", -9223372036854775808.0},
      {"18446744073709551615u", 18446744073709551616.0},
      {"42i", 42},
      {"true", 1},
      {"F", 0}};
  std::string lp;
  std::vector<Point> typed_at;
  for (std::size_t i = 0; i < typed.size(); ++i) {
    auto t = t0 + 100 + static_cast<std::int64_t>(i);
    lp += "lp_typed,host=web-01 value=" + typed[i].first + " " + std::to_string(t) + "\n";
    typed_at.push_back({t * 1000, typed[i].second});
  }
  auto res = write_lp(c, key, lp, "s");
  INFO(res.body);
  REQUIRE(res.status == 204);
  check_exact(points_of(c, key, "lp_typed", t0_ms, t0_ms + 200'000), typed_at);
}

TEST_CASE(
    "tsdb ingest: a line protocol line of several fields is the measurement plus one "
    "measurement_field series per other field",
    "[tsdb]") {
  auto& [dir, server, c, admin, key] = tsdb();
  const std::int64_t t0 = half_an_hour_ago_s();
  const std::int64_t t0_ms = t0 * 1000;
  auto res = write_lp(
      c, key,
      "lp_multi,host=web-01 value=1.5,load=2.25,count=42i,up=t " + std::to_string(t0) + "\n", "s");
  INFO(res.body);
  REQUIRE(res.status == 204);

  auto multi = range(c, key, R"({__name__=~"lp_multi.*"})", t0_ms, t0_ms);
  REQUIRE(multi.size() == 4);
  const std::vector<std::pair<std::string, double>> fields = {
      {"lp_multi", 1.5}, {"lp_multi_count", 42}, {"lp_multi_load", 2.25}, {"lp_multi_up", 1}};
  for (std::size_t i = 0; i < fields.size(); ++i) {
    INFO(fields[i].first);
    CHECK(multi[i].metric == fields[i].first);
    CHECK(multi[i].labels == Labels{{"host", "web-01"}});
    check_exact(multi[i].points, {{t0_ms, fields[i].second}});
  }
}

TEST_CASE(
    "tsdb ingest: line protocol names are sanitized, escaped tag values unescaped and UTF-8 "
    "label values kept unchanged",
    "[tsdb]") {
  auto& [dir, server, c, admin, key] = tsdb();
  const std::int64_t t0 = half_an_hour_ago_s();
  const std::int64_t t0_ms = t0 * 1000;
  const std::string lp = "lp.dotted,host.name=h\\,1,zone=a\\ b\\=c value=7 " + std::to_string(t0) +
                         "\n" + "lp_utf8,site=Z\xc3\xbcrich,icon=\xf0\x9f\x9a\x80 value=8 " +
                         std::to_string(t0) + "\n";
  auto res = write_lp(c, key, lp, "s");
  INFO(res.body);
  REQUIRE(res.status == 204);

  auto dotted = range(c, key, "lp_dotted", t0_ms, t0_ms);
  REQUIRE(dotted.size() == 1);
  CHECK(dotted[0].labels == Labels{{"host_name", "h,1"}, {"zone", "a b=c"}});
  check_exact(dotted[0].points, {{t0_ms, 7}});
  auto utf8 = range(c, key, "lp_utf8{site=\"Z\xc3\xbcrich\"}", t0_ms, t0_ms);
  REQUIRE(utf8.size() == 1);
  CHECK(utf8[0].labels == Labels{{"icon", "\xf0\x9f\x9a\x80"}, {"site", "Z\xc3\xbcrich"}});
  check_exact(utf8[0].points, {{t0_ms, 8}});
}

TEST_CASE("tsdb ingest: line protocol on /write at precision ms with Bearer reads back exactly",
          "[tsdb]") {
  auto& [dir, server, c, admin, key] = tsdb();
  const std::int64_t t0_ms = half_an_hour_ago_s() * 1000;
  const std::vector<Point> ms_points = {
      {t0_ms + 123, 0.5}, {t0_ms + 124, 1e-300}, {t0_ms + 999, 2.5}, {t0_ms + 1001, -7}};
  std::string lp;
  for (const auto& p : ms_points)
    lp += "lp_ms,host=web-02 value=" + num(p.v) + " " + std::to_string(p.t) + "\n";
  auto res = post(c, "/write?precision=ms", "Bearer " + key, "text/plain", lp);
  INFO(res.body);
  REQUIRE(res.status == 204);
  check_exact(points_of(c, key, R"(lp_ms{host="web-02"})", t0_ms, t0_ms + 2000), ms_points);
}

TEST_CASE(
    "tsdb ingest: line protocol in nanoseconds, the default precision, is floored to the "
    "millisecond",
    "[tsdb]") {
  auto& [dir, server, c, admin, key] = tsdb();
  const std::int64_t t0 = half_an_hour_ago_s();
  const std::int64_t t0_ms = t0 * 1000;
  auto res = post(c, "/api/v2/write", "Token " + key, "text/plain",
                  "lp_ns value=3 " + std::to_string(t0) + "123999999\n");
  INFO(res.body);
  REQUIRE(res.status == 204);
  check_exact(points_of(c, key, "lp_ns", t0_ms, t0_ms + 1000), {{t0_ms + 123, 3}});
}

TEST_CASE("tsdb ingest: gzip-compressed line protocol reads back exactly", "[tsdb]") {
  auto& [dir, server, c, admin, key] = tsdb();
  const std::int64_t t0_ms = half_an_hour_ago_s() * 1000;
  std::string lp;
  std::vector<Point> expected;
  for (int i = 0; i < 300; ++i) {
    Point p{t0_ms + i * 1000, i * 0.1 - 7.3};
    expected.push_back(p);
    lp += "lp_gz,host=web-03 value=" + num(p.v) + " " + std::to_string(p.t / 1000) + "\n";
  }
  auto body = gzip(lp);
  REQUIRE(body.size() < lp.size());
  auto res = write_lp(c, key, body, "s", {{"Content-Encoding", "gzip"}});
  INFO(res.body);
  REQUIRE(res.status == 204);
  check_exact(points_of(c, key, "lp_gz", t0_ms, t0_ms + 300'000), expected);
}

TEST_CASE(
    "tsdb ingest: a JSON object, then an array with a fractional timestamp, read back exactly "
    "and count new series",
    "[tsdb]") {
  auto& [dir, server, c, admin, key] = tsdb();
  const std::int64_t t0 = half_an_hour_ago_s();
  const std::int64_t t0_ms = t0 * 1000;
  auto res = post(c, "/api/v1/metrics", "Bearer " + key, "application/json",
                  R"({"metric_name":"cpu_usage","value":92.5,"timestamp":)" + std::to_string(t0) +
                      R"(,"tags":{"host":"web-01"}})");
  auto data = data_of(res);
  CHECK(data.at("accepted").as_int64() == 1);
  CHECK(data.at("new_series").as_int64() == 1);
  CHECK(data.at("refused").as_array().empty());

  std::string arr = "[";
  std::vector<Point> expected = {{t0_ms, 92.5}};
  for (std::size_t i = 0; i < kTricky.size(); ++i) {
    auto t = t0 + 1 + static_cast<std::int64_t>(i);
    if (i) arr += ",";
    arr += R"({"metric_name":"cpu_usage","value":)" + json_num(kTricky[i]) + R"(,"timestamp":)" +
           std::to_string(t) + R"(,"tags":{"host":"web-01"}})";
    expected.push_back({t * 1000, kTricky[i]});
  }
  // A fractional timestamp keeps its milliseconds.
  arr += R"(,{"metric_name":"cpu_usage","value":1,"timestamp":)" + std::to_string(t0 + 100) +
         R"(.25,"tags":{"host":"web-01"}}])";
  expected.push_back({(t0 + 100) * 1000 + 250, 1});
  data = data_of(post(c, "/api/v1/metrics", "Bearer " + key, "application/json", arr));
  CHECK(data.at("accepted").as_int64() == static_cast<std::int64_t>(kTricky.size() + 1));
  CHECK(data.at("new_series").as_int64() == 0);
  check_exact(points_of(c, key, R"(cpu_usage{host="web-01"})", t0_ms, t0_ms + 200'000), expected);
}

TEST_CASE("tsdb ingest: JSON with precision=ms takes the timestamp in milliseconds", "[tsdb]") {
  auto& [dir, server, c, admin, key] = tsdb();
  const std::int64_t t0_ms = half_an_hour_ago_s() * 1000;
  auto data = data_of(post(
      c, "/api/v1/metrics?precision=ms", "Bearer " + key, "application/json",
      R"({"metric_name":"json_ms","value":0.1,"timestamp":)" + std::to_string(t0_ms + 7) + "}"));
  CHECK(data.at("accepted").as_int64() == 1);
  check_exact(points_of(c, key, "json_ms", t0_ms, t0_ms + 1000), {{t0_ms + 7, 0.1}});
}

TEST_CASE(
    "tsdb ingest: CSV reads back exactly, with fractional seconds, empty label cells and RFC "
    "4180 quoting",
    "[tsdb]") {
  auto& [dir, server, c, admin, key] = tsdb();
  const std::int64_t t0 = half_an_hour_ago_s();
  const std::int64_t t0_ms = t0 * 1000;
  std::string csv = "metric,value,timestamp,host\n";
  std::vector<Point> expected;
  for (std::size_t i = 0; i < kTricky.size(); ++i) {
    auto t = t0 + static_cast<std::int64_t>(i);
    bool frac = i % 2 == 1;
    csv += "csv_metric," + num(kTricky[i]) + "," + std::to_string(t) + (frac ? ".250" : "") +
           ",web-01\r\n";
    expected.push_back({t * 1000 + (frac ? 250 : 0), kTricky[i]});
  }
  csv += "csv_metric,7," + std::to_string(t0) + ",\n";  // empty cell: no host label
  csv += "csv_quoted,8," + std::to_string(t0) + ",\"a,\"\"b\"\"\nc\"\n";  // RFC 4180 quoting
  auto data = data_of(post(c, "/api/v1/metrics/csv", "Bearer " + key, "text/csv", csv));
  CHECK(data.at("accepted").as_int64() == static_cast<std::int64_t>(kTricky.size() + 2));
  CHECK(data.at("new_series").as_int64() == 3);
  check_exact(points_of(c, key, R"(csv_metric{host="web-01"})", t0_ms, t0_ms + 60'000), expected);
  auto bare = range(c, key, R"(csv_metric{host=""})", t0_ms, t0_ms + 60'000);
  REQUIRE(bare.size() == 1);
  CHECK(bare[0].labels.empty());
  check_exact(bare[0].points, {{t0_ms, 7}});
  auto quoted = range(c, key, "csv_quoted", t0_ms, t0_ms);
  REQUIRE(quoted.size() == 1);
  CHECK(quoted[0].labels == Labels{{"host", "a,\"b\"\nc"}});
  check_exact(quoted[0].points, {{t0_ms, 8}});
}

TEST_CASE(
    "tsdb ingest: an operator's KPIs record who entered them; the same again is a duplicate, "
    "another value a conflict; every attempt is audited",
    "[tsdb]") {
  auto& [dir, server, c, admin, key] = tsdb();
  const std::int64_t t0 = half_an_hour_ago_s();
  const std::int64_t t0_ms = t0 * 1000;
  const std::string email = "kpi-operator@tsdb.example";
  auto op = create_user_token(c, admin, email, "operator");
  {
    INFO("a KPI is recorded with who entered it, its tags and its note");
    auto res =
        c.post_json("/api/v1/kpis",
                    R"({"metric_name":"kpi_sla","value":99.95,"timestamp":)" + std::to_string(t0) +
                        R"(,"tags":{"team":"noc"},"note":"monthly SLA"})",
                    op);
    INFO(res.body);
    REQUIRE(res.status == 201);
    auto data = res.json().at("data");
    CHECK(data.at("entered_by").as_string() == email);
    CHECK(data.at("metric_name").as_string() == "kpi_sla");
    CHECK(same_bits(data.at("value").to_number<double>(), 99.95));
    CHECK(json_ms(data.at("timestamp")) == t0_ms);
    CHECK(data.at("tags").at("team").as_string() == "noc");
    CHECK(data.at("note").as_string() == "monthly SLA");
    res = c.post_json("/api/v1/kpis",
                      R"({"metric_name":"kpi_sla","value":1.2345678901234567e-300,"timestamp":)" +
                          std::to_string(t0 + 1) + R"(,"tags":{"team":"noc"}})",
                      op);
    INFO(res.body);
    REQUIRE(res.status == 201);
    CHECK(
        same_bits(res.json().at("data").at("value").to_number<double>(), 1.2345678901234567e-300));
  }
  {
    INFO("the same KPI again is a duplicate; another value for the same time is refused");
    const std::string first = R"({"metric_name":"kpi_sla","value":99.95,"timestamp":)" +
                              std::to_string(t0) + R"(,"tags":{"team":"noc"}})";
    auto res = c.post_json("/api/v1/kpis", first, op);
    INFO(res.body);
    REQUIRE(res.status == 201);
    CHECK(res.json().at("data").at("duplicate") == true);
    auto conflict = first;
    conflict.replace(conflict.find("99.95"), 5, "50.05");
    check_envelope(c.post_json("/api/v1/kpis", conflict, op), 400, "INVALID_INPUT");
    check_exact(points_of(c, key, R"(kpi_sla{team="noc"})", t0_ms, t0_ms + 10'000),
                {{t0_ms, 99.95}, {t0_ms + 1000, 1.2345678901234567e-300}});
  }
  {
    INFO("the audit log has the four attempts, the refused one as a failure");
    // The audit log is written behind the answer: wait for all four rows.
    std::vector<boost::json::object> rows;
    for (int attempt = 0; attempt < 50 && rows.size() < 4; ++attempt) {
      if (attempt) std::this_thread::sleep_for(std::chrono::milliseconds(100));
      rows.clear();
      auto audit = data_of(c.get("/api/v1/audit?per_page=500", admin));
      for (const auto& e : audit.as_array()) {
        if (e.at("target") == "kpis/kpi_sla") rows.push_back(e.as_object());
      }
    }
    REQUIRE(rows.size() == 4);
    int failures = 0;
    for (const auto& row : rows) {
      INFO(boost::json::serialize(row));
      CHECK(row.at("actor").as_string() == email);
      CHECK(row.at("action").as_string() == "POST /api/v1/kpis");
      const bool failed = row.at("outcome").as_string() == "failure";
      failures += failed ? 1 : 0;
      CHECK(row.at("status").as_int64() == (failed ? 400 : 201));
    }
    CHECK(failures == 1);
  }
  {
    INFO("the event log lists the two values stored (kind kpi), with the note and who");
    // The event log is written behind the answer: wait for both rows (bounded).
    boost::json::value events;
    for (int attempt = 0; attempt < 50; ++attempt) {
      if (attempt) std::this_thread::sleep_for(std::chrono::milliseconds(100));
      events = data_of(c.get("/api/v1/events?kind=kpi&per_page=50", admin));
      if (events.as_array().size() >= 2) break;
    }
    REQUIRE(events.as_array().size() == 2);  // the duplicate and the refused one are not there
    const auto& newest = events.as_array().front().at("details");
    CHECK(newest.at("metric_name") == "kpi_sla");
    CHECK(newest.at("entered_by").as_string() == email);
    CHECK(newest.at("tags").at("team") == "noc");
    const auto& oldest = events.as_array().back();
    CHECK(oldest.at("kind") == "kpi");
    CHECK(oldest.at("device_id").is_null());
    CHECK(oldest.at("details").at("note") == "monthly SLA");
    CHECK(std::string(oldest.at("message").as_string()).find("kpi_sla = 99.95") !=
          std::string::npos);
  }
}

TEST_CASE(
    "tsdb ingest: Telegraf's default batch with string fields is stored; the strings are "
    "skipped and counted",
    "[tsdb][lp]") {
  // Before the fix a string field (Telegraf's system input sends uptime_format in every batch)
  // made the whole request 400, so nothing was stored.
  auto& [dir, server, c, admin, key] = tsdb();
  const auto t0 = now_ms() - 600'000;
  const std::string skipped_strings = R"(netpulse_ingest_fields_skipped_total\{reason="string"\})";
  // The counter is the server's; this case is the only one of the file that sends strings.
  const double skipped_before = std::max(0.0, metric_value(c, skipped_strings));

  // Over 256 KiB, so the body is parsed in two halves; every string holds a newline, so a cut at
  // the first newline past the middle would fall inside one.
  std::string body;
  int lines = 0;
  while (body.size() < (400u << 10)) {
    const auto t = std::to_string(t0 + lines);
    body += "system,host=web-01 load1=0.5,n_users=2i," + std::string("uptime_format=\"1 day,\n") +
            std::string(40, ' ') + "2:03\" " + t + "\n";
    body += "system,host=web-01 uptime_format=\"only a string\" " + t + "\n";
    ++lines;
  }
  auto res = write_lp(c, key, body, "ms");
  INFO(res.body.substr(0, 2000));
  REQUIRE(res.status == 204);
  auto load = points_of(c, key, "system_load1", t0, t0 + lines);
  CHECK(load.size() == static_cast<std::size_t>(lines));
  CHECK(points_of(c, key, "system_n_users", t0, t0 + lines).size() ==
        static_cast<std::size_t>(lines));
  CHECK(range(c, key, "system_uptime_format", t0, t0 + lines).empty());
  CHECK(metric_value(c, skipped_strings) - skipped_before == 2.0 * lines);
}

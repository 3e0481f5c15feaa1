// The time-series store through the real binary, hostile and oversized input: hostile bodies in
// every format get a clear 4xx and the server carries on; gzip bombs of zeros and of valid records
// stop at the caps in bounded memory; reaching 80 % and 100 % of the series limit is an event.
// The hostile-body cases share one server (TsdbServer); the bomb cases measure the peak memory of
// a server, so each has a fresh one, and the series-limit case a server with a small limit.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <sys/types.h>
#include <thread>
#include <vector>

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "support/server_process.hpp"
#include "support/temp_dir.hpp"
#include "support/tsdb_http.hpp"

using netpulse::test::HttpClient;
using netpulse::test::kAdminEmail;
using netpulse::test::kAdminPassword;
using netpulse::test::login;
using netpulse::test::ServerProcess;
using netpulse::test::TempDir;
using namespace netpulse::test::tsdb_http;

namespace {

TsdbServer& tsdb() {
  static TsdbServer shared("collector");
  return shared;
}

// Ten minutes ago, in whole seconds.
std::string ten_minutes_ago_s() {
  return std::to_string(now_ms() / 1000 - 600);
}

// 1 GiB of zeros, gzipped.
const std::string& zeros_bomb() {
  static const std::string bomb = gzip_zeros(1024);
  return bomb;
}

const std::string kBigValue(1 << 20, 'x');
const std::string kNul(1, '\0');
const std::string kBad = "INVALID_INPUT", kMalformed = "MALFORMED_JSON",
                  kTooLarge = "PAYLOAD_TOO_LARGE", kMedia = "UNSUPPORTED_MEDIA_TYPE";

struct HostileBody {
  std::string what;
  std::string target;
  std::string content_type;
  std::string body;
  std::vector<int> statuses;  // any of these
  std::string code;           // "" when the status decides
  std::string encoding;
  std::string message_has = "";  // the error message contains this
};

// Posts each body with the server's key: a clear 4xx error envelope, parse issues pointing at a
// line or an index, and the server still alive after each.
void check_refused(TsdbServer& s, const std::vector<HostileBody>& bodies) {
  auto& c = s.c;
  for (const auto& k : bodies) {
    INFO(k.what);
    Headers extra;
    if (!k.encoding.empty()) extra.emplace_back("Content-Encoding", k.encoding);
    auto res = post(c, k.target, "Bearer " + s.key, k.content_type, k.body, extra);
    INFO("status " << res.status << ": " << res.body.substr(0, 600));
    CHECK(std::find(k.statuses.begin(), k.statuses.end(), res.status) != k.statuses.end());
    check_envelope(res, res.status, k.code);
    if (!k.message_has.empty()) {
      CHECK_THAT(std::string(res.json().at("error").at("message").as_string()),
                 Catch::Matchers::Contains(k.message_has));
    }
    // Parse issues point at a line or an index.
    if (res.status == 400 && k.code == "INVALID_INPUT" && k.target != "/api/v1/kpis") {
      auto issues = issues_of(res);
      if (!issues.empty()) {
        CHECK((issues[0].contains("line") || issues[0].contains("index")));
        CHECK(!issues[0].at("reason").as_string().empty());
      } else {
        CHECK(res.json().at("error").at("details").as_object().contains("field"));
      }
    }
    REQUIRE(c.get("/alive").status == 200);
  }
}

// The metric names stored, but for the after_hostile_* ones that check_carries_on writes.
std::vector<std::string> hostile_names(TsdbServer& s) {
  auto names = strings(data_of(s.c.get("/api/v1/label/__name__/values", s.key)));
  std::erase_if(names, [](const std::string& n) { return n.starts_with("after_hostile"); });
  return names;
}

// After the hostile bodies: still healthy, nothing hostile stored, and a normal write of
// `metric` (after_hostile_<format>) at `t` (seconds) works.
void check_carries_on(TsdbServer& s, const std::string& metric, const std::string& t) {
  INFO("after the hostile bodies");
  auto& c = s.c;
  CHECK(s.server.running());
  CHECK(c.get("/health").status == 200);
  CHECK(hostile_names(s).empty());
  auto res = write_lp(c, s.key, metric + ",host=a value=42.5 " + t + "\n", "s");
  INFO(res.body);
  REQUIRE(res.status == 204);
  const std::int64_t t_ms = std::stoll(t) * 1000;
  check_exact(points_of(c, s.key, metric, t_ms, t_ms), {{t_ms, 42.5}});
  const auto names = strings(data_of(c.get("/api/v1/label/__name__/values", s.key)));
  CHECK(std::find(names.begin(), names.end(), metric) != names.end());
  CHECK(hostile_names(s).empty());
}

}  // namespace

TEST_CASE("tsdb limits: the tests' gzip bomb inflates to exactly the zeros it claims", "[tsdb]") {
  REQUIRE(inflated_zeros(gzip_zeros(4)) == 4LL << 20);
  REQUIRE(zeros_bomb().size() < 2'000'000);
}

TEST_CASE(
    "tsdb limits: hostile line-protocol bodies get a clear 4xx, store nothing, and the server "
    "carries on",
    "[tsdb]") {
  auto& s = tsdb();
  const auto t = ten_minutes_ago_s();
  std::string many_lines;
  many_lines.reserve(200'001 * 32);
  const auto t_ms = std::stoll(t) * 1000;
  for (int i = 0; i < 200'001; ++i)
    many_lines += "hostile_many value=1 " + std::to_string(t_ms - i) + "\n";
  const std::string lp_valid = "hostile_gz value=1 " + t + "\n";
  std::string truncated_gzip = gzip(lp_valid + lp_valid);
  truncated_gzip.resize(truncated_gzip.size() - 12);
  // ~0.5 MB that would be ~100 MB of series keys: each of 200 fields carries 60 kB of tags.
  std::string wide_line = "hostile_wide";
  for (int i = 0; i < 60; ++i) wide_line += ",t" + std::to_string(i) + "=" + std::string(1000, 'v');
  wide_line += " f0=1";
  for (int i = 1; i < 200; ++i) wide_line += ",f" + std::to_string(i) + "=1";
  std::string wide;
  for (int i = 0; i < 8; ++i) wide += wide_line + " " + t + "\n";

  const std::string lp = "/api/v2/write?precision=s";
  auto lp_case = [&](std::string what, std::string body, int status, std::string code,
                     std::string encoding = "") {
    return HostileBody{what, lp, "text/plain", body, {status}, code, encoding};
  };
  const std::string& big = kBigValue;
  check_refused(
      s,
      {
          lp_case("lp: truncated line", "hostile_lp,host=a", 400, kBad),
          lp_case("lp: no value", "hostile_lp value= " + t, 400, kBad),
          lp_case("lp: lone backslash at the end", "hostile_lp value=1 \\", 400, kBad),
          lp_case("lp: lone backslash in a tag", "hostile_lp,host=a\\", 400, kBad),
          lp_case("lp: escaped space eats the field set", "hostile_lp,host=a\\ value=1", 400, kBad),
          lp_case("lp: 1 MB tag value", "hostile_lp,host=" + big + " value=1 " + t, 400, kBad),
          // A string field is skipped, not refused (Telegraf sends them); bytes glued to one are
          // not.
          lp_case("lp: bytes after a string field", "hostile_lp s=\"text\"x,value=1 " + t, 400,
                  kBad),
          lp_case("lp: control byte in a name", "hostile\x01lp value=1 " + t, 400, kBad),
          lp_case("lp: unterminated quote", "hostile_lp value=\"text " + t, 400, kBad),
          lp_case("lp: invalid UTF-8", "hostile_lp,host=\xff\xfe\xc0\x80 value=1 " + t, 400, kBad),
          lp_case("lp: NUL byte", "hostile_lp,host=a" + kNul + "b value=1 " + t, 400, kBad),
          lp_case("lp: timestamp with letters", "hostile_lp value=1 12ab", 400, kBad),
          {"lp: 200,001 lines", "/api/v2/write?precision=ms", "text/plain", many_lines, {413}, ""},
          lp_case("lp: gzip bomb of 1 GiB", zeros_bomb(), 413, kTooLarge, "gzip"),
          {"lp: wide tags times many fields",
           lp,
           "text/plain",
           wide,
           {413},
           kTooLarge,
           "",
           "series keys would take more than"},
          lp_case("lp: truncated gzip", truncated_gzip, 400, kBad, "gzip"),
          // Parsed as it inflates: a line too long to parse is skipped to its end, not kept, and
          // is an issue of its line as in a plain body.
          lp_case(
              "lp: gzip line of 2 MiB",
              gzip(lp_valid + "hostile_lp,host=" + big + big + " value=1 " + t + "\n" + lp_valid),
              400, kBad, "gzip"),
          lp_case("lp: plain text said to be gzip", lp_valid, 400, kBad, "gzip"),
          lp_case("lp: unknown Content-Encoding", lp_valid, 415, kMedia, "br"),
          {"lp: unknown precision",
           "/api/v2/write?precision=fortnight",
           "text/plain",
           lp_valid,
           {400},
           kBad},
      });
  check_carries_on(s, "after_hostile_lp", t);
}

TEST_CASE(
    "tsdb limits: hostile JSON and KPI bodies get a clear 4xx, store nothing, and the server "
    "carries on",
    "[tsdb]") {
  auto& s = tsdb();
  const auto t = ten_minutes_ago_s();
  std::string many_json = "[";
  for (int i = 0; i < 200'001; ++i)
    many_json += std::string(i ? "," : "") + R"({"metric_name":"hostile_many","value":1})";
  many_json += "]";
  const std::string deep_json = std::string(1000, '[') + std::string(1000, ']');
  const std::string json = "/api/v1/metrics";
  auto json_case = [&](std::string what, std::string body, int status, std::string code,
                       std::string encoding = "") {
    return HostileBody{what, json, "application/json", body, {status}, code, encoding};
  };
  auto kpi_case = [&](std::string what, std::string body, int status, std::string code) {
    return HostileBody{what, "/api/v1/kpis", "application/json", body, {status}, code, ""};
  };
  const std::string sample = R"({"metric_name":"hostile_json","value":1,"timestamp":)" + t;
  check_refused(
      s, {
             json_case("json: nested 1000 deep", deep_json, 400, kMalformed),
             json_case("json: value as a string",
                       R"({"metric_name":"hostile_json","value":"92.5","timestamp":)" + t + "}",
                       400, kBad),
             json_case("json: timestamp as a string",
                       R"({"metric_name":"hostile_json","value":1,"timestamp":")" + t + "\"}", 400,
                       kBad),
             json_case("json: truncated", sample + R"(,"tags":{"host":"a")", 400, kMalformed),
             json_case("json: unterminated string", R"({"metric_name":"hostile_json)", 400,
                       kMalformed),
             json_case("json: invalid UTF-8", sample + ",\"tags\":{\"host\":\"\xff\xfe\"}}", 400,
                       kMalformed),
             json_case("json: raw NUL byte", sample + ",\"tags\":{\"host\":\"a" + kNul + "b\"}}",
                       400, kMalformed),
             json_case("json: escaped NUL", sample + R"(,"tags":{"host":"a\u0000b"}})", 400, kBad),
             json_case("json: 1 MB tag value", sample + R"(,"tags":{"host":")" + kBigValue + "\"}}",
                       400, kBad),
             json_case("json: unknown field", sample + R"(,"org_id":2})", 400, kBad),
             json_case("json: a number, not a sample", "42", 400, kBad),
             {"json: 200,001 samples", json, "application/json", many_json, {413}, ""},
             {"json: wrong Content-Type", json, "text/plain", sample + "}", {415}, kMedia},
             // Parsed as it inflates: the zeros are refused as no JSON in the first buffer, long
             // before the 64 MiB inflation limit (the 63 MiB bomb of samples has its own test).
             json_case("json: gzip bomb", zeros_bomb(), 400, kMalformed, "gzip"),
             kpi_case("kpi: nested 1000 deep", deep_json, 400, kMalformed),
             kpi_case("kpi: value as a string", R"({"metric_name":"hostile_kpi","value":"1"})", 400,
                      kBad),
         });
  check_carries_on(s, "after_hostile_json", t);
}

TEST_CASE(
    "tsdb limits: hostile CSV bodies get a clear 4xx, store nothing, and the server carries on",
    "[tsdb]") {
  auto& s = tsdb();
  const auto t = ten_minutes_ago_s();
  std::string many_csv = "metric,value,timestamp\n";
  for (int i = 0; i < 200'001; ++i) many_csv += "hostile_many,1," + t + "\n";
  const std::string csv = "/api/v1/metrics/csv";
  auto csv_case = [&](std::string what, std::string body, int status, std::string code,
                      std::string encoding = "") {
    return HostileBody{what, csv, "text/csv", body, {status}, code, encoding};
  };
  const std::string head = "metric,value,timestamp,host\n";
  const std::string row = "hostile_csv,1," + t + ",";
  check_refused(
      s, {
             csv_case("csv: bad header", "name,value,time\nhostile_csv,1," + t + "\n", 400, kBad),
             csv_case("csv: empty body", "", 400, kBad),
             csv_case("csv: truncated record", head + "hostile_csv,1", 400, kBad),
             csv_case("csv: unterminated quote", head + row + "\"web", 400, kBad),
             csv_case("csv: value not a number", head + "hostile_csv,abc," + t + ",a\n", 400, kBad),
             csv_case("csv: invalid UTF-8", head + row + "\xff\xfe\n", 400, kBad),
             csv_case("csv: NUL byte", head + row + "a" + kNul + "b\n", 400, kBad),
             csv_case("csv: 1 MB label", head + row + kBigValue + "\n", 400, kBad),
             {"csv: 200,001 records", csv, "text/csv", many_csv, {413}, ""},
             csv_case("csv: unknown Content-Encoding", head, 415, kMedia, "compress"),
             csv_case("csv: gzip bomb", zeros_bomb(), 413, kTooLarge, "gzip"),
             // Parsed as it inflates: a record is carried from one inflated piece to the next up to
             // 1 MiB (16 line limits); past that its end cannot be found without keeping it.
             {"csv: gzip record of 2 MiB",
              csv,
              "text/csv",
              gzip(head + row + "\"" + kBigValue + kBigValue + "\"\n"),
              {413},
              kTooLarge,
              "gzip",
              "longer than 1048576 bytes"},
         });
  check_carries_on(s, "after_hostile_csv", t);
}

namespace {

// The peak resident set (VmHWM) of process `pid` in bytes, from /proc.
std::int64_t peak_rss_bytes(pid_t pid) {
  std::FILE* f = std::fopen(("/proc/" + std::to_string(pid) + "/status").c_str(), "r");
  REQUIRE(f != nullptr);
  char line[256];
  std::int64_t kib = -1;
  while (std::fgets(line, sizeof line, f)) {
    if (std::strncmp(line, "VmHWM:", 6) == 0) kib = std::strtoll(line + 6, nullptr, 10);
  }
  std::fclose(f);
  REQUIRE(kib > 0);
  return kib * 1024;
}

}  // namespace

TEST_CASE(
    "tsdb limits: gzipped JSON of 63 MiB is refused at the 200,000-sample cap in bounded memory",
    "[tsdb][json]") {
  // Before the fix about 190 KB of gzip inflated to a 63 MiB string that was parsed whole into a
  // JSON document (several hundred MB) before the sample cap was checked.
  TempDir dir;
  ServerProcess server(dir.path(), tsdb_env());
  auto c = server.client();
  const auto admin = login(c, kAdminEmail, kAdminPassword);
  const auto key = create_key(c, admin, "collector");

  const std::string sample = R"({"metric_name":"bomb","value":1},)";
  std::string json = "[";
  json.reserve(63u << 20);
  while (json.size() + sample.size() < (63u << 20)) json += sample;
  json.back() = ']';
  const std::string body = gzip(json);
  json = {};
  REQUIRE(body.size() < 1'000'000);

  // A small request first, so what is measured is the big one.
  REQUIRE(post(c, "/api/v1/metrics", "Bearer " + key, "application/json",
               R"([{"metric_name":"warm","value":1}])")
              .status == 200);
  const auto before = peak_rss_bytes(server.pid());
  HttpClient slow("127.0.0.1", server.port(), false, std::chrono::seconds(120));
  auto res = post(slow, "/api/v1/metrics", "Bearer " + key, "application/json", body,
                  {{"Content-Encoding", "gzip"}});
  const auto after = peak_rss_bytes(server.pid());
  INFO(res.body.substr(0, 1000));
  CHECK(res.status == 413);
  CHECK(res.error_code() == "PAYLOAD_TOO_LARGE");
  CHECK(contains(res.body, "200000 samples"));
  const auto grown = after - before;
  INFO("peak RSS grew by " << grown / 1024 << " KiB");
  // http.max_body_bytes is 10 MiB; the store's batch of 200,000 samples is the most it holds.
  CHECK(grown < (48 << 20));
  REQUIRE(server.running());
  CHECK(server.client().get("/alive").status == 200);
}

namespace {

// A gzip body of valid records that inflates to 63 MiB, posted to a fresh server.
struct Bomb {
  std::string target;
  std::string content_type;
  std::string head;  // once, then `record` up to 63 MiB
  std::string record;
  std::string message_has;
};

// The bomb is refused with 413 naming the cap, and the server's peak memory grows by less than
// 48 MiB. Before the fix a line-protocol or CSV gzip body was inflated whole (up to 64 MiB) and
// then parsed: about 100 KB on the wire cost the inflated text, and lines of many fields the keys
// and samples of millions of samples, before any cap was checked.
void check_bomb_refused_in_bounded_memory(const Bomb& bomb) {
  TempDir dir;
  ServerProcess server(dir.path(), tsdb_env());
  auto c = server.client();
  const auto admin = login(c, kAdminEmail, kAdminPassword);
  const auto key = create_key(c, admin, "collector");

  std::string text = bomb.head;
  text.reserve(63u << 20);
  while (text.size() + bomb.record.size() <= (63u << 20)) text += bomb.record;
  const std::string body = gzip(text);
  text = {};
  REQUIRE(body.size() < 1'000'000);

  // A small request of the same format first, so what is measured is the big one.
  const auto small = gzip(bomb.head + bomb.record);
  REQUIRE(post(c, bomb.target, "Bearer " + key, bomb.content_type, small,
               {{"Content-Encoding", "gzip"}})
                  .status /
              100 ==
          2);
  const auto before = peak_rss_bytes(server.pid());
  HttpClient slow("127.0.0.1", server.port(), false, std::chrono::seconds(120));
  auto res = post(slow, bomb.target, "Bearer " + key, bomb.content_type, body,
                  {{"Content-Encoding", "gzip"}});
  const auto after = peak_rss_bytes(server.pid());
  INFO(res.body.substr(0, 1000));
  CHECK(res.status == 413);
  CHECK(res.error_code() == "PAYLOAD_TOO_LARGE");
  CHECK(contains(res.body, bomb.message_has));
  const auto grown = after - before;
  INFO("peak RSS grew by " << grown / 1024 << " KiB (VmHWM " << before / 1024 << " -> "
                           << after / 1024 << " KiB)");
  // As for JSON: http.max_body_bytes is 10 MiB, the batch at the cap the most it holds.
  CHECK(grown < (48 << 20));
  REQUIRE(server.running());
  CHECK(server.client().get("/alive").status == 200);
}

}  // namespace

TEST_CASE(
    "tsdb limits: gzipped line protocol of 63 MiB is refused at the 200,000-line cap in bounded "
    "memory",
    "[tsdb][lp]") {
  const std::string t = ten_minutes_ago_s();
  check_bomb_refused_in_bounded_memory(
      {"/api/v2/write?precision=s", "text/plain", "", "bomb value=1 " + t + "\n", "200000 lines"});
}

TEST_CASE(
    "tsdb limits: gzipped line protocol of 63 MiB in lines of 256 fields is refused at the "
    "200,000-sample cap in bounded memory",
    "[tsdb][lp]") {
  const std::string t = ten_minutes_ago_s();
  std::string wide_line = "bomb_wide f0=1";
  for (int i = 1; i < 256; ++i) wide_line += ",f" + std::to_string(i) + "=1";
  wide_line += " " + t + "\n";
  check_bomb_refused_in_bounded_memory(
      {"/api/v2/write?precision=s", "text/plain", "", wide_line, "200000 samples"});
}

TEST_CASE(
    "tsdb limits: gzipped CSV of 63 MiB is refused at the 200,000-record cap in bounded memory",
    "[tsdb][csv]") {
  const std::string t = ten_minutes_ago_s();
  check_bomb_refused_in_bounded_memory({"/api/v1/metrics/csv", "text/csv",
                                        "metric,value,timestamp,host\n", "bomb,1," + t + ",h\n",
                                        "200000 lines"});
}

TEST_CASE(
    "tsdb limits: reaching 80 % and 100 % of the series limit is one event each, and the usage "
    "call shows the organization full",
    "[tsdb][limits]") {
  // Before the fix new series past the limit were dropped and only counted in /metrics.
  TempDir dir;
  auto env = tsdb_env();
  env["NETPULSE_TSDB_MAX_SERIES_PER_ORG"] = "10";
  ServerProcess server(dir.path(), env);
  auto c = server.client();
  const auto admin = login(c, kAdminEmail, kAdminPassword);
  const auto key = create_key(c, admin, "collector");
  const auto t = std::to_string(now_ms() - 60'000);
  auto write_series = [&](int from, int to) {
    std::string body;
    for (int i = from; i < to; ++i)
      body += "limited,n=" + std::to_string(i) + " value=1 " + t + "\n";
    return write_lp(c, key, body, "ms", {});
  };
  // The series_limit events of the log, oldest first, waiting for the log's writer.
  auto limit_events = [&](std::size_t want) {
    boost::json::array items;
    for (int tries = 0; tries < 50; ++tries) {
      auto res = c.get("/api/v1/events?kind=series_limit", admin);
      REQUIRE(res.status == 200);
      items = res.json().at("data").as_array();
      if (items.size() >= want) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    std::reverse(items.begin(), items.end());
    return items;
  };

  {
    INFO("7 of 10 series: no event");
    REQUIRE(write_series(0, 7).status == 204);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    CHECK(limit_events(0).empty());
  }

  {
    INFO("8 of 10 series: 80 %, a warning");
    REQUIRE(write_series(7, 8).status == 204);
    auto events = limit_events(1);
    REQUIRE(events.size() == 1);
    CHECK(events[0].at("device_id").is_null());
    CHECK(events[0].at("severity") == "warning");
    CHECK(events[0].at("details").at("level") == 80);
    CHECK(events[0].at("details").at("series") == 8);
    CHECK(events[0].at("details").at("limit") == 10);
  }
  {
    INFO("9 of 10: no new crossing; 10 of 10: 100 %, critical");
    REQUIRE(write_series(8, 9).status == 204);
    // 10 and 11: the tenth fills the organization, the eleventh is refused.
    auto full = post(c, "/api/v2/write?precision=ms&partial=true", "Token " + key, "text/plain",
                     "limited,n=10 value=1 " + t + "\nlimited,n=11 value=1 " + t + "\n");
    INFO(full.body);
    CHECK(full.status == 200);
    auto events = limit_events(2);
    REQUIRE(events.size() == 2);
    CHECK(events[1].at("severity") == "critical");
    CHECK(events[1].at("details").at("level") == 100);
    CHECK(events[1].at("message").as_string().find("tsdb.max_series_per_org") != std::string::npos);
  }
  {
    INFO("the usage call says full");
    auto usage = c.get("/api/v1/metrics/usage", key);
    INFO(usage.body);
    REQUIRE(usage.status == 200);
    CHECK(usage.json().at("data").at("series") == 10);
    CHECK(usage.json().at("data").at("series_limit") == 10);
    CHECK(usage.json().at("data").at("level") == "full");
  }
  {
    INFO("once per crossing: more refused series add no event");
    write_series(20, 25);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    CHECK(limit_events(2).size() == 2);
  }
}

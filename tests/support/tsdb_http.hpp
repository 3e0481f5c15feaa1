// HTTP helpers of the time-series integration tests (tests/integration/tsdb_*_test.cpp): write
// and read samples through the real binary's API (line protocol, JSON, query_range), compare
// them bit for bit, read error envelopes and ingest issues, make gzip bodies and gzip bombs, and
// create API keys and users; TsdbServer, one server shared by the cases of a file. Header-only:
// each helper is small, and only these tests use them.
#pragma once

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <regex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <zlib.h>

#include "support/http_client.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"

namespace netpulse::test::tsdb_http {

using Headers = std::vector<std::pair<std::string, std::string>>;
using Labels = std::map<std::string, std::string>;

struct Point {
  std::int64_t t = 0;  // ms
  double v = 0;
};

struct Series {
  std::string metric;
  Labels labels;
  std::vector<Point> points;
};

// Sealed chunks reach SQLite within a second instead of five.
inline std::map<std::string, std::string> tsdb_env() {
  return {{"NETPULSE_TSDB_FLUSH_INTERVAL_S", "1"}};
}

inline std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

inline bool same_bits(double a, double b) {
  return std::memcmp(&a, &b, sizeof a) == 0;
}

// The shortest text that reads back as exactly `v`.
inline std::string num(double v) {
  char buf[64];
  auto end = std::to_chars(buf, buf + sizeof buf, v).ptr;
  return std::string(buf, end);
}

// As num(), but a JSON number that is a double (JSON's "-0" is the integer 0).
inline std::string json_num(double v) {
  return v == 0 && std::signbit(v) ? "-0.0" : num(v);
}

// Unix seconds with milliseconds, as the query parameters take them.
inline std::string secs(std::int64_t ms) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%lld.%03lld", static_cast<long long>(ms / 1000),
                static_cast<long long>(ms % 1000));
  return buf;
}

inline std::string url_encode(std::string_view s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char ch : s) {
    if (std::isalnum(ch) || ch == '-' || ch == '_' || ch == '.' || ch == '~') {
      out.push_back(static_cast<char>(ch));
    } else {
      out += '%';
      out += hex[ch >> 4];
      out += hex[ch & 15];
    }
  }
  return out;
}

inline std::string gzip(std::string_view in) {
  z_stream zs{};
  REQUIRE(deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) ==
          Z_OK);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  std::string out;
  char buf[64 * 1024];
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof buf;
    rc = deflate(&zs, Z_FINISH);
    REQUIRE((rc == Z_OK || rc == Z_STREAM_END || rc == Z_BUF_ERROR));
    out.append(buf, sizeof buf - zs.avail_out);
  }
  deflateEnd(&zs);
  return out;
}

// Deflates `in` with `flush` into `out`.
inline void deflate_into(z_stream& zs, std::string_view in, int flush, std::string& out) {
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  char buf[64 * 1024];
  do {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof buf;
    int rc = deflate(&zs, flush);
    REQUIRE((rc == Z_OK || rc == Z_STREAM_END || rc == Z_BUF_ERROR));
    out.append(buf, sizeof buf - zs.avail_out);
  } while (zs.avail_out == 0);
}

// A valid gzip stream of `mib` MiB of zeros (about 1 kB per MiB), built without ever holding
// or deflating the whole: one MiB is deflated and ended with a full flush, after which deflate
// remembers nothing, so every further MiB deflates to the same bytes, which are repeated. The
// trailer's CRC-32 and length are computed for the whole.
inline std::string gzip_zeros(std::size_t mib) {
  const std::string zeros(1 << 20, '\0');
  z_stream zs{};
  REQUIRE(deflateInit2(&zs, 9, Z_DEFLATED, 15 + 16, 9, Z_RLE) == Z_OK);
  std::string first, unit, again, tail;
  deflate_into(zs, zeros, Z_FULL_FLUSH, first);  // gzip header + the first MiB
  deflate_into(zs, zeros, Z_FULL_FLUSH, unit);
  deflate_into(zs, zeros, Z_FULL_FLUSH, again);
  REQUIRE(unit == again);  // the repetition the construction relies on
  deflate_into(zs, {}, Z_FINISH, tail);
  deflateEnd(&zs);
  REQUIRE(tail.size() >= 8);
  const uLong crc_mib = crc32(0, reinterpret_cast<const Bytef*>(zeros.data()), 1 << 20);
  uLong crc = crc_mib;
  for (std::size_t i = 1; i < mib; ++i) crc = crc32_combine(crc, crc_mib, 1 << 20);
  const auto size = static_cast<std::uint32_t>((mib << 20) & 0xffffffffu);
  std::string out = first;
  out.reserve(first.size() + unit.size() * mib + tail.size());
  for (std::size_t i = 1; i < mib; ++i) out += unit;
  out.append(tail, 0, tail.size() - 8);
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((crc >> (8 * i)) & 0xff));
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((size >> (8 * i)) & 0xff));
  return out;
}

// Inflates `in`, counting bytes and checking they are all zero; -1 when the stream is bad.
inline long long inflated_zeros(std::string_view in) {
  z_stream zs{};
  REQUIRE(inflateInit2(&zs, 15 + 32) == Z_OK);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  long long total = 0;
  char buf[64 * 1024];
  int rc = Z_OK;
  while (rc == Z_OK) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof buf;
    rc = inflate(&zs, Z_NO_FLUSH);
    auto n = sizeof buf - zs.avail_out;
    if (std::any_of(buf, buf + n, [](char ch) { return ch != 0; })) rc = Z_DATA_ERROR;
    total += static_cast<long long>(n);
  }
  inflateEnd(&zs);
  return rc == Z_STREAM_END && zs.avail_in == 0 ? total : -1;
}

inline std::string create_key(HttpClient& c, const std::string& admin, const std::string& name,
                              const std::string& role = "api_user") {
  auto res = c.post_json("/api/v1/api-keys",
                         R"({"name":")" + name + R"(","role":")" + role + R"("})", admin);
  INFO(res.body);
  REQUIRE(res.status == 201);
  return std::string(res.json().at("data").at("key").as_string());
}

// Creates a user in the caller's organization and returns their access token.
inline std::string create_user_token(HttpClient& c, const std::string& admin,
                                     const std::string& email, const std::string& role) {
  const std::string password = "pw-" + email;
  auto res = c.post_json("/api/v1/users",
                         R"({"email":")" + email + R"(","name":"Someone","role":")" + role +
                             R"(","password":")" + password + R"("})",
                         admin);
  INFO(res.body);
  REQUIRE(res.status == 201);
  return login(c, email, password);
}

// POSTs `body` with `authorization` as the whole Authorization header value.
inline HttpResponse post(HttpClient& c, const std::string& target, const std::string& authorization,
                         const std::string& content_type, std::string body,
                         const Headers& extra = {}) {
  HttpRequest r;
  r.method = "POST";
  r.target = target;
  r.headers.emplace_back("Authorization", authorization);
  if (!content_type.empty()) r.headers.emplace_back("Content-Type", content_type);
  for (const auto& h : extra) r.headers.push_back(h);
  r.body = std::move(body);
  return c.send(r);
}

inline HttpResponse write_lp(HttpClient& c, const std::string& key, std::string body,
                             const std::string& precision = "ms", const Headers& extra = {}) {
  return post(c, "/api/v2/write?precision=" + precision, "Token " + key, "text/plain",
              std::move(body), extra);
}

inline std::int64_t json_ms(const boost::json::value& t) {
  if (t.is_int64()) return t.as_int64() * 1000;
  if (t.is_uint64()) return static_cast<std::int64_t>(t.as_uint64()) * 1000;
  return std::llround(t.to_number<double>() * 1000.0);
}

inline double json_value(const boost::json::value& v) {
  if (v.is_null()) return std::nan("");
  if (v.is_string()) return v.as_string() == "+Inf" ? HUGE_VAL : -HUGE_VAL;
  return v.to_number<double>();
}

inline Labels json_labels(const boost::json::value& v) {
  Labels out;
  for (const auto& [k, val] : v.as_object()) out[std::string(k)] = std::string(val.as_string());
  return out;
}

inline std::vector<Series> parse_series(const boost::json::array& arr) {
  std::vector<Series> out;
  for (const auto& s : arr) {
    Series series;
    series.metric = std::string(s.at("metric").as_string());
    series.labels = json_labels(s.at("labels"));
    for (const auto& p : s.at("points").as_array()) {
      series.points.push_back({json_ms(p.as_array().at(0)), json_value(p.as_array().at(1))});
    }
    out.push_back(std::move(series));
  }
  return out;
}

inline HttpResponse range_raw(HttpClient& c, const std::string& token, const std::string& selector,
                              std::int64_t start_ms, std::int64_t end_ms,
                              const std::string& extra = "") {
  return c.get("/api/v1/query_range?query=" + url_encode(selector) + "&start=" + secs(start_ms) +
                   "&end=" + secs(end_ms) + extra,
               token);
}

// GET /api/v1/query_range; REQUIREs 200.
inline std::vector<Series> range(HttpClient& c, const std::string& token,
                                 const std::string& selector, std::int64_t start_ms,
                                 std::int64_t end_ms, const std::string& extra = "") {
  auto res = range_raw(c, token, selector, start_ms, end_ms, extra);
  INFO(selector << extra << ": " << res.body.substr(0, 2000));
  REQUIRE(res.status == 200);
  return parse_series(res.json().at("data").at("series").as_array());
}

// The points of the one series `selector` selects.
inline std::vector<Point> points_of(HttpClient& c, const std::string& token,
                                    const std::string& selector, std::int64_t start_ms,
                                    std::int64_t end_ms, const std::string& extra = "") {
  auto s = range(c, token, selector, start_ms, end_ms, extra);
  INFO(selector);
  REQUIRE(s.size() == 1);
  return s.front().points;
}

inline void check_exact(const std::vector<Point>& got, const std::vector<Point>& expected) {
  REQUIRE(got.size() == expected.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    INFO("point " << i << ": expected " << expected[i].t << " " << num(expected[i].v) << ", got "
                  << got[i].t << " " << num(got[i].v));
    CHECK(got[i].t == expected[i].t);
    CHECK(same_bits(got[i].v, expected[i].v));
  }
}

// The data of a 200 answer, REQUIREd.
inline boost::json::value data_of(const HttpResponse& res) {
  INFO(res.body.substr(0, 2000));
  REQUIRE(res.status == 200);
  return res.json().at("data");
}

inline std::vector<std::string> strings(const boost::json::value& arr) {
  std::vector<std::string> out;
  for (const auto& v : arr.as_array()) out.emplace_back(v.as_string());
  return out;
}

// An error envelope: success=false, error.code (== `code` when given), a message, a request id.
inline void check_envelope(const HttpResponse& res, int status, const std::string& code = "") {
  INFO("status " << res.status << ": " << res.body.substr(0, 1000));
  CHECK(res.status == status);
  auto v = res.json();
  REQUIRE(v.is_object());
  CHECK(v.at("success") == false);
  REQUIRE(v.as_object().contains("error"));
  const auto& err = v.at("error").as_object();
  REQUIRE(err.contains("code"));
  if (!code.empty()) CHECK(err.at("code").as_string() == code);
  REQUIRE(err.contains("message"));
  CHECK(!err.at("message").as_string().empty());
  CHECK(!v.at("meta").at("request_id").as_string().empty());
}

// The issues listed by a refused ingest (error.details.issues), or by a partial one (data.refused).
inline std::vector<boost::json::object> issues_of(const HttpResponse& res) {
  auto v = res.json();
  std::vector<boost::json::object> out;
  const boost::json::value* list = nullptr;
  if (v.is_object() && v.as_object().contains("error")) {
    list = v.at("error").at("details").as_object().if_contains("issues");
  } else if (v.is_object() && v.as_object().contains("data")) {
    list = v.at("data").as_object().if_contains("refused");
  }
  if (list) {
    for (const auto& i : list->as_array()) out.push_back(i.as_object());
  }
  return out;
}

// A write refused whole (400 INVALID_INPUT) for exactly one issue whose reason names `reason`;
// returns that issue.
inline boost::json::object refused_once(const HttpResponse& res, std::string_view reason) {
  check_envelope(res, 400, "INVALID_INPUT");
  auto issues = issues_of(res);
  REQUIRE(issues.size() == 1);
  CHECK(std::string_view(issues[0].at("reason").as_string()).find(reason) !=
        std::string_view::npos);
  return issues[0];
}

inline bool contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

// A figure from /metrics (the first line starting with `name` followed by a space), or -1.
inline double metric_value(HttpClient& c, const std::string& name) {
  auto res = c.get("/metrics");
  REQUIRE(res.status == 200);
  std::smatch m;
  if (!std::regex_search(res.body, m, std::regex("(^|\n)" + name + " ([-+0-9.eE]+)"))) return -1;
  return std::stod(m[2]);
}

// The 5-minute and 1-hour rollup tiers of `selector` from `from` (rounded down to the bucket) to
// `to`, against `samples`: each bucket's avg, min, max and count. Buckets are aligned to their
// width and a bucket starting by `to` counts whole.
inline void check_rollups(HttpClient& c, const std::string& token, const std::string& selector,
                          const std::vector<Point>& samples, std::int64_t from, std::int64_t to) {
  for (const auto& [tier, width] :
       std::vector<std::pair<std::string, std::int64_t>>{{"5m", 300'000}, {"1h", 3'600'000}}) {
    const std::int64_t start = from / width * width;
    std::map<std::int64_t, std::vector<double>> buckets;
    for (const auto& p : samples) {
      const std::int64_t b = p.t / width * width;
      if (b >= start && b <= to) buckets[b].push_back(p.v);
    }
    REQUIRE(!buckets.empty());
    auto res = range_raw(c, token, selector, start, to, "&step=" + tier + "&tier=" + tier);
    CHECK(data_of(res).at("tier").as_string() == tier);
    for (const std::string agg : {"avg", "min", "max", "count"}) {
      INFO("tier " << tier << ", agg " << agg);
      auto points = points_of(c, token, selector, start, to,
                              "&step=" + tier + "&tier=" + tier + "&agg=" + agg);
      REQUIRE(points.size() == buckets.size());
      std::size_t i = 0;
      for (const auto& [t, values] : buckets) {
        INFO("bucket at " << t);
        CHECK(points[i].t == t);
        double sum = 0;
        for (double v : values) sum += v;
        if (agg == "avg") CHECK(points[i].v == Approx(sum / values.size()).epsilon(1e-12));
        if (agg == "min") CHECK(points[i].v == *std::min_element(values.begin(), values.end()));
        if (agg == "max") CHECK(points[i].v == *std::max_element(values.begin(), values.end()));
        if (agg == "count") CHECK(points[i].v == static_cast<double>(values.size()));
        ++i;
      }
    }
  }
}

// A server with the flush interval of tsdb_env(), its admin logged in and an api_user key, for
// the cases of one test file that can share it: each such case writes metrics of names of its
// own and reads only those, so it passes alone, in any order and after any other. A file keeps one
// in a function-local static (started by the first case that asks, SIGKILLed when the test binary
// exits), because a start of the sanitized binary costs more than most of these cases. A case that
// restarts the server, measures its memory or counts what the whole organization holds starts its
// own.
struct TsdbServer {
  explicit TsdbServer(const std::string& key_name)
      : server(dir.path(), tsdb_env()),
        c(server.client()),
        admin(login(c, kAdminEmail, kAdminPassword)),
        key(create_key(c, admin, key_name)) {}

  TempDir dir;
  ServerProcess server;
  HttpClient c;
  std::string admin;  // the admin's access token
  std::string key;
};

}  // namespace netpulse::test::tsdb_http

// The time-series store through the real binary: every ingest format (line protocol on both
// paths and gzipped, JSON, CSV, KPIs) read back bit for bit; the query features (step
// aggregation, rollup tiers, counter rate across a 32-bit wrap, grouping, top-k, downsampling,
// instant queries, discovery, the dashboard call); validation (all-or-nothing versus partial,
// the out-of-order window, duplicates, NaN, the future); hostile bodies in every format, after
// which the server still works; roles and organizations; and durability: every acknowledged
// sample survives kill -9 in the middle of a stream of writes (a checkpoint included), replaying
// twice stores nothing twice, and samples sealed into many chunks, persisted, evicted to SQLite
// and joined by out-of-order ones read back exactly, in whole and in part, raw and rolled up.
#include <algorithm>
#include <atomic>
#include <cctype>
#include <charconv>
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
#include <zlib.h>

#include "support/server_process.hpp"
#include "support/temp_dir.hpp"

using netpulse::test::HttpClient;
using netpulse::test::HttpRequest;
using netpulse::test::HttpResponse;
using netpulse::test::kAdminEmail;
using netpulse::test::kAdminPassword;
using netpulse::test::login;
using netpulse::test::run_netpulse;
using netpulse::test::ServerProcess;
using netpulse::test::TempDir;

namespace {

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
std::map<std::string, std::string> tsdb_env() {
  return {{"NETPULSE_TSDB_FLUSH_INTERVAL_S", "1"}};
}

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool same_bits(double a, double b) {
  return std::memcmp(&a, &b, sizeof a) == 0;
}

// The shortest text that reads back as exactly `v`.
std::string num(double v) {
  char buf[64];
  auto end = std::to_chars(buf, buf + sizeof buf, v).ptr;
  return std::string(buf, end);
}

// As num(), but a JSON number that is a double (JSON's "-0" is the integer 0).
std::string json_num(double v) {
  return v == 0 && std::signbit(v) ? "-0.0" : num(v);
}

// Unix seconds with milliseconds, as the query parameters take them.
std::string secs(std::int64_t ms) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%lld.%03lld", static_cast<long long>(ms / 1000),
                static_cast<long long>(ms % 1000));
  return buf;
}

std::string url_encode(std::string_view s) {
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

std::string gzip(std::string_view in) {
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
void deflate_into(z_stream& zs, std::string_view in, int flush, std::string& out) {
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
std::string gzip_zeros(std::size_t mib) {
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
long long inflated_zeros(std::string_view in) {
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

std::string create_key(HttpClient& c, const std::string& admin, const std::string& name,
                       const std::string& role = "api_user") {
  auto res = c.post_json("/api/v1/api-keys",
                         R"({"name":")" + name + R"(","role":")" + role + R"("})", admin);
  INFO(res.body);
  REQUIRE(res.status == 201);
  return std::string(res.json().at("data").at("key").as_string());
}

// Creates a user in the caller's organization and returns their access token.
std::string create_user_token(HttpClient& c, const std::string& admin, const std::string& email,
                              const std::string& role) {
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
HttpResponse post(HttpClient& c, const std::string& target, const std::string& authorization,
                  const std::string& content_type, std::string body, const Headers& extra = {}) {
  HttpRequest r;
  r.method = "POST";
  r.target = target;
  r.headers.emplace_back("Authorization", authorization);
  if (!content_type.empty()) r.headers.emplace_back("Content-Type", content_type);
  for (const auto& h : extra) r.headers.push_back(h);
  r.body = std::move(body);
  return c.send(r);
}

HttpResponse write_lp(HttpClient& c, const std::string& key, std::string body,
                      const std::string& precision = "ms", const Headers& extra = {}) {
  return post(c, "/api/v2/write?precision=" + precision, "Token " + key, "text/plain",
              std::move(body), extra);
}

std::int64_t json_ms(const boost::json::value& t) {
  if (t.is_int64()) return t.as_int64() * 1000;
  if (t.is_uint64()) return static_cast<std::int64_t>(t.as_uint64()) * 1000;
  return std::llround(t.as_double() * 1000.0);
}

double json_value(const boost::json::value& v) {
  if (v.is_null()) return std::nan("");
  if (v.is_string()) return v.as_string() == "+Inf" ? HUGE_VAL : -HUGE_VAL;
  return v.to_number<double>();
}

Labels json_labels(const boost::json::value& v) {
  Labels out;
  for (const auto& [k, val] : v.as_object()) out[std::string(k)] = std::string(val.as_string());
  return out;
}

std::vector<Series> parse_series(const boost::json::array& arr) {
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

HttpResponse range_raw(HttpClient& c, const std::string& token, const std::string& selector,
                       std::int64_t start_ms, std::int64_t end_ms, const std::string& extra = "") {
  return c.get("/api/v1/query_range?query=" + url_encode(selector) + "&start=" + secs(start_ms) +
                   "&end=" + secs(end_ms) + extra,
               token);
}

// GET /api/v1/query_range; REQUIREs 200.
std::vector<Series> range(HttpClient& c, const std::string& token, const std::string& selector,
                          std::int64_t start_ms, std::int64_t end_ms,
                          const std::string& extra = "") {
  auto res = range_raw(c, token, selector, start_ms, end_ms, extra);
  INFO(selector << extra << ": " << res.body.substr(0, 2000));
  REQUIRE(res.status == 200);
  return parse_series(res.json().at("data").at("series").as_array());
}

// The points of the one series `selector` selects.
std::vector<Point> points_of(HttpClient& c, const std::string& token, const std::string& selector,
                             std::int64_t start_ms, std::int64_t end_ms,
                             const std::string& extra = "") {
  auto s = range(c, token, selector, start_ms, end_ms, extra);
  INFO(selector);
  REQUIRE(s.size() == 1);
  return s.front().points;
}

void check_exact(const std::vector<Point>& got, const std::vector<Point>& expected) {
  REQUIRE(got.size() == expected.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    INFO("point " << i << ": expected " << expected[i].t << " " << num(expected[i].v) << ", got "
                  << got[i].t << " " << num(got[i].v));
    CHECK(got[i].t == expected[i].t);
    CHECK(same_bits(got[i].v, expected[i].v));
  }
}

// The data of a 200 answer, REQUIREd.
boost::json::value data_of(const HttpResponse& res) {
  INFO(res.body.substr(0, 2000));
  REQUIRE(res.status == 200);
  return res.json().at("data");
}

std::vector<std::string> strings(const boost::json::value& arr) {
  std::vector<std::string> out;
  for (const auto& v : arr.as_array()) out.emplace_back(v.as_string());
  return out;
}

// An error envelope: success=false, error.code (== `code` when given), a message, a request id.
void check_envelope(const HttpResponse& res, int status, const std::string& code = "") {
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
std::vector<boost::json::object> issues_of(const HttpResponse& res) {
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
boost::json::object refused_once(const HttpResponse& res, std::string_view reason) {
  check_envelope(res, 400, "INVALID_INPUT");
  auto issues = issues_of(res);
  REQUIRE(issues.size() == 1);
  CHECK(std::string_view(issues[0].at("reason").as_string()).find(reason) !=
        std::string_view::npos);
  return issues[0];
}

bool contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

// A figure from /metrics (the first line starting with `name` followed by a space), or -1.
double metric_value(HttpClient& c, const std::string& name) {
  auto res = c.get("/metrics");
  REQUIRE(res.status == 200);
  std::smatch m;
  if (!std::regex_search(res.body, m, std::regex("(^|\n)" + name + " ([-+0-9.eE]+)"))) return -1;
  return std::stod(m[2]);
}

// The 5-minute and 1-hour rollup tiers of `selector` from `from` (rounded down to the bucket) to
// `to`, against `samples`: each bucket's avg, min, max and count. Buckets are aligned to their
// width and a bucket starting by `to` counts whole.
void check_rollups(HttpClient& c, const std::string& token, const std::string& selector,
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

}  // namespace

TEST_CASE("tsdb: every ingest format reads back exactly, time for time and bit for bit", "[tsdb]") {
  TempDir dir;
  ServerProcess server(dir.path(), tsdb_env());
  auto c = server.client();
  const auto admin = login(c, kAdminEmail, kAdminPassword);
  const auto key = create_key(c, admin, "telegraf");
  const std::int64_t t0 = now_ms() / 1000 - 1800;  // seconds, half an hour ago
  const std::int64_t t0_ms = t0 * 1000;

  // Values that any rounding on the way in or out would change, among them 2^53, 2^54, the
  // smallest subnormal, the largest double and negative zero.
  const std::vector<double> tricky = {0.1,
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
  std::vector<Point> tricky_at;  // tricky[i] at t0 + i s
  for (std::size_t i = 0; i < tricky.size(); ++i)
    tricky_at.push_back({t0_ms + static_cast<std::int64_t>(i) * 1000, tricky[i]});

  // --- line protocol, /api/v2/write, precision=s, Authorization: Token <api key> ---
  {
    std::string lp;
    for (const auto& p : tricky_at)
      lp +=
          "lp_exact,host=web-01,dc=eu value=" + num(p.v) + " " + std::to_string(p.t / 1000) + "\n";
    // Integers, unsigned integers and booleans, as the format page says they are stored.
    const std::vector<std::pair<std::string, double>> typed = {
        {"9007199254740993i", 9007199254740992.0},  // beyond 2^53: the nearest double
        {"-9223372036854775808i", -9223372036854775808.0},
        {"18446744073709551615u", 18446744073709551616.0},
        {"42i", 42},
        {"true", 1},
        {"F", 0}};
    std::vector<Point> typed_at;
    for (std::size_t i = 0; i < typed.size(); ++i) {
      auto t = t0 + 100 + static_cast<std::int64_t>(i);
      lp += "lp_typed,host=web-01 value=" + typed[i].first + " " + std::to_string(t) + "\n";
      typed_at.push_back({t * 1000, typed[i].second});
    }
    // One line, several fields: `value` is the measurement, the others measurement_field.
    lp += "lp_multi,host=web-01 value=1.5,load=2.25,count=42i,up=t " + std::to_string(t0) + "\n";
    // Names sanitized; escaped tag values.
    lp += "lp.dotted,host.name=h\\,1,zone=a\\ b\\=c value=7 " + std::to_string(t0) + "\n";
    // UTF-8 label values pass unchanged.
    lp += "lp_utf8,site=Z\xc3\xbcrich,icon=\xf0\x9f\x9a\x80 value=8 " + std::to_string(t0) + "\n";
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
    check_exact(points_of(c, key, "lp_typed", t0_ms, t0_ms + 200'000), typed_at);

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
    auto dotted = range(c, key, "lp_dotted", t0_ms, t0_ms);
    REQUIRE(dotted.size() == 1);
    CHECK(dotted[0].labels == Labels{{"host_name", "h,1"}, {"zone", "a b=c"}});
    check_exact(dotted[0].points, {{t0_ms, 7}});
    auto utf8 = range(c, key, "lp_utf8{site=\"Z\xc3\xbcrich\"}", t0_ms, t0_ms);
    REQUIRE(utf8.size() == 1);
    CHECK(utf8[0].labels == Labels{{"icon", "\xf0\x9f\x9a\x80"}, {"site", "Z\xc3\xbcrich"}});
    check_exact(utf8[0].points, {{t0_ms, 8}});
  }

  // --- /write, precision=ms, Authorization: Bearer; and the default precision (ns) ---
  {
    const std::vector<Point> ms_points = {
        {t0_ms + 123, 0.5}, {t0_ms + 124, 1e-300}, {t0_ms + 999, 2.5}, {t0_ms + 1001, -7}};
    std::string lp;
    for (const auto& p : ms_points)
      lp += "lp_ms,host=web-02 value=" + num(p.v) + " " + std::to_string(p.t) + "\n";
    auto res = post(c, "/write?precision=ms", "Bearer " + key, "text/plain", lp);
    INFO(res.body);
    REQUIRE(res.status == 204);
    check_exact(points_of(c, key, R"(lp_ms{host="web-02"})", t0_ms, t0_ms + 2000), ms_points);

    // Nanoseconds are floored to the millisecond.
    res = post(c, "/api/v2/write", "Token " + key, "text/plain",
               "lp_ns value=3 " + std::to_string(t0) + "123999999\n");
    INFO(res.body);
    REQUIRE(res.status == 204);
    check_exact(points_of(c, key, "lp_ns", t0_ms, t0_ms + 1000), {{t0_ms + 123, 3}});
  }

  // --- gzip-compressed line protocol ---
  {
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

  // --- JSON: one object, then an array ---
  {
    auto res = post(c, "/api/v1/metrics", "Bearer " + key, "application/json",
                    R"({"metric_name":"cpu_usage","value":92.5,"timestamp":)" + std::to_string(t0) +
                        R"(,"tags":{"host":"web-01"}})");
    auto data = data_of(res);
    CHECK(data.at("accepted").as_int64() == 1);
    CHECK(data.at("new_series").as_int64() == 1);
    CHECK(data.at("refused").as_array().empty());

    std::string arr = "[";
    std::vector<Point> expected = {{t0_ms, 92.5}};
    for (std::size_t i = 0; i < tricky.size(); ++i) {
      auto t = t0 + 1 + static_cast<std::int64_t>(i);
      if (i) arr += ",";
      arr += R"({"metric_name":"cpu_usage","value":)" + json_num(tricky[i]) + R"(,"timestamp":)" +
             std::to_string(t) + R"(,"tags":{"host":"web-01"}})";
      expected.push_back({t * 1000, tricky[i]});
    }
    // A fractional timestamp keeps its milliseconds.
    arr += R"(,{"metric_name":"cpu_usage","value":1,"timestamp":)" + std::to_string(t0 + 100) +
           R"(.25,"tags":{"host":"web-01"}}])";
    expected.push_back({(t0 + 100) * 1000 + 250, 1});
    data = data_of(post(c, "/api/v1/metrics", "Bearer " + key, "application/json", arr));
    CHECK(data.at("accepted").as_int64() == static_cast<std::int64_t>(tricky.size() + 1));
    CHECK(data.at("new_series").as_int64() == 0);
    check_exact(points_of(c, key, R"(cpu_usage{host="web-01"})", t0_ms, t0_ms + 200'000), expected);
    // precision=ms: the timestamp is in milliseconds.
    data = data_of(post(
        c, "/api/v1/metrics?precision=ms", "Bearer " + key, "application/json",
        R"({"metric_name":"json_ms","value":0.1,"timestamp":)" + std::to_string(t0_ms + 7) + "}"));
    CHECK(data.at("accepted").as_int64() == 1);
    check_exact(points_of(c, key, "json_ms", t0_ms, t0_ms + 1000), {{t0_ms + 7, 0.1}});
  }

  // --- CSV ---
  {
    std::string csv = "metric,value,timestamp,host\n";
    std::vector<Point> expected;
    for (std::size_t i = 0; i < tricky.size(); ++i) {
      auto t = t0 + static_cast<std::int64_t>(i);
      bool frac = i % 2 == 1;
      csv += "csv_metric," + num(tricky[i]) + "," + std::to_string(t) + (frac ? ".250" : "") +
             ",web-01\r\n";
      expected.push_back({t * 1000 + (frac ? 250 : 0), tricky[i]});
    }
    csv += "csv_metric,7," + std::to_string(t0) + ",\n";  // empty cell: no host label
    csv += "csv_quoted,8," + std::to_string(t0) + ",\"a,\"\"b\"\"\nc\"\n";  // RFC 4180 quoting
    auto data = data_of(post(c, "/api/v1/metrics/csv", "Bearer " + key, "text/csv", csv));
    CHECK(data.at("accepted").as_int64() == static_cast<std::int64_t>(tricky.size() + 2));
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

  // --- KPI entered by an operator: recorded with who entered it, and in the audit log ---
  {
    const std::string email = "kpi-operator@tsdb.example";
    auto op = create_user_token(c, admin, email, "operator");
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
    // The same KPI again is a duplicate; another value for the same time is refused.
    const std::string first = R"({"metric_name":"kpi_sla","value":99.95,"timestamp":)" +
                              std::to_string(t0) + R"(,"tags":{"team":"noc"}})";
    res = c.post_json("/api/v1/kpis", first, op);
    INFO(res.body);
    REQUIRE(res.status == 201);
    CHECK(res.json().at("data").at("duplicate") == true);
    auto conflict = first;
    conflict.replace(conflict.find("99.95"), 5, "50.05");
    check_envelope(c.post_json("/api/v1/kpis", conflict, op), 400, "INVALID_INPUT");
    check_exact(points_of(c, key, R"(kpi_sla{team="noc"})", t0_ms, t0_ms + 10'000),
                {{t0_ms, 99.95}, {t0_ms + 1000, 1.2345678901234567e-300}});

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
}

TEST_CASE(
    "tsdb: step aggregation, counter rate across a 32-bit wrap, grouping, top-k, "
    "downsampling, instant queries, discovery and the dashboard",
    "[tsdb]") {
  TempDir dir;
  ServerProcess server(dir.path(), tsdb_env());
  auto c = server.client();
  const auto admin = login(c, kAdminEmail, kAdminPassword);
  const auto key = create_key(c, admin, "collector");
  const std::int64_t base = (now_ms() / 60'000 - 20) * 60'000;  // a whole minute, 20 min ago
  const std::int64_t end = base + 600'000 - 1;                  // ten one-minute buckets

  // qf_cpu: three hosts (two in dc eu, one in us), a sample every 10 s for 10 minutes.
  auto cpu = [](int h, int i) { return h * 100 + ((i * 37) % 50) * 0.25; };
  const std::map<int, std::string> dc = {{1, "eu"}, {2, "eu"}, {3, "us"}};
  // qf_octets: a 32-bit counter, +10000 every 10 s, wrapping between samples 2 and 3.
  const std::uint64_t wrap = 1ull << 32;
  auto octets = [&](int i) { return static_cast<double>((4294942295ull + i * 10000ull) % wrap); };
  // qf_spike: one sample a second, flat but for one spike and one dip.
  auto spike = [](int i) { return i == 377 ? 1000.0 : i == 123 ? -5.0 : 1 + (i % 7) * 0.001; };

  std::string lp;
  for (int i = 0; i < 60; ++i) {
    const auto t = std::to_string(base + i * 10'000);
    for (int h = 1; h <= 3; ++h) {
      lp += "qf_cpu,host=web-0" + std::to_string(h) + ",dc=" + dc.at(h) +
            " value=" + num(cpu(h, i)) + " " + t + "\n";
    }
    lp += "qf_octets,host=r1,ifName=eth0 value=" + num(octets(i)) + " " + t + "\n";
  }
  for (int i = 0; i < 600; ++i)
    lp += "qf_spike,host=web-01 value=" + num(spike(i)) + " " + std::to_string(base + i * 1000) +
          "\n";
  {
    auto res = write_lp(c, key, lp);
    INFO(res.body);
    REQUIRE(res.status == 204);
  }

  // The six samples of bucket k of host h, and their aggregates as the server defines them.
  auto bucket = [&](int h, int k) {
    std::vector<double> v;
    for (int i = 6 * k; i < 6 * k + 6; ++i) v.push_back(cpu(h, i));
    return v;
  };
  auto avg = [](std::vector<double> v) {
    double sum = 0;
    for (double x : v) sum += x;
    return sum / static_cast<double>(v.size());
  };
  auto p95 = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    double rank = 0.95 * static_cast<double>(v.size() - 1);
    auto lo = static_cast<std::size_t>(std::floor(rank));
    auto hi = static_cast<std::size_t>(std::ceil(rank));
    return v[lo] + (v[hi] - v[lo]) * (rank - static_cast<double>(lo));
  };
  auto max = [](std::vector<double> v) { return *std::max_element(v.begin(), v.end()); };

  {
    INFO("step aggregation: avg, max and p95 per one-minute bucket");
    auto res = range_raw(c, key, R"(qf_cpu{host="web-01"})", base, end, "&step=60&agg=avg");
    auto data = data_of(res);
    CHECK(data.at("tier").as_string() == "raw");
    CHECK(data.at("step").to_number<double>() == 60);
    for (const char* agg : {"avg", "max", "p95"}) {
      INFO(agg);
      auto points = points_of(c, key, R"(qf_cpu{host="web-01"})", base, end,
                              std::string("&step=1m&agg=") + agg);
      REQUIRE(points.size() == 10);
      for (int k = 0; k < 10; ++k) {
        INFO("bucket " << k);
        CHECK(points[k].t == base + k * 60'000);
        auto values = bucket(1, k);
        if (std::string(agg) == "avg") CHECK(points[k].v == Approx(avg(values)).epsilon(1e-12));
        if (std::string(agg) == "max") CHECK(points[k].v == max(values));
        if (std::string(agg) == "p95") CHECK(points[k].v == Approx(p95(values)).epsilon(1e-12));
      }
    }
    // The rollup tiers hold the same figures.
    std::vector<Point> web01;
    for (int i = 0; i < 60; ++i) web01.push_back({base + i * 10'000, cpu(1, i)});
    check_rollups(c, key, R"(qf_cpu{host="web-01"})", web01, base, end);
  }

  {
    INFO("rate and increase of a 32-bit counter across its wrap");
    // Without a step: one point per pair of samples, 10000 per 10 s, wrap included.
    auto rate = points_of(c, key, "qf_octets", base, end, "&fn=rate&width=32");
    REQUIRE(rate.size() == 59);
    for (int i = 0; i < 59; ++i) {
      INFO("pair ending at sample " << i + 1);
      CHECK(rate[i].t == base + (i + 1) * 10'000);
      CHECK(rate[i].v == 1000.0);
    }
    // Per one-minute bucket: still 1000/s, the bucket with the wrap included.
    rate = points_of(c, key, "qf_octets", base, end, "&fn=rate&width=32&step=60");
    REQUIRE(rate.size() == 10);
    for (const auto& p : rate) CHECK(p.v == 1000.0);
    auto increase = points_of(c, key, "qf_octets", base, end, "&fn=increase&width=32&step=60");
    REQUIRE(increase.size() == 10);
    CHECK(increase[0].v == 50'000.0);  // the first bucket has no sample before it
    for (int k = 1; k < 10; ++k) CHECK(increase[k].v == 60'000.0);
    // Without the width the drop is a counter reset (Prometheus): the rise is the new value.
    rate = points_of(c, key, "qf_octets", base, end, "&fn=rate");
    REQUIRE(rate.size() == 59);
    CHECK(rate[2].t == base + 30'000);
    CHECK(rate[2].v == octets(3) / 10.0);
    CHECK(octets(3) < octets(2));
  }

  {
    INFO("by= groups series and sums them; topk keeps the largest");
    auto groups = range(c, key, "qf_cpu", base, end, "&step=60&agg=avg&by=dc");
    REQUIRE(groups.size() == 2);
    CHECK(groups[0].labels == Labels{{"dc", "eu"}});
    CHECK(groups[1].labels == Labels{{"dc", "us"}});
    CHECK(groups[0].metric == "qf_cpu");
    REQUIRE(groups[0].points.size() == 10);
    REQUIRE(groups[1].points.size() == 10);
    for (int k = 0; k < 10; ++k) {
      INFO("bucket " << k);
      CHECK(groups[0].points[k].t == base + k * 60'000);
      CHECK(groups[0].points[k].v == Approx(avg(bucket(1, k)) + avg(bucket(2, k))).epsilon(1e-12));
      CHECK(groups[1].points[k].v == Approx(avg(bucket(3, k))).epsilon(1e-12));
    }
    auto top = range(c, key, "qf_cpu", base, end, "&step=60&agg=max&topk=2");
    REQUIRE(top.size() == 2);
    CHECK(top[0].labels.at("host") == "web-03");
    CHECK(top[1].labels.at("host") == "web-02");
    for (int k = 0; k < 10; ++k) CHECK(top[0].points.at(k).v == max(bucket(3, k)));
  }

  {
    INFO("points= downsamples but keeps the spike and the dip");
    auto all = points_of(c, key, "qf_spike", base, end);
    REQUIRE(all.size() == 600);
    auto few = points_of(c, key, "qf_spike", base, end, "&points=20");
    CHECK(few.size() <= 20);
    CHECK(few.size() >= 10);
    bool saw_spike = false, saw_dip = false;
    for (const auto& p : few) {
      INFO(p.t << " " << p.v);
      REQUIRE((p.t - base) % 1000 == 0);
      const int i = static_cast<int>((p.t - base) / 1000);
      CHECK(same_bits(p.v, spike(i)));  // every point is a real sample
      saw_spike |= p.t == base + 377'000 && p.v == 1000.0;
      saw_dip |= p.t == base + 123'000 && p.v == -5.0;
    }
    CHECK(saw_spike);
    CHECK(saw_dip);
  }

  {
    INFO("instant queries take the latest sample within the lookback");
    auto at = [&](std::int64_t t, const std::string& extra = "") {
      return data_of(c.get("/api/v1/query?query=" + url_encode(R"(qf_cpu{host="web-01"})") +
                               "&time=" + secs(t) + extra,
                           key))
          .at("series")
          .as_array();
    };
    auto s = at(base + 595'000);
    REQUIRE(s.size() == 1);
    CHECK(s[0].at("metric").as_string() == "qf_cpu");
    CHECK(json_labels(s[0].at("labels")) == Labels{{"dc", "eu"}, {"host", "web-01"}});
    CHECK(json_ms(s[0].at("value").as_array().at(0)) == base + 590'000);
    CHECK(same_bits(json_value(s[0].at("value").as_array().at(1)), cpu(1, 59)));
    s = at(base + 305'000);
    REQUIRE(s.size() == 1);
    CHECK(json_ms(s[0].at("value").as_array().at(0)) == base + 300'000);
    CHECK(same_bits(json_value(s[0].at("value").as_array().at(1)), cpu(1, 30)));
    // Beyond the default 5-minute lookback: nothing; a longer lookback finds it.
    CHECK(at(base + 900'000).empty());
    CHECK(at(base + 900'000, "&lookback=10m").size() == 1);
    // Before the first sample: nothing.
    CHECK(at(base - 1).empty());
  }

  {
    INFO("series, labels and label values, with and without match[]");
    auto series = data_of(c.get("/api/v1/series?match[]=" + url_encode(R"(qf_cpu{dc="eu"})"), key))
                      .as_array();
    REQUIRE(series.size() == 2);
    for (int h = 1; h <= 2; ++h) {
      const auto& s = series[h - 1];
      INFO(boost::json::serialize(s));
      CHECK(s.at("metric").as_string() == "qf_cpu");
      CHECK(json_labels(s.at("labels")) ==
            Labels{{"dc", "eu"}, {"host", "web-0" + std::to_string(h)}});
      CHECK(json_ms(s.at("last_timestamp")) == base + 590'000);
      CHECK(same_bits(json_value(s.at("last_value")), cpu(h, 59)));
    }
    series = data_of(c.get("/api/v1/series?match[]=" + url_encode(R"(qf_cpu{dc="us"})") +
                               "&match[]=qf_octets",
                           key))
                 .as_array();
    REQUIRE(series.size() == 2);
    CHECK(data_of(c.get("/api/v1/series", key)).as_array().size() == 5);

    CHECK(strings(data_of(c.get("/api/v1/labels", key))) ==
          std::vector<std::string>{"__name__", "dc", "host", "ifName"});
    CHECK(strings(data_of(c.get("/api/v1/labels?match[]=qf_octets", key))) ==
          std::vector<std::string>{"__name__", "host", "ifName"});
    CHECK(strings(data_of(c.get("/api/v1/label/host/values", key))) ==
          std::vector<std::string>{"r1", "web-01", "web-02", "web-03"});
    CHECK(strings(data_of(c.get(
              "/api/v1/label/host/values?match[]=" + url_encode(R"(qf_cpu{dc="us"})"), key))) ==
          std::vector<std::string>{"web-03"});
    CHECK(strings(data_of(c.get("/api/v1/label/__name__/values", key))) ==
          std::vector<std::string>{"qf_cpu", "qf_octets", "qf_spike"});
  }

  {
    INFO("dashboard: avg, min, max, p95 and count over the window, narrowed by a label");
    const auto now = now_ms();
    std::vector<double> web01 = {10, 20, 30, 40, 55.5}, web02 = {70, 80, 90.25};
    std::string body = "cpu_usage,host=web-01 value=1000 " + std::to_string(now - 1'200'000) + "\n";
    for (std::size_t i = 0; i < web01.size(); ++i) {
      body += "cpu_usage,host=web-01 value=" + num(web01[i]) + " " +
              std::to_string(now - 240'000 + static_cast<std::int64_t>(i) * 50'000) + "\n";
    }
    for (std::size_t i = 0; i < web02.size(); ++i) {
      body += "cpu_usage,host=web-02 value=" + num(web02[i]) + " " +
              std::to_string(now - 200'000 + static_cast<std::int64_t>(i) * 50'000) + "\n";
    }
    auto res = write_lp(c, key, body);
    INFO(res.body);
    REQUIRE(res.status == 204);

    auto check_aggs = [&](const boost::json::value& data, std::vector<double> values) {
      INFO(boost::json::serialize(data));
      const auto& a = data.at("aggregations");
      CHECK(a.at("count").as_int64() == static_cast<std::int64_t>(values.size()));
      CHECK(a.at("min").to_number<double>() == *std::min_element(values.begin(), values.end()));
      CHECK(a.at("max").to_number<double>() == max(values));
      CHECK(a.at("avg").to_number<double>() == Approx(avg(values)).epsilon(1e-12));
      CHECK(a.at("p95").to_number<double>() == Approx(p95(values)).epsilon(1e-12));
    };
    auto all = data_of(c.get("/api/v1/dashboard?metric=cpu_usage&window=5m", key));
    CHECK(all.at("metric_name").as_string() == "cpu_usage");
    CHECK(all.at("window").as_string() == "5m");
    CHECK(all.at("series_count").as_int64() == 2);
    std::vector<double> both = web01;
    both.insert(both.end(), web02.begin(), web02.end());
    check_aggs(all, both);

    auto one = data_of(c.get("/api/v1/dashboard?metric=cpu_usage&window=5m&host=web-01", key));
    CHECK(one.at("filters").at("host").as_string() == "web-01");
    CHECK(one.at("series_count").as_int64() == 1);
    check_aggs(one, web01);
    // A longer window reaches the old sample.
    auto hour = data_of(c.get("/api/v1/dashboard?metric=cpu_usage&window=1h&host=web-01", key));
    auto with_old = web01;
    with_old.push_back(1000);
    check_aggs(hour, with_old);
    auto none = data_of(c.get("/api/v1/dashboard?metric=cpu_usage&host=web-09", key));
    CHECK(none.at("aggregations").at("count").as_int64() == 0);
    CHECK(none.at("aggregations").at("avg").is_null());
    CHECK(none.at("window").as_string() == "5m");
  }
}

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

TEST_CASE("tsdb: hostile bodies in every format get a clear 4xx, and the server carries on",
          "[tsdb]") {
  TempDir dir;
  ServerProcess server(dir.path(), tsdb_env());
  auto c = server.client();
  const auto admin = login(c, kAdminEmail, kAdminPassword);
  const auto key = create_key(c, admin, "collector");
  const auto t = std::to_string(now_ms() / 1000 - 600);  // seconds

  // The bomb construction inflates to exactly what it claims.
  REQUIRE(inflated_zeros(gzip_zeros(4)) == 4LL << 20);
  const std::string bomb = gzip_zeros(1024);  // 1 GiB of zeros
  REQUIRE(bomb.size() < 2'000'000);

  std::string many_lines;
  many_lines.reserve(200'001 * 32);
  const auto t_ms = std::stoll(t) * 1000;
  for (int i = 0; i < 200'001; ++i)
    many_lines += "hostile_many value=1 " + std::to_string(t_ms - i) + "\n";
  std::string many_json = "[";
  for (int i = 0; i < 200'001; ++i)
    many_json += std::string(i ? "," : "") + R"({"metric_name":"hostile_many","value":1})";
  many_json += "]";
  std::string many_csv = "metric,value,timestamp\n";
  for (int i = 0; i < 200'001; ++i) many_csv += "hostile_many,1," + t + "\n";
  std::string deep_json = std::string(1000, '[') + std::string(1000, ']');
  const std::string big(1 << 20, 'x');
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

  struct Case {
    std::string what;
    std::string target;
    std::string content_type;
    std::string body;
    std::vector<int> statuses;  // any of these
    std::string code;           // "" when the status decides
    std::string encoding;
    std::string message_has = "";  // the error message contains this
  };
  const std::string lp = "/api/v2/write?precision=s";
  const std::string lp_fortnight = "/api/v2/write?precision=fortnight";
  const std::string json = "/api/v1/metrics";
  const std::string csv = "/api/v1/metrics/csv";
  auto lp_case = [&](std::string what, std::string body, int status, std::string code,
                     std::string encoding = "") {
    return Case{what, lp, "text/plain", body, {status}, code, encoding};
  };
  auto json_case = [&](std::string what, std::string body, int status, std::string code,
                       std::string encoding = "") {
    return Case{what, json, "application/json", body, {status}, code, encoding};
  };
  auto kpi_case = [&](std::string what, std::string body, int status, std::string code) {
    return Case{what, "/api/v1/kpis", "application/json", body, {status}, code, ""};
  };
  auto csv_case = [&](std::string what, std::string body, int status, std::string code,
                      std::string encoding = "") {
    return Case{what, csv, "text/csv", body, {status}, code, encoding};
  };
  const std::string nul(1, '\0');
  const std::string head = "metric,value,timestamp,host\n";
  const std::string row = "hostile_csv,1," + t + ",";
  const std::string sample = R"({"metric_name":"hostile_json","value":1,"timestamp":)" + t;
  const std::string bad = "INVALID_INPUT", malformed = "MALFORMED_JSON",
                    too_large = "PAYLOAD_TOO_LARGE", media = "UNSUPPORTED_MEDIA_TYPE";
  const std::vector<Case> cases = {
      lp_case("lp: truncated line", "hostile_lp,host=a", 400, bad),
      lp_case("lp: no value", "hostile_lp value= " + t, 400, bad),
      lp_case("lp: lone backslash at the end", "hostile_lp value=1 \\", 400, bad),
      lp_case("lp: lone backslash in a tag", "hostile_lp,host=a\\", 400, bad),
      lp_case("lp: escaped space eats the field set", "hostile_lp,host=a\\ value=1", 400, bad),
      lp_case("lp: 1 MB tag value", "hostile_lp,host=" + big + " value=1 " + t, 400, bad),
      // A string field is skipped, not refused (Telegraf sends them); bytes glued to one are not.
      lp_case("lp: bytes after a string field", "hostile_lp s=\"text\"x,value=1 " + t, 400, bad),
      lp_case("lp: control byte in a name", "hostile\x01lp value=1 " + t, 400, bad),
      lp_case("lp: unterminated quote", "hostile_lp value=\"text " + t, 400, bad),
      lp_case("lp: invalid UTF-8", "hostile_lp,host=\xff\xfe\xc0\x80 value=1 " + t, 400, bad),
      lp_case("lp: NUL byte", "hostile_lp,host=a" + nul + "b value=1 " + t, 400, bad),
      lp_case("lp: timestamp with letters", "hostile_lp value=1 12ab", 400, bad),
      {"lp: 200,001 lines", "/api/v2/write?precision=ms", "text/plain", many_lines, {413}, ""},
      lp_case("lp: gzip bomb of 1 GiB", bomb, 413, too_large, "gzip"),
      {"lp: wide tags times many fields",
       lp,
       "text/plain",
       wide,
       {413},
       too_large,
       "",
       "series keys would take more than"},
      lp_case("lp: truncated gzip", truncated_gzip, 400, bad, "gzip"),
      // Parsed as it inflates: a line too long to parse is skipped to its end, not kept, and is
      // an issue of its line as in a plain body.
      lp_case("lp: gzip line of 2 MiB",
              gzip(lp_valid + "hostile_lp,host=" + big + big + " value=1 " + t + "\n" + lp_valid),
              400, bad, "gzip"),
      lp_case("lp: plain text said to be gzip", lp_valid, 400, bad, "gzip"),
      lp_case("lp: unknown Content-Encoding", lp_valid, 415, media, "br"),
      {"lp: unknown precision", lp_fortnight, "text/plain", lp_valid, {400}, bad},
      json_case("json: nested 1000 deep", deep_json, 400, malformed),
      json_case("json: value as a string",
                R"({"metric_name":"hostile_json","value":"92.5","timestamp":)" + t + "}", 400, bad),
      json_case("json: timestamp as a string",
                R"({"metric_name":"hostile_json","value":1,"timestamp":")" + t + "\"}", 400, bad),
      json_case("json: truncated", sample + R"(,"tags":{"host":"a")", 400, malformed),
      json_case("json: unterminated string", R"({"metric_name":"hostile_json)", 400, malformed),
      json_case("json: invalid UTF-8", sample + ",\"tags\":{\"host\":\"\xff\xfe\"}}", 400,
                malformed),
      json_case("json: raw NUL byte", sample + ",\"tags\":{\"host\":\"a" + nul + "b\"}}", 400,
                malformed),
      json_case("json: escaped NUL", sample + R"(,"tags":{"host":"a\u0000b"}})", 400, bad),
      json_case("json: 1 MB tag value", sample + R"(,"tags":{"host":")" + big + "\"}}", 400, bad),
      json_case("json: unknown field", sample + R"(,"org_id":2})", 400, bad),
      json_case("json: a number, not a sample", "42", 400, bad),
      {"json: 200,001 samples", json, "application/json", many_json, {413}, ""},
      {"json: wrong Content-Type", json, "text/plain", sample + "}", {415}, media},
      // Parsed as it inflates: the zeros are refused as no JSON in the first buffer, long before
      // the 64 MiB inflation limit (the 63 MiB bomb of samples has its own test).
      json_case("json: gzip bomb", bomb, 400, malformed, "gzip"),
      kpi_case("kpi: nested 1000 deep", deep_json, 400, malformed),
      kpi_case("kpi: value as a string", R"({"metric_name":"hostile_kpi","value":"1"})", 400, bad),
      csv_case("csv: bad header", "name,value,time\nhostile_csv,1," + t + "\n", 400, bad),
      csv_case("csv: empty body", "", 400, bad),
      csv_case("csv: truncated record", head + "hostile_csv,1", 400, bad),
      csv_case("csv: unterminated quote", head + row + "\"web", 400, bad),
      csv_case("csv: value not a number", head + "hostile_csv,abc," + t + ",a\n", 400, bad),
      csv_case("csv: invalid UTF-8", head + row + "\xff\xfe\n", 400, bad),
      csv_case("csv: NUL byte", head + row + "a" + nul + "b\n", 400, bad),
      csv_case("csv: 1 MB label", head + row + big + "\n", 400, bad),
      {"csv: 200,001 records", csv, "text/csv", many_csv, {413}, ""},
      csv_case("csv: unknown Content-Encoding", head, 415, media, "compress"),
      csv_case("csv: gzip bomb", bomb, 413, too_large, "gzip"),
      // Parsed as it inflates: a record is carried from one inflated piece to the next up to
      // 1 MiB (16 line limits); past that its end cannot be found without keeping it.
      {"csv: gzip record of 2 MiB",
       csv,
       "text/csv",
       gzip(head + row + "\"" + big + big + "\"\n"),
       {413},
       too_large,
       "gzip",
       "longer than 1048576 bytes"},
  };
  for (const auto& k : cases) {
    INFO(k.what);
    Headers extra;
    if (!k.encoding.empty()) extra.emplace_back("Content-Encoding", k.encoding);
    auto res = post(c, k.target, "Bearer " + key, k.content_type, k.body, extra);
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

  // Still healthy, nothing hostile stored, and a normal write works.
  CHECK(server.running());
  CHECK(c.get("/health").status == 200);
  auto names = strings(data_of(c.get("/api/v1/label/__name__/values", key)));
  CHECK(names.empty());
  auto res = write_lp(c, key, "after_hostile,host=a value=42.5 " + t + "\n", "s");
  INFO(res.body);
  REQUIRE(res.status == 204);
  check_exact(points_of(c, key, "after_hostile", std::stoll(t) * 1000, std::stoll(t) * 1000),
              {{std::stoll(t) * 1000, 42.5}});
  CHECK(strings(data_of(c.get("/api/v1/label/__name__/values", key))) ==
        std::vector<std::string>{"after_hostile"});
}

TEST_CASE(
    "tsdb: viewers read but cannot write; API keys do both; organizations see only "
    "their own series",
    "[tsdb]") {
  TempDir dir;
  ServerProcess server(dir.path(), tsdb_env());
  auto c = server.client();
  const auto admin_a = login(c, kAdminEmail, kAdminPassword);
  const auto key_a = create_key(c, admin_a, "collector-a");
  const auto viewer = create_user_token(c, admin_a, "viewer@org-a.example", "viewer");
  const std::int64_t t = (now_ms() / 1000 - 600) * 1000;
  const std::string lp = "ten_cpu,host=a value=1 " + std::to_string(t) + "\n";

  // A viewer may not write, in any format.
  for (const auto& [target, type, body] :
       std::vector<std::tuple<std::string, std::string, std::string>>{
           {"/api/v2/write?precision=ms", "text/plain", lp},
           {"/write?precision=ms", "text/plain", lp},
           {"/api/v1/metrics", "application/json",
            R"({"metric_name":"ten_cpu","value":1,"tags":{"host":"a"}})"},
           {"/api/v1/metrics/csv", "text/csv",
            "metric,value,timestamp\nten_cpu,1," + std::to_string(t / 1000) + "\n"},
           {"/api/v1/kpis", "application/json", R"({"metric_name":"ten_cpu","value":1})"}}) {
    INFO(target);
    auto res = post(c, target, "Bearer " + viewer, type, body);
    check_envelope(res, 403, "INSUFFICIENT_PERMISSIONS");
  }
  // Nor with InfluxDB's scheme and a user token, nor without credentials.
  check_envelope(post(c, "/api/v2/write?precision=ms", "Token " + viewer, "text/plain", lp), 403,
                 "INSUFFICIENT_PERMISSIONS");
  check_envelope(post(c, "/api/v2/write?precision=ms", "", "text/plain", lp), 401);
  CHECK(range(c, admin_a, "ten_cpu", t - 1000, t + 1000).empty());

  // The API key writes and reads; the viewer reads.
  REQUIRE(write_lp(c, key_a, lp).status == 204);
  check_exact(points_of(c, key_a, "ten_cpu", t - 1000, t + 1000), {{t, 1}});
  check_exact(points_of(c, viewer, "ten_cpu", t - 1000, t + 1000), {{t, 1}});
  CHECK(strings(data_of(c.get("/api/v1/label/host/values", viewer))) ==
        std::vector<std::string>{"a"});

  // Organization B, its admin made with the CLI on the live data directory.
  auto org = c.post_json("/api/v1/organizations", R"({"name":"Org B","slug":"org-b"})", admin_a);
  INFO(org.body);
  REQUIRE(org.status == 201);
  auto cli = run_netpulse({"user", "add", "--email", "boss@org-b.example", "--name", "Boss of B",
                           "--role", "admin", "--org", "org-b", "--password", "boss-b-password"},
                          {{"NETPULSE_STORAGE_DATA_DIR", dir.path()}});
  INFO(cli.output);
  REQUIRE(cli.exit_code == 0);
  const auto admin_b = login(c, "boss@org-b.example", "boss-b-password");
  const auto key_b = create_key(c, admin_b, "collector-b");

  auto nothing_for = [&](const std::string& token) {
    CHECK(range(c, token, "ten_cpu", t - 1000, t + 1000).empty());
    CHECK(range(c, token, R"({host="a"})", t - 1000, t + 1000).empty());
    CHECK(data_of(c.get("/api/v1/query?query=ten_cpu&time=" + secs(t + 1000), token))
              .at("series")
              .as_array()
              .empty());
    CHECK(data_of(c.get("/api/v1/series", token)).as_array().empty());
    CHECK(data_of(c.get("/api/v1/series?match[]=ten_cpu", token)).as_array().empty());
    CHECK(data_of(c.get("/api/v1/labels", token)).as_array().empty());
    CHECK(data_of(c.get("/api/v1/label/host/values", token)).as_array().empty());
    CHECK(data_of(c.get("/api/v1/label/__name__/values", token)).as_array().empty());
    auto dash = data_of(c.get("/api/v1/dashboard?metric=ten_cpu&window=1h", token));
    CHECK(dash.at("aggregations").at("count").as_int64() == 0);
    CHECK(dash.at("series_count").as_int64() == 0);
  };
  nothing_for(admin_b);
  nothing_for(key_b);

  // B writes the same series key at the same time with another value: no conflict with A.
  REQUIRE(write_lp(c, key_b, "ten_cpu,host=a value=2 " + std::to_string(t) + "\n").status == 204);
  check_exact(points_of(c, admin_b, "ten_cpu", t - 1000, t + 1000), {{t, 2}});
  check_exact(points_of(c, key_a, "ten_cpu", t - 1000, t + 1000), {{t, 1}});
  check_exact(points_of(c, viewer, "ten_cpu", t - 1000, t + 1000), {{t, 1}});
  auto dash_a = data_of(c.get("/api/v1/dashboard?metric=ten_cpu&window=1h", admin_a));
  CHECK(dash_a.at("aggregations").at("count").as_int64() == 1);
  CHECK(dash_a.at("aggregations").at("max").to_number<double>() == 1);
  auto dash_b = data_of(c.get("/api/v1/dashboard?metric=ten_cpu&window=1h", key_b));
  CHECK(dash_b.at("aggregations").at("count").as_int64() == 1);
  CHECK(dash_b.at("aggregations").at("max").to_number<double>() == 2);
  // Metric metadata is per organization too.
  auto meta =
      c.put_json("/api/v1/metadata/ten_cpu", R"({"type":"gauge","unit":"percent"})", admin_a);
  INFO(meta.body);
  REQUIRE(meta.status == 200);
  auto md_a = data_of(c.get("/api/v1/metadata?metric=ten_cpu", viewer));
  CHECK(md_a.at("type").as_string() == "gauge");
  CHECK(md_a.at("unit").as_string() == "percent");
  auto md_b = data_of(c.get("/api/v1/metadata?metric=ten_cpu", key_b));
  CHECK(md_b.at("type").as_string() == "unknown");
  CHECK(md_b.at("unit").as_string().empty());
  // B-only series stay in B.
  REQUIRE(write_lp(c, key_b, "only_b,host=b value=3 " + std::to_string(t) + "\n").status == 204);
  CHECK(range(c, admin_a, "only_b", t - 1000, t + 1000).empty());
  CHECK(strings(data_of(c.get("/api/v1/label/host/values", admin_a))) ==
        std::vector<std::string>{"a"});
  CHECK(strings(data_of(c.get("/api/v1/label/host/values", admin_b))) ==
        std::vector<std::string>{"a", "b"});

  // Deleting B deletes its metrics; an organization made afterwards starts empty, under a new id.
  const auto org_b_id = org.json().at("data").at("id").as_int64();
  auto gone = c.del("/api/v1/organizations/" + std::to_string(org_b_id), admin_a);
  INFO(gone.body);
  REQUIRE(gone.status == 204);
  auto org_c = c.post_json("/api/v1/organizations", R"({"name":"Org C","slug":"org-c"})", admin_a);
  REQUIRE(org_c.status == 201);
  CHECK(org_c.json().at("data").at("id").as_int64() > org_b_id);
  auto cli_c = run_netpulse({"user", "add", "--email", "boss@org-c.example", "--name", "Boss of C",
                             "--role", "admin", "--org", "org-c", "--password", "boss-c-password"},
                            {{"NETPULSE_STORAGE_DATA_DIR", dir.path()}});
  REQUIRE(cli_c.exit_code == 0);
  nothing_for(login(c, "boss@org-c.example", "boss-c-password"));
  check_exact(points_of(c, key_a, "ten_cpu", t - 1000, t + 1000), {{t, 1}});
  // After a restart B's series stay gone (the deletion was checkpointed with the log).
  REQUIRE(server.terminate() == 0);
  ServerProcess again(dir.path(), tsdb_env());
  auto c2 = again.client();
  const auto admin_a2 = login(c2, kAdminEmail, kAdminPassword);
  CHECK(strings(data_of(c2.get("/api/v1/label/host/values", admin_a2))) ==
        std::vector<std::string>{"a"});
  const auto admin_c2 = login(c2, "boss@org-c.example", "boss-c-password");
  CHECK(data_of(c2.get("/api/v1/series", admin_c2)).as_array().empty());
  CHECK(data_of(c2.get("/api/v1/labels", admin_c2)).as_array().empty());
}

namespace {

// The stream of writes of the durability test: batch b holds samples b*500 .. b*500+499, sample g
// going to series dur{host="h<g%10>"} at base + g ms with a value no rounding would leave alone.
constexpr int kBatchLines = 500;
constexpr int kDurSeries = 10;

double dur_value(std::int64_t g) {
  return static_cast<double>(g) * 1.0000001 + 0.1;
}

std::string dur_batch(std::int64_t base, int b) {
  std::string out;
  for (int i = 0; i < kBatchLines; ++i) {
    const std::int64_t g = static_cast<std::int64_t>(b) * kBatchLines + i;
    out += "dur,host=h" + std::to_string(g % kDurSeries) + " value=" + num(dur_value(g)) + " " +
           std::to_string(base + g) + "\n";
  }
  return out;
}

// Every stored sample of the stream, by time (times are unique across series), after checking
// that each one is one the test sent, with its exact value and series.
std::map<std::int64_t, double> stored_stream(HttpClient& c, const std::string& token,
                                             std::int64_t base, int batches_sent) {
  auto series = range(c, token, "dur", base, base + 200 * kBatchLines);
  std::map<std::int64_t, double> out;
  std::size_t foreign = 0, duplicated = 0;
  for (const auto& s : series) {
    for (const auto& p : s.points) {
      const std::int64_t g = p.t - base;
      const bool ours = g >= 0 && g < static_cast<std::int64_t>(batches_sent) * kBatchLines &&
                        s.labels.at("host") == "h" + std::to_string(g % kDurSeries) &&
                        same_bits(p.v, dur_value(g));
      if (!ours) ++foreign;
      if (!out.emplace(p.t, p.v).second) ++duplicated;
    }
  }
  CHECK(series.size() <= static_cast<std::size_t>(kDurSeries));
  CHECK(foreign == 0);
  CHECK(duplicated == 0);
  return out;
}

// How many samples of the acknowledged batches are missing from `stored`.
std::size_t missing_acked(const std::map<std::int64_t, double>& stored, std::int64_t base,
                          const std::vector<int>& acked) {
  std::size_t missing = 0;
  for (int b : acked) {
    for (int i = 0; i < kBatchLines; ++i) {
      const std::int64_t g = static_cast<std::int64_t>(b) * kBatchLines + i;
      if (!stored.count(base + g)) ++missing;
    }
  }
  return missing;
}

// The rollups of each series of the stream agree with its stored samples.
void check_stream_rollups(HttpClient& c, const std::string& token, std::int64_t base,
                          const std::map<std::int64_t, double>& stored) {
  std::vector<std::vector<Point>> by_series(kDurSeries);
  for (const auto& [t, v] : stored) by_series[(t - base) % kDurSeries].push_back({t, v});
  for (int h = 0; h < kDurSeries; ++h) {
    INFO("series h" << h);
    if (by_series[h].empty()) continue;
    check_rollups(c, token, "dur{host=\"h" + std::to_string(h) + "\"}", by_series[h], base,
                  by_series[h].back().t);
  }
}

}  // namespace

TEST_CASE(
    "tsdb: every acknowledged sample survives kill -9 mid-stream, checkpoints included; "
    "replaying twice and a clean restart keep each sample once",
    "[tsdb]") {
  TempDir dir;
  // A checkpoint whenever the append log has grown by 1 MiB: the restart loads a head snapshot
  // and replays the log written after it.
  auto env = tsdb_env();
  env["NETPULSE_TSDB_CHECKPOINT_LOG_MB"] = "1";
  const std::int64_t base = now_ms() - 40 * 60'000;
  // Written before the stream, 1.2 MB of log: its append starts the first checkpoint.
  constexpr int kPrefill = 60'000;
  const std::int64_t prefill_base = base - 5 * 60'000;
  auto check_prefill = [&](HttpClient& c, const std::string& key) {
    auto points = points_of(c, key, "dur_prefill", prefill_base, prefill_base + kPrefill);
    REQUIRE(points.size() == static_cast<std::size_t>(kPrefill));
    std::size_t wrong = 0;
    for (int g = 0; g < kPrefill; ++g) {
      if (points[g].t != prefill_base + g || !same_bits(points[g].v, dur_value(g))) ++wrong;
    }
    CHECK(wrong == 0);
  };
  std::string key;
  std::vector<int> acked;
  int batches_sent = 0;
  {
    ServerProcess server(dir.path(), env);
    auto c = server.client();
    key = create_key(c, login(c, kAdminEmail, kAdminPassword), "collector");
    std::string prefill;
    for (int g = 0; g < kPrefill; ++g) {
      prefill += "dur_prefill,host=p value=" + num(dur_value(g)) + " " +
                 std::to_string(prefill_base + g) + "\n";
    }
    REQUIRE(write_lp(c, key, prefill).status == 204);
    double checkpoints = 0;
    for (int attempt = 0; attempt < 100 && checkpoints < 1; ++attempt) {
      if (attempt) std::this_thread::sleep_for(std::chrono::milliseconds(50));
      checkpoints = metric_value(c, "netpulse_tsdb_checkpoint_seconds_count");
    }
    REQUIRE(checkpoints >= 1);

    // One thread writes batches over a kept-alive connection, recording each 2xx, until the
    // server dies, 200 batches, or 3 s; this one kills the server in the middle of it.
    std::mutex mu;
    std::atomic<int> acked_count{0};
    std::atomic<bool> writer_done{false};
    std::string writer_error;
    std::thread writer([&] {
      HttpClient wc("127.0.0.1", server.port());
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
      for (int b = 0; b < 200 && std::chrono::steady_clock::now() < deadline; ++b) {
        auto body = dur_batch(base, b);
        {
          std::lock_guard lock(mu);
          batches_sent = b + 1;
        }
        try {
          auto res = write_lp(wc, key, std::move(body));
          if (res.status / 100 != 2) {
            std::lock_guard lock(mu);
            writer_error =
                "batch " + std::to_string(b) + ": " + std::to_string(res.status) + " " + res.body;
            break;
          }
          std::lock_guard lock(mu);
          acked.push_back(b);
          ++acked_count;
        } catch (const std::exception&) {
          break;  // the server is gone
        }
      }
      writer_done = true;
    });
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::milliseconds(1500);
    while (acked_count < 60 && !writer_done && std::chrono::steady_clock::now() < give_up)
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    const bool mid_stream = !writer_done;
    server.kill9();
    writer.join();
    INFO(writer_error);
    REQUIRE(writer_error.empty());
    CHECK(mid_stream);
    REQUIRE(acked.size() >= 5);
    WARN("kill -9 after " << acked.size() << " acknowledged batches of " << batches_sent
                          << " sent");
  }

  std::map<std::int64_t, double> after_kill;
  {
    ServerProcess server(dir.path(), env);
    auto c = server.client();
    check_prefill(c, key);
    after_kill = stored_stream(c, key, base, batches_sent);
    CHECK(missing_acked(after_kill, base, acked) == 0);
    CHECK(after_kill.size() >= acked.size() * kBatchLines);
    CHECK(metric_value(c, "netpulse_tsdb_series") == kDurSeries + 1);
    check_stream_rollups(c, key, base, after_kill);
    // Killed again before any checkpoint: the log is replayed a second time.
    server.kill9();
  }
  const int extra_batch = 200;
  {
    ServerProcess server(dir.path(), env);
    auto c = server.client();
    check_prefill(c, key);
    auto again = stored_stream(c, key, base, batches_sent);
    CHECK(again == after_kill);
    CHECK(metric_value(c, "netpulse_tsdb_series") == kDurSeries + 1);
    // One more batch, then a clean stop.
    REQUIRE(write_lp(c, key, dur_batch(base, extra_batch)).status == 204);
    CHECK(server.terminate() == 0);
  }
  for (int round = 0; round < 2; ++round) {
    INFO("clean restart " << round + 1);
    ServerProcess server(dir.path(), env);
    auto c = server.client();
    check_prefill(c, key);
    auto series = range(c, key, "dur", base, base + (extra_batch + 1) * kBatchLines);
    std::map<std::int64_t, double> all;
    std::size_t points = 0;
    for (const auto& s : series) {
      for (const auto& p : s.points) {
        ++points;
        all.emplace(p.t, p.v);
      }
    }
    CHECK(points == all.size());
    CHECK(all.size() == after_kill.size() + kBatchLines);
    std::size_t wrong = 0;
    for (const auto& [t, v] : after_kill) {
      auto it = all.find(t);
      if (it == all.end() || !same_bits(it->second, v)) ++wrong;
    }
    for (int i = 0; i < kBatchLines; ++i) {
      const std::int64_t g = static_cast<std::int64_t>(extra_batch) * kBatchLines + i;
      auto it = all.find(base + g);
      if (it == all.end() || !same_bits(it->second, dur_value(g))) ++wrong;
    }
    CHECK(wrong == 0);
    CHECK(metric_value(c, "netpulse_tsdb_series") == kDurSeries + 1);
    check_stream_rollups(c, key, base, all);
    CHECK(server.terminate() == 0);
  }
}

TEST_CASE(
    "tsdb: samples sealed into many chunks persist and read back exactly, in whole and in "
    "part, from memory and from SQLite, with out-of-order samples and duplicates after restarts",
    "[tsdb]") {
  TempDir dir;
  const std::int64_t base = (now_ms() / 1000 - 40 * 60) * 1000;
  constexpr int kSamples = 1000;  // about 8 sealed chunks of 120 per series
  // A series whose old chunks leave memory once persisted (older than head_keep_h, 24 h, and
  // far behind the series' newest sample): they are read back from SQLite.
  const std::int64_t old_base = (now_ms() / 1000 - 30 * 3600) * 1000;
  const std::int64_t recent = (now_ms() / 1000 - 600) * 1000;
  std::vector<Point> archived;
  for (int i = 0; i < kSamples; ++i)
    archived.push_back({old_base + i * 1000LL, i * 0.5 - 3.25e-7 * i});
  archived.push_back({recent, 42});
  auto check_archived = [&](HttpClient& c, const std::string& key) {
    auto slice = [&](std::int64_t from, std::int64_t to) {
      std::vector<Point> out;
      for (const auto& p : archived) {
        if (p.t >= from && p.t <= to) out.push_back(p);
      }
      return out;
    };
    for (auto [from, to] : std::vector<std::pair<std::int64_t, std::int64_t>>{
             {old_base, recent},
             {old_base + 130'000, old_base + 175'000},
             {old_base + 100'500, old_base + 130'500},
             {old_base + 990'000, recent + 1}}) {
      INFO("archived " << from - old_base << " .. " << to - old_base << " ms");
      check_exact(points_of(c, key, "archived", from, to), slice(from, to));
    }
    check_rollups(c, key, "archived", archived, old_base, recent);
  };
  // A backfilled series: all of it as old, and joined later by out-of-order samples.
  std::vector<Point> backfill;
  for (int i = 0; i < 300; ++i) backfill.push_back({old_base + i * 1000LL, i * 2.5});
  auto check_backfill = [&](HttpClient& c, const std::string& key) {
    INFO("backfill");
    auto sorted = backfill;
    std::sort(sorted.begin(), sorted.end(),
              [](const Point& a, const Point& b) { return a.t < b.t; });
    check_exact(points_of(c, key, "backfill", old_base, old_base + 400'000), sorted);
    check_rollups(c, key, "backfill", sorted, old_base, old_base + 400'000);
  };
  auto write_backfill = [&](HttpClient& c, const std::string& key, std::int64_t t, double v) {
    auto res =
        write_lp(c, key, "backfill,kind=old value=" + num(v) + " " + std::to_string(t) + "\n");
    INFO(res.body);
    REQUIRE(res.status == 204);
    backfill.push_back({t, v});
  };
  // Integers (the integer chunk encoding), fractions, and a series switching between the two.
  const std::map<std::string, std::function<double(int)>> series = {
      {"ints", [](int i) { return 9007199254740992.0 - 3.0 * i * i; }},
      {"floats", [](int i) { return std::sin(i * 0.01) * 1e6 + 1e-9 * i; }},
      {"mixed", [](int i) { return i % 3 == 0 ? static_cast<double>(i) : i / 7.0; }},
  };
  // Samples written out of order later, between the regular ones, by series.
  std::map<std::string, std::vector<Point>> late;
  auto expected = [&](const std::string& name, std::int64_t from, std::int64_t to) {
    std::vector<Point> out;
    for (int i = 0; i < kSamples; ++i) {
      const std::int64_t t = base + i * 1000LL;
      if (t >= from && t <= to) out.push_back({t, series.at(name)(i)});
    }
    for (const auto& p : late[name]) {
      if (p.t >= from && p.t <= to) out.push_back(p);
    }
    std::sort(out.begin(), out.end(), [](const Point& a, const Point& b) { return a.t < b.t; });
    return out;
  };
  auto check_all = [&](HttpClient& c, const std::string& key) {
    for (const auto& [name, _] : series) {
      INFO(name);
      const std::string sel = "chunky{kind=\"" + name + "\"}";
      auto check_range = [&](std::int64_t from, std::int64_t to) {
        INFO("range " << from - base << " .. " << to - base << " ms");
        check_exact(points_of(c, key, sel, from, to), expected(name, from, to));
      };
      check_range(base, base + kSamples * 1000LL);
      check_range(base + 130'000, base + 175'000);    // inside one sealed chunk
      check_range(base + 100'500, base + 130'500);    // across a chunk boundary
      check_range(base + 995'000, base + 2'000'000);  // the open chunk's tail
      auto count = points_of(c, key, sel, base, base + 3'599'999, "&step=1h&agg=count");
      REQUIRE(count.size() == 1);
      CHECK(count[0].v == static_cast<double>(kSamples + late[name].size()));
      const std::int64_t last = base + kSamples * 1000LL;
      check_rollups(c, key, sel, expected(name, base, last), base, last);
    }
  };
  auto write_late_many = [&](HttpClient& c, const std::string& key, const std::string& name,
                             const std::vector<Point>& points) {
    std::string lp;
    for (const auto& p : points)
      lp += "chunky,kind=" + name + " value=" + num(p.v) + " " + std::to_string(p.t) + "\n";
    auto res = write_lp(c, key, lp);
    INFO(res.body);
    REQUIRE(res.status == 204);
    late[name].insert(late[name].end(), points.begin(), points.end());
  };
  auto write_late = [&](HttpClient& c, const std::string& key, const std::string& name,
                        std::int64_t t, double v) {
    write_late_many(c, key, name, {{t, v}});
  };

  std::string key;
  {
    INFO("first start");
    ServerProcess server(dir.path(), tsdb_env());
    auto c = server.client();
    key = create_key(c, login(c, kAdminEmail, kAdminPassword), "collector");
    std::string lp;
    for (int i = 0; i < kSamples; ++i) {
      for (const auto& [name, value] : series) {
        lp += "chunky,kind=" + name + " value=" + num(value(i)) + " " +
              std::to_string(base + i * 1000LL) + "\n";
      }
    }
    for (const auto& p : archived)
      lp += "archived,kind=old value=" + num(p.v) + " " + std::to_string(p.t) + "\n";
    for (const auto& p : backfill)
      lp += "backfill,kind=old value=" + num(p.v) + " " + std::to_string(p.t) + "\n";
    REQUIRE(write_lp(c, key, lp).status == 204);
    check_all(c, key);
    check_archived(c, key);
    write_backfill(c, key, old_base + 50'500, 0.25);
    check_backfill(c, key);
    // Wait until the sealed chunks are in SQLite (flushed every second here): the first flush
    // writes the new series and the chunks sealed so far in one transaction, and only then
    // does the series gauge count them.
    double indexed = -1;
    for (int attempt = 0; attempt < 100; ++attempt) {
      indexed = metric_value(c, "netpulse_tsdb_series");
      if (indexed == 5) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    REQUIRE(indexed == 5);
    CHECK(metric_value(c, "netpulse_tsdb_pending_chunks") == 0);
    // The old chunks have left memory: these reads go to SQLite.
    check_archived(c, key);
    // ... then die without a checkpoint: the restart has the chunks in SQLite and the same
    // samples in the log.
    server.kill9();
  }
  {
    INFO("restart after kill -9, no checkpoint");
    ServerProcess server(dir.path(), tsdb_env());
    auto c = server.client();
    check_all(c, key);
    check_archived(c, key);
    check_backfill(c, key);
    CHECK(metric_value(c, "netpulse_tsdb_series") == 5);
    // The backfilled series still takes out-of-order samples within its window (an hour behind
    // its newest sample, which is 30 hours old), and its rollups follow.
    write_backfill(c, key, old_base + 100'500, 0.5);
    check_backfill(c, key);
    // A sample of a sealed, persisted chunk sent again: the same value is a duplicate, another
    // value a conflict.
    const std::string again = "chunky,kind=floats value=" + num(series.at("floats")(150)) + " " +
                              std::to_string(base + 150'000) + "\n";
    REQUIRE(write_lp(c, key, again).status == 204);
    refused_once(
        write_lp(c, key, "chunky,kind=floats value=0.5 " + std::to_string(base + 150'000) + "\n"),
        "duplicate_conflict");
    // Out of order, between the samples of sealed chunks and of the open one.
    write_late(c, key, "floats", base + 150'500, 0.125);
    write_late(c, key, "ints", base + 150'250, 12345678901234.0);
    write_late(c, key, "mixed", base + 998'500, -1e-300);
    // More out-of-order samples than one chunk holds: an out-of-order chunk is sealed.
    std::vector<Point> burst;
    for (int k = 0; k < 150; ++k) burst.push_back({base + 200'500 + k * 1000LL, -0.75 * k});
    write_late_many(c, key, "floats", burst);
    check_all(c, key);
    CHECK(server.terminate() == 0);
  }
  {
    // After a clean stop: the head snapshot, out-of-order chunks included.
    INFO("restart after a clean stop");
    ServerProcess server(dir.path(), tsdb_env());
    auto c = server.client();
    check_all(c, key);
    check_backfill(c, key);
    write_backfill(c, key, old_base + 200'500, 0.75);
    check_backfill(c, key);
    // Nothing to replay, so nothing is sealed: the flushes that follow have nothing to write.
    const double log_bytes = metric_value(c, "netpulse_tsdb_log_bytes");
    write_late(c, key, "floats", base + 150'750, 0.25);
    write_late(c, key, "mixed", base + 10'500, 3.5);
    check_all(c, key);
    // The gauges follow such writes too (within a few flush intervals).
    double grown = log_bytes;
    for (int attempt = 0; attempt < 60 && grown <= log_bytes; ++attempt) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      grown = metric_value(c, "netpulse_tsdb_log_bytes");
    }
    CHECK(grown > log_bytes);
    server.kill9();
  }
  {
    // After kill -9 on top of a snapshot: the snapshot plus the log after it.
    INFO("restart after kill -9 on a snapshot");
    ServerProcess server(dir.path(), tsdb_env());
    auto c = server.client();
    check_all(c, key);
    check_archived(c, key);
    check_backfill(c, key);
    // The out-of-order samples are known as stored ones: another value is a conflict.
    refused_once(
        write_lp(c, key, "chunky,kind=floats value=0.75 " + std::to_string(base + 150'500) + "\n"),
        "duplicate_conflict");
    CHECK(metric_value(c, "netpulse_tsdb_series") == 5);
    CHECK(server.terminate() == 0);
  }
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

TEST_CASE("tsdb: a gzipped JSON body of 63 MiB is refused at the sample cap in bounded memory",
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

TEST_CASE(
    "tsdb: gzipped line protocol and CSV bombs of valid records stop at the caps in bounded "
    "memory",
    "[tsdb][lp][csv]") {
  // Before the fix a line-protocol or CSV gzip body was inflated whole (up to 64 MiB) and then
  // parsed: about 100 KB on the wire cost the inflated text, and lines of many fields the keys
  // and samples of millions of samples, before any cap was checked.
  const std::string t = std::to_string(now_ms() / 1000 - 600);
  std::string wide_line = "bomb_wide f0=1";
  for (int i = 1; i < 256; ++i) wide_line += ",f" + std::to_string(i) + "=1";
  wide_line += " " + t + "\n";
  struct Bomb {
    std::string what;
    std::string target;
    std::string content_type;
    std::string head;  // once, then `record` up to 63 MiB
    std::string record;
    std::string message_has;
  };
  const std::vector<Bomb> bombs = {
      {"line protocol: 63 MiB of lines, refused at the 200,000-line cap",
       "/api/v2/write?precision=s", "text/plain", "", "bomb value=1 " + t + "\n", "200000 lines"},
      {"line protocol: 63 MiB of lines of 256 fields, refused at the 200,000-sample cap",
       "/api/v2/write?precision=s", "text/plain", "", wide_line, "200000 samples"},
      {"CSV: 63 MiB of records, refused at the 200,000-record cap", "/api/v1/metrics/csv",
       "text/csv", "metric,value,timestamp,host\n", "bomb,1," + t + ",h\n", "200000 lines"},
  };
  for (const auto& bomb : bombs) {
    INFO(bomb.what);
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
}

TEST_CASE("tsdb: Telegraf's default batch with string fields is stored; strings are counted",
          "[tsdb][lp]") {
  // Before the fix a string field (Telegraf's system input sends uptime_format in every batch)
  // made the whole request 400, so nothing was stored.
  TempDir dir;
  ServerProcess server(dir.path(), tsdb_env());
  auto c = server.client();
  const auto admin = login(c, kAdminEmail, kAdminPassword);
  const auto key = create_key(c, admin, "telegraf");
  const auto t0 = now_ms() - 600'000;

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
  CHECK(metric_value(c, R"(netpulse_ingest_fields_skipped_total\{reason="string"\})") ==
        2.0 * lines);
}

TEST_CASE("tsdb: reaching 80 % and 100 % of the series limit is an event the API shows",
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

  REQUIRE(write_series(0, 7).status == 204);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  CHECK(limit_events(0).empty());

  REQUIRE(write_series(7, 8).status == 204);  // 8 of 10: 80 %
  auto events = limit_events(1);
  REQUIRE(events.size() == 1);
  CHECK(events[0].at("device_id").is_null());
  CHECK(events[0].at("severity") == "warning");
  CHECK(events[0].at("details").at("level") == 80);
  CHECK(events[0].at("details").at("series") == 8);
  CHECK(events[0].at("details").at("limit") == 10);

  REQUIRE(write_series(8, 9).status == 204);  // 9 of 10: no new crossing
  // 10 and 11: the tenth fills the organization, the eleventh is refused.
  auto full = post(c, "/api/v2/write?precision=ms&partial=true", "Token " + key, "text/plain",
                   "limited,n=10 value=1 " + t + "\nlimited,n=11 value=1 " + t + "\n");
  INFO(full.body);
  CHECK(full.status == 200);
  events = limit_events(2);
  REQUIRE(events.size() == 2);
  CHECK(events[1].at("severity") == "critical");
  CHECK(events[1].at("details").at("level") == 100);
  CHECK(events[1].at("message").as_string().find("tsdb.max_series_per_org") != std::string::npos);

  auto usage = c.get("/api/v1/metrics/usage", key);
  INFO(usage.body);
  REQUIRE(usage.status == 200);
  CHECK(usage.json().at("data").at("series") == 10);
  CHECK(usage.json().at("data").at("series_limit") == 10);
  CHECK(usage.json().at("data").at("level") == "full");

  // Once per crossing: more refused series add no event.
  write_series(20, 25);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  CHECK(limit_events(2).size() == 2);
}

// The time-series store through the real binary, queries: step aggregation, rollup tiers, counter
// rate across a 32-bit wrap, grouping, top-k, downsampling, instant queries, discovery and the
// dashboard call. The cases but the dashboard's read one data set, written once to one shared
// server; the dashboard writes and so has a server of its own.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "support/server_process.hpp"
#include "support/temp_dir.hpp"
#include "support/tsdb_http.hpp"

using netpulse::test::kAdminEmail;
using netpulse::test::kAdminPassword;
using netpulse::test::login;
using netpulse::test::ServerProcess;
using netpulse::test::TempDir;
using namespace netpulse::test::tsdb_http;

namespace {

// qf_cpu: three hosts (two in dc eu, one in us), a sample every 10 s for 10 minutes.
double cpu(int h, int i) {
  return h * 100 + ((i * 37) % 50) * 0.25;
}
const std::map<int, std::string> kDc = {{1, "eu"}, {2, "eu"}, {3, "us"}};
// qf_octets: a 32-bit counter, +10000 every 10 s, wrapping between samples 2 and 3.
double octets(int i) {
  const std::uint64_t wrap = 1ull << 32;
  return static_cast<double>((4294942295ull + i * 10000ull) % wrap);
}
// qf_spike: one sample a second, flat but for one spike and one dip.
double spike(int i) {
  return i == 377 ? 1000.0 : i == 123 ? -5.0 : 1 + (i % 7) * 0.001;
}

// The six samples of bucket k of host h, and their aggregates as the server defines them.
std::vector<double> bucket(int h, int k) {
  std::vector<double> v;
  for (int i = 6 * k; i < 6 * k + 6; ++i) v.push_back(cpu(h, i));
  return v;
}
double avg(const std::vector<double>& v) {
  double sum = 0;
  for (double x : v) sum += x;
  return sum / static_cast<double>(v.size());
}
double p95(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  double rank = 0.95 * static_cast<double>(v.size() - 1);
  auto lo = static_cast<std::size_t>(std::floor(rank));
  auto hi = static_cast<std::size_t>(std::ceil(rank));
  return v[lo] + (v[hi] - v[lo]) * (rank - static_cast<double>(lo));
}
double max_of(const std::vector<double>& v) {
  return *std::max_element(v.begin(), v.end());
}

// The shared server with qf_cpu, qf_octets and qf_spike written, from `base` (a whole minute,
// 20 minutes before the first case) to `end` (ten one-minute buckets).
struct QueryData {
  QueryData() {
    std::string lp;
    for (int i = 0; i < 60; ++i) {
      const auto t = std::to_string(base + i * 10'000);
      for (int h = 1; h <= 3; ++h) {
        lp += "qf_cpu,host=web-0" + std::to_string(h) + ",dc=" + kDc.at(h) +
              " value=" + num(cpu(h, i)) + " " + t + "\n";
      }
      lp += "qf_octets,host=r1,ifName=eth0 value=" + num(octets(i)) + " " + t + "\n";
    }
    for (int i = 0; i < 600; ++i)
      lp += "qf_spike,host=web-01 value=" + num(spike(i)) + " " + std::to_string(base + i * 1000) +
            "\n";
    auto res = write_lp(s.c, s.key, lp);
    INFO(res.body);
    REQUIRE(res.status == 204);
  }

  TsdbServer s{"collector"};
  const std::int64_t base = (now_ms() / 60'000 - 20) * 60'000;
  const std::int64_t end = base + 600'000 - 1;
};

QueryData& query_data() {
  static QueryData shared;
  return shared;
}

}  // namespace

TEST_CASE("tsdb query: step aggregation gives avg, max and p95 per one-minute bucket", "[tsdb]") {
  auto& d = query_data();
  auto& c = d.s.c;
  const auto& key = d.s.key;
  auto res = range_raw(c, key, R"(qf_cpu{host="web-01"})", d.base, d.end, "&step=60&agg=avg");
  auto range_data = data_of(res);
  CHECK(range_data.at("tier").as_string() == "raw");
  CHECK(range_data.at("step").to_number<double>() == 60);
  for (const char* agg : {"avg", "max", "p95"}) {
    INFO(agg);
    auto points = points_of(c, key, R"(qf_cpu{host="web-01"})", d.base, d.end,
                            std::string("&step=1m&agg=") + agg);
    REQUIRE(points.size() == 10);
    for (int k = 0; k < 10; ++k) {
      INFO("bucket " << k);
      CHECK(points[k].t == d.base + k * 60'000);
      auto values = bucket(1, k);
      if (std::string(agg) == "avg") CHECK(points[k].v == Approx(avg(values)).epsilon(1e-12));
      if (std::string(agg) == "max") CHECK(points[k].v == max_of(values));
      if (std::string(agg) == "p95") CHECK(points[k].v == Approx(p95(values)).epsilon(1e-12));
    }
  }
}

TEST_CASE("tsdb query: the 5-minute and 1-hour rollup tiers hold the figures of the raw samples",
          "[tsdb]") {
  auto& d = query_data();
  std::vector<Point> web01;
  for (int i = 0; i < 60; ++i) web01.push_back({d.base + i * 10'000, cpu(1, i)});
  check_rollups(d.s.c, d.s.key, R"(qf_cpu{host="web-01"})", web01, d.base, d.end);
}

TEST_CASE(
    "tsdb query: rate with width=32 is steady across a 32-bit counter's wrap, per pair of "
    "samples and per bucket",
    "[tsdb]") {
  auto& d = query_data();
  auto& c = d.s.c;
  const auto& key = d.s.key;
  // Without a step: one point per pair of samples, 10000 per 10 s, wrap included.
  auto rate = points_of(c, key, "qf_octets", d.base, d.end, "&fn=rate&width=32");
  REQUIRE(rate.size() == 59);
  for (int i = 0; i < 59; ++i) {
    INFO("pair ending at sample " << i + 1);
    CHECK(rate[i].t == d.base + (i + 1) * 10'000);
    CHECK(rate[i].v == 1000.0);
  }
  // Per one-minute bucket: still 1000/s, the bucket with the wrap included.
  rate = points_of(c, key, "qf_octets", d.base, d.end, "&fn=rate&width=32&step=60");
  REQUIRE(rate.size() == 10);
  for (const auto& p : rate) CHECK(p.v == 1000.0);
}

TEST_CASE("tsdb query: increase with width=32 counts across a 32-bit counter's wrap per bucket",
          "[tsdb]") {
  auto& d = query_data();
  auto increase =
      points_of(d.s.c, d.s.key, "qf_octets", d.base, d.end, "&fn=increase&width=32&step=60");
  REQUIRE(increase.size() == 10);
  CHECK(increase[0].v == 50'000.0);  // the first bucket has no sample before it
  for (int k = 1; k < 10; ++k) CHECK(increase[k].v == 60'000.0);
}

TEST_CASE(
    "tsdb query: rate without width= takes a counter's drop as a reset, as Prometheus does: the "
    "rise is the new value",
    "[tsdb]") {
  auto& d = query_data();
  auto rate = points_of(d.s.c, d.s.key, "qf_octets", d.base, d.end, "&fn=rate");
  REQUIRE(rate.size() == 59);
  CHECK(rate[2].t == d.base + 30'000);
  CHECK(rate[2].v == octets(3) / 10.0);
  CHECK(octets(3) < octets(2));
}

TEST_CASE("tsdb query: by= groups series by a label and sums each group", "[tsdb]") {
  auto& d = query_data();
  auto groups = range(d.s.c, d.s.key, "qf_cpu", d.base, d.end, "&step=60&agg=avg&by=dc");
  REQUIRE(groups.size() == 2);
  CHECK(groups[0].labels == Labels{{"dc", "eu"}});
  CHECK(groups[1].labels == Labels{{"dc", "us"}});
  CHECK(groups[0].metric == "qf_cpu");
  REQUIRE(groups[0].points.size() == 10);
  REQUIRE(groups[1].points.size() == 10);
  for (int k = 0; k < 10; ++k) {
    INFO("bucket " << k);
    CHECK(groups[0].points[k].t == d.base + k * 60'000);
    CHECK(groups[0].points[k].v == Approx(avg(bucket(1, k)) + avg(bucket(2, k))).epsilon(1e-12));
    CHECK(groups[1].points[k].v == Approx(avg(bucket(3, k))).epsilon(1e-12));
  }
}

TEST_CASE("tsdb query: topk keeps the series with the largest values, largest first", "[tsdb]") {
  auto& d = query_data();
  auto top = range(d.s.c, d.s.key, "qf_cpu", d.base, d.end, "&step=60&agg=max&topk=2");
  REQUIRE(top.size() == 2);
  CHECK(top[0].labels.at("host") == "web-03");
  CHECK(top[1].labels.at("host") == "web-02");
  for (int k = 0; k < 10; ++k) CHECK(top[0].points.at(k).v == max_of(bucket(3, k)));
}

TEST_CASE("tsdb query: points= downsamples to real samples and keeps the spike and the dip",
          "[tsdb]") {
  auto& d = query_data();
  auto& c = d.s.c;
  const auto& key = d.s.key;
  auto all = points_of(c, key, "qf_spike", d.base, d.end);
  REQUIRE(all.size() == 600);
  auto few = points_of(c, key, "qf_spike", d.base, d.end, "&points=20");
  CHECK(few.size() <= 20);
  CHECK(few.size() >= 10);
  bool saw_spike = false, saw_dip = false;
  for (const auto& p : few) {
    INFO(p.t << " " << p.v);
    REQUIRE((p.t - d.base) % 1000 == 0);
    const int i = static_cast<int>((p.t - d.base) / 1000);
    CHECK(same_bits(p.v, spike(i)));  // every point is a real sample
    saw_spike |= p.t == d.base + 377'000 && p.v == 1000.0;
    saw_dip |= p.t == d.base + 123'000 && p.v == -5.0;
  }
  CHECK(saw_spike);
  CHECK(saw_dip);
}

TEST_CASE(
    "tsdb query: instant queries take the latest sample within the lookback, 5 minutes unless "
    "lookback= says otherwise",
    "[tsdb]") {
  auto& d = query_data();
  auto& c = d.s.c;
  const auto& key = d.s.key;
  const std::int64_t base = d.base;
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

TEST_CASE("tsdb query: /series lists series with their last sample, with and without match[]",
          "[tsdb]") {
  auto& d = query_data();
  auto& c = d.s.c;
  const auto& key = d.s.key;
  auto series =
      data_of(c.get("/api/v1/series?match[]=" + url_encode(R"(qf_cpu{dc="eu"})"), key)).as_array();
  REQUIRE(series.size() == 2);
  for (int h = 1; h <= 2; ++h) {
    const auto& s = series[h - 1];
    INFO(boost::json::serialize(s));
    CHECK(s.at("metric").as_string() == "qf_cpu");
    CHECK(json_labels(s.at("labels")) ==
          Labels{{"dc", "eu"}, {"host", "web-0" + std::to_string(h)}});
    CHECK(json_ms(s.at("last_timestamp")) == d.base + 590'000);
    CHECK(same_bits(json_value(s.at("last_value")), cpu(h, 59)));
  }
  series = data_of(c.get("/api/v1/series?match[]=" + url_encode(R"(qf_cpu{dc="us"})") +
                             "&match[]=qf_octets",
                         key))
               .as_array();
  REQUIRE(series.size() == 2);
  CHECK(data_of(c.get("/api/v1/series", key)).as_array().size() == 5);
}

TEST_CASE("tsdb query: /labels and /label/<name>/values list names, with and without match[]",
          "[tsdb]") {
  auto& d = query_data();
  auto& c = d.s.c;
  const auto& key = d.s.key;
  CHECK(strings(data_of(c.get("/api/v1/labels", key))) ==
        std::vector<std::string>{"__name__", "dc", "host", "ifName"});
  CHECK(strings(data_of(c.get("/api/v1/labels?match[]=qf_octets", key))) ==
        std::vector<std::string>{"__name__", "host", "ifName"});
  CHECK(strings(data_of(c.get("/api/v1/label/host/values", key))) ==
        std::vector<std::string>{"r1", "web-01", "web-02", "web-03"});
  CHECK(strings(data_of(
            c.get("/api/v1/label/host/values?match[]=" + url_encode(R"(qf_cpu{dc="us"})"), key))) ==
        std::vector<std::string>{"web-03"});
  CHECK(strings(data_of(c.get("/api/v1/label/__name__/values", key))) ==
        std::vector<std::string>{"qf_cpu", "qf_octets", "qf_spike"});
}

TEST_CASE(
    "tsdb query: the dashboard gives avg, min, max, p95 and count over its window, narrowed by "
    "a label",
    "[tsdb]") {
  // A server of its own: the discovery cases above count every series of the organization.
  TempDir dir;
  ServerProcess server(dir.path(), tsdb_env());
  auto c = server.client();
  const auto admin = login(c, kAdminEmail, kAdminPassword);
  const auto key = create_key(c, admin, "collector");
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
    CHECK(a.at("max").to_number<double>() == max_of(values));
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

// MetricsRegistry rendering in the Prometheus text format: HELP/TYPE headers, counter, gauge and
// histogram lines, computed gauges, labels and their escaping.
#include <algorithm>

#include <catch2/catch.hpp>

#include <netpulse/core/metrics.hpp>

using netpulse::core::MetricsRegistry;

TEST_CASE("metrics: counters and gauges render with HELP, TYPE and value", "[core][metrics]") {
  MetricsRegistry m;
  auto& requests = m.counter("requests_total", "Requests served");
  requests.inc();
  requests.inc(2);
  auto& temp = m.gauge("temperature", "Degrees");
  temp.set(20.5);
  temp.add(-0.5);
  m.gauge_fn("queue_depth", "Waiting jobs", [] { return 7.0; });
  m.counter_fn("cpu_seconds_total", "CPU", [] { return 1.25; });

  CHECK(requests.value() == 3);
  CHECK(temp.value() == 20);
  const std::string expected =
      "# HELP cpu_seconds_total CPU\n# TYPE cpu_seconds_total counter\ncpu_seconds_total 1.25\n"
      "# HELP queue_depth Waiting jobs\n# TYPE queue_depth gauge\nqueue_depth 7\n"
      "# HELP requests_total Requests served\n# TYPE requests_total counter\nrequests_total 3\n"
      "# HELP temperature Degrees\n# TYPE temperature gauge\ntemperature 20\n";
  CHECK(m.render() == expected);
}

TEST_CASE("metrics: the same name and labels give the same series", "[core][metrics]") {
  MetricsRegistry m;
  auto& a = m.counter("hits_total", "Hits", {{"route", "/a"}});
  auto& a2 = m.counter("hits_total", "Hits", {{"route", "/a"}});
  auto& b = m.counter("hits_total", "Hits", {{"route", "/b"}});
  CHECK(&a == &a2);
  CHECK(&a != &b);
  a.inc();
  a2.inc();
  b.inc();
  auto text = m.render();
  CHECK_THAT(text, Catch::Contains("hits_total{route=\"/a\"} 2\n"));
  CHECK_THAT(text, Catch::Contains("hits_total{route=\"/b\"} 1\n"));
  CHECK(text.find("# TYPE hits_total counter") == text.rfind("# TYPE hits_total counter"));
}

TEST_CASE("metrics: label values escape backslash, quote and newline", "[core][metrics]") {
  MetricsRegistry m;
  m.gauge("g", "G", {{"path", "C:\\dir \"x\"\nend"}, {"k", "v"}}).set(1);
  CHECK_THAT(m.render(), Catch::Contains("g{path=\"C:\\\\dir \\\"x\\\"\\nend\",k=\"v\"} 1\n"));
}

TEST_CASE("metrics: histograms render cumulative buckets, sum and count", "[core][metrics]") {
  MetricsRegistry m;
  auto& h = m.histogram("latency_seconds", "Latency", {0.1, 1}, {{"op", "read"}});
  h.observe(0.05);
  h.observe(0.1);  // on the bound: counts in le="0.1"
  h.observe(0.5);
  h.observe(3);
  CHECK(h.count() == 4);
  CHECK(h.sum() == Approx(3.65));
  CHECK(h.cumulative_counts() == std::vector<std::uint64_t>{2, 3, 4});
  auto text = m.render();
  CHECK_THAT(text, Catch::Contains("# TYPE latency_seconds histogram\n"));
  CHECK_THAT(text, Catch::Contains("latency_seconds_bucket{op=\"read\",le=\"0.1\"} 2\n"
                                   "latency_seconds_bucket{op=\"read\",le=\"1\"} 3\n"
                                   "latency_seconds_bucket{op=\"read\",le=\"+Inf\"} 4\n"
                                   "latency_seconds_sum{op=\"read\"} 3.65\n"
                                   "latency_seconds_count{op=\"read\"} 4\n"));
}

TEST_CASE("metrics: default latency buckets are increasing from 0.5 ms to 10 s",
          "[core][metrics]") {
  auto b = netpulse::core::default_latency_buckets();
  REQUIRE_FALSE(b.empty());
  CHECK(b.front() == 0.0005);
  CHECK(b.back() == 10);
  CHECK(std::is_sorted(b.begin(), b.end()));
}

TEST_CASE("metrics: HELP text escapes backslashes and newlines", "[core][metrics]") {
  netpulse::core::MetricsRegistry m;
  m.counter("odd_total", "line one\nline \\two").inc();
  auto text = m.render();
  CHECK(text.find("# HELP odd_total line one\\nline \\\\two\n") != std::string::npos);
}

// Window aggregates of a series (src/alerts/window_aggregate.cpp): avg, min and max over a
// sliding window of buckets, the window's bucket-granularity edge, p95 exact against Prometheus'
// quantile_over_time while the window is small and within its error bound above, and bytes per
// series.
#include <algorithm>
#include <cmath>
#include <functional>
#include <optional>
#include <random>
#include <vector>

#include <catch2/catch.hpp>

#include <netpulse/alerts/window_aggregate.hpp>

using namespace netpulse::alerts;

namespace {

constexpr std::int64_t kT0 = 1'800'000'000'000;  // a whole minute of Unix ms (2027)
constexpr std::int64_t kSecond = 1000;

// Prometheus' quantile_over_time: rank q * (n - 1), linear between the closest two.
double prometheus_quantile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  const double rank = q * static_cast<double>(v.size() - 1);
  const auto lo = static_cast<std::size_t>(rank);
  const auto hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (v[hi] - v[lo]) * (rank - static_cast<double>(lo));
}

}  // namespace

TEST_CASE("window aggregate: avg, min, max over a 60 s window (1 s buckets)", "[alerts][window]") {
  struct Case {
    ConditionFn fn;
    std::optional<double> at_30s;  // samples at 0..30 s
    std::optional<double> at_75s;  // the window is buckets 16..75 s: samples at 16..30 s
    std::optional<double> at_95s;  // nothing left
  };
  // Samples every second from 0 to 30 s: 100, 101, ..., 130.
  const std::vector<Case> cases{
      {ConditionFn::kAvg, 115.0, 123.0, std::nullopt},
      {ConditionFn::kMin, 100.0, 116.0, std::nullopt},
      {ConditionFn::kMax, 130.0, 130.0, std::nullopt},
      {ConditionFn::kP95, 128.5, 129.3, std::nullopt},  // rank .95*30 = 28.5; .95*14 = 13.3
  };
  for (const auto& c : cases) {
    INFO(condition_fn_name(c.fn));
    WindowAggregate w(c.fn, 60);
    CHECK_FALSE(w.value(kT0));
    for (int i = 0; i <= 30; ++i) w.observe(kT0 + i * kSecond, 100 + i);
    CHECK(w.value(kT0 + 30 * kSecond) == c.at_30s);
    CHECK(w.value(kT0 + 75 * kSecond).value_or(-1) == Approx(c.at_75s.value_or(-1)).epsilon(1e-12));
    CHECK(w.value(kT0 + 95 * kSecond) == c.at_95s);
    // expire() drops what value() skipped: same answers after it.
    w.expire(kT0 + 75 * kSecond);
    CHECK(w.value(kT0 + 75 * kSecond).value_or(-1) == Approx(c.at_75s.value_or(-1)).epsilon(1e-12));
  }
}

TEST_CASE("window aggregate: the window is the buckets ending with now's", "[alerts][window]") {
  // A 60 s window has 1 s buckets: a sample at 0.5 s is in bucket 0, in the window until now
  // reaches bucket 60 (60.0 s), though (now - 60 s, now] left it at 60.5 s in exact terms.
  WindowAggregate w(ConditionFn::kMax, 60);
  w.observe(kT0 + 500, 7);
  CHECK(w.value(kT0 + 59'999) == 7.0);
  CHECK_FALSE(w.value(kT0 + 60'000));
  // A 7-day window: 10,080 s (2.8 h) buckets.
  WindowAggregate week(ConditionFn::kAvg, 7 * 86'400);
  week.observe(kT0, 1);
  week.observe(kT0 + 10'080 * kSecond, 3);  // the next bucket
  CHECK(week.value(kT0 + 59 * 10'080 * kSecond) == 2.0);
  CHECK(week.value(kT0 + 60 * 10'080 * kSecond) == 3.0);  // bucket 0 left
  CHECK_FALSE(week.value(kT0 + 61 * 10'080 * kSecond));
}

TEST_CASE("window aggregate: late, duplicate, NaN and expired samples are ignored",
          "[alerts][window]") {
  WindowAggregate w(ConditionFn::kAvg, 60);
  w.observe(kT0 + 10 * kSecond, 10);
  w.observe(kT0 + 10 * kSecond, 1000);  // duplicate time
  w.observe(kT0 + 5 * kSecond, 1000);   // late
  w.observe(kT0 + 11 * kSecond, std::nan(""));
  w.observe(kT0 + 12 * kSecond, -INFINITY);
  w.observe(kT0 + 13 * kSecond, 20);
  CHECK(w.value(kT0 + 13 * kSecond) == 15.0);
  // The tick moved the window to 200 s; a sample of 100 s (after the newest, 13 s) is outside it.
  w.expire(kT0 + 200 * kSecond);
  w.observe(kT0 + 100 * kSecond, 5);
  CHECK_FALSE(w.value(kT0 + 200 * kSecond));
  // One inside the moved window is taken.
  w.observe(kT0 + 150 * kSecond, 5);
  CHECK(w.value(kT0 + 200 * kSecond) == 5.0);
}

TEST_CASE("window aggregate: p95 is Prometheus' quantile_over_time up to 128 samples",
          "[alerts][window]") {
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> u(0, 1000);
  WindowAggregate w(ConditionFn::kP95, 3600);  // 1-minute buckets
  std::vector<double> all;
  for (int i = 0; i < 200; ++i) {
    const double v = u(rng);
    all.push_back(v);
    w.observe(kT0 + i * 30 * kSecond, v);  // every 30 s: 120 samples an hour
  }
  // The window at the last sample (199 * 30 s): buckets 40..99 of minutes; samples 80..199.
  const std::int64_t now = kT0 + 199 * 30 * kSecond;
  const std::vector<double> in_window(all.begin() + 80, all.end());
  REQUIRE(in_window.size() == 120);
  CHECK(w.value(now).value() == prometheus_quantile(in_window, 0.95));
  // Asked about an earlier time: the newer samples are left out, still exact.
  // The ring of buckets now holds minutes 40..99: the window ending at minute 84 is 40..84.
  const std::vector<double> earlier(all.begin() + 80, all.begin() + 170);
  CHECK(w.value(kT0 + 85 * 60 * kSecond - 1).value() == prometheus_quantile(earlier, 0.95));
  // One value is its own p95.
  WindowAggregate one(ConditionFn::kP95, 60);
  one.observe(kT0, -3.5);
  CHECK(one.value(kT0) == -3.5);
}

TEST_CASE("window aggregate: p95 above 128 samples is within 2 % on random data",
          "[alerts][window]") {
  struct Case {
    const char* name;
    std::function<double(std::mt19937&)> draw;
  };
  const std::vector<Case> cases{
      {"uniform 0..100",
       [](std::mt19937& r) { return std::uniform_real_distribution<>(0, 100)(r); }},
      {"normal 50 +- 10", [](std::mt19937& r) { return std::normal_distribution<>(50, 10)(r); }},
      {"log-normal latency",
       [](std::mt19937& r) { return std::lognormal_distribution<>(3, 0.5)(r); }},
      {"bytes near 1e12",
       [](std::mt19937& r) { return 1e12 + std::uniform_real_distribution<>(0, 1e6)(r); }},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    std::mt19937 rng(42);
    WindowAggregate w(ConditionFn::kP95, 3600);
    std::vector<std::pair<std::int64_t, double>> samples;
    // A sample every 2 s for 90 minutes: 1,800 in the window at the end.
    for (std::int64_t t = 0; t < 90 * 60 * kSecond; t += 2 * kSecond) {
      const double v = c.draw(rng);
      samples.emplace_back(kT0 + t, v);
      w.observe(kT0 + t, v);
    }
    const std::int64_t now = samples.back().first;
    std::vector<double> in_window;
    for (const auto& [t, v] : samples) {
      if (t >= now - 59 * 60 * kSecond - (now - kT0) % (60 * kSecond)) in_window.push_back(v);
    }
    REQUIRE(in_window.size() == 1800);
    const double exact = prometheus_quantile(in_window, 0.95);
    const double estimate = w.value(now).value();
    CHECK(estimate == Approx(exact).epsilon(0.02));
  }
}

TEST_CASE("window aggregate: p95 on two far clusters stays within one bin of its neighbours",
          "[alerts][window]") {
  // 90 % of samples near 10, 10 % near 1000: the exact p95 interpolates inside the high
  // cluster. The bound: within one merged bin (at most 1/15 of the range) of the samples it
  // interpolates between.
  WindowAggregate w(ConditionFn::kP95, 600);  // 10 s buckets
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> jitter(0, 1);
  std::vector<double> all;
  for (int i = 0; i < 500; ++i) {
    const double v = (i % 10 == 9 ? 1000 : 10) + jitter(rng);
    all.push_back(v);
    w.observe(kT0 + i * kSecond, v);
  }
  std::sort(all.begin(), all.end());
  const double rank = 0.95 * 499;
  const auto f = static_cast<std::size_t>(rank);
  const double bin = (all.back() - all.front()) / 15;
  const double estimate = w.value(kT0 + 499 * kSecond).value();
  CHECK(estimate >= all[f] - bin);
  CHECK(estimate <= all[f + 1] + bin);
}

TEST_CASE("window aggregate: a p95 bin past 16 bits halves its bucket, which keeps its weight",
          "[alerts][window]") {
  // A 7-day window: 10,080 s buckets. Bucket A: 200,000 samples of 1 (its bin halves twice);
  // bucket B: 5,000 samples of 5. 5 is 2.4 % of the window, so p95 is in the 1s' merged bin
  // (1..5 within 64 bins: 1/8 wide), [1, 1.125) — were A weighed by its halved bins (~50,000), 5
  // would be 9 % and p95 would be 5.
  constexpr std::int64_t kSpan = 10'080 * kSecond;
  const std::int64_t a = (kT0 / kSpan + 1) * kSpan;
  WindowAggregate w(ConditionFn::kP95, 7 * 86'400);
  for (int i = 0; i < 200'000; ++i) w.observe(a + i * 10, 1);
  for (int i = 0; i < 5'000; ++i) w.observe(a + kSpan + i * 10, 5);
  const double p95 = w.value(a + kSpan + 50 * kSecond).value();
  CHECK(p95 >= 1);
  CHECK(p95 < 1.125);
}

TEST_CASE("window aggregate: bytes per series", "[alerts][window]") {
  // The figures of the header's comment: a field added must update them.
  STATIC_REQUIRE(sizeof(WindowAggregate) <= 768);
  CHECK(WindowAggregate(ConditionFn::kAvg, 60).state_bytes() <= 768);
  CHECK(WindowAggregate(ConditionFn::kMin, 60).state_bytes() <= 768);
  CHECK(WindowAggregate(ConditionFn::kMax, 60).state_bytes() <= 768);
  CHECK(WindowAggregate(ConditionFn::kP95, 60).state_bytes() <= 768 + 5'592);
}

TEST_CASE("window aggregate: the running average matches a plain one over a long run",
          "[alerts][window]") {
  // 100,000 samples 7 s apart of values around 1e6 (with gaps that empty the window), against
  // the plain average of the samples in the same buckets: the running sum does not drift.
  WindowAggregate w(ConditionFn::kAvg, 600);  // 10-s buckets
  std::mt19937_64 rng(42);
  std::normal_distribution<double> noise(0, 5'000);
  std::vector<std::pair<std::int64_t, double>> taken;
  std::int64_t t = 1'800'000'000'000;
  double worst = 0;
  for (int i = 0; i < 100'000; ++i) {
    t += i % 10'000 == 0 ? 3'600'000 : 7'000;  // now and then an hour's gap
    const double v = 1e6 + noise(rng);
    w.observe(t, v);
    taken.emplace_back(t, v);
    const std::int64_t lo_bucket = t / 10'000 - 59;  // the 60 buckets ending with t's
    double sum = 0;
    std::size_t n = 0;
    for (auto it = taken.rbegin(); it != taken.rend() && it->first / 10'000 >= lo_bucket; ++it) {
      sum += it->second;
      ++n;
    }
    auto got = w.value(t);
    REQUIRE(got);
    worst = std::max(worst, std::fabs(*got - sum / static_cast<double>(n)) / (sum / n));
    if (taken.size() > 200) taken.erase(taken.begin(), taken.begin() + 100);
  }
  CHECK(worst < 1e-9);
}

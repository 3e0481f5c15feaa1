// Aggregation math: rollups and percentiles against naive versions over random data, exact
// percentiles on small sets, counter increase/rate with resets and 32/64-bit wraps, step bucket
// boundaries, min/max downsampling that keeps spikes, and top-k ordering with ties and NaN.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <numeric>
#include <random>
#include <vector>

#include <catch2/catch.hpp>

#include <netpulse/tsdb/aggregate.hpp>

#include "naive.hpp"

using netpulse::test::naive;
using netpulse::tsdb::AggFn;
using netpulse::tsdb::CounterWidth;
using netpulse::tsdb::Sample;
using netpulse::tsdb::Timestamp;
namespace tsdb = netpulse::tsdb;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double k2Pow32 = 4294967296.0;
constexpr double k2Pow64 = 18446744073709551616.0;

constexpr AggFn kAllFns[] = {AggFn::kAvg,  AggFn::kMin, AggFn::kMax, AggFn::kSum, AggFn::kCount,
                             AggFn::kLast, AggFn::kP50, AggFn::kP90, AggFn::kP95, AggFn::kP99};

std::vector<Sample> steady_counter(int count, Timestamp interval_ms, double per_sample) {
  std::vector<Sample> samples;
  for (int i = 0; i < count; ++i) samples.push_back({i * interval_ms, i * per_sample});
  return samples;
}

std::vector<Sample> counter_of(const std::vector<double>& values) {
  std::vector<Sample> samples;
  for (std::size_t i = 0; i < values.size(); ++i) {
    samples.push_back({static_cast<Timestamp>(i) * 1000, values[i]});
  }
  return samples;
}

}  // namespace

TEST_CASE("aggregate: parse_agg accepts exactly the documented names", "[tsdb][aggregate]") {
  for (const AggFn fn : kAllFns) CHECK(tsdb::parse_agg(tsdb::agg_name(fn)) == fn);
  CHECK(tsdb::parse_agg("avg") == AggFn::kAvg);
  CHECK(tsdb::parse_agg("p99") == AggFn::kP99);
  for (const char* bad : {"", "AVG", "p100", "p5", "mean", "avg ", "p50x"}) {
    INFO("name: " << bad);
    CHECK_FALSE(tsdb::parse_agg(bad).has_value());
  }
}

TEST_CASE("aggregate: rollups and percentiles agree with a naive computation",
          "[tsdb][aggregate]") {
  std::mt19937 rng(20240611);
  std::uniform_real_distribution<double> real(-1000.0, 1000.0);
  std::uniform_int_distribution<int> small(0, 9);
  for (const std::size_t size : {1, 2, 3, 4, 5, 7, 10, 16, 33, 100, 257, 1000}) {
    for (int trial = 0; trial < 4; ++trial) {
      std::vector<double> values(size);
      // Odd trials use few distinct integers so that ties are common.
      for (double& v : values) v = trial % 2 == 0 ? real(rng) : small(rng);
      for (const AggFn fn : kAllFns) {
        INFO("size " << size << " trial " << trial << " fn " << tsdb::agg_name(fn));
        CHECK(tsdb::aggregate(fn, values) == Approx(naive(fn, values)).epsilon(1e-12).margin(1e-9));
      }
    }
  }
}

TEST_CASE("aggregate: exact percentiles on small known sets", "[tsdb][aggregate]") {
  const std::vector<double> four = {4, 1, 3, 2};
  CHECK(tsdb::aggregate(AggFn::kP50, four) == Approx(2.5));
  CHECK(tsdb::aggregate(AggFn::kP90, four) == Approx(3.7));
  CHECK(tsdb::aggregate(AggFn::kP95, four) == Approx(3.85));
  CHECK(tsdb::aggregate(AggFn::kP99, four) == Approx(3.97));

  std::vector<double> eleven(11);
  std::iota(eleven.begin(), eleven.end(), 1.0);
  CHECK(tsdb::aggregate(AggFn::kP50, eleven) == 6);
  CHECK(tsdb::aggregate(AggFn::kP90, eleven) == 10);
  CHECK(tsdb::aggregate(AggFn::kP95, eleven) == Approx(10.5));
  CHECK(tsdb::aggregate(AggFn::kP99, eleven) == Approx(10.9));

  const std::vector<double> one = {7};
  for (const AggFn fn : kAllFns) CHECK(tsdb::aggregate(fn, one) == (fn == AggFn::kCount ? 1 : 7));

  const std::vector<double> two = {5, 1};
  CHECK(tsdb::aggregate(AggFn::kP50, two) == 3);
  CHECK(tsdb::aggregate(AggFn::kLast, two) == 1);
  CHECK(tsdb::aggregate(AggFn::kAvg, two) == 3);

  const std::vector<double> with_inf = {1, 2, kInf};
  CHECK(tsdb::aggregate(AggFn::kP50, with_inf) == 2);
  CHECK(tsdb::aggregate(AggFn::kMax, with_inf) == kInf);
}

TEST_CASE("aggregate: empty input is NaN; NaN values are ignored by min, max and percentiles",
          "[tsdb][aggregate]") {
  for (const AggFn fn : kAllFns) CHECK(std::isnan(tsdb::aggregate(fn, {})));

  const std::vector<double> mixed = {kNaN, 1, 3, kNaN};
  CHECK(tsdb::aggregate(AggFn::kMin, mixed) == 1);
  CHECK(tsdb::aggregate(AggFn::kMax, mixed) == 3);
  CHECK(tsdb::aggregate(AggFn::kP50, mixed) == 2);
  CHECK(tsdb::aggregate(AggFn::kCount, mixed) == 4);
  CHECK(std::isnan(tsdb::aggregate(AggFn::kSum, mixed)));
  CHECK(std::isnan(tsdb::aggregate(AggFn::kAvg, mixed)));
  CHECK(std::isnan(tsdb::aggregate(AggFn::kLast, mixed)));

  const std::vector<double> all_nan = {kNaN, kNaN};
  CHECK(std::isnan(tsdb::aggregate(AggFn::kMin, all_nan)));
  CHECK(std::isnan(tsdb::aggregate(AggFn::kP99, all_nan)));
}

TEST_CASE("counter: steady counter increase and rate", "[tsdb][aggregate][counter]") {
  // 7 samples 10 s apart, +100 each: 600 over 60 s.
  const auto samples = steady_counter(7, 10'000, 100);
  for (const auto width : {CounterWidth::kUnknown, CounterWidth::k32, CounterWidth::k64}) {
    CHECK(tsdb::counter_increase(samples, width) == 600);
    CHECK(tsdb::counter_rate(samples, width) == Approx(10.0));
  }
  const std::vector<Sample> flat = {{0, 42}, {5000, 42}};
  CHECK(tsdb::counter_increase(flat, CounterWidth::kUnknown) == 0);
  CHECK(tsdb::counter_rate(flat, CounterWidth::kUnknown) == 0);
}

TEST_CASE("counter: a reset in the middle counts the new value from zero",
          "[tsdb][aggregate][counter]") {
  const auto samples = counter_of({100, 200, 300, 50, 150});
  // 100 + 100, then reset to 50 (+50), then +100.
  for (const auto width : {CounterWidth::kUnknown, CounterWidth::k32, CounterWidth::k64}) {
    CHECK(tsdb::counter_increase(samples, width) == 350);
    CHECK(tsdb::counter_rate(samples, width) == Approx(350.0 / 4.0));
  }
}

TEST_CASE("counter: a 32-bit wrap adds the distance to 2^32", "[tsdb][aggregate][counter]") {
  const auto samples = counter_of({k2Pow32 - 1000, k2Pow32 - 100, 500});
  CHECK(tsdb::counter_increase(samples, CounterWidth::k32) == 1500);
  CHECK(tsdb::counter_rate(samples, CounterWidth::k32) == Approx(750));
  // Undeclared or 64-bit: the same drop is a reset.
  CHECK(tsdb::counter_increase(samples, CounterWidth::kUnknown) == 1400);
  CHECK(tsdb::counter_increase(samples, CounterWidth::k64) == 1400);
}

TEST_CASE("counter: a 64-bit wrap adds the distance to 2^64", "[tsdb][aggregate][counter]") {
  const double near_top = k2Pow64 - 1048576.0;  // 2^64 - 2^20, exact as a double
  const auto samples = counter_of({near_top, 1048576.0});
  CHECK(tsdb::counter_increase(samples, CounterWidth::k64) == 2097152.0);
  CHECK(tsdb::counter_increase(samples, CounterWidth::kUnknown) == 1048576.0);
  CHECK(tsdb::counter_increase(samples, CounterWidth::k32) == 1048576.0);
}

TEST_CASE("counter: drops that look like wraps but are not are resets",
          "[tsdb][aggregate][counter]") {
  // Low previous value: a restart, not a wrap.
  CHECK(tsdb::counter_increase(counter_of({1000, 10}), CounterWidth::k32) == 10);
  // High previous value, but the new value is not near zero.
  CHECK(tsdb::counter_increase(counter_of({0.9 * k2Pow32, 0.5 * k2Pow32}), CounterWidth::k32) ==
        0.5 * k2Pow32);
  // A "32-bit" value beyond 2^32 cannot wrap at 2^32.
  CHECK(tsdb::counter_increase(counter_of({k2Pow32 + 5, 7}), CounterWidth::k32) == 7);
  // Exactly at the thresholds: prev must exceed 0.75 R and cur must be below 0.25 R.
  CHECK(tsdb::counter_increase(counter_of({0.75 * k2Pow32, 1}), CounterWidth::k32) == 1);
  CHECK(tsdb::counter_increase(counter_of({0.8 * k2Pow32, 0.25 * k2Pow32}), CounterWidth::k32) ==
        0.25 * k2Pow32);
}

TEST_CASE("counter: empty, one-sample and same-time inputs", "[tsdb][aggregate][counter]") {
  for (const auto width : {CounterWidth::kUnknown, CounterWidth::k32, CounterWidth::k64}) {
    CHECK(std::isnan(tsdb::counter_increase({}, width)));
    CHECK(std::isnan(tsdb::counter_rate({}, width)));
    const std::vector<Sample> one = {{1000, 5}};
    CHECK(std::isnan(tsdb::counter_increase(one, width)));
    CHECK(std::isnan(tsdb::counter_rate(one, width)));
    const std::vector<Sample> same_time = {{1000, 5}, {1000, 8}};
    CHECK(tsdb::counter_increase(same_time, width) == 3);
    CHECK(std::isnan(tsdb::counter_rate(same_time, width)));
  }
  // NaN samples are skipped, including at the edges of the window.
  const std::vector<Sample> gappy = {{0, kNaN}, {1000, 10}, {2000, kNaN}, {3000, 30}, {4000, kNaN}};
  CHECK(tsdb::counter_increase(gappy, CounterWidth::kUnknown) == 20);
  CHECK(tsdb::counter_rate(gappy, CounterWidth::kUnknown) == Approx(10));
}

TEST_CASE("step_aggregate: a sample on a boundary goes to the later bucket", "[tsdb][aggregate]") {
  const std::vector<Sample> samples = {{0, 1}, {9, 2}, {10, 3}, {19, 4}, {20, 5}};
  const auto counts = tsdb::step_aggregate(samples, 0, 20, 10, AggFn::kCount);
  REQUIRE(counts.size() == 2);
  CHECK(counts[0] == Sample{0, 2});
  CHECK(counts[1] == Sample{10, 2});

  const auto sums = tsdb::step_aggregate(samples, 0, 21, 10, AggFn::kSum);
  REQUIRE(sums.size() == 3);
  CHECK(sums[0] == Sample{0, 3});
  CHECK(sums[1] == Sample{10, 7});
  CHECK(sums[2] == Sample{20, 5});
}

TEST_CASE("step_aggregate: offsets, gaps, negative times and bad ranges", "[tsdb][aggregate]") {
  const std::vector<Sample> samples = {{4, 1}, {5, 2}, {14, 3}, {15, 4}, {45, 5}};
  const auto last = tsdb::step_aggregate(samples, 5, 100, 10, AggFn::kLast);
  // Buckets start at 5, 15, (25 and 35 empty), 45; the sample at 4 is before start.
  REQUIRE(last.size() == 3);
  CHECK(last[0] == Sample{5, 3});
  CHECK(last[1] == Sample{15, 4});
  CHECK(last[2] == Sample{45, 5});

  const std::vector<Sample> negative = {{-100, 1}, {-1, 2}, {0, 3}};
  const auto max = tsdb::step_aggregate(negative, -100, 50, 50, AggFn::kMax);
  REQUIRE(max.size() == 3);
  CHECK(max[0] == Sample{-100, 1});
  CHECK(max[1] == Sample{-50, 2});
  CHECK(max[2] == Sample{0, 3});

  CHECK(tsdb::step_aggregate(samples, 0, 100, 0, AggFn::kAvg).empty());
  CHECK(tsdb::step_aggregate(samples, 0, 100, -10, AggFn::kAvg).empty());
  CHECK(tsdb::step_aggregate(samples, 100, 100, 10, AggFn::kAvg).empty());
  CHECK(tsdb::step_aggregate(samples, 100, 0, 10, AggFn::kAvg).empty());
  CHECK(tsdb::step_aggregate({}, 0, 100, 10, AggFn::kAvg).empty());
}

TEST_CASE("step_aggregate: agrees with a naive per-bucket filter, sorted or not",
          "[tsdb][aggregate]") {
  std::mt19937 rng(7);
  std::uniform_int_distribution<Timestamp> time(-500, 5000);
  std::uniform_real_distribution<double> value(0, 100);
  for (const std::size_t size : {1, 2, 10, 500}) {
    std::vector<Sample> samples(size);
    for (auto& s : samples) s = {time(rng), value(rng)};
    std::vector<Sample> sorted = samples;
    std::stable_sort(sorted.begin(), sorted.end(),
                     [](const Sample& a, const Sample& b) { return a.t < b.t; });
    const Timestamp start = 0;
    const Timestamp end = 4000;
    const Timestamp step = 300;
    for (const AggFn fn : {AggFn::kAvg, AggFn::kCount, AggFn::kLast, AggFn::kP90}) {
      std::vector<Sample> expected;
      for (Timestamp bucket = start; bucket < end; bucket += step) {
        std::vector<double> values;
        for (const auto& s : sorted) {
          if (s.t >= bucket && s.t < std::min(bucket + step, end)) values.push_back(s.v);
        }
        if (!values.empty()) expected.push_back({bucket, tsdb::aggregate(fn, values)});
      }
      INFO("size " << size << " fn " << tsdb::agg_name(fn));
      CHECK(tsdb::step_aggregate(samples, start, end, step, fn) == expected);
      CHECK(tsdb::step_aggregate(sorted, start, end, step, fn) == expected);
    }
  }
}

TEST_CASE("downsample: keeps the global min and max of a spiky series within max_points",
          "[tsdb][aggregate][downsample]") {
  std::mt19937 rng(99);
  std::uniform_real_distribution<double> noise(0, 1);
  std::vector<Sample> samples(100'000);
  for (std::size_t i = 0; i < samples.size(); ++i) {
    samples[i] = {static_cast<Timestamp>(i) * 1000, noise(rng)};
  }
  samples[56'789].v = 1000;
  samples[12'345].v = -1000;
  for (const std::size_t max_points : {2, 3, 10, 101, 1000, 99'999}) {
    INFO("max_points " << max_points);
    const auto out = tsdb::downsample_min_max(samples, max_points);
    CHECK(out.size() <= max_points);
    CHECK(out.size() >= max_points / 2);
    CHECK(std::find(out.begin(), out.end(), samples[56'789]) != out.end());
    CHECK(std::find(out.begin(), out.end(), samples[12'345]) != out.end());
    CHECK(std::is_sorted(out.begin(), out.end(),
                         [](const Sample& a, const Sample& b) { return a.t <= b.t; }));
    CHECK(std::adjacent_find(out.begin(), out.end(), [](const Sample& a, const Sample& b) {
            return a.t == b.t;
          }) == out.end());
    // Every output point is an input point.
    for (const auto& s : out) CHECK(samples[static_cast<std::size_t>(s.t / 1000)] == s);
  }
  const auto one = tsdb::downsample_min_max(samples, 1);
  REQUIRE(one.size() == 1);
  CHECK(one[0] == samples[56'789]);
  CHECK(tsdb::downsample_min_max(samples, 0).empty());
}

TEST_CASE("downsample: small inputs, repeated values, time order within a bucket and NaN",
          "[tsdb][aggregate][downsample]") {
  const std::vector<Sample> few = {{0, 3}, {1, 1}, {2, 2}};
  CHECK(tsdb::downsample_min_max(few, 3) == few);
  CHECK(tsdb::downsample_min_max(few, 10) == few);
  CHECK(tsdb::downsample_min_max({}, 10).empty());

  // One bucket: max (t=0) comes before min (t=1), so they are emitted in that order.
  CHECK(tsdb::downsample_min_max(few, 2) == std::vector<Sample>{{0, 3}, {1, 1}});

  // A flat series gives one point per bucket (min and max coincide).
  std::vector<Sample> flat;
  for (Timestamp t = 0; t < 10; ++t) flat.push_back({t, 5});
  CHECK(tsdb::downsample_min_max(flat, 4) == std::vector<Sample>{{0, 5}, {5, 5}});

  // NaN is skipped unless the bucket has nothing else.
  const std::vector<Sample> nan_bucket = {{0, kNaN}, {1, kNaN}, {2, 4}, {3, kNaN}, {4, 1}};
  const auto out = tsdb::downsample_min_max(nan_bucket, 4);
  REQUIRE(out.size() == 3);
  CHECK(out[0].t == 0);
  CHECK(std::isnan(out[0].v));
  CHECK(out[1] == Sample{2, 4});
  CHECK(out[2] == Sample{4, 1});

  // Unsorted input is put in time order first.
  const std::vector<Sample> unsorted = {{2, 2}, {0, 3}, {1, 1}};
  CHECK(tsdb::downsample_min_max(unsorted, 2) == std::vector<Sample>{{0, 3}, {1, 1}});
}

TEST_CASE("top_k: largest first, ties by index, NaN last", "[tsdb][aggregate][topk]") {
  const std::vector<double> scores = {3, 1, 3, kNaN, 5, 1};
  CHECK(tsdb::top_k(scores, 3) == std::vector<std::size_t>{4, 0, 2});
  CHECK(tsdb::top_k(scores, 10) == std::vector<std::size_t>{4, 0, 2, 1, 5, 3});
  CHECK(tsdb::top_k(scores, 0).empty());
  CHECK(tsdb::top_k({}, 3).empty());
  CHECK(tsdb::top_k(std::vector<double>{2, 2, 2, 2}, 2) == std::vector<std::size_t>{0, 1});
  CHECK(tsdb::top_k(std::vector<double>{kNaN, kNaN, 1}, 3) == std::vector<std::size_t>{2, 0, 1});
  CHECK(tsdb::top_k(std::vector<double>{-kInf, kInf, 0.0, -0.0}, 4) ==
        std::vector<std::size_t>{1, 2, 3, 0});
}

TEST_CASE("top_k: agrees with a stable sort over random scores", "[tsdb][aggregate][topk]") {
  std::mt19937 rng(5);
  std::uniform_int_distribution<int> score(0, 20);
  for (const std::size_t size : {1, 2, 17, 300}) {
    std::vector<double> scores(size);
    for (double& s : scores) s = score(rng) == 0 ? kNaN : score(rng);
    std::vector<std::size_t> expected(size);
    std::iota(expected.begin(), expected.end(), std::size_t{0});
    std::stable_sort(expected.begin(), expected.end(), [&](std::size_t a, std::size_t b) {
      if (std::isnan(scores[a]) || std::isnan(scores[b])) {
        return !std::isnan(scores[a]) && std::isnan(scores[b]);
      }
      return scores[a] > scores[b];
    });
    for (const std::size_t k : {std::size_t{0}, std::size_t{1}, size / 2, size, size + 5}) {
      INFO("size " << size << " k " << k);
      auto prefix = expected;
      prefix.resize(std::min(k, size));
      CHECK(tsdb::top_k(scores, k) == prefix);
    }
  }
}

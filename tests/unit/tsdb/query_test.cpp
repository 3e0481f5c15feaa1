// Range queries: raw passthrough and clipping, step aggregation against a naive computation over
// random data, counter rate/increase with a 32-bit wrap and a reset across bucket boundaries,
// grouping across series and by label, top-k ranking with NaN scores, min/max downsampling, rollup
// buckets combined to a coarser step matching the raw answer, and parameter validation.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <netpulse/tsdb/query.hpp>

#include "naive.hpp"

using netpulse::core::Errc;
using netpulse::test::naive;
using netpulse::test::naive_quantile;
using netpulse::tsdb::AggFn;
using netpulse::tsdb::CounterWidth;
using netpulse::tsdb::LabelSet;
using netpulse::tsdb::RangeFn;
using netpulse::tsdb::RangeQuery;
using netpulse::tsdb::ResultSeries;
using netpulse::tsdb::RollupBucket;
using netpulse::tsdb::Sample;
using netpulse::tsdb::SeriesData;
using netpulse::tsdb::Timestamp;
namespace tsdb = netpulse::tsdb;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double k2Pow32 = 4294967296.0;

SeriesData raw_series(std::string metric, LabelSet labels, std::vector<Sample> samples) {
  SeriesData data;
  data.key = {std::move(metric), std::move(labels)};
  data.samples = std::move(samples);
  return data;
}

std::vector<ResultSeries> run(const RangeQuery& query, std::vector<SeriesData> input) {
  auto result = tsdb::evaluate_range(query, std::move(input));
  REQUIRE(result.has_value());
  return std::move(result).value();
}

// `count` samples at random gaps (1..max_gap_ms) from `first`, values uniform in [-500, 500].
std::vector<Sample> random_samples(std::mt19937& rng, int count, Timestamp first,
                                   Timestamp max_gap_ms) {
  std::uniform_int_distribution<Timestamp> gap(1, max_gap_ms);
  std::uniform_real_distribution<double> value(-500.0, 500.0);
  std::vector<Sample> samples;
  Timestamp t = first;
  for (int i = 0; i < count; ++i) {
    samples.push_back({t, value(rng)});
    t += gap(rng);
  }
  return samples;
}

// The answer of a step query computed the slow way: every bucket scanned over every sample.
std::vector<Sample> naive_step(const std::vector<Sample>& samples, Timestamp start, Timestamp end,
                               Timestamp step, AggFn fn) {
  std::vector<Sample> out;
  for (Timestamp bucket = start; bucket <= end; bucket += step) {
    std::vector<double> values;
    for (const Sample& s : samples) {
      if (s.t >= bucket && s.t < bucket + step && s.t <= end) values.push_back(s.v);
    }
    if (!values.empty()) out.push_back({bucket, naive(fn, values)});
  }
  return out;
}

void check_points(const std::vector<Sample>& actual, const std::vector<Sample>& expected) {
  REQUIRE(actual.size() == expected.size());
  for (std::size_t i = 0; i < actual.size(); ++i) {
    INFO("point " << i << " at " << expected[i].t);
    CHECK(actual[i].t == expected[i].t);
    CHECK(actual[i].v == Approx(expected[i].v).epsilon(1e-9).margin(1e-9));
  }
}

// Rollup buckets of `width` (aligned to multiples of it) built from raw samples.
std::vector<RollupBucket> rollup(const std::vector<Sample>& samples, Timestamp width) {
  std::vector<RollupBucket> buckets;
  for (const Sample& s : samples) {
    const Timestamp start = s.t - s.t % width;
    if (buckets.empty() || buckets.back().t != start) {
      buckets.push_back({start, s.v, s.v, 0, 0, s.v, s.t});
    }
    RollupBucket& b = buckets.back();
    b.min = std::min(b.min, s.v);
    b.max = std::max(b.max, s.v);
    b.sum += s.v;
    ++b.count;
    b.last = s.v;
    b.last_t = s.t;
  }
  return buckets;
}

// A counter sampled every 10 s for 60 samples, +1000 each: it wraps past 2^32 between samples 25
// and 26, and resets to 300 at sample 40 (a rise of 300 under every width).
std::vector<Sample> wrapping_counter() {
  std::vector<Sample> samples;
  for (int i = 0; i < 60; ++i) {
    double v = 0;
    if (i < 40) {
      v = k2Pow32 - 25'500 + 1000.0 * i;
      if (v >= k2Pow32) v -= k2Pow32;
    } else {
      v = 300 + 1000.0 * (i - 40);
    }
    samples.push_back({i * Timestamp{10'000}, v});
  }
  return samples;
}

}  // namespace

TEST_CASE("query: parse_range_fn accepts rate, increase and the empty name", "[tsdb][query]") {
  CHECK(tsdb::parse_range_fn("rate") == RangeFn::kRate);
  CHECK(tsdb::parse_range_fn("increase") == RangeFn::kIncrease);
  CHECK(tsdb::parse_range_fn("") == RangeFn::kNone);
  for (const char* bad : {"Rate", "irate", "delta", " rate", "none"}) {
    INFO("name: " << bad);
    CHECK_FALSE(tsdb::parse_range_fn(bad).has_value());
  }
}

TEST_CASE("query: raw samples pass through, clipped to [start, end] inclusive", "[tsdb][query]") {
  std::vector<Sample> samples;
  for (int i = 0; i < 10; ++i) samples.push_back({i * Timestamp{1000}, i * 1.5});
  samples[3].v = kNaN;
  RangeQuery query;
  query.start = 2000;
  query.end = 5000;
  const auto result = run(query, {raw_series("cpu", {{"host", "b"}}, samples),
                                  raw_series("cpu", {{"host", "a"}}, samples),
                                  raw_series("cpu", {{"host", "c"}}, {{0, 1}, {9000, 2}})});
  // host=c has nothing in the range and is left out; the others come sorted by labels.
  REQUIRE(result.size() == 2);
  CHECK(result[0].metric == "cpu");
  CHECK(result[0].labels == LabelSet{{"host", "a"}});
  CHECK(result[1].labels == LabelSet{{"host", "b"}});
  // The NaN sample at 3000 is dropped.
  const std::vector<Sample> expected = {{2000, 3.0}, {4000, 6.0}, {5000, 7.5}};
  CHECK(result[0].points == expected);
  CHECK(result[1].points == expected);
}

TEST_CASE("query: step aggregation agrees with a naive computation over random data",
          "[tsdb][query]") {
  std::mt19937 rng(20240612);
  // ~700 samples, gaps up to 150 s with 60 s steps: some buckets are empty.
  const auto samples = random_samples(rng, 700, 1'000'000, 150'000);
  const Timestamp start = 1'000'000 + 12'345;
  const Timestamp end = samples[600].t;  // inclusive: the sample at `end` must count
  const Timestamp step = 60'000;
  for (const AggFn fn : {AggFn::kAvg, AggFn::kMin, AggFn::kMax, AggFn::kSum, AggFn::kCount,
                         AggFn::kLast, AggFn::kP50, AggFn::kP95, AggFn::kP99}) {
    INFO("fn " << tsdb::agg_name(fn));
    RangeQuery query;
    query.start = start;
    query.end = end;
    query.step = step;
    query.agg = fn;
    const auto result = run(query, {raw_series("m", {}, samples)});
    REQUIRE(result.size() == 1);
    const auto expected = naive_step(samples, start, end, step, fn);
    // Gaps longer than a step leave buckets out instead of filling them.
    CHECK(expected.size() < static_cast<std::size_t>((end - start) / step + 1));
    check_points(result[0].points, expected);
  }
}

TEST_CASE("query: a NaN sample is dropped; an all-NaN bucket gives no point", "[tsdb][query]") {
  RangeQuery query;
  query.start = 0;
  query.end = 29'999;
  query.step = 10'000;
  const auto result = run(
      query,
      {raw_series("m", {},
                  {{0, 1}, {1000, kNaN}, {2000, 3}, {10'000, kNaN}, {20'000, 5}, {21'000, 7}})});
  REQUIRE(result.size() == 1);
  CHECK(result[0].points == std::vector<Sample>{{0, 2}, {20'000, 6}});
}

TEST_CASE("query: increase and rate without step, one point per pair, over a wrap and a reset",
          "[tsdb][query][counter]") {
  const auto samples = wrapping_counter();
  RangeQuery query;
  query.start = 0;
  query.end = 590'000;
  query.fn = RangeFn::kIncrease;
  query.width = CounterWidth::k32;
  auto result = run(query, {raw_series("ifInOctets", {}, samples)});
  REQUIRE(result.size() == 1);
  REQUIRE(result[0].points.size() == 59);
  for (std::size_t i = 0; i < 59; ++i) {
    INFO("pair ending at sample " << i + 1);
    CHECK(result[0].points[i].t == samples[i + 1].t);
    CHECK(result[0].points[i].v == (i + 1 == 40 ? 300 : 1000));
  }

  // Undeclared width: the wrap reads as a reset to 500.
  query.width = CounterWidth::kUnknown;
  result = run(query, {raw_series("ifInOctets", {}, samples)});
  REQUIRE(result[0].points.size() == 59);
  CHECK(result[0].points[25].t == 260'000);
  CHECK(result[0].points[25].v == 500);

  query.width = CounterWidth::k32;
  query.fn = RangeFn::kRate;
  query.start = 100'000;  // clipping: the pair (90 s, 100 s) is out, the first point is at 110 s
  result = run(query, {raw_series("ifInOctets", {}, samples)});
  REQUIRE(result[0].points.size() == 49);
  CHECK(result[0].points.front().t == 110'000);
  for (const Sample& p : result[0].points) {
    INFO("at " << p.t);
    CHECK(p.v == Approx(p.t == 400'000 ? 30.0 : 100.0));
  }
}

TEST_CASE("query: stepped increase and rate across bucket boundaries add up to the total",
          "[tsdb][query][counter]") {
  const auto samples = wrapping_counter();
  RangeQuery query;
  query.start = 0;
  query.end = 590'000;
  query.step = 60'000;
  query.fn = RangeFn::kIncrease;
  query.width = CounterWidth::k32;
  query.agg = AggFn::kMin;  // not used with fn
  const auto stepped = run(query, {raw_series("ifInOctets", {}, samples)});
  REQUIRE(stepped.size() == 1);
  REQUIRE(stepped[0].points.size() == 10);
  double bucket_total = 0;
  for (std::size_t k = 0; k < 10; ++k) {
    INFO("bucket " << k);
    const Sample& p = stepped[0].points[k];
    CHECK(p.t == static_cast<Timestamp>(k) * 60'000);
    // Bucket 0 has no earlier sample (5 rises); the others start from the previous bucket's last
    // sample (6 rises); bucket 6 holds the reset (5 rises of 1000 and one of 300). The wrap, in
    // bucket 4, is a plain rise of 1000.
    const double expected = k == 0 ? 5000 : k == 6 ? 5300 : 6000;
    CHECK(p.v == expected);
    bucket_total += p.v;
  }
  query.step = 0;
  const auto pairs = run(query, {raw_series("ifInOctets", {}, samples)});
  double pair_total = 0;
  for (const Sample& p : pairs[0].points) pair_total += p.v;
  CHECK(bucket_total == pair_total);
  CHECK(bucket_total == tsdb::counter_increase(samples, CounterWidth::k32));
  CHECK(bucket_total == 59'000 - 700);

  query.step = 60'000;
  query.fn = RangeFn::kRate;
  const auto rates = run(query, {raw_series("ifInOctets", {}, samples)});
  REQUIRE(rates[0].points.size() == 10);
  CHECK(rates[0].points[0].v == Approx(5000.0 / 50));  // from 0 s to 50 s
  CHECK(rates[0].points[4].v == Approx(100.0));
  CHECK(rates[0].points[6].v == Approx(5300.0 / 60));
}

TEST_CASE("query: a stepped counter bucket without two samples is left out",
          "[tsdb][query][counter]") {
  RangeQuery query;
  query.start = 0;
  query.end = 179'999;
  query.step = 60'000;
  query.fn = RangeFn::kIncrease;
  // Bucket 0 has one sample and nothing before it; bucket 1 is empty; bucket 2 pairs with 10 s.
  const auto result = run(query, {raw_series("c", {}, {{10'000, 5}, {130'000, 45}})});
  REQUIRE(result.size() == 1);
  CHECK(result[0].points == std::vector<Sample>{{120'000, 40}});

  query.end = 59'999;
  CHECK(run(query, {raw_series("c", {}, {{10'000, 5}, {130'000, 45}})}).empty());
}

TEST_CASE("query: group sums two series bucket by bucket", "[tsdb][query][group]") {
  std::vector<Sample> a;
  std::vector<Sample> b;
  for (int i = 0; i < 12; ++i) {
    a.push_back({i * Timestamp{10'000}, 1.0 + i});
    if (i < 6 || i >= 9) b.push_back({i * Timestamp{10'000} + 5000, 100.0 + 2 * i});
  }
  RangeQuery query;
  query.start = 0;
  query.end = 119'999;
  query.step = 30'000;
  query.group = true;
  const auto result = run(query, {raw_series("ifInOctets", {{"if", "1"}}, a),
                                  raw_series("ifInOctets", {{"if", "2"}}, b)});
  REQUIRE(result.size() == 1);
  CHECK(result[0].metric == "ifInOctets");
  CHECK(result[0].labels.empty());
  // Per-bucket averages: a = 2, 5, 8, 11; b = 102, 108, (none), 120.
  CHECK(result[0].points ==
        std::vector<Sample>{{0, 104}, {30'000, 113}, {60'000, 8}, {90'000, 131}});

  // Different metrics: the group has no common name.
  query.group_agg = AggFn::kMax;
  const auto mixed =
      run(query, {raw_series("ifInOctets", {}, a), raw_series("ifOutOctets", {}, b)});
  REQUIRE(mixed.size() == 1);
  CHECK(mixed[0].metric.empty());
  CHECK(mixed[0].points ==
        std::vector<Sample>{{0, 102}, {30'000, 108}, {60'000, 8}, {90'000, 120}});
}

TEST_CASE("query: group_by a label gives one series per value, sorted by labels",
          "[tsdb][query][group]") {
  const auto constant = [](double v) {
    return std::vector<Sample>{{0, v}, {10'000, v}, {20'000, v}};
  };
  RangeQuery query;
  query.start = 0;
  query.end = 29'999;
  query.step = 10'000;
  query.group_by = {"host"};
  std::vector<SeriesData> input = {
      raw_series("ifInOctets", {{"host", "b"}, {"if", "1"}}, constant(10)),
      raw_series("ifInOctets", {{"host", "a"}, {"if", "1"}}, constant(1)),
      raw_series("ifInOctets", {{"host", "b"}, {"if", "3"}}, constant(20)),
      raw_series("ifInOctets", {{"host", "a"}, {"if", "2"}}, constant(2)),
  };
  const auto result = run(query, input);
  REQUIRE(result.size() == 2);
  CHECK(result[0].metric == "ifInOctets");
  CHECK(result[0].labels == LabelSet{{"host", "a"}});
  CHECK(result[0].points == constant(3));
  CHECK(result[1].labels == LabelSet{{"host", "b"}});
  CHECK(result[1].points == constant(30));

  // A series without the label forms its own group, with no labels, sorted first.
  input.push_back(raw_series("ifInOctets", {{"if", "9"}}, constant(7)));
  query.group_by = {"site", "host"};  // a label nobody has adds nothing
  const auto with_missing = run(query, input);
  REQUIRE(with_missing.size() == 3);
  CHECK(with_missing[0].labels.empty());
  CHECK(with_missing[0].points == constant(7));
  CHECK(with_missing[1].labels == LabelSet{{"host", "a"}});
  CHECK(with_missing[2].points == constant(30));
}

TEST_CASE("query: topk keeps the largest series in rank order, NaN scores last",
          "[tsdb][query][topk]") {
  const auto series = [](std::string name, std::vector<double> values) {
    std::vector<Sample> samples;
    for (std::size_t i = 0; i < values.size(); ++i) {
      samples.push_back({static_cast<Timestamp>(i) * 1000, values[i]});
    }
    return raw_series("m", {{"name", std::move(name)}}, std::move(samples));
  };
  // "nan" sums to inf + -inf = NaN.
  const std::vector<SeriesData> input = {series("nan", {kInf, -kInf}), series("five", {5, 0}),
                                         series("nine", {1, 9}), series("one", {1, 1, 1}),
                                         series("seven", {7})};
  const auto names = [](const std::vector<ResultSeries>& result) {
    std::vector<std::string> out;
    for (const auto& s : result) out.push_back(s.labels.at(0).second);
    return out;
  };
  RangeQuery query;
  query.start = 0;
  query.end = 10'000;
  query.agg = AggFn::kMax;
  query.topk = 2;
  CHECK(names(run(query, input)) == std::vector<std::string>{"nan", "nine"});  // max(inf) = inf

  query.agg = AggFn::kSum;
  query.topk = 10;
  CHECK(names(run(query, input)) ==
        std::vector<std::string>{"nine", "seven", "five", "one", "nan"});

  query.agg = AggFn::kCount;
  query.topk = 1;
  CHECK(names(run(query, input)) == std::vector<std::string>{"one"});

  query.topk = 0;
  CHECK(run(query, input).empty());

  // Without topk: sorted by metric, then labels.
  query.topk.reset();
  CHECK(names(run(query, input)) ==
        std::vector<std::string>{"five", "nan", "nine", "one", "seven"});
}

TEST_CASE("query: max_points downsamples each series and keeps its global max and min",
          "[tsdb][query]") {
  std::mt19937 rng(7);
  auto samples = random_samples(rng, 1000, 0, 5000);
  samples[437].v = 9999;
  samples[812].v = -9999;
  RangeQuery query;
  query.start = 0;
  query.end = samples.back().t;
  query.max_points = 20;
  const auto result = run(query, {raw_series("m", {}, samples)});
  REQUIRE(result.size() == 1);
  const auto& points = result[0].points;
  CHECK(points.size() <= 20);
  CHECK(points.size() >= 10);
  CHECK(std::is_sorted(points.begin(), points.end(),
                       [](const Sample& a, const Sample& b) { return a.t < b.t; }));
  CHECK(std::find(points.begin(), points.end(), samples[437]) != points.end());
  CHECK(std::find(points.begin(), points.end(), samples[812]) != points.end());
}

TEST_CASE("query: rollup buckets combined to a coarser step equal the raw step answer",
          "[tsdb][query][rollup]") {
  std::mt19937 rng(99);
  const auto samples = random_samples(rng, 800, 0, 40'000);
  const Timestamp width = 60'000;
  SeriesData tier;
  tier.key = {"m", {{"host", "a"}}};
  tier.buckets = rollup(samples, width);
  tier.bucket_ms = width;
  REQUIRE(tier.buckets.size() > 100);

  RangeQuery query;
  query.start = 5 * width;
  query.end = 200 * width - 1;  // the last ms of a tier bucket: both see the same samples
  query.step = 5 * width;
  for (const AggFn fn :
       {AggFn::kAvg, AggFn::kMin, AggFn::kMax, AggFn::kSum, AggFn::kCount, AggFn::kLast}) {
    INFO("fn " << tsdb::agg_name(fn));
    query.agg = fn;
    const auto from_raw = run(query, {raw_series("m", {{"host", "a"}}, samples)});
    const auto from_tier = run(query, {tier});
    REQUIRE(from_raw.size() == 1);
    REQUIRE(from_tier.size() == 1);
    CHECK(from_tier[0].labels == LabelSet{{"host", "a"}});
    check_points(from_tier[0].points, from_raw[0].points);
  }

  // Percentiles are over the tier's bucket averages.
  query.agg = AggFn::kP95;
  const auto p95 = run(query, {tier});
  REQUIRE(p95.size() == 1);
  std::vector<Sample> expected;
  for (Timestamp bucket = query.start; bucket <= query.end; bucket += query.step) {
    std::vector<double> averages;
    for (const RollupBucket& b : tier.buckets) {
      if (b.t >= bucket && b.t < bucket + query.step) {
        averages.push_back(b.sum / static_cast<double>(b.count));
      }
    }
    if (!averages.empty()) expected.push_back({bucket, naive_quantile(0.95, averages)});
  }
  check_points(p95[0].points, expected);

  // Without step: one point per tier bucket, its average (or the asked field).
  query.step = 0;
  query.agg = AggFn::kAvg;
  const auto per_bucket = run(query, {tier});
  REQUIRE(per_bucket.size() == 1);
  REQUIRE(per_bucket[0].points.size() == 195);
  CHECK(per_bucket[0].points[0].t == 5 * width);
  CHECK(per_bucket[0].points[0].v == Approx(tier.buckets[5].sum / tier.buckets[5].count));
  query.agg = AggFn::kMax;
  CHECK(run(query, {tier})[0].points[7].v == tier.buckets[12].max);
}

TEST_CASE("query: rate over rollups uses each bucket's last value", "[tsdb][query][rollup]") {
  // A counter rising 10/s sampled every 15 s, then rolled up into 60 s buckets.
  std::vector<Sample> samples;
  for (int i = 0; i < 40; ++i) samples.push_back({i * Timestamp{15'000}, 150.0 * i});
  SeriesData tier;
  tier.key = {"c", {}};
  tier.buckets = rollup(samples, 60'000);
  tier.bucket_ms = 60'000;
  RangeQuery query;
  query.start = 0;
  query.end = 599'999;
  query.fn = RangeFn::kRate;
  const auto result = run(query, {tier});
  REQUIRE(result.size() == 1);
  REQUIRE(result[0].points.size() == 9);  // 10 buckets: 9 pairs of `last` samples
  CHECK(result[0].points[0].t == 105'000);
  for (const Sample& p : result[0].points) CHECK(p.v == Approx(10.0));

  query.fn = RangeFn::kIncrease;
  query.step = 300'000;
  const auto stepped = run(query, {tier});
  REQUIRE(stepped.size() == 1);
  // Lasts at 45, 105, ..., 585 s: 4 rises of 600 in the first bucket, 5 in the second.
  CHECK(stepped[0].points == std::vector<Sample>{{0, 2400}, {300'000, 3000}});
}

TEST_CASE("query: invalid parameters are rejected naming the field", "[tsdb][query]") {
  const auto field_of = [](const RangeQuery& query) {
    auto result = tsdb::evaluate_range(query, {raw_series("m", {}, {{0, 1}})});
    REQUIRE_FALSE(result.has_value());
    CHECK(result.error().code == Errc::kInvalidInput);
    return std::string(result.error().details.at("field").as_string());
  };
  RangeQuery query;
  query.start = 1000;
  query.end = 999;
  CHECK(field_of(query) == "end");
  {
    auto result = tsdb::evaluate_range(query, {});
    REQUIRE_FALSE(result.has_value());
    CHECK(result.error().message.find("must not be before start") != std::string::npos);
  }

  query.end = 2000;
  query.step = -1;
  CHECK(field_of(query) == "step");

  query.step = 0;
  query.group = true;
  CHECK(field_of(query) == "group");
  query.group = false;
  query.group_by = {"host"};
  CHECK(field_of(query) == "group_by");

  // The same query with a step is fine, and start == end is a valid one-instant range.
  query.step = 1000;
  CHECK(tsdb::evaluate_range(query, {}).has_value());
  query.group_by.clear();
  query.step = 0;
  query.start = query.end = 0;
  CHECK(run(query, {raw_series("m", {}, {{0, 1}})}).at(0).points == std::vector<Sample>{{0, 1}});
}

// The least-squares trend of a series (src/alerts/trend.cpp): when a filling disk is full, noisy
// growth, flat and falling series, the window forgetting an old slope, and Unix-ms precision.
#include <cmath>
#include <random>

#include <catch2/catch.hpp>

#include <netpulse/alerts/trend.hpp>

using namespace netpulse::alerts;

namespace {

constexpr std::int64_t kT0 = 1'800'000'000'000;  // Unix ms of today's size (2027)
constexpr std::int64_t kMinute = 60'000;
constexpr std::int64_t kHour = 60 * kMinute;
constexpr std::int64_t kDay = 24 * kHour;
constexpr double kGB = 1e9;

}  // namespace

TEST_CASE("trend: a disk filling at a constant rate is full in exactly the days left",
          "[alerts][trend]") {
  Trend trend(7 * 86'400);
  // 1 TB disk, 400 GB used, +10 GB a day, sampled every 5 minutes for 7 days.
  const double per_ms = 10 * kGB / static_cast<double>(kDay);
  std::int64_t t = kT0;
  for (; t <= kT0 + 7 * kDay; t += 5 * kMinute) {
    trend.observe(t, 400 * kGB + per_ms * static_cast<double>(t - kT0));
  }
  const std::int64_t now = t - 5 * kMinute;  // the last sample: 470 GB used
  const auto line = trend.fit(now);
  REQUIRE(line);
  CHECK(line->value == Approx(470 * kGB).epsilon(1e-9));
  CHECK(line->slope_per_s == Approx(10 * kGB / 86'400).epsilon(1e-9));
  const auto s = trend.seconds_until(1000 * kGB, CompareOp::kGreaterEqual, now);
  REQUIRE(s);
  CHECK(*s == Approx(53.0 * 86'400).epsilon(1e-9));  // 530 GB left at 10 GB a day
  // Already past a lower target: 0. Falling below something: never (the slope rises).
  CHECK(trend.seconds_until(450 * kGB, CompareOp::kGreater, now) == 0.0);
  CHECK_FALSE(trend.seconds_until(100 * kGB, CompareOp::kLess, now));
  CHECK_FALSE(trend.seconds_until(1000 * kGB, CompareOp::kEqual, now));
}

TEST_CASE("trend: noisy growth is estimated within 5 %", "[alerts][trend]") {
  Trend trend(86'400);
  std::mt19937 rng(20261206);
  std::normal_distribution<double> noise(0, 2);  // 2 points of utilization jitter
  // Link utilization rising 1 % per hour from 40 %, sampled every minute for a day.
  for (std::int64_t t = 0; t <= kDay; t += kMinute) {
    trend.observe(kT0 + t, 40 + static_cast<double>(t) / kHour + noise(rng));
  }
  // Exact: 64 % at the end; 90 % is 26 hours away.
  const auto s = trend.seconds_until(90, CompareOp::kGreater, kT0 + kDay);
  REQUIRE(s);
  CHECK(*s == Approx(26.0 * 3600).epsilon(0.05));
}

TEST_CASE("trend: a flat series never reaches anything it is not at", "[alerts][trend]") {
  Trend trend(3600);
  for (std::int64_t t = 0; t <= kHour; t += 10'000) trend.observe(kT0 + t, 1234.5);
  CHECK_FALSE(trend.seconds_until(2000, CompareOp::kGreater, kT0 + kHour));
  CHECK_FALSE(trend.seconds_until(1000, CompareOp::kLess, kT0 + kHour));
  CHECK(trend.seconds_until(1000, CompareOp::kGreater, kT0 + kHour) == 0.0);
  REQUIRE(trend.fit(kT0 + kHour));
  CHECK(trend.fit(kT0 + kHour)->slope_per_s == 0.0);
}

TEST_CASE("trend: a falling series with < (free space running out)", "[alerts][trend]") {
  Trend trend(6 * 3600);
  // Free space 100 GB falling 2 GB an hour, every minute for 6 hours: 88 GB at the end.
  for (std::int64_t t = 0; t <= 6 * kHour; t += kMinute) {
    trend.observe(kT0 + t, 100 * kGB - 2 * kGB * static_cast<double>(t) / kHour);
  }
  const std::int64_t now = kT0 + 6 * kHour;
  const auto s = trend.seconds_until(10 * kGB, CompareOp::kLess, now);
  REQUIRE(s);
  CHECK(*s == Approx(39.0 * 3600).epsilon(1e-9));  // (88 - 10) / 2 hours
  CHECK_FALSE(trend.seconds_until(200 * kGB, CompareOp::kGreater, now));
  // Extrapolated from a later now: the line keeps falling, 1 hour later it is 2 GB lower.
  CHECK(trend.seconds_until(10 * kGB, CompareOp::kLessEqual, now + kHour).value() ==
        Approx(38.0 * 3600).epsilon(1e-9));
}

TEST_CASE("trend: the window sliding forgets an old slope", "[alerts][trend]") {
  Trend trend(3600);
  std::int64_t t = kT0;
  // An hour rising 100 an hour, then flat at 100.
  for (; t < kT0 + kHour; t += kMinute)
    trend.observe(t, 100.0 * static_cast<double>(t - kT0) / kHour);
  for (; t <= kT0 + 3 * kHour; t += kMinute) {
    trend.observe(t, 100);
    if (t == kT0 + kHour + 10 * kMinute) {
      // Still mostly the rise in the window: the line heads up.
      CHECK(trend.seconds_until(200, CompareOp::kGreater, t).has_value());
    }
  }
  // Two hours later the rise has left the window: flat, so nothing.
  CHECK_FALSE(trend.seconds_until(200, CompareOp::kGreater, t - kMinute));
  CHECK(trend.fit(t - kMinute)->slope_per_s == 0.0);
}

TEST_CASE("trend: too few samples, or spanning too little of the window, say nothing",
          "[alerts][trend]") {
  Trend trend(86'400);  // 10 % is 2.4 hours
  CHECK_FALSE(trend.fit(kT0));
  trend.observe(kT0, 1);
  trend.observe(kT0 + 3 * kHour, 2);
  CHECK_FALSE(trend.fit(kT0 + 3 * kHour));  // 2 samples
  // Three samples within one hour of a day's window: too short a span.
  Trend short_span(86'400);
  for (int i = 0; i < 60; ++i) short_span.observe(kT0 + i * kMinute, i);
  CHECK_FALSE(short_span.seconds_until(1000, CompareOp::kGreater, kT0 + kHour));
  for (int i = 60; i <= 150; ++i) short_span.observe(kT0 + i * kMinute, i);  // 2.5 h: enough
  const auto s = short_span.seconds_until(1000, CompareOp::kGreater, kT0 + 150 * kMinute);
  REQUIRE(s);
  CHECK(*s == Approx(850.0 * 60).epsilon(1e-9));
  // Late, duplicate and NaN samples change nothing.
  short_span.observe(kT0, 1e9);
  short_span.observe(kT0 + 150 * kMinute, 1e9);
  short_span.observe(kT0 + 151 * kMinute, std::nan(""));
  CHECK(short_span.seconds_until(1000, CompareOp::kGreater, kT0 + 150 * kMinute).value() == *s);
}

TEST_CASE("trend: Unix-ms times keep their precision over a short window", "[alerts][trend]") {
  // One-second samples rising 0.001 per second for an hour at t around 1.8e12 ms: a fit on
  // absolute times in doubles would lose the slope (t² is 3e24); relative times keep it exact.
  Trend trend(3600);
  for (std::int64_t i = 0; i <= 3600; ++i)
    trend.observe(kT0 + i * 1000, 5 + 0.001 * static_cast<double>(i));
  const auto line = trend.fit(kT0 + 3600 * 1000);
  REQUIRE(line);
  CHECK(line->slope_per_s == Approx(0.001).epsilon(1e-9));
  CHECK(line->value == Approx(8.6).epsilon(1e-9));
}

TEST_CASE("trend: bytes per series", "[alerts][trend]") {
  STATIC_REQUIRE(sizeof(Trend) <= 1328);
}

// The hour-of-week baseline (src/alerts/seasonal_baseline.cpp) on a synthetic two-week daily
// cycle with injected spikes: the spikes stand out, the cycle itself does not.
#include <cmath>
#include <numbers>
#include <random>

#include <catch2/catch.hpp>

#include <netpulse/alerts/seasonal_baseline.hpp>

using netpulse::alerts::SeasonalBaseline;

namespace {

constexpr std::int64_t kMinute = 60'000;
constexpr std::int64_t kHour = 60 * kMinute;
constexpr std::int64_t kDay = 24 * kHour;
constexpr std::int64_t kStart = 1'767'225'600'000;  // 2026-01-01T00:00Z, a Thursday

// Traffic that peaks at noon and bottoms at midnight, with noise.
double normal_traffic(std::int64_t t, std::mt19937& rng) {
  std::uniform_real_distribution<double> noise(-2, 2);
  const double day_phase = static_cast<double>(t % kDay) / static_cast<double>(kDay);
  return 50 - 30 * std::cos(2 * std::numbers::pi * day_phase) + noise(rng);
}

}  // namespace

TEST_CASE("seasonal baseline: hours of the week start on Monday 00:00 UTC", "[alerts][anomaly]") {
  CHECK(SeasonalBaseline::hour_of_week(0) == 72);                       // Thu 1970-01-01 00:00
  CHECK(SeasonalBaseline::hour_of_week(-3 * kDay) == 0);                // Mon 1969-12-29 00:00
  CHECK(SeasonalBaseline::hour_of_week(kStart) == 72);                  // a Thursday 00:00
  CHECK(SeasonalBaseline::hour_of_week(kStart + 4 * kDay - 1) == 167);  // Sunday 23:59:59.999
  CHECK(SeasonalBaseline::hour_of_week(kStart + 4 * kDay) == 0);        // Monday 00:00
  CHECK(SeasonalBaseline::hour_of_week(kStart + 4 * kDay + 13 * kHour) == 13);
}

TEST_CASE("seasonal baseline: a daily cycle is normal, spikes in it are not", "[alerts][anomaly]") {
  SeasonalBaseline b;
  std::mt19937 rng(12345);
  // Week one: learn from 5-minute samples.
  std::int64_t t = kStart;
  for (; t < kStart + 7 * kDay; t += 5 * kMinute) b.observe(t, normal_traffic(t, rng));
  CHECK(b.seen_ms() >= 7 * kDay - 5 * kMinute);
  // Week two: normal values stay near their hour's normal...
  int normal = 0;
  double worst = 0;
  int spikes_found = 0;
  int spikes = 0;
  for (; t < kStart + 14 * kDay; t += 5 * kMinute) {
    const double v = normal_traffic(t, rng);
    // ...and a spike of +40 every 7 hours (at different hours of the day) is 3+ away.
    if ((t - kStart) % (7 * kHour) == 0) {
      ++spikes;
      auto z = b.deviation(t, v + 40);
      REQUIRE(z);
      if (*z > 3) ++spikes_found;
    }
    auto z = b.deviation(t, v);
    REQUIRE(z);
    worst = std::max(worst, std::fabs(*z));
    if (std::fabs(*z) <= 3) ++normal;
    b.observe(t, v);
  }
  INFO("worst |z| on normal traffic " << worst);
  // Noise is noise: with only 12 samples per hour-bucket a week, an isolated normal value may
  // land just past 3 standard deviations (2 of 2,016 with this seed); an anomaly rule's
  // for-duration is what keeps such a single sample from alerting. None comes near 4.
  CHECK(normal >= 7 * 24 * 12 * 995 / 1000);
  CHECK(worst < 4);
  CHECK(spikes > 20);
  CHECK(spikes_found == spikes);
  // A dip is found too, and the sign says which way.
  auto dip = b.deviation(kStart + 14 * kDay + 12 * kHour, 10);
  REQUIRE(dip);
  CHECK(*dip < -3);
}

TEST_CASE("seasonal baseline: quiet until it knows the hour; bad values ignored",
          "[alerts][anomaly]") {
  SeasonalBaseline b;
  CHECK_FALSE(b.deviation(kStart, 1));
  b.observe(kStart, 10);
  b.observe(kStart + kMinute, 10);
  CHECK_FALSE(b.deviation(kStart, 1000));  // two samples: not enough
  b.observe(kStart + 2 * kMinute, 10);
  auto z = b.deviation(kStart + 3 * kMinute, 10.2);
  REQUIRE(z);
  // A flat series: the floor (5 % of the mean) keeps a small wobble small.
  CHECK(std::fabs(*z) < 1);
  CHECK_FALSE(b.deviation(kStart + kHour, 10));  // another hour has seen nothing
  b.observe(kStart + 4 * kMinute, std::nan(""));
  b.observe(kStart + 5 * kMinute, INFINITY);
  CHECK(b.deviation(kStart, 10).value() == Approx(0).margin(1e-6));
  CHECK_FALSE(b.deviation(kStart, std::nan("")));
  CHECK(sizeof(SeasonalBaseline) == 1704);  // within the 2 KiB per baselined series
}

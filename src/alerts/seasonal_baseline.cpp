// The hour-of-week baseline of one series (seasonal_baseline.hpp): EWMA mean and variance per
// bucket, and the deviation of a value from its bucket in standard deviations.
#include <algorithm>
#include <cmath>

#include <netpulse/alerts/seasonal_baseline.hpp>

namespace netpulse::alerts {

int SeasonalBaseline::hour_of_week(std::int64_t at_ms) noexcept {
  // The Unix epoch was a Thursday; count hours from the Monday before it, 1969-12-29T00:00Z.
  constexpr std::int64_t kHourMs = 3'600'000;
  constexpr std::int64_t kMondayOffsetH = std::int64_t{3} * 24;
  const std::int64_t hours = at_ms >= 0 ? at_ms / kHourMs : (at_ms - kHourMs + 1) / kHourMs;
  auto h = (hours + kMondayOffsetH) % kBuckets;
  if (h < 0) h += kBuckets;
  return static_cast<int>(h);
}

void SeasonalBaseline::observe(std::int64_t at_ms, double value) {
  if (!std::isfinite(value)) return;
  if (first_ms_ < 0) first_ms_ = at_ms;
  last_ms_ = std::max(last_ms_, at_ms);
  const auto i = static_cast<std::size_t>(hour_of_week(at_ms));
  auto& b = buckets_[i];
  auto& n = counts_[i];
  if (n < UINT16_MAX) ++n;
  if (n == 1) {
    b.mean = static_cast<float>(value);
    b.var = 0;
    return;
  }
  // Plain averaging until 1/n falls below alpha, then a fixed weight: early estimates are not
  // biased toward the first value, later ones follow slow drift.
  const double w = std::max(1.0 / n, static_cast<double>(alpha_));
  const double delta = value - b.mean;
  const double mean = b.mean + w * delta;
  const double var = (1 - w) * (b.var + w * delta * delta);
  b.mean = static_cast<float>(mean);
  b.var = static_cast<float>(var);
}

std::optional<double> SeasonalBaseline::deviation(std::int64_t at_ms, double value) const {
  if (!std::isfinite(value)) return std::nullopt;
  const auto i = static_cast<std::size_t>(hour_of_week(at_ms));
  if (counts_[i] < kMinSamples) return std::nullopt;
  const auto& b = buckets_[i];
  const double sd = std::max(
      {std::sqrt(static_cast<double>(b.var)), 0.05 * std::fabs(static_cast<double>(b.mean)), 1e-9});
  return (value - b.mean) / sd;
}

}  // namespace netpulse::alerts

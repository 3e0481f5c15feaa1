// SeasonalBaseline: what is normal for one series at each hour of the week, learned as it goes —
// 168 buckets (hour of the week, UTC) each holding an exponentially weighted mean and variance —
// so an anomaly rule can say how many standard deviations a new value is from normal for that hour.
// A bucket's first samples are averaged plainly (weight 1/n), later ones with weight `alpha`, so
// early estimates are not biased toward the first value. 1,704 bytes per series.
//
// Hours are UTC: a series that follows local office hours shifts by an hour across a DST change,
// which the variance absorbs within a few weeks.
#pragma once

#include <array>
#include <cstdint>
#include <optional>

namespace netpulse::alerts {

class SeasonalBaseline {
 public:
  static constexpr int kBuckets = 168;
  // Bucket samples below which deviation() says nothing (too few to know what is normal).
  static constexpr std::uint16_t kMinSamples = 3;

  explicit SeasonalBaseline(float alpha = 0.05f) : alpha_(alpha) {}

  // Learns `value` at `at_ms` (Unix ms). NaN and infinities are ignored.
  void observe(std::int64_t at_ms, double value);

  // How many standard deviations `value` is from the mean of its hour's bucket (signed), or
  // nothing while that bucket has fewer than kMinSamples. The standard deviation is floored at
  // 5 % of the mean's magnitude (and 1e-9), so a flat series does not make every wobble an
  // anomaly.
  std::optional<double> deviation(std::int64_t at_ms, double value) const;

  // Milliseconds of history seen (the newest observation minus the first); an anomaly rule stays
  // quiet until this reaches its warm-up.
  std::int64_t seen_ms() const noexcept { return first_ms_ < 0 ? 0 : last_ms_ - first_ms_; }

  static int hour_of_week(std::int64_t at_ms) noexcept;

 private:
  struct Bucket {
    float mean = 0;
    float var = 0;
  };
  std::array<Bucket, kBuckets> buckets_{};
  std::array<std::uint16_t, kBuckets> counts_{};
  std::int64_t first_ms_ = -1;
  std::int64_t last_ms_ = 0;
  float alpha_;
};

}  // namespace netpulse::alerts

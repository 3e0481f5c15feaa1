// The least-squares trend of one series (trend.hpp): per-bucket sums in a ring, moved to the
// window's mean time when fitted, and the time the line takes to reach a target.
#include <algorithm>
#include <cmath>

#include <netpulse/alerts/trend.hpp>

namespace netpulse::alerts {

namespace {

std::int64_t floor_div(std::int64_t a, std::int64_t b) noexcept {
  const std::int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

// The ring slot of bucket number b (also for times before 1970).
std::size_t slot(std::int64_t b) noexcept {
  return static_cast<std::size_t>(((b % Trend::kBuckets) + Trend::kBuckets) % Trend::kBuckets);
}

}  // namespace

Trend::Trend(std::int64_t window_s) noexcept
    : span_ms_(std::max<std::int64_t>(
          1, (std::max<std::int64_t>(1, window_s) * 1000 + kBuckets - 1) / kBuckets)),
      window_ms_(std::max<std::int64_t>(1, window_s) * 1000) {}

void Trend::observe(std::int64_t at_ms, double value) noexcept {
  if (!std::isfinite(value) || at_ms <= last_ms_) return;
  const std::int64_t b = floor_div(at_ms, span_ms_);
  if (head_bucket_ == INT64_MIN || b - head_bucket_ >= kBuckets) {
    buckets_.fill(Bucket{});
  } else {
    for (std::int64_t k = head_bucket_ + 1; k <= b; ++k) {
      buckets_[slot(k)] = Bucket{};
    }
  }
  head_bucket_ = b;
  last_ms_ = at_ms;
  if (!has_base_) {
    value_base_ = value;
    has_base_ = true;
  }
  auto& bucket = buckets_[slot(b)];
  const double t = static_cast<double>(at_ms - b * span_ms_) / 1000.0;
  const double v = value - value_base_;
  if (bucket.n == 0) bucket.first_s = static_cast<float>(t);
  ++bucket.n;
  bucket.sum_t += t;
  bucket.sum_v += v;
  bucket.sum_tt += t * t;
  bucket.sum_tv += t * v;
}

std::optional<Trend::Line> Trend::fit(std::int64_t now_ms) const {
  if (head_bucket_ == INT64_MIN) return std::nullopt;
  const std::int64_t now_bucket = floor_div(now_ms, span_ms_);
  const std::int64_t lo = std::max(now_bucket, head_bucket_) - kBuckets + 1;
  const std::int64_t hi = std::min(now_bucket, head_bucket_);
  const double span_s = static_cast<double>(span_ms_) / 1000.0;
  // Bucket b's times are offsets from its start; its start is (b - now_bucket) * span_s seconds
  // from now's bucket start, the origin of the first pass.
  auto start_of = [&](std::int64_t b) { return static_cast<double>(b - now_bucket) * span_s; };
  double n = 0;
  double sum_t = 0;
  double sum_v = 0;
  double first_t = 0;
  double last_t = 0;
  for (std::int64_t b = lo; b <= hi; ++b) {
    const auto& bucket = buckets_[slot(b)];
    if (bucket.n == 0) continue;
    if (n == 0) first_t = start_of(b) + bucket.first_s;
    last_t = b == head_bucket_ ? start_of(b) + static_cast<double>(last_ms_ - b * span_ms_) / 1000.0
                               : start_of(b + 1);
    n += bucket.n;
    sum_t += bucket.sum_t + bucket.n * start_of(b);
    sum_v += bucket.sum_v;
  }
  if (n < kMinSamples) return std::nullopt;
  if ((last_t - first_t) * 1000.0 < kMinSpanShare * static_cast<double>(window_ms_)) {
    return std::nullopt;
  }
  // Second pass about the mean time: Σ(t - mean)² and Σ(t - mean)·v without cancellation.
  const double mean_t = sum_t / n;
  double stt = 0;
  double stv = 0;
  for (std::int64_t b = lo; b <= hi; ++b) {
    const auto& bucket = buckets_[slot(b)];
    if (bucket.n == 0) continue;
    const double d = start_of(b) - mean_t;
    stt += bucket.sum_tt + 2 * d * bucket.sum_t + bucket.n * d * d;
    stv += bucket.sum_tv + d * bucket.sum_v;
  }
  if (!(stt > 0)) return std::nullopt;
  double slope = stv / stt;
  // A constant series leaves rounding in stv (Σ(t - mean) is 0 only on paper): a change over the
  // whole window below 1e-12 of the value is that rounding, not a trend.
  const double mean_v = value_base_ + sum_v / n;
  if (std::fabs(slope) * static_cast<double>(window_ms_) / 1000.0 <= 1e-12 * std::fabs(mean_v)) {
    slope = 0;
  }
  const double now_t = static_cast<double>(now_ms - now_bucket * span_ms_) / 1000.0;
  return Line{value_base_ + sum_v / n + slope * (now_t - mean_t), slope};
}

std::optional<double> Trend::seconds_until(double target, CompareOp op, std::int64_t now_ms) const {
  if (op == CompareOp::kEqual || op == CompareOp::kNotEqual) return std::nullopt;
  const auto line = fit(now_ms);
  if (!line) return std::nullopt;
  if (compare(op, line->value, target)) return 0.0;
  const bool rising = op == CompareOp::kGreater || op == CompareOp::kGreaterEqual;
  if (rising ? !(line->slope_per_s > 0) : !(line->slope_per_s < 0)) return std::nullopt;
  return (target - line->value) / line->slope_per_s;
}

}  // namespace netpulse::alerts

// WindowAggregate: avg, min, max or p95 of one series over the last window_s (a threshold
// condition's window, 60 s .. 7 days), the number a ThresholdState then observes. Memory is
// bounded at any sample rate:
//
// - A ring of kBuckets time buckets, each spanning window/kBuckets (ceil, in ms), each holding a
//   count and one double: the sum (avg), the minimum (min) or the maximum (max). The window is
//   the kBuckets buckets ending with now's bucket, so it reaches back between window - window /
//   kBuckets and window: the oldest bucket leaves whole, not sample by sample (a 1-hour window
//   moves in 1-minute steps).
// - p95 adds a part allocated for p95 conditions only: the last kExactSamples raw values, and a
//   histogram of kHistogramBins bins per time bucket. While the window holds at most
//   kExactSamples samples, p95 is exact, as Prometheus' quantile_over_time(0.95, ...) computes
//   it: the sorted values' rank 0.95 * (n - 1), linearly interpolated between the two closest.
//   Above that it comes from the histograms. A bucket's bins are 2^e wide (e chosen for the first
//   value, doubled — neighbouring bins merged — whenever a value falls outside the 32 bins), and
//   the buckets are merged at the coarsest width that covers the window within 64 bins; the rank
//   is then interpolated linearly inside its bin. Error bound: the estimate lies within one merged
//   bin width of the two samples the exact p95 interpolates between; a bin is at most 1/15 of the
//   widest bucket's value range, or 1/31 of the window's range. On smooth data it is far closer
//   (the unit test: within 2 % on uniform, normal and log-normal samples).
//
// Bytes per series (tested): avg, min, max: 768 (the object, no allocation). p95: 768 + 5,592 on
// the heap, allocated once at construction. observe() never allocates.
//
// Times are Unix ms given by the caller. A sample not after the newest one taken, or NaN or
// infinite, is ignored; one that arrives after expire() moved the window past its bucket is too.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>

#include <netpulse/alerts/rule.hpp>

namespace netpulse::alerts {

class WindowAggregate {
 public:
  static constexpr int kBuckets = 60;
  static constexpr int kExactSamples = 128;  // p95 is exact up to this many samples in the window
  static constexpr int kHistogramBins = 32;  // p95's bins per time bucket above that

  // `fn` is kAvg, kMin, kMax or kP95 (kValue and kRate are taken as kAvg); `window_s` at least 1.
  WindowAggregate(ConditionFn fn, std::int64_t window_s);
  ~WindowAggregate();
  WindowAggregate(WindowAggregate&&) noexcept;
  WindowAggregate& operator=(WindowAggregate&&) noexcept;
  WindowAggregate(const WindowAggregate&) = delete;
  WindowAggregate& operator=(const WindowAggregate&) = delete;

  // Takes the value at `at_ms`.
  void observe(std::int64_t at_ms, double value) noexcept;

  // The aggregate over the window ending at `now_ms`; nothing when the window holds no samples.
  // Does not change the state (buckets older than the window are skipped, not dropped).
  std::optional<double> value(std::int64_t now_ms) const;

  // Drops the buckets older than the window ending at `now_ms`: the engine's tick calls it so the
  // window moves on without samples (and a late sample cannot land in a dropped bucket).
  void expire(std::int64_t now_ms) noexcept;

  ConditionFn fn() const noexcept { return fn_; }

  // Ask the CPU ahead of an observe(at_ms) for the state it will read (the engine's per-sample
  // loop looks a few samples ahead; a batch's states are mostly cold): prefetch_head() for the
  // object's first line, then, once that arrived, prefetch_buckets(at_ms) for the ring slots
  // observe() will touch. Neither changes anything.
  void prefetch_head() const noexcept { __builtin_prefetch(this); }
  void prefetch_buckets(std::int64_t at_ms) const noexcept;

  // This series' bytes: the object and, for p95, its heap part.
  std::size_t state_bytes() const noexcept;

 private:
  struct P95Part;  // the raw values and the per-bucket histograms (window_aggregate.cpp)

  void advance_to(std::int64_t bucket) noexcept;
  // p95 from the histograms of buckets lo..hi, which hold n samples.
  double histogram_p95(std::int64_t lo, std::int64_t hi, double n) const noexcept;

  // The scalars first: observe() and value() read them all, in the object's first cache line.
  std::int64_t span_ms_;                  // each bucket's width
  std::int64_t head_bucket_ = INT64_MIN;  // the newest bucket's number (time / span_ms_)
  std::int64_t last_ms_ = INT64_MIN;      // the newest sample's time
  // avg: the sum and count of the live buckets, so value() at the newest bucket is O(1) (it is
  // on the engine's per-sample path): a sample adds to them, a bucket leaving the window takes
  // its part away, and an empty window resets the sum to exactly 0 (the rounding the
  // subtractions leave is of the order of the values' own, 1e-16 relative per bucket).
  double sum_ = 0;
  std::uint32_t n_ = 0;
  ConditionFn fn_;
  std::unique_ptr<P95Part> p95_;                  // p95 only
  std::array<double, kBuckets> agg_{};            // per bucket: sum, min or max (p95: unused)
  std::array<std::uint32_t, kBuckets> counts_{};  // per bucket: samples taken
};

}  // namespace netpulse::alerts

// Trend: the least-squares line through one series' samples over the last window (a forecast
// rule's forecast.window_s, 1 hour .. 90 days), and when that line reaches a value — "the disk is
// full in 3 days", "the link saturates within the week". The engine fires a forecast rule when
// seconds_until() is at most its horizon.
//
// Bounded memory at any sample rate: a ring of kBuckets time buckets, each spanning window/kBuckets
// and holding the sums a least-squares fit needs (n, Σt, Σv, Σt², Σtv). Times are seconds from the
// bucket's own start and values are relative to the series' first value, so Unix-ms times (1.8e12)
// and large values (disk bytes) lose no precision; the fit moves every bucket's sums to one
// origin (the window's mean time) before solving. The window is the kBuckets buckets ending with
// now's: it reaches back between window - window/kBuckets and window (the oldest bucket drops
// whole). A change over the whole window smaller than 1e-12 of the value is rounding (a constant
// series leaves some) and taken as flat.
//
// State: 1,328 bytes per series (32 buckets of 40 bytes, the ring's position, the value base);
// no allocation.
// Times are Unix ms given by the caller; a sample not after the previous one, and a NaN or
// infinite value, is ignored.
#pragma once

#include <array>
#include <cstdint>
#include <optional>

#include <netpulse/alerts/rule.hpp>

namespace netpulse::alerts {

class Trend {
 public:
  static constexpr int kBuckets = 32;
  // A fit needs at least this many samples...
  static constexpr std::uint32_t kMinSamples = 3;
  // ...spanning at least this share of the window (first to last sample), or it says nothing: a
  // line through a few minutes of a week's window extrapolates noise.
  static constexpr double kMinSpanShare = 0.10;

  // `window_s` at least 1; the buckets span ceil(window_s * 1000 / kBuckets) ms each.
  explicit Trend(std::int64_t window_s) noexcept;

  // Takes the value at `at_ms` (Unix ms).
  void observe(std::int64_t at_ms, double value) noexcept;

  // Seconds from `now_ms` until the fitted line reaches `target` the way `op` says: for > and
  // >= rising to it, for < and <= falling to it. 0 when the line's value at now already meets
  // it; nothing when the slope goes the other way or is flat, for == and !=, and when the window
  // holds fewer than kMinSamples samples or they span less than kMinSpanShare of the window.
  std::optional<double> seconds_until(double target, CompareOp op, std::int64_t now_ms) const;

  // The fitted line at `now_ms`: its value there and its slope per second; nothing when the
  // fit is not possible (the same conditions as seconds_until's).
  struct Line {
    double value = 0;
    double slope_per_s = 0;
  };
  std::optional<Line> fit(std::int64_t now_ms) const;

 private:
  struct Bucket {
    std::uint32_t n = 0;
    float first_s = 0;  // the first sample's time from the bucket's start (the span test)
    double sum_t = 0;   // t: seconds from the bucket's start
    double sum_v = 0;   // v: value minus value_base_
    double sum_tt = 0;
    double sum_tv = 0;
  };

  std::array<Bucket, kBuckets> buckets_{};
  std::int64_t span_ms_;                  // each bucket's width
  std::int64_t window_ms_;                // as given
  std::int64_t head_bucket_ = INT64_MIN;  // the newest bucket's number (time / span_ms_)
  std::int64_t last_ms_ = INT64_MIN;      // the newest sample's time
  double value_base_ = 0;                 // the first sample's value
  bool has_base_ = false;
};

}  // namespace netpulse::alerts

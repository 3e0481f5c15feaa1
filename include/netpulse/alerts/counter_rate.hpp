// CounterRate: the per-second rate of one counter series between consecutive samples, for a
// threshold rule whose fn is "rate". Decreases are handled as Prometheus' rate() handles resets,
// plus SNMP's fixed-width wraps:
//
// - new >= previous: rate = (new - previous) / dt.
// - new < previous, previous <= 2^32 - 1 and 2^32 - previous + new < 2^31: a 32-bit wrap
//   (a Counter32 passing 4294967295); the counter moved 2^32 - previous + new.
// - new < previous, previous > 2^32 - 1 and 2^64 - previous + new < 2^63: a 64-bit wrap
//   (a Counter64); the counter moved 2^64 - previous + new.
// - any other decrease: a reset (agent restart, counter cleared); the counter is taken to count
//   from zero, so it moved `new` (Prometheus does the same).
// "Plausible" is "less than half the counter's range": a wrap needs a counter that ran at least
// half its range since the previous sample, which no real interface does between two polls. The
// rule cannot tell a reset of a Counter32 above 2^31 from a wrap; it counts that as a wrap.
//
// Precision: counters arrive as doubles. Up to 2^53 every integer is exact and so is a delta;
// above it a double holds multiples of 2^(e-52) (2 just above 2^53, 2,048 just below 2^64), so a
// delta is exact to the spacing of the larger value; 2^32 and 2^64 themselves are exact doubles.
//
// A sample is ignored (the state unchanged, no rate) when its time is not after the previous one
// (a duplicate or late sample: dt <= 0) or its value is NaN, infinite or negative. A sample more
// than max_gap_ms after the previous one gives no rate and only re-primes: a rate across a long
// gap would smear an outage's restart over it. The first sample only primes.
//
// State: 24 bytes per series (the previous sample and max_gap_ms); no allocation.
#pragma once

#include <cstdint>
#include <optional>

namespace netpulse::alerts {

class CounterRate {
 public:
  // The default largest gap between two samples that still gives a rate: 10 minutes.
  static constexpr std::int64_t kDefaultMaxGapMs = std::int64_t{10} * 60'000;

  explicit CounterRate(std::int64_t max_gap_ms = kDefaultMaxGapMs) noexcept
      : max_gap_ms_(max_gap_ms) {}

  // Takes the counter's value at `at_ms` (Unix ms) and returns the per-second rate since the
  // previous sample, or nothing: the first sample, a sample after a gap longer than max_gap_ms,
  // and an ignored sample (see above) give no rate.
  std::optional<double> observe(std::int64_t at_ms, double value) noexcept;

  // Whether a previous sample is held (the next in-gap sample will give a rate).
  bool primed() const noexcept { return last_ms_ != kUnprimed; }

 private:
  static constexpr std::int64_t kUnprimed = INT64_MIN;

  std::int64_t last_ms_ = kUnprimed;  // the previous sample's time; kUnprimed before the first
  double last_value_ = 0;             // the previous sample's value
  std::int64_t max_gap_ms_;           // a longer gap re-primes instead of giving a rate
};

}  // namespace netpulse::alerts

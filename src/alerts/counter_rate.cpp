// The per-second rate of one counter (counter_rate.hpp): deltas between consecutive samples, with
// 32- and 64-bit wraps told apart from resets by the half-range rule, gaps re-priming.
#include <cmath>

#include <netpulse/alerts/counter_rate.hpp>

namespace netpulse::alerts {

namespace {

constexpr double kTwo32 = 4294967296.0;            // 2^32, exact in a double
constexpr double kTwo64 = 18446744073709551616.0;  // 2^64, exact in a double
constexpr double kMax32 = kTwo32 - 1;              // the largest Counter32 value

// How far the counter moved from `prev` to `next` (next < prev): a wrap's distance when it is
// plausible (under half the range), otherwise `next` (a reset, counting from zero).
double decrease_delta(double prev, double next) noexcept {
  if (prev <= kMax32) {
    const double wrapped = (kTwo32 - prev) + next;
    return wrapped < kTwo32 / 2 ? wrapped : next;
  }
  // Sterbenz: 2^64 - prev is exact for prev in [2^63, 2^64]; below that the wrap is implausible
  // anyway (distance over 2^63) and the rounding does not change the verdict.
  const double wrapped = (kTwo64 - prev) + next;
  return wrapped < kTwo64 / 2 ? wrapped : next;
}

}  // namespace

std::optional<double> CounterRate::observe(std::int64_t at_ms, double value) noexcept {
  if (!std::isfinite(value) || value < 0) return std::nullopt;
  if (last_ms_ != kUnprimed && at_ms <= last_ms_) return std::nullopt;
  const bool had_previous = last_ms_ != kUnprimed;
  const std::int64_t dt_ms = had_previous ? at_ms - last_ms_ : 0;
  const double prev = last_value_;
  last_ms_ = at_ms;
  last_value_ = value;
  if (!had_previous || dt_ms > max_gap_ms_) return std::nullopt;
  const double delta = value >= prev ? value - prev : decrease_delta(prev, value);
  return delta * 1000.0 / static_cast<double>(dt_ms);
}

}  // namespace netpulse::alerts

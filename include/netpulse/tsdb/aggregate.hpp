// Aggregation math of the query layer: rollups and percentiles over values, counter increase and
// rate with resets and wraps, step bucketing, min/max downsampling for charts, and top-k.
// Pure functions: no state, no allocation beyond the returned values and a scratch copy, safe to
// call from any thread. Times are milliseconds (see types.hpp); rates are per second.
//
// NaN handling: kMin, kMax and the percentiles ignore NaN values (NaN only when every value is
// NaN); kSum and kAvg follow IEEE arithmetic, so one NaN makes the result NaN; kCount counts every
// value; kLast returns the last value as it is. Counter functions skip NaN samples.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include <netpulse/tsdb/types.hpp>

namespace netpulse::tsdb {

enum class AggFn { kAvg, kMin, kMax, kSum, kCount, kLast, kP50, kP90, kP95, kP99 };

// The function named `name`: "avg", "min", "max", "sum", "count", "last", "p50", "p90", "p95",
// "p99" (lower case, exact); nullopt for anything else.
std::optional<AggFn> parse_agg(std::string_view name);

// The canonical name of `fn`, as parse_agg() accepts it.
std::string_view agg_name(AggFn fn);

// `fn` over `values`; NaN when `values` is empty (for kCount too: "no data", not zero).
// Percentiles are exact and use Prometheus' quantile_over_time rule: sort the n values, take the
// rank r = phi * (n - 1) and interpolate linearly between the values at floor(r) and ceil(r). So
// p50 of {1, 2, 3, 4} is 2.5, and p90 of {1, ..., 11} is 10. Sums are plain left-to-right double
// sums.
double aggregate(AggFn fn, std::span<const double> values);

// The declared width of a counter, which decides whether a drop is a wrap or a reset.
enum class CounterWidth { kUnknown, k32, k64 };

// The total increase of a counter over `samples` (sorted by time), summing the rise between each
// pair of consecutive samples. When a value drops (cur < prev):
//  - wrap, for k32 with R = 2^32 (k64: R = 2^64) when prev < R, prev > 0.75 * R and
//    cur < 0.25 * R: the rise is R - prev + cur;
//  - reset otherwise, and always for kUnknown (Prometheus semantics): the counter restarted from 0,
//    so the rise is cur.
// Values are doubles: near 2^64 one ulp is 4096, so a 64-bit wrap is exact only to a few thousand
// counts (2^32 and everything below 2^53 is exact). Counters are assumed non-negative.
// NaN samples are skipped; NaN when fewer than 2 samples remain.
double counter_increase(std::span<const Sample> samples, CounterWidth width);

// The per-second rate over `samples` (sorted by time; the caller selects the window):
// counter_increase() / ((last.t - first.t) / 1000). No Prometheus-style extrapolation to the
// window edges. NaN when fewer than 2 non-NaN samples or when they share one timestamp.
double counter_rate(std::span<const Sample> samples, CounterWidth width);

// One point per non-empty bucket [start + k*step, start + (k+1)*step), stamped at the bucket start,
// with value `fn` over the bucket's values. Only samples with start <= t < end count (a sample at
// a boundary belongs to the later bucket; the last bucket may be cut short by `end`). Empty when
// step <= 0 or end <= start. `samples` need not be sorted (unsorted input is sorted on a copy).
std::vector<Sample> step_aggregate(std::span<const Sample> samples, Timestamp start, Timestamp end,
                                   Timestamp step, AggFn fn);

// At most `max_points` samples that still show every spike, for charts. When `samples` already
// fits it is returned as is. Otherwise the time-sorted samples are split into max_points / 2
// buckets of (nearly) equal sample count, and each bucket contributes its minimum and its maximum
// sample (the first one when values repeat) in time order, or one sample when they coincide. NaN
// values are ignored unless a bucket holds nothing else (then its first sample stands for it).
// max_points == 1 returns the sample with the largest value; max_points == 0 returns nothing.
std::vector<Sample> downsample_min_max(std::span<const Sample> samples, std::size_t max_points);

// The indices of the min(k, n) largest `scores`, largest first; equal scores keep index order and
// NaN scores come last (in index order).
std::vector<std::size_t> top_k(std::span<const double> scores, std::size_t k);

}  // namespace netpulse::tsdb

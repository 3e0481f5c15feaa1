// The query engine: turns the samples (or rollup buckets) of the selected series into the points a
// range query answers with — raw, step-aggregated, counter rate/increase, grouped across series by
// labels, top-k, and downsampled for charts. Pure functions over data the store has already read:
// no I/O, no clock, safe on any thread (queries run on the worker pool).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <netpulse/core/result.hpp>
#include <netpulse/tsdb/aggregate.hpp>
#include <netpulse/tsdb/types.hpp>

namespace netpulse::tsdb {

// One rollup bucket: the samples with bucket <= t < bucket + width, summarised.
struct RollupBucket {
  Timestamp t = 0;  // bucket start
  double min = 0;
  double max = 0;
  double sum = 0;
  std::int64_t count = 0;
  double last = 0;       // value of the latest sample in the bucket
  Timestamp last_t = 0;  // its time
  friend bool operator==(const RollupBucket&, const RollupBucket&) = default;
};

// The data of one selected series: raw samples (sorted by time, unique times) or, for a query
// served from a rollup tier, buckets of `bucket_ms` (sorted, unique starts).
struct SeriesData {
  SeriesKey key;
  std::vector<Sample> samples;
  std::vector<RollupBucket> buckets;
  Timestamp bucket_ms = 0;  // 0: raw samples; otherwise the tier's bucket width
};

// A function applied to each series before step aggregation.
enum class RangeFn {
  kNone,      // the values as they are
  kRate,      // per-second rate of a counter (resets and wraps handled per CounterWidth)
  kIncrease,  // increase of a counter
};

// "rate", "increase" → the function; "" → kNone; anything else → nullopt.
std::optional<RangeFn> parse_range_fn(std::string_view name);

struct RangeQuery {
  Timestamp start = 0;  // inclusive
  Timestamp end = 0;    // inclusive for raw points; step buckets cover [start, end]
  Timestamp step = 0;   // 0: raw points (no bucketing)
  // Per-bucket aggregation within one series (with step, fn kNone; rate/increase ignore it), the
  // rollup field shown without step (avg unless min/max/sum/count/last), and the topk score.
  AggFn agg = AggFn::kAvg;
  RangeFn fn = RangeFn::kNone;
  CounterWidth width = CounterWidth::kUnknown;
  // Group series by these label names and combine them bucket by bucket with `group_agg`
  // (needs step). An empty list with `group` set combines every series into one.
  std::vector<std::string> group_by;
  bool group = false;
  AggFn group_agg = AggFn::kSum;
  // Keep only the k series with the largest `agg` over all their points (after grouping).
  std::optional<std::size_t> topk;
  // At most this many points per series, keeping each bucket's min and max (downsample_min_max).
  std::optional<std::size_t> max_points;
};

// One series of the answer. Grouped series carry only the group_by labels, and the metric name
// when every series of the group had the same one (else "").
struct ResultSeries {
  std::string metric;
  LabelSet labels;
  std::vector<Sample> points;
  friend bool operator==(const ResultSeries&, const ResultSeries&) = default;
};

// Evaluates `query` over `input`. Errors (kInvalidInput, naming the parameter in
// details.field): end < start ("end"), step < 0 ("step"), group/group_by without step ("group",
// "group_by"). Series without any point in the range are left out.
//
// Only data inside [start, end] is used. Raw samples: without step the points themselves; with
// step, `agg` over each non-empty bucket [start + k*step, start + (k+1)*step), stamped at its
// start. rate/increase: without step one point per consecutive pair (at the later time); with step
// one point per bucket, over its samples and the latest earlier sample in the range. Rollup
// buckets are combined as if over their samples (avg = sum of sums / sum of counts, ...), except
// percentiles, which are taken over the bucket averages (an approximation); rate/increase on
// rollups use each bucket's `last` at `last_t` as a counter sample. No point is NaN: NaN samples
// are dropped first, and a point whose value still comes out NaN is left out.
//
// Order of the answer: with topk, by rank (NaN scores last); else grouped series by labels and
// ungrouped series by metric, then labels. max_points is applied last, to each series.
core::Result<std::vector<ResultSeries>> evaluate_range(const RangeQuery& query,
                                                       std::vector<SeriesData> input);

}  // namespace netpulse::tsdb

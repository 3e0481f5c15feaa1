// The range-query engine: for each selected series it clips the raw samples (or rollup buckets) to
// [start, end], applies the counter function (rate/increase) and the per-step aggregation, then
// groups series by labels, keeps the top k and downsamples each answer series for charts. All the
// arithmetic is aggregate.cpp's (aggregate(), counter_increase(), step_aggregate(), top_k(),
// downsample_min_max()); this file only decides which values go into which bucket.
//
// Rules that the header leaves to this file:
//  - Only samples (and rollup buckets) inside [start, end] are used. A counter point covers the
//    rise from the sample before it, so the first sample in the range, or the first step bucket,
//    has no predecessor: with a step, a bucket's counter value is taken over its own samples plus
//    the latest sample of the range before the bucket.
//  - `agg` aggregates the buckets of kNone queries only; counter queries (rate/increase) ignore it
//    per bucket, but `topk` still ranks by it.
//  - No answer point is NaN: NaN raw samples are dropped before anything else (so a step bucket
//    aggregates, and counts, only its other samples, and an all-NaN bucket is empty), and any point
//    whose value still comes out NaN (a rollup bucket with a NaN sum, inf - inf) is left out.
//  - Rollup percentiles are percentiles over the tier's bucket averages (the usual "95th percentile
//    of the 5-minute averages" of bandwidth billing), an approximation of the raw percentile.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <span>
#include <utility>

#include <netpulse/core/error.hpp>
#include <netpulse/tsdb/query.hpp>

namespace netpulse::tsdb {

namespace detail {
namespace {

// Appends {t, v} unless v is NaN: answers never carry NaN points.
void push_point(std::vector<Sample>& points, Timestamp t, double v) {
  if (!std::isnan(v)) points.push_back({t, v});
}

// Index of the step bucket [start + k*step, start + (k+1)*step) holding t (t >= start, step > 0).
std::uint64_t bucket_index(Timestamp t, Timestamp start, Timestamp step) {
  // Unsigned arithmetic: t - start may exceed INT64_MAX when start is negative.
  return (static_cast<std::uint64_t>(t) - static_cast<std::uint64_t>(start)) /
         static_cast<std::uint64_t>(step);
}

// Start of bucket `index`; never past the samples it holds, so it cannot overflow.
Timestamp bucket_start(std::uint64_t index, Timestamp start, Timestamp step) {
  return static_cast<Timestamp>(static_cast<std::uint64_t>(start) +
                                index * static_cast<std::uint64_t>(step));
}

// The non-NaN samples with start <= t <= end, of samples sorted by time.
std::vector<Sample> clip(std::span<const Sample> samples, Timestamp start, Timestamp end) {
  const auto first = std::lower_bound(samples.begin(), samples.end(), start,
                                      [](const Sample& s, Timestamp t) { return s.t < t; });
  std::vector<Sample> out;
  for (auto it = first; it != samples.end() && it->t <= end; ++it) {
    if (!std::isnan(it->v)) out.push_back(*it);
  }
  return out;
}

// Rate or increase of the counter `samples` (clipped to the range, no NaN, sorted by time).
double counter_value(std::span<const Sample> samples, const RangeQuery& query) {
  return query.fn == RangeFn::kRate ? counter_rate(samples, query.width)
                                    : counter_increase(samples, query.width);
}

// The latest non-NaN sample before `start`, of samples sorted by time: the first step bucket's
// predecessor for rate/increase (the store reads one step before the range for it).
std::optional<Sample> before_start(std::span<const Sample> samples, Timestamp start) {
  auto it = std::lower_bound(samples.begin(), samples.end(), start,
                             [](const Sample& s, Timestamp t) { return s.t < t; });
  while (it != samples.begin()) {
    --it;
    if (!std::isnan(it->v)) return *it;
  }
  return std::nullopt;
}

// Counter points of clipped samples: one per consecutive pair without a step, else one per
// bucket over its samples and the latest earlier sample (for the first bucket: `before`, the
// latest sample before the range, when there is one).
std::vector<Sample> counter_points(std::span<const Sample> samples, const RangeQuery& query,
                                   std::optional<Sample> before = std::nullopt) {
  std::vector<Sample> points;
  if (query.step == 0) {
    for (std::size_t i = 1; i < samples.size(); ++i) {
      push_point(points, samples[i].t, counter_value(samples.subspan(i - 1, 2), query));
    }
    return points;
  }
  std::size_t begin = 0;
  while (begin < samples.size()) {
    const std::uint64_t index = bucket_index(samples[begin].t, query.start, query.step);
    std::size_t end = begin + 1;
    while (end < samples.size() && bucket_index(samples[end].t, query.start, query.step) == index) {
      ++end;
    }
    if (begin == 0 && before) {
      std::vector<Sample> with_before;
      with_before.reserve(end + 1);
      with_before.push_back(*before);
      with_before.insert(with_before.end(), samples.begin(),
                         samples.begin() + static_cast<std::ptrdiff_t>(end));
      push_point(points, bucket_start(index, query.start, query.step),
                 counter_value(with_before, query));
    } else {
      const std::size_t from = begin > 0 ? begin - 1 : begin;
      push_point(points, bucket_start(index, query.start, query.step),
                 counter_value(samples.subspan(from, end - from), query));
    }
    begin = end;
  }
  return points;
}

std::vector<Sample> raw_points(std::span<const Sample> samples, const RangeQuery& query) {
  std::vector<Sample> clipped = clip(samples, query.start, query.end);
  if (query.fn != RangeFn::kNone) {
    return counter_points(clipped, query,
                          query.step > 0 ? before_start(samples, query.start) : std::nullopt);
  }
  if (query.step == 0) return clipped;
  // step_aggregate() wants an exclusive end; a sample at INT64_MAX is the price of saturating.
  const Timestamp end_exclusive =
      query.end == std::numeric_limits<Timestamp>::max() ? query.end : query.end + 1;
  std::vector<Sample> points;
  for (const Sample& p :
       step_aggregate(clipped, query.start, end_exclusive, query.step, query.agg)) {
    push_point(points, p.t, p.v);
  }
  return points;
}

// The value of one rollup bucket under `fn`; percentiles of one bucket fall back to its average.
double bucket_value(const RollupBucket& b, AggFn fn) {
  switch (fn) {
    case AggFn::kMin:
      return b.min;
    case AggFn::kMax:
      return b.max;
    case AggFn::kSum:
      return b.sum;
    case AggFn::kCount:
      return static_cast<double>(b.count);
    case AggFn::kLast:
      return b.last;
    default:
      return b.sum / static_cast<double>(b.count);
  }
}

// `fn` over several rollup buckets (non-empty, count > 0 each) as if over their samples.
double combine_buckets(std::span<const RollupBucket> buckets, AggFn fn) {
  double sum = 0;
  std::int64_t count = 0;
  std::vector<double> values;
  values.reserve(buckets.size());
  const RollupBucket* latest = &buckets.front();
  for (const RollupBucket& b : buckets) {
    sum += b.sum;
    count += b.count;
    if (b.last_t >= latest->last_t) latest = &b;
    switch (fn) {
      case AggFn::kMin:
        values.push_back(b.min);
        break;
      case AggFn::kMax:
        values.push_back(b.max);
        break;
      default:
        values.push_back(b.sum / static_cast<double>(b.count));
        break;
    }
  }
  switch (fn) {
    case AggFn::kAvg:
      return sum / static_cast<double>(count);
    case AggFn::kSum:
      return sum;
    case AggFn::kCount:
      return static_cast<double>(count);
    case AggFn::kLast:
      return latest->last;
    default:  // min of mins, max of maxes, percentiles of the bucket averages
      return aggregate(fn, values);
  }
}

std::vector<Sample> rollup_points(std::span<const RollupBucket> all, const RangeQuery& query) {
  if (query.fn != RangeFn::kNone) {
    // A counter's rollup keeps its latest value per bucket: a coarser counter sample series.
    std::vector<Sample> samples;
    for (const RollupBucket& b : all) {
      if (b.count > 0) samples.push_back({b.last_t, b.last});
    }
    std::stable_sort(samples.begin(), samples.end(),
                     [](const Sample& a, const Sample& b) { return a.t < b.t; });
    return counter_points(clip(samples, query.start, query.end), query,
                          query.step > 0 ? before_start(samples, query.start) : std::nullopt);
  }
  std::vector<RollupBucket> buckets;
  for (const RollupBucket& b : all) {
    if (b.count > 0 && b.t >= query.start && b.t <= query.end) buckets.push_back(b);
  }
  std::vector<Sample> points;
  if (query.step == 0) {
    for (const RollupBucket& b : buckets) push_point(points, b.t, bucket_value(b, query.agg));
    return points;
  }
  const std::span<const RollupBucket> in_range(buckets);
  std::size_t begin = 0;
  while (begin < in_range.size()) {
    const std::uint64_t index = bucket_index(in_range[begin].t, query.start, query.step);
    std::size_t end = begin + 1;
    while (end < in_range.size() &&
           bucket_index(in_range[end].t, query.start, query.step) == index) {
      ++end;
    }
    push_point(points, bucket_start(index, query.start, query.step),
               combine_buckets(in_range.subspan(begin, end - begin), query.agg));
    begin = end;
  }
  return points;
}

std::vector<Sample> series_points(SeriesData& data, const RangeQuery& query) {
  if (data.bucket_ms > 0) {
    auto& buckets = data.buckets;
    const auto by_start = [](const RollupBucket& a, const RollupBucket& b) { return a.t < b.t; };
    if (!std::is_sorted(buckets.begin(), buckets.end(), by_start)) {
      std::stable_sort(buckets.begin(), buckets.end(), by_start);
    }
    return rollup_points(buckets, query);
  }
  auto& samples = data.samples;
  const auto by_time = [](const Sample& a, const Sample& b) { return a.t < b.t; };
  if (!std::is_sorted(samples.begin(), samples.end(), by_time)) {
    std::stable_sort(samples.begin(), samples.end(), by_time);
  }
  return raw_points(samples, query);
}

bool by_metric_then_labels(const ResultSeries& a, const ResultSeries& b) {
  if (a.metric != b.metric) return a.metric < b.metric;
  return a.labels < b.labels;
}

// Combines `series` (sorted by metric then labels, none empty) by the values of `names` (sorted,
// unique), point time by point time with `fn`. The answer is sorted by labels.
std::vector<ResultSeries> group_series(std::vector<ResultSeries> series,
                                       const std::vector<std::string>& names, AggFn fn) {
  struct Group {
    std::string metric;
    std::map<Timestamp, std::vector<double>> values;
  };
  std::map<std::vector<std::string>, Group> groups;
  for (ResultSeries& s : series) {
    std::vector<std::string> key;
    key.reserve(names.size());
    for (const std::string& name : names) {
      const auto label = std::find_if(s.labels.begin(), s.labels.end(),
                                      [&](const Label& l) { return l.first == name; });
      key.push_back(label == s.labels.end() ? std::string() : label->second);
    }
    const auto [it, inserted] = groups.try_emplace(std::move(key));
    Group& group = it->second;
    if (inserted) {
      group.metric = s.metric;
    } else if (group.metric != s.metric) {
      group.metric.clear();
    }
    for (const Sample& p : s.points) group.values[p.t].push_back(p.v);
  }

  std::vector<ResultSeries> out;
  out.reserve(groups.size());
  for (auto& [key, group] : groups) {
    ResultSeries result;
    result.metric = std::move(group.metric);
    for (std::size_t i = 0; i < names.size(); ++i) {
      if (!key[i].empty()) result.labels.emplace_back(names[i], key[i]);
    }
    for (const auto& [t, values] : group.values)
      push_point(result.points, t, aggregate(fn, values));
    if (!result.points.empty()) out.push_back(std::move(result));
  }
  std::sort(out.begin(), out.end(),
            [](const ResultSeries& a, const ResultSeries& b) { return a.labels < b.labels; });
  return out;
}

// The `k` series with the largest `fn` over their point values, largest first.
std::vector<ResultSeries> keep_top(std::vector<ResultSeries> series, std::size_t k, AggFn fn) {
  std::vector<double> scores;
  scores.reserve(series.size());
  std::vector<double> values;
  for (const ResultSeries& s : series) {
    values.clear();
    for (const Sample& p : s.points) values.push_back(p.v);
    scores.push_back(aggregate(fn, values));
  }
  std::vector<ResultSeries> out;
  for (const std::size_t i : top_k(scores, k)) out.push_back(std::move(series[i]));
  return out;
}

}  // namespace
}  // namespace detail

std::optional<RangeFn> parse_range_fn(std::string_view name) {
  if (name.empty()) return RangeFn::kNone;
  if (name == "rate") return RangeFn::kRate;
  if (name == "increase") return RangeFn::kIncrease;
  return std::nullopt;
}

core::Result<std::vector<ResultSeries>> evaluate_range(const RangeQuery& query,
                                                       std::vector<SeriesData> input) {
  if (query.end < query.start) return core::invalid_field("end", "must not be before start");
  if (query.step < 0) return core::invalid_field("step", "must not be negative");
  const bool grouped = query.group || !query.group_by.empty();
  if (grouped && query.step == 0) {
    return core::invalid_field(query.group_by.empty() ? "group" : "group_by",
                               "grouping series needs a step");
  }

  std::vector<ResultSeries> series;
  series.reserve(input.size());
  for (SeriesData& data : input) {
    std::vector<Sample> points = detail::series_points(data, query);
    if (points.empty()) continue;
    series.push_back({std::move(data.key.metric), std::move(data.key.labels), std::move(points)});
  }
  // Sorted before grouping too, so that group_agg = last sees the series in a fixed order.
  std::stable_sort(series.begin(), series.end(), detail::by_metric_then_labels);

  if (grouped) {
    std::vector<std::string> names = query.group_by;
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
    series = detail::group_series(std::move(series), names, query.group_agg);
  }
  if (query.topk) series = detail::keep_top(std::move(series), *query.topk, query.agg);
  if (query.max_points) {
    for (ResultSeries& s : series) s.points = downsample_min_max(s.points, *query.max_points);
    std::erase_if(series, [](const ResultSeries& s) { return s.points.empty(); });
  }
  return series;
}

}  // namespace netpulse::tsdb

// The arithmetic behind query rollups: aggregate() over a bucket of values, counter increase and
// rate with 32/64-bit wrap detection, step bucketing, min/max downsampling for charts and top-k.
// Everything here is a pure function of its arguments; the rules (percentile interpolation, what
// counts as a wrap, NaN handling, bucket boundaries) are spelled out in
// include/netpulse/tsdb/aggregate.hpp, and the unit tests check them against naive versions.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <iterator>
#include <limits>
#include <numeric>
#include <utility>

#include <netpulse/tsdb/aggregate.hpp>

namespace netpulse::tsdb {

namespace detail {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

struct NamedAgg {
  std::string_view name;
  AggFn fn;
};

constexpr std::array<NamedAgg, 10> kAggNames{{
    {"avg", AggFn::kAvg},
    {"min", AggFn::kMin},
    {"max", AggFn::kMax},
    {"sum", AggFn::kSum},
    {"count", AggFn::kCount},
    {"last", AggFn::kLast},
    {"p50", AggFn::kP50},
    {"p90", AggFn::kP90},
    {"p95", AggFn::kP95},
    {"p99", AggFn::kP99},
}};

// Prometheus' quantile rule over the non-NaN values (see aggregate.hpp).
double quantile(double phi, std::span<const double> values) {
  std::vector<double> sorted;
  sorted.reserve(values.size());
  std::copy_if(values.begin(), values.end(), std::back_inserter(sorted),
               [](double v) { return !std::isnan(v); });
  if (sorted.empty()) return kNaN;
  std::sort(sorted.begin(), sorted.end());
  const double rank = phi * static_cast<double>(sorted.size() - 1);
  const auto lower = static_cast<std::size_t>(std::floor(rank));
  const auto upper = static_cast<std::size_t>(std::ceil(rank));
  const double weight = rank - std::floor(rank);
  // Skipping the interpolation at an exact rank keeps infinities from turning into NaN (inf * 0).
  if (lower == upper || weight == 0) return sorted[lower];
  return sorted[lower] * (1 - weight) + sorted[upper] * weight;
}

// min or max over the non-NaN values, NaN when there are none.
template <class Better>
double extreme(std::span<const double> values, Better better) {
  double result = kNaN;
  for (const double v : values) {
    if (std::isnan(v)) continue;
    if (std::isnan(result) || better(v, result)) result = v;
  }
  return result;
}

// The rise from `prev` to `cur` of a counter of the given width (see counter_increase()).
double counter_delta(double prev, double cur, CounterWidth width) {
  if (cur >= prev) return cur - prev;
  double range = 0;
  switch (width) {
    case CounterWidth::kUnknown:
      return cur;
    case CounterWidth::k32:
      range = 4294967296.0;  // 2^32
      break;
    case CounterWidth::k64:
      range = 18446744073709551616.0;  // 2^64
      break;
  }
  if (prev < range && prev > 0.75 * range && cur < 0.25 * range) return range - prev + cur;
  return cur;
}

// `samples` if sorted by time, else a sorted copy held in `storage`.
std::span<const Sample> sorted_by_time(std::span<const Sample> samples,
                                       std::vector<Sample>& storage) {
  const auto by_time = [](const Sample& a, const Sample& b) { return a.t < b.t; };
  if (std::is_sorted(samples.begin(), samples.end(), by_time)) return samples;
  storage.assign(samples.begin(), samples.end());
  std::stable_sort(storage.begin(), storage.end(), by_time);
  return storage;
}

}  // namespace
}  // namespace detail

std::optional<AggFn> parse_agg(std::string_view name) {
  for (const auto& named : detail::kAggNames) {
    if (named.name == name) return named.fn;
  }
  return std::nullopt;
}

std::string_view agg_name(AggFn fn) {
  for (const auto& named : detail::kAggNames) {
    if (named.fn == fn) return named.name;
  }
  return {};
}

double aggregate(AggFn fn, std::span<const double> values) {
  if (values.empty()) return detail::kNaN;
  switch (fn) {
    case AggFn::kAvg:
      return std::accumulate(values.begin(), values.end(), 0.0) /
             static_cast<double>(values.size());
    case AggFn::kMin:
      return detail::extreme(values, [](double a, double b) { return a < b; });
    case AggFn::kMax:
      return detail::extreme(values, [](double a, double b) { return a > b; });
    case AggFn::kSum:
      return std::accumulate(values.begin(), values.end(), 0.0);
    case AggFn::kCount:
      return static_cast<double>(values.size());
    case AggFn::kLast:
      return values.back();
    case AggFn::kP50:
      return detail::quantile(0.50, values);
    case AggFn::kP90:
      return detail::quantile(0.90, values);
    case AggFn::kP95:
      return detail::quantile(0.95, values);
    case AggFn::kP99:
      return detail::quantile(0.99, values);
  }
  return detail::kNaN;
}

double counter_increase(std::span<const Sample> samples, CounterWidth width) {
  double total = 0;
  std::size_t used = 0;
  double prev = 0;
  for (const Sample& s : samples) {
    if (std::isnan(s.v)) continue;
    if (used > 0) total += detail::counter_delta(prev, s.v, width);
    prev = s.v;
    ++used;
  }
  return used < 2 ? detail::kNaN : total;
}

double counter_rate(std::span<const Sample> samples, CounterWidth width) {
  const auto is_value = [](const Sample& s) { return !std::isnan(s.v); };
  const auto first = std::find_if(samples.begin(), samples.end(), is_value);
  const auto last = std::find_if(samples.rbegin(), samples.rend(), is_value);
  if (first == samples.end() || &*first == &*last || last->t <= first->t) return detail::kNaN;
  const double seconds = static_cast<double>(last->t - first->t) / 1000.0;
  return counter_increase(samples, width) / seconds;
}

std::vector<Sample> step_aggregate(std::span<const Sample> samples, Timestamp start, Timestamp end,
                                   Timestamp step, AggFn fn) {
  std::vector<Sample> out;
  if (step <= 0 || end <= start) return out;
  std::vector<Sample> storage;
  const auto sorted = detail::sorted_by_time(samples, storage);

  std::vector<double> bucket_values;
  std::uint64_t bucket = 0;
  // Unsigned offsets from `start` cannot overflow: every counted t lies in [start, end).
  const auto flush = [&] {
    if (bucket_values.empty()) return;
    const auto offset = static_cast<std::int64_t>(bucket * static_cast<std::uint64_t>(step));
    out.push_back({start + offset, aggregate(fn, bucket_values)});
    bucket_values.clear();
  };
  for (const Sample& s : sorted) {
    if (s.t < start) continue;
    if (s.t >= end) break;
    const std::uint64_t offset =
        static_cast<std::uint64_t>(s.t) - static_cast<std::uint64_t>(start);
    const std::uint64_t index = offset / static_cast<std::uint64_t>(step);
    if (index != bucket) {
      flush();
      bucket = index;
    }
    bucket_values.push_back(s.v);
  }
  flush();
  return out;
}

std::vector<Sample> downsample_min_max(std::span<const Sample> samples, std::size_t max_points) {
  if (samples.size() <= max_points) return {samples.begin(), samples.end()};
  if (max_points == 0) return {};
  std::vector<Sample> storage;
  const auto sorted = detail::sorted_by_time(samples, storage);

  // Index of the smallest (or, with `largest`, the biggest) non-NaN value in [begin, end); the
  // first one on ties; `begin` when all are NaN.
  const auto extreme_index = [&](std::size_t begin, std::size_t end, bool largest) {
    std::size_t best = begin;
    for (std::size_t i = begin; i < end; ++i) {
      const double v = sorted[i].v;
      if (std::isnan(v)) continue;
      const double b = sorted[best].v;
      if (std::isnan(b) || (largest ? v > b : v < b)) best = i;
    }
    return best;
  };

  if (max_points == 1) return {sorted[extreme_index(0, sorted.size(), true)]};

  const std::size_t buckets = max_points / 2;
  const std::size_t n = sorted.size();
  std::vector<Sample> out;
  out.reserve(buckets * 2);
  for (std::size_t b = 0; b < buckets; ++b) {
    // b * n < max_points * n < n * n: no overflow for any series below 2^32 samples.
    const std::size_t begin = b * n / buckets;
    const std::size_t end = (b + 1) * n / buckets;
    const std::size_t lo = extreme_index(begin, end, false);
    const std::size_t hi = extreme_index(begin, end, true);
    out.push_back(sorted[std::min(lo, hi)]);
    if (lo != hi) out.push_back(sorted[std::max(lo, hi)]);
  }
  return out;
}

std::vector<std::size_t> top_k(std::span<const double> scores, std::size_t k) {
  std::vector<std::size_t> order(scores.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  const std::size_t count = std::min(k, order.size());
  // Strict weak order: non-NaN before NaN, then larger score first, then lower index first.
  const auto before = [&](std::size_t a, std::size_t b) {
    const bool a_nan = std::isnan(scores[a]);
    const bool b_nan = std::isnan(scores[b]);
    if (a_nan != b_nan) return b_nan;
    if (!a_nan && scores[a] != scores[b]) return scores[a] > scores[b];
    return a < b;
  };
  std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(count), order.end(),
                    before);
  order.resize(count);
  return order;
}

}  // namespace netpulse::tsdb

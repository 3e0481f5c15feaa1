// Window aggregates of one series (window_aggregate.hpp): a ring of time buckets for avg, min and
// max; for p95 also the newest raw values (exact, Prometheus' quantile_over_time) and a small
// histogram per bucket of power-of-two-wide bins (approximate, merged at query time).
#include <algorithm>
#include <cmath>
#include <limits>

#include <netpulse/alerts/window_aggregate.hpp>

namespace netpulse::alerts {

namespace {

constexpr double kQuantile = 0.95;
constexpr int kMergedBins = 64;       // the histogram p95 merges the window's buckets into
constexpr double kMaxIndex = 4.6e18;  // |bin index| kept below 2^62: no overflow when shifted

std::int64_t floor_div(std::int64_t a, std::int64_t b) noexcept {
  const std::int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

std::size_t slot(std::int64_t bucket) noexcept {
  constexpr std::int64_t kN = WindowAggregate::kBuckets;
  return static_cast<std::size_t>(((bucket % kN) + kN) % kN);
}

// The index of the 2^e-wide bin holding v, or nothing when it is too far out to count in bins.
std::optional<std::int64_t> bin_of(double v, int e) noexcept {
  const double x = std::floor(std::ldexp(v, -e));
  if (!(std::fabs(x) < kMaxIndex)) return std::nullopt;
  return static_cast<std::int64_t>(x);
}

// Bin index `i` at width 2^from seen at the coarser width 2^to (floor division by 2^(to-from)).
std::int64_t coarsen(std::int64_t i, int from, int to) noexcept {
  return i >> std::min(63, to - from);
}

}  // namespace

struct WindowAggregate::P95Part {
  using Bins = std::array<std::uint16_t, kHistogramBins>;

  std::array<double, kExactSamples> recent{};      // ring of the newest raw values
  std::array<Bins, kBuckets> bins{};               // per time bucket: counts per bin
  std::array<std::int64_t, kBuckets> first_bin{};  // per time bucket: bins[0]'s index
  std::array<std::int16_t, kBuckets> exponent{};   // per time bucket: bins are 2^exponent wide
  std::array<std::uint8_t, kBuckets> used_lo{};    // per time bucket: first and last bin in use,
  std::array<std::uint8_t, kBuckets> used_hi{};    // so reads skip the empty ends
  std::uint32_t recent_next = 0;                   // the ring slot the next value takes
  std::uint32_t recent_held = 0;                   // values in the ring (<= kExactSamples)

  void add(std::size_t s, double v, bool first_in_bucket) noexcept {
    recent[recent_next] = v;
    recent_next = (recent_next + 1) % kExactSamples;
    recent_held = std::min<std::uint32_t>(recent_held + 1, kExactSamples);
    if (first_in_bucket) {
      // Fine bins to start with (2^-40 of the value): widened as the bucket's range grows.
      exponent[s] = static_cast<std::int16_t>(v == 0 ? -60 : std::ilogb(v) - 40);
      first_bin[s] = *bin_of(v, exponent[s]) - kHistogramBins / 2;
      bins[s].fill(0);
      used_lo[s] = used_hi[s] = kHistogramBins / 2;
    }
    auto i = bin_of(v, exponent[s]);
    if (!i || *i < first_bin[s] || *i >= first_bin[s] + kHistogramBins) i = widen(s, v);
    const auto j = static_cast<std::uint8_t>(*i - first_bin[s]);
    used_lo[s] = std::min(used_lo[s], j);
    used_hi[s] = std::max(used_hi[s], j);
    auto& count = bins[s][j];
    if (count == UINT16_MAX) halve(bins[s]);
    ++count;
  }

  // Doubles bucket s's bin width until its occupied bins and v fit in kHistogramBins; returns
  // v's bin index at the new width.
  std::int64_t widen(std::size_t s, double v) noexcept {
    const Bins& old = bins[s];
    const int from = exponent[s];
    const std::int64_t lo = first_bin[s] + used_lo[s];
    const std::int64_t hi = first_bin[s] + used_hi[s];
    // Start near the width the range needs (ilogb of range / bins), then step up until it fits.
    const double range = std::max(std::fabs(v - std::ldexp(static_cast<double>(lo), from)),
                                  std::fabs(v - std::ldexp(static_cast<double>(hi + 1), from)));
    const double need = range / kHistogramBins;
    int to = std::isnormal(need) ? std::max(from, std::ilogb(need) - 1) : from;
    std::int64_t v_bin = 0;
    std::int64_t new_lo = 0;
    std::int64_t new_hi = 0;
    for (;;) {
      ++to;
      const auto i = bin_of(v, to);
      if (!i) continue;
      v_bin = *i;
      new_lo = std::min(coarsen(lo, from, to), v_bin);
      new_hi = std::max(coarsen(hi, from, to), v_bin);
      if (new_hi - new_lo < kHistogramBins) break;
    }
    const std::int64_t new_first = new_lo - (kHistogramBins - 1 - (new_hi - new_lo)) / 2;
    std::array<std::uint32_t, kHistogramBins> merged{};
    for (int j = 0; j < kHistogramBins; ++j) {
      const auto c = old[static_cast<std::size_t>(j)];
      if (c == 0) continue;
      merged[static_cast<std::size_t>(coarsen(first_bin[s] + j, from, to) - new_first)] += c;
    }
    while (*std::max_element(merged.begin(), merged.end()) >= UINT16_MAX) {
      for (auto& c : merged) c = (c + 1) / 2;
    }
    for (int j = 0; j < kHistogramBins; ++j) {
      bins[s][static_cast<std::size_t>(j)] =
          static_cast<std::uint16_t>(merged[static_cast<std::size_t>(j)]);
    }
    first_bin[s] = new_first;
    exponent[s] = static_cast<std::int16_t>(to);
    used_lo[s] = static_cast<std::uint8_t>(std::min(coarsen(lo, from, to), v_bin) - new_first);
    used_hi[s] = static_cast<std::uint8_t>(std::max(coarsen(hi, from, to), v_bin) - new_first);
    return v_bin;
  }

  // A bin about to overflow halves the bucket's bins: the merge weighs each bucket by its true
  // count over its bins' sum, so only the resolution of that bucket's counts is lost.
  static void halve(Bins& b) noexcept {
    for (auto& c : b) c = static_cast<std::uint16_t>((c + 1) / 2);
  }

  // Prometheus' quantile_over_time over the `n` values taken before the newest `skip`.
  double exact(std::uint32_t n, std::uint32_t skip) const noexcept {
    std::array<double, kExactSamples> v{};
    for (std::uint32_t k = 0; k < n; ++k) {
      v[k] = recent[(recent_next + 2 * kExactSamples - skip - n + k) % kExactSamples];
    }
    const auto end = v.begin() + n;
    const double rank = kQuantile * (n - 1);
    const auto lower = static_cast<std::ptrdiff_t>(rank);
    std::nth_element(v.begin(), v.begin() + lower, end);
    const double lo = v[static_cast<std::size_t>(lower)];
    if (lower + 1 >= static_cast<std::ptrdiff_t>(n)) return lo;
    const double hi = *std::min_element(v.begin() + lower + 1, end);
    const double frac = rank - static_cast<double>(lower);
    return lo + (hi - lo) * frac;
  }
};

WindowAggregate::WindowAggregate(ConditionFn fn, std::int64_t window_s)
    : span_ms_(std::max<std::int64_t>(
          1, (std::max<std::int64_t>(1, window_s) * 1000 + kBuckets - 1) / kBuckets)),
      fn_(fn == ConditionFn::kValue || fn == ConditionFn::kRate ? ConditionFn::kAvg : fn),
      p95_(fn == ConditionFn::kP95 ? std::make_unique<P95Part>() : nullptr) {}

WindowAggregate::~WindowAggregate() = default;
WindowAggregate::WindowAggregate(WindowAggregate&&) noexcept = default;
WindowAggregate& WindowAggregate::operator=(WindowAggregate&&) noexcept = default;

std::size_t WindowAggregate::state_bytes() const noexcept {
  return sizeof(*this) + (p95_ ? sizeof(P95Part) : 0);
}

void WindowAggregate::advance_to(std::int64_t bucket) noexcept {
  if (head_bucket_ == INT64_MIN || bucket - head_bucket_ >= kBuckets) {
    counts_.fill(0);
    sum_ = 0;
    n_ = 0;
  } else {
    // The slot walks with the bucket number (one division for the first, none after).
    std::size_t s = slot(head_bucket_ + 1);
    for (std::int64_t b = head_bucket_ + 1; b <= bucket; ++b) {
      auto& count = counts_[s];
      if (count != 0 && fn_ == ConditionFn::kAvg) {
        sum_ -= agg_[s];
        n_ -= count;
      }
      count = 0;
      if (++s == kBuckets) s = 0;
    }
    // An empty window sums to exactly 0 again, whatever rounding the subtractions left.
    if (n_ == 0) sum_ = 0;
  }
  head_bucket_ = bucket;
}

void WindowAggregate::prefetch_buckets(std::int64_t at_ms) const noexcept {
  if (head_bucket_ == INT64_MIN) return;
  const std::int64_t b = floor_div(at_ms, span_ms_);
  // The bucket the sample lands in and the first one advance_to() clears on the way.
  for (const std::int64_t at : {b, std::min(b, head_bucket_ + 1)}) {
    __builtin_prefetch(&agg_[slot(at)]);
    __builtin_prefetch(&counts_[slot(at)]);
  }
}

void WindowAggregate::expire(std::int64_t now_ms) noexcept {
  const std::int64_t b = floor_div(now_ms, span_ms_);
  if (head_bucket_ != INT64_MIN && b > head_bucket_) advance_to(b);
}

void WindowAggregate::observe(std::int64_t at_ms, double value) noexcept {
  if (!std::isfinite(value) || at_ms <= last_ms_) return;
  const std::int64_t b = floor_div(at_ms, span_ms_);
  if (head_bucket_ != INT64_MIN && b <= head_bucket_ - kBuckets) return;  // expired already
  if (head_bucket_ == INT64_MIN || b > head_bucket_) advance_to(b);
  last_ms_ = at_ms;
  const std::size_t s = slot(b);
  const bool first = counts_[s] == 0;
  ++counts_[s];
  double& agg = agg_[s];
  switch (fn_) {
    case ConditionFn::kMin:
      agg = first ? value : std::min(agg, value);
      break;
    case ConditionFn::kMax:
      agg = first ? value : std::max(agg, value);
      break;
    case ConditionFn::kP95:
      p95_->add(s, value, first);
      break;
    default:
      agg = first ? value : agg + value;
      sum_ += value;
      ++n_;
      break;
  }
}

std::optional<double> WindowAggregate::value(std::int64_t now_ms) const {
  if (head_bucket_ == INT64_MIN) return std::nullopt;
  const std::int64_t now_bucket = floor_div(now_ms, span_ms_);
  // At the newest bucket every live bucket is in the window: the running sum answers.
  if (fn_ == ConditionFn::kAvg && now_bucket == head_bucket_) {
    if (n_ == 0) return std::nullopt;
    return sum_ / static_cast<double>(n_);
  }
  const std::int64_t lo = std::max(now_bucket, head_bucket_) - kBuckets + 1;
  const std::int64_t hi = std::min(now_bucket, head_bucket_);
  // One pass per fn over the live slots, walked without a division per bucket: value() is on
  // the engine's per-sample path.
  std::uint64_t n = 0;
  double acc = 0;
  auto each = [&](auto&& take) {
    std::size_t s = slot(lo);
    for (std::int64_t b = lo; b <= hi; ++b) {
      if (counts_[s] != 0) {
        take(agg_[s], n == 0);
        n += counts_[s];
      }
      if (++s == kBuckets) s = 0;
    }
  };
  switch (fn_) {
    case ConditionFn::kMin:
      each([&](double a, bool first) { acc = first ? a : std::min(acc, a); });
      break;
    case ConditionFn::kMax:
      each([&](double a, bool first) { acc = first ? a : std::max(acc, a); });
      break;
    default:
      each([&](double a, bool) { acc += a; });
      break;
  }
  if (n == 0) return std::nullopt;
  if (fn_ == ConditionFn::kAvg) return acc / static_cast<double>(n);
  if (fn_ != ConditionFn::kP95) return acc;
  // Samples in buckets after now's (value() asked about a time before the newest sample) are
  // the newest in the ring: the window's are the n before them.
  std::uint64_t newer = 0;
  for (std::int64_t b = std::max(hi + 1, head_bucket_ - kBuckets + 1); b <= head_bucket_; ++b) {
    newer += counts_[slot(b)];
  }
  if (n + newer <= p95_->recent_held) {
    return p95_->exact(static_cast<std::uint32_t>(n), static_cast<std::uint32_t>(newer));
  }
  return histogram_p95(lo, hi, static_cast<double>(n));
}

double WindowAggregate::histogram_p95(std::int64_t lo, std::int64_t hi, double n) const noexcept {
  const P95Part& p = *p95_;
  // Each live bucket's occupied bins and width; the merge starts at the coarsest width.
  struct Live {
    std::size_t s;
    std::int64_t lo;  // first and last occupied bin
    std::int64_t hi;
    double weight;  // true count over the bins' sum (they differ once a bucket halved)
  };
  std::array<Live, kBuckets> live{};
  std::size_t held = 0;
  int width = std::numeric_limits<int>::min();
  for (std::int64_t b = lo; b <= hi; ++b) {
    const std::size_t s = slot(b);
    if (counts_[s] == 0) continue;
    Live l{s, p.first_bin[s] + p.used_lo[s], p.first_bin[s] + p.used_hi[s], 0};
    double sum = 0;
    for (int j = p.used_lo[s]; j <= p.used_hi[s]; ++j)
      sum += p.bins[s][static_cast<std::size_t>(j)];
    l.weight = counts_[s] / sum;
    live[held++] = l;
    width = std::max<int>(width, p.exponent[s]);
  }
  std::int64_t first = 0;
  for (;; ++width) {
    std::int64_t a = std::numeric_limits<std::int64_t>::max();
    std::int64_t z = std::numeric_limits<std::int64_t>::min();
    for (std::size_t k = 0; k < held; ++k) {
      const int e = p.exponent[live[k].s];
      a = std::min(a, coarsen(live[k].lo, e, width));
      z = std::max(z, coarsen(live[k].hi, e, width));
    }
    first = a;
    if (z - a < kMergedBins) break;
  }
  std::array<double, kMergedBins> merged{};
  for (std::size_t k = 0; k < held; ++k) {
    const std::size_t s = live[k].s;
    for (int j = p.used_lo[s]; j <= p.used_hi[s]; ++j) {
      const auto c = p.bins[s][static_cast<std::size_t>(j)];
      if (c == 0) continue;
      const auto at = coarsen(p.first_bin[s] + j, p.exponent[s], width) - first;
      merged[static_cast<std::size_t>(at)] += c * live[k].weight;
    }
  }
  // The sample at rank r (0-based) sits at the middle of its share of its bin: position r + 0.5.
  const double position = kQuantile * (n - 1) + 0.5;
  double below = 0;
  std::size_t last_used = 0;
  for (std::size_t k = 0; k < merged.size(); ++k) {
    if (merged[k] == 0) continue;
    last_used = k;
    if (below + merged[k] >= position) {
      const double bin_start =
          std::ldexp(static_cast<double>(first + static_cast<std::int64_t>(k)), width);
      return bin_start + std::ldexp((position - below) / merged[k], width);
    }
    below += merged[k];
  }
  return std::ldexp(static_cast<double>(first + static_cast<std::int64_t>(last_used) + 1), width);
}

}  // namespace netpulse::alerts

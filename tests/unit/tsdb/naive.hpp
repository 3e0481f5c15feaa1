// Naive reference versions of the aggregations, for tests that check the real ones against them
// over random data: no sorting, no shortcuts, obviously right and slow.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <vector>

#include <netpulse/tsdb/aggregate.hpp>

namespace netpulse::test {

// The k-th smallest value (from 0) found by counting, without sorting.
inline double kth_smallest(const std::vector<double>& values, std::size_t k) {
  for (const double x : values) {
    const auto below = std::count_if(values.begin(), values.end(), [&](double y) { return y < x; });
    const auto at_most =
        std::count_if(values.begin(), values.end(), [&](double y) { return y <= x; });
    if (static_cast<std::size_t>(below) <= k && k < static_cast<std::size_t>(at_most)) return x;
  }
  return std::numeric_limits<double>::quiet_NaN();
}

inline double naive_quantile(double phi, const std::vector<double>& values) {
  const double rank = phi * static_cast<double>(values.size() - 1);
  const double lower = kth_smallest(values, static_cast<std::size_t>(std::floor(rank)));
  const double upper = kth_smallest(values, static_cast<std::size_t>(std::ceil(rank)));
  const double weight = rank - std::floor(rank);
  return lower + (upper - lower) * weight;
}

inline double naive(tsdb::AggFn fn, const std::vector<double>& values) {
  double sum = 0;
  for (const double v : values) sum += v;
  switch (fn) {
    case tsdb::AggFn::kAvg:
      return sum / static_cast<double>(values.size());
    case tsdb::AggFn::kMin:
      return kth_smallest(values, 0);
    case tsdb::AggFn::kMax:
      return kth_smallest(values, values.size() - 1);
    case tsdb::AggFn::kSum:
      return sum;
    case tsdb::AggFn::kCount:
      return static_cast<double>(values.size());
    case tsdb::AggFn::kLast:
      return values.back();
    case tsdb::AggFn::kP50:
      return naive_quantile(0.5, values);
    case tsdb::AggFn::kP90:
      return naive_quantile(0.9, values);
    case tsdb::AggFn::kP95:
      return naive_quantile(0.95, values);
    case tsdb::AggFn::kP99:
      return naive_quantile(0.99, values);
  }
  return std::numeric_limits<double>::quiet_NaN();
}

}  // namespace netpulse::test

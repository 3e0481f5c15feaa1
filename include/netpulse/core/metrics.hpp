// MetricsRegistry: the server's own figures, rendered in the Prometheus text exposition format
// (version 0.0.4) at /metrics. Counters, gauges and histograms, each optionally labelled.
// Thread-safe: any thread may update; lookups lock briefly, updates are atomic. A metric
// returned by counter()/gauge()/histogram() lives as long as the registry, so hot paths look it up
// once and keep the reference.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace netpulse::core {

using Labels = std::vector<std::pair<std::string, std::string>>;

class Counter {
 public:
  void inc(double by = 1.0) noexcept;
  double value() const noexcept { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> v_{0};
};

class Gauge {
 public:
  void set(double v) noexcept { v_.store(v, std::memory_order_relaxed); }
  void add(double by) noexcept;
  double value() const noexcept { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> v_{0};
};

class Histogram {
 public:
  explicit Histogram(std::vector<double> upper_bounds);
  void observe(double v) noexcept;
  const std::vector<double>& bounds() const noexcept { return bounds_; }
  // Cumulative counts per bound (plus +Inf last), sum and count, as a consistent-enough snapshot.
  std::vector<std::uint64_t> cumulative_counts() const;
  double sum() const noexcept { return sum_.load(std::memory_order_relaxed); }
  std::uint64_t count() const noexcept { return count_.load(std::memory_order_relaxed); }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;  // bounds_.size() + 1 (+Inf)
  std::atomic<double> sum_{0};
  std::atomic<std::uint64_t> count_{0};
};

// Default latency buckets in seconds: 0.5 ms .. 10 s.
std::vector<double> default_latency_buckets();

class MetricsRegistry {
 public:
  Counter& counter(const std::string& name, const std::string& help, const Labels& labels = {});
  Gauge& gauge(const std::string& name, const std::string& help, const Labels& labels = {});
  Histogram& histogram(const std::string& name, const std::string& help,
                       const std::vector<double>& bounds, const Labels& labels = {});
  // A gauge whose value is computed at render time (e.g. queue depth, RSS). `fn` is called from
  // the rendering thread and must be thread-safe.
  void gauge_fn(const std::string& name, const std::string& help, std::function<double()> fn,
                const Labels& labels = {});
  // Same, rendered with TYPE counter (e.g. process CPU seconds).
  void counter_fn(const std::string& name, const std::string& help, std::function<double()> fn,
                  const Labels& labels = {});

  // The whole exposition, families in name order.
  std::string render() const;

 private:
  enum class Kind { kCounter, kGauge, kHistogram };
  struct Series {
    Labels labels;
    std::unique_ptr<Counter> counter;
    std::unique_ptr<Gauge> gauge;
    std::unique_ptr<Histogram> histogram;
    std::function<double()> fn;
  };
  struct Family {
    Kind kind = Kind::kCounter;
    std::string help;
    std::map<std::string, Series> series;  // keyed by rendered label set
  };
  Series& series_for(const std::string& name, Kind kind, const std::string& help,
                     const Labels& labels);

  mutable std::mutex mu_;
  std::map<std::string, Family> families_;
};

}  // namespace netpulse::core

// The metrics registry and its Prometheus text rendering (exposition format 0.0.4).
#include <cmath>

#include <fmt/format.h>

#include <netpulse/core/metrics.hpp>

namespace netpulse::core {

namespace {
void atomic_add(std::atomic<double>& a, double by) noexcept {
  double cur = a.load(std::memory_order_relaxed);
  while (!a.compare_exchange_weak(cur, cur + by, std::memory_order_relaxed)) {
  }
}

std::string escape_label_value(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

// HELP text escapes backslash and newline (exposition format 0.0.4).
std::string escape_help(std::string_view h) {
  std::string out;
  out.reserve(h.size());
  for (char c : h) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string render_labels(const Labels& labels, std::string_view extra_name = {},
                          std::string_view extra_value = {}) {
  if (labels.empty() && extra_name.empty()) return {};
  std::string out = "{";
  bool first = true;
  for (auto& [k, v] : labels) {
    if (!first) out += ',';
    first = false;
    out += fmt::format("{}=\"{}\"", k, escape_label_value(v));
  }
  if (!extra_name.empty()) {
    if (!first) out += ',';
    out += fmt::format("{}=\"{}\"", extra_name, extra_value);
  }
  out += '}';
  return out;
}

std::string format_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == std::floor(v) && std::fabs(v) < 1e15)
    return fmt::format("{}", static_cast<long long>(v));
  return fmt::format("{}", v);
}
}  // namespace

void Counter::inc(double by) noexcept {
  atomic_add(v_, by);
}
void Gauge::add(double by) noexcept {
  atomic_add(v_, by);
}

Histogram::Histogram(std::vector<double> upper_bounds)
    : bounds_(std::move(upper_bounds)),
      buckets_(new std::atomic<std::uint64_t>[bounds_.size() + 1]) {
  for (std::size_t i = 0; i <= bounds_.size(); ++i) buckets_[i] = 0;
}

void Histogram::observe(double v) noexcept {
  std::size_t i = 0;
  while (i < bounds_.size() && v > bounds_[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  atomic_add(sum_, v);
  count_.fetch_add(1, std::memory_order_relaxed);
}

std::vector<std::uint64_t> Histogram::cumulative_counts() const {
  std::vector<std::uint64_t> out(bounds_.size() + 1);
  std::uint64_t acc = 0;
  for (std::size_t i = 0; i <= bounds_.size(); ++i) {
    acc += buckets_[i].load(std::memory_order_relaxed);
    out[i] = acc;
  }
  return out;
}

std::vector<double> default_latency_buckets() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

MetricsRegistry::Series& MetricsRegistry::series_for(const std::string& name, Kind kind,
                                                     const std::string& help,
                                                     const Labels& labels) {
  auto& fam = families_[name];
  if (fam.series.empty()) {
    fam.kind = kind;
    fam.help = help;
  }
  auto key = render_labels(labels);
  auto& s = fam.series[key];
  if (s.labels.empty()) s.labels = labels;
  return s;
}

Counter& MetricsRegistry::counter(const std::string& name, const std::string& help,
                                  const Labels& labels) {
  std::lock_guard lock(mu_);
  auto& s = series_for(name, Kind::kCounter, help, labels);
  if (!s.counter) s.counter = std::make_unique<Counter>();
  return *s.counter;
}

Gauge& MetricsRegistry::gauge(const std::string& name, const std::string& help,
                              const Labels& labels) {
  std::lock_guard lock(mu_);
  auto& s = series_for(name, Kind::kGauge, help, labels);
  if (!s.gauge) s.gauge = std::make_unique<Gauge>();
  return *s.gauge;
}

Histogram& MetricsRegistry::histogram(const std::string& name, const std::string& help,
                                      const std::vector<double>& bounds, const Labels& labels) {
  std::lock_guard lock(mu_);
  auto& s = series_for(name, Kind::kHistogram, help, labels);
  if (!s.histogram) s.histogram = std::make_unique<Histogram>(bounds);
  return *s.histogram;
}

void MetricsRegistry::gauge_fn(const std::string& name, const std::string& help,
                               std::function<double()> fn, const Labels& labels) {
  std::lock_guard lock(mu_);
  series_for(name, Kind::kGauge, help, labels).fn = std::move(fn);
}

void MetricsRegistry::counter_fn(const std::string& name, const std::string& help,
                                 std::function<double()> fn, const Labels& labels) {
  std::lock_guard lock(mu_);
  series_for(name, Kind::kCounter, help, labels).fn = std::move(fn);
}

std::string MetricsRegistry::render() const {
  std::lock_guard lock(mu_);
  std::string out;
  out.reserve(4096);
  for (auto& [name, fam] : families_) {
    std::string_view type = fam.kind == Kind::kCounter ? "counter"
                            : fam.kind == Kind::kGauge ? "gauge"
                                                       : "histogram";
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, escape_help(fam.help), name, type);
    for (auto& [key, s] : fam.series) {
      if (s.histogram) {
        auto counts = s.histogram->cumulative_counts();
        auto& b = s.histogram->bounds();
        for (std::size_t i = 0; i < b.size(); ++i) {
          out += fmt::format("{}_bucket{} {}\n", name,
                             render_labels(s.labels, "le", format_value(b[i])), counts[i]);
        }
        out += fmt::format("{}_bucket{} {}\n", name, render_labels(s.labels, "le", "+Inf"),
                           counts.back());
        out += fmt::format("{}_sum{} {}\n", name, key, format_value(s.histogram->sum()));
        out += fmt::format("{}_count{} {}\n", name, key, counts.back());
      } else {
        double v = s.fn ? s.fn() : s.counter ? s.counter->value() : s.gauge ? s.gauge->value() : 0;
        out += fmt::format("{}{} {}\n", name, key, format_value(v));
      }
    }
  }
  return out;
}

}  // namespace netpulse::core

// The time-series store's value types: a sample (time + value), a label set, a series key.
// Times are milliseconds since the Unix epoch everywhere inside tsdb; edges that accept other
// units (line protocol precision, JSON seconds) convert explicitly and never guess.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace netpulse::tsdb {

// Milliseconds since the Unix epoch (UTC).
using Timestamp = std::int64_t;

struct Sample {
  Timestamp t = 0;
  double v = 0;
  friend bool operator==(const Sample&, const Sample&) = default;
};

// One label; a LabelSet is sorted by name with unique names (see normalize_labels()).
using Label = std::pair<std::string, std::string>;
using LabelSet = std::vector<Label>;

// A series: a metric name plus its labels.
struct SeriesKey {
  std::string metric;
  LabelSet labels;
  friend bool operator==(const SeriesKey&, const SeriesKey&) = default;
};

// Metric metadata (per org and metric name).
enum class MetricType : std::uint8_t { kUnknown, kGauge, kCounter };
std::string_view metric_type_name(MetricType t) noexcept;  // "unknown", "gauge", "counter"
std::optional<MetricType> parse_metric_type(std::string_view name);

struct MetricMetadata {
  std::string metric;
  MetricType type = MetricType::kUnknown;
  std::string unit;
  std::string help;
};

}  // namespace netpulse::tsdb

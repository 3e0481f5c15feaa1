// Names: the rules shared by every ingest path — Prometheus-style metric and label name checks,
// the sanitizing that maps foreign names (Influx measurements, field and tag keys) onto them, label
// value checks (UTF-8, size) and label set normalization (sorted, unique names) — and the stable
// names the tsdb prints for its enums (rollup tiers, metric types, refusal reasons), which the API
// and /metrics show and tsdb_metadata stores.
#include <algorithm>
#include <string>

#include <netpulse/tsdb/ingest_parse.hpp>
#include <netpulse/tsdb/store.hpp>
#include <netpulse/tsdb/types.hpp>

namespace netpulse::tsdb {
namespace detail {
namespace {

bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

std::string sanitize_name(std::string_view name, bool allow_colon) {
  std::string out;
  if (name.empty()) return out;
  out.reserve(name.size() + 1);
  if (is_digit(name.front())) out.push_back('_');
  for (char c : name) {
    const bool ok = is_alpha(c) || is_digit(c) || c == '_' || (allow_colon && c == ':');
    out.push_back(ok ? c : '_');
  }
  return out;
}

}  // namespace
}  // namespace detail

bool valid_metric_name(std::string_view name) {
  if (name.empty()) return false;
  if (!(detail::is_alpha(name[0]) || name[0] == '_' || name[0] == ':')) return false;
  return std::all_of(name.begin() + 1, name.end(), [](char c) {
    return detail::is_alpha(c) || detail::is_digit(c) || c == '_' || c == ':';
  });
}

bool valid_label_name(std::string_view name) {
  if (name.empty() || name.starts_with("__")) return false;
  if (!(detail::is_alpha(name[0]) || name[0] == '_')) return false;
  return std::all_of(name.begin() + 1, name.end(),
                     [](char c) { return detail::is_alpha(c) || detail::is_digit(c) || c == '_'; });
}

bool valid_utf8(std::string_view text) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const auto* end = p + text.size();
  while (p < end) {
    const unsigned char c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    std::size_t extra = 0;
    unsigned char lo = 0x80;
    unsigned char hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
      extra = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
      extra = 2;
      if (c == 0xE0) lo = 0xA0;  // overlong
      if (c == 0xED) hi = 0x9F;  // UTF-16 surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
      extra = 3;
      if (c == 0xF0) lo = 0x90;  // overlong
      if (c == 0xF4) hi = 0x8F;  // above U+10FFFF
    } else {
      return false;
    }
    if (static_cast<std::size_t>(end - p) <= extra) return false;
    if (p[1] < lo || p[1] > hi) return false;
    for (std::size_t i = 2; i <= extra; ++i) {
      if (p[i] < 0x80 || p[i] > 0xBF) return false;
    }
    p += extra + 1;
  }
  return true;
}

std::string sanitize_metric_name(std::string_view name) {
  return detail::sanitize_name(name, true);
}

std::string sanitize_label_name(std::string_view name) {
  return detail::sanitize_name(name, false);
}

std::string_view label_value_problem(std::string_view value, const ParseLimits& limits) {
  if (value.empty()) return "empty label value";
  if (value.size() > limits.max_label_value_bytes) return "label value longer than the limit";
  if (value.find('\0') != std::string_view::npos) return "label value contains a NUL byte";
  if (!valid_utf8(value)) return "label value is not valid UTF-8";
  return {};
}

core::Result<LabelSet> normalize_labels(LabelSet labels) {
  const auto by_name = [](const Label& a, const Label& b) { return a.first < b.first; };
  // Senders usually send labels already sorted; checking first saves the sort.
  if (!std::is_sorted(labels.begin(), labels.end(), by_name)) {
    std::sort(labels.begin(), labels.end(), by_name);
  }
  const auto dup =
      std::adjacent_find(labels.begin(), labels.end(),
                         [](const Label& a, const Label& b) { return a.first == b.first; });
  if (dup != labels.end()) {
    return core::invalid_field("labels", "duplicate label name '" + dup->first + "'");
  }
  return labels;
}

std::string_view tier_name(Tier tier) noexcept {
  switch (tier) {
    case Tier::k1m:
      return "1m";
    case Tier::k5m:
      return "5m";
    case Tier::k1h:
      return "1h";
  }
  return "?";
}

std::string_view metric_type_name(MetricType t) noexcept {
  switch (t) {
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kCounter:
      return "counter";
    case MetricType::kUnknown:
      break;
  }
  return "unknown";
}

std::optional<MetricType> parse_metric_type(std::string_view name) {
  if (name == "gauge") return MetricType::kGauge;
  if (name == "counter") return MetricType::kCounter;
  if (name == "unknown") return MetricType::kUnknown;
  return std::nullopt;
}

std::string_view refuse_reason_name(RefuseReason r) noexcept {
  switch (r) {
    case RefuseReason::kTooOld:
      return "too_old";
    case RefuseReason::kBeyondRetention:
      return "beyond_retention";
    case RefuseReason::kTooFarInFuture:
      return "too_far_in_future";
    case RefuseReason::kDuplicateConflict:
      return "duplicate_conflict";
    case RefuseReason::kNotFinite:
      return "not_finite";
    case RefuseReason::kSeriesLimit:
      return "series_limit";
  }
  return "unknown";
}

}  // namespace netpulse::tsdb

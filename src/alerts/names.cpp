// The names of the alerts vocabulary as the API and the database write them (rule.hpp).
#include <array>
#include <string_view>
#include <utility>

#include <netpulse/alerts/rule.hpp>
#include <netpulse/alerts/types.hpp>

namespace netpulse::alerts {
namespace {

template <class E, std::size_t N>
std::optional<E> parse_name(const std::array<std::string_view, N>& names, std::string_view name) {
  for (std::size_t i = 0; i < N; ++i) {
    if (names[i] == name) return static_cast<E>(i);
  }
  return std::nullopt;
}

constexpr std::array<std::string_view, 3> kSeverities{"info", "warning", "critical"};
constexpr std::array<std::string_view, 8> kKinds{"threshold",      "no_data",       "device_down",
                                                 "interface_down", "check_failing", "trap",
                                                 "anomaly",        "forecast"};
constexpr std::array<std::string_view, 6> kFns{"value", "rate", "avg", "min", "max", "p95"};
constexpr std::array<std::string_view, 6> kOps{">", ">=", "<", "<=", "==", "!="};
constexpr std::array<std::string_view, 4> kStatuses{"pending", "firing", "acknowledged",
                                                    "resolved"};

}  // namespace

std::string_view severity_name(Severity s) noexcept {
  return kSeverities[static_cast<std::size_t>(s)];
}
std::optional<Severity> parse_severity(std::string_view name) noexcept {
  return parse_name<Severity>(kSeverities, name);
}
std::string_view rule_kind_name(RuleKind k) noexcept {
  return kKinds[static_cast<std::size_t>(k)];
}
std::optional<RuleKind> parse_rule_kind(std::string_view name) noexcept {
  return parse_name<RuleKind>(kKinds, name);
}
std::string_view condition_fn_name(ConditionFn f) noexcept {
  return kFns[static_cast<std::size_t>(f)];
}
std::optional<ConditionFn> parse_condition_fn(std::string_view name) noexcept {
  return parse_name<ConditionFn>(kFns, name);
}
std::string_view compare_op_name(CompareOp op) noexcept {
  return kOps[static_cast<std::size_t>(op)];
}
std::optional<CompareOp> parse_compare_op(std::string_view name) noexcept {
  return parse_name<CompareOp>(kOps, name);
}

bool compare(CompareOp op, double value, double threshold) noexcept {
  switch (op) {
    case CompareOp::kGreater:
      return value > threshold;
    case CompareOp::kGreaterEqual:
      return value >= threshold;
    case CompareOp::kLess:
      return value < threshold;
    case CompareOp::kLessEqual:
      return value <= threshold;
    case CompareOp::kEqual:
      return value == threshold;
    case CompareOp::kNotEqual:
      return value != threshold;
  }
  return false;
}

std::string_view alert_status_name(AlertStatus s) noexcept {
  return kStatuses[static_cast<std::size_t>(s)];
}

std::optional<AlertStatus> parse_alert_status(std::string_view name) noexcept {
  return parse_name<AlertStatus>(kStatuses, name);
}

std::string_view incident_status_name(IncidentStatus s) noexcept {
  return s == IncidentStatus::kOpen ? "open" : "resolved";
}

}  // namespace netpulse::alerts

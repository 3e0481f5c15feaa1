// Alert rules: what an operator writes to say "tell me when ...". A rule has a name, a scope (which
// devices), a kind with its parameters, a for-duration, a severity, labels and annotations whose
// text is templated with the alert's fields ({device}, {value}, {labels.ifName}, ...).
// validate_rule() checks a rule as it is saved and names the offending field; evaluation (the
// engine) comes in later steps of the alerts issue and takes rules that passed it.
//
// docs/alerts.md describes every kind and field.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <netpulse/core/result.hpp>

namespace netpulse::alerts {

enum class Severity : std::uint8_t { kInfo, kWarning, kCritical };
std::string_view severity_name(Severity s) noexcept;  // "info", "warning", "critical"
std::optional<Severity> parse_severity(std::string_view name) noexcept;

enum class RuleKind : std::uint8_t {
  kThreshold,      // a selector's value (or rate, or window aggregate) against a threshold
  kNoData,         // a selected series goes stale for the for-duration
  kDeviceDown,     // a device's status is down (unreachable devices are symptoms, not roots)
  kInterfaceDown,  // an interface is operationally down while administratively up
  kCheckFailing,   // a service check fails, or its TLS certificate expires within N days
  kTrap,           // a trap matching an OID (and varbind patterns); an optional clearing trap
  kAnomaly,        // a value outside a learned hour-of-week baseline by N standard deviations
  kForecast,       // a linear trend over a window reaches a value within a horizon
};
std::string_view rule_kind_name(RuleKind k) noexcept;  // "threshold", "no_data", ...
std::optional<RuleKind> parse_rule_kind(std::string_view name) noexcept;

// What a threshold compares: the value itself, its per-second rate (counters, wraps and resets
// handled), or an aggregate over the last window_s seconds.
enum class ConditionFn : std::uint8_t { kValue, kRate, kAvg, kMin, kMax, kP95 };
std::string_view condition_fn_name(ConditionFn f) noexcept;  // "value", "rate", "avg", ...
std::optional<ConditionFn> parse_condition_fn(std::string_view name) noexcept;

enum class CompareOp : std::uint8_t {
  kGreater,
  kGreaterEqual,
  kLess,
  kLessEqual,
  kEqual,
  kNotEqual
};
std::string_view compare_op_name(CompareOp op) noexcept;  // ">", ">=", "<", "<=", "==", "!="
std::optional<CompareOp> parse_compare_op(std::string_view name) noexcept;
// `value op threshold`.
bool compare(CompareOp op, double value, double threshold) noexcept;

struct Condition {
  ConditionFn fn = ConditionFn::kValue;
  std::int64_t window_s = 0;  // avg/min/max/p95: 60 s .. 7 days; value/rate: 0
  CompareOp op = CompareOp::kGreater;
  double value = 0;
  // Hysteresis: once firing, the alert clears only when `value op clear` no longer holds
  // (fires above 90, clears below 80). Unset: it clears when the condition no longer holds.
  // Must lie on the clearing side of `value` (for > and >=: at most value; for < and <=: at
  // least value); not allowed with == and !=.
  std::optional<double> clear;

  friend bool operator==(const Condition&, const Condition&) = default;
};

// Which devices a rule applies to: every device of the organization when all lists are empty;
// otherwise a device matches when it is in device_ids, or in one of group_ids, or has one of
// tags, or is of one of device_types (any list that is given).
struct Scope {
  std::vector<std::int64_t> device_ids;
  std::vector<std::int64_t> group_ids;
  std::vector<std::string> tags;
  std::vector<std::string> device_types;  // devices::DeviceType names: "router", "cpe", ...

  friend bool operator==(const Scope&, const Scope&) = default;
};

// kTrap: the trap's OID (snmpTrapOID, dotted), patterns its varbinds must match (a varbind OID or
// known name such as "ifName" -> an RE2 regular expression over the value's text), and an
// optional OID of the trap that clears the alert (linkUp for linkDown).
struct TrapMatch {
  std::string trap_oid;
  std::map<std::string, std::string> varbinds;
  std::string clear_oid;

  friend bool operator==(const TrapMatch&, const TrapMatch&) = default;
};

struct AnomalyParams {
  double sensitivity = 3;  // standard deviations from the hour-of-week mean: 1..10
  std::int64_t warmup_s =
      std::int64_t{7} * 86'400;  // quiet until the baseline has seen this much: 1 h..90 d

  friend bool operator==(const AnomalyParams&, const AnomalyParams&) = default;
};

struct ForecastParams {
  std::int64_t window_s =
      std::int64_t{7} * 86'400;  // the trend is fitted over this much history: 1 h..90 d
  std::int64_t horizon_s =
      std::int64_t{7} * 86'400;  // fires when the trend reaches the threshold within it

  friend bool operator==(const ForecastParams&, const ForecastParams&) = default;
};

struct Rule {
  std::int64_t id = 0;
  std::int64_t org_id = 0;
  std::string name;  // 1..200 bytes
  RuleKind kind = RuleKind::kThreshold;
  // kThreshold, kNoData, kAnomaly, kForecast: a tsdb selector (`ifUtilization{ifName=~"xe-.*"}`).
  std::string selector;
  // kThreshold and kForecast (op and value: what the trend must reach).
  std::optional<Condition> condition;
  std::int64_t for_s = 0;  // how long the condition must hold before firing: 0 .. 7 days
  Severity severity = Severity::kWarning;
  Scope scope;
  std::map<std::string, std::string> labels;
  // summary, description, runbook_url (and others): templates over the alert's fields.
  std::map<std::string, std::string> annotations;
  bool enabled = true;
  std::int64_t tls_days = 0;  // kCheckFailing: also fire when a certificate expires within N days
  std::optional<TrapMatch> trap;           // kTrap
  std::optional<AnomalyParams> anomaly;    // kAnomaly
  std::optional<ForecastParams> forecast;  // kForecast

  friend bool operator==(const Rule&, const Rule&) = default;
};

// Checks a rule as it is saved: kInvalidInput with details.field naming the first offending
// field ("name", "selector", "condition.clear", "annotations.summary", "trap.varbinds.ifName",
// ...) and a reason. A selector must parse (tsdb syntax) but may name a metric no series has yet;
// regular expressions must compile (RE2); templates may use only the alert's fields. A kind's
// parameters are required for it and refused for the others.
core::Result<void> validate_rule(const Rule& rule);

}  // namespace netpulse::alerts

// validate_rule (rule.hpp): a rule is checked as it is saved, field by field, and the first
// problem is named so the operator can fix it — the engine only ever sees rules that passed.
#include <cmath>
#include <re2/re2.h>

#include <fmt/format.h>

#include <netpulse/alerts/annotation_template.hpp>
#include <netpulse/alerts/rule.hpp>
#include <netpulse/devices/types.hpp>
#include <netpulse/tsdb/selector.hpp>

namespace netpulse::alerts {
namespace {

constexpr std::int64_t kMaxForS = std::int64_t{7} * 86'400;
constexpr std::int64_t kMinWindowS = 60;
constexpr std::int64_t kMaxWindowS = std::int64_t{7} * 86'400;
constexpr std::int64_t kMinLongS = 3'600;
constexpr std::int64_t kMaxLongS = std::int64_t{90} * 86'400;
constexpr std::size_t kMaxScopeItems = 1'000;
constexpr std::size_t kMaxLabels = 32;
constexpr std::size_t kMaxAnnotations = 16;
constexpr std::size_t kMaxKeyBytes = 128;
constexpr std::size_t kMaxLabelValueBytes = 1'024;
constexpr std::size_t kMaxRegexBytes = 1'024;

bool key_ok(std::string_view k) {
  if (k.empty() || k.size() > kMaxKeyBytes) return false;
  for (std::size_t i = 0; i < k.size(); ++i) {
    const char c = k[i];
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    if (!letter && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

// A dotted OID: 2..128 decimal arcs, each below 2^32.
bool oid_ok(std::string_view s) {
  std::size_t arcs = 0;
  std::size_t i = 0;
  while (i <= s.size()) {
    std::uint64_t arc = 0;
    std::size_t digits = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      arc = arc * 10 + static_cast<std::uint64_t>(s[i] - '0');
      if (++digits > 10 || arc > 0xffff'ffffULL) return false;
      ++i;
    }
    if (digits == 0) return false;
    ++arcs;
    if (i == s.size()) break;
    if (s[i] != '.') return false;
    ++i;
  }
  return arcs >= 2 && arcs <= 128;
}

bool finite(double v) {
  return std::isfinite(v);
}

core::Result<void> check_scope(const Scope& s) {
  for (auto [list, name] :
       {std::pair{&s.device_ids, "scope.device_ids"}, std::pair{&s.group_ids, "scope.group_ids"}}) {
    if (list->size() > kMaxScopeItems)
      return core::invalid_field(name, fmt::format("at most {} ids", kMaxScopeItems));
    for (auto id : *list) {
      if (id <= 0) return core::invalid_field(name, "ids are positive integers");
    }
  }
  if (s.tags.size() > kMaxScopeItems)
    return core::invalid_field("scope.tags", fmt::format("at most {} tags", kMaxScopeItems));
  for (const auto& t : s.tags) {
    if (t.empty() || t.size() > kMaxKeyBytes)
      return core::invalid_field("scope.tags", "a tag is 1..128 bytes");
  }
  for (const auto& t : s.device_types) {
    if (!devices::parse_device_type(t)) {
      return core::invalid_field("scope.device_types",
                                 fmt::format("\"{}\" is not a device type", t));
    }
  }
  return core::ok();
}

core::Result<void> check_condition(const Condition& c, bool forecast) {
  if (!finite(c.value)) return core::invalid_field("condition.value", "must be a finite number");
  const bool windowed = c.fn == ConditionFn::kAvg || c.fn == ConditionFn::kMin ||
                        c.fn == ConditionFn::kMax || c.fn == ConditionFn::kP95;
  if (forecast && c.fn != ConditionFn::kValue) {
    return core::invalid_field("condition.fn", "a forecast compares the trend's value: \"value\"");
  }
  if (windowed && (c.window_s < kMinWindowS || c.window_s > kMaxWindowS)) {
    return core::invalid_field(
        "condition.window_s",
        fmt::format("{} needs a window of {} s .. 7 days", condition_fn_name(c.fn), kMinWindowS));
  }
  if (!windowed && c.window_s != 0) {
    return core::invalid_field("condition.window_s",
                               fmt::format("{} takes no window", condition_fn_name(c.fn)));
  }
  if (c.clear) {
    if (!finite(*c.clear)) return core::invalid_field("condition.clear", "must be a finite number");
    switch (c.op) {
      case CompareOp::kGreater:
      case CompareOp::kGreaterEqual:
        if (*c.clear > c.value)
          return core::invalid_field("condition.clear",
                                     "fires above the value: clear must be at most the value");
        break;
      case CompareOp::kLess:
      case CompareOp::kLessEqual:
        if (*c.clear < c.value)
          return core::invalid_field("condition.clear",
                                     "fires below the value: clear must be at least the value");
        break;
      case CompareOp::kEqual:
      case CompareOp::kNotEqual:
        return core::invalid_field("condition.clear", "== and != take no clear threshold");
    }
  }
  return core::ok();
}

core::Result<void> check_trap(const TrapMatch& t) {
  if (!oid_ok(t.trap_oid))
    return core::invalid_field("trap.trap_oid", "a dotted OID such as 1.3.6.1.6.3.1.1.5.3");
  if (!t.clear_oid.empty()) {
    if (!oid_ok(t.clear_oid))
      return core::invalid_field("trap.clear_oid", "a dotted OID such as 1.3.6.1.6.3.1.1.5.4");
  }
  if (t.varbinds.size() > kMaxLabels)
    return core::invalid_field("trap.varbinds", fmt::format("at most {} patterns", kMaxLabels));
  for (const auto& [object, pattern] : t.varbinds) {
    const std::string field = "trap.varbinds." + object;
    if (!key_ok(object) && !oid_ok(object))
      return core::invalid_field(field, "an object name (ifName) or a dotted OID");
    if (pattern.size() > kMaxRegexBytes)
      return core::invalid_field(field, fmt::format("at most {} bytes", kMaxRegexBytes));
    RE2::Options o;
    o.set_log_errors(false);
    RE2 re(pattern, o);
    if (!re.ok())
      return core::invalid_field(field, "not a valid regular expression: " + re.error());
  }
  return core::ok();
}

core::Result<void> check_texts(const Rule& r) {
  if (r.labels.size() > kMaxLabels)
    return core::invalid_field("labels", fmt::format("at most {} labels", kMaxLabels));
  for (const auto& [k, v] : r.labels) {
    if (!key_ok(k)) return core::invalid_field("labels." + k, "not a label name");
    if (v.size() > kMaxLabelValueBytes)
      return core::invalid_field("labels." + k,
                                 fmt::format("at most {} bytes", kMaxLabelValueBytes));
  }
  if (r.annotations.size() > kMaxAnnotations)
    return core::invalid_field("annotations",
                               fmt::format("at most {} annotations", kMaxAnnotations));
  for (const auto& [k, v] : r.annotations) {
    if (!key_ok(k)) return core::invalid_field("annotations." + k, "not an annotation name");
    auto t = AnnotationTemplate::parse(v, "annotations." + k);
    if (!t) return std::move(t).error();
  }
  return core::ok();
}

// A kind's own parameters: required for it, refused for the others (a typo'd kind must not keep
// half of another kind's rule).
core::Result<void> check_kind_parameters(const Rule& r) {
  const bool selects = r.kind == RuleKind::kThreshold || r.kind == RuleKind::kNoData ||
                       r.kind == RuleKind::kAnomaly || r.kind == RuleKind::kForecast;
  if (selects) {
    if (r.selector.empty())
      return core::invalid_field("selector",
                                 fmt::format("a {} rule needs a selector", rule_kind_name(r.kind)));
    if (auto s = tsdb::Selector::parse(r.selector); !s) {
      return core::invalid_field("selector", s.error().message);
    }
  } else if (!r.selector.empty()) {
    return core::invalid_field("selector",
                               fmt::format("a {} rule takes no selector", rule_kind_name(r.kind)));
  }
  const bool conditioned = r.kind == RuleKind::kThreshold || r.kind == RuleKind::kForecast;
  if (conditioned && !r.condition)
    return core::invalid_field("condition",
                               fmt::format("a {} rule needs a condition", rule_kind_name(r.kind)));
  if (!conditioned && r.condition)
    return core::invalid_field("condition",
                               fmt::format("a {} rule takes no condition", rule_kind_name(r.kind)));
  if (r.condition) {
    if (auto c = check_condition(*r.condition, r.kind == RuleKind::kForecast); !c) return c;
  }
  if ((r.kind == RuleKind::kTrap) != r.trap.has_value())
    return core::invalid_field(
        "trap", r.trap ? "only a trap rule takes trap" : "a trap rule needs trap.trap_oid");
  if (r.trap) {
    if (auto t = check_trap(*r.trap); !t) return t;
  }
  if ((r.kind == RuleKind::kAnomaly) != r.anomaly.has_value())
    return core::invalid_field("anomaly", r.anomaly ? "only an anomaly rule takes anomaly"
                                                    : "an anomaly rule needs anomaly");
  if (r.anomaly) {
    if (!finite(r.anomaly->sensitivity) || r.anomaly->sensitivity < 1 ||
        r.anomaly->sensitivity > 10)
      return core::invalid_field("anomaly.sensitivity", "1 .. 10 standard deviations");
    if (r.anomaly->warmup_s < kMinLongS || r.anomaly->warmup_s > kMaxLongS)
      return core::invalid_field("anomaly.warmup_s", "1 hour .. 90 days");
  }
  if ((r.kind == RuleKind::kForecast) != r.forecast.has_value())
    return core::invalid_field("forecast", r.forecast ? "only a forecast rule takes forecast"
                                                      : "a forecast rule needs forecast");
  if (r.forecast) {
    if (r.forecast->window_s < kMinLongS || r.forecast->window_s > kMaxLongS)
      return core::invalid_field("forecast.window_s", "1 hour .. 90 days");
    if (r.forecast->horizon_s < kMinLongS || r.forecast->horizon_s > kMaxLongS)
      return core::invalid_field("forecast.horizon_s", "1 hour .. 90 days");
  }
  if (r.tls_days != 0 && r.kind != RuleKind::kCheckFailing)
    return core::invalid_field("tls_days", "only a check_failing rule takes tls_days");
  if (r.tls_days < 0 || r.tls_days > 365) return core::invalid_field("tls_days", "0 .. 365 days");
  return core::ok();
}

}  // namespace

core::Result<void> validate_rule(const Rule& r) {
  if (r.name.empty() || r.name.size() > 200) return core::invalid_field("name", "1..200 bytes");
  if (r.for_s < 0 || r.for_s > kMaxForS) return core::invalid_field("for_s", "0 .. 7 days");
  if (auto s = check_scope(r.scope); !s) return s;
  if (auto k = check_kind_parameters(r); !k) return k;
  return check_texts(r);
}

}  // namespace netpulse::alerts

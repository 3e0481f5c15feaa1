// validate_rule (src/alerts/validation.cpp): every kind's good rule passes, and each way to get a
// rule wrong is refused naming the field an operator must fix.
#include <functional>
#include <limits>

#include <boost/json/serialize.hpp>
#include <catch2/catch.hpp>

#include <netpulse/alerts/rule.hpp>

using namespace netpulse;
using namespace netpulse::alerts;

namespace {

Rule cpu_high() {
  Rule r;
  r.name = "CPU high";
  r.kind = RuleKind::kThreshold;
  r.selector = R"(cpu_usage{host="web-01"})";
  r.condition = Condition{ConditionFn::kValue, 0, CompareOp::kGreater, 90, 80};
  r.for_s = 60;
  r.severity = Severity::kCritical;
  r.annotations = {{"summary", "{device} CPU at {value} %"}};
  return r;
}

Rule of_kind(RuleKind kind) {
  Rule r;
  r.name = std::string(rule_kind_name(kind));
  r.kind = kind;
  switch (kind) {
    case RuleKind::kThreshold:
      return cpu_high();
    case RuleKind::kNoData:
      r.selector = R"(ifHCInOctets{ifName=~"xe-.*"})";
      r.for_s = 900;
      break;
    case RuleKind::kAnomaly:
      r.selector = "latency_ms";
      r.anomaly = AnomalyParams{};
      break;
    case RuleKind::kForecast:
      r.selector = "storage_used_percent";
      r.condition = Condition{ConditionFn::kValue, 0, CompareOp::kGreaterEqual, 100, std::nullopt};
      r.forecast = ForecastParams{};
      break;
    case RuleKind::kTrap:
      r.trap = TrapMatch{"1.3.6.1.6.3.1.1.5.3", {{"ifName", "^xe-"}}, "1.3.6.1.6.3.1.1.5.4"};
      break;
    case RuleKind::kCheckFailing:
      r.tls_days = 14;
      break;
    case RuleKind::kDeviceDown:
    case RuleKind::kInterfaceDown:
      break;
  }
  return r;
}

}  // namespace

TEST_CASE("alert rules: a good rule of every kind passes", "[alerts][rules]") {
  for (auto kind :
       {RuleKind::kThreshold, RuleKind::kNoData, RuleKind::kDeviceDown, RuleKind::kInterfaceDown,
        RuleKind::kCheckFailing, RuleKind::kTrap, RuleKind::kAnomaly, RuleKind::kForecast}) {
    INFO(rule_kind_name(kind));
    auto r = validate_rule(of_kind(kind));
    if (!r) FAIL(r.error().message << " " << boost::json::serialize(r.error().details));
  }
  // Window aggregates and an unknown metric name (data may come later) pass too.
  auto r = cpu_high();
  r.selector = "not_yet_seen_metric";
  r.condition = Condition{ConditionFn::kP95, 300, CompareOp::kGreater, 80, 70};
  CHECK(validate_rule(r));
}

TEST_CASE("alert rules: each mistake is refused naming its field", "[alerts][rules]") {
  struct Case {
    const char* what;
    std::function<void(Rule&)> spoil;
    const char* field;
  };
  const std::vector<Case> cases{
      {"empty name", [](Rule& r) { r.name.clear(); }, "name"},
      {"long name", [](Rule& r) { r.name.assign(201, 'n'); }, "name"},
      {"negative for", [](Rule& r) { r.for_s = -1; }, "for_s"},
      {"for over a week", [](Rule& r) { r.for_s = 8 * 86'400; }, "for_s"},
      {"bad selector", [](Rule& r) { r.selector = "cpu{host="; }, "selector"},
      {"bad regex in selector", [](Rule& r) { r.selector = R"(cpu{host=~"(("})"; }, "selector"},
      {"no selector", [](Rule& r) { r.selector.clear(); }, "selector"},
      {"no condition", [](Rule& r) { r.condition.reset(); }, "condition"},
      {"NaN threshold",
       [](Rule& r) { r.condition->value = std::numeric_limits<double>::quiet_NaN(); },
       "condition.value"},
      {"clear above a > threshold", [](Rule& r) { r.condition->clear = 95; }, "condition.clear"},
      {"clear below a < threshold",
       [](Rule& r) {
         r.condition->op = CompareOp::kLess;
         r.condition->value = 10;
         r.condition->clear = 5;
       },
       "condition.clear"},
      {"clear with ==",
       [](Rule& r) {
         r.condition->op = CompareOp::kEqual;
         r.condition->clear = 90;
       },
       "condition.clear"},
      {"avg without a window", [](Rule& r) { r.condition->fn = ConditionFn::kAvg; },
       "condition.window_s"},
      {"value with a window", [](Rule& r) { r.condition->window_s = 300; }, "condition.window_s"},
      {"zero scope id", [](Rule& r) { r.scope.device_ids = {0}; }, "scope.device_ids"},
      {"unknown device type", [](Rule& r) { r.scope.device_types = {"toaster"}; },
       "scope.device_types"},
      {"bad label name",
       [](Rule& r) {
         r.labels = {{"9team", "noc"}};
       },
       "labels.9team"},
      {"unknown template field", [](Rule& r) { r.annotations["summary"] = "{devcie} down"; },
       "annotations.summary"},
      {"1 MB annotation", [](Rule& r) { r.annotations["description"] = std::string(1 << 20, 'x'); },
       "annotations.description"},
      {"trap parameters on a threshold rule",
       [](Rule& r) {
         r.trap = TrapMatch{"1.3.6.1.6.3.1.1.5.3", {}, ""};
       },
       "trap"},
      {"tls_days on a threshold rule", [](Rule& r) { r.tls_days = 14; }, "tls_days"},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    auto r = cpu_high();
    c.spoil(r);
    auto v = validate_rule(r);
    REQUIRE_FALSE(v);
    CHECK(v.error().code == core::Errc::kInvalidInput);
    CHECK(v.error().details.at("field").as_string() == c.field);
  }
}

TEST_CASE("alert rules: each kind's own parameters are checked", "[alerts][rules]") {
  struct Case {
    const char* what;
    RuleKind kind;
    std::function<void(Rule&)> spoil;
    const char* field;
  };
  const std::vector<Case> cases{
      {"device_down with a selector", RuleKind::kDeviceDown, [](Rule& r) { r.selector = "up"; },
       "selector"},
      {"trap without trap", RuleKind::kTrap, [](Rule& r) { r.trap.reset(); }, "trap"},
      {"trap OID not dotted", RuleKind::kTrap, [](Rule& r) { r.trap->trap_oid = "linkDown"; },
       "trap.trap_oid"},
      {"trap OID arc too large", RuleKind::kTrap,
       [](Rule& r) { r.trap->trap_oid = "1.3.6.1.99999999999"; }, "trap.trap_oid"},
      {"clear OID bad", RuleKind::kTrap, [](Rule& r) { r.trap->clear_oid = "1..3"; },
       "trap.clear_oid"},
      {"varbind pattern not a regex", RuleKind::kTrap,
       [](Rule& r) {
         r.trap->varbinds = {{"ifName", "(["}};
       },
       "trap.varbinds.ifName"},
      {"varbind object neither name nor OID", RuleKind::kTrap,
       [](Rule& r) {
         r.trap->varbinds = {{"if name", "x"}};
       },
       "trap.varbinds.if name"},
      {"anomaly sensitivity 0", RuleKind::kAnomaly, [](Rule& r) { r.anomaly->sensitivity = 0; },
       "anomaly.sensitivity"},
      {"anomaly warm-up of a minute", RuleKind::kAnomaly, [](Rule& r) { r.anomaly->warmup_s = 60; },
       "anomaly.warmup_s"},
      {"anomaly without anomaly", RuleKind::kAnomaly, [](Rule& r) { r.anomaly.reset(); },
       "anomaly"},
      {"forecast horizon of a year", RuleKind::kForecast,
       [](Rule& r) { r.forecast->horizon_s = 365 * 86'400; }, "forecast.horizon_s"},
      {"forecast over a rate", RuleKind::kForecast,
       [](Rule& r) { r.condition->fn = ConditionFn::kRate; }, "condition.fn"},
      {"forecast without condition", RuleKind::kForecast, [](Rule& r) { r.condition.reset(); },
       "condition"},
      {"no_data with a condition", RuleKind::kNoData, [](Rule& r) { r.condition = Condition{}; },
       "condition"},
      {"tls_days over a year", RuleKind::kCheckFailing, [](Rule& r) { r.tls_days = 400; },
       "tls_days"},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    auto r = of_kind(c.kind);
    c.spoil(r);
    auto v = validate_rule(r);
    REQUIRE_FALSE(v);
    CHECK(v.error().details.at("field").as_string() == c.field);
  }
}

TEST_CASE("alert rules: names round-trip and comparisons hold", "[alerts][rules]") {
  for (auto s : {Severity::kInfo, Severity::kWarning, Severity::kCritical})
    CHECK(parse_severity(severity_name(s)) == s);
  for (auto k :
       {RuleKind::kThreshold, RuleKind::kNoData, RuleKind::kDeviceDown, RuleKind::kInterfaceDown,
        RuleKind::kCheckFailing, RuleKind::kTrap, RuleKind::kAnomaly, RuleKind::kForecast})
    CHECK(parse_rule_kind(rule_kind_name(k)) == k);
  CHECK(parse_condition_fn("p95") == ConditionFn::kP95);
  CHECK_FALSE(parse_condition_fn("p99"));
  CHECK(parse_compare_op(">=") == CompareOp::kGreaterEqual);
  CHECK_FALSE(parse_compare_op("=>"));
  CHECK_FALSE(parse_severity("Critical"));
  CHECK(compare(CompareOp::kGreater, 91, 90));
  CHECK_FALSE(compare(CompareOp::kGreater, 90, 90));
  CHECK(compare(CompareOp::kGreaterEqual, 90, 90));
  CHECK(compare(CompareOp::kLess, 1, 2));
  CHECK(compare(CompareOp::kLessEqual, 2, 2));
  CHECK(compare(CompareOp::kEqual, 2, 2));
  CHECK(compare(CompareOp::kNotEqual, 2, 3));
}

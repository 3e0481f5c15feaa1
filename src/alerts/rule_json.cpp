// Rules to and from JSON (rule_json.hpp): the API's body and the stored form. Every field is read
// with its type checked and its name in the error; unknown fields are refused.
#include <initializer_list>
#include <string_view>

#include <netpulse/alerts/rule_json.hpp>

#include "detail/json_fields.hpp"

namespace netpulse::alerts {
namespace {

using boost::json::object;
using boost::json::value;

using detail::get_bool;
using detail::get_ids;
using detail::get_int;
using detail::get_number;
using detail::get_object;
using detail::get_string;
using detail::get_string_map;
using detail::get_strings;

core::Result<void> only(const object& o, std::string_view prefix,
                        std::initializer_list<std::string_view> allowed) {
  return detail::only_fields(o, prefix, allowed, "an alert rule");
}

core::Result<Condition> read_condition(const object& o) {
  if (auto r = only(o, "condition", {"fn", "op", "value", "clear", "window_s"}); !r)
    return std::move(r).error();
  Condition c;
  auto fn = get_string(o, "condition", "fn");
  if (!fn) return std::move(fn).error();
  if (*fn) {
    auto f = parse_condition_fn(**fn);
    if (!f) return core::invalid_field("condition.fn", "value, rate, avg, min, max or p95");
    c.fn = *f;
  }
  auto op = get_string(o, "condition", "op");
  if (!op) return std::move(op).error();
  if (!*op) return core::invalid_field("condition.op", "required: >, >=, <, <=, == or !=");
  auto parsed_op = parse_compare_op(**op);
  if (!parsed_op) return core::invalid_field("condition.op", ">, >=, <, <=, == or !=");
  c.op = *parsed_op;
  auto threshold = get_number(o, "condition", "value");
  if (!threshold) return std::move(threshold).error();
  if (!*threshold) return core::invalid_field("condition.value", "required: a number");
  c.value = **threshold;
  auto clear = get_number(o, "condition", "clear");
  if (!clear) return std::move(clear).error();
  c.clear = *clear;
  auto window = get_int(o, "condition", "window_s");
  if (!window) return std::move(window).error();
  c.window_s = window->value_or(0);
  return c;
}

core::Result<Scope> read_scope(const object& o) {
  if (auto r = only(o, "scope", {"device_ids", "group_ids", "tags", "device_types"}); !r)
    return std::move(r).error();
  Scope s;
  auto devices = get_ids(o, "scope", "device_ids");
  if (!devices) return std::move(devices).error();
  s.device_ids = std::move(*devices);
  auto groups = get_ids(o, "scope", "group_ids");
  if (!groups) return std::move(groups).error();
  s.group_ids = std::move(*groups);
  auto tags = get_strings(o, "scope", "tags");
  if (!tags) return std::move(tags).error();
  s.tags = std::move(*tags);
  auto types = get_strings(o, "scope", "device_types");
  if (!types) return std::move(types).error();
  s.device_types = std::move(*types);
  return s;
}

core::Result<TrapMatch> read_trap(const object& o) {
  if (auto r = only(o, "trap", {"trap_oid", "varbinds", "clear_oid"}); !r)
    return std::move(r).error();
  TrapMatch t;
  auto oid = get_string(o, "trap", "trap_oid");
  if (!oid) return std::move(oid).error();
  if (!*oid) return core::invalid_field("trap.trap_oid", "required: the trap's OID");
  t.trap_oid = std::move(**oid);
  auto varbinds = get_string_map(o, "trap", "varbinds");
  if (!varbinds) return std::move(varbinds).error();
  t.varbinds = std::move(*varbinds);
  auto clear = get_string(o, "trap", "clear_oid");
  if (!clear) return std::move(clear).error();
  t.clear_oid = clear->value_or("");
  return t;
}

core::Result<AnomalyParams> read_anomaly(const object& o) {
  if (auto r = only(o, "anomaly", {"sensitivity", "warmup_s"}); !r) return std::move(r).error();
  AnomalyParams a;
  auto sensitivity = get_number(o, "anomaly", "sensitivity");
  if (!sensitivity) return std::move(sensitivity).error();
  if (*sensitivity) a.sensitivity = **sensitivity;
  auto warmup = get_int(o, "anomaly", "warmup_s");
  if (!warmup) return std::move(warmup).error();
  if (*warmup) a.warmup_s = **warmup;
  return a;
}

core::Result<ForecastParams> read_forecast(const object& o) {
  if (auto r = only(o, "forecast", {"window_s", "horizon_s"}); !r) return std::move(r).error();
  ForecastParams f;
  auto window = get_int(o, "forecast", "window_s");
  if (!window) return std::move(window).error();
  if (*window) f.window_s = **window;
  auto horizon = get_int(o, "forecast", "horizon_s");
  if (!horizon) return std::move(horizon).error();
  if (*horizon) f.horizon_s = **horizon;
  return f;
}

}  // namespace

core::Result<Rule> rule_from_json(const value& body) {
  if (!body.is_object()) return core::invalid_field("body", "the rule must be a JSON object");
  const auto& o = body.get_object();
  if (auto r =
          only(o, "",
               {"id", "name", "kind", "selector", "condition", "for_s", "severity", "scope",
                "labels", "annotations", "enabled", "tls_days", "trap", "anomaly", "forecast"});
      !r)
    return std::move(r).error();
  Rule rule;
  auto name = get_string(o, "", "name");
  if (!name) return std::move(name).error();
  if (!*name) return core::invalid_field("name", "required");
  rule.name = std::move(**name);
  auto kind = get_string(o, "", "kind");
  if (!kind) return std::move(kind).error();
  if (!*kind) return core::invalid_field("kind", "required");
  auto parsed_kind = parse_rule_kind(**kind);
  if (!parsed_kind) {
    return core::invalid_field("kind",
                               "threshold, no_data, device_down, interface_down, check_failing, "
                               "trap, anomaly or forecast");
  }
  rule.kind = *parsed_kind;
  auto selector = get_string(o, "", "selector");
  if (!selector) return std::move(selector).error();
  rule.selector = selector->value_or("");
  auto condition = get_object(o, "", "condition");
  if (!condition) return std::move(condition).error();
  if (*condition) {
    auto c = read_condition(**condition);
    if (!c) return std::move(c).error();
    rule.condition = *c;
  }
  auto for_s = get_int(o, "", "for_s");
  if (!for_s) return std::move(for_s).error();
  rule.for_s = for_s->value_or(0);
  auto severity = get_string(o, "", "severity");
  if (!severity) return std::move(severity).error();
  if (*severity) {
    auto s = parse_severity(**severity);
    if (!s) return core::invalid_field("severity", "info, warning or critical");
    rule.severity = *s;
  }
  auto scope = get_object(o, "", "scope");
  if (!scope) return std::move(scope).error();
  if (*scope) {
    auto s = read_scope(**scope);
    if (!s) return std::move(s).error();
    rule.scope = std::move(*s);
  }
  auto labels = get_string_map(o, "", "labels");
  if (!labels) return std::move(labels).error();
  rule.labels = std::move(*labels);
  auto annotations = get_string_map(o, "", "annotations");
  if (!annotations) return std::move(annotations).error();
  rule.annotations = std::move(*annotations);
  auto enabled = get_bool(o, "", "enabled");
  if (!enabled) return std::move(enabled).error();
  rule.enabled = enabled->value_or(true);
  auto tls_days = get_int(o, "", "tls_days");
  if (!tls_days) return std::move(tls_days).error();
  rule.tls_days = tls_days->value_or(0);
  auto trap = get_object(o, "", "trap");
  if (!trap) return std::move(trap).error();
  if (*trap) {
    auto t = read_trap(**trap);
    if (!t) return std::move(t).error();
    rule.trap = std::move(*t);
  }
  auto anomaly = get_object(o, "", "anomaly");
  if (!anomaly) return std::move(anomaly).error();
  if (*anomaly) {
    auto a = read_anomaly(**anomaly);
    if (!a) return std::move(a).error();
    rule.anomaly = *a;
  }
  auto forecast = get_object(o, "", "forecast");
  if (!forecast) return std::move(forecast).error();
  if (*forecast) {
    auto f = read_forecast(**forecast);
    if (!f) return std::move(f).error();
    rule.forecast = *f;
  }
  if (auto v = validate_rule(rule); !v) return std::move(v).error();
  return rule;
}

object rule_to_json(const Rule& r) {
  object o;
  if (r.id != 0) o["id"] = r.id;
  o["name"] = r.name;
  o["kind"] = rule_kind_name(r.kind);
  if (!r.selector.empty()) o["selector"] = r.selector;
  if (r.condition) {
    object c{{"fn", condition_fn_name(r.condition->fn)},
             {"op", compare_op_name(r.condition->op)},
             {"value", r.condition->value}};
    if (r.condition->window_s != 0) c["window_s"] = r.condition->window_s;
    if (r.condition->clear) c["clear"] = *r.condition->clear;
    o["condition"] = std::move(c);
  }
  o["for_s"] = r.for_s;
  o["severity"] = severity_name(r.severity);
  boost::json::array devices(r.scope.device_ids.begin(), r.scope.device_ids.end());
  boost::json::array groups(r.scope.group_ids.begin(), r.scope.group_ids.end());
  boost::json::array tags;
  for (const auto& t : r.scope.tags) tags.emplace_back(t);
  boost::json::array types;
  for (const auto& t : r.scope.device_types) types.emplace_back(t);
  o["scope"] = object{{"device_ids", std::move(devices)},
                      {"group_ids", std::move(groups)},
                      {"tags", std::move(tags)},
                      {"device_types", std::move(types)}};
  object labels;
  for (const auto& [k, v] : r.labels) labels[k] = v;
  o["labels"] = std::move(labels);
  object annotations;
  for (const auto& [k, v] : r.annotations) annotations[k] = v;
  o["annotations"] = std::move(annotations);
  o["enabled"] = r.enabled;
  if (r.tls_days != 0) o["tls_days"] = r.tls_days;
  if (r.trap) {
    object varbinds;
    for (const auto& [k, v] : r.trap->varbinds) varbinds[k] = v;
    object t{{"trap_oid", r.trap->trap_oid}, {"varbinds", std::move(varbinds)}};
    if (!r.trap->clear_oid.empty()) t["clear_oid"] = r.trap->clear_oid;
    o["trap"] = std::move(t);
  }
  if (r.anomaly)
    o["anomaly"] =
        object{{"sensitivity", r.anomaly->sensitivity}, {"warmup_s", r.anomaly->warmup_s}};
  if (r.forecast)
    o["forecast"] =
        object{{"window_s", r.forecast->window_s}, {"horizon_s", r.forecast->horizon_s}};
  return o;
}

}  // namespace netpulse::alerts

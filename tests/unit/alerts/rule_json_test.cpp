// Rules to and from JSON (src/alerts/rule_json.cpp): the issue's example body reads as written,
// every kind survives a round trip, and a malformed body is refused naming the field.
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <catch2/catch.hpp>

#include <netpulse/alerts/rule_json.hpp>

using namespace netpulse;
using namespace netpulse::alerts;

namespace {

boost::json::value parse(const char* text) {
  boost::system::error_code ec;
  auto v = boost::json::parse(text, ec);
  REQUIRE_FALSE(ec);
  return v;
}

}  // namespace

TEST_CASE("alert rule JSON: the documented body reads as written", "[alerts][rules][json]") {
  auto r = rule_from_json(parse(R"({"name": "CPU high", "kind": "threshold",
      "selector": "cpu_usage{host=\"web-01\"}",
      "condition": {"fn": "value", "op": ">", "value": 90, "clear": 80}, "for_s": 60,
      "severity": "critical", "scope": {"device_ids": [], "group_ids": [], "tags": []},
      "labels": {}, "annotations": {"summary": "{device} CPU at {value} %"}, "enabled": true})"));
  if (!r) FAIL(r.error().message << " " << boost::json::serialize(r.error().details));
  CHECK(r->name == "CPU high");
  CHECK(r->kind == RuleKind::kThreshold);
  CHECK(r->selector == R"(cpu_usage{host="web-01"})");
  REQUIRE(r->condition);
  CHECK(r->condition->fn == ConditionFn::kValue);
  CHECK(r->condition->op == CompareOp::kGreater);
  CHECK(r->condition->value == 90);
  CHECK(r->condition->clear == 80);
  CHECK(r->for_s == 60);
  CHECK(r->severity == Severity::kCritical);
  CHECK(r->annotations.at("summary") == "{device} CPU at {value} %");
  CHECK(r->enabled);
  // The short form of another kind, with the defaults.
  auto down = rule_from_json(parse(R"({"name": "Device down", "kind": "device_down"})"));
  REQUIRE(down);
  CHECK(down->severity == Severity::kWarning);
  CHECK(down->for_s == 0);
  CHECK(down->enabled);
  CHECK(down->scope == Scope{});
}

TEST_CASE("alert rule JSON: every kind survives a round trip", "[alerts][rules][json]") {
  const char* bodies[] = {
      R"({"name":"a","kind":"threshold","selector":"ifUtilization{ifName=~\"xe-.*\"}",
          "condition":{"fn":"p95","window_s":600,"op":">=","value":90,"clear":80},"for_s":600,
          "severity":"warning","scope":{"device_ids":[1,2],"group_ids":[3],"tags":["core"],
          "device_types":["router"]},"labels":{"team":"noc"},
          "annotations":{"summary":"{device} {labels.ifName} at {value} %",
                         "runbook_url":"https://wiki/{labels.ifName}"},"enabled":false})",
      R"({"name":"b","kind":"no_data","selector":"ifHCInOctets","for_s":900})",
      R"({"name":"c","kind":"interface_down","severity":"info"})",
      R"({"name":"d","kind":"check_failing","tls_days":14})",
      R"({"name":"e","kind":"trap","trap":{"trap_oid":"1.3.6.1.6.3.1.1.5.3",
          "varbinds":{"ifName":"^xe-"},"clear_oid":"1.3.6.1.6.3.1.1.5.4"}})",
      R"({"name":"f","kind":"anomaly","selector":"latency_ms","anomaly":{"sensitivity":4}})",
      R"({"name":"g","kind":"forecast","selector":"storage_used_percent",
          "condition":{"op":">=","value":100},"forecast":{"window_s":604800,"horizon_s":604800}})",
  };
  for (const char* body : bodies) {
    INFO(body);
    auto r = rule_from_json(parse(body));
    if (!r) FAIL(r.error().message << " " << boost::json::serialize(r.error().details));
    auto again = rule_from_json(rule_to_json(*r));
    REQUIRE(again);
    CHECK(*again == *r);
  }
  // Ids are written when set, and read back without complaint (a PUT of a fetched rule).
  auto r = rule_from_json(parse(bodies[2]));
  REQUIRE(r);
  r->id = 42;
  auto j = rule_to_json(*r);
  CHECK(j.at("id").as_int64() == 42);
  CHECK(rule_from_json(j));
}

TEST_CASE("alert rule JSON: a malformed body is refused naming the field",
          "[alerts][rules][json]") {
  struct Case {
    const char* body;
    const char* field;
  };
  for (const auto& c : std::vector<Case>{
           {R"([1, 2])", "body"},
           {R"({"kind": "device_down"})", "name"},
           {R"({"name": 7, "kind": "device_down"})", "name"},
           {R"({"name": "x"})", "kind"},
           {R"({"name": "x", "kind": "thresold"})", "kind"},
           {R"({"name": "x", "kind": "device_down", "sevrity": "info"})", "sevrity"},
           {R"({"name": "x", "kind": "device_down", "severity": "urgent"})", "severity"},
           {R"({"name": "x", "kind": "device_down", "for_s": 1.5})", "for_s"},
           {R"({"name": "x", "kind": "device_down", "for_s": "60"})", "for_s"},
           {R"({"name": "x", "kind": "device_down", "enabled": 1})", "enabled"},
           {R"({"name": "x", "kind": "device_down", "scope": {"device_ids": "1"}})",
            "scope.device_ids"},
           {R"({"name": "x", "kind": "device_down", "scope": {"device_ids": [1.5]}})",
            "scope.device_ids"},
           {R"({"name": "x", "kind": "device_down", "scope": {"hosts": []}})", "scope.hosts"},
           {R"({"name": "x", "kind": "device_down", "labels": {"team": 1}})", "labels.team"},
           {R"({"name": "x", "kind": "device_down", "annotations": "hi"})", "annotations"},
           {R"({"name": "x", "kind": "threshold", "selector": "up",
                "condition": {"value": 1}})",
            "condition.op"},
           {R"({"name": "x", "kind": "threshold", "selector": "up",
                "condition": {"op": ">"}})",
            "condition.value"},
           {R"({"name": "x", "kind": "threshold", "selector": "up",
                "condition": {"op": ">", "value": 1, "fn": "median"}})",
            "condition.fn"},
           {R"({"name": "x", "kind": "threshold", "selector": "up",
                "condition": {"op": ">", "value": "1"}})",
            "condition.value"},
           {R"({"name": "x", "kind": "trap", "trap": {}})", "trap.trap_oid"},
           {R"({"name": "x", "kind": "trap", "trap": {"trap_oid": "1.3.6", "varbinds": {"a": 1}}})",
            "trap.varbinds.a"},
           {R"({"name": "x", "kind": "anomaly", "selector": "up", "anomaly": {"k": 1}})",
            "anomaly.k"},
           // and what validate_rule refuses comes through with its field
           {R"({"name": "x", "kind": "device_down", "annotations": {"summary": "{nope}"}})",
            "annotations.summary"},
       }) {
    INFO(c.body);
    auto r = rule_from_json(parse(c.body));
    REQUIRE_FALSE(r);
    CHECK(r.error().code == core::Errc::kInvalidInput);
    CHECK(r.error().details.at("field").as_string() == c.field);
  }
}

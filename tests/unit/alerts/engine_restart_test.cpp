// The alert engine across a restart (AlertHarness::reopen_engine): an alert loaded at start-up
// carries on from the state it was in when its series next sends a sample — a firing threshold
// alert keeps its hysteresis and resolves on the first sample on the clear side, and a no-data
// alert resolves on the series' first sample.
#include "engine_harness.hpp"

using namespace std::chrono_literals;
using netpulse::alerts::AlertStatus;
using netpulse::test::AlertHarness;

namespace {

const netpulse::tsdb::LabelSet kWeb{{"host", "web-01"}};

}  // namespace

TEST_CASE("engine restart: a loaded firing alert resolves on the first sample below",
          "[alerts][engine]") {
  AlertHarness h;
  const auto id = h.add_rule(R"({"name": "CPU high", "kind": "threshold",
      "selector": "cpu_usage", "condition": {"fn": "value", "op": ">", "value": 90, "clear": 80},
      "for_s": 0})")
                      .rule.id;
  h.sample("cpu_usage", kWeb, 95);
  auto open = h.open_alerts(id);
  REQUIRE(open.size() == 1);
  REQUIRE(open[0].status == AlertStatus::kFiring);

  h.reopen_engine();
  h.clock.advance(10s);
  h.sample("cpu_usage", kWeb, 85);  // between clear and value: still firing (hysteresis)
  REQUIRE(h.open_alerts(id).size() == 1);
  CHECK(h.open_alerts(id)[0].id == open[0].id);
  CHECK(h.open_alerts(id)[0].status == AlertStatus::kFiring);
  h.clock.advance(10s);
  h.sample("cpu_usage", kWeb, 70);  // below clear: resolved, with no sample above in between
  CHECK(h.open_alerts(id).empty());
  auto detail = h.engine->get_alert(h.scope, open[0].id);
  REQUIRE(detail);
  CHECK(detail->alert.status == AlertStatus::kResolved);
  CHECK(detail->alert.resolve_reason == "condition cleared");
}

TEST_CASE("engine restart: a loaded pending alert keeps its start and fires on time",
          "[alerts][engine]") {
  AlertHarness h;
  const auto id = h.add_rule(R"({"name": "hot", "kind": "threshold", "selector": "temp",
      "condition": {"fn": "value", "op": ">", "value": 70}, "for_s": 120})")
                      .rule.id;
  h.sample("temp", {}, 75);
  auto open = h.open_alerts(id);
  REQUIRE(open.size() == 1);
  const auto started = open[0].started_at;

  h.reopen_engine();
  h.clock.advance(121s);
  h.sample("temp", {}, 76);  // 121 s after the condition began, before the restart
  open = h.open_alerts(id);
  REQUIRE(open.size() == 1);
  CHECK(open[0].started_at == started);
  CHECK(open[0].status == AlertStatus::kFiring);
}

TEST_CASE("engine restart: a loaded no-data alert resolves when its series sends again",
          "[alerts][engine]") {
  AlertHarness h;
  const auto id =
      h.add_rule(R"({"name": "silent", "kind": "no_data", "selector": "sysUpTime"})").rule.id;
  for (int i = 0; i < 3; ++i) {
    h.sample("sysUpTime", {{"device", "r1"}}, 100.0 + i);
    h.clock.advance(60s);
  }
  h.advance(200s);
  REQUIRE(h.open_alerts(id).size() == 1);

  h.reopen_engine();
  h.sample("sysUpTime", {{"device", "r1"}}, 500);
  CHECK(h.open_alerts(id).empty());
}

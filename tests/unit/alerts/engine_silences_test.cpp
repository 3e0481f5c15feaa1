// The engine's silences and maintenance windows as the API uses them: ids of another
// organization (or of nothing) refused naming the field where the body has it.
#include <catch2/catch.hpp>

#include "engine_harness.hpp"

using netpulse::test::AlertHarness;

TEST_CASE("engine: a window or silence naming an unknown device or group names the body's field",
          "[alerts][engine]") {
  AlertHarness h;
  const auto now_s = h.now_ms() / 1000;
  auto window_with = [&](const std::string& scope) {
    auto w = netpulse::alerts::maintenance_from_json(
        boost::json::parse(R"({"name":"w","recurrence":"once","starts_at":)" +
                           std::to_string(now_s) + R"(,"duration_s":3600,"scope":)" + scope + "}"));
    REQUIRE(w);
    return h.wait<netpulse::alerts::MaintenanceWindow>(
        [&](auto done) { h.engine->create_maintenance(h.scope, *w, done); });
  };
  // In a window the lists sit under "scope".
  auto devices = window_with(R"({"device_ids":[999]})");
  REQUIRE_FALSE(devices);
  CHECK(devices.error().details.at("field").as_string() == "scope.device_ids");
  auto groups = window_with(R"({"group_ids":[999]})");
  REQUIRE_FALSE(groups);
  CHECK(groups.error().details.at("field").as_string() == "scope.group_ids");
  CHECK(h.engine->list_maintenance(h.scope).empty());

  // In a silence they are top-level.
  auto s = netpulse::alerts::silence_from_json(
      boost::json::parse(R"({"device_ids":[999],"starts_at":)" + std::to_string(now_s) +
                         R"(,"ends_at":)" + std::to_string(now_s + 60) + R"(,"reason":"r"})"));
  REQUIRE(s);
  auto silence = h.wait<netpulse::alerts::Silence>(
      [&](auto done) { h.engine->create_silence(h.scope, *s, done); });
  REQUIRE_FALSE(silence);
  CHECK(silence.error().details.at("field").as_string() == "device_ids");
  CHECK(h.engine->list_silences(h.scope, true).empty());
}

TEST_CASE("engine: an all-devices maintenance window also covers alerts without a device",
          "[alerts][engine]") {
  netpulse::test::AlertHarness h;
  auto rule = h.add_rule(R"({"name": "hot", "kind": "threshold", "selector": "temp",
      "condition": {"fn": "value", "op": ">", "value": 70}})");
  h.sample("temp", {}, 80);
  REQUIRE(h.open_alerts(rule.rule.id).size() == 1);
  CHECK_FALSE(h.open_alerts(rule.rule.id)[0].silenced);
  netpulse::alerts::MaintenanceWindow w;
  w.name = "all";
  w.starts_at = h.clock.unix_seconds() - 60;
  w.duration_s = 3600;
  w.all_devices = true;
  auto made = h.wait<netpulse::alerts::MaintenanceWindow>(
      [&](auto done) { h.engine->create_maintenance(h.scope, w, done); });
  REQUIRE(made);
  CHECK(h.open_alerts(rule.rule.id)[0].silenced);
}

// The alert engine's lifecycle: acknowledge, resolve by hand, comments and history; silences
// and maintenance windows; restarts with open alerts and saved baselines; the default rules;
// anomaly and forecast rules end to end.
#include <cmath>
#include <set>

#include "engine_harness.hpp"

using namespace std::chrono_literals;
using netpulse::alerts::AlertStatus;
using netpulse::devices::DeviceStatus;
using netpulse::test::AlertHarness;

namespace {

netpulse::alerts::Actor alice() {
  return netpulse::alerts::Actor{7, "alice@isp.example"};
}

std::int64_t fire_one(AlertHarness& h) {
  auto rule = h.add_rule(R"({"name": "hot", "kind": "threshold", "selector": "temp",
      "condition": {"fn": "value", "op": ">", "value": 70}})");
  h.sample("temp", {{"sensor", "a"}}, 80);
  auto open = h.open_alerts(rule.rule.id);
  REQUIRE(open.size() == 1);
  return open[0].id;
}

}  // namespace

TEST_CASE("engine lifecycle: acknowledge, comment, resolve by hand, with the history's actors",
          "[alerts][engine]") {
  AlertHarness h;
  const auto id = fire_one(h);
  auto acked = h.wait<netpulse::alerts::Alert>(
      [&](auto done) { h.engine->acknowledge(h.scope, id, alice(), "on it", done); });
  REQUIRE(acked);
  CHECK(acked->status == AlertStatus::kAcknowledged);
  CHECK(acked->acknowledged_by == 7);
  CHECK(acked->acknowledged_by_name == "alice@isp.example");
  CHECK(acked->ack_note == "on it");
  auto again = h.wait<netpulse::alerts::Alert>(
      [&](auto done) { h.engine->acknowledge(h.scope, id, alice(), "", done); });
  REQUIRE_FALSE(again);
  CHECK(again.error().code == netpulse::core::Errc::kConflict);

  auto comment = h.wait<netpulse::alerts::AlertComment>(
      [&](auto done) { h.engine->comment(h.scope, id, alice(), "fan replaced", done); });
  REQUIRE(comment);
  auto resolved = h.wait<netpulse::alerts::Alert>(
      [&](auto done) { h.engine->resolve(h.scope, id, alice(), "fixed on site", done); });
  REQUIRE(resolved);
  CHECK(resolved->status == AlertStatus::kResolved);
  CHECK(resolved->resolved_by == 7);
  CHECK(resolved->resolve_reason == "fixed on site");
  auto twice = h.wait<netpulse::alerts::Alert>(
      [&](auto done) { h.engine->resolve(h.scope, id, alice(), "", done); });
  REQUIRE_FALSE(twice);
  CHECK(twice.error().code == netpulse::core::Errc::kConflict);

  auto detail = h.engine->get_alert(h.scope, id);
  REQUIRE(detail);
  REQUIRE(detail->history.size() == 4);
  CHECK(detail->history[2].to == "acknowledged");
  CHECK(detail->history[2].actor == "alice@isp.example");
  CHECK(detail->history[2].note == "on it");
  CHECK(detail->history[3].to == "resolved");
  CHECK(detail->history[3].actor_id == 7);
  REQUIRE(detail->comments.size() == 1);
  CHECK(detail->comments[0].text == "fan replaced");
  // Another organization sees none of it.
  auto other = netpulse::core::OrgScope::trusted(2);
  CHECK_FALSE(h.engine->get_alert(other, id));
  auto foreign = h.wait<netpulse::alerts::Alert>(
      [&](auto done) { h.engine->acknowledge(other, id, alice(), "", done); });
  REQUIRE_FALSE(foreign);
  CHECK(foreign.error().code == netpulse::core::Errc::kNotFound);
}

TEST_CASE("engine: a silence marks the alerts it matches, and only while it lasts",
          "[alerts][engine]") {
  AlertHarness h;
  const auto id = fire_one(h);
  netpulse::alerts::Silence s;
  s.matchers.push_back({"sensor", netpulse::alerts::MatchOp::kEqual, "a"});
  s.starts_at = h.clock.unix_seconds();
  s.ends_at = h.clock.unix_seconds() + 600;
  s.reason = "sensor being replaced";
  auto made = h.wait<netpulse::alerts::Silence>(
      [&](auto done) { h.engine->create_silence(h.scope, s, done); });
  REQUIRE(made);
  CHECK(h.engine->get_alert(h.scope, id)->alert.silenced);
  CHECK(h.changes.back().transition == "silenced");
  h.advance(601s);  // the silence ends: the tick finds the boundary
  CHECK_FALSE(h.engine->get_alert(h.scope, id)->alert.silenced);
  CHECK(h.changes.back().transition == "unsilenced");
  CHECK(h.engine->list_silences(h.scope, false).empty());
  CHECK(h.engine->list_silences(h.scope, true).size() == 1);
}

TEST_CASE("engine: a recurring maintenance window silences a device's alerts in its hours",
          "[alerts][engine]") {
  AlertHarness h;
  auto rule = h.add_rule(R"({"name": "Device down", "kind": "device_down"})");
  auto d = h.add_device("r1", "10.9.0.1");
  // The clock starts on Thursday 2026-01-01 00:00 UTC; a daily window 01:00-02:00 Berlin
  // (00:00-01:00 UTC in winter), by cron.
  netpulse::alerts::MaintenanceWindow w;
  w.name = "nightly";
  w.time_zone = "Europe/Berlin";
  w.recurrence = netpulse::alerts::Recurrence::kCron;
  w.cron = "0 1 * * *";
  w.duration_s = 3600;
  w.starts_at = h.clock.unix_seconds() - 86'400;
  w.device_ids = {d.id};
  auto made = h.wait<netpulse::alerts::MaintenanceWindow>(
      [&](auto done) { h.engine->create_maintenance(h.scope, w, done); });
  REQUIRE(made);
  h.set_status(d, DeviceStatus::kDown);
  auto open = h.open_alerts(rule.rule.id);
  REQUIRE(open.size() == 1);
  CHECK(open[0].silenced);  // raised, recorded, marked
  CHECK(h.engine->in_maintenance(h.scope, d.id, h.clock.unix_seconds()));
  h.advance(3601s);  // 01:00 UTC: the window is over
  CHECK_FALSE(h.open_alerts(rule.rule.id)[0].silenced);
  CHECK_FALSE(h.engine->in_maintenance(h.scope, d.id, h.clock.unix_seconds()));
}

TEST_CASE("engine restart: open and pending alerts survive; nothing fires twice",
          "[alerts][engine]") {
  AlertHarness h;
  auto hot = h.add_rule(R"({"name": "hot", "kind": "threshold", "selector": "temp",
      "condition": {"fn": "value", "op": ">", "value": 70}})");
  auto slow = h.add_rule(R"({"name": "slow", "kind": "threshold", "selector": "lat",
      "condition": {"fn": "value", "op": ">", "value": 100}, "for_s": 600})");
  h.sample("temp", {}, 80);
  h.sample("lat", {}, 500);
  auto firing = h.open_alerts(hot.rule.id);
  auto pending = h.open_alerts(slow.rule.id);
  REQUIRE(firing.size() == 1);
  REQUIRE(pending.size() == 1);
  REQUIRE(pending[0].status == AlertStatus::kPending);

  h.reopen_engine();
  h.changes.clear();
  auto firing2 = h.open_alerts(hot.rule.id);
  REQUIRE(firing2.size() == 1);
  CHECK(firing2[0].id == firing[0].id);
  CHECK(firing2[0].started_at == firing[0].started_at);
  auto pending2 = h.open_alerts(slow.rule.id);
  REQUIRE(pending2.size() == 1);
  CHECK(pending2[0].status == AlertStatus::kPending);
  CHECK(pending2[0].started_at == pending[0].started_at);

  // The condition still holds: the same alert, no new transition.
  h.clock.advance(10s);
  h.sample("temp", {}, 85);
  CHECK(h.open_alerts(hot.rule.id).size() == 1);
  CHECK(h.transitions(hot.rule.id).empty());
  // The pending one fires when its for-duration (counted from before the restart) passes.
  h.advance(591s);
  CHECK(h.open_alerts(slow.rule.id)[0].status == AlertStatus::kFiring);
  CHECK(h.transitions(slow.rule.id) == std::vector<std::string>{"firing"});
  // And a value below resolves the alert that was open before the restart.
  h.clock.advance(10s);
  h.sample("temp", {}, 20);
  CHECK(h.open_alerts(hot.rule.id).empty());
  auto detail = h.engine->get_alert(h.scope, firing[0].id);
  REQUIRE(detail);
  int fired = 0;
  for (auto& e : detail->history) fired += e.to == "firing" ? 1 : 0;
  CHECK(fired == 1);
}

TEST_CASE("engine: the default rules come once per organization", "[alerts][engine]") {
  AlertHarness h(true);
  auto rules = h.engine->list_rules(h.scope, {1, 100});
  REQUIRE(rules);
  CHECK(rules->total == 9);
  std::int64_t device_down = 0;
  for (auto& r : rules->items) {
    CHECK_FALSE(r.builtin.empty());
    if (r.builtin == "device_down") device_down = r.rule.id;
  }
  REQUIRE(device_down != 0);
  auto other = h.engine->list_rules(netpulse::core::OrgScope::trusted(2), {1, 100});
  REQUIRE(other);
  CHECK(other->total == 9);
  auto removed =
      h.wait<void>([&](auto done) { h.engine->remove_rule(h.scope, device_down, done); });
  REQUIRE(removed);
  h.reopen_engine();
  rules = h.engine->list_rules(h.scope, {1, 100});
  REQUIRE(rules);
  CHECK(rules->total == 8);  // a deleted default rule does not come back
}

TEST_CASE("engine anomaly: quiet while warming up, then spikes found on a daily cycle",
          "[alerts][engine]") {
  AlertHarness h;
  auto rule = h.add_rule(R"({"name": "odd traffic", "kind": "anomaly", "selector": "bps",
      "anomaly": {"sensitivity": 4, "warmup_s": 604800}, "for_s": 0})");
  // Two weeks of a daily cycle sampled every 15 minutes, with a little deterministic noise, and
  // spikes on day 3 (inside the one-week warm-up: quiet), day 9 and day 12 (found).
  auto value_at = [](std::int64_t step) {
    const double hour = static_cast<double>(step % 96) / 4.0;
    return 1000.0 + 500.0 * std::sin(hour * 3.14159265 / 12.0) +
           static_cast<double>((step * 7919) % 13);
  };
  const std::set<std::int64_t> spikes{96 * 3 + 20, 96 * 9 + 40, 96 * 12 + 70};
  std::vector<std::size_t> open_after_spike;
  std::size_t open_on_cycle = 0;
  for (std::int64_t step = 0; step < 96 * 14; ++step) {
    const bool spike = spikes.contains(step);
    h.sample("bps", {}, spike ? 9000.0 : value_at(step), AlertHarness::kOrg, false);
    const auto open = h.open_alerts(rule.rule.id).size();
    if (spike) {
      open_after_spike.push_back(open);
    } else {
      open_on_cycle += open;
    }
    h.clock.advance(15min);
  }
  h.settle();
  CHECK(open_after_spike == std::vector<std::size_t>{0, 1, 1});
  CHECK(open_on_cycle == 0);  // the cycle itself never alerts (each spike clears at once)
  CHECK(h.transitions(rule.rule.id) ==
        std::vector<std::string>{"pending", "firing", "resolved", "pending", "firing", "resolved"});
  auto status = h.engine->rule_status(h.scope, rule.rule.id);
  CHECK(status.subjects == 1);
  CHECK(status.warming_up == 0);
}

TEST_CASE("engine forecast: a disk filling up fires within the horizon", "[alerts][engine]") {
  AlertHarness h;
  auto rule = h.add_rule(R"({"name": "disk", "kind": "forecast", "selector": "hrStorageUsedPct",
      "condition": {"fn": "value", "op": ">=", "value": 100},
      "forecast": {"window_s": 86400, "horizon_s": 604800}})");
  // 1 % a day from 50 %: full in 50 days — beyond 7 days, quiet.
  double pct = 50;
  for (int i = 0; i < 48; ++i) {
    h.sample("hrStorageUsedPct", {{"storage", "/"}}, pct, AlertHarness::kOrg, false);
    pct += 1.0 / 24;
    h.clock.advance(1h);
  }
  CHECK(h.open_alerts(rule.rule.id).empty());
  // Then 5 % a day: at ~52 % it is full within ~10 days, and within 7 days from ~65 %.
  for (int i = 0; i < 24 * 4; ++i) {
    h.sample("hrStorageUsedPct", {{"storage", "/"}}, pct, AlertHarness::kOrg, false);
    pct += 5.0 / 24;
    h.clock.advance(1h);
  }
  auto open = h.open_alerts(rule.rule.id);
  REQUIRE(open.size() == 1);
  CHECK(open[0].threshold == 100);
  CHECK(open[0].value > 60);
  CHECK(open[0].value < 72);
}

// The alert engine on the sample kinds, with a ManualClock: for-durations, hysteresis, window
// aggregates, the rate of a counter across a wrap, no-data, flapping and backtests. Samples go
// through the real store, so the engine sees them as in the server.
#include "engine_harness.hpp"

using namespace std::chrono_literals;
using netpulse::alerts::AlertStatus;
using netpulse::test::AlertHarness;

namespace {

const netpulse::tsdb::LabelSet kWeb{{"host", "web-01"}};

}  // namespace

TEST_CASE("engine threshold: for-duration, then hysteresis, then resolved", "[alerts][engine]") {
  AlertHarness h;
  auto rule = h.add_rule(R"({"name": "CPU high", "kind": "threshold",
      "selector": "cpu_usage{host=\"web-01\"}",
      "condition": {"fn": "value", "op": ">", "value": 90, "clear": 80}, "for_s": 60,
      "severity": "critical", "annotations": {"summary": "{labels.host} CPU at {value} %"}})");
  const auto id = rule.rule.id;

  h.sample("cpu_usage", kWeb, 50);
  CHECK(h.open_alerts(id).empty());
  h.clock.advance(10s);
  h.sample("cpu_usage", kWeb, 95);  // condition holds: pending
  REQUIRE(h.open_alerts(id).size() == 1);
  CHECK(h.open_alerts(id)[0].status == AlertStatus::kPending);
  h.clock.advance(30s);
  h.sample("cpu_usage", kWeb, 96);  // 30 s of 60: still pending
  CHECK(h.open_alerts(id)[0].status == AlertStatus::kPending);
  h.clock.advance(31s);
  h.sample("cpu_usage", kWeb, 97);  // 61 s: fires
  auto open = h.open_alerts(id);
  REQUIRE(open.size() == 1);
  CHECK(open[0].status == AlertStatus::kFiring);
  CHECK(open[0].value == 97);
  CHECK(open[0].threshold == 90);
  CHECK(open[0].annotations.at("summary") == "web-01 CPU at 97 %");
  CHECK(open[0].labels.at("host") == "web-01");
  h.clock.advance(10s);
  h.sample("cpu_usage", kWeb, 85);  // below 90 but above the clear threshold: still firing
  CHECK(h.open_alerts(id).size() == 1);
  h.clock.advance(10s);
  h.sample("cpu_usage", kWeb, 79);  // below 80: resolved
  CHECK(h.open_alerts(id).empty());
  CHECK(h.transitions(id) == std::vector<std::string>{"pending", "firing", "resolved"});

  // The resolved alert keeps its history, newest state last.
  auto detail = h.engine->get_alert(h.scope, open[0].id);
  REQUIRE(detail);
  CHECK(detail->alert.status == AlertStatus::kResolved);
  CHECK(detail->alert.resolve_reason == "condition cleared");
  REQUIRE(detail->history.size() == 3);
  CHECK(detail->history[0].to == "pending");
  CHECK(detail->history[1].to == "firing");
  CHECK(detail->history[2].to == "resolved");
  CHECK(detail->history[2].actor == "engine");
}

TEST_CASE("engine threshold: a dip before the for-duration passes resets it", "[alerts][engine]") {
  AlertHarness h;
  auto id = h.add_rule(R"({"name": "hot", "kind": "threshold", "selector": "temp",
      "condition": {"fn": "value", "op": ">=", "value": 70}, "for_s": 120})")
                .rule.id;
  h.sample("temp", {}, 75);
  h.clock.advance(60s);
  h.sample("temp", {}, 65);  // dips: the pending alert goes
  CHECK(h.open_alerts(id).empty());
  h.clock.advance(60s);
  h.sample("temp", {}, 75);
  h.clock.advance(61s);
  h.sample("temp", {}, 75);  // only 61 s since the condition began again
  REQUIRE(h.open_alerts(id).size() == 1);
  CHECK(h.open_alerts(id)[0].status == AlertStatus::kPending);
  CHECK(h.transitions(id) == std::vector<std::string>{"pending", "resolved", "pending"});
}

TEST_CASE("engine threshold: the tick fires a pending alert whose for-duration passed",
          "[alerts][engine]") {
  AlertHarness h;
  auto id = h.add_rule(R"({"name": "loss", "kind": "threshold", "selector": "icmp_loss_pct",
      "condition": {"fn": "value", "op": ">", "value": 20}, "for_s": 300})")
                .rule.id;
  h.sample("icmp_loss_pct", {{"device", "cpe-1"}}, 50);
  h.advance(299s);
  CHECK(h.open_alerts(id)[0].status == AlertStatus::kPending);
  h.advance(2s);
  REQUIRE(h.open_alerts(id).size() == 1);
  CHECK(h.open_alerts(id)[0].status == AlertStatus::kFiring);
  // The next sample still beyond the threshold changes nothing; one below resolves.
  h.clock.advance(10s);
  h.sample("icmp_loss_pct", {{"device", "cpe-1"}}, 40);
  CHECK(h.transitions(id) == std::vector<std::string>{"pending", "firing"});
  h.clock.advance(10s);
  h.sample("icmp_loss_pct", {{"device", "cpe-1"}}, 0);
  CHECK(h.transitions(id) == std::vector<std::string>{"pending", "firing", "resolved"});
}

TEST_CASE("engine threshold: one alert per series, a selector's regex picks the series",
          "[alerts][engine]") {
  AlertHarness h;
  auto id = h.add_rule(R"({"name": "util", "kind": "threshold",
      "selector": "ifUtilizationPct{ifName=~\"xe-.*\"}",
      "condition": {"fn": "value", "op": ">", "value": 90}})")
                .rule.id;
  h.sample("ifUtilizationPct", {{"ifName", "xe-0/0/1"}}, 95);
  h.sample("ifUtilizationPct", {{"ifName", "xe-0/0/2"}}, 99);
  h.sample("ifUtilizationPct", {{"ifName", "ge-0/0/1"}}, 99);  // not selected
  h.clock.advance(10s);
  h.sample("ifUtilizationPct", {{"ifName", "xe-0/0/1"}}, 96);  // the same alert
  auto open = h.open_alerts(id);
  REQUIRE(open.size() == 2);
  CHECK(open[0].labels.at("ifName") != open[1].labels.at("ifName"));
  CHECK(open[0].status == AlertStatus::kFiring);
}

TEST_CASE("engine threshold: the rate of a counter across a 32-bit wrap", "[alerts][engine]") {
  AlertHarness h;
  auto id = h.add_rule(R"({"name": "traffic", "kind": "threshold", "selector": "ifInOctets",
      "condition": {"fn": "rate", "op": ">", "value": 40}})")
                .rule.id;
  h.sample("ifInOctets", {}, 4294967000.0);
  h.clock.advance(10s);
  h.sample("ifInOctets", {}, 200);  // wrapped: (296 + 200) / 10 = 49.6 per second
  auto open = h.open_alerts(id);
  REQUIRE(open.size() == 1);
  CHECK(open[0].value == Approx(49.6));
  h.clock.advance(10s);
  h.sample("ifInOctets", {}, 500);  // 30 per second: below 40
  CHECK(h.open_alerts(id).empty());
}

TEST_CASE("engine threshold: a window average", "[alerts][engine]") {
  AlertHarness h;
  auto id = h.add_rule(R"({"name": "avg", "kind": "threshold", "selector": "latency_ms",
      "condition": {"fn": "avg", "window_s": 300, "op": ">", "value": 100}})")
                .rule.id;
  for (double v : {50.0, 60.0, 70.0, 300.0}) {  // average 120 only with the spike
    h.sample("latency_ms", {}, v);
    h.clock.advance(60s);
  }
  auto open = h.open_alerts(id);
  REQUIRE(open.size() == 1);
  CHECK(open[0].value == Approx(120));
  for (int i = 0; i < 6; ++i) {  // the spike leaves the window
    h.sample("latency_ms", {}, 50);
    h.clock.advance(60s);
  }
  CHECK(h.open_alerts(id).empty());
}

TEST_CASE("engine no_data: a series silent for three of its intervals, then back",
          "[alerts][engine]") {
  AlertHarness h;
  auto id = h.add_rule(R"({"name": "silent", "kind": "no_data", "selector": "sysUpTime"})").rule.id;
  for (int i = 0; i < 5; ++i) {
    h.sample("sysUpTime", {{"device", "r1"}}, 100.0 + i);
    h.clock.advance(60s);
  }
  // The last sample was 60 s ago; three intervals are 180 s.
  h.advance(100s);
  CHECK(h.open_alerts(id).empty());
  h.advance(30s);
  auto open = h.open_alerts(id);
  REQUIRE(open.size() == 1);
  CHECK(open[0].status == AlertStatus::kFiring);
  CHECK(open[0].labels.at("device") == "r1");
  h.sample("sysUpTime", {{"device", "r1"}}, 500);
  CHECK(h.open_alerts(id).empty());
  CHECK(h.transitions(id) == std::vector<std::string>{"pending", "firing", "resolved"});
}

TEST_CASE("engine: an alert that keeps changing is marked flapping", "[alerts][engine]") {
  AlertHarness h;
  auto id = h.add_rule(R"({"name": "flappy", "kind": "threshold", "selector": "x",
      "condition": {"fn": "value", "op": ">", "value": 10}})")
                .rule.id;
  bool flapping = false;
  for (int i = 0; i < 8; ++i) {
    h.sample("x", {}, 20);
    auto open = h.open_alerts(id);
    REQUIRE(open.size() == 1);
    flapping = open[0].flapping;
    h.clock.advance(30s);
    h.sample("x", {}, 0);
    h.clock.advance(30s);
  }
  CHECK(flapping);
  // Every transition is still recorded.
  CHECK(h.transitions(id).size() == 8 * 3);
}

TEST_CASE("engine backtest: would-be firings and clearings over stored samples",
          "[alerts][engine]") {
  AlertHarness h;
  const auto start = h.now_ms();
  for (double v : {10.0, 95.0, 96.0, 50.0, 97.0, 20.0}) {
    h.sample("cpu_usage", kWeb, v);
    h.clock.advance(60s);
  }
  auto rule = netpulse::alerts::rule_from_json(boost::json::parse(R"({"name": "t",
      "kind": "threshold", "selector": "cpu_usage",
      "condition": {"fn": "value", "op": ">", "value": 90}, "for_s": 30})"));
  REQUIRE(rule);
  auto r = h.wait<netpulse::alerts::BacktestResult>(
      [&](auto done) { h.engine->backtest(h.scope, *rule, start, h.now_ms(), done); });
  REQUIRE(r);
  CHECK(r->series == 1);
  CHECK(r->samples == 6);
  std::vector<std::string> got;
  for (auto& e : r->events) got.push_back(e.transition);
  // 95 pending, 96 (60 s later) firing, 50 resolved, 97 pending, 20 resolved.
  CHECK(got == std::vector<std::string>{"pending", "firing", "resolved", "pending", "resolved"});
  CHECK(r->events[1].value == 96);
  CHECK(r->events[1].at == start + 120'000);
  // Nothing was raised by the backtest.
  CHECK(h.changes.empty());
}

TEST_CASE("engine threshold: a device_id label names a device only of the same organization",
          "[alerts][engine]") {
  AlertHarness h;
  auto mine = h.add_device("mine", "10.7.0.1");
  auto theirs = h.add_device("theirs", "10.7.0.2", {}, 2);
  auto id = h.add_rule(R"({"name": "hot", "kind": "threshold", "selector": "temp",
      "condition": {"fn": "value", "op": ">", "value": 70}})")
                .rule.id;
  h.sample("temp", {{"device_id", std::to_string(mine.id)}}, 80);
  h.sample("temp", {{"device_id", std::to_string(theirs.id)}}, 80);
  auto open = h.open_alerts(id);
  REQUIRE(open.size() == 2);
  int with_device = 0;
  for (auto& a : open) {
    if (a.device_id) {
      ++with_device;
      CHECK(a.device_id == mine.id);
      CHECK(a.device_name == "mine");
    }
  }
  CHECK(with_device == 1);  // the other organization's device id is not taken
}

TEST_CASE("engine index: a series is tested against the rules of its metric and labels only",
          "[alerts][engine]") {
  AlertHarness h;
  // 200 rules on one metric, each pinned to a host, and one on another metric.
  for (int i = 0; i < 200; ++i) {
    h.add_rule(fmt::format(R"({{"name": "r{}", "kind": "threshold",
        "selector": "ifHCInOctets{{host=\"dev{}\",ifName=~\"eth.*\"}}",
        "condition": {{"fn": "rate", "op": ">", "value": 1e9}}}})",
                           i, i));
  }
  auto other = h.add_rule(R"({"name": "other", "kind": "threshold", "selector": "temp",
      "condition": {"fn": "value", "op": ">", "value": 70}})");
  const auto before = h.engine->stats().selector_tests;
  h.sample("ifHCInOctets", {{"host", "dev7"}, {"ifName", "eth0"}}, 1);
  CHECK(h.engine->stats().selector_tests - before == 1);  // only the rule pinned to dev7
  CHECK(h.engine->stats().states == 1);
  h.sample("temp", {{"host", "dev7"}}, 90);
  CHECK(h.engine->stats().selector_tests - before == 2);
  CHECK(h.open_alerts(other.rule.id).size() == 1);
}

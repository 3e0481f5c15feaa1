// The alert engine on the event kinds and the topology: device down / unreachable as roots and
// symptoms of one incident, a root resolving, a second independent failure, interface and check
// alerts, traps with a clearing trap.
#include <boost/json/serialize.hpp>

#include "engine_harness.hpp"

using namespace std::chrono_literals;
using netpulse::alerts::AlertStatus;
using netpulse::devices::DeviceStatus;
using netpulse::test::AlertHarness;

namespace {

// 1 core, 2 distribution devices, 3 CPE behind each.
struct Tree {
  netpulse::devices::Device core;
  std::vector<netpulse::devices::Device> dist;
  std::vector<netpulse::devices::Device> cpe;
};

Tree make_tree(AlertHarness& h) {
  Tree t;
  t.core = h.add_device("core", "10.0.0.1");
  for (int d = 0; d < 2; ++d) {
    t.dist.push_back(
        h.add_device(fmt::format("dist-{}", d), fmt::format("10.0.{}.1", d + 1), {t.core.id}));
    for (int c = 0; c < 3; ++c) {
      t.cpe.push_back(h.add_device(fmt::format("cpe-{}-{}", d, c),
                                   fmt::format("10.0.{}.{}", d + 1, c + 10), {t.dist.back().id}));
    }
  }
  return t;
}

const netpulse::alerts::Alert* alert_of(const std::vector<netpulse::alerts::Alert>& alerts,
                                        std::int64_t device_id) {
  for (auto& a : alerts) {
    if (a.device_id == device_id) return &a;
  }
  return nullptr;
}

}  // namespace

TEST_CASE("engine topology: a dead core is one incident with its devices as symptoms",
          "[alerts][engine][topology]") {
  AlertHarness h;
  auto rule = h.add_rule(R"({"name": "Device down", "kind": "device_down",
      "severity": "critical", "annotations": {"summary": "{device} is {labels.status}"}})");
  auto t = make_tree(h);
  for (auto& d : t.dist) h.set_status(d, DeviceStatus::kUp);
  h.set_status(t.core, DeviceStatus::kUp);

  // The core fails; everything behind it goes unreachable (the pollers' view).
  h.set_status(t.core, DeviceStatus::kDown);
  for (auto& d : t.dist) h.set_status(d, DeviceStatus::kUnreachable);
  for (auto& c : t.cpe) h.set_status(c, DeviceStatus::kUnreachable);

  auto open = h.open_alerts(rule.rule.id);
  REQUIRE(open.size() == 9);
  const auto* root = alert_of(open, t.core.id);
  REQUIRE(root);
  CHECK(root->status == AlertStatus::kFiring);
  CHECK_FALSE(root->symptom_of);
  CHECK(root->impact == 8);
  CHECK(root->annotations.at("summary") == "core is down");
  REQUIRE(root->incident_id);
  for (auto& a : open) {
    if (a.id == root->id) continue;
    CHECK(a.symptom_of == root->id);
    CHECK(a.incident_id == root->incident_id);
    CHECK(a.labels.at("status") == "unreachable");
  }
  auto incidents = h.engine->list_incidents(h.scope, true, {1, 50});
  REQUIRE(incidents);
  REQUIRE(incidents->items.size() == 1);
  CHECK(incidents->items[0].root_alert_id == root->id);
  CHECK(incidents->items[0].impact == 8);
  CHECK(incidents->items[0].symptom_count == 8);
  auto detail = h.engine->get_incident(h.scope, incidents->items[0].id);
  REQUIRE(detail);
  REQUIRE(detail->root);
  CHECK(detail->root->id == root->id);
  CHECK(detail->symptoms.size() == 8);
  // A symptom's AlertChanged says so (the notifier holds it).
  bool symptom_published = false;
  for (auto& c : h.changes) {
    if (c.alert.device_id == t.cpe[0].id && c.alert.symptom_of == root->id) {
      symptom_published = true;
    }
  }
  CHECK(symptom_published);

  // The core comes back: the unreachable devices resolve with it, nothing is left open.
  h.set_status(t.core, DeviceStatus::kUp);
  CHECK(h.open_alerts(rule.rule.id).empty());
  auto after = h.engine->list_incidents(h.scope, true, {1, 50});
  REQUIRE(after);
  CHECK(after->items.empty());
  REQUIRE_FALSE(h.incident_changes.empty());
  CHECK(h.incident_changes.back().incident.status == netpulse::alerts::IncidentStatus::kResolved);
}

TEST_CASE("engine topology: a second independent failure is a second incident",
          "[alerts][engine][topology]") {
  AlertHarness h;
  auto rule = h.add_rule(R"({"name": "Device down", "kind": "device_down"})");
  auto t = make_tree(h);
  // dist-0 and its CPE fail: one incident, impact 3.
  h.set_status(t.dist[0], DeviceStatus::kDown);
  for (int c = 0; c < 3; ++c)
    h.set_status(t.cpe[static_cast<std::size_t>(c)], DeviceStatus::kUnreachable);
  // A CPE behind dist-1 fails on its own: a second incident, impact 0.
  h.set_status(t.cpe[4], DeviceStatus::kDown);
  auto incidents = h.engine->list_incidents(h.scope, true, {1, 50});
  REQUIRE(incidents);
  REQUIRE(incidents->items.size() == 2);
  std::map<std::int64_t, std::int64_t> impact_by_root_device;
  for (auto& i : incidents->items) impact_by_root_device[*i.root_device_id] = i.impact;
  CHECK(impact_by_root_device.at(t.dist[0].id) == 3);
  CHECK(impact_by_root_device.at(t.cpe[4].id) == 0);
  auto open = h.open_alerts(rule.rule.id);
  CHECK(open.size() == 5);
}

TEST_CASE("engine topology: a symptom still down on its own becomes a root when its root resolves",
          "[alerts][engine][topology]") {
  AlertHarness h;
  auto rule = h.add_rule(R"({"name": "Device down", "kind": "device_down"})");
  auto t = make_tree(h);
  h.set_status(t.core, DeviceStatus::kDown);
  h.set_status(t.dist[0], DeviceStatus::kDown);  // its own failure too (polled down)
  h.set_status(t.dist[1], DeviceStatus::kUnreachable);
  auto open = h.open_alerts(rule.rule.id);
  const auto* core_alert = alert_of(open, t.core.id);
  REQUIRE(core_alert);
  REQUIRE(alert_of(open, t.dist[0].id)->symptom_of == core_alert->id);
  h.set_status(t.core, DeviceStatus::kUp);
  open = h.open_alerts(rule.rule.id);
  REQUIRE(open.size() == 1);  // dist-1 (only unreachable) resolved; dist-0 still fails
  CHECK(open[0].device_id == t.dist[0].id);
  CHECK_FALSE(open[0].symptom_of);
  CHECK(h.transitions(rule.rule.id).back() == "root");
  auto incidents = h.engine->list_incidents(h.scope, true, {1, 50});
  REQUIRE(incidents);
  REQUIRE(incidents->items.size() == 1);
  CHECK(incidents->items[0].root_device_id == t.dist[0].id);
}

TEST_CASE("engine topology: other alerts on devices behind a root are its symptoms",
          "[alerts][engine][topology]") {
  AlertHarness h;
  h.add_rule(R"({"name": "Device down", "kind": "device_down"})");
  auto loss = h.add_rule(R"({"name": "loss", "kind": "threshold", "selector": "icmp_loss_pct",
      "condition": {"fn": "value", "op": ">", "value": 20}})");
  auto t = make_tree(h);
  h.sample("icmp_loss_pct", {{"device_id", std::to_string(t.cpe[0].id)}}, 100);
  REQUIRE(h.open_alerts(loss.rule.id).size() == 1);
  CHECK_FALSE(h.open_alerts(loss.rule.id)[0].symptom_of);
  h.set_status(t.dist[0], DeviceStatus::kDown);
  auto open = h.open_alerts(loss.rule.id);
  REQUIRE(open.size() == 1);
  CHECK(open[0].symptom_of.has_value());
}

TEST_CASE("engine: interface down while admin up, on a link that was up", "[alerts][engine]") {
  AlertHarness h;
  auto rule = h.add_rule(R"({"name": "if down", "kind": "interface_down",
      "annotations": {"summary": "{device} {labels.ifName} down"}})");
  auto d = h.add_device("sw1", "10.1.0.1");
  auto publish = [&](int from, int to, int admin) {
    h.bus.publish(netpulse::devices::InterfaceStatusChanged{1, d.id, 3, "ge-0/0/3", from, to, admin,
                                                            h.clock.unix_seconds()});
    h.settle();
  };
  publish(7, 2, 1);  // never was up (lowerLayerDown → down): not an outage
  CHECK(h.open_alerts(rule.rule.id).empty());
  publish(2, 1, 1);
  publish(1, 2, 1);  // up → down, admin up: alert
  auto open = h.open_alerts(rule.rule.id);
  REQUIRE(open.size() == 1);
  CHECK(open[0].annotations.at("summary") == "sw1 ge-0/0/3 down");
  CHECK(open[0].labels.at("ifIndex") == "3");
  publish(2, 2, 2);  // shut by the operator: cleared
  CHECK(h.open_alerts(rule.rule.id).empty());
}

TEST_CASE("engine: a failing service check and its recovery", "[alerts][engine]") {
  AlertHarness h;
  auto rule = h.add_rule(R"({"name": "check", "kind": "check_failing", "for_s": 60})");
  auto d = h.add_device("web", "10.2.0.1");
  h.bus.publish(netpulse::devices::ServiceCheckChanged{
      1, d.id, 42, "https", netpulse::devices::ServiceKind::kHttp, false, "connection refused",
      h.clock.unix_seconds()});
  h.settle();
  auto open = h.open_alerts(rule.rule.id);
  REQUIRE(open.size() == 1);
  CHECK(open[0].status == AlertStatus::kPending);
  CHECK(open[0].labels.at("error") == "connection refused");
  h.advance(61s);
  CHECK(h.open_alerts(rule.rule.id)[0].status == AlertStatus::kFiring);
  h.bus.publish(netpulse::devices::ServiceCheckChanged{1, d.id, 42, "https",
                                                       netpulse::devices::ServiceKind::kHttp, true,
                                                       "", h.clock.unix_seconds()});
  h.settle();
  CHECK(h.open_alerts(rule.rule.id).empty());
}

TEST_CASE("engine: a trap rule with varbind patterns and a clearing trap", "[alerts][engine]") {
  AlertHarness h;
  auto rule = h.add_rule(R"json({"name": "link trap", "kind": "trap",
      "trap": {"trap_oid": "1.3.6.1.6.3.1.1.5.3", "clear_oid": "1.3.6.1.6.3.1.1.5.4",
               "varbinds": {"ifDescr": "eth.*"}},
      "annotations": {"summary": "{device} {labels.ifDescr} down (trap)"}})json");
  auto d = h.add_device("r1", "10.3.0.1");
  auto trap = [&](const char* oid, const char* descr) {
    netpulse::devices::DeviceEvent e;
    e.org_id = 1;
    e.device_id = d.id;
    e.at = h.clock.unix_seconds();
    e.kind = "trap";
    e.details_json = fmt::format(
        R"({{"trap_oid": "{}", "if_index": 3, "varbinds": [
            {{"oid": "1.3.6.1.2.1.2.2.1.1.3", "name": "ifIndex.3", "type": "Integer32", "value": 3}},
            {{"oid": "1.3.6.1.2.1.2.2.1.2.3", "name": "ifDescr.3", "type": "OctetString",
              "value": "{}"}}]}})",
        oid, descr);
    h.inventory->record_event(e);
    h.settle();
  };
  trap("1.3.6.1.6.3.1.1.5.3", "wlan0");  // the pattern does not match
  CHECK(h.open_alerts(rule.rule.id).empty());
  trap("1.3.6.1.6.3.1.1.5.3", "eth2");
  auto open = h.open_alerts(rule.rule.id);
  REQUIRE(open.size() == 1);
  CHECK(open[0].status == AlertStatus::kFiring);
  CHECK(open[0].annotations.at("summary") == "r1 eth2 down (trap)");
  CHECK(open[0].labels.at("ifIndex") == "3");
  trap("1.3.6.1.6.3.1.1.5.3", "eth2");  // the same trap again: the same alert
  CHECK(h.open_alerts(rule.rule.id).size() == 1);
  trap("1.3.6.1.6.3.1.1.5.4", "eth2");  // linkUp clears it
  CHECK(h.open_alerts(rule.rule.id).empty());
}

TEST_CASE("engine: a rule scoped to a device ignores the others", "[alerts][engine]") {
  AlertHarness h;
  auto a = h.add_device("a", "10.4.0.1");
  auto b = h.add_device("b", "10.4.0.2");
  auto rule = h.add_rule(fmt::format(
      R"({{"name": "a only", "kind": "device_down", "scope": {{"device_ids": [{}]}}}})", a.id));
  h.set_status(b, DeviceStatus::kDown);
  CHECK(h.open_alerts(rule.rule.id).empty());
  h.set_status(a, DeviceStatus::kDown);
  REQUIRE(h.open_alerts(rule.rule.id).size() == 1);
  CHECK(h.open_alerts(rule.rule.id)[0].device_id == a.id);
  CHECK(h.open_alerts(rule.rule.id)[0].device_name == "a");
}

TEST_CASE("engine: a rule made while a device is already down raises its alert at once",
          "[alerts][engine]") {
  AlertHarness h;
  auto d = h.add_device("r", "10.5.0.1");
  h.set_status(d, DeviceStatus::kDown);
  auto rule = h.add_rule(R"({"name": "Device down", "kind": "device_down"})");
  h.settle();
  REQUIRE(h.open_alerts(rule.rule.id).size() == 1);
}

TEST_CASE("engine: a device going from down to unreachable keeps its alert, relabelled",
          "[alerts][engine]") {
  AlertHarness h;
  auto rule = h.add_rule(R"({"name": "Device down", "kind": "device_down"})");
  auto parent = h.add_device("p", "10.6.0.1");
  auto d = h.add_device("r", "10.6.0.2", {parent.id});
  h.set_status(d, DeviceStatus::kDown);
  auto open = h.open_alerts(rule.rule.id);
  REQUIRE(open.size() == 1);
  const auto id = open[0].id;
  CHECK(open[0].labels.at("status") == "down");
  h.set_status(parent, DeviceStatus::kDown);  // the child is now behind a failure: a symptom
  h.set_status(d, DeviceStatus::kUnreachable);
  auto detail = h.engine->get_alert(h.scope, id);
  REQUIRE(detail);
  CHECK(detail->alert.status == AlertStatus::kFiring);
  CHECK(detail->alert.labels.at("status") == "unreachable");
  CHECK(detail->alert.symptom_of.has_value());
  std::vector<std::string> mine;
  for (auto& c : h.changes) {
    if (c.alert.id == id) mine.push_back(c.transition);
  }
  CHECK(mine == std::vector<std::string>{"pending", "firing", "symptom", "updated"});
  // The history keeps status changes and the link to the root, not the relabelling.
  CHECK(detail->history.size() == 3);
}

// The alert engine's topology correlation against the real binary and real pings (issue 14): a
// core with 5 distribution devices and 50 CPE behind them (10 per distribution), every one an
// address inside a network namespace the test makes. The core's link goes down → one open
// incident whose root is the core's "Device down" alert, impact 55, the 55 devices behind it
// symptoms of that alert; the link comes back → every alert resolves and so does the incident.
// Then one distribution device fails alone → an incident of its own with impact 10.
//
// The network and the inventory are tests/support/netns_topology.hpp's (shared with the
// notifier's topology test).
//
// The pollers decide status as docs/pollers.md says: a device is down after `down_after` failed
// cycles, and unreachable instead when all its parents are down or unreachable; the engine
// raises "Device down" for both and correlates them. Devices are polled every second with
// 300 ms echo timeouts, so each change is seen within a few seconds.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "support/eventually.hpp"
#include "support/netns_topology.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"

using netpulse::test::eventually;
using netpulse::test::HttpClient;
using netpulse::test::kAdminEmail;
using netpulse::test::kAdminPassword;
using netpulse::test::login;
using netpulse::test::NetnsTopology;
using netpulse::test::ServerProcess;
using netpulse::test::TempDir;

namespace {

constexpr auto kStatusChange = std::chrono::seconds(30);  // a few poll cycles, with margin

boost::json::value data_of(HttpClient& c, const std::string& token, const std::string& target) {
  auto r = c.get(target, token);
  INFO(target << " -> " << r.body);
  REQUIRE(r.status == 200);
  return r.json().at("data");
}

boost::json::array open_alerts(HttpClient& c, const std::string& token) {
  return data_of(c, token, "/api/v1/alerts?open=true&per_page=500").as_array();
}

boost::json::array open_incidents(HttpClient& c, const std::string& token) {
  return data_of(c, token, "/api/v1/incidents?open=true&per_page=500").as_array();
}

boost::json::object incident(HttpClient& c, const std::string& token, std::int64_t id) {
  return data_of(c, token, "/api/v1/incidents/" + std::to_string(id)).as_object();
}

std::int64_t id_of(const boost::json::value& v) {
  return v.as_int64();
}

// The device ids of an incident's symptoms of kind device_down.
std::set<std::int64_t> device_down_symptoms(const boost::json::object& detail) {
  std::set<std::int64_t> out;
  for (auto& s : detail.at("symptoms").as_array()) {
    if (s.at("kind") == "device_down") out.insert(id_of(s.at("device_id")));
  }
  return out;
}

// Whether the organization has exactly one open incident, rooted at `root_device` with
// `behind` (exactly) as its impacted devices, each of them with a "Device down" symptom.
bool one_incident_rooted_at(HttpClient& c, const std::string& token, std::int64_t root_device,
                            const std::set<std::int64_t>& behind) {
  auto open = open_incidents(c, token);
  if (open.size() != 1 || open.front().at("root_device_id") != root_device) return false;
  auto detail = incident(c, token, id_of(open.front().at("id")));
  std::set<std::int64_t> impacted;
  for (auto& d : detail.at("impacted_devices").as_array()) impacted.insert(id_of(d));
  return impacted == behind && device_down_symptoms(detail) == behind;
}

// The full assertions on the one open incident rooted at `root_device` (the wait above has seen
// it): its root alert, symptoms and impact, and every open alert of the organization in it.
// Returns the incident's id.
std::int64_t check_incident(HttpClient& c, const std::string& token, std::int64_t root_device,
                            const std::set<std::int64_t>& behind) {
  const auto expected_impact = static_cast<std::int64_t>(behind.size());
  auto open = open_incidents(c, token);
  REQUIRE(open.size() == 1);
  const auto incident_id = id_of(open.front().at("id"));
  auto detail = incident(c, token, incident_id);
  INFO(boost::json::serialize(detail));
  CHECK(detail.at("status") == "open");
  CHECK(detail.at("impact").as_int64() == expected_impact);
  CHECK(detail.at("root_device_id").as_int64() == root_device);

  // The root: the device's "Device down" alert, firing, with the impact.
  const auto& root = detail.at("root");
  REQUIRE(root.is_object());
  const auto root_alert = id_of(root.at("id"));
  CHECK(id_of(detail.at("root_alert_id")) == root_alert);
  CHECK(root.at("kind") == "device_down");
  CHECK(root.at("rule_name") == "Device down");
  CHECK(root.at("device_id").as_int64() == root_device);
  CHECK(root.at("status") == "firing");
  CHECK(root.at("symptom_of").is_null());
  CHECK(root.at("incident_id").as_int64() == incident_id);
  CHECK(root.at("impact").as_int64() == expected_impact);

  // The symptoms: one "Device down" per device behind, each linked to the root alert; every
  // symptom (of any kind: the default packet-loss rule's pending alerts too) is linked to it.
  // symptom_count counts devices (55 behind a dead core), symptom_alerts the alerts.
  CHECK(device_down_symptoms(detail) == behind);
  const auto& symptoms = detail.at("symptoms").as_array();
  CHECK(detail.at("symptom_count").as_int64() == expected_impact);
  CHECK(detail.at("symptom_alerts").as_int64() == static_cast<std::int64_t>(symptoms.size()));
  for (auto& s : symptoms) {
    INFO(boost::json::serialize(s));
    CHECK(s.at("symptom_of").as_int64() == root_alert);
    CHECK(s.at("incident_id").as_int64() == incident_id);
    CHECK_FALSE(s.as_object().contains("impact"));
  }

  // The alerts console: every open alert is the root or one of its symptoms, and among the
  // "Device down" alerts exactly one is not a symptom — the root.
  auto alerts = open_alerts(c, token);
  std::size_t device_down = 0;
  std::vector<std::int64_t> not_symptoms;
  for (auto& a : alerts) {
    INFO(boost::json::serialize(a));
    CHECK(a.at("incident_id") == incident_id);
    if (a.at("kind") != "device_down") continue;
    ++device_down;
    if (a.at("symptom_of").is_null()) {
      not_symptoms.push_back(id_of(a.at("id")));
    } else {
      CHECK(a.at("symptom_of").as_int64() == root_alert);
    }
  }
  CHECK(device_down == behind.size() + 1);
  CHECK(not_symptoms == std::vector<std::int64_t>{root_alert});
  CHECK(alerts.size() == symptoms.size() + 1);
  return incident_id;
}

}  // namespace

TEST_CASE(
    "alerts: a core down with 55 devices behind it is one incident with 55 symptoms; a "
    "distribution device down alone is one with impact 10",
    "[alerts][integration][netns]") {
  NetnsTopology net;
  REQUIRE(net.ok());  // this machine can make namespaces (support/catch_main.cpp probed it)
  TempDir dir;
  ServerProcess server(dir.path(), netpulse::test::topology_polling_env());
  auto c = server.client();
  auto admin = login(c, kAdminEmail, kAdminPassword);

  const auto devices = netpulse::test::create_topology_devices(c, admin, net);
  const auto core = devices.core;
  const auto& dists = devices.dists;
  const auto& cpe_of = devices.cpe_of;
  const auto& behind_core = devices.behind_core;
  auto all_are = [&](const std::set<std::int64_t>& ids, std::set<std::string> ok) {
    return netpulse::test::all_devices_are(c, admin, ids, ok);
  };
  const auto everything = devices.all();
  REQUIRE(eventually([&] { return all_are(everything, {"up"}); }, kStatusChange));
  CHECK(open_alerts(c, admin).empty());
  CHECK(open_incidents(c, admin).empty());

  // The core's link goes down: the core is down, the 55 behind it unreachable.
  net.set_core_link(false);
  REQUIRE(eventually([&] { return all_are({core}, {"down"}); }, kStatusChange));
  REQUIRE(eventually([&] { return all_are(behind_core, {"unreachable"}); }, kStatusChange));
  REQUIRE(eventually([&] { return one_incident_rooted_at(c, admin, core, behind_core); },
                     kStatusChange));
  const auto core_incident = check_incident(c, admin, core, behind_core);

  // Devices the pollers saw fail before the core (they are polled at different phases of the
  // second) were roots for a moment; once the core was down they became its symptoms and their
  // incidents resolved. None is left open, and the core's incident is the only open one.
  const auto all_incidents = data_of(c, admin, "/api/v1/incidents?per_page=500");
  for (auto& i : all_incidents.as_array()) {
    INFO(boost::json::serialize(i));
    if (id_of(i.at("id")) != core_incident) CHECK(i.at("status") == "resolved");
  }

  // The link comes back: every alert resolves, and the incident with them.
  net.set_core_link(true);
  REQUIRE(eventually([&] { return all_are(everything, {"up"}); }, kStatusChange));
  REQUIRE(eventually([&] { return open_alerts(c, admin).empty(); }, kStatusChange));
  CHECK(open_incidents(c, admin).empty());
  {
    auto detail = incident(c, admin, core_incident);
    INFO(boost::json::serialize(detail));
    CHECK(detail.at("status") == "resolved");
    CHECK(detail.at("resolved_at").is_string());
    CHECK(detail.at("root").at("status") == "resolved");
  }
  auto core_alerts =
      data_of(c, admin, "/api/v1/alerts?per_page=500&device=" + std::to_string(core)).as_array();
  INFO(boost::json::serialize(core_alerts));
  CHECK(std::none_of(core_alerts.begin(), core_alerts.end(),
                     [](auto& a) { return a.at("status") != "resolved"; }));

  // Distribution device 2 fails alone: its own incident, impact 10, its CPE its symptoms; the
  // core and the other distribution devices stay up.
  const int failed = 2;
  net.fail_distribution(failed);
  REQUIRE(eventually([&] { return all_are({dists[failed]}, {"down"}); }, kStatusChange));
  REQUIRE(eventually([&] { return all_are(cpe_of[failed], {"unreachable"}); }, kStatusChange));
  REQUIRE(
      eventually([&] { return one_incident_rooted_at(c, admin, dists[failed], cpe_of[failed]); },
                 kStatusChange));
  const auto dist_incident = check_incident(c, admin, dists[failed], cpe_of[failed]);
  CHECK(dist_incident != core_incident);
  auto others = everything;
  others.erase(dists[failed]);
  for (auto id : cpe_of[failed]) others.erase(id);
  CHECK(others.size() == 45);
  CHECK(all_are(others, {"up"}));
  CHECK(server.running());
}

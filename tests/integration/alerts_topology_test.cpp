// The alert engine's topology correlation against the real binary and real pings (issue 14): a
// core with 5 distribution devices and 50 CPE behind them (10 per distribution), every one an
// address inside a network namespace the test makes. The core's link goes down → one open
// incident whose root is the core's "Device down" alert, impact 55, the 55 devices behind it
// symptoms of that alert; the link comes back → every alert resolves and so does the incident.
// Then one distribution device fails alone → an incident of its own with impact 10.
//
// The network: one veth pair from our namespace into the test's, the core's address on its far
// end (the core's link). Each distribution device has its own interface inside the namespace
// (one end of a veth pair) holding its address and those of its 10 CPE: the CPE are reached
// through it, so they fail with it. Our side routes the whole /24 of device addresses through
// the core's link. "The core's link goes down" is the far end of the first pair set down: none of
// the 56 addresses answers. "A distribution device fails" is its interface losing its addresses
// (ip addr flush): its address and its CPE's stop being local to the namespace, which does not
// forward, so those 11 stop answering while the core and the other distribution devices go on
// answering. (Setting that interface down would not do: Linux keeps an IPv4 address local while
// its interface is down, and the namespace would go on answering for it.)
//
// The pollers decide status as docs/pollers.md says: a device is down after `down_after` failed
// cycles, and unreachable instead when all its parents are down or unreachable; the engine
// raises "Device down" for both and correlates them. Devices are polled every second with
// 300 ms echo timeouts, so each change is seen within a few seconds.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unistd.h>
#include <vector>

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "support/child_process.hpp"
#include "support/eventually.hpp"
#include "support/netns.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"

using netpulse::test::eventually;
using netpulse::test::HttpClient;
using netpulse::test::kAdminEmail;
using netpulse::test::kAdminPassword;
using netpulse::test::login;
using netpulse::test::ServerProcess;
using netpulse::test::sh;
using netpulse::test::TempDir;

namespace {

constexpr int kDistributions = 5;
constexpr int kCpePerDistribution = 10;
constexpr auto kStatusChange = std::chrono::seconds(30);  // a few poll cycles, with margin

std::string in_ns(const std::string& ns, const std::string& cmd) {
  return "ip netns exec " + ns + " " + cmd;
}

// The namespace, its links and addresses (see the top of the file). Removed by name, with
// every link in it and our end of the core's link, when it goes.
struct NetnsTopology {
  std::string ns, host_if, core_if, host_ip, core_link_ip;
  std::string core_ip;
  std::vector<std::string> dist_ips;              // [d]
  std::vector<std::vector<std::string>> cpe_ips;  // [d][c]
  bool ok = false;

  static std::string dist_if(int d) { return "npdist" + std::to_string(d); }

  NetnsTopology() {
    // Namespaces of earlier runs that were killed before their destructor ran: their test
    // process (whose PID is in the name) is gone.
    netpulse::test::remove_stale_namespaces("np-alrt-", "npa");
    const auto tag = std::to_string(::getpid());
    ns = "np-alrt-" + tag;
    host_if = "npa" + tag;
    core_if = "npc" + tag;
    const auto octet = std::to_string(::getpid() % 200 + 20);
    host_ip = "10.233." + octet + ".1";
    core_link_ip = "10.233." + octet + ".2";
    const auto net = "10.234." + octet + ".";
    core_ip = net + "1";
    for (int d = 0; d < kDistributions; ++d) {
      const int base = 20 * (d + 1);
      dist_ips.push_back(net + std::to_string(base));
      cpe_ips.emplace_back();
      for (int c = 1; c <= kCpePerDistribution; ++c) {
        cpe_ips.back().push_back(net + std::to_string(base + c));
      }
    }
    netpulse::test::require_installed("/usr/bin/ip", "iproute2");
    ok = sh("ip netns add " + ns) == 0 &&
         sh("ip link add " + host_if + " type veth peer name " + core_if) == 0 &&
         sh("ip link set " + core_if + " netns " + ns) == 0 &&
         sh("ip addr add " + host_ip + "/30 dev " + host_if) == 0 &&
         sh("ip link set " + host_if + " up") == 0 && sh(in_ns(ns, "ip link set lo up")) == 0 &&
         sh(in_ns(ns, "ip addr add " + core_link_ip + "/30 dev " + core_if)) == 0 &&
         sh(in_ns(ns, "ip addr add " + core_ip + "/32 dev " + core_if)) == 0 &&
         sh(in_ns(ns, "ip link set " + core_if + " up")) == 0 &&
         sh("ip route add " + net + "0/24 via " + core_link_ip) == 0;
    for (int d = 0; ok && d < kDistributions; ++d) {
      const auto dev = dist_if(d);
      ok = sh(in_ns(ns, "ip link add " + dev + " type veth peer name " + dev + "p")) == 0 &&
           sh(in_ns(ns, "ip addr add " + dist_ips[d] + "/32 dev " + dev)) == 0;
      for (auto& ip : cpe_ips[d])
        ok = ok && sh(in_ns(ns, "ip addr add " + ip + "/32 dev " + dev)) == 0;
      ok = ok && sh(in_ns(ns, "ip link set " + dev + "p up")) == 0 &&
           sh(in_ns(ns, "ip link set " + dev + " up")) == 0;
    }
  }
  ~NetnsTopology() {
    sh("ip link del " + host_if);
    sh("ip netns del " + ns);
  }
  void set_core_link(bool up) {
    REQUIRE(sh(in_ns(ns, "ip link set " + core_if + (up ? " up" : " down"))) == 0);
  }
  void fail_distribution(int d) { REQUIRE(sh(in_ns(ns, "ip addr flush dev " + dist_if(d))) == 0); }
};

std::int64_t create_device(HttpClient& c, const std::string& token, const std::string& name,
                           const std::string& address, const std::string& type,
                           std::optional<std::int64_t> parent) {
  std::string body = R"({"name":")" + name + R"(","address":")" + address + R"(","type":")" + type +
                     R"(","poll_interval_s":1)";
  if (parent) body += R"(,"parents":[)" + std::to_string(*parent) + "]";
  body += "}";
  auto r = c.post_json("/api/v1/devices", body, token);
  INFO(r.body);
  REQUIRE(r.status == 201);
  return r.json().at("data").at("id").as_int64();
}

boost::json::value data_of(HttpClient& c, const std::string& token, const std::string& target) {
  auto r = c.get(target, token);
  INFO(target << " -> " << r.body);
  REQUIRE(r.status == 200);
  return r.json().at("data");
}

// Every device's status, by id.
std::map<std::int64_t, std::string> statuses(HttpClient& c, const std::string& token) {
  std::map<std::int64_t, std::string> out;
  const auto devices = data_of(c, token, "/api/v1/devices?per_page=500");
  for (auto& d : devices.as_array()) {
    out[d.at("id").as_int64()] = std::string(d.at("status").as_string());
  }
  return out;
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
  REQUIRE(net.ok);  // this machine can make namespaces (support/catch_main.cpp probed it)
  TempDir dir;
  ServerProcess server(dir.path(), {{"NETPULSE_POLLERS_DOWN_AFTER", "2"},
                                    {"NETPULSE_POLLERS_ICMP_TIMEOUT_MS", "300"},
                                    {"NETPULSE_POLLERS_ICMP_ECHO_INTERVAL_MS", "50"}});
  auto c = server.client();
  auto admin = login(c, kAdminEmail, kAdminPassword);

  const auto core = create_device(c, admin, "core", net.core_ip, "router", std::nullopt);
  std::vector<std::int64_t> dists;
  std::vector<std::set<std::int64_t>> cpe_of(kDistributions);
  std::set<std::int64_t> behind_core;
  for (int d = 0; d < kDistributions; ++d) {
    dists.push_back(
        create_device(c, admin, "dist-" + std::to_string(d), net.dist_ips[d], "switch", core));
    behind_core.insert(dists.back());
    for (int k = 0; k < kCpePerDistribution; ++k) {
      const auto id = create_device(c, admin, "cpe-" + std::to_string(d) + "-" + std::to_string(k),
                                    net.cpe_ips[d][k], "cpe", dists.back());
      cpe_of[d].insert(id);
      behind_core.insert(id);
    }
  }
  REQUIRE(behind_core.size() == 55);

  auto all_are = [&](const std::set<std::int64_t>& ids, std::initializer_list<const char*> ok) {
    auto now = statuses(c, admin);
    return std::all_of(ids.begin(), ids.end(), [&](std::int64_t id) {
      return std::any_of(ok.begin(), ok.end(), [&](const char* s) { return now[id] == s; });
    });
  };
  auto everything = behind_core;
  everything.insert(core);
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

// Discovery scans on fake engines (tests/unit/pollers/fake_engines.hpp) and a real Inventory: a
// range is pinged, the hosts that answer are asked for their system group with each credential
// set in turn and for their LLDP neighbours, and the job proposes devices (name, type, vendor,
// the credentials that worked) and parent links, noting addresses the inventory already has.
#include <algorithm>
#include <optional>
#include <string>

#include <catch2/catch.hpp>

#include <netpulse/pollers/discovery.hpp>

#include "poller_harness.hpp"

using namespace netpulse;
using namespace std::chrono_literals;
using pollers::DiscoveryJob;
using pollers::Oid;
using test::PollerHarness;

namespace {

void script_system(test::FakeSnmp& snmp, const std::string& address, const std::string& descr,
                   const std::string& name, std::uint32_t enterprise) {
  snmp.set(address, Oid{1, 3, 6, 1, 2, 1, 1, 1, 0}, descr);
  snmp.set(address, Oid{1, 3, 6, 1, 2, 1, 1, 2, 0}, Oid{1, 3, 6, 1, 4, 1, enterprise, 1});
  snmp.set(address, Oid{1, 3, 6, 1, 2, 1, 1, 3, 0}, pollers::TimeTicks{4200});
  snmp.set(address, Oid{1, 3, 6, 1, 2, 1, 1, 5, 0}, name);
  snmp.set(address, Oid{1, 3, 6, 1, 2, 1, 1, 6, 0}, std::string("pop 1"));
}

// One lldpRemTable row (time mark 0, local port `port`, index 1) naming a neighbour.
void script_lldp_neighbour(test::FakeSnmp& snmp, const std::string& address, std::uint32_t port,
                           const std::string& remote_name) {
  const std::uint32_t base[] = {1, 0, 8802, 1, 1, 2, 1, 4, 1, 1};
  auto column = [&](std::uint32_t c) {
    Oid oid;
    for (auto arc : base) oid.push_back(arc);
    for (auto arc : {c, 0u, port, 1u}) oid.push_back(arc);
    return oid;
  };
  snmp.set(address, column(5), std::string("00:11:22:33:44:55"));
  snmp.set(address, column(7), std::string("ge-0/0/") + std::to_string(port));
  snmp.set(address, column(9), remote_name);
}

devices::SnmpCredentials community(const std::string& c) {
  devices::SnmpCredentials creds;
  creds.settings.version = devices::SnmpVersion::kV2c;
  creds.secrets.community = c;
  return creds;
}

DiscoveryJob run_scan(PollerHarness& h, pollers::Discovery& discovery,
                      pollers::DiscoveryRequest request) {
  auto started = discovery.start(core::OrgScope::trusted(1), std::move(request));
  REQUIRE(started);
  CHECK(started->state == DiscoveryJob::State::kRunning);
  std::optional<DiscoveryJob> job;
  REQUIRE(h.run_until([&] {
    auto now = discovery.get(core::OrgScope::trusted(1), started->id);
    if (now && now->state != DiscoveryJob::State::kRunning) job = *now;
    return job.has_value();
  }));
  return *job;
}

const pollers::DiscoveredHost* host(const DiscoveryJob& job, const std::string& address) {
  for (auto& h : job.hosts) {
    if (h.address == address) return &h;
  }
  return nullptr;
}

}  // namespace

TEST_CASE(
    "discovery: a range scan proposes the hosts that answer, typed from SNMP, with parent "
    "links from LLDP",
    "[pollers][discovery]") {
  PollerHarness h;
  // Already in the inventory: a router the new switch also sees, and the address of a CPE.
  auto edge = [&] {
    devices::NewDevice d;
    d.name = "edge-router";
    d.address = "10.9.9.9";
    d.type = devices::DeviceType::kRouter;
    auto r = h.wait<devices::Device>(
        [&](auto done) { h.inventory->create(core::OrgScope::trusted(1), d, done); });
    REQUIRE(r);
    return *r;
  }();
  const auto known_cpe = h.add_device("cpe-7", "10.0.0.3");

  // 10.0.0.0/29: hosts .1 to .6. .1 is a router, .2 a switch below it and below edge-router,
  // .3 answers ping only, the rest are silent.
  for (auto a : {"10.0.0.1", "10.0.0.2", "10.0.0.3"}) h.pinger.set_answering(a, true, 1.5);
  script_system(h.snmp, "10.0.0.1", "RouterOS 7.12 (router)", "core-router", 14988);
  script_system(h.snmp, "10.0.0.2", "Cisco Catalyst 2960 switch", "access-sw1", 9);
  script_lldp_neighbour(h.snmp, "10.0.0.2", 1, "core-router");
  script_lldp_neighbour(h.snmp, "10.0.0.2", 2, "EDGE-ROUTER");  // names match without case
  script_lldp_neighbour(h.snmp, "10.0.0.1", 3, "access-sw1");   // a child: no link proposed
  pollers::Discovery discovery(h.io.get_executor(), h.clock, &h.pinger, &h.snmp, *h.inventory, {});

  pollers::DiscoveryRequest request;
  request.cidr = "10.0.0.0/29";
  request.snmp = {community("public")};
  const auto job = run_scan(h, discovery, request);

  CHECK(job.state == DiscoveryJob::State::kDone);
  CHECK(job.total == 6);
  CHECK(job.scanned == 6);
  CHECK(job.answered == 3);
  CHECK(job.snmp == 2);
  REQUIRE(job.hosts.size() == 3);
  CHECK(h.pinger.echoes.size() == 6);
  // Only the hosts that answered ping were asked over SNMP.
  for (auto& r : h.snmp.requests) {
    CHECK((r.address == "10.0.0.1" || r.address == "10.0.0.2" || r.address == "10.0.0.3"));
  }

  const auto* router = host(job, "10.0.0.1");
  REQUIRE(router);
  CHECK(router->icmp_answered);
  CHECK(router->rtt_ms == Approx(1.5));
  CHECK(router->snmp_credential == 0u);
  CHECK(router->proposal.name == "core-router");
  CHECK(router->proposal.address == "10.0.0.1");
  CHECK(router->proposal.type == devices::DeviceType::kRouter);
  CHECK(router->proposal.vendor == "MikroTik");
  REQUIRE(router->proposal.snmp);
  CHECK(router->proposal.snmp->secrets.community == "public");
  CHECK(router->proposed_parent_addresses.empty());
  CHECK(router->proposed_parent_ids.empty());
  CHECK_FALSE(router->existing_device_id);

  const auto* sw = host(job, "10.0.0.2");
  REQUIRE(sw);
  CHECK(sw->proposal.type == devices::DeviceType::kSwitch);
  CHECK(sw->proposal.vendor == "Cisco");
  REQUIRE(sw->neighbours.size() == 2);
  CHECK(sw->proposed_parent_addresses == std::vector<std::string>{"10.0.0.1"});
  CHECK(sw->proposed_parent_ids == std::vector<std::int64_t>{edge.id});

  const auto* cpe = host(job, "10.0.0.3");
  REQUIRE(cpe);
  CHECK(cpe->icmp_answered);
  CHECK_FALSE(cpe->snmp_credential);
  CHECK(cpe->proposal.name == "10.0.0.3");  // no sysName: named by its address
  CHECK_FALSE(cpe->proposal.snmp);
  CHECK(cpe->existing_device_id == known_cpe.id);
}

TEST_CASE("discovery: credential sets are tried in turn and the one that answered is proposed",
          "[pollers][discovery]") {
  PollerHarness h;
  h.pinger.set_answering("10.1.0.1", true);
  script_system(h.snmp, "10.1.0.1", "Linux server", "nms", 8072);
  h.snmp.agents["10.1.0.1"].community = "second";
  pollers::Discovery discovery(h.io.get_executor(), h.clock, &h.pinger, &h.snmp, *h.inventory, {});

  pollers::DiscoveryRequest request;
  request.cidr = "10.1.0.1/32";
  request.snmp = {community("first"), community("second"), community("third")};
  const auto job = run_scan(h, discovery, request);

  REQUIRE(job.hosts.size() == 1);
  const auto& server = job.hosts[0];
  CHECK(server.snmp_credential == 1u);
  REQUIRE(server.proposal.snmp);
  CHECK(server.proposal.snmp->secrets.community == "second");
  CHECK(server.proposal.type == devices::DeviceType::kServer);
  // "first" was tried and failed; "third" was never needed.
  std::vector<std::string> tried;
  for (auto& r : h.snmp.requests) {
    if (r.kind == "get") tried.push_back(r.community);
  }
  CHECK(tried == std::vector<std::string>{"first", "second"});
}

TEST_CASE(
    "discovery: with ICMP off every address is asked over SNMP and only agents are "
    "proposed",
    "[pollers][discovery]") {
  PollerHarness h;
  script_system(h.snmp, "10.2.0.5", "Huawei VRP router", "agg-1", 2011);
  pollers::Discovery discovery(h.io.get_executor(), h.clock, &h.pinger, &h.snmp, *h.inventory, {});

  pollers::DiscoveryRequest request;
  request.cidr = "10.2.0.0/28";
  request.icmp = false;
  request.snmp = {community("public")};
  const auto job = run_scan(h, discovery, request);

  CHECK(job.total == 14);
  CHECK(job.scanned == 14);
  CHECK(h.pinger.echoes.empty());
  CHECK(h.snmp.requests.size() >= 14);  // one GET per address, plus the agent's LLDP walk
  REQUIRE(job.hosts.size() == 1);
  CHECK(job.hosts[0].address == "10.2.0.5");
  CHECK_FALSE(job.hosts[0].icmp_answered);
  CHECK(job.hosts[0].proposal.vendor == "Huawei");
  CHECK(job.hosts[0].proposal.type == devices::DeviceType::kRouter);
}

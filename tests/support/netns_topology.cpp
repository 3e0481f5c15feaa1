#include "support/netns_topology.hpp"

#include <optional>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "support/child_process.hpp"
#include "support/netns.hpp"

namespace netpulse::test {

namespace {

std::string in_ns(const std::string& ns, const std::string& cmd) {
  return "ip netns exec " + ns + " " + cmd;
}

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
  const auto doc = r.json();
  return doc.at("data").at("id").as_int64();
}

}  // namespace

std::string NetnsTopology::dist_if(int d) {
  return "npdist" + std::to_string(d);
}

NetnsTopology::NetnsTopology() {
  // Namespaces of earlier runs that were killed before their destructor ran: their test
  // process (whose PID is in the name) is gone.
  remove_stale_namespaces("np-alrt-", "npa");
  const auto tag = std::to_string(::getpid());
  ns_ = "np-alrt-" + tag;
  host_if_ = "npa" + tag;
  core_if_ = "npc" + tag;
  const auto octet = std::to_string(::getpid() % 200 + 20);
  host_ip_ = "10.233." + octet + ".1";
  core_link_ip_ = "10.233." + octet + ".2";
  const auto net = "10.234." + octet + ".";
  core_ip_ = net + "1";
  for (int d = 0; d < kTopologyDistributions; ++d) {
    const int base = 20 * (d + 1);
    dist_ips_.push_back(net + std::to_string(base));
    cpe_ips_.emplace_back();
    for (int c = 1; c <= kTopologyCpePerDistribution; ++c) {
      cpe_ips_.back().push_back(net + std::to_string(base + c));
    }
  }
  require_installed("/usr/bin/ip", "iproute2");
  ok_ = sh("ip netns add " + ns_) == 0 &&
        sh("ip link add " + host_if_ + " type veth peer name " + core_if_) == 0 &&
        sh("ip link set " + core_if_ + " netns " + ns_) == 0 &&
        sh("ip addr add " + host_ip_ + "/30 dev " + host_if_) == 0 &&
        sh("ip link set " + host_if_ + " up") == 0 && sh(in_ns(ns_, "ip link set lo up")) == 0 &&
        sh(in_ns(ns_, "ip addr add " + core_link_ip_ + "/30 dev " + core_if_)) == 0 &&
        sh(in_ns(ns_, "ip addr add " + core_ip_ + "/32 dev " + core_if_)) == 0 &&
        sh(in_ns(ns_, "ip link set " + core_if_ + " up")) == 0 &&
        sh("ip route add " + net + "0/24 via " + core_link_ip_) == 0;
  for (int d = 0; ok_ && d < kTopologyDistributions; ++d) {
    const auto dev = dist_if(d);
    ok_ = sh(in_ns(ns_, "ip link add " + dev + " type veth peer name " + dev + "p")) == 0 &&
          sh(in_ns(ns_, "ip addr add " + dist_ips_[d] + "/32 dev " + dev)) == 0;
    for (auto& ip : cpe_ips_[d])
      ok_ = ok_ && sh(in_ns(ns_, "ip addr add " + ip + "/32 dev " + dev)) == 0;
    ok_ = ok_ && sh(in_ns(ns_, "ip link set " + dev + "p up")) == 0 &&
          sh(in_ns(ns_, "ip link set " + dev + " up")) == 0;
  }
}

NetnsTopology::~NetnsTopology() {
  sh("ip link del " + host_if_);
  sh("ip netns del " + ns_);
}

void NetnsTopology::set_core_link(bool up) {
  REQUIRE(sh(in_ns(ns_, "ip link set " + core_if_ + (up ? " up" : " down"))) == 0);
}

void NetnsTopology::fail_distribution(int d) {
  REQUIRE(sh(in_ns(ns_, "ip addr flush dev " + dist_if(d))) == 0);
}

std::set<std::int64_t> TopologyDevices::all() const {
  auto out = behind_core;
  out.insert(core);
  return out;
}

TopologyDevices create_topology_devices(HttpClient& c, const std::string& token,
                                        const NetnsTopology& net) {
  TopologyDevices t;
  t.core = create_device(c, token, "core", net.core_ip(), "router", std::nullopt);
  t.cpe_of.resize(kTopologyDistributions);
  for (int d = 0; d < kTopologyDistributions; ++d) {
    t.dists.push_back(
        create_device(c, token, "dist-" + std::to_string(d), net.dist_ip(d), "switch", t.core));
    t.behind_core.insert(t.dists.back());
    for (int k = 0; k < kTopologyCpePerDistribution; ++k) {
      const auto id = create_device(c, token, "cpe-" + std::to_string(d) + "-" + std::to_string(k),
                                    net.cpe_ip(d, k), "cpe", t.dists.back());
      t.cpe_of[d].insert(id);
      t.behind_core.insert(id);
    }
  }
  REQUIRE(t.behind_core.size() == 55);
  return t;
}

std::map<std::string, std::string> topology_polling_env() {
  return {{"NETPULSE_POLLERS_DOWN_AFTER", "2"},
          {"NETPULSE_POLLERS_ICMP_TIMEOUT_MS", "300"},
          {"NETPULSE_POLLERS_ICMP_ECHO_INTERVAL_MS", "50"}};
}

std::map<std::int64_t, std::string> device_statuses(HttpClient& c, const std::string& token) {
  auto r = c.get("/api/v1/devices?per_page=500", token);
  INFO(r.body);
  REQUIRE(r.status == 200);
  const auto doc = r.json();
  std::map<std::int64_t, std::string> out;
  for (auto& d : doc.at("data").as_array()) {
    out[d.at("id").as_int64()] = std::string(d.at("status").as_string());
  }
  return out;
}

bool all_devices_are(HttpClient& c, const std::string& token, const std::set<std::int64_t>& ids,
                     const std::set<std::string>& statuses) {
  const auto now = device_statuses(c, token);
  for (auto id : ids) {
    auto it = now.find(id);
    if (it == now.end() || !statuses.contains(it->second)) return false;
  }
  return true;
}

}  // namespace netpulse::test

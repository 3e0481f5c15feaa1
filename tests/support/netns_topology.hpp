// The 56-device topology of the topology tests (alerts: correlation; notify: the root's one
// message), every device an address inside a network namespace the test makes, as root (the
// [netns] capability): a core with 5 distribution devices and 50 CPE behind them (10 per
// distribution).
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
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "support/http_client.hpp"

namespace netpulse::test {

inline constexpr int kTopologyDistributions = 5;
inline constexpr int kTopologyCpePerDistribution = 10;

// The namespace, its links and addresses. Removed by name, with every link in it and our end of
// the core's link, when it goes.
class NetnsTopology {
 public:
  // Builds the network; ok() says whether every step worked. Namespaces of earlier runs killed
  // before their destructor ran are removed first.
  NetnsTopology();
  ~NetnsTopology();
  NetnsTopology(const NetnsTopology&) = delete;
  NetnsTopology& operator=(const NetnsTopology&) = delete;

  bool ok() const noexcept { return ok_; }
  const std::string& core_ip() const noexcept { return core_ip_; }
  const std::string& dist_ip(int d) const { return dist_ips_.at(d); }
  const std::string& cpe_ip(int d, int c) const { return cpe_ips_.at(d).at(c); }

  // The core's link down (nothing answers) or up again. REQUIREs success.
  void set_core_link(bool up);
  // Distribution device `d` and its CPE stop answering. REQUIREs success.
  void fail_distribution(int d);

 private:
  static std::string dist_if(int d);

  std::string ns_, host_if_, core_if_, host_ip_, core_link_ip_, core_ip_;
  std::vector<std::string> dist_ips_;              // [d]
  std::vector<std::vector<std::string>> cpe_ips_;  // [d][c]
  bool ok_ = false;
};

// The topology's devices in a server's inventory, by id.
struct TopologyDevices {
  std::int64_t core = 0;
  std::vector<std::int64_t> dists;             // [d]
  std::vector<std::set<std::int64_t>> cpe_of;  // [d]: the CPE behind distribution d
  std::set<std::int64_t> behind_core;          // the 55 devices behind the core
  std::set<std::int64_t> all() const;          // the 56
};

// Creates the 56 devices through the API, polled every second: "core" (router), "dist-<d>"
// (switches, parent the core) and "cpe-<d>-<c>" (parent their distribution device). REQUIREs
// each to be created.
TopologyDevices create_topology_devices(HttpClient& client, const std::string& token,
                                        const NetnsTopology& net);

// The server environment of the topology tests: devices down after 2 failed 1 s cycles, 300 ms
// echo timeouts, so each change is seen within a few seconds.
std::map<std::string, std::string> topology_polling_env();

// Every device's status ("up", "down", "unreachable", ...) by id.
std::map<std::int64_t, std::string> device_statuses(HttpClient& client, const std::string& token);

// Whether every device of `ids` has one of the `statuses`.
bool all_devices_are(HttpClient& client, const std::string& token,
                     const std::set<std::int64_t>& ids, const std::set<std::string>& statuses);

}  // namespace netpulse::test

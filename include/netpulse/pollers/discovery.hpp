// Discovery: scans a CIDR (bounded size) with ICMP and SNMP, proposes devices with their vendor
// and system facts filled in, and reads LLDP-MIB neighbours to propose parent links. Each scan
// is a job that runs in the background with its progress readable while it runs; nothing is
// added to the inventory — an operator (or a script) creates the devices it wants from the
// proposals.
//
// Threading: the event loop thread; the engines' callbacks are posted there. Jobs are kept in
// memory (bounded).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>

#include <netpulse/core/clock.hpp>
#include <netpulse/core/outbound.hpp>
#include <netpulse/core/result.hpp>
#include <netpulse/core/tenancy.hpp>
#include <netpulse/devices/inventory.hpp>
#include <netpulse/pollers/icmp.hpp>
#include <netpulse/pollers/snmp.hpp>

namespace netpulse::pollers {

struct DiscoveryRequest {
  std::string cidr;  // "10.0.0.0/24"; IPv4 at most /20 (4,096 addresses), IPv6 at most /120
  // Credentials tried in order on every address that answers ICMP (or on every address when
  // icmp is false); the first that answers is proposed with the device.
  std::vector<devices::SnmpCredentials> snmp;
  bool icmp = true;
  std::chrono::milliseconds timeout{1000};  // per echo and per SNMP request
};

struct LldpNeighbour {
  std::string local_port;   // our port's lldpLocPortId / index
  std::string remote_name;  // lldpRemSysName
  std::string remote_port;  // lldpRemPortId
  std::string remote_chassis;
};

struct DiscoveredHost {
  std::string address;
  bool icmp_answered = false;
  std::optional<double> rtt_ms;
  std::optional<std::size_t> snmp_credential;  // index into the request's snmp list
  devices::SystemInfo system;
  std::vector<LldpNeighbour> neighbours;
  std::optional<std::int64_t> existing_device_id;  // the address is already in the inventory
  devices::NewDevice proposal;                     // name, address, type, vendor, os, snmp
  // Parent links proposed from LLDP: addresses of hosts of this scan (or ids of existing
  // devices) that this host is reached through.
  std::vector<std::string> proposed_parent_addresses;
  std::vector<std::int64_t> proposed_parent_ids;
};

struct DiscoveryJob {
  std::string id;
  std::int64_t org_id = 0;
  std::string cidr;
  enum class State { kRunning, kDone, kCancelled } state = State::kRunning;
  std::size_t total = 0;    // addresses to scan (those the outbound policy allows)
  std::size_t skipped = 0;  // addresses of the CIDR the outbound policy refuses: not scanned
  std::size_t scanned = 0;
  std::size_t answered = 0;  // ICMP or SNMP
  std::size_t snmp = 0;
  std::int64_t started_at = 0;
  std::optional<std::int64_t> finished_at;
  std::vector<DiscoveredHost> hosts;  // those that answered, by address
};

std::string_view discovery_state_name(DiscoveryJob::State s) noexcept;

class Discovery {
 public:
  // `pinger` may be null (ICMP off): requests with icmp = true are then refused. Addresses that
  // `outbound` refuses (OutboundPurpose::kPoll) are skipped.
  Discovery(boost::asio::any_io_executor loop, const core::Clock& clock, IcmpPinger* pinger,
            SnmpClient* snmp, devices::Inventory& inventory, core::OutboundPolicy outbound);
  ~Discovery();

  // Starts a scan; answers the job at once. kInvalidInput naming the field (cidr too large or
  // malformed, a bad credential), kOutboundDenied when the outbound policy refuses every
  // address of the cidr, kServiceUnavailable when the organization already has 4 scans running.
  core::Result<DiscoveryJob> start(core::OrgScope scope, DiscoveryRequest request);
  core::Result<DiscoveryJob> get(core::OrgScope scope, const std::string& id) const;
  std::vector<DiscoveryJob> list(core::OrgScope scope) const;
  // Stops a running scan (what it found stays readable).
  core::Result<void> cancel(core::OrgScope scope, const std::string& id);
  // A deleted organization: stops its scans and forgets them (the poller calls it on
  // core::OrgDeleted).
  void forget_org(std::int64_t org_id);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace netpulse::pollers

// Discovery scans: every address of a bounded CIDR that the outbound address policy allows (the
// rest are skipped and counted) is pinged (at most kInFlight at once); those that answer (or
// all, without ICMP) are asked for their system group with each credential set in turn, and the
// first that answers also gives its LLDP neighbours. When the last address is done, neighbours
// are matched by system name to propose parent links (the neighbour higher in the network —
// router above switch above access point above customer equipment — is the parent).
#include <algorithm>
#include <cctype>
#include <map>

#include <boost/asio/post.hpp>

#include <netpulse/core/random.hpp>
#include <netpulse/pollers/discovery.hpp>

#include "detail/credentials.hpp"
#include "detail/snmp_oids.hpp"

namespace netpulse::pollers {

namespace {

namespace asio = boost::asio;
constexpr std::size_t kInFlight = 128;
constexpr std::size_t kRunningPerOrg = 4;
constexpr std::size_t kKeptPerOrg = 20;

// lldpRemTable columns (LLDP-MIB, 1.0.8802.1.1.2.1.4.1.1.x): chassis id, port id, system name.
const Oid kLldpRemChassisId{1, 0, 8802, 1, 1, 2, 1, 4, 1, 1, 5};
const Oid kLldpRemPortId{1, 0, 8802, 1, 1, 2, 1, 4, 1, 1, 7};
const Oid kLldpRemSysName{1, 0, 8802, 1, 1, 2, 1, 4, 1, 1, 9};

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string printable(const std::string& raw) {
  std::string out;
  for (unsigned char c : raw.substr(0, 128)) {
    out.push_back(c >= 0x20 && c < 0x7F ? static_cast<char>(c) : '?');
  }
  return out;
}

devices::DeviceType guess_type(const devices::SystemInfo& s) {
  const auto d = lower(s.sys_descr);
  auto has = [&](const char* word) { return d.find(word) != std::string::npos; };
  if (has("olt") || has("gpon") || has("epon")) return devices::DeviceType::kOlt;
  if (has("switch") || has("catalyst") || has("nexus")) return devices::DeviceType::kSwitch;
  if (has("router") || has("routeros") || has("junos") || has("ios xr") || has("vrp")) {
    return devices::DeviceType::kRouter;
  }
  if (has("access point") || has("airos") || has("unifi")) return devices::DeviceType::kAp;
  if (has("onu") || has("ont") || has("cpe")) return devices::DeviceType::kCpe;
  if (has("linux") || has("windows") || has("freebsd")) return devices::DeviceType::kServer;
  return devices::DeviceType::kOther;
}

int rank(devices::DeviceType t) {
  switch (t) {
    case devices::DeviceType::kRouter:
      return 5;
    case devices::DeviceType::kSwitch:
    case devices::DeviceType::kOlt:
      return 4;
    case devices::DeviceType::kAp:
      return 3;
    case devices::DeviceType::kServer:
      return 2;
    case devices::DeviceType::kCpe:
      return 1;
    case devices::DeviceType::kOther:
      return 0;
  }
  return 0;
}

// The host addresses of `cidr`, or an error naming the field.
core::Result<std::vector<asio::ip::address>> expand(const std::string& cidr) {
  const auto slash = cidr.find('/');
  if (slash == std::string::npos) {
    return core::invalid_field("cidr", "must be an address with a prefix length, e.g. 10.0.0.0/24");
  }
  boost::system::error_code ec;
  const auto base = asio::ip::make_address(cidr.substr(0, slash), ec);
  int prefix = -1;
  try {
    std::size_t used = 0;
    prefix = std::stoi(cidr.substr(slash + 1), &used);
    if (used != cidr.size() - slash - 1) prefix = -1;
  } catch (const std::exception&) {
    prefix = -1;
  }
  if (ec) return core::invalid_field("cidr", "does not start with an IP address");
  std::vector<asio::ip::address> out;
  if (base.is_v4()) {
    if (prefix < 20 || prefix > 32) {
      return core::invalid_field("cidr", "an IPv4 scan must be /20 (4,096 addresses) or smaller");
    }
    const auto bits = base.to_v4().to_uint();
    const auto size = 1u << (32 - prefix);
    const auto first = bits & ~(size - 1);
    for (std::uint32_t i = 0; i < size; ++i) {
      if (size >= 4 && (i == 0 || i == size - 1)) continue;  // network and broadcast
      out.emplace_back(asio::ip::address_v4(first + i));
    }
    return out;
  }
  if (prefix < 120 || prefix > 128) {
    return core::invalid_field("cidr", "an IPv6 scan must be /120 (256 addresses) or smaller");
  }
  auto bytes = base.to_v6().to_bytes();
  const int host_bits = 128 - prefix;
  const unsigned mask = host_bits >= 8 ? 0xFFu : ((1u << host_bits) - 1u);
  bytes[15] = static_cast<unsigned char>(bytes[15] & ~mask);
  for (unsigned i = 0; i <= mask; ++i) {
    auto b = bytes;
    b[15] = static_cast<unsigned char>(b[15] | i);
    out.emplace_back(asio::ip::address_v6(b));
  }
  return out;
}

}  // namespace

std::string_view discovery_state_name(DiscoveryJob::State s) noexcept {
  switch (s) {
    case DiscoveryJob::State::kRunning:
      return "running";
    case DiscoveryJob::State::kDone:
      return "done";
    case DiscoveryJob::State::kCancelled:
      return "cancelled";
  }
  return "unknown";
}

struct Discovery::Impl {
  struct Run {
    DiscoveryJob job;
    DiscoveryRequest request;
    std::vector<asio::ip::address> addresses;
    std::size_t next = 0;
    std::size_t in_flight = 0;
    std::map<std::string, DiscoveredHost> hosts;
  };

  asio::any_io_executor loop;
  const core::Clock& clock;
  IcmpPinger* pinger;
  SnmpClient* snmp;
  devices::Inventory& inventory;
  core::OutboundPolicy outbound;
  std::map<std::string, std::shared_ptr<Run>> runs;
  std::shared_ptr<bool> alive = std::make_shared<bool>(true);

  Impl(asio::any_io_executor l, const core::Clock& c, IcmpPinger* p, SnmpClient* s,
       devices::Inventory& inv, core::OutboundPolicy o)
      : loop(l), clock(c), pinger(p), snmp(s), inventory(inv), outbound(std::move(o)) {}

  void pump(const std::shared_ptr<Run>& run) {
    while (run->job.state == DiscoveryJob::State::kRunning && run->in_flight < kInFlight &&
           run->next < run->addresses.size()) {
      const auto ip = run->addresses[run->next++];
      ++run->in_flight;
      probe(run, ip);
    }
    if (run->in_flight == 0 &&
        (run->next >= run->addresses.size() || run->job.state != DiscoveryJob::State::kRunning)) {
      finish(run);
    }
  }

  void done_one(const std::shared_ptr<Run>& run) {
    --run->in_flight;
    ++run->job.scanned;
    pump(run);
  }

  void probe(const std::shared_ptr<Run>& run, const asio::ip::address& ip) {
    if (!run->request.icmp || pinger == nullptr) return try_snmp(run, ip, 0);
    pinger->echo(
        ip, run->request.timeout, kIcmpDefaultPayload,
        [this, run, ip, a = std::weak_ptr<bool>(alive)](core::Result<std::chrono::nanoseconds> r) {
          if (a.expired()) return;
          if (!r) return done_one(run);
          auto& h = host(run, ip);
          h.icmp_answered = true;
          h.rtt_ms = static_cast<double>(r->count()) / 1e6;
          try_snmp(run, ip, 0);
        });
  }

  DiscoveredHost& host(const std::shared_ptr<Run>& run, const asio::ip::address& ip) {
    auto key = ip.to_string();
    auto [it, fresh] = run->hosts.try_emplace(key);
    if (fresh) {
      it->second.address = key;
      ++run->job.answered;
    }
    return it->second;
  }

  void try_snmp(const std::shared_ptr<Run>& run, const asio::ip::address& ip, std::size_t k) {
    if (snmp == nullptr || k >= run->request.snmp.size() ||
        run->job.state != DiscoveryJob::State::kRunning) {
      return done_one(run);
    }
    auto target = detail::to_snmp_target(ip, run->request.snmp[k], run->request.timeout, 0);
    snmp->get(target, detail::system_oids(),
              [this, run, ip, k, target,
               a = std::weak_ptr<bool>(alive)](core::Result<std::vector<VarBind>> r) {
                if (a.expired()) return;
                if (!r) return try_snmp(run, ip, k + 1);
                auto& h = host(run, ip);
                h.snmp_credential = k;
                h.system = detail::system_info(*r);
                ++run->job.snmp;
                WalkOptions wo;
                wo.max_values = 3000;
                wo.deadline = std::chrono::milliseconds(run->request.timeout * 5);
                snmp->walk_columns(target, {kLldpRemChassisId, kLldpRemPortId, kLldpRemSysName}, wo,
                                   [this, run, ip, a](core::Result<std::vector<VarBind>> walk) {
                                     if (a.expired()) return;
                                     if (walk) read_lldp(host(run, ip), *walk);
                                     done_one(run);
                                   });
              });
  }

  static void read_lldp(DiscoveredHost& h, const std::vector<VarBind>& vbs) {
    // Index: lldpRemTimeMark.lldpRemLocalPortNum.lldpRemIndex.
    std::map<std::pair<std::uint32_t, std::uint32_t>, LldpNeighbour> rows;
    for (auto& vb : vbs) {
      for (auto* root : {&kLldpRemChassisId, &kLldpRemPortId, &kLldpRemSysName}) {
        if (vb.oid.size() != root->size() + 3 || !vb.oid.starts_with(*root)) continue;
        const auto key = std::make_pair(vb.oid[root->size() + 1], vb.oid[root->size() + 2]);
        auto& n = rows[key];
        n.local_port = std::to_string(key.first);
        const auto* text = std::get_if<std::string>(&vb.value);
        if (text == nullptr) continue;
        if (root == &kLldpRemChassisId) n.remote_chassis = printable(*text);
        if (root == &kLldpRemPortId) n.remote_port = printable(*text);
        if (root == &kLldpRemSysName) n.remote_name = printable(*text);
      }
    }
    for (auto& [key, n] : rows) {
      if (h.neighbours.size() < 256) h.neighbours.push_back(std::move(n));
    }
  }

  void finish(const std::shared_ptr<Run>& run) {
    if (run->job.finished_at) return;
    if (run->job.state == DiscoveryJob::State::kRunning)
      run->job.state = DiscoveryJob::State::kDone;
    run->job.finished_at = clock.unix_seconds();
    const auto org = run->job.org_id;
    std::map<std::string, std::string> address_by_name;  // sysName (lower) -> address
    for (auto& [address, h] : run->hosts) {
      auto& p = h.proposal;
      p.address = address;
      p.name = h.system.sys_name.empty() ? address : printable(h.system.sys_name);
      p.type = guess_type(h.system);
      p.vendor = h.system.vendor;
      p.os = printable(h.system.os);
      p.location = printable(h.system.sys_location);
      if (h.snmp_credential) p.snmp = run->request.snmp[*h.snmp_credential];
      for (auto& d : inventory.find_by_address(address)) {
        if (d.org_id == org) h.existing_device_id = d.id;
      }
      if (!h.system.sys_name.empty()) address_by_name[lower(h.system.sys_name)] = address;
    }
    auto devices = inventory.all_enabled();
    for (auto& [address, h] : run->hosts) {
      for (auto& n : h.neighbours) {
        if (n.remote_name.empty()) continue;
        const auto name = lower(n.remote_name);
        if (auto it = address_by_name.find(name); it != address_by_name.end()) {
          auto& other = run->hosts.at(it->second);
          if (rank(other.proposal.type) > rank(h.proposal.type)) {
            h.proposed_parent_addresses.push_back(it->second);
          }
          continue;
        }
        for (auto& d : devices) {
          if (d.org_id == org && lower(d.name) == name && rank(d.type) > rank(h.proposal.type)) {
            h.proposed_parent_ids.push_back(d.id);
          }
        }
      }
    }
    run->job.hosts.clear();
    for (auto& [address, h] : run->hosts) run->job.hosts.push_back(h);
    trim(org);
  }

  // Keeps at most kKeptPerOrg finished jobs of the organization (oldest dropped).
  void trim(std::int64_t org) {
    std::vector<std::pair<std::int64_t, std::string>> finished;
    for (auto& [id, run] : runs) {
      if (run->job.org_id == org && run->job.finished_at) {
        finished.emplace_back(*run->job.finished_at, id);
      }
    }
    std::sort(finished.begin(), finished.end());
    while (finished.size() > kKeptPerOrg) {
      runs.erase(finished.front().second);
      finished.erase(finished.begin());
    }
  }

  // The job as callers see it: while running, the hosts found so far.
  static DiscoveryJob snapshot(const Run& run) {
    DiscoveryJob job = run.job;
    if (!job.finished_at) {
      for (auto& [address, h] : run.hosts) job.hosts.push_back(h);
    }
    return job;
  }
};

Discovery::Discovery(asio::any_io_executor loop, const core::Clock& clock, IcmpPinger* pinger,
                     SnmpClient* snmp, devices::Inventory& inventory, core::OutboundPolicy outbound)
    : impl_(std::make_unique<Impl>(loop, clock, pinger, snmp, inventory, std::move(outbound))) {}

Discovery::~Discovery() = default;

core::Result<DiscoveryJob> Discovery::start(core::OrgScope scope, DiscoveryRequest request) {
  auto addresses = expand(request.cidr);
  if (!addresses) return std::move(addresses).error();
  // Addresses the outbound policy refuses are skipped; a range refused whole is an error.
  const auto before = addresses->size();
  std::optional<core::Error> first_refusal;
  std::erase_if(*addresses, [&](const asio::ip::address& ip) {
    auto verdict = impl_->outbound.check(ip, core::OutboundPurpose::kPoll);
    if (verdict) return false;
    if (!first_refusal) first_refusal = std::move(verdict).error();
    return true;
  });
  if (addresses->empty() && first_refusal) {
    auto error = std::move(*first_refusal);
    error.message = "every address of " + request.cidr + " is refused: " + error.message;
    error.details["field"] = "cidr";
    return error;
  }
  if (request.icmp && impl_->pinger == nullptr) {
    return core::invalid_field("icmp", "ICMP is off on this server (pollers.icmp_mode)");
  }
  if (!request.icmp && request.snmp.empty()) {
    return core::invalid_field("snmp", "give SNMP credentials when ICMP is off");
  }
  if (request.snmp.size() > 8) return core::invalid_field("snmp", "at most 8 credential sets");
  if (request.timeout < std::chrono::milliseconds(10) ||
      request.timeout > std::chrono::milliseconds(10'000)) {
    return core::invalid_field("timeout_ms", "must be 10 to 10000");
  }
  std::size_t running = 0;
  for (auto& [id, run] : impl_->runs) {
    if (run->job.org_id == scope.org_id() && !run->job.finished_at) ++running;
  }
  if (running >= kRunningPerOrg) {
    return core::Error(core::Errc::kServiceUnavailable,
                       "4 scans are running already; wait for one to finish");
  }
  auto run = std::make_shared<Impl::Run>();
  run->job.id = core::random_hex(8);
  run->job.org_id = scope.org_id();
  run->job.cidr = request.cidr;
  run->job.total = addresses->size();
  run->job.skipped = before - addresses->size();
  run->job.started_at = impl_->clock.unix_seconds();
  run->request = std::move(request);
  run->addresses = std::move(*addresses);
  impl_->runs[run->job.id] = run;
  auto job = Impl::snapshot(*run);
  asio::post(impl_->loop, [impl = impl_.get(), run, a = std::weak_ptr<bool>(impl_->alive)] {
    if (!a.expired()) impl->pump(run);
  });
  return job;
}

core::Result<DiscoveryJob> Discovery::get(core::OrgScope scope, const std::string& id) const {
  auto it = impl_->runs.find(id);
  if (it == impl_->runs.end() || it->second->job.org_id != scope.org_id()) {
    return core::Error(core::Errc::kNotFound, "no discovery job " + id);
  }
  return Impl::snapshot(*it->second);
}

std::vector<DiscoveryJob> Discovery::list(core::OrgScope scope) const {
  std::vector<DiscoveryJob> out;
  for (auto& [id, run] : impl_->runs) {
    if (run->job.org_id != scope.org_id()) continue;
    auto job = Impl::snapshot(*run);
    job.hosts.clear();  // the list shows progress; the job shows hosts
    out.push_back(std::move(job));
  }
  std::sort(out.begin(), out.end(), [](const DiscoveryJob& a, const DiscoveryJob& b) {
    return a.started_at > b.started_at;
  });
  return out;
}

core::Result<void> Discovery::cancel(core::OrgScope scope, const std::string& id) {
  auto it = impl_->runs.find(id);
  if (it == impl_->runs.end() || it->second->job.org_id != scope.org_id()) {
    return core::Error(core::Errc::kNotFound, "no discovery job " + id);
  }
  auto& run = it->second;
  if (run->job.state == DiscoveryJob::State::kRunning) {
    run->job.state = DiscoveryJob::State::kCancelled;
    if (run->in_flight == 0) impl_->finish(run);
  }
  return core::ok();
}

void Discovery::forget_org(std::int64_t org_id) {
  for (auto it = impl_->runs.begin(); it != impl_->runs.end();) {
    auto& run = it->second;
    if (run->job.org_id != org_id) {
      ++it;
      continue;
    }
    // Probes under way hold the run and end into it; nothing starts after this.
    if (run->job.state == DiscoveryJob::State::kRunning) {
      run->job.state = DiscoveryJob::State::kCancelled;
    }
    it = impl_->runs.erase(it);
  }
}

}  // namespace netpulse::pollers

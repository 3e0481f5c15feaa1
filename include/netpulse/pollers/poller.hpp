// Poller: what keeps NetPulse's picture of the network current. It plans one ICMP check per
// enabled device and one SNMP check per device with SNMP credentials, each at the device's poll
// interval, runs them through the Scheduler, and turns the answers into samples in the
// time-series store, device status (up / down / unreachable, with flap damping) and system facts
// in the inventory, and events (types in the devices face): DeviceStatusChanged (from the
// inventory), InterfaceStatusChanged, ServiceCheckChanged, DeviceRebooted. Inventory changes
// re-plan at once; nothing needs a restart.
//
// Threading: everything on the event loop thread given to open(); callbacks are posted there,
// never called inside the call that was handed them (refusals too).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>

#include <netpulse/core/clock.hpp>
#include <netpulse/core/env.hpp>
#include <netpulse/core/event_bus.hpp>
#include <netpulse/core/logger.hpp>
#include <netpulse/core/metrics.hpp>
#include <netpulse/core/outbound.hpp>
#include <netpulse/core/result.hpp>
#include <netpulse/core/tenancy.hpp>
#include <netpulse/devices/inventory.hpp>
#include <netpulse/pollers/discovery.hpp>
#include <netpulse/pollers/icmp.hpp>
#include <netpulse/pollers/scheduler.hpp>
#include <netpulse/pollers/service_checks.hpp>
#include <netpulse/pollers/snmp.hpp>
#include <netpulse/pollers/traps.hpp>
#include <netpulse/tsdb/store.hpp>

namespace netpulse::pollers {

struct PollerOptions {
  std::string icmp_mode = "auto";  // auto, datagram, raw, off
  PingCycleOptions cycle{3, std::chrono::milliseconds(200), std::chrono::milliseconds(1000),
                         kIcmpDefaultPayload};
  int down_after = 3;
  int up_after = 1;
  int flap_changes = 4;
  std::int64_t flap_window_s = 600;
  int flap_up_after = 3;
  bool snmp = true;
  std::chrono::milliseconds snmp_timeout{2000};
  int snmp_retries = 1;
  int snmp_max_repetitions = 25;
  SchedulerOptions scheduler;
  // SNMP traps: "off", or "address:port" ("[v6]:port"); a failed bind is logged, not fatal.
  // A trap reaches the devices at its source address whose own credentials it carries (the
  // device's community; a v3 user with the device's own user name and keys): docs/traps.md.
  std::string traps_listen = "off";
  // Communities accepted, besides their own, for the devices of the system organization only
  // (the operator's own network); never for another organization's devices.
  std::vector<std::string> traps_communities;
  // SNMPv3 trap senders, one per line: "ENGINEID USER AUTH AUTHPASS [PRIV PRIVPASS]" (as
  // snmptrapd's createUser -e). A malformed line fails open() with kConfigError. Their traps
  // reach the system organization's devices, and another organization's device only when its
  // own v3 credentials are that user with those keys.
  std::vector<std::string> traps_v3_users;
  // The system organization (0: none; then no device has the grants above).
  std::int64_t system_org_id = 0;
  double traps_rate_per_second = 100;
  double traps_burst = 200;
  // HTTPS service checks trust the CAs of this PEM file besides the system's ("": none).
  std::string checks_ca_file;
  // The outbound address policy: ICMP, SNMP and discovery are judged as kPoll (a device whose
  // address is refused, or resolves to a refused one, is not polled: its checks fail with the
  // refusal), service checks as kFetch (by the ServiceChecker).
  core::OutboundPolicy outbound;
  // The scheduler's timer sleeps at most this long (so a re-plan is never waited on longer).
  std::chrono::milliseconds max_sleep{1000};
};

// One interface as the last SNMP poll saw it.
struct InterfaceInfo {
  std::uint32_t if_index = 0;
  std::string name;      // ifName (ifDescr when the agent has no ifXTable)
  std::string alias;     // ifAlias
  std::string descr;     // ifDescr
  int admin_status = 0;  // IF-MIB: 1 up, 2 down, 3 testing
  int oper_status = 0;   // 1 up, 2 down, 3 testing, 4 unknown, 5 dormant, 6 notPresent, 7 ll-down
  std::uint64_t speed_bps = 0;   // ifHighSpeed x 10^6, else ifSpeed
  bool hc_counters = false;      // 64-bit ifHC* counters (else 32-bit with wrap handling)
  std::optional<double> in_bps;  // over the last two polls; none after a reset or the first poll
  std::optional<double> out_bps;
  std::optional<double> utilization_pct;  // max(in, out) / speed
  std::int64_t polled_at = 0;             // Unix seconds
};

enum class ServiceCheckState { kPending, kPassing, kFailing };
std::string_view service_check_state_name(ServiceCheckState s) noexcept;  // "pending", ...

// A TCP / HTTP / DNS check as its runs left it. The figures are those of the last run's final
// attempt, as far as its kind has them and it got that far.
struct ServiceCheckStatus {
  std::int64_t check_id = 0;
  ServiceCheckState state = ServiceCheckState::kPending;  // pending: not run since start
  std::optional<std::int64_t> last_run_at;                // Unix seconds
  std::optional<std::int64_t> state_since;                // when it became passing / failing
  int attempts = 0;                                       // of the last run
  // Why the last run failed ("" when it passed): the message, and the stable code of the error
  // (e.g. "TIMEOUT", "SERVICE_UNAVAILABLE", "PROTOCOL_ERROR"), or "UNEXPECTED_ANSWER" when the
  // service answered but not as the check expects (status, keyword, DNS answer).
  std::string error;
  std::string error_code;
  std::optional<double> connect_ms;  // tcp
  std::optional<int> http_status;    // http
  std::optional<double> response_ms;
  std::optional<double> first_byte_ms;
  std::optional<std::int64_t> tls_days_to_expiry;
  std::optional<double> resolution_ms;  // dns
  std::vector<std::string> answers;
  std::uint64_t runs = 0;  // since start
  std::uint64_t failed_runs = 0;
};

// What "poll now" found.
struct PollReport {
  std::int64_t device_id = 0;
  devices::DeviceStatus status = devices::DeviceStatus::kUnknown;
  std::optional<PingCycleResult> icmp;  // when ICMP ran
  std::optional<CheckOutcome> icmp_outcome;
  std::optional<CheckOutcome> snmp_outcome;  // when the device has SNMP
  std::size_t snmp_values = 0;
  // The device's enabled service checks, as they stand after this poll.
  std::vector<ServiceCheckStatus> service_checks;
};

// The whole poller: engine figures for the server's operator (system admins), every
// organization's checks together.
struct PollerHealth {
  std::string icmp_mode;  // "datagram", "raw" or "off"
  std::array<KindStats, kCheckKinds> kinds{};
  std::size_t devices = 0;
  std::string traps_listen;  // the bound endpoint, or why there is none
  TrapReceiverStats traps{};
  // Traps the receiver handed on, by what became of them (docs/traps.md).
  std::uint64_t traps_accepted = 0;           // reached at least one device
  std::uint64_t traps_unmatched = 0;          // from sources that are no device's address
  std::uint64_t traps_dropped_community = 0;  // v1/v2c: no device there has the community
  std::uint64_t traps_dropped_v3_user = 0;    // v3: no device there has the user and keys
};

// One kind of check, for one organization.
struct OrgKindStats {
  std::size_t checks = 0;  // in the plan
  std::uint64_t runs_ok = 0;
  std::uint64_t runs_failed = 0;
  std::uint64_t timeouts = 0;  // runs whose last attempt timed out
};

// What the pollers do for one organization (counters since start).
struct OrgPollerHealth {
  std::int64_t org_id = 0;
  std::size_t devices = 0;                // polled: its enabled devices
  std::array<std::size_t, 5> statuses{};  // of those, by devices::DeviceStatus
  std::array<OrgKindStats, kCheckKinds> kinds{};
  std::size_t checks_passing = 0;  // its enabled service checks, by state
  std::size_t checks_failing = 0;
  std::size_t checks_pending = 0;
  std::uint64_t traps_accepted = 0;  // traps that became events of its devices
};

// The engines the poller drives, built by the composition root (app) on the poller's loop and
// clock: the ICMP pinger (null when pollers.icmp_mode is "off"), the SNMP client (null when SNMP
// is off) and the service checker (always). Tests pass fakes.
struct PollerEngines {
  std::unique_ptr<IcmpPinger> icmp;
  std::unique_ptr<SnmpClient> snmp;
  std::unique_ptr<ServiceChecker> checks;
};

class Poller {
 public:
  // Takes the engines (see PollerEngines; a null `checks` is kInvalidInput) and opens the trap
  // receiver (kConfigError for a bad pollers.traps_v3_users line). Does not poll until start().
  // All references must outlive the poller.
  static core::Result<std::unique_ptr<Poller>> open(const PollerOptions& options,
                                                    const core::Env& env, PollerEngines engines,
                                                    devices::Inventory& inventory,
                                                    tsdb::Store& store);
  virtual ~Poller() = default;

  // Plans the inventory's checks and starts polling.
  virtual void start() = 0;
  // Stops starting checks (those under way finish into the void). Idempotent.
  virtual void stop() = 0;

  // Polls one device now (ICMP, SNMP and service checks as it has them) and answers when all
  // are done.
  // kDeviceNotFound (also for another org's device or a disabled one); kConflict while its
  // checks are running.
  virtual void poll_now(core::OrgScope scope, std::int64_t device_id,
                        std::function<void(core::Result<PollReport>)> done) = 0;

  // The device's interfaces as last polled (empty before the first SNMP poll).
  virtual core::Result<std::vector<InterfaceInfo>> interfaces(core::OrgScope scope,
                                                              std::int64_t device_id) const = 0;

  // The device's service checks' states (trusted: the caller has checked the device's
  // organization); disabled checks and those not run since start are pending.
  virtual std::vector<ServiceCheckStatus> service_check_status(std::int64_t device_id) const = 0;
  // Runs one service check now and answers with its state after the run. kDeviceNotFound (also
  // for a disabled device); kNotFound for a check the device does not have; kConflict for a
  // disabled check or one that is running.
  virtual void run_service_check(core::OrgScope scope, std::int64_t device_id,
                                 std::int64_t check_id,
                                 std::function<void(core::Result<ServiceCheckStatus>)> done) = 0;

  // The device's last ping cycle, if one has run since start.
  virtual std::optional<PingCycleResult> last_cycle(std::int64_t device_id) const = 0;

  // The whole poller (every organization): for system admins and /metrics.
  virtual PollerHealth health() const = 0;
  // The figures of one organization only.
  virtual OrgPollerHealth org_health(core::OrgScope scope) const = 0;

  // Network scans with this poller's ICMP socket and SNMP engine.
  virtual Discovery& discovery() = 0;
};

}  // namespace netpulse::pollers

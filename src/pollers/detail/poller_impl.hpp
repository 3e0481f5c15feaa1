// The Poller implementation, split by concern across src/pollers/poller*.cpp: poller.cpp
// (opening, start / stop, the event-bus wiring, address resolution), poller_plan.cpp (planning
// from the inventory, the timer, health and metrics), poller_on_demand.cpp (poll now, the
// interface list, running one service check), poller_icmp.cpp (ping cycles into up / down /
// unreachable), poller_snmp.cpp (the SNMP run: system group, interfaces, host tables, custom
// OIDs), poller_checks.cpp (TCP / HTTP / DNS service checks), poller_traps.cpp (the trap receiver
// and what a trap becomes) and poller_samples.cpp (building and storing samples). Private to the
// pollers module.
//
// Threading: everything runs on the loop given to Poller::open(), except the metric callbacks
// registered with the MetricsRegistry, which read only the atomics and the mutex-guarded snapshot
// below. Callbacks handed to the engines and the store hold a weak `alive_` and return when the
// poller is gone.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <netpulse/core/clock.hpp>
#include <netpulse/core/event_bus.hpp>
#include <netpulse/core/logger.hpp>
#include <netpulse/core/metrics.hpp>
#include <netpulse/core/result.hpp>
#include <netpulse/core/tenancy.hpp>
#include <netpulse/devices/inventory.hpp>
#include <netpulse/pollers/discovery.hpp>
#include <netpulse/pollers/icmp.hpp>
#include <netpulse/pollers/poller.hpp>
#include <netpulse/pollers/scheduler.hpp>
#include <netpulse/pollers/service_checks.hpp>
#include <netpulse/pollers/snmp.hpp>
#include <netpulse/pollers/traps.hpp>
#include <netpulse/tsdb/store.hpp>

#include "reachability.hpp"
#include "trap_match.hpp"

namespace netpulse::pollers::detail {

// Scheduler check ids: ICMP and SNMP are device id x kKindSlots + kind; service checks have their
// own ids (from the inventory) and are scheduled as kServiceIds + id.
inline constexpr std::uint64_t kKindSlots = 8;
inline constexpr std::uint64_t kServiceIds = std::uint64_t{1} << 62;

inline std::uint64_t check_id(std::int64_t device_id, CheckKind kind) {
  return static_cast<std::uint64_t>(device_id) * kKindSlots + static_cast<std::uint64_t>(kind);
}
inline std::uint64_t service_check_id(std::int64_t id) {
  return kServiceIds + static_cast<std::uint64_t>(id);
}
inline bool is_service(CheckKind kind) {
  return kind == CheckKind::kTcp || kind == CheckKind::kHttp || kind == CheckKind::kDns;
}

// Label values from the network are untrusted bytes: printable ASCII kept, the rest replaced,
// at most 128 bytes, trailing blanks dropped (poller_samples.cpp).
std::string label_value(std::string_view raw);

// One interface between polls: what the API shows plus the raw counters rates come from.
struct InterfaceState {
  InterfaceInfo info;
  std::optional<std::uint64_t> in_octets, out_octets;
  std::int64_t at_ms = 0;
};

// A service check between runs: its definition, its state, and the figures of the attempt under
// way (which become the state's when the run finishes).
struct ServiceState {
  devices::ServiceCheck def;
  ServiceCheckStatus status;
  ServiceCheckStatus attempt;
};

// What the poller keeps of one enabled device between its checks.
struct DeviceState {
  devices::Device device;
  std::optional<boost::asio::ip::address> ip;  // the address literal, or the last resolution
  bool literal = false;                        // ip is the address itself: never resolved again
  core::SteadyTime resolved_at{};
  Reachability reach;
  std::optional<PingCycleResult> last_cycle;
  std::optional<std::int64_t> uptime_s;
  std::map<std::uint32_t, InterfaceState> interfaces;
  std::size_t last_snmp_values = 0;
  std::map<std::int64_t, ServiceState> services;  // by check id, disabled ones too
  std::vector<tsdb::AppendSample> snmp_batch;     // the SNMP run's samples until it ends
};

class PollerImpl final : public Poller {
 public:
  PollerImpl(const PollerOptions& options, const core::Clock& clock,
             boost::asio::any_io_executor loop, devices::Inventory& inventory, tsdb::Store& store,
             core::EventBus& bus, core::Logger& log, core::MetricsRegistry* metrics,
             std::unique_ptr<IcmpPinger> pinger, std::unique_ptr<SnmpClient> snmp,
             std::unique_ptr<ServiceChecker> checker);
  ~PollerImpl() override;

  // poller.cpp
  void start() override;
  void stop() override;
  Discovery& discovery() override;

  // Opens the trap receiver per options (poller_traps.cpp). A listen address that cannot be
  // bound is logged (traps are not worth refusing to start over); malformed v3 users are a
  // kConfigError.
  core::Result<void> open_traps();

  // poller_on_demand.cpp
  void poll_now(core::OrgScope scope, std::int64_t device_id,
                std::function<void(core::Result<PollReport>)> done) override;
  core::Result<std::vector<InterfaceInfo>> interfaces(core::OrgScope scope,
                                                      std::int64_t device_id) const override;
  std::vector<ServiceCheckStatus> service_check_status(std::int64_t device_id) const override;
  void run_service_check(core::OrgScope scope, std::int64_t device_id, std::int64_t check,
                         std::function<void(core::Result<ServiceCheckStatus>)> done) override;
  std::optional<PingCycleResult> last_cycle(std::int64_t device_id) const override;

  // poller_plan.cpp
  OrgPollerHealth org_health(core::OrgScope scope) const override;
  PollerHealth health() const override;

 private:
  // --- wiring (poller.cpp) ---------------------------------------------------------------------

  // "datagram", "raw" or "off".
  std::string icmp_mode_name() const;
  // kDeviceNotFound for a device the poller does not poll (unknown, another org's, disabled).
  static core::Error not_polled(std::int64_t device_id);
  // Answers `done` with `e` from the loop, never from inside the call.
  template <class T>
  void post_error(std::function<void(core::Result<T>)> done, core::Error e) {
    boost::asio::post(loop_,
                      [done = std::move(done), e = std::move(e)]() mutable { done(std::move(e)); });
  }
  // core::OrgDeleted: the organization's devices leave the plan now (the inventory drops them
  // too, but the poller does not count on hearing of it first), its scans stop, its figures go.
  void forget_org(std::int64_t org_id);
  // Calls `then` with the device's IP address (a literal at once; a host name resolved, cached
  // for kResolveTtl) or an outcome saying why not: also when the outbound policy refuses it.
  void with_address(std::int64_t device_id,
                    std::function<void(core::Result<boost::asio::ip::address>)> then);
  // The address, or the outbound policy's refusal of it (judged as kPoll).
  core::Result<boost::asio::ip::address> admit(const boost::asio::ip::address& ip) const;

  // --- planning and health (poller_plan.cpp) ---------------------------------------------------

  // The plan from the inventory's enabled devices: their states kept or made, their checks
  // handed to the scheduler, the timer re-armed.
  void replan();
  // Arms the timer for the scheduler's next due check (at most options_.max_sleep away).
  void arm();
  // The device's interfaces as its last samples in the store left them (after a restart).
  std::map<std::uint32_t, InterfaceState> interfaces_from_store(const devices::Device& d) const;
  // Runs per organization and kind, for org_health().
  void count_run(const CheckSpec& spec, const CheckOutcome& outcome);
  // The /metrics series, read from the snapshots below.
  void register_metrics(core::MetricsRegistry& m);
  // Copies the scheduler's and the trap receiver's figures where /metrics reads them.
  void take_snapshot();

  // --- ICMP (poller_icmp.cpp) ------------------------------------------------------------------

  // One ping cycle to the device; its verdict feeds judge().
  void run_icmp(const CheckSpec& spec, std::function<void(CheckOutcome)> done);
  // A cycle's samples and verdict.
  void on_cycle(std::int64_t device_id, const PingCycleResult& r);
  // Feeds a cycle's verdict to the device's reachability and records the status.
  void judge(std::int64_t device_id, bool answered);
  // Whether the device has parents and every one of them is down or unreachable.
  bool parents_down(const devices::Device& d) const;

  // --- SNMP (poller_snmp.cpp) ------------------------------------------------------------------

  // The SNMP run: system group, then interfaces, host tables and custom OIDs, chained; what it
  // read is stored in one append when it ends.
  void run_snmp(const CheckSpec& spec, std::function<void(CheckOutcome)> run_done);
  // The system group: facts to the inventory, sysUpTime sample, reboot detection.
  void on_system(std::int64_t device_id, const std::vector<VarBind>& vbs);
  void walk_interfaces(std::int64_t device_id, const SnmpTarget& target, std::size_t values,
                       std::function<void(CheckOutcome)> done);
  // HOST-RESOURCES and ENTITY-SENSOR: optional; an error does not fail the run.
  void walk_host(std::int64_t device_id, const SnmpTarget& target, std::size_t values,
                 std::function<void(CheckOutcome)> done);
  // The device's custom OIDs (its own and its type's) in one GET; a failure is logged only.
  void get_custom(std::int64_t device_id, const SnmpTarget& target,
                  std::function<void(CheckOutcome)> done);
  // The interface table: rates from the previous poll, status-change events, samples.
  void on_interfaces(std::int64_t device_id, const std::vector<VarBind>& vbs);

  // --- service checks (poller_checks.cpp) ------------------------------------------------------

  // The check's state, or null when the device or the check left the plan.
  ServiceState* service_state(std::int64_t device_id, std::int64_t check);
  // The device's service checks into `state` (a check whose definition changed starts again as
  // pending) and its enabled ones into the plan.
  void plan_services(const devices::Device& d, DeviceState& state,
                     std::chrono::milliseconds device_interval, std::vector<CheckSpec>& plan);
  // One attempt of a service check: the device's address when the check needs it, then the
  // ServiceChecker; the answer goes into the check's attempt figures.
  void run_service(const CheckSpec& spec, std::function<void(CheckOutcome)> done);
  void run_service_at(std::int64_t device_id, std::int64_t check,
                      std::optional<boost::asio::ip::address> ip,
                      std::function<void(CheckOutcome)> done);
  // A service check's run finished (after its retries): its state, samples and, when it turned
  // passing or failing, an event.
  void on_service_run(const CheckSpec& spec, const CheckOutcome& outcome, int attempts);

  // --- traps (poller_traps.cpp) ----------------------------------------------------------------

  // A trap becomes an event of each device at its source address whose credentials it carries.
  void on_trap(Trap t);

  // --- samples (poller_samples.cpp) ------------------------------------------------------------

  static tsdb::AppendSample sample(std::string metric, tsdb::LabelSet labels, std::int64_t t_ms,
                                   double v);
  // A sample whose labels are sorted already (one sort per interface, not one per metric).
  static tsdb::AppendSample sorted_sample(std::string_view metric, const tsdb::LabelSet& sorted,
                                          std::int64_t t_ms, double v);
  // Samples of the SNMP run under way: stored in one append when the run ends.
  static void stage(DeviceState& st, std::vector<tsdb::AppendSample>&& batch);
  // {device, device_id}: the labels every sample of the device carries.
  static tsdb::LabelSet device_labels(const devices::Device& d);
  // Stores `batch` (partial mode); failures and refusals are logged.
  void append(std::int64_t org_id, std::vector<tsdb::AppendSample> batch);

  // --- members ---------------------------------------------------------------------------------

  // The receiver's counters as of the last snapshot (the receiver is read on the loop only).
  struct ReceiverSnapshot {
    std::atomic<std::uint64_t> received{0}, malformed{0}, rate_limited{0}, community{0},
        not_trap{0}, v3{0}, v3_security{0};
  };
  // Counters of one organization since start.
  struct OrgStats {
    std::array<OrgKindStats, kCheckKinds> kinds{};
    std::uint64_t traps_accepted = 0;
  };

  PollerOptions options_;                    // as given to open()
  const core::Clock& clock_;                 // all times: samples, statuses, the timer's wake
  boost::asio::any_io_executor loop_;        // where everything runs
  devices::Inventory& inventory_;            // devices, statuses, events, credentials
  tsdb::Store& store_;                       // where samples go
  core::EventBus& bus_;                      // DeviceChanged / OrgDeleted in, events out
  core::Logger& log_;                        // component "pollers"
  std::unique_ptr<IcmpPinger> pinger_;       // null: ICMP off
  std::unique_ptr<SnmpClient> snmp_;         // null: SNMP off
  std::unique_ptr<ServiceChecker> checker_;  // never null
  Scheduler scheduler_;                      // what is due, retries, concurrency bounds
  Discovery discovery_;                      // network scans with the engines above
  boost::asio::steady_timer timer_;          // wakes the scheduler (arm())
  boost::asio::ip::udp::resolver resolver_;  // device host names (with_address())
  std::unordered_map<std::int64_t, DeviceState> states_;  // by device id: the plan's devices
  core::EventBus::Subscription changed_;                  // devices::DeviceChanged: re-plan
  bool running_ = false;                                  // between start() and stop()
  bool replan_posted_ = false;                            // a re-plan is queued on the loop
  mutable std::mutex snapshot_mutex_;                     // guards snapshot_
  std::array<KindStats, kCheckKinds> snapshot_{};         // the scheduler's, for /metrics
  std::unique_ptr<TrapReceiver> traps_;                   // null: not listening
  std::string traps_status_ = "off";                      // the bound endpoint, or why none
  TrapGrants trap_grants_;  // which communities and v3 users reach which devices
  // Trap outcomes. Atomic: /metrics reads them from its own thread.
  std::atomic<std::uint64_t> traps_accepted_{0};           // reached at least one device
  std::atomic<std::uint64_t> traps_unmatched_{0};          // no device at the source address
  std::atomic<std::uint64_t> traps_dropped_community_{0};  // no device with the community
  std::atomic<std::uint64_t> traps_dropped_v3_user_{0};    // no device with the v3 user and keys
  ReceiverSnapshot receiver_snapshot_;                     // the receiver's, for /metrics
  std::unordered_map<std::int64_t, OrgStats> org_stats_;   // by organization
  std::unordered_set<std::int64_t> deleted_orgs_;          // since start: never planned again
  core::EventBus::Subscription org_deleted_;               // core::OrgDeleted: forget_org()
  std::shared_ptr<bool> alive_;  // expires in the destructor: late callbacks return
};

}  // namespace netpulse::pollers::detail

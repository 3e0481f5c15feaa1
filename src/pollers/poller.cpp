// The poller: plans checks from the inventory, runs them through the Scheduler on one timer, and
// turns answers into samples, statuses and events. ICMP cycles decide up/down (with flap
// damping; a device whose parents are all down is unreachable, not down); SNMP reads the system
// group and the IF-MIB interface table. Metric names and labels are listed in docs/pollers.md.
#include <algorithm>
#include <atomic>
#include <charconv>
#include <map>
#include <mutex>
#include <unordered_map>
#include <unordered_set>

#include <boost/asio/ip/udp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <fmt/format.h>

#include <netpulse/core/tenancy.hpp>
#include <netpulse/pollers/poller.hpp>
#include <netpulse/pollers/snmp.hpp>
#include <netpulse/tsdb/selector.hpp>

#include "detail/counters.hpp"
#include "detail/credentials.hpp"
#include "detail/host_port.hpp"
#include "detail/reachability.hpp"
#include "detail/service_runs.hpp"
#include "detail/snmp_oids.hpp"
#include "detail/trap_match.hpp"

namespace netpulse::pollers {

namespace {

using devices::DeviceStatus;
namespace asio = boost::asio;

constexpr std::uint64_t kKindSlots = 8;  // check id = device id x 8 + kind
constexpr std::chrono::minutes kResolveTtl{5};

std::uint64_t check_id(std::int64_t device_id, CheckKind kind) {
  return static_cast<std::uint64_t>(device_id) * kKindSlots + static_cast<std::uint64_t>(kind);
}

// Service checks have their own ids (from the inventory): scheduled as kServiceIds + id.
constexpr std::uint64_t kServiceIds = std::uint64_t{1} << 62;
std::uint64_t service_check_id(std::int64_t id) {
  return kServiceIds + static_cast<std::uint64_t>(id);
}
bool is_service(CheckKind kind) {
  return kind == CheckKind::kTcp || kind == CheckKind::kHttp || kind == CheckKind::kDns;
}

// IF-MIB ifOperStatus names.
std::string_view oper_status_name(int status) {
  static constexpr std::array<std::string_view, 8> kNames{
      "?", "up", "down", "testing", "unknown", "dormant", "notPresent", "lowerLayerDown"};
  return status >= 1 && status <= 7 ? kNames[static_cast<std::size_t>(status)] : kNames[0];
}

// Label values from the network are untrusted bytes: printable ASCII kept, the rest replaced,
// at most 128 bytes.
std::string label_value(std::string_view raw) {
  std::string out;
  for (unsigned char c : raw.substr(0, 128)) {
    out.push_back(c >= 0x20 && c < 0x7F ? static_cast<char>(c) : '?');
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

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

struct DeviceState {
  devices::Device device;
  std::optional<asio::ip::address> ip;  // the address literal, or the last resolution
  bool literal = false;                 // ip is the address itself: never resolved again
  core::SteadyTime resolved_at{};
  detail::Reachability reach;
  std::optional<PingCycleResult> last_cycle;
  std::optional<std::int64_t> uptime_s;
  std::map<std::uint32_t, InterfaceState> interfaces;
  std::size_t last_snmp_values = 0;
  std::map<std::int64_t, ServiceState> services;  // by check id, disabled ones too
  std::vector<tsdb::AppendSample> snmp_batch;     // the SNMP run's samples until it ends
};

class PollerImpl final : public Poller {
 public:
  PollerImpl(const PollerOptions& options, const core::Clock& clock, asio::any_io_executor loop,
             devices::Inventory& inventory, tsdb::Store& store, core::EventBus& bus,
             core::Logger& log, core::MetricsRegistry* metrics, std::unique_ptr<IcmpPinger> pinger,
             std::unique_ptr<SnmpClient> snmp, std::unique_ptr<ServiceChecker> checker)
      : options_(options),
        clock_(clock),
        loop_(loop),
        inventory_(inventory),
        store_(store),
        bus_(bus),
        log_(log),
        pinger_(std::move(pinger)),
        snmp_(std::move(snmp)),
        checker_(std::move(checker)),
        scheduler_(clock, options.scheduler),
        discovery_(loop, clock, pinger_.get(), snmp_.get(), inventory, options.outbound),
        timer_(loop),
        resolver_(loop),
        alive_(std::make_shared<bool>(true)) {
    scheduler_.set_runner(CheckKind::kIcmp,
                          [this](const CheckSpec& s, auto done) { run_icmp(s, std::move(done)); });
    scheduler_.set_runner(CheckKind::kSnmp,
                          [this](const CheckSpec& s, auto done) { run_snmp(s, std::move(done)); });
    for (auto kind : {CheckKind::kTcp, CheckKind::kHttp, CheckKind::kDns}) {
      scheduler_.set_runner(
          kind, [this](const CheckSpec& s, auto done) { run_service(s, std::move(done)); });
    }
    scheduler_.set_listener([this](const CheckSpec& s, const CheckOutcome& o, int attempts) {
      count_run(s, o);
      if (is_service(s.kind)) on_service_run(s, o, attempts);
    });
    changed_ = bus.subscribe<devices::DeviceChanged>([this](const devices::DeviceChanged&) {
      if (replan_posted_) return;
      replan_posted_ = true;
      asio::post(loop_, [this, alive = std::weak_ptr<bool>(alive_)] {
        if (alive.expired()) return;
        replan_posted_ = false;
        if (running_) replan();
      });
    });
    org_deleted_ = bus.subscribe<core::OrgDeleted>(
        [this](const core::OrgDeleted& e) { forget_org(e.org_id); });
    trap_grants_.system_org_id = options.system_org_id;
    trap_grants_.system_communities = options.traps_communities;
    if (metrics) register_metrics(*metrics);
  }

  ~PollerImpl() override {
    alive_.reset();
    timer_.cancel();
    resolver_.cancel();
  }

  void start() override {
    running_ = true;
    replan();
    log_.info("pollers", "polling {} device(s); ICMP {}{}", states_.size(), icmp_mode_name(),
              snmp_ ? ", SNMP on" : ", SNMP off");
  }

  void stop() override {
    running_ = false;
    timer_.cancel();
  }

  void poll_now(core::OrgScope scope, std::int64_t device_id,
                std::function<void(core::Result<PollReport>)> done) override {
    auto it = states_.find(device_id);
    if (it == states_.end() || it->second.device.org_id != scope.org_id()) {
      return post_error(std::move(done), not_polled(device_id));
    }
    struct Join {
      PollReport report;
      int pending = 0;
      bool answered = false;
      std::function<void(core::Result<PollReport>)> done;
    };
    auto join = std::make_shared<Join>();
    join->report.device_id = device_id;
    join->done = std::move(done);
    auto finish_one = [this, join, device_id] {
      if (join->answered || --join->pending > 0) return;
      join->answered = true;
      auto it = states_.find(device_id);
      if (it != states_.end()) {
        join->report.icmp = it->second.last_cycle;
        join->report.snmp_values = it->second.last_snmp_values;
        for (auto& [id, svc] : it->second.services) {
          if (svc.def.enabled) join->report.service_checks.push_back(svc.status);
        }
      }
      auto d = inventory_.get(
          core::OrgScope::trusted(it != states_.end() ? it->second.device.org_id : 0), device_id);
      if (d) join->report.status = d->status();
      join->done(std::move(join->report));
    };
    std::vector<std::pair<CheckKind, std::uint64_t>> checks;
    if (pinger_) checks.emplace_back(CheckKind::kIcmp, check_id(device_id, CheckKind::kIcmp));
    if (snmp_ && it->second.device.snmp) {
      checks.emplace_back(CheckKind::kSnmp, check_id(device_id, CheckKind::kSnmp));
    }
    for (auto& [id, svc] : it->second.services) {
      if (svc.def.enabled) {
        checks.emplace_back(detail::check_kind_of(svc.def.kind), service_check_id(id));
      }
    }
    join->pending = static_cast<int>(checks.size()) + 1;  // +1: released below
    for (const auto& check : checks) {
      // Not a structured binding: clang 14 cannot capture one in a lambda (C++20 allows it).
      const auto kind = check.first;
      const auto id = check.second;
      auto r = scheduler_.run_now(id, [join, kind, finish_one](CheckOutcome o) {
        if (kind == CheckKind::kIcmp) join->report.icmp_outcome = o;
        if (kind == CheckKind::kSnmp) join->report.snmp_outcome = o;
        finish_one();
      });
      if (!r && is_service(kind)) {
        // A service check already under way (on its own schedule) is reported as it stands.
        --join->pending;
        continue;
      }
      if (!r) {
        // Already running: let the caller retry rather than wait for a run it did not start.
        join->answered = true;
        return post_error(
            std::move(join->done),
            core::Error(core::Errc::kConflict, "the device is being polled; try again in a moment",
                        {{"device_id", device_id}}));
      }
    }
    asio::post(loop_, [finish_one, alive = std::weak_ptr<bool>(alive_)] {
      if (!alive.expired()) finish_one();
    });
  }

  core::Result<std::vector<InterfaceInfo>> interfaces(core::OrgScope scope,
                                                      std::int64_t device_id) const override {
    auto d = inventory_.get(scope, device_id);
    if (!d) return std::move(d).error();
    std::vector<InterfaceInfo> out;
    auto it = states_.find(device_id);
    if (it == states_.end()) return out;
    for (auto& [index, iface] : it->second.interfaces) out.push_back(iface.info);
    return out;
  }

  std::vector<ServiceCheckStatus> service_check_status(std::int64_t device_id) const override {
    std::vector<ServiceCheckStatus> out;
    auto it = states_.find(device_id);
    if (it == states_.end()) return out;
    for (auto& [id, svc] : it->second.services) out.push_back(svc.status);
    return out;
  }

  void run_service_check(core::OrgScope scope, std::int64_t device_id, std::int64_t check,
                         std::function<void(core::Result<ServiceCheckStatus>)> done) override {
    auto it = states_.find(device_id);
    if (it == states_.end() || it->second.device.org_id != scope.org_id()) {
      return post_error(std::move(done), not_polled(device_id));
    }
    auto svc = it->second.services.find(check);
    if (svc == it->second.services.end()) {
      return post_error(std::move(done),
                        core::Error(core::Errc::kNotFound,
                                    fmt::format("device {} has no check {}", device_id, check),
                                    {{"device_id", device_id}, {"check_id", check}}));
    }
    if (!svc->second.def.enabled) {
      return post_error(std::move(done),
                        core::Error(core::Errc::kConflict,
                                    fmt::format("check {} is disabled; enable it first", check),
                                    {{"check_id", check}}));
    }
    auto r = scheduler_.run_now(
        service_check_id(check), [this, device_id, check, done](CheckOutcome) mutable {
          auto* svc = service_state(device_id, check);
          if (!svc) {
            return done(core::Error(core::Errc::kNotFound, "the check was removed while it ran"));
          }
          done(svc->status);
        });
    if (!r) {
      return post_error(std::move(done), core::Error(core::Errc::kConflict,
                                                     "the check is running; try again in a moment",
                                                     {{"check_id", check}}));
    }
  }

  std::optional<PingCycleResult> last_cycle(std::int64_t device_id) const override {
    auto it = states_.find(device_id);
    if (it == states_.end()) return std::nullopt;
    return it->second.last_cycle;
  }

  Discovery& discovery() override { return discovery_; }

  // Opens the trap receiver per options. A listen address that cannot be bound is logged (traps
  // are not worth refusing to start over); malformed v3 users are a kConfigError.
  core::Result<void> open_traps() {
    std::vector<TrapV3User> v3_users;
    for (std::size_t i = 0; i < options_.traps_v3_users.size(); ++i) {
      auto u = detail::parse_trap_v3_user(options_.traps_v3_users[i],
                                          fmt::format("pollers.traps_v3_users[{}]", i));
      if (!u) return std::move(u).error();
      v3_users.push_back(std::move(*u));
    }
    trap_grants_.v3_users = v3_users;
    if (options_.traps_listen == "off" || options_.traps_listen.empty()) {
      traps_status_ = "off";
      return core::ok();
    }
    const auto& text = options_.traps_listen;
    const auto colon = text.rfind(':');
    boost::system::error_code ec;
    asio::ip::address address;
    unsigned port = 0;
    bool ok = colon != std::string::npos;
    if (ok) {
      auto host = text.substr(0, colon);
      if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
      }
      address = asio::ip::make_address(host, ec);
      const auto port_text = text.substr(colon + 1);
      ok = !ec && !port_text.empty() && port_text.size() <= 5 &&
           port_text.find_first_not_of("0123456789") == std::string::npos;
      if (ok) port = static_cast<unsigned>(std::stoul(port_text));
      ok = ok && port <= 65535;
    }
    if (!ok) {
      traps_status_ = "off: pollers.traps_listen must be \"off\" or address:port";
      log_.error("pollers", "traps: {}", traps_status_);
      return core::ok();
    }
    TrapOptions o;
    o.listen = asio::ip::udp::endpoint(address, static_cast<std::uint16_t>(port));
    // No allow-list in the receiver: which community is good depends on the device (on_trap).
    o.rate_per_second = options_.traps_rate_per_second;
    o.burst = options_.traps_burst;
    o.v3_users = std::move(v3_users);
    o.logger = &log_;
    auto r = TrapReceiver::open(o, loop_, clock_, [this](Trap t) { on_trap(std::move(t)); });
    if (!r && r.error().code == core::Errc::kInvalidInput) {
      auto e = std::move(r).error();
      return core::Error(core::Errc::kConfigError, "pollers.traps_v3_users: " + e.message,
                         std::move(e.details));
    }
    if (!r) {
      traps_status_ = "off: " + r.error().message;
      log_.warn("pollers", "SNMP traps: not listening on {}: {}", text, r.error().message);
      return core::ok();
    }
    traps_ = std::move(*r);
    const auto ep = traps_->local_endpoint();
    traps_status_ = detail::host_port(ep.address(), ep.port());
    log_.info("pollers", "SNMP traps: listening on udp {}{}", traps_status_,
              options_.traps_v3_users.empty()
                  ? ""
                  : fmt::format(" ({} SNMPv3 user(s))", options_.traps_v3_users.size()));
    return core::ok();
  }

  // A trap becomes an event of each device at its source address whose credentials it carries
  // (detail::trap_reaches_device); one that reaches none is dropped and counted by reason.
  void on_trap(Trap t) {
    auto source =
        t.source.is_v6() && t.source.to_v6().is_v4_mapped()
            ? asio::ip::address(asio::ip::make_address_v4(asio::ip::v4_mapped, t.source.to_v6()))
            : t.source;
    auto at_address = inventory_.find_by_address(source.to_string());
    if (at_address.empty()) {
      ++traps_unmatched_;
      log_.debug("pollers", "trap from {} matches no device: {}", source.to_string(),
                 trap_summary(t));
      return;
    }
    std::vector<devices::Device> matches;
    for (auto& d : at_address) {
      if (deleted_orgs_.contains(d.org_id)) continue;
      if (detail::trap_reaches_device(t, d.org_id, inventory_.snmp_credentials(d.id),
                                      trap_grants_)) {
        matches.push_back(std::move(d));
      }
    }
    const bool v3 = t.version == SnmpVersion::kV3;
    if (matches.empty()) {
      ++(v3 ? traps_dropped_v3_user_ : traps_dropped_community_);
      // Neither the community nor the devices' names: the log is no place for credentials, and
      // the devices may be other organizations'.
      log_.debug("pollers", "trap from {} dropped: {} device(s) there, none with its {}",
                 source.to_string(), at_address.size(), v3 ? "SNMPv3 user" : "community");
      return;
    }
    ++traps_accepted_;
    const auto summary = trap_summary(t);
    devices::EventSeverity severity = devices::EventSeverity::kInfo;
    switch (t.kind) {
      case TrapKind::kLinkDown:
      case TrapKind::kColdStart:
      case TrapKind::kWarmStart:
      case TrapKind::kAuthenticationFailure:
        severity = devices::EventSeverity::kWarning;
        break;
      default:
        break;
    }
    boost::json::object details{{"trap_oid", t.trap_oid.str()},
                                {"kind", trap_kind_name(t.kind)},
                                {"source", source.to_string()},
                                {"inform", t.inform},
                                {"varbinds", t.varbinds.size()}};
    if (t.if_index) details["if_index"] = *t.if_index;
    const auto details_text = boost::json::serialize(details);
    for (auto& d : matches) {
      ++org_stats_[d.org_id].traps_accepted;
      devices::DeviceEvent e;
      e.org_id = d.org_id;
      e.device_id = d.id;
      e.at = clock_.unix_seconds();
      e.kind = "trap";
      e.severity = severity;
      e.message = d.name + ": " + summary;
      e.details_json = details_text;
      inventory_.record_event(std::move(e));
    }
  }

  // Runs per organization and kind, for org_health().
  void count_run(const CheckSpec& spec, const CheckOutcome& outcome) {
    auto it = states_.find(spec.device_id);
    if (it == states_.end()) return;
    auto& k = org_stats_[it->second.device.org_id].kinds[static_cast<std::size_t>(spec.kind)];
    ++(outcome.ok ? k.runs_ok : k.runs_failed);
    if (!outcome.ok && outcome.timed_out) ++k.timeouts;
  }

  // core::OrgDeleted: the organization's devices leave the plan now (the inventory drops them
  // too, but the poller does not count on hearing of it first), its scans stop, its figures go.
  void forget_org(std::int64_t org_id) {
    deleted_orgs_.insert(org_id);
    org_stats_.erase(org_id);
    discovery_.forget_org(org_id);
    if (running_) {
      replan();
    } else {
      std::erase_if(states_,
                    [org_id](const auto& kv) { return kv.second.device.org_id == org_id; });
    }
  }

  OrgPollerHealth org_health(core::OrgScope scope) const override {
    OrgPollerHealth h;
    h.org_id = scope.org_id();
    if (auto it = org_stats_.find(scope.org_id()); it != org_stats_.end()) {
      h.kinds = it->second.kinds;
      h.traps_accepted = it->second.traps_accepted;
    }
    for (auto& k : h.kinds) k.checks = 0;
    for (auto& [id, st] : states_) {
      if (st.device.org_id != scope.org_id()) continue;
      ++h.devices;
      if (auto d = inventory_.get(scope, id)) ++h.statuses[static_cast<std::size_t>(d->status())];
      if (pinger_) ++h.kinds[static_cast<std::size_t>(CheckKind::kIcmp)].checks;
      if (snmp_ && st.device.snmp) ++h.kinds[static_cast<std::size_t>(CheckKind::kSnmp)].checks;
      for (auto& [check, svc] : st.services) {
        if (!svc.def.enabled) continue;
        ++h.kinds[static_cast<std::size_t>(detail::check_kind_of(svc.def.kind))].checks;
        switch (svc.status.state) {
          case ServiceCheckState::kPassing:
            ++h.checks_passing;
            break;
          case ServiceCheckState::kFailing:
            ++h.checks_failing;
            break;
          case ServiceCheckState::kPending:
            ++h.checks_pending;
            break;
        }
      }
    }
    return h;
  }

  PollerHealth health() const override {
    PollerHealth h;
    h.traps_listen = traps_status_;
    if (traps_) h.traps = traps_->stats();
    h.traps_accepted = traps_accepted_;
    h.traps_unmatched = traps_unmatched_;
    h.traps_dropped_community = traps_dropped_community_;
    h.traps_dropped_v3_user = traps_dropped_v3_user_;
    h.icmp_mode = icmp_mode_name();
    for (std::size_t k = 0; k < kCheckKinds; ++k) {
      h.kinds[k] = scheduler_.stats(static_cast<CheckKind>(k));
    }
    h.devices = states_.size();
    return h;
  }

 private:
  std::string icmp_mode_name() const {
    return pinger_ ? std::string(pollers::icmp_mode_name(pinger_->mode())) : "off";
  }

  // kDeviceNotFound for a device the poller does not poll (unknown, another org's, disabled).
  static core::Error not_polled(std::int64_t device_id) {
    return core::Error(core::Errc::kDeviceNotFound,
                       "no enabled device " + std::to_string(device_id),
                       {{"device_id", device_id}});
  }

  template <class T>
  void post_error(std::function<void(core::Result<T>)> done, core::Error e) {
    asio::post(loop_, [done = std::move(done), e = std::move(e)]() mutable { done(std::move(e)); });
  }

  void register_metrics(core::MetricsRegistry& m) {
    auto value = [](const std::atomic<std::uint64_t>& a) {
      return [&a] { return static_cast<double>(a.load()); };
    };
    m.counter_fn("netpulse_traps_received_total", "Datagrams read by the SNMP trap receiver.",
                 value(receiver_snapshot_.received));
    m.counter_fn("netpulse_traps_accepted_total",
                 "Traps that became events of at least one device.", value(traps_accepted_));
    const std::string dropped_help = "Traps and datagrams dropped, by reason (docs/traps.md).";
    for (auto& [reason, counter] :
         std::initializer_list<std::pair<const char*, const std::atomic<std::uint64_t>*>>{
             {"malformed", &receiver_snapshot_.malformed},
             {"rate_limited", &receiver_snapshot_.rate_limited},
             {"not_trap", &receiver_snapshot_.not_trap},
             {"v3_disabled", &receiver_snapshot_.v3},
             {"v3_security", &receiver_snapshot_.v3_security},
             {"no_device", &traps_unmatched_},
             {"v3_user", &traps_dropped_v3_user_}}) {
      m.counter_fn("netpulse_traps_dropped_total", dropped_help, value(*counter),
                   {{"reason", reason}});
    }
    // The receiver's allow-list is not used by the poller; both count as a wrong community.
    m.counter_fn("netpulse_traps_dropped_total", dropped_help,
                 [this] {
                   return static_cast<double>(traps_dropped_community_.load() +
                                              receiver_snapshot_.community.load());
                 },
                 {{"reason", "community"}});
    for (std::size_t k = 0; k < kCheckKinds; ++k) {
      const std::string kind(check_kind_name(static_cast<CheckKind>(k)));
      auto field = [this, k](std::uint64_t KindStats::*f) {
        return [this, k, f] {
          std::lock_guard lock(snapshot_mutex_);
          return static_cast<double>(snapshot_[k].*f);
        };
      };
      m.counter_fn("netpulse_poller_runs_total", "Check runs finished, by kind and outcome.",
                   field(&KindStats::runs_ok), {{"kind", kind}, {"outcome", "ok"}});
      m.counter_fn("netpulse_poller_runs_total", "Check runs finished, by kind and outcome.",
                   field(&KindStats::runs_failed), {{"kind", kind}, {"outcome", "failed"}});
      m.counter_fn("netpulse_poller_timeouts_total", "Check attempts that timed out.",
                   field(&KindStats::timeouts), {{"kind", kind}});
      m.counter_fn("netpulse_poller_overruns_total",
                   "Checks skipped because their previous run was still going.",
                   field(&KindStats::overruns), {{"kind", kind}});
      m.counter_fn("netpulse_poller_throttled_total",
                   "Checks skipped because their kind was at its concurrency bound.",
                   field(&KindStats::throttled), {{"kind", kind}});
      m.gauge_fn("netpulse_poller_in_flight", "Checks under way.",
                 [this, k] {
                   std::lock_guard lock(snapshot_mutex_);
                   return static_cast<double>(snapshot_[k].in_flight);
                 },
                 {{"kind", kind}});
      m.gauge_fn("netpulse_poller_checks", "Checks in the plan.",
                 [this, k] {
                   std::lock_guard lock(snapshot_mutex_);
                   return static_cast<double>(snapshot_[k].checks);
                 },
                 {{"kind", kind}});
    }
  }

  void take_snapshot() {
    {
      std::lock_guard lock(snapshot_mutex_);
      for (std::size_t k = 0; k < kCheckKinds; ++k) {
        snapshot_[k] = scheduler_.stats(static_cast<CheckKind>(k));
      }
    }
    if (!traps_) return;
    const auto t = traps_->stats();
    auto& r = receiver_snapshot_;
    r.received = t.received;
    r.malformed = t.dropped_malformed;
    r.rate_limited = t.dropped_rate_limited;
    r.community = t.dropped_community;
    r.not_trap = t.dropped_not_trap;
    r.v3 = t.dropped_v3;
    r.v3_security = t.dropped_v3_security;
  }

  void replan() {
    auto devices = inventory_.all_enabled();
    std::unordered_map<std::int64_t, DeviceState> next;
    std::vector<CheckSpec> plan;
    for (auto& d : devices) {
      if (deleted_orgs_.contains(d.org_id)) continue;
      DeviceState state;
      if (auto it = states_.find(d.id); it != states_.end()) {
        state = std::move(it->second);
      } else {
        state.interfaces = interfaces_from_store(d);
      }
      if (!state.ip || state.device.address != d.address) {
        boost::system::error_code ec;
        const auto literal = asio::ip::make_address(d.address, ec);
        state.literal = !ec;
        state.ip.reset();
        if (!ec) state.ip = literal;
      }
      state.device = d;
      const auto interval = std::chrono::milliseconds(std::int64_t{d.poll_interval_s} * 1000);
      if (pinger_) {
        CheckSpec s;
        s.id = check_id(d.id, CheckKind::kIcmp);
        s.device_id = d.id;
        s.kind = CheckKind::kIcmp;
        s.interval = interval;
        s.timeout = options_.cycle.timeout;
        s.retries = 0;  // a cycle of several echoes is its own retry
        plan.push_back(s);
      }
      if (snmp_ && d.snmp) {
        CheckSpec s;
        s.id = check_id(d.id, CheckKind::kSnmp);
        s.device_id = d.id;
        s.kind = CheckKind::kSnmp;
        s.interval = interval;
        s.timeout = options_.snmp_timeout;
        s.retries = 0;  // net-snmp resends each PDU snmp_retries times
        plan.push_back(s);
      }
      plan_services(d, state, interval, plan);
      next.emplace(d.id, std::move(state));
    }
    states_ = std::move(next);
    scheduler_.set_plan(std::move(plan));
    take_snapshot();
    arm();
  }

  void arm() {
    if (!running_) return;
    const auto now = clock_.steady_now();
    auto wake = now + options_.max_sleep;
    if (auto due = scheduler_.next_due(); due && *due < wake) wake = *due;
    timer_.expires_at(wake);
    timer_.async_wait([this](const boost::system::error_code& ec) {
      if (ec || !running_) return;
      scheduler_.tick();
      take_snapshot();
      arm();
    });
  }

  // The device's interfaces as its last samples in the store left them (after a restart): names,
  // statuses and speeds, so the API lists them and the first poll sees what changed; and the
  // octet counters when recent enough (kSeedCountersFor) that the first poll gives rates.
  std::map<std::uint32_t, InterfaceState> interfaces_from_store(const devices::Device& d) const {
    constexpr std::int64_t kSeedCountersFor = 15 * 60 * 1000;
    std::map<std::uint32_t, InterfaceState> out;
    static constexpr std::array<std::string_view, 7> kSeeded{
        "ifOperStatus",  "ifAdminStatus", "ifSpeedBps", "ifHCInOctets",
        "ifHCOutOctets", "ifInOctets",    "ifOutOctets"};
    // An equality matcher only: no regex compiled per device at start-up.
    auto selector = tsdb::Selector::parse(fmt::format(R"({{device_id="{}"}})", d.id));
    if (!selector) return out;
    const auto now_ms = clock_.unix_millis();
    for (auto& series : store_.series(d.org_id, std::span(&*selector, 1), 100'000)) {
      const auto& m = series.key.metric;
      if (std::find(kSeeded.begin(), kSeeded.end(), m) == kSeeded.end()) continue;
      std::optional<std::uint32_t> index;
      std::string name, alias;
      for (auto& [k, v] : series.key.labels) {
        if (k == "ifIndex") {
          std::uint32_t n = 0;
          auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
          if (ec == std::errc() && p == v.data() + v.size()) index = n;
        }
        if (k == "ifName") name = v;
        if (k == "ifAlias") alias = v;
      }
      if (!index || series.last_t <= 0) continue;
      auto& st = out[*index];
      auto& info = st.info;
      info.if_index = *index;
      if (series.last_t / 1000 >= info.polled_at) {  // the newest series names the interface
        info.name = name;
        info.alias = alias;
        info.polled_at = series.last_t / 1000;
      }
      const auto value = series.last_value;
      if (m == "ifOperStatus") info.oper_status = static_cast<int>(value);
      if (m == "ifAdminStatus") info.admin_status = static_cast<int>(value);
      if (m == "ifSpeedBps") info.speed_bps = static_cast<std::uint64_t>(value);
      const bool hc = m.starts_with("ifHC");
      const bool in = m.ends_with("InOctets"), out_octets = m.ends_with("OutOctets");
      // The 64-bit series sort first; a 32-bit one left from before the agent had them is not used.
      if ((in || out_octets) && (hc || !info.hc_counters) &&
          now_ms - series.last_t < kSeedCountersFor && value >= 0) {
        if (hc) info.hc_counters = true;
        (in ? st.in_octets : st.out_octets) = static_cast<std::uint64_t>(value);
        st.at_ms = st.at_ms ? std::min(st.at_ms, series.last_t) : series.last_t;
      }
    }
    return out;
  }

  // --- service checks (TCP / HTTP / DNS) ---------------------------------------------------------

  ServiceState* service_state(std::int64_t device_id, std::int64_t check) {
    auto it = states_.find(device_id);
    if (it == states_.end()) return nullptr;
    auto svc = it->second.services.find(check);
    return svc == it->second.services.end() ? nullptr : &svc->second;
  }

  // The device's service checks into `state` (a check whose definition changed starts again as
  // pending) and its enabled ones into the plan.
  void plan_services(const devices::Device& d, DeviceState& state,
                     std::chrono::milliseconds device_interval, std::vector<CheckSpec>& plan) {
    std::map<std::int64_t, ServiceState> services;
    for (auto& def : inventory_.service_checks_for(d.id)) {
      ServiceState svc;
      if (auto old = state.services.find(def.id); old != state.services.end() &&
                                                  old->second.def.updated_at == def.updated_at &&
                                                  def.enabled) {
        svc = std::move(old->second);
      }
      svc.def = def;
      svc.status.check_id = def.id;
      if (def.enabled) {
        CheckSpec s;
        s.id = service_check_id(def.id);
        s.device_id = d.id;
        s.kind = detail::check_kind_of(def.kind);
        s.interval = def.interval_s
                         ? std::chrono::milliseconds(std::int64_t{*def.interval_s} * 1000)
                         : device_interval;
        s.timeout = std::chrono::milliseconds(def.timeout_ms);
        s.retries = def.retries;
        plan.push_back(s);
      }
      services.emplace(def.id, std::move(svc));
    }
    state.services = std::move(services);
  }

  // One attempt of a service check: the device's address when the check needs it, then the
  // ServiceChecker; the answer goes into the check's attempt figures.
  void run_service(const CheckSpec& spec, std::function<void(CheckOutcome)> done) {
    const auto device_id = spec.device_id;
    const auto check = static_cast<std::int64_t>(spec.id - kServiceIds);
    auto* svc = service_state(device_id, check);
    if (!svc) return done(CheckOutcome{false, false, "the check left the plan"});
    if (!detail::uses_device_address(svc->def)) {
      return run_service_at(device_id, check, std::nullopt, std::move(done));
    }
    with_address(device_id, [this, device_id, check,
                             done = std::move(done)](core::Result<asio::ip::address> ip) mutable {
      if (!ip) {
        auto* svc = service_state(device_id, check);
        if (!svc) return done(CheckOutcome{false, false, "the check left the plan"});
        return done(detail::record_failure(svc->attempt, ip.error()));
      }
      run_service_at(device_id, check, *ip, std::move(done));
    });
  }

  void run_service_at(std::int64_t device_id, std::int64_t check,
                      std::optional<asio::ip::address> ip, std::function<void(CheckOutcome)> done) {
    auto* svc = service_state(device_id, check);
    if (!svc) return done(CheckOutcome{false, false, "the check left the plan"});
    const auto& def = svc->def;
    auto answer = [this, device_id, check, done = std::move(done),
                   alive = std::weak_ptr<bool>(alive_)](auto record) mutable {
      if (alive.expired()) return;
      auto* svc = service_state(device_id, check);
      if (!svc) return done(CheckOutcome{false, false, "the check left the plan"});
      done(record(*svc));
    };
    switch (def.kind) {
      case devices::ServiceKind::kTcp:
        checker_->tcp(
            detail::tcp_request(def, *ip), [answer](core::Result<TcpCheckResult> r) mutable {
              answer([&r](ServiceState& s) { return detail::record_attempt(s.attempt, r); });
            });
        break;
      case devices::ServiceKind::kHttp:
        checker_->http(
            detail::http_request(def, ip, options_.checks_ca_file),
            [answer](core::Result<HttpCheckResult> r) mutable {
              answer([&r](ServiceState& s) { return detail::record_attempt(s.attempt, r, s.def); });
            });
        break;
      case devices::ServiceKind::kDns: {
        auto request = detail::dns_request(def, ip);
        if (!request)
          return answer([&request](ServiceState& s) {
            return detail::record_failure(s.attempt, request.error());
          });
        checker_->dns(*request, [answer](core::Result<DnsCheckResult> r) mutable {
          answer([&r](ServiceState& s) { return detail::record_attempt(s.attempt, r, s.def); });
        });
        break;
      }
    }
  }

  // A service check's run finished (after its retries): its state, samples and, when it turned
  // passing or failing, an event.
  void on_service_run(const CheckSpec& spec, const CheckOutcome& outcome, int attempts) {
    auto it = states_.find(spec.device_id);
    if (it == states_.end()) return;
    auto& st = it->second;
    auto svc_it = st.services.find(static_cast<std::int64_t>(spec.id - kServiceIds));
    if (svc_it == st.services.end()) return;
    auto& svc = svc_it->second;
    const auto now = clock_.unix_seconds();
    const auto before = svc.status.state;
    const auto runs = svc.status.runs + 1;
    const auto failed_runs = svc.status.failed_runs + (outcome.ok ? 0 : 1);
    auto since = svc.status.state_since;
    svc.status = svc.attempt;
    svc.status.check_id = svc.def.id;
    svc.status.state = outcome.ok ? ServiceCheckState::kPassing : ServiceCheckState::kFailing;
    svc.status.attempts = attempts;
    svc.status.last_run_at = now;
    svc.status.runs = runs;
    svc.status.failed_runs = failed_runs;
    svc.status.state_since = svc.status.state == before ? since : std::optional(now);
    if (!outcome.ok && svc.status.error.empty()) svc.status.error = outcome.error;

    auto labels = device_labels(st.device);
    labels.emplace_back("check", label_value(svc.def.name));
    labels.emplace_back("kind", std::string(devices::service_kind_name(svc.def.kind)));
    const auto t_ms = clock_.unix_millis();
    std::vector<tsdb::AppendSample> batch;
    for (auto& [metric, value] : detail::service_samples(svc.def, svc.status)) {
      batch.push_back(sample(metric, labels, t_ms, value));
    }
    append(st.device.org_id, std::move(batch));

    const bool passing = svc.status.state == ServiceCheckState::kPassing;
    if (svc.status.state == before || (before == ServiceCheckState::kPending && passing)) return;
    bus_.publish(ServiceCheckChanged{st.device.org_id, st.device.id, svc.def.id, svc.def.name,
                                     svc.def.kind, passing, svc.status.error, now});
    devices::DeviceEvent e;
    e.org_id = st.device.org_id;
    e.device_id = st.device.id;
    e.at = now;
    e.kind = "check";
    e.severity = passing ? devices::EventSeverity::kInfo : devices::EventSeverity::kWarning;
    const auto kind = devices::service_kind_name(svc.def.kind);
    e.message = passing ? fmt::format("{}: {} check \"{}\" passes again", st.device.name, kind,
                                      svc.def.name)
                        : fmt::format("{}: {} check \"{}\" fails: {}", st.device.name, kind,
                                      svc.def.name, svc.status.error);
    boost::json::object details{
        {"check_id", svc.def.id}, {"check", svc.def.name}, {"kind", kind}, {"passing", passing}};
    if (!passing) {
      details["error"] = svc.status.error;
      details["error_code"] = svc.status.error_code;
    }
    e.details_json = boost::json::serialize(details);
    inventory_.record_event(std::move(e));
  }

  // --- address resolution ---------------------------------------------------------------------

  // Calls `then` with the device's IP address (a literal at once; a host name resolved, cached
  // for kResolveTtl) or an outcome saying why not: also when the outbound policy refuses it.
  void with_address(std::int64_t device_id,
                    std::function<void(core::Result<asio::ip::address>)> then) {
    auto it = states_.find(device_id);
    if (it == states_.end()) {
      return then(core::Error(core::Errc::kDeviceNotFound, "the device left the plan"));
    }
    auto& st = it->second;
    if (st.ip && (st.literal || clock_.steady_now() - st.resolved_at < kResolveTtl)) {
      return then(admit(*st.ip));
    }
    resolver_.async_resolve(
        st.device.address, "",
        [this, device_id, then = std::move(then), alive = std::weak_ptr<bool>(alive_)](
            const boost::system::error_code& e, asio::ip::udp::resolver::results_type results) {
          if (alive.expired()) return;
          auto it = states_.find(device_id);
          if (it == states_.end()) {
            return then(core::Error(core::Errc::kDeviceNotFound, "the device left the plan"));
          }
          if (e || results.empty()) {
            return then(core::Error(core::Errc::kNotFound,
                                    "cannot resolve " + it->second.device.address + ": " +
                                        (e ? e.message() : std::string("no address"))));
          }
          auto ip = results.begin()->endpoint().address();
          it->second.ip = ip;
          it->second.resolved_at = clock_.steady_now();
          then(admit(ip));
        });
  }

  core::Result<asio::ip::address> admit(const asio::ip::address& ip) const {
    if (auto r = options_.outbound.check(ip, core::OutboundPurpose::kPoll); !r) return r.error();
    return ip;
  }

  // --- samples ----------------------------------------------------------------------------------

  static tsdb::AppendSample sample(std::string metric, tsdb::LabelSet labels, std::int64_t t_ms,
                                   double v) {
    tsdb::AppendSample s;
    s.key.metric = std::move(metric);
    std::sort(labels.begin(), labels.end());
    s.key.labels = std::move(labels);
    s.sample.t = t_ms;
    s.sample.v = v;
    return s;
  }

  // A sample whose labels are sorted already (one sort per interface, not one per metric).
  static tsdb::AppendSample sorted_sample(std::string_view metric, const tsdb::LabelSet& sorted,
                                          std::int64_t t_ms, double v) {
    tsdb::AppendSample s;
    s.key.metric = metric;
    s.key.labels = sorted;
    s.sample.t = t_ms;
    s.sample.v = v;
    return s;
  }

  // Samples of the SNMP run under way: stored in one append when the run ends.
  static void stage(DeviceState& st, std::vector<tsdb::AppendSample>&& batch) {
    if (st.snmp_batch.empty()) {
      st.snmp_batch = std::move(batch);
    } else {
      std::move(batch.begin(), batch.end(), std::back_inserter(st.snmp_batch));
    }
  }

  static tsdb::LabelSet device_labels(const devices::Device& d) {
    return {{"device", label_value(d.name)}, {"device_id", std::to_string(d.id)}};
  }

  void append(std::int64_t org_id, std::vector<tsdb::AppendSample> batch) {
    if (batch.empty()) return;
    store_.append(org_id, std::move(batch), tsdb::AppendMode::kPartial,
                  [this, alive = std::weak_ptr<bool>(alive_)](core::Result<tsdb::AppendResult> r) {
                    if (alive.expired()) return;
                    if (!r) {
                      log_.warn("pollers", "samples not stored: {}", r.error().message);
                    } else if (!r->refused.empty()) {
                      log_.debug("pollers", "{} sample(s) refused, first: {}", r->refused.size(),
                                 r->refused.front().message);
                    }
                  });
  }

  // --- ICMP -------------------------------------------------------------------------------------

  void run_icmp(const CheckSpec& spec, std::function<void(CheckOutcome)> done) {
    const auto device_id = spec.device_id;
    with_address(device_id, [this, device_id,
                             done = std::move(done)](core::Result<asio::ip::address> ip) mutable {
      if (!ip) {
        judge(device_id, false);
        return done(CheckOutcome{false, false, ip.error().message});
      }
      pinger_->ping_cycle(*ip, options_.cycle,
                          [this, device_id, done = std::move(done),
                           alive = std::weak_ptr<bool>(alive_)](PingCycleResult r) {
                            if (alive.expired()) return;
                            on_cycle(device_id, r);
                            CheckOutcome o;
                            o.ok = r.received > 0;
                            o.timed_out = r.received == 0 && !r.first_error;
                            if (!o.ok) {
                              o.error = r.first_error
                                            ? r.first_error->message
                                            : fmt::format("no reply to {} echo(s)", r.count);
                            }
                            done(std::move(o));
                          });
    });
  }

  void on_cycle(std::int64_t device_id, const PingCycleResult& r) {
    auto it = states_.find(device_id);
    if (it == states_.end()) return;
    auto& st = it->second;
    st.last_cycle = r;
    const auto t_ms = clock_.unix_millis();
    auto labels = device_labels(st.device);
    std::vector<tsdb::AppendSample> batch;
    batch.push_back(sample("icmp_loss_pct", labels, t_ms, r.loss_percent));
    batch.push_back(sample("device_up", labels, t_ms, r.received > 0 ? 1 : 0));
    if (r.received > 0) {
      batch.push_back(sample("icmp_rtt_min_ms", labels, t_ms, r.rtt_min_ms));
      batch.push_back(sample("icmp_rtt_avg_ms", labels, t_ms, r.rtt_avg_ms));
      batch.push_back(sample("icmp_rtt_max_ms", labels, t_ms, r.rtt_max_ms));
      batch.push_back(sample("icmp_jitter_ms", labels, t_ms, r.jitter_ms));
    }
    append(st.device.org_id, std::move(batch));
    judge(device_id, r.received > 0);
  }

  // Feeds a cycle's verdict to the device's reachability and records the status.
  void judge(std::int64_t device_id, bool answered) {
    auto it = states_.find(device_id);
    if (it == states_.end()) return;
    auto& st = it->second;
    const auto now = clock_.unix_seconds();
    detail::ReachabilityOptions ro{options_.down_after, options_.up_after, options_.flap_changes,
                                   options_.flap_window_s, options_.flap_up_after};
    st.reach.observe(answered, now, ro);
    const auto up = st.reach.up();
    if (!up) return;
    DeviceStatus status = DeviceStatus::kUp;
    if (!*up) status = parents_down(st.device) ? DeviceStatus::kUnreachable : DeviceStatus::kDown;
    inventory_.record_status(device_id, status, now);
  }

  // Whether the device has parents and every one of them is down or unreachable.
  bool parents_down(const devices::Device& d) const {
    if (d.parents.empty()) return false;
    for (auto p : d.parents) {
      auto parent = inventory_.get(core::OrgScope::trusted(d.org_id), p);
      if (!parent) continue;
      const auto s = parent->polled_status;
      if (s != DeviceStatus::kDown && s != DeviceStatus::kUnreachable) return false;
    }
    return true;
  }

  // --- SNMP -------------------------------------------------------------------------------------

  void run_snmp(const CheckSpec& spec, std::function<void(CheckOutcome)> run_done) {
    const auto device_id = spec.device_id;
    // However the run ends, what it read is stored in one append.
    auto done = [this, device_id, run_done = std::move(run_done)](CheckOutcome o) {
      if (auto it = states_.find(device_id); it != states_.end()) {
        append(it->second.device.org_id, std::move(it->second.snmp_batch));
        it->second.snmp_batch.clear();
      }
      run_done(std::move(o));
    };
    with_address(device_id, [this, device_id,
                             done = std::move(done)](core::Result<asio::ip::address> ip) mutable {
      if (!ip) return done(CheckOutcome{false, false, ip.error().message});
      auto creds = inventory_.snmp_credentials(device_id);
      if (!creds) return done(CheckOutcome{false, false, "the device has no SNMP credentials"});
      auto target =
          detail::to_snmp_target(*ip, *creds, options_.snmp_timeout, options_.snmp_retries);
      snmp_->get(
          target, detail::system_oids(),
          [this, device_id, target, done = std::move(done),
           alive = std::weak_ptr<bool>(alive_)](core::Result<std::vector<VarBind>> r) mutable {
            if (alive.expired()) return;
            if (!r) {
              return done(CheckOutcome{false, r.error().code == core::Errc::kTimeout,
                                       "SNMP: " + r.error().message});
            }
            on_system(device_id, *r);
            walk_interfaces(device_id, target, r->size(), std::move(done));
          });
    });
  }

  void on_system(std::int64_t device_id, const std::vector<VarBind>& vbs) {
    auto it = states_.find(device_id);
    if (it == states_.end()) return;
    auto& st = it->second;
    auto info = detail::system_info(vbs);
    const auto now = clock_.unix_seconds();
    if (info.uptime_s) {
      if (st.uptime_s && *info.uptime_s + 60 < *st.uptime_s) {
        // sysUpTime went backwards: a restart. Counters restarted too.
        for (auto& [index, iface] : st.interfaces) {
          iface.in_octets.reset();
          iface.out_octets.reset();
        }
        bus_.publish(DeviceRebooted{st.device.org_id, device_id, *info.uptime_s, now});
        devices::DeviceEvent e;
        e.org_id = st.device.org_id;
        e.device_id = device_id;
        e.at = now;
        e.kind = "reboot";
        e.severity = devices::EventSeverity::kWarning;
        e.message = fmt::format("{} restarted (sysUpTime {} s, was {} s)", st.device.name,
                                *info.uptime_s, *st.uptime_s);
        e.details_json = fmt::format(R"({{"uptime_s":{},"previous_uptime_s":{}}})", *info.uptime_s,
                                     *st.uptime_s);
        inventory_.record_event(std::move(e));
        log_.info("pollers", "device {} ({}) restarted: sysUpTime {} s", device_id, st.device.name,
                  *info.uptime_s);
      }
      st.uptime_s = info.uptime_s;
      st.snmp_batch.push_back(sample("sysUpTime", device_labels(st.device), clock_.unix_millis(),
                                     static_cast<double>(*info.uptime_s)));
    }
    inventory_.record_system_info(device_id, info);
  }

  void walk_interfaces(std::int64_t device_id, const SnmpTarget& target, std::size_t values,
                       std::function<void(CheckOutcome)> done) {
    WalkOptions wo;
    wo.max_repetitions = options_.snmp_max_repetitions;
    wo.deadline = std::chrono::milliseconds(
        std::max<std::int64_t>(options_.snmp_timeout.count() * 10, 10'000));
    snmp_->walk_columns(
        target, detail::interface_columns(), wo,
        [this, device_id, values, target, done = std::move(done),
         alive = std::weak_ptr<bool>(alive_)](core::Result<std::vector<VarBind>> r) {
          if (alive.expired()) return;
          if (!r) {
            return done(CheckOutcome{false, r.error().code == core::Errc::kTimeout,
                                     "SNMP interface table: " + r.error().message});
          }
          on_interfaces(device_id, *r);
          walk_host(device_id, target, values + r->size(), std::move(done));
        });
  }

  // HOST-RESOURCES and ENTITY-SENSOR: optional tables; an agent without them answers quickly
  // with the end of its MIB, and an error here does not fail the run (interfaces were read).
  void walk_host(std::int64_t device_id, const SnmpTarget& target, std::size_t values,
                 std::function<void(CheckOutcome)> done) {
    WalkOptions wo;
    wo.max_repetitions = options_.snmp_max_repetitions;
    wo.max_values = 20'000;
    wo.deadline = std::chrono::milliseconds(
        std::max<std::int64_t>(options_.snmp_timeout.count() * 10, 10'000));
    snmp_->walk_columns(
        target, detail::host_columns(), wo,
        [this, device_id, values, target, done = std::move(done),
         alive = std::weak_ptr<bool>(alive_)](core::Result<std::vector<VarBind>> r) {
          if (alive.expired()) return;
          auto it = states_.find(device_id);
          if (it == states_.end()) return done(CheckOutcome{true, false, ""});
          auto& st = it->second;
          std::size_t total = values;
          if (r) {
            total += r->size();
            const auto t_ms = clock_.unix_millis();
            std::vector<tsdb::AppendSample> batch;
            for (auto& hs : detail::host_samples(*r)) {
              auto labels = device_labels(st.device);
              for (auto& [k, v] : hs.labels) labels.emplace_back(k, label_value(v));
              batch.push_back(sample(hs.metric, std::move(labels), t_ms, hs.value));
            }
            stage(st, std::move(batch));
          } else {
            log_.debug("pollers", "device {}: host tables: {}", device_id, r.error().message);
          }
          st.last_snmp_values = total;
          get_custom(device_id, target, std::move(done));
        });
  }

  // The device's custom OIDs (its own and its type's) in one GET; a failure is logged, not a
  // failed run. Values are scaled; non-numeric answers are skipped.
  void get_custom(std::int64_t device_id, const SnmpTarget& target,
                  std::function<void(CheckOutcome)> done) {
    auto custom = inventory_.custom_oids_for(device_id);
    std::vector<Oid> oids;
    std::vector<devices::CustomOid> wanted;
    for (auto& c : custom) {
      auto oid = Oid::parse(c.oid);
      if (!oid || oids.size() >= 64) continue;
      oids.push_back(std::move(*oid));
      wanted.push_back(std::move(c));
    }
    if (oids.empty()) return done(CheckOutcome{true, false, ""});
    snmp_->get(
        target, std::move(oids),
        [this, device_id, wanted = std::move(wanted), done = std::move(done),
         alive = std::weak_ptr<bool>(alive_)](core::Result<std::vector<VarBind>> r) {
          if (alive.expired()) return;
          auto it = states_.find(device_id);
          if (it == states_.end() || !r) {
            if (!r)
              log_.debug("pollers", "device {}: custom OIDs: {}", device_id, r.error().message);
            return done(CheckOutcome{true, false, ""});
          }
          auto& st = it->second;
          const auto t_ms = clock_.unix_millis();
          std::vector<tsdb::AppendSample> batch;
          for (std::size_t i = 0; i < r->size() && i < wanted.size(); ++i) {
            auto v = numeric_value((*r)[i].value);
            if (!v) continue;
            batch.push_back(
                sample(wanted[i].metric, device_labels(st.device), t_ms, *v * wanted[i].scale));
          }
          st.last_snmp_values += r->size();
          stage(st, std::move(batch));
          done(CheckOutcome{true, false, ""});
        });
  }

  void on_interfaces(std::int64_t device_id, const std::vector<VarBind>& vbs) {
    auto it = states_.find(device_id);
    if (it == states_.end()) return;
    auto& st = it->second;
    const auto t_ms = clock_.unix_millis();
    const auto now_s = t_ms / 1000;
    auto rows = detail::interface_rows(vbs);
    std::vector<tsdb::AppendSample> batch;
    std::map<std::uint32_t, InterfaceState> next;
    for (auto& row : rows) {
      InterfaceState state;
      auto& info = state.info;
      info.if_index = row.if_index;
      info.descr = label_value(row.descr);
      info.name = label_value(row.name.empty() ? row.descr : row.name);
      info.alias = label_value(row.alias);
      info.admin_status = row.admin_status;
      info.oper_status = row.oper_status;
      info.speed_bps =
          row.high_speed_mbps ? *row.high_speed_mbps * 1'000'000ull : row.speed_bps.value_or(0);
      info.hc_counters = row.hc_in_octets.has_value();
      info.polled_at = now_s;
      state.in_octets = row.hc_in_octets ? row.hc_in_octets : row.in_octets;
      state.out_octets = row.hc_out_octets ? row.hc_out_octets : row.out_octets;
      state.at_ms = t_ms;
      auto prev = st.interfaces.find(row.if_index);
      if (prev != st.interfaces.end()) {
        const auto& p = prev->second;
        const double seconds = static_cast<double>(t_ms - p.at_ms) / 1000.0;
        const bool hc = info.hc_counters && p.info.hc_counters;
        const auto speed = static_cast<double>(info.speed_bps);
        if (p.in_octets && state.in_octets && info.hc_counters == p.info.hc_counters) {
          info.in_bps = detail::octet_rate_bps(*p.in_octets, *state.in_octets, hc, seconds, speed);
        }
        if (p.out_octets && state.out_octets && info.hc_counters == p.info.hc_counters) {
          info.out_bps =
              detail::octet_rate_bps(*p.out_octets, *state.out_octets, hc, seconds, speed);
        }
        if (info.speed_bps > 0 && (info.in_bps || info.out_bps)) {
          info.utilization_pct =
              100.0 * std::max(info.in_bps.value_or(0), info.out_bps.value_or(0)) / speed;
        }
        if (p.info.oper_status != info.oper_status && p.info.oper_status != 0) {
          bus_.publish(InterfaceStatusChanged{st.device.org_id, device_id, row.if_index, info.name,
                                              p.info.oper_status, info.oper_status, now_s});
          devices::DeviceEvent e;
          e.org_id = st.device.org_id;
          e.device_id = device_id;
          e.at = now_s;
          e.kind = "interface";
          const bool down = info.oper_status != 1 && info.admin_status == 1;
          e.severity = down ? devices::EventSeverity::kWarning : devices::EventSeverity::kInfo;
          e.message =
              fmt::format("{} interface {} (ifIndex {}) oper status {} -> {}", st.device.name,
                          info.name, row.if_index, oper_status_name(p.info.oper_status),
                          oper_status_name(info.oper_status));
          e.details_json = fmt::format(R"({{"if_index":{},"from":{},"to":{}}})", row.if_index,
                                       p.info.oper_status, info.oper_status);
          inventory_.record_event(std::move(e));
        }
      }
      auto labels = device_labels(st.device);
      labels.emplace_back("ifIndex", std::to_string(row.if_index));
      if (!info.name.empty()) labels.emplace_back("ifName", info.name);
      if (!info.alias.empty()) labels.emplace_back("ifAlias", info.alias);
      std::sort(labels.begin(), labels.end());
      for (auto& [metric, value] : row.values) {
        batch.push_back(sorted_sample(metric, labels, t_ms, static_cast<double>(value)));
      }
      batch.push_back(sorted_sample("ifOperStatus", labels, t_ms, info.oper_status));
      batch.push_back(sorted_sample("ifAdminStatus", labels, t_ms, info.admin_status));
      batch.push_back(
          sorted_sample("ifSpeedBps", labels, t_ms, static_cast<double>(info.speed_bps)));
      if (info.in_bps) batch.push_back(sorted_sample("ifInBps", labels, t_ms, *info.in_bps));
      if (info.out_bps) batch.push_back(sorted_sample("ifOutBps", labels, t_ms, *info.out_bps));
      if (info.utilization_pct) {
        batch.push_back(sorted_sample("ifUtilizationPct", labels, t_ms, *info.utilization_pct));
      }
      next.emplace(row.if_index, std::move(state));
    }
    st.interfaces = std::move(next);
    stage(st, std::move(batch));
  }

  PollerOptions options_;
  const core::Clock& clock_;
  asio::any_io_executor loop_;
  devices::Inventory& inventory_;
  tsdb::Store& store_;
  core::EventBus& bus_;
  core::Logger& log_;
  std::unique_ptr<IcmpPinger> pinger_;
  std::unique_ptr<SnmpClient> snmp_;
  std::unique_ptr<ServiceChecker> checker_;
  Scheduler scheduler_;
  Discovery discovery_;
  asio::steady_timer timer_;
  asio::ip::udp::resolver resolver_;
  std::unordered_map<std::int64_t, DeviceState> states_;
  core::EventBus::Subscription changed_;
  bool running_ = false;
  bool replan_posted_ = false;
  mutable std::mutex snapshot_mutex_;
  std::array<KindStats, kCheckKinds> snapshot_{};
  std::unique_ptr<TrapReceiver> traps_;
  std::string traps_status_ = "off";
  detail::TrapGrants trap_grants_;
  // Atomic: /metrics reads them from its own thread.
  std::atomic<std::uint64_t> traps_accepted_{0};
  std::atomic<std::uint64_t> traps_unmatched_{0};
  std::atomic<std::uint64_t> traps_dropped_community_{0};
  std::atomic<std::uint64_t> traps_dropped_v3_user_{0};
  // The receiver's counters as of the last snapshot (the receiver is read on the loop only).
  struct ReceiverSnapshot {
    std::atomic<std::uint64_t> received{0}, malformed{0}, rate_limited{0}, community{0},
        not_trap{0}, v3{0}, v3_security{0};
  } receiver_snapshot_;
  struct OrgStats {
    std::array<OrgKindStats, kCheckKinds> kinds{};
    std::uint64_t traps_accepted = 0;
  };
  std::unordered_map<std::int64_t, OrgStats> org_stats_;  // by organization
  std::unordered_set<std::int64_t> deleted_orgs_;         // since start
  core::EventBus::Subscription org_deleted_;
  std::shared_ptr<bool> alive_;
};

}  // namespace

std::string_view service_check_state_name(ServiceCheckState s) noexcept {
  switch (s) {
    case ServiceCheckState::kPending:
      return "pending";
    case ServiceCheckState::kPassing:
      return "passing";
    case ServiceCheckState::kFailing:
      return "failing";
  }
  return "pending";
}

core::Result<std::unique_ptr<Poller>> Poller::open(
    const PollerOptions& options, PollerEngines engines, const core::Clock& clock,
    asio::any_io_executor loop, devices::Inventory& inventory, tsdb::Store& store,
    core::EventBus& bus, core::Logger& log, core::MetricsRegistry* metrics) {
  if (!engines.checks) {
    return core::Error(core::Errc::kInvalidInput, "pollers: no service checker was given");
  }
  auto poller = std::make_unique<PollerImpl>(options, clock, loop, inventory, store, bus, log,
                                             metrics, std::move(engines.icmp),
                                             std::move(engines.snmp), std::move(engines.checks));
  if (auto r = poller->open_traps(); !r) return r.error();
  return std::unique_ptr<Poller>(std::move(poller));
}

}  // namespace netpulse::pollers

// The Poller's opening and wiring: Poller::open() builds the implementation around the engines it
// is given (detail/poller_impl.hpp), the constructor hands the scheduler one runner per kind of
// check and listens to the event bus (a device changed: re-plan once on the loop; an organization
// deleted: forget it), start() and stop() switch polling on and off. Also here: the device
// address every check starts from (a literal as is, a host name resolved and cached, both judged
// by the outbound policy).
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/post.hpp>

#include <netpulse/core/tenancy.hpp>
#include <netpulse/pollers/poller.hpp>

#include "detail/poller_impl.hpp"

namespace netpulse::pollers {

namespace detail {

namespace {

namespace asio = boost::asio;

constexpr std::chrono::minutes kResolveTtl{5};

}  // namespace

PollerImpl::PollerImpl(const PollerOptions& options, const core::Clock& clock,
                       asio::any_io_executor loop, devices::Inventory& inventory,
                       tsdb::Store& store, core::EventBus& bus, core::Logger& log,
                       core::MetricsRegistry* metrics, std::unique_ptr<IcmpPinger> pinger,
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
  org_deleted_ =
      bus.subscribe<core::OrgDeleted>([this](const core::OrgDeleted& e) { forget_org(e.org_id); });
  trap_grants_.system_org_id = options.system_org_id;
  trap_grants_.system_communities = options.traps_communities;
  if (metrics) register_metrics(*metrics);
}

PollerImpl::~PollerImpl() {
  alive_.reset();
  timer_.cancel();
  resolver_.cancel();
}

void PollerImpl::start() {
  running_ = true;
  replan();
  log_.info("pollers", "polling {} device(s); ICMP {}{}", states_.size(), icmp_mode_name(),
            snmp_ ? ", SNMP on" : ", SNMP off");
}

void PollerImpl::stop() {
  running_ = false;
  timer_.cancel();
}

Discovery& PollerImpl::discovery() {
  return discovery_;
}

std::string PollerImpl::icmp_mode_name() const {
  return pinger_ ? std::string(pollers::icmp_mode_name(pinger_->mode())) : "off";
}

core::Error PollerImpl::not_polled(std::int64_t device_id) {
  return core::Error(core::Errc::kDeviceNotFound, "no enabled device " + std::to_string(device_id),
                     {{"device_id", device_id}});
}

void PollerImpl::forget_org(std::int64_t org_id) {
  deleted_orgs_.insert(org_id);
  org_stats_.erase(org_id);
  discovery_.forget_org(org_id);
  if (running_) {
    replan();
  } else {
    std::erase_if(states_, [org_id](const auto& kv) { return kv.second.device.org_id == org_id; });
  }
}

void PollerImpl::with_address(std::int64_t device_id,
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

core::Result<asio::ip::address> PollerImpl::admit(const asio::ip::address& ip) const {
  if (auto r = options_.outbound.check(ip, core::OutboundPurpose::kPoll); !r) return r.error();
  return ip;
}

}  // namespace detail

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

core::Result<std::unique_ptr<Poller>> Poller::open(const PollerOptions& options,
                                                   const core::Env& env, PollerEngines engines,
                                                   devices::Inventory& inventory,
                                                   tsdb::Store& store) {
  if (!engines.checks) {
    return core::Error(core::Errc::kInvalidInput, "pollers: no service checker was given");
  }
  auto poller = std::make_unique<detail::PollerImpl>(
      options, env.clock, env.loop, inventory, store, env.bus, env.log, &env.metrics,
      std::move(engines.icmp), std::move(engines.snmp), std::move(engines.checks));
  if (auto r = poller->open_traps(); !r) return r.error();
  return std::unique_ptr<Poller>(std::move(poller));
}

}  // namespace netpulse::pollers

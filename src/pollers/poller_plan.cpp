// The poller's plan and its figures. replan() turns the inventory's enabled devices into the
// scheduler's checks (one ICMP and one SNMP check per device as the engines and the device allow,
// plus its enabled service checks), keeping what the poller knew of devices still there and
// seeding new ones' interfaces from the store; arm() sleeps the one timer until the next check is
// due. health() and org_health() answer the API; register_metrics() and take_snapshot() feed
// /metrics from another thread through atomics and a mutex-guarded copy.
#include <algorithm>
#include <charconv>
#include <span>

#include <fmt/format.h>

#include <netpulse/tsdb/selector.hpp>

#include "detail/poller_impl.hpp"
#include "detail/service_runs.hpp"

namespace netpulse::pollers::detail {

namespace asio = boost::asio;

void PollerImpl::replan() {
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

void PollerImpl::arm() {
  if (!running_) return;
  const auto now = clock_.steady_now();
  auto wake = now + options_.max_sleep;
  if (auto due = scheduler_.next_due(); due && *due < wake) wake = *due;
  timer_.expires_at(wake);
  // The weak `alive`: a completion already queued when the poller is destroyed (the destructor's
  // cancel() cannot recall it) must not touch it.
  timer_.async_wait(
      [this, alive = std::weak_ptr<bool>(alive_)](const boost::system::error_code& ec) {
        if (ec || alive.expired() || !running_) return;
        scheduler_.tick();
        take_snapshot();
        arm();
      });
}

// The device's interfaces as its last samples in the store left them (after a restart): names,
// statuses and speeds, so the API lists them and the first poll sees what changed; and the
// octet counters when recent enough (kSeedCountersFor) that the first poll gives rates.
std::map<std::uint32_t, InterfaceState> PollerImpl::interfaces_from_store(
    const devices::Device& d) const {
  constexpr std::int64_t kSeedCountersFor = std::int64_t{15} * 60 * 1000;
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

void PollerImpl::count_run(const CheckSpec& spec, const CheckOutcome& outcome) {
  auto it = states_.find(spec.device_id);
  if (it == states_.end()) return;
  auto& k = org_stats_[it->second.device.org_id].kinds[static_cast<std::size_t>(spec.kind)];
  ++(outcome.ok ? k.runs_ok : k.runs_failed);
  if (!outcome.ok && outcome.timed_out) ++k.timeouts;
}

OrgPollerHealth PollerImpl::org_health(core::OrgScope scope) const {
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

PollerHealth PollerImpl::health() const {
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

void PollerImpl::register_metrics(core::MetricsRegistry& m) {
  auto value = [](const std::atomic<std::uint64_t>& a) {
    return [&a] { return static_cast<double>(a.load()); };
  };
  m.counter_fn("netpulse_traps_received_total", "Datagrams read by the SNMP trap receiver.",
               value(receiver_snapshot_.received));
  m.counter_fn("netpulse_traps_accepted_total", "Traps that became events of at least one device.",
               value(traps_accepted_));
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

void PollerImpl::take_snapshot() {
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

}  // namespace netpulse::pollers::detail

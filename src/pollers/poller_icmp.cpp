// ICMP verdicts: one ping cycle per device and interval, its loss, round-trip times and jitter
// stored as samples, and its verdict (answered or not) fed to the device's Reachability, which
// decides up and down with flap damping (detail/reachability.hpp). A device that is not up is
// unreachable rather than down when it has parents and every one of them is down or unreachable.
// An address that cannot be resolved or is refused counts as an unanswered cycle.
#include <fmt/format.h>

#include "detail/poller_impl.hpp"

namespace netpulse::pollers::detail {

namespace asio = boost::asio;

using devices::DeviceStatus;

void PollerImpl::run_icmp(const CheckSpec& spec, std::function<void(CheckOutcome)> done) {
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

void PollerImpl::on_cycle(std::int64_t device_id, const PingCycleResult& r) {
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

void PollerImpl::judge(std::int64_t device_id, bool answered) {
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

bool PollerImpl::parents_down(const devices::Device& d) const {
  if (d.parents.empty()) return false;
  for (auto p : d.parents) {
    auto parent = inventory_.get(core::OrgScope::trusted(d.org_id), p);
    if (!parent) continue;
    const auto s = parent->polled_status;
    if (s != DeviceStatus::kDown && s != DeviceStatus::kUnreachable) return false;
  }
  return true;
}

}  // namespace netpulse::pollers::detail

// What the API asks of the poller between scheduled runs: poll one device now (its ICMP, SNMP and
// service checks run at once through the scheduler, and one report answers when all are done),
// run one service check now, and read what the last runs left: interfaces, service-check states,
// the last ping cycle. A device the poller does not poll (unknown, another organization's,
// disabled) is kDeviceNotFound; a run already under way is kConflict.
#include <utility>

#include <boost/asio/post.hpp>
#include <fmt/format.h>

#include "detail/poller_impl.hpp"
#include "detail/service_runs.hpp"

namespace netpulse::pollers::detail {

namespace asio = boost::asio;

void PollerImpl::poll_now(core::OrgScope scope, std::int64_t device_id,
                          std::function<void(core::Result<PollReport>)> done) {
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

core::Result<std::vector<InterfaceInfo>> PollerImpl::interfaces(core::OrgScope scope,
                                                                std::int64_t device_id) const {
  auto d = inventory_.get(scope, device_id);
  if (!d) return std::move(d).error();
  std::vector<InterfaceInfo> out;
  auto it = states_.find(device_id);
  if (it == states_.end()) return out;
  for (auto& [index, iface] : it->second.interfaces) out.push_back(iface.info);
  return out;
}

std::vector<ServiceCheckStatus> PollerImpl::service_check_status(std::int64_t device_id) const {
  std::vector<ServiceCheckStatus> out;
  auto it = states_.find(device_id);
  if (it == states_.end()) return out;
  for (auto& [id, svc] : it->second.services) out.push_back(svc.status);
  return out;
}

void PollerImpl::run_service_check(core::OrgScope scope, std::int64_t device_id, std::int64_t check,
                                   std::function<void(core::Result<ServiceCheckStatus>)> done) {
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

std::optional<PingCycleResult> PollerImpl::last_cycle(std::int64_t device_id) const {
  auto it = states_.find(device_id);
  if (it == states_.end()) return std::nullopt;
  return it->second.last_cycle;
}

}  // namespace netpulse::pollers::detail

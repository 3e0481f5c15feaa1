// TCP, HTTP and DNS service checks, as the poller runs them: their states kept across re-plans
// (a check whose definition changed starts again as pending), one attempt at a time through the
// ServiceChecker (at the device's address when the check uses it), and each finished run (after
// the scheduler's retries) recorded: the check's status, its samples, and, when it turned
// passing or failing, a ServiceCheckChanged on the bus and an event in the inventory. The
// request and answer mapping is detail/service_runs.hpp's.
#include <boost/json/object.hpp>
#include <fmt/format.h>

#include <netpulse/core/json.hpp>

#include "detail/poller_impl.hpp"
#include "detail/service_runs.hpp"

namespace netpulse::pollers::detail {

namespace asio = boost::asio;

ServiceState* PollerImpl::service_state(std::int64_t device_id, std::int64_t check) {
  auto it = states_.find(device_id);
  if (it == states_.end()) return nullptr;
  auto svc = it->second.services.find(check);
  return svc == it->second.services.end() ? nullptr : &svc->second;
}

void PollerImpl::plan_services(const devices::Device& d, DeviceState& state,
                               std::chrono::milliseconds device_interval,
                               std::vector<CheckSpec>& plan) {
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
      s.interval = def.interval_s ? std::chrono::milliseconds(std::int64_t{*def.interval_s} * 1000)
                                  : device_interval;
      s.timeout = std::chrono::milliseconds(def.timeout_ms);
      s.retries = def.retries;
      plan.push_back(s);
    }
    services.emplace(def.id, std::move(svc));
  }
  state.services = std::move(services);
}

void PollerImpl::run_service(const CheckSpec& spec, std::function<void(CheckOutcome)> done) {
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

void PollerImpl::run_service_at(std::int64_t device_id, std::int64_t check,
                                std::optional<asio::ip::address> ip,
                                std::function<void(CheckOutcome)> done) {
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

void PollerImpl::on_service_run(const CheckSpec& spec, const CheckOutcome& outcome, int attempts) {
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
  bus_.publish(devices::ServiceCheckChanged{st.device.org_id, st.device.id, svc.def.id,
                                            svc.def.name, svc.def.kind, passing, svc.status.error,
                                            now});
  devices::DeviceEvent e;
  e.org_id = st.device.org_id;
  e.device_id = st.device.id;
  e.at = now;
  e.kind = "check";
  e.severity = passing ? devices::EventSeverity::kInfo : devices::EventSeverity::kWarning;
  const auto kind = devices::service_kind_name(svc.def.kind);
  e.message =
      passing ? fmt::format("{}: {} check \"{}\" passes again", st.device.name, kind, svc.def.name)
              : fmt::format("{}: {} check \"{}\" fails: {}", st.device.name, kind, svc.def.name,
                            svc.status.error);
  boost::json::object details{
      {"check_id", svc.def.id}, {"check", svc.def.name}, {"kind", kind}, {"passing", passing}};
  if (!passing) {
    details["error"] = svc.status.error;
    details["error_code"] = svc.status.error_code;
  }
  e.details_json = core::to_json_text(details);
  inventory_.record_event(std::move(e));
}

}  // namespace netpulse::pollers::detail

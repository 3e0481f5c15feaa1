// The SNMP run of one device, as a chain of requests to the SnmpClient: the system group (facts
// to the inventory, sysUpTime, reboot detection), the IF-MIB interface table (counters into
// rates between two polls, oper-status changes into events), the optional HOST-RESOURCES and
// ENTITY-SENSOR tables, then the device's custom OIDs. Only the first two can fail the run (a
// timeout of the engine is a timed-out run); whatever was read is stored in one append at the end.
#include <algorithm>
#include <array>

#include <fmt/format.h>

#include "detail/counters.hpp"
#include "detail/credentials.hpp"
#include "detail/poller_impl.hpp"
#include "detail/snmp_oids.hpp"

namespace netpulse::pollers::detail {

namespace asio = boost::asio;

namespace {

// IF-MIB ifOperStatus names.
std::string_view oper_status_name(int status) {
  static constexpr std::array<std::string_view, 8> kNames{
      "?", "up", "down", "testing", "unknown", "dormant", "notPresent", "lowerLayerDown"};
  return status >= 1 && status <= 7 ? kNames[static_cast<std::size_t>(status)] : kNames[0];
}

}  // namespace

void PollerImpl::run_snmp(const CheckSpec& spec, std::function<void(CheckOutcome)> run_done) {
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
    auto target = detail::to_snmp_target(*ip, *creds, options_.snmp_timeout, options_.snmp_retries);
    snmp_->get(target, detail::system_oids(),
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

void PollerImpl::on_system(std::int64_t device_id, const std::vector<VarBind>& vbs) {
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
      bus_.publish(devices::DeviceRebooted{st.device.org_id, device_id, *info.uptime_s, now});
      devices::DeviceEvent e;
      e.org_id = st.device.org_id;
      e.device_id = device_id;
      e.at = now;
      e.kind = "reboot";
      e.severity = devices::EventSeverity::kWarning;
      e.message = fmt::format("{} restarted (sysUpTime {} s, was {} s)", st.device.name,
                              *info.uptime_s, *st.uptime_s);
      e.details_json =
          fmt::format(R"({{"uptime_s":{},"previous_uptime_s":{}}})", *info.uptime_s, *st.uptime_s);
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

void PollerImpl::walk_interfaces(std::int64_t device_id, const SnmpTarget& target,
                                 std::size_t values, std::function<void(CheckOutcome)> done) {
  WalkOptions wo;
  wo.max_repetitions = options_.snmp_max_repetitions;
  wo.deadline =
      std::chrono::milliseconds(std::max<std::int64_t>(options_.snmp_timeout.count() * 10, 10'000));
  snmp_->walk_columns(
      target, detail::interface_columns(), wo,
      [this, device_id, values, target, done = std::move(done),
       alive = std::weak_ptr<bool>(alive_)](core::Result<std::vector<VarBind>> r) mutable {
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
void PollerImpl::walk_host(std::int64_t device_id, const SnmpTarget& target, std::size_t values,
                           std::function<void(CheckOutcome)> done) {
  WalkOptions wo;
  wo.max_repetitions = options_.snmp_max_repetitions;
  wo.max_values = 20'000;
  wo.deadline =
      std::chrono::milliseconds(std::max<std::int64_t>(options_.snmp_timeout.count() * 10, 10'000));
  snmp_->walk_columns(
      target, detail::host_columns(), wo,
      [this, device_id, values, target, done = std::move(done),
       alive = std::weak_ptr<bool>(alive_)](core::Result<std::vector<VarBind>> r) mutable {
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
void PollerImpl::get_custom(std::int64_t device_id, const SnmpTarget& target,
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
          if (!r) log_.debug("pollers", "device {}: custom OIDs: {}", device_id, r.error().message);
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

void PollerImpl::on_interfaces(std::int64_t device_id, const std::vector<VarBind>& vbs) {
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
        info.out_bps = detail::octet_rate_bps(*p.out_octets, *state.out_octets, hc, seconds, speed);
      }
      if (info.speed_bps > 0 && (info.in_bps || info.out_bps)) {
        info.utilization_pct =
            100.0 * std::max(info.in_bps.value_or(0), info.out_bps.value_or(0)) / speed;
      }
      if (p.info.oper_status != info.oper_status && p.info.oper_status != 0) {
        bus_.publish(devices::InterfaceStatusChanged{st.device.org_id, device_id, row.if_index,
                                                     info.name, p.info.oper_status,
                                                     info.oper_status, info.admin_status, now_s});
        devices::DeviceEvent e;
        e.org_id = st.device.org_id;
        e.device_id = device_id;
        e.at = now_s;
        e.kind = "interface";
        const bool down = info.oper_status != 1 && info.admin_status == 1;
        e.severity = down ? devices::EventSeverity::kWarning : devices::EventSeverity::kInfo;
        e.message = fmt::format("{} interface {} (ifIndex {}) oper status {} -> {}", st.device.name,
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
    batch.push_back(sorted_sample("ifSpeedBps", labels, t_ms, static_cast<double>(info.speed_bps)));
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

}  // namespace netpulse::pollers::detail

// SNMP traps at the poller: the TrapReceiver opened per pollers.traps_* (a bad listen address is
// logged, a bad v3 user line is a kConfigError), and each trap it hands on matched to the devices
// at its source address whose credentials it carries (detail/trap_match.hpp), becoming an event
// of each; one that reaches none is counted by why (docs/traps.md).
#include <string>
#include <vector>

#include <boost/json/object.hpp>
#include <fmt/format.h>

#include <netpulse/core/json.hpp>

#include "detail/credentials.hpp"
#include "detail/host_port.hpp"
#include "detail/poller_impl.hpp"
#include "detail/trap_varbinds.hpp"

namespace netpulse::pollers::detail {

namespace asio = boost::asio;

core::Result<void> PollerImpl::open_traps() {
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
void PollerImpl::on_trap(Trap t) {
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
    if (detail::trap_reaches_device(t, d.org_id, inventory_.snmp_credentials(d.id), trap_grants_)) {
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
  boost::json::object details{
      {"trap_oid", t.trap_oid.str()},       {"kind", trap_kind_name(t.kind)},
      {"source", source.to_string()},       {"inform", t.inform},
      {"varbind_count", t.varbinds.size()}, {"varbinds", detail::varbinds_json(t.varbinds)}};
  if (t.if_index) details["if_index"] = *t.if_index;
  const auto details_text = core::to_json_text(details);
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

}  // namespace netpulse::pollers::detail

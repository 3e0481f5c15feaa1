// The pollers' engines built from the poller's options (poller_engines.hpp). Moved here from
// Poller::open, which built them itself and did not pass the logger to the SNMP client, so
// net-snmp's messages were dropped in production.
#include "poller_engines.hpp"

#include <utility>

#include "options.hpp"

namespace netpulse::app {

core::Result<pollers::PollerEngines> open_poller_engines(const pollers::PollerOptions& options,
                                                         boost::asio::any_io_executor loop,
                                                         const core::Clock& clock,
                                                         core::Logger& log) {
  pollers::PollerEngines engines;
  if (options.icmp_mode != "off") {
    auto p = pollers::IcmpPinger::open(icmp_engine_options(options), loop, clock);
    if (!p) {
      auto e = std::move(p).error();
      e.message +=
          "; or run without ICMP checks: pollers.icmp_mode = \"off\" "
          "(NETPULSE_POLLERS_ICMP_MODE=off)";
      return e;
    }
    engines.icmp = std::move(*p);
    if (!engines.icmp->mode_v6()) log.warn("pollers", "ICMPv6: {}", engines.icmp->v6_status());
  }
  if (options.snmp) {
    auto s = pollers::SnmpClient::open(snmp_engine_options(options, &log), loop, clock);
    if (!s) return std::move(s).error();
    engines.snmp = std::move(*s);
  }
  auto checker = pollers::ServiceChecker::open(check_engine_options(options), loop, clock);
  if (!checker) return std::move(checker).error();
  engines.checks = std::move(*checker);
  return engines;
}

}  // namespace netpulse::app

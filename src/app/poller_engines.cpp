// The pollers' engines built from the poller's options (poller_engines.hpp). Moved here from
// Poller::open, which built them itself and did not pass the logger to the SNMP client, so
// net-snmp's messages were dropped in production.
#include "poller_engines.hpp"

#include <algorithm>
#include <utility>

namespace netpulse::app {

pollers::IcmpOptions icmp_engine_options(const pollers::PollerOptions& options) {
  pollers::IcmpOptions io;
  io.mode = options.icmp_mode == "datagram" ? pollers::IcmpModeChoice::kDatagramOnly
            : options.icmp_mode == "raw"    ? pollers::IcmpModeChoice::kRawOnly
                                            : pollers::IcmpModeChoice::kAuto;
  io.max_in_flight = std::min<std::size_t>(
      65'535, std::max<std::size_t>(1, options.scheduler.max_in_flight[0] * options.cycle.count));
  return io;
}

pollers::SnmpClientOptions snmp_engine_options(const pollers::PollerOptions& options,
                                               core::Logger* log) {
  pollers::SnmpClientOptions so;
  so.max_in_flight = std::max<std::size_t>(1, options.scheduler.max_in_flight[1] * 2);
  so.logger = log;
  return so;
}

pollers::ServiceCheckOptions check_engine_options(const pollers::PollerOptions& options) {
  pollers::ServiceCheckOptions co;
  co.max_in_flight = 0;
  for (auto kind :
       {pollers::CheckKind::kTcp, pollers::CheckKind::kHttp, pollers::CheckKind::kDns}) {
    co.max_in_flight += options.scheduler.max_in_flight[static_cast<std::size_t>(kind)];
  }
  co.max_in_flight = std::clamp<std::size_t>(co.max_in_flight, 1, 100'000);
  co.max_timeout = std::chrono::milliseconds(60'000);
  co.outbound = options.outbound;
  return co;
}

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

// The pollers' engines, built by the composition root: the ICMP pinger, the SNMP client and the
// service checker, each with options derived from the poller's (options.hpp, unit-tested),
// on the loop and clock the poller runs on. The Poller takes them ready-made
// (pollers::PollerEngines), so that it builds nothing itself and tests can hand it fakes.
#pragma once

#include <boost/asio/any_io_executor.hpp>

#include <netpulse/core/clock.hpp>
#include <netpulse/core/logger.hpp>
#include <netpulse/core/result.hpp>
#include <netpulse/pollers/poller.hpp>

namespace netpulse::app {

// Opens the engines the options ask for: no pinger when icmp_mode is "off", no SNMP client when
// SNMP is off. A pinger that cannot open is kConfigError naming the fix (or the way to run
// without ICMP); a warning is logged when ICMPv6 is unavailable.
core::Result<pollers::PollerEngines> open_poller_engines(const pollers::PollerOptions& options,
                                                         boost::asio::any_io_executor loop,
                                                         const core::Clock& clock,
                                                         core::Logger& log);

}  // namespace netpulse::app

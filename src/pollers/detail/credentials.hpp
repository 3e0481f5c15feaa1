// The inventory's SNMP credentials as an SnmpTarget for the engine. Private to the pollers.
#pragma once

#include <chrono>

#include <boost/asio/ip/address.hpp>

#include <netpulse/devices/types.hpp>
#include <netpulse/pollers/snmp.hpp>

namespace netpulse::pollers::detail {

SnmpTarget to_snmp_target(const boost::asio::ip::address& ip, const devices::SnmpCredentials& c,
                          std::chrono::milliseconds timeout, int retries);

}  // namespace netpulse::pollers::detail

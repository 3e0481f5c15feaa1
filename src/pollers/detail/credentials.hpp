// The inventory's SNMP credentials as an SnmpTarget for the engine. Private to the pollers.
#pragma once

#include <chrono>

#include <boost/asio/ip/address.hpp>

#include <netpulse/devices/types.hpp>
#include <netpulse/pollers/snmp.hpp>
#include <netpulse/pollers/traps.hpp>

namespace netpulse::pollers::detail {

AuthProtocol to_auth_protocol(devices::SnmpAuth a) noexcept;
PrivProtocol to_priv_protocol(devices::SnmpPriv p) noexcept;

// One line of pollers.traps_v3_users, as snmptrapd's "createUser -e": "ENGINEID USER AUTH
// AUTHPASS [PRIV PRIVPASS]" with the API's protocol names (SHA-256, AES, ...). kConfigError
// naming `field` and what is wrong (the passwords' own rules are TrapReceiver::open's).
core::Result<TrapV3User> parse_trap_v3_user(std::string_view line, std::string_view field);

SnmpTarget to_snmp_target(const boost::asio::ip::address& ip, const devices::SnmpCredentials& c,
                          std::chrono::milliseconds timeout, int retries);

}  // namespace netpulse::pollers::detail

// The JSON shapes a device has in more than one route file: the device itself, its SNMP settings
// (out) and credentials (in, also the discovery's credential sets), and an ICMP cycle's figures
// (a device's latest figures and a "poll now" report), an event of the log. docs/devices.md
// describes them.
#pragma once

#include <optional>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <netpulse/core/result.hpp>
#include <netpulse/devices/inventory.hpp>
#include <netpulse/pollers/poller.hpp>

namespace netpulse::api::detail {

// A device as the API shows it (never its SNMP secrets).
boost::json::object device_json(const devices::Device& d);
// SNMP settings without secrets; null when the device has none.
boost::json::value snmp_json(const std::optional<devices::SnmpSettings>& s);
// The "snmp" object of a request. Field types and sizes here; the inventory checks the rest.
core::Result<devices::SnmpCredentials> parse_snmp(const boost::json::value& v);
// An ICMP cycle: sent, received, loss and round-trip times (null when nothing came back).
boost::json::object cycle_json(const pollers::PingCycleResult& r);
// One entry of the device event log.
boost::json::object event_json(const devices::DeviceEvent& e);

}  // namespace netpulse::api::detail

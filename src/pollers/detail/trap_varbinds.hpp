// Private: a trap's variable bindings as the JSON an event keeps (details.varbinds), so that an
// operator, and later an alert rule, can see which port went down and why. Bounded: at most
// kMaxEventVarbinds bindings, each value cut to kMaxEventValueBytes; objects NetPulse knows are
// named (ifIndex.3, ifName.3, sysName.0, ...). docs/traps.md, "Events".
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <netpulse/pollers/snmp.hpp>

namespace netpulse::pollers::detail {

inline constexpr std::size_t kMaxEventVarbinds = 32;
inline constexpr std::size_t kMaxEventValueBytes = 256;

// "ifName.3" for 1.3.6.1.2.1.31.1.1.1.1.3: the object's name and the instance after it; "" for
// an object NetPulse does not know.
std::string known_object_name(const Oid& oid);

// One binding: {"oid", "name" (when known), "type", "value", "truncated" (when cut)}. Numbers are
// JSON numbers (Counter64 too: exact up to 2^64 as boost::json's uint64); printable text is a
// string; other bytes are "0x" and lower-case hex; an OID or IP address its dotted form; Null and
// the v2c exceptions null.
boost::json::object varbind_json(const VarBind& vb);

// The first kMaxEventVarbinds bindings, in order.
boost::json::array varbinds_json(const std::vector<VarBind>& vbs);

}  // namespace netpulse::pollers::detail

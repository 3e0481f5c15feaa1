// Which devices a trap reaches (docs/traps.md, "Which devices a trap reaches"): of the devices
// at its source address, those whose credentials it carries — the device's own community, or an
// SNMPv3 user with the device's own user name and keys — plus, for the devices of the system
// organization only, the server-wide grants of the configuration (pollers.traps_communities, and
// every sender of pollers.traps_v3_users). Private to the pollers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <netpulse/devices/types.hpp>
#include <netpulse/pollers/traps.hpp>

namespace netpulse::pollers::detail {

struct TrapGrants {
  // The system organization (0: none known): the only one the grants below apply to.
  std::int64_t system_org_id = 0;
  // pollers.traps_communities: accepted for the system organization's devices besides their own.
  std::vector<std::string> system_communities;
  // pollers.traps_v3_users: the senders the receiver authenticates (USM), by engine ID and user.
  std::vector<TrapV3User> v3_users;
};

// Why a trap reached no device at its source address.
enum class TrapRefusal : std::uint8_t {
  kNoDevice,   // no device has the address (any organization)
  kCommunity,  // v1/v2c: no device there has the trap's community
  kV3User,     // v3: no device there has the trap's user with the same keys
};

// Whether `trap` (accepted by the receiver: a v3 one already authenticated by USM against
// grants.v3_users) carries credentials of a device of `org_id` whose SNMP credentials are
// `creds` (nullopt: it has none).
bool trap_reaches_device(const Trap& trap, std::int64_t org_id,
                         const std::optional<devices::SnmpCredentials>& creds,
                         const TrapGrants& grants);

// An engine ID as compared: lower-case hex without a leading "0x".
std::string normalize_engine_id(std::string_view hex);

}  // namespace netpulse::pollers::detail

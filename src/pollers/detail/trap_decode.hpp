// Private: one received datagram to a Trap, and the Response that acknowledges an inform. The
// receiver (trap_receiver.cpp) owns the socket and the bounds around this; unit tests feed it
// datagrams directly.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include <netpulse/pollers/traps.hpp>

namespace netpulse::pollers::detail {

// The largest SNMP message over UDP/IPv4 (65,535 - 8 UDP - 20 IP header bytes); net-snmp's own
// receive limit too. Larger datagrams (possible over IPv6) are dropped as malformed.
inline constexpr std::size_t kMaxTrapDatagram = 65'507;

struct TrapDecodeLimits {
  std::size_t max_varbinds = 1'000;
  const std::vector<std::string>* communities = nullptr;  // null or empty: any community
  bool v3_enabled = false;  // v3 users were added to net-snmp's USM list
};

struct DecodedTrap {
  enum class Outcome : std::uint8_t {
    kTrap,
    kMalformed,
    kNotTrap,
    kCommunity,
    kV3,          // v3 not enabled, or a v3 inform
    kV3Security,  // USM refused it
  };
  Outcome outcome = Outcome::kMalformed;
  std::string reason;  // why it was refused, for the debug log
  // kTrap: the trap with every field but source, source_port and received_at filled in.
  Trap trap;
  // kTrap of an inform: the encoded Response PDU (same version, community, request-id and
  // varbinds, error-status 0) to send back to the source.
  std::vector<std::uint8_t> inform_response;
};

// Checks a v3 trap sender's fields (kInvalidInput naming the field); touches nothing.
core::Result<void> check_v3_trap_user(const TrapV3User& user);
// Adds a v3 trap sender to net-snmp's USM user list (as snmptrapd's createUser line does).
core::Result<void> add_v3_trap_user(const TrapV3User& user);

// Decodes one datagram with net-snmp's parser (net-snmp must be initialised). Never throws on
// hostile input; the bytes may be modified in place by the parser.
DecodedTrap decode_trap_datagram(std::span<std::uint8_t> datagram, const TrapDecodeLimits& limits);

}  // namespace netpulse::pollers::detail

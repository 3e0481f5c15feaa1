// BER structure checks run before net-snmp parses a datagram (a trap, an inform, a poll's reply).
// net-snmp 5.9's SNMPv3 parser trusts the length of msgSecurityParameters (and of the USM
// SEQUENCE inside it): one that claims more than the message holds makes it read past the
// datagram. So a datagram goes to net-snmp only when every element has a definite length that
// fits in what holds it. Private to the pollers module.
#pragma once

#include <cstdint>
#include <span>

namespace netpulse::pollers::detail {

// Whether the message SEQUENCE at the start of `datagram` (trailing bytes are left to net-snmp)
// has definite lengths that fit, through every constructed element and, for SNMPv3 (`version`
// 3), through the content of msgSecurityParameters. SNMP uses definite lengths and low tag
// numbers only (RFC 3417).
bool ber_message_fits(std::span<const std::uint8_t> datagram, long version);

// The msgVersion of the SNMP message in `datagram` (0 = v1, 1 = v2c, 3 = v3), read without
// net-snmp; -1 when the datagram does not start with a SEQUENCE holding an INTEGER.
long ber_message_version(std::span<const std::uint8_t> datagram);

// ber_message_version() is v1, v2c or v3 and ber_message_fits() holds for it.
bool snmp_message_fits(std::span<const std::uint8_t> datagram);

}  // namespace netpulse::pollers::detail

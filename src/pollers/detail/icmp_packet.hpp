// ICMP echo messages on the wire, for the pinger (src/pollers/icmp.cpp): building a request and
// recognising a reply. Pure functions over bytes, so they are tested without sockets.
//
// An echo request/reply (RFC 792 for IPv4, RFC 4443 §4 for IPv6):
//   u8 type | u8 code (0) | u16 checksum | u16 identifier | u16 sequence | payload
// all big-endian. NetPulse's payload: u64 cookie | u64 send time (steady ns) | a fixed pattern
// up to the requested length; the cookie is random per echo and is what a reply must carry back.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace netpulse::pollers::detail {

inline constexpr std::uint8_t kIcmp4EchoReply = 0;
inline constexpr std::uint8_t kIcmp4EchoRequest = 8;
inline constexpr std::uint8_t kIcmp6EchoRequest = 128;
inline constexpr std::uint8_t kIcmp6EchoReply = 129;
inline constexpr std::size_t kIcmpHeaderBytes = 8;
inline constexpr std::size_t kCookieBytes = 16;  // cookie + send time at the payload's start

// The Internet checksum (RFC 1071) of `bytes`: the one's complement of the one's-complement sum of
// its 16-bit big-endian words (an odd last byte padded with zero), as stored in the header.
std::uint16_t internet_checksum(std::span<const std::uint8_t> bytes) noexcept;

// What goes into one echo request.
struct EchoRequest {
  bool v6 = false;
  std::uint16_t identifier = 0;
  std::uint16_t sequence = 0;
  std::uint64_t cookie = 0;
  std::uint64_t sent_ns = 0;
  std::size_t payload_bytes = 56;  // >= kCookieBytes
};

// Writes the request into `out` (which must hold kIcmpHeaderBytes + payload_bytes bytes) and
// returns the message's length. With `with_checksum` (raw IPv4) the checksum is computed; else it
// is left 0 for the kernel (datagram sockets and ICMPv6 raw sockets checksum themselves).
std::size_t build_echo_request(const EchoRequest& request, bool with_checksum,
                               std::span<std::uint8_t> out) noexcept;

// The fields of a received echo reply that matching needs.
struct EchoReply {
  std::uint16_t identifier = 0;
  std::uint16_t sequence = 0;
  std::uint64_t cookie = 0;
};

// Recognises an echo reply of the given family in `packet` as read from the socket: with
// `ip_header` (raw IPv4) the packet starts with the IPv4 header, whose length is read from it and
// whose protocol must be ICMP. With `check_sum` the ICMP checksum must verify. Anything else — a
// request, another ICMP type, a short or malformed packet, a payload too short to carry a cookie —
// yields nothing.
std::optional<EchoReply> parse_echo_reply(std::span<const std::uint8_t> packet, bool v6,
                                          bool ip_header, bool check_sum) noexcept;

}  // namespace netpulse::pollers::detail

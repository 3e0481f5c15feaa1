// ICMP echo requests and replies as bytes (see detail/icmp_packet.hpp for the layout). Nothing
// here touches a socket: the pinger hands in buffers it sent or read.
#include "detail/icmp_packet.hpp"

namespace netpulse::pollers::detail {

namespace {

void put_u16(std::uint8_t* p, std::uint16_t v) noexcept {
  p[0] = static_cast<std::uint8_t>(v >> 8);
  p[1] = static_cast<std::uint8_t>(v);
}

void put_u64(std::uint8_t* p, std::uint64_t v) noexcept {
  for (int i = 7; i >= 0; --i) {
    p[i] = static_cast<std::uint8_t>(v);
    v >>= 8;
  }
}

std::uint16_t get_u16(const std::uint8_t* p) noexcept {
  return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}

std::uint64_t get_u64(const std::uint8_t* p) noexcept {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | p[i];
  return v;
}

}  // namespace

std::uint16_t internet_checksum(std::span<const std::uint8_t> bytes) noexcept {
  std::uint32_t sum = 0;
  std::size_t i = 0;
  for (; i + 1 < bytes.size(); i += 2) sum += get_u16(bytes.data() + i);
  if (i < bytes.size()) sum += static_cast<std::uint32_t>(bytes[i]) << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum);
}

std::size_t build_echo_request(const EchoRequest& request, bool with_checksum,
                               std::span<std::uint8_t> out) noexcept {
  const std::size_t length = kIcmpHeaderBytes + request.payload_bytes;
  std::uint8_t* p = out.data();
  p[0] = request.v6 ? kIcmp6EchoRequest : kIcmp4EchoRequest;
  p[1] = 0;
  put_u16(p + 2, 0);
  put_u16(p + 4, request.identifier);
  put_u16(p + 6, request.sequence);
  put_u64(p + 8, request.cookie);
  put_u64(p + 16, request.sent_ns);
  for (std::size_t i = kIcmpHeaderBytes + kCookieBytes; i < length; ++i) {
    p[i] = static_cast<std::uint8_t>(i);
  }
  if (with_checksum) put_u16(p + 2, internet_checksum(out.first(length)));
  return length;
}

std::optional<EchoReply> parse_echo_reply(std::span<const std::uint8_t> packet, bool v6,
                                          bool ip_header, bool check_sum) noexcept {
  if (ip_header) {
    if (packet.size() < 20 || (packet[0] >> 4) != 4 || packet[9] != 1 /* ICMP */) return {};
    const std::size_t header_bytes = static_cast<std::size_t>(packet[0] & 0x0f) * 4;
    if (header_bytes < 20 || header_bytes > packet.size()) return {};
    packet = packet.subspan(header_bytes);
  }
  if (packet.size() < kIcmpHeaderBytes + kCookieBytes) return {};
  if (packet[0] != (v6 ? kIcmp6EchoReply : kIcmp4EchoReply) || packet[1] != 0) return {};
  if (check_sum && internet_checksum(packet) != 0) return {};
  return EchoReply{get_u16(packet.data() + 4), get_u16(packet.data() + 6),
                   get_u64(packet.data() + 8)};
}

}  // namespace netpulse::pollers::detail

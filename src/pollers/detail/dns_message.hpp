// NetPulse's minimal DNS message codec (RFC 1035) for the DNS check: it encodes one question
// with recursion desired and decodes the reply's header and answer section, taking only A and
// AAAA records of the asked name's answer chain. Every read is bounds-checked; compressed names
// may only point backwards and at most kMaxPointerJumps times, so a hostile reply cannot loop or
// read outside the message. The wire format is described in docs/service_checks.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/ip/address.hpp>

#include <netpulse/core/result.hpp>
#include <netpulse/pollers/service_checks.hpp>

namespace netpulse::pollers::detail {

inline constexpr std::size_t kDnsHeaderBytes = 12;
inline constexpr std::size_t kDnsMaxUdpReply = 4096;  // we read at most this much of a reply
inline constexpr int kMaxPointerJumps = 32;

// Response codes (RFC 1035 §4.1.1, RFC 6895).
inline constexpr int kRcodeNoError = 0;
inline constexpr int kRcodeNxDomain = 3;

// "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", else "RCODE<n>".
std::string rcode_name(int rcode);

// The record type's number on the wire (A = 1, AAAA = 28).
std::uint16_t dns_type_code(DnsRecordType type) noexcept;

// Checks a name for a query: 1..253 characters without the optional trailing dot, labels of
// 1..63 bytes of letters, digits, '-' and '_' (kInvalidInput naming field "name").
core::Result<void> validate_dns_name(std::string_view name);

// A query: header (id, RD set, one question) and the question (name, type, class IN).
// `name` must have passed validate_dns_name().
std::vector<std::uint8_t> encode_dns_query(std::uint16_t id, std::string_view name,
                                           DnsRecordType type);

struct DnsReply {
  std::uint16_t id = 0;
  int rcode = 0;
  bool truncated = false;  // TC bit
  std::vector<boost::asio::ip::address> answers;
};

// Reads only the id (the first two bytes); fails when the message is shorter.
core::Result<std::uint16_t> dns_message_id(std::span<const std::uint8_t> message);

// Decodes a reply to the question (name, type): header with QR set, the echoed question (must be
// the one asked, case-insensitively), then the answer records; A/AAAA records of the asked type
// whose owner is the name or a CNAME target on its chain are returned. Fails with kProtocolError
// naming what is wrong for a malformed or mismatched reply. It does not judge the rcode.
core::Result<DnsReply> decode_dns_reply(std::span<const std::uint8_t> message,
                                        std::string_view name, DnsRecordType type);

}  // namespace netpulse::pollers::detail

// decode_trap_datagram on hand-made datagrams, straight from a buffer of exactly their size (so
// ASan sees any read past them), without a socket. The receiver's behaviour on real senders is in
// traps_test.cpp.
#include "pollers/detail/trap_decode.hpp"

#include <cstdint>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "ber_builder.hpp"
#include "pollers/detail/snmp_netsnmp.hpp"
namespace {

using netpulse::test::ber_int;
using netpulse::test::tlv;

}  // namespace

// Found by the trap_decode fuzz target: net-snmp 5.9's SNMPv3 parser trusts the length of
// msgSecurityParameters, so a v3 message whose security parameters claim more bytes than the
// message holds made it read past the datagram (heap-buffer-overflow under ASan; in the receiver,
// past the datagram into whatever follows it). Such a message must be refused before net-snmp
// sees it. The datagram is decoded from a buffer of exactly its size, so ASan sees any over-read.
TEST_CASE("traps: a v3 message whose lengths overrun it is refused before net-snmp parses it",
          "[pollers][traps]") {
  REQUIRE(netpulse::pollers::detail::init_netsnmp(""));
  netpulse::pollers::detail::TrapDecodeLimits limits;
  limits.v3_enabled = true;
  const std::string global =
      tlv(0x30, ber_int(77) + ber_int(65507) + tlv(0x04, "\x04") + ber_int(3));
  const std::string usm = tlv(0x30, tlv(0x04, "\x80\x00\x1f\x88\x80") + ber_int(1) + ber_int(1) +
                                        tlv(0x04, "user") + tlv(0x04, "") + tlv(0x04, ""));
  // msgSecurityParameters says 35 bytes; the message ends 16 bytes later (the fuzzer's input).
  const std::string fuzzed(
      "\x30\x81\x24\x02\x01\x03\x30\x0e\x02\x01\x4d\x02\x03\x00\xff\xe3\x04"
      "\x01\x00\x02\x01\x03\x04\x23\x30\x21\x04\x0d\x55\x02\x01\x01\x02\x06"
      "\x01\x06\x03\x01\x01",
      39);
  const std::vector<std::string> overruns = {
      fuzzed,
      // The USM SEQUENCE inside msgSecurityParameters claims more than the OCTET STRING holds.
      tlv(0x30, ber_int(3) + global + tlv(0x04, "\x30\x7f" + usm.substr(2)) +
                    tlv(0x30, tlv(0x04, "") + tlv(0x04, "") + tlv(0xa7, ""))),
  };
  for (const auto& bytes : overruns) {
    std::vector<std::uint8_t> datagram(bytes.begin(), bytes.end());
    auto decoded = netpulse::pollers::detail::decode_trap_datagram(datagram, limits);
    CHECK(decoded.outcome == netpulse::pollers::detail::DecodedTrap::Outcome::kMalformed);
  }

  // The same message with consistent lengths still reaches USM (which refuses the unknown user).
  const std::string fine =
      tlv(0x30, ber_int(3) + global + tlv(0x04, usm) +
                    tlv(0x30, tlv(0x04, "") + tlv(0x04, "") +
                                  tlv(0xa7, ber_int(1) + ber_int(0) + ber_int(0) + tlv(0x30, ""))));
  std::vector<std::uint8_t> datagram(fine.begin(), fine.end());
  auto decoded = netpulse::pollers::detail::decode_trap_datagram(datagram, limits);
  CHECK(decoded.outcome != netpulse::pollers::detail::DecodedTrap::Outcome::kMalformed);
}

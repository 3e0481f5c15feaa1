// The BER structure check run on every SNMP datagram (trap, inform, poll reply) before net-snmp
// parses it: a table of well-formed messages and of ways to make a length lie, each from a buffer
// of exactly its size.
#include "pollers/detail/ber_check.hpp"

#include <cstdint>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "ber_builder.hpp"
namespace {

using netpulse::test::ber_int;
using netpulse::test::tlv;

bool fits(const std::string& bytes) {
  std::vector<std::uint8_t> datagram(bytes.begin(), bytes.end());
  return netpulse::pollers::detail::snmp_message_fits(datagram);
}

}  // namespace

TEST_CASE("ber check: well-formed SNMP messages pass, lying lengths do not", "[pollers][snmp]") {
  const std::string pdu =
      tlv(0xa2, ber_int(7) + ber_int(0) + ber_int(0) +
                    tlv(0x30, tlv(0x30, tlv(0x06, "\x2b\x06") + tlv(0x05, ""))));
  const std::string v2c = tlv(0x30, ber_int(1) + tlv(0x04, "public") + pdu);
  const std::string v1 = tlv(0x30, ber_int(0) + tlv(0x04, "public") + pdu);
  const std::string global = tlv(0x30, ber_int(77) + ber_int(100) + tlv(0x04, "\x04") + ber_int(3));
  const std::string usm = tlv(0x30, tlv(0x04, "\x80\x00\x1f\x88\x80") + ber_int(1) + ber_int(1) +
                                        tlv(0x04, "user") + tlv(0x04, "") + tlv(0x04, ""));
  const std::string scoped = tlv(0x30, tlv(0x04, "") + tlv(0x04, "") + pdu);
  const std::string v3 = tlv(0x30, ber_int(3) + global + tlv(0x04, usm) + scoped);

  CHECK(fits(v2c));
  CHECK(fits(v1));
  CHECK(fits(v3));
  CHECK(fits(v2c + "trailing bytes are net-snmp's business"));

  struct Row {
    const char* what;
    std::string bytes;
  };
  const std::vector<Row> refused = {
      {"empty", ""},
      {"not a SEQUENCE", "\x04\x02hi"},
      {"version 2 (no such SNMP)", tlv(0x30, ber_int(2) + tlv(0x04, "public") + pdu)},
      {"no version", tlv(0x30, tlv(0x04, "public"))},
      {"the message cut short", v2c.substr(0, v2c.size() - 3)},
      {"an inner length past its SEQUENCE",
       tlv(0x30, ber_int(1) + std::string("\x04\x7f", 2) + "public" + pdu)},
      {"an indefinite length", std::string("\x30\x80", 2) + ber_int(1) + std::string(2, '\0')},
      {"a five-byte length", std::string("\x30\x85\x00\x00\x00\x00\x05", 7) + ber_int(1)},
      {"a high tag number", tlv(0x30, ber_int(1) + std::string("\x1f\x81\x01\x00", 4))},
      {"v3 security parameters claiming more than the message holds (the fuzzer's)",
       std::string("\x30\x81\x24\x02\x01\x03\x30\x0e\x02\x01\x4d\x02\x03\x00\xff\xe3\x04"
                   "\x01\x00\x02\x01\x03\x04\x23\x30\x21\x04\x0d\x55\x02\x01\x01\x02\x06"
                   "\x01\x06\x03\x01\x01",
                   39)},
      {"v3: the USM SEQUENCE longer than its OCTET STRING",
       tlv(0x30, ber_int(3) + global + tlv(0x04, "\x30\x7f" + usm.substr(2)) + scoped)},
  };
  for (const auto& row : refused) {
    INFO(row.what);
    CHECK_FALSE(fits(row.bytes));
  }
}

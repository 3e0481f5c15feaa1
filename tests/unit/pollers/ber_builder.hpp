// BER, just enough to write SNMP messages by hand in the pollers' unit tests (traps, trap
// decoding, the BER length check).
#pragma once

#include <cstdint>
#include <string>

namespace netpulse::test {

// Tag, definite length (short form, or 0x81 / 0x82 long form), body.
inline std::string tlv(std::uint8_t tag, const std::string& body) {
  std::string out(1, static_cast<char>(tag));
  const std::size_t n = body.size();
  if (n < 0x80) {
    out += static_cast<char>(n);
  } else if (n < 0x100) {
    out += '\x81';
    out += static_cast<char>(n);
  } else {
    out += '\x82';
    out += static_cast<char>(n >> 8);
    out += static_cast<char>(n & 0xff);
  }
  return out + body;
}

// A two's-complement INTEGER in its fewest bytes (or another tag with the same encoding).
inline std::string ber_int(std::int64_t value, std::uint8_t tag = 0x02) {
  std::string bytes;
  do {
    bytes.insert(bytes.begin(), static_cast<char>(value & 0xff));
    value >>= 8;
  } while (value != 0 && value != -1);
  if (value == 0 && (static_cast<std::uint8_t>(bytes[0]) & 0x80) != 0) bytes.insert(0, 1, '\0');
  return tlv(tag, bytes);
}

}  // namespace netpulse::test

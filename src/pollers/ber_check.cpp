// BER structure checks before net-snmp parses a datagram: see detail/ber_check.hpp.
#include "detail/ber_check.hpp"

#include <cstddef>
#include <optional>

#include "detail/snmp_netsnmp.hpp"

namespace netpulse::pollers::detail {

namespace {

constexpr int kMaxBerDepth = 32;

struct BerElement {
  std::uint8_t tag = 0;
  std::size_t header = 0;  // tag and length bytes
  std::size_t length = 0;  // content bytes
};

// The element at the start of `bytes`, if its header is one SNMP uses and its content fits.
std::optional<BerElement> ber_element(std::span<const std::uint8_t> bytes) {
  if (bytes.size() < 2) return std::nullopt;
  BerElement e;
  e.tag = bytes[0];
  if ((e.tag & 0x1f) == 0x1f) return std::nullopt;  // a high tag number
  e.header = 2;
  e.length = bytes[1];
  if ((e.length & 0x80) != 0) {
    const std::size_t n = e.length & 0x7f;
    if (n == 0 || n > 4 || bytes.size() < 2 + n) return std::nullopt;  // indefinite or absurd
    e.length = 0;
    for (std::size_t i = 0; i < n; ++i) e.length = (e.length << 8) | bytes[2 + i];
    e.header += n;
  }
  if (e.length > bytes.size() - e.header) return std::nullopt;
  return e;
}

// Whether `bytes` are exactly a run of elements that fit, constructed ones checked inside.
bool ber_elements_fit(std::span<const std::uint8_t> bytes, int depth) {
  while (!bytes.empty()) {
    auto e = ber_element(bytes);
    if (!e) return false;
    if ((e->tag & 0x20) != 0 &&
        (depth >= kMaxBerDepth ||
         !ber_elements_fit(bytes.subspan(e->header, e->length), depth + 1))) {
      return false;
    }
    bytes = bytes.subspan(e->header + e->length);
  }
  return true;
}

}  // namespace

bool ber_message_fits(std::span<const std::uint8_t> datagram, long version) {
  auto top = ber_element(datagram);
  if (!top || top->tag != (ASN_SEQUENCE | ASN_CONSTRUCTOR)) return false;
  auto fields = datagram.subspan(top->header, top->length);
  if (!ber_elements_fit(fields, 1)) return false;
  if (version != SNMP_VERSION_3) return true;
  for (int skip = 0; skip < 2; ++skip) {  // msgVersion, msgGlobalData
    auto e = ber_element(fields);
    if (!e) return false;
    fields = fields.subspan(e->header + e->length);
  }
  auto params = ber_element(fields);
  if (!params || params->tag != ASN_OCTET_STR) return false;
  return ber_elements_fit(fields.subspan(params->header, params->length), 1);
}

long ber_message_version(std::span<const std::uint8_t> datagram) {
  auto top = ber_element(datagram);
  if (!top || top->tag != (ASN_SEQUENCE | ASN_CONSTRUCTOR)) return -1;
  auto fields = datagram.subspan(top->header, top->length);
  auto version = ber_element(fields);
  if (!version || version->tag != ASN_INTEGER || version->length == 0 || version->length > 4) {
    return -1;
  }
  long value = 0;
  for (std::size_t i = 0; i < version->length; ++i) {
    value = (value << 8) | fields[version->header + i];
  }
  return value;
}

bool snmp_message_fits(std::span<const std::uint8_t> datagram) {
  const long version = ber_message_version(datagram);
  if (version != SNMP_VERSION_1 && version != SNMP_VERSION_2c && version != SNMP_VERSION_3) {
    return false;
  }
  return ber_message_fits(datagram, version);
}

}  // namespace netpulse::pollers::detail

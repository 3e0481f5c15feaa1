// The plain values of the SNMP face: OIDs (parse, format, order), SMI values (names, numbers),
// which USM protocols the linked net-snmp supports, and the validation of a target's fields.
// Nothing here touches the network or net-snmp's sessions.
#include <algorithm>
#include <charconv>
#include <type_traits>

#include <fmt/format.h>

#include <netpulse/pollers/snmp.hpp>

namespace netpulse::pollers {

core::Result<Oid> Oid::parse(std::string_view dotted) {
  if (!dotted.empty() && dotted.front() == '.') dotted.remove_prefix(1);
  if (dotted.empty()) return core::invalid_field("oid", "empty OID");
  Arcs arcs;
  const char* p = dotted.data();
  const char* end = p + dotted.size();
  while (true) {
    std::uint32_t arc = 0;
    auto [next, ec] = std::from_chars(p, end, arc);
    if (ec != std::errc() || next == p) {
      return core::invalid_field(
          "oid", fmt::format("'{}' is not a dotted numeric OID (arcs are 0..4294967295; no names: "
                             "NetPulse reads no MIB files)",
                             dotted));
    }
    arcs.push_back(arc);
    if (arcs.size() > kMaxLength) {
      return core::invalid_field("oid", fmt::format("more than {} sub-identifiers", kMaxLength));
    }
    p = next;
    if (p == end) break;
    if (*p != '.' || p + 1 == end) {
      return core::invalid_field("oid", fmt::format("'{}' is not a dotted numeric OID", dotted));
    }
    ++p;
  }
  if (arcs.size() < 2) return core::invalid_field("oid", "an OID has at least two arcs");
  return Oid(std::move(arcs));
}

std::string Oid::str() const {
  std::string out;
  out.reserve(arcs_.size() * 4);
  char buf[16];
  for (std::size_t i = 0; i < arcs_.size(); ++i) {
    if (i != 0) out.push_back('.');
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, arcs_[i]);
    out.append(buf, end);
  }
  return out;
}

bool Oid::starts_with(const Oid& root) const noexcept {
  if (root.arcs_.size() > arcs_.size()) return false;
  return std::equal(root.arcs_.begin(), root.arcs_.end(), arcs_.begin());
}

std::strong_ordering operator<=>(const Oid& a, const Oid& b) noexcept {
  return std::lexicographical_compare_three_way(a.arcs_.begin(), a.arcs_.end(), b.arcs_.begin(),
                                                b.arcs_.end());
}

std::optional<double> numeric_value(const SnmpValue& value) noexcept {
  return std::visit(
      [](const auto& v) -> std::optional<double> {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::int64_t>) {
          return static_cast<double>(v);
        } else if constexpr (std::is_same_v<T, Counter32> || std::is_same_v<T, Gauge32> ||
                             std::is_same_v<T, TimeTicks> || std::is_same_v<T, Counter64>) {
          return static_cast<double>(v.value);
        } else {
          return std::nullopt;
        }
      },
      value);
}

std::string_view value_type_name(const SnmpValue& value) noexcept {
  static constexpr std::string_view kNames[] = {
      "Null",         "Integer32",      "OctetString", "ObjectIdentifier", "IpAddress",
      "Counter32",    "Gauge32",        "TimeTicks",   "Counter64",        "Opaque",
      "noSuchObject", "noSuchInstance", "endOfMibView"};
  static_assert(std::size(kNames) == std::variant_size_v<SnmpValue>);
  return kNames[value.index()];
}

core::Result<void> validate(const SnmpTarget& target) {
  if (target.address.is_unspecified()) {
    return core::invalid_field("address", "an agent address is required");
  }
  if (target.port == 0) return core::invalid_field("port", "must be 1..65535");
  if (target.timeout < std::chrono::milliseconds(10) ||
      target.timeout > std::chrono::milliseconds(60'000)) {
    return core::invalid_field("timeout", "must be 10 ms .. 60 s");
  }
  if (target.retries < 0 || target.retries > 10) {
    return core::invalid_field("retries", "must be 0..10");
  }
  if (target.version != SnmpVersion::kV3) {
    if (target.community.empty() || target.community.size() > 255) {
      return core::invalid_field("community", "must be 1..255 bytes for SNMP v1/v2c");
    }
    return core::ok();
  }
  if (target.user.empty() || target.user.size() > 32) {
    return core::invalid_field("user", "an SNMPv3 user name of 1..32 bytes is required");
  }
  if (target.context.size() > 32) return core::invalid_field("context", "at most 32 bytes");
  if (!auth_protocol_supported(target.auth_protocol)) {
    return core::invalid_field("auth_protocol", "not supported by the linked net-snmp library");
  }
  if (!priv_protocol_supported(target.priv_protocol)) {
    return core::invalid_field("priv_protocol", "not supported by the linked net-snmp library");
  }
  if (target.auth_protocol == AuthProtocol::kNone) {
    if (target.priv_protocol != PrivProtocol::kNone) {
      return core::invalid_field("priv_protocol", "privacy needs an auth protocol (authPriv)");
    }
    return core::ok();
  }
  // RFC 3414 section 11.2: passwords shorter than 8 characters are refused by agents anyway.
  if (target.auth_password.size() < 8) {
    return core::invalid_field("auth_password", "at least 8 characters");
  }
  if (target.priv_protocol != PrivProtocol::kNone && target.priv_password.size() < 8) {
    return core::invalid_field("priv_password", "at least 8 characters");
  }
  return core::ok();
}

}  // namespace netpulse::pollers

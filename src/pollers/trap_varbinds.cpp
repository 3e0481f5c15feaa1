// A trap's variable bindings as an event keeps them (detail/trap_varbinds.hpp): bounded in count
// and size, printable, with the objects NetPulse knows named.
#include "detail/trap_varbinds.hpp"

#include <array>
#include <string_view>
#include <type_traits>
#include <variant>

#include <fmt/format.h>

#include "detail/snmp_oids.hpp"

namespace netpulse::pollers::detail {
namespace {

struct KnownObject {
  std::string_view name;
  std::array<std::uint32_t, 12> arcs;
  std::size_t size;
};

// Objects a trap commonly carries that the interface walk does not read (its columns are named by
// interface_column_name): the system group, ifIndex and the ifTable columns left out of the walk,
// and SNMPv2-MIB's trap objects. The instance (the arcs after the object) is appended to the name.
constexpr KnownObject kKnownObjects[] = {
    {"sysDescr", {1, 3, 6, 1, 2, 1, 1, 1}, 8},
    {"sysObjectID", {1, 3, 6, 1, 2, 1, 1, 2}, 8},
    {"sysUpTime", {1, 3, 6, 1, 2, 1, 1, 3}, 8},
    {"sysContact", {1, 3, 6, 1, 2, 1, 1, 4}, 8},
    {"sysName", {1, 3, 6, 1, 2, 1, 1, 5}, 8},
    {"sysLocation", {1, 3, 6, 1, 2, 1, 1, 6}, 8},
    {"ifIndex", {1, 3, 6, 1, 2, 1, 2, 2, 1, 1}, 10},
    {"ifType", {1, 3, 6, 1, 2, 1, 2, 2, 1, 3}, 10},
    {"ifMtu", {1, 3, 6, 1, 2, 1, 2, 2, 1, 4}, 10},
    {"ifPhysAddress", {1, 3, 6, 1, 2, 1, 2, 2, 1, 6}, 10},
    {"ifLastChange", {1, 3, 6, 1, 2, 1, 2, 2, 1, 9}, 10},
    {"snmpTrapOID", {1, 3, 6, 1, 6, 3, 1, 1, 4, 1}, 10},
    {"snmpTrapEnterprise", {1, 3, 6, 1, 6, 3, 1, 1, 4, 3}, 10},
};

// An object's name and the instance after its `size` arcs: "ifName.3".
std::string with_instance(std::string_view name, const Oid& oid, std::size_t size) {
  std::string out(name);
  for (std::size_t i = size; i < oid.size(); ++i) out += fmt::format(".{}", oid[i]);
  return out;
}

// ifTable (1.3.6.1.2.1.2.2.1.C) or ifXTable (1.3.6.1.2.1.31.1.1.1.C) columns the walk reads.
std::string interface_column(const Oid& oid) {
  static const Oid if_entry{1, 3, 6, 1, 2, 1, 2, 2, 1};
  static const Oid ifx_entry{1, 3, 6, 1, 2, 1, 31, 1, 1, 1};
  for (const auto* entry : {&if_entry, &ifx_entry}) {
    if (oid.size() <= entry->size() || !oid.starts_with(*entry)) continue;
    const auto name = interface_column_name(entry == &ifx_entry, oid[entry->size()]);
    if (!name.empty()) return with_instance(name, oid, entry->size() + 1);
  }
  return {};
}

bool printable(std::string_view s) {
  for (unsigned char c : s) {
    if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') return false;
    if (c == 0x7f) return false;
  }
  // Bytes >= 0x80 are kept only as valid UTF-8 (a JSON string must be).
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = c < 0x80           ? 1
                    : (c >> 5) == 0x6  ? 2
                    : (c >> 4) == 0xe  ? 3
                    : (c >> 3) == 0x1e ? 4
                                       : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (std::size_t k = 1; k < n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) >> 6) != 0x2) return false;
    }
    i += n;
  }
  return true;
}

// Cuts `s` to at most `max` bytes without splitting a UTF-8 sequence.
std::string cut_utf8(std::string_view s, std::size_t max) {
  if (s.size() <= max) return std::string(s);
  std::size_t end = max;
  while (end > 0 && (static_cast<unsigned char>(s[end]) >> 6) == 0x2) --end;
  return std::string(s.substr(0, end));
}

}  // namespace

std::string known_object_name(const Oid& oid) {
  if (auto name = interface_column(oid); !name.empty()) return name;
  for (const auto& known : kKnownObjects) {
    if (oid.size() < known.size) continue;
    bool match = true;
    for (std::size_t i = 0; i < known.size && match; ++i) match = oid[i] == known.arcs[i];
    if (match) return with_instance(known.name, oid, known.size);
  }
  return {};
}

boost::json::object varbind_json(const VarBind& vb) {
  boost::json::object out;
  out["oid"] = vb.oid.str();
  if (auto name = known_object_name(vb.oid); !name.empty()) out["name"] = name;
  out["type"] = value_type_name(vb.value);
  bool truncated = false;
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::int64_t>) {
          out["value"] = v;
        } else if constexpr (std::is_same_v<T, Counter32> || std::is_same_v<T, Gauge32> ||
                             std::is_same_v<T, TimeTicks> || std::is_same_v<T, Counter64>) {
          out["value"] = static_cast<std::uint64_t>(v.value);
        } else if constexpr (std::is_same_v<T, std::string> || std::is_same_v<T, Opaque>) {
          std::string_view bytes;
          if constexpr (std::is_same_v<T, std::string>) {
            bytes = v;
          } else {
            bytes = v.bytes;
          }
          if (printable(bytes)) {
            truncated = bytes.size() > kMaxEventValueBytes;
            out["value"] = cut_utf8(bytes, kMaxEventValueBytes);
          } else {
            const std::size_t shown = std::min(bytes.size(), (kMaxEventValueBytes - 2) / 2);
            truncated = shown < bytes.size();
            std::string hex = "0x";
            for (std::size_t i = 0; i < shown; ++i)
              hex += fmt::format("{:02x}", static_cast<unsigned char>(bytes[i]));
            out["value"] = hex;
          }
        } else if constexpr (std::is_same_v<T, Oid>) {
          const auto text = v.str();
          truncated = text.size() > kMaxEventValueBytes;
          out["value"] = cut_utf8(text, kMaxEventValueBytes);
        } else if constexpr (std::is_same_v<T, IpAddress>) {
          out["value"] =
              fmt::format("{}.{}.{}.{}", v.octets[0], v.octets[1], v.octets[2], v.octets[3]);
        } else {
          out["value"] = nullptr;  // Null, noSuchObject, noSuchInstance, endOfMibView
        }
      },
      vb.value);
  if (truncated) out["truncated"] = true;
  return out;
}

boost::json::array varbinds_json(const std::vector<VarBind>& vbs) {
  boost::json::array out;
  const std::size_t n = std::min(vbs.size(), kMaxEventVarbinds);
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) out.push_back(varbind_json(vbs[i]));
  return out;
}

}  // namespace netpulse::pollers::detail

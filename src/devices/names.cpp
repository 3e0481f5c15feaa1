// The names the API, the CSV import and the database use for the inventory's enums.
#include <array>
#include <utility>

#include <netpulse/devices/types.hpp>

namespace netpulse::devices {

namespace {

template <class E, std::size_t N>
std::string_view name_of(const std::array<std::pair<E, std::string_view>, N>& table, E e) {
  for (auto& [value, name] : table) {
    if (value == e) return name;
  }
  return "";
}

template <class E, std::size_t N>
std::optional<E> parse(const std::array<std::pair<E, std::string_view>, N>& table,
                       std::string_view name) {
  for (auto& [value, text] : table) {
    if (text == name) return value;
  }
  return std::nullopt;
}

constexpr std::array<std::pair<DeviceType, std::string_view>, 7> kTypes{{
    {DeviceType::kRouter, "router"},
    {DeviceType::kSwitch, "switch"},
    {DeviceType::kOlt, "olt"},
    {DeviceType::kServer, "server"},
    {DeviceType::kCpe, "cpe"},
    {DeviceType::kAp, "ap"},
    {DeviceType::kOther, "other"},
}};

constexpr std::array<std::pair<ServiceKind, std::string_view>, 3> kServiceKinds{{
    {ServiceKind::kTcp, "tcp"},
    {ServiceKind::kHttp, "http"},
    {ServiceKind::kDns, "dns"},
}};

constexpr std::array<std::pair<DeviceStatus, std::string_view>, 5> kStatuses{{
    {DeviceStatus::kUnknown, "unknown"},
    {DeviceStatus::kUp, "up"},
    {DeviceStatus::kDown, "down"},
    {DeviceStatus::kUnreachable, "unreachable"},
    {DeviceStatus::kMaintenance, "maintenance"},
}};

constexpr std::array<std::pair<SnmpVersion, std::string_view>, 3> kVersions{{
    {SnmpVersion::kV1, "1"},
    {SnmpVersion::kV2c, "2c"},
    {SnmpVersion::kV3, "3"},
}};

constexpr std::array<std::pair<SnmpAuth, std::string_view>, 7> kAuths{{
    {SnmpAuth::kNone, "none"},
    {SnmpAuth::kMd5, "MD5"},
    {SnmpAuth::kSha, "SHA"},
    {SnmpAuth::kSha224, "SHA-224"},
    {SnmpAuth::kSha256, "SHA-256"},
    {SnmpAuth::kSha384, "SHA-384"},
    {SnmpAuth::kSha512, "SHA-512"},
}};

constexpr std::array<std::pair<SnmpPriv, std::string_view>, 6> kPrivs{{
    {SnmpPriv::kNone, "none"},
    {SnmpPriv::kDes, "DES"},
    {SnmpPriv::kAes128, "AES"},
    {SnmpPriv::kAes128, "AES-128"},
    {SnmpPriv::kAes192, "AES-192"},
    {SnmpPriv::kAes256, "AES-256"},
}};

constexpr std::array<std::pair<DeviceSortKey, std::string_view>, 8> kSortKeys{{
    {DeviceSortKey::kName, "name"},
    {DeviceSortKey::kAddress, "address"},
    {DeviceSortKey::kType, "type"},
    {DeviceSortKey::kStatus, "status"},
    {DeviceSortKey::kVendor, "vendor"},
    {DeviceSortKey::kLastSeen, "last_seen"},
    {DeviceSortKey::kCreated, "created_at"},
    {DeviceSortKey::kId, "id"},
}};

constexpr std::array<std::pair<EventSeverity, std::string_view>, 3> kSeverities{{
    {EventSeverity::kInfo, "info"},
    {EventSeverity::kWarning, "warning"},
    {EventSeverity::kCritical, "critical"},
}};

}  // namespace

std::string_view event_severity_name(EventSeverity s) noexcept {
  return name_of(kSeverities, s);
}
std::optional<EventSeverity> parse_event_severity(std::string_view name) noexcept {
  return parse(kSeverities, name);
}

std::string_view device_type_name(DeviceType t) noexcept {
  return name_of(kTypes, t);
}
std::optional<DeviceType> parse_device_type(std::string_view name) noexcept {
  return parse(kTypes, name);
}
std::string_view device_status_name(DeviceStatus s) noexcept {
  return name_of(kStatuses, s);
}
std::optional<DeviceStatus> parse_device_status(std::string_view name) noexcept {
  return parse(kStatuses, name);
}
std::string_view snmp_version_name(SnmpVersion v) noexcept {
  return name_of(kVersions, v);
}
std::optional<SnmpVersion> parse_snmp_version(std::string_view name) noexcept {
  if (name == "v1") return SnmpVersion::kV1;
  if (name == "v2c" || name == "2") return SnmpVersion::kV2c;
  if (name == "v3") return SnmpVersion::kV3;
  return parse(kVersions, name);
}
std::string_view snmp_auth_name(SnmpAuth a) noexcept {
  return name_of(kAuths, a);
}
std::optional<SnmpAuth> parse_snmp_auth(std::string_view name) noexcept {
  return parse(kAuths, name);
}
// The first name of a value is its canonical one: kAes128 prints as "AES".
std::string_view snmp_priv_name(SnmpPriv p) noexcept {
  return name_of(kPrivs, p);
}
std::optional<SnmpPriv> parse_snmp_priv(std::string_view name) noexcept {
  return parse(kPrivs, name);
}

std::string_view service_kind_name(ServiceKind k) noexcept {
  return name_of(kServiceKinds, k);
}
std::optional<ServiceKind> parse_service_kind(std::string_view name) noexcept {
  return parse(kServiceKinds, name);
}

std::optional<DeviceSort> parse_device_sort(std::string_view text) noexcept {
  DeviceSort sort;
  if (!text.empty() && text.front() == '-') {
    sort.descending = true;
    text.remove_prefix(1);
  }
  auto key = parse(kSortKeys, text);
  if (!key) return std::nullopt;
  sort.key = *key;
  return sort;
}

}  // namespace netpulse::devices

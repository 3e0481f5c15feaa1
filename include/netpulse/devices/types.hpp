// The device inventory's records: devices, groups, SNMP settings and the events the inventory
// publishes. Secrets (SNMP community, v3 passwords) travel only in SnmpCredentials, which the
// inventory hands to pollers and never puts in a Device, so nothing that renders a Device can
// leak them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <netpulse/core/result.hpp>

namespace netpulse::devices {

enum class DeviceType { kRouter, kSwitch, kOlt, kServer, kCpe, kAp, kOther };
std::string_view device_type_name(DeviceType t) noexcept;  // "router", ...
std::optional<DeviceType> parse_device_type(std::string_view name) noexcept;

// up / down / unreachable come from the pollers (unreachable: a parent is down, so this device's
// own state is unknown); unknown until the first poll; maintenance while an operator says so.
enum class DeviceStatus { kUnknown, kUp, kDown, kUnreachable, kMaintenance };
std::string_view device_status_name(DeviceStatus s) noexcept;
std::optional<DeviceStatus> parse_device_status(std::string_view name) noexcept;

enum class SnmpVersion { kV1, kV2c, kV3 };
std::string_view snmp_version_name(SnmpVersion v) noexcept;  // "1", "2c", "3"
std::optional<SnmpVersion> parse_snmp_version(std::string_view name) noexcept;

// SNMPv3 protocols, as the API spells them: auth "none", "MD5", "SHA", "SHA-224", "SHA-256",
// "SHA-384", "SHA-512"; priv "none", "DES", "AES" (= AES-128), "AES-128", "AES-192", "AES-256".
enum class SnmpAuth { kNone, kMd5, kSha, kSha224, kSha256, kSha384, kSha512 };
enum class SnmpPriv { kNone, kDes, kAes128, kAes192, kAes256 };
std::string_view snmp_auth_name(SnmpAuth a) noexcept;
std::optional<SnmpAuth> parse_snmp_auth(std::string_view name) noexcept;
std::string_view snmp_priv_name(SnmpPriv p) noexcept;
std::optional<SnmpPriv> parse_snmp_priv(std::string_view name) noexcept;

// How to reach a device's agent, without secrets: what the API shows.
struct SnmpSettings {
  SnmpVersion version = SnmpVersion::kV2c;
  std::uint16_t port = 161;
  // v3 only:
  std::string user;
  SnmpAuth auth = SnmpAuth::kNone;
  SnmpPriv priv = SnmpPriv::kNone;
  std::string context;

  bool operator==(const SnmpSettings&) const = default;
};

// The secrets that go with SnmpSettings.
struct SnmpSecrets {
  std::string community;  // v1 / v2c
  std::string auth_password;
  std::string priv_password;

  bool operator==(const SnmpSecrets&) const = default;
};

struct SnmpCredentials {
  SnmpSettings settings;
  SnmpSecrets secrets;
};

// The inventory's rules for SNMP credentials (community, v3 user, passwords, levels), naming the
// field as "snmp.<name>"; secrets the version does not use are cleared.
core::Result<void> check_snmp_credentials(SnmpCredentials& c);

struct Device {
  std::int64_t id = 0;
  std::int64_t org_id = 0;
  std::string name;
  std::string address;  // an IP address in canonical text form, or a lower-case host name
  DeviceType type = DeviceType::kOther;
  std::string vendor, model, os, serial;  // filled by SNMP, or by an operator
  std::string sys_descr, sys_object_id;   // from SNMP
  std::string location;
  std::string notes;
  std::vector<std::string> tags;      // sorted, unique
  std::vector<std::string> groups;    // group names, sorted
  std::vector<std::int64_t> parents;  // ids of the devices this one is reached through, sorted
  bool enabled = true;
  bool maintenance = false;
  int poll_interval_s = 60;
  // The polled state; status() says what to show (maintenance wins).
  DeviceStatus polled_status = DeviceStatus::kUnknown;
  std::optional<std::int64_t> status_changed_at;
  std::optional<std::int64_t> last_seen;
  std::optional<std::int64_t> uptime_s;
  std::optional<SnmpSettings> snmp;
  std::int64_t created_at = 0;
  std::int64_t updated_at = 0;

  DeviceStatus status() const noexcept {
    return maintenance ? DeviceStatus::kMaintenance : polled_status;
  }
};

struct Group {
  std::int64_t id = 0;
  std::int64_t org_id = 0;
  std::string name;
  std::string description;
  std::int64_t device_count = 0;
  std::int64_t created_at = 0;
  std::int64_t updated_at = 0;
};

// A new device as an operator describes it. Validation (names, address, lists, SNMP) happens in
// the inventory, which names the offending field.
struct NewDevice {
  std::string name;
  std::string address;
  DeviceType type = DeviceType::kOther;
  std::string vendor, model, os, serial;
  std::string location;
  std::string notes;
  std::vector<std::string> tags;
  std::vector<std::string> groups;  // names of existing groups
  std::vector<std::int64_t> parents;
  bool enabled = true;
  bool maintenance = false;
  int poll_interval_s = 60;
  std::optional<SnmpCredentials> snmp;
};

// A change: each field that is set replaces the stored one. `snmp`: unset keeps it, a null
// (nullopt inside) removes it, a value replaces it — a secret left empty keeps the stored secret
// when the SNMP version and (for v3) the user stay the same, since clients never read secrets back.
struct DevicePatch {
  std::optional<std::string> name;
  std::optional<std::string> address;
  std::optional<DeviceType> type;
  std::optional<std::string> vendor, model, os, serial;
  std::optional<std::string> location;
  std::optional<std::string> notes;
  std::optional<std::vector<std::string>> tags;
  std::optional<std::vector<std::string>> groups;
  std::optional<std::vector<std::int64_t>> parents;
  std::optional<bool> enabled;
  std::optional<bool> maintenance;
  std::optional<int> poll_interval_s;
  std::optional<std::optional<SnmpCredentials>> snmp;
  // Names added to (once each, in order) or removed from the device's tags or groups, after
  // `tags` / `groups`, from the record as the write's own transaction reads it: an edit of the
  // same device committed in between is kept (the bulk actions).
  std::vector<std::string> add_tags, remove_tags, add_groups, remove_groups;
};

struct GroupPatch {
  std::optional<std::string> name;
  std::optional<std::string> description;
};

// List filters; each one set narrows the list.
struct DeviceFilter {
  std::string search;  // case-insensitive substring of name, address, location, vendor, model,
                       // sys_descr, notes
  std::optional<DeviceType> type;
  std::optional<std::string> tag;
  std::optional<std::string> group;  // group name
  std::optional<DeviceStatus> status;
  std::optional<std::string> vendor;  // case-insensitive, whole value
  std::optional<bool> enabled;
  std::optional<std::int64_t> parent;  // direct children of this device
};

enum class DeviceSortKey { kName, kAddress, kType, kStatus, kVendor, kLastSeen, kCreated, kId };
struct DeviceSort {
  DeviceSortKey key = DeviceSortKey::kName;
  bool descending = false;
};
// "name", "-name", "address", "type", "status", "vendor", "last_seen", "created_at", "id".
std::optional<DeviceSort> parse_device_sort(std::string_view text) noexcept;

// What the pollers learn of a device's system group.
struct SystemInfo {
  std::string sys_descr;
  std::string sys_object_id;
  std::string sys_name;
  std::string sys_location;
  std::optional<std::int64_t> uptime_s;
  std::string vendor;  // derived from sysObjectID / sysDescr; empty keeps the stored one
  std::string model;
  std::string os;
};

// One entry of the device event log (status changes, reboots, interface up/down, traps).
enum class EventSeverity { kInfo, kWarning, kCritical };
std::string_view event_severity_name(EventSeverity s) noexcept;  // "info", "warning", "critical"
std::optional<EventSeverity> parse_event_severity(std::string_view name) noexcept;

struct DeviceEvent {
  std::int64_t id = 0;
  std::int64_t org_id = 0;
  std::optional<std::int64_t> device_id;
  std::int64_t at = 0;  // Unix seconds
  std::string kind;     // "status", "reboot", "interface", "trap", ...
  EventSeverity severity = EventSeverity::kInfo;
  std::string message;
  std::string details_json = "{}";  // a JSON object
};

struct EventFilter {
  std::optional<std::int64_t> device_id;
  std::optional<std::string> kind;
  std::optional<EventSeverity> severity;
  std::optional<std::int64_t> since;  // inclusive, Unix seconds
  std::optional<std::int64_t> until;  // exclusive
};

// A custom SNMP object to poll: for one device (device_id) or every device of a type.
struct CustomOid {
  std::int64_t id = 0;
  std::int64_t org_id = 0;
  std::optional<std::int64_t> device_id;
  std::optional<DeviceType> device_type;
  std::string oid;     // dotted numeric, an instance (e.g. 1.3.6.1.4.1.9.9.13.1.3.1.3.1)
  std::string metric;  // Prometheus metric name
  bool counter = false;
  double scale = 1;
  std::string unit;
  std::int64_t created_at = 0;
};

// A TCP, HTTP(S) or DNS check of a device's service, run by the pollers at its interval (the
// device's poll interval unless it has its own). The kind's fields are used; the others are
// ignored and kept at their defaults. docs/service_checks.md has the rules and the API shape.
enum class ServiceKind { kTcp, kHttp, kDns };
std::string_view service_kind_name(ServiceKind k) noexcept;  // "tcp", "http", "dns"
std::optional<ServiceKind> parse_service_kind(std::string_view name) noexcept;

struct ServiceCheck {
  std::int64_t id = 0;
  std::int64_t org_id = 0;
  std::int64_t device_id = 0;
  std::string name;  // unique per device; 1-64 characters
  ServiceKind kind = ServiceKind::kTcp;
  bool enabled = true;
  std::optional<int> interval_s;  // 10..86,400; none: the device's poll interval
  int timeout_ms = 5'000;         // 100..60,000 per attempt
  int retries = 1;                // 0..5 further attempts after a failed one
  // tcp: the port to connect to (1..65535). dns: the server's port (default 53).
  int port = 0;
  // http
  std::string url;                 // http:// or https://, at most 2,048 bytes
  bool use_device_address = true;  // connect to the device's address, not the URL's host
  std::string method = "GET";      // GET or HEAD
  int status_min = 200;            // the accepted status range, 100..599
  int status_max = 399;
  std::string keyword;  // the body must contain it (empty: no keyword)
  bool verify_tls = true;
  int max_redirects = 0;  // 0..10
  // dns
  std::string query;              // the name to resolve
  std::string record_type = "A";  // A or AAAA
  std::string server;             // an IP literal; empty: the device's address
  std::string expected;           // an IP literal among the answers; empty: any answer
  std::int64_t created_at = 0;
  std::int64_t updated_at = 0;
};

// --- events (EventBus, loop thread) ------------------------------------------------------------

// A device was created, changed or deleted (after the change committed). Pollers re-plan.
struct DeviceChanged {
  enum class Kind { kCreated, kUpdated, kDeleted };
  std::int64_t org_id = 0;
  std::int64_t device_id = 0;
  Kind kind = Kind::kUpdated;
};

// The shown status of a device changed (polled state or maintenance).
struct DeviceStatusChanged {
  std::int64_t org_id = 0;
  std::int64_t device_id = 0;
  DeviceStatus from = DeviceStatus::kUnknown;
  DeviceStatus to = DeviceStatus::kUnknown;
  std::int64_t at = 0;  // Unix seconds
};

// The pollers publish these (the devices module owns the types, so that the modules that react —
// alerts, the live feed — need only the devices face).

// A service check turned passing or failing (not for its first passing run).
struct ServiceCheckChanged {
  std::int64_t org_id = 0;
  std::int64_t device_id = 0;
  std::int64_t check_id = 0;
  std::string name;
  ServiceKind kind = ServiceKind::kTcp;
  bool passing = false;
  std::string error;  // why it fails
  std::int64_t at = 0;
};

// An interface's operational status changed between two polls.
struct InterfaceStatusChanged {
  std::int64_t org_id = 0;
  std::int64_t device_id = 0;
  std::uint32_t if_index = 0;
  std::string name;
  int from = 0;  // ifOperStatus values (1 up, 2 down, ...)
  int to = 0;
  int admin = 0;        // ifAdminStatus at this poll (1 up, 2 down, 3 testing; 0 unknown)
  std::int64_t at = 0;  // Unix seconds
};

// sysUpTime went backwards: the device restarted.
struct DeviceRebooted {
  std::int64_t org_id = 0;
  std::int64_t device_id = 0;
  std::int64_t uptime_s = 0;  // as now reported
  std::int64_t at = 0;
};

// An event entered the event log (Inventory::record_event): published as it is queued for the
// writer, so a trap reaches the alert engine without waiting for the database.
struct DeviceEventRecorded {
  const DeviceEvent& event;
};

}  // namespace netpulse::devices

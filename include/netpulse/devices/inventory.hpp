// Inventory: the devices an organization monitors, their groups, tags, parent links (a DAG: the
// topology alerts use) and SNMP credentials, sealed at rest with a key kept in the data dir.
//
// The whole inventory is held in memory (a small ISP has thousands of devices, not millions) and
// every change goes through the db writer: a change is checked again inside its write
// transaction (address uniqueness, group names, parent cycles), so two concurrent requests
// cannot together break a rule that each alone keeps. The in-memory copy is updated when the
// write has committed, then DeviceChanged / DeviceStatusChanged go on the event bus.
//
// Threading: every method is called on the event loop thread given to open(). Callbacks are
// always posted to the loop, never called inline (an error found before any write too). Reads
// are answered from memory, except list_events (a blocking, indexed database read).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/any_io_executor.hpp>

#include <netpulse/core/clock.hpp>
#include <netpulse/core/env.hpp>
#include <netpulse/core/event_bus.hpp>
#include <netpulse/core/logger.hpp>
#include <netpulse/core/metrics.hpp>
#include <netpulse/core/outbound.hpp>
#include <netpulse/core/result.hpp>
#include <netpulse/core/tenancy.hpp>
#include <netpulse/db/database.hpp>
#include <netpulse/devices/types.hpp>

namespace netpulse::devices {

template <class T>
using Callback = std::function<void(core::Result<T>)>;

struct InventoryOptions {
  std::string data_dir;  // the credential key lives in <data_dir>/credentials.key (0600)
  std::size_t max_devices_per_org = 100'000;
  std::size_t max_groups_per_org = 10'000;
  std::size_t import_max_rows = 50'000;
  int default_poll_interval_s = 60;
  std::int64_t event_retention_days = 90;
  std::size_t event_queue_max = 10'000;  // events waiting for the writer; beyond it dropped
  // Judges the IP literals saved: device addresses (OutboundPurpose::kPoll) and what a service
  // check connects to (kFetch); a refused one fails the save with kOutboundDenied.
  core::OutboundPolicy outbound;
};

// One problem in a CSV import: the 1-based line of the record and the column it is about
// ("" for the whole row).
struct ImportIssue {
  std::size_t line = 0;
  std::string column;
  std::string message;
};

struct ImportResult {
  std::vector<Device> created;  // empty when there were issues: nothing is stored then
  std::vector<ImportIssue> issues;
  std::size_t rows = 0;
};

class Inventory {
 public:
  // Loads the credential key (creating it on first start) and the whole inventory. Blocking:
  // call at start-up. Status changes go to env.bus. Must outlive every callback it queued.
  static core::Result<std::unique_ptr<Inventory>> open(const InventoryOptions& options,
                                                       const core::Env& env, db::Database& db);
  virtual ~Inventory() = default;

  // --- devices (org-scoped) ------------------------------------------------------------------
  // kDeviceNotFound for a device of another organization too.
  virtual core::Result<Device> get(core::OrgScope scope, std::int64_t id) const = 0;
  virtual core::Result<core::PageOf<Device>> list(core::OrgScope scope, const DeviceFilter& filter,
                                                  DeviceSort sort, core::Page page) const = 0;
  // kInvalidInput naming the field; kOutboundDenied for an address literal the outbound policy
  // refuses (details.field "address"); kDeviceAlreadyExists (409) for an address the
  // organization already has; kConflict for a parent link that would close a cycle (details.path
  // lists it) or past max_devices_per_org devices.
  virtual void create(core::OrgScope scope, NewDevice device, Callback<Device> done) = 0;
  // As create (but for the device limit), and kDeviceNotFound.
  virtual void update(core::OrgScope scope, std::int64_t id, DevicePatch patch,
                      Callback<Device> done) = 0;
  // Also removes the device's parent links in both directions, and its custom OIDs, service
  // checks and events (ON DELETE CASCADE). kDeviceNotFound.
  virtual void remove(core::OrgScope scope, std::int64_t id, Callback<void> done) = 0;

  // All-or-nothing CSV import (docs/devices.md has the columns). Every row is validated; with any
  // issue nothing is stored and `issues` lists them all (by line and column) — the result is
  // still a value, not an error. Parents may name devices of the same file by address.
  virtual void import_csv(core::OrgScope scope, std::string body, Callback<ImportResult> done) = 0;
  // The organization's devices as CSV in the import's columns, secrets left out.
  virtual std::string export_csv(core::OrgScope scope, const DeviceFilter& filter) const = 0;

  // --- groups (org-scoped) -------------------------------------------------------------------
  virtual core::Result<Group> get_group(core::OrgScope scope, std::int64_t id) const = 0;
  virtual core::Result<core::PageOf<Group>> list_groups(core::OrgScope scope,
                                                        core::Page page) const = 0;
  // Group names are unique per organization (kConflict); kConflict past max_groups_per_org groups.
  virtual void create_group(core::OrgScope scope, std::string name, std::string description,
                            Callback<Group> done) = 0;
  virtual void update_group(core::OrgScope scope, std::int64_t id, GroupPatch patch,
                            Callback<Group> done) = 0;
  // Members stay; they only leave the group.
  virtual void remove_group(core::OrgScope scope, std::int64_t id, Callback<void> done) = 0;

  // --- custom SNMP objects (org-scoped) -------------------------------------------------------
  // At most 64 per device and per type; the OID must be dotted numeric, the metric a Prometheus
  // name, the scale finite and non-zero. kInvalidInput naming the field; kDeviceNotFound;
  // kConflict past the 64.
  virtual void add_custom_oid(core::OrgScope scope, CustomOid oid, Callback<CustomOid> done) = 0;
  virtual void remove_custom_oid(core::OrgScope scope, std::int64_t id, Callback<void> done) = 0;
  virtual std::vector<CustomOid> list_custom_oids(core::OrgScope scope) const = 0;
  // What a device polls: its own custom OIDs and those of its type (trusted).
  virtual std::vector<CustomOid> custom_oids_for(std::int64_t device_id) const = 0;

  // --- service checks: TCP / HTTP / DNS (org-scoped) ------------------------------------------
  // A device's checks; kDeviceNotFound.
  virtual core::Result<std::vector<ServiceCheck>> list_service_checks(
      core::OrgScope scope, std::int64_t device_id) const = 0;
  // kDeviceNotFound; kNotFound for a check that is not the device's.
  virtual core::Result<ServiceCheck> get_service_check(core::OrgScope scope, std::int64_t device_id,
                                                       std::int64_t id) const = 0;
  // `check.device_id` names the device (id, org and times are set here). kInvalidInput naming
  // the field; kOutboundDenied when the literal address it connects to (the device's, the URL's
  // or the DNS server) is refused by the outbound policy; kDeviceNotFound; kConflict for a name
  // the device's checks already have or past 32 checks a device.
  virtual void create_service_check(core::OrgScope scope, ServiceCheck check,
                                    Callback<ServiceCheck> done) = 0;
  // Replaces the check `check.id` of device `check.device_id` with `check` (same rules).
  virtual void update_service_check(core::OrgScope scope, ServiceCheck check,
                                    Callback<ServiceCheck> done) = 0;
  virtual void remove_service_check(core::OrgScope scope, std::int64_t device_id, std::int64_t id,
                                    Callback<void> done) = 0;
  // What the pollers run for a device (trusted).
  virtual std::vector<ServiceCheck> service_checks_for(std::int64_t device_id) const = 0;

  // --- for pollers (trusted: not reachable from HTTP) ----------------------------------------
  // Every enabled device of every organization, for the scheduler's plan.
  virtual std::vector<Device> all_enabled() const = 0;
  // The device's decrypted SNMP credentials, or nullopt when it has none.
  virtual std::optional<SnmpCredentials> snmp_credentials(std::int64_t device_id) const = 0;
  // Records a poll's verdict: status (up / down / unreachable) and, when up, last_seen = `at`.
  // Publishes DeviceStatusChanged when the shown status changes. Persisted through the writer
  // (a change of status at once; last_seen alone in one batch every 30 s, kLastSeenFlush in
  // src/devices/detail/inventory_impl.hpp: not an option).
  virtual void record_status(std::int64_t device_id, DeviceStatus status, std::int64_t at) = 0;
  // Stores what SNMP's system group says (sys_descr, sysObjectID, vendor/model/os, uptime).
  virtual void record_system_info(std::int64_t device_id, const SystemInfo& info) = 0;

  // Every device (of any organization) whose address is `address` (canonical text form), for
  // matching traps and other unsolicited messages to devices.
  virtual std::vector<Device> find_by_address(std::string_view address) const = 0;

  // --- the event log -------------------------------------------------------------------------
  // Queues an event for the log (fire and forget; at most event_queue_max waiting, beyond that
  // dropped and counted in netpulse_device_events_dropped_total; an event of an organization
  // deleted since start is dropped too). Written in one batch per turn of the loop; kept
  // event_retention_days. Status changes are logged by the inventory itself. Each event is
  // published as DeviceEventRecorded first (the alert engine's trap rules read them).
  virtual void record_event(DeviceEvent event) = 0;
  // Newest first. An indexed read.
  virtual core::Result<core::PageOf<DeviceEvent>> list_events(core::OrgScope scope,
                                                              const EventFilter& filter,
                                                              core::Page page) const = 0;

  // Devices of every organization.
  virtual std::size_t device_count() const = 0;
};

}  // namespace netpulse::devices

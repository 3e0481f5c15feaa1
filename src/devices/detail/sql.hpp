// The inventory's rows in SQLite (migrations/0006_devices.sql and after): loading, writing, and
// the checks that must run inside the write transaction (address uniqueness, group names, parent
// cycles). Every SQL statement of the devices module is behind a function here. Every function
// takes the connection it runs on; writes run on the db writer thread. Private to the devices
// module.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <netpulse/core/result.hpp>
#include <netpulse/core/secret_box.hpp>
#include <netpulse/core/tenancy.hpp>
#include <netpulse/db/statement.hpp>
#include <netpulse/devices/types.hpp>

namespace netpulse::devices::detail {

// A device as stored: the record (its `groups` left empty: names are resolved from group_ids
// when shown), its group ids and its decrypted SNMP secrets.
struct DeviceRow {
  Device device;
  std::vector<std::int64_t> group_ids;  // sorted
  std::optional<SnmpSecrets> secrets;   // set exactly when device.snmp is
};

// A row for a new device of `org_id` made at `now` (id 0, no groups yet; `in.groups` are names
// the caller resolves).
DeviceRow new_row(NewDevice&& in, std::int64_t org_id, std::int64_t now);

// The associated data that binds a device's sealed secrets to its organization.
std::string secrets_binding(std::int64_t org_id);

// Every device (or only `only_id`), with tags, groups, parents and opened secrets.
core::Result<std::vector<DeviceRow>> load_devices(db::Connection& c, const core::SecretBox& box,
                                                  std::optional<std::int64_t> only_id = {});

// kDeviceAlreadyExists when another device (not `except_id`) of the organization has `address`.
core::Result<void> check_address_free(db::Connection& c, std::int64_t org_id,
                                      const std::string& address, std::int64_t except_id);

// Checks that every parent is a device of the organization other than `device_id`, and that
// linking `device_id` below them keeps the graph acyclic: kConflict naming the cycle
// (details.path: the device ids along it, first = last = device_id) otherwise. `device_id` 0
// is a device not yet stored (it has no children, so no cycle). The longest chain through the
// device (the links above its new parents, one to them, the links below it) may have at most
// kMaxParentChainDepth links: kInvalidInput naming `field` otherwise.
core::Result<void> check_parents(db::Connection& c, std::int64_t org_id, std::int64_t device_id,
                                 const std::vector<std::int64_t>& parents, std::string_view field);

// Device id -> the ids it links to (its parents, or its children).
using LinkMap = std::unordered_map<std::int64_t, std::vector<std::int64_t>>;

// The organization's parent links: child -> parents, without the links of `except_child`.
core::Result<LinkMap> load_parent_links(db::Connection& c, std::int64_t org_id,
                                        std::int64_t except_child = 0);

// The number of links on the longest path from `start` following `links`, memoized in `memo`
// across calls. Iterative (a user-shaped graph must not size the stack); a link back onto the
// path being walked (a cycle, which the checks keep out) is not followed.
std::size_t longest_chain(const LinkMap& links, std::int64_t start,
                          std::unordered_map<std::int64_t, std::size_t>& memo);

// Inserts a device (id 0 in row.device) with its tags, groups and parents; returns the new id.
core::Result<std::int64_t> insert_device(db::Connection& c, const core::SecretBox& box,
                                         const DeviceRow& row);
// Rewrites the device's row, tags, groups and parents.
core::Result<void> update_device(db::Connection& c, const core::SecretBox& box,
                                 const DeviceRow& row);

core::Result<std::int64_t> count_devices(db::Connection& c, std::int64_t org_id);

// Deletes the organization's device `id`; false when it has no such device.
core::Result<bool> delete_device(db::Connection& c, std::int64_t id, std::int64_t org_id);

// The id of the device of organization ?1 at address ?2 (exact text); no row when there is none.
inline constexpr std::string_view kSelectDeviceIdByAddress =
    "SELECT id FROM devices WHERE org_id = ?1 AND address = ?2";

// --- what the pollers report -------------------------------------------------------------------

// Stores a change of polled status with when it changed and the device's last_seen.
core::Result<void> store_status(db::Connection& c, std::int64_t device_id, DeviceStatus status,
                                std::int64_t changed_at, std::optional<std::int64_t> last_seen);
// Stores what SNMP's system group said: sys_descr, sys_object_id, vendor, model, os, location
// and uptime_s of `d` (by d.id).
core::Result<void> store_system_info(db::Connection& c, const Device& d);
// Stores last_seen for each (device id, Unix seconds).
core::Result<void> store_last_seen(db::Connection& c,
                                   const std::vector<std::pair<std::int64_t, std::int64_t>>& seen);

// --- groups (groups_sql.cpp) -------------------------------------------------------------------

// Every group (or only `only_id`), with member counts.
core::Result<std::vector<Group>> load_groups(db::Connection& c,
                                             std::optional<std::int64_t> only_id = {});
// The ids of the organization's groups named `names` (sorted), or kInvalidInput naming `field`
// and the first unknown group.
core::Result<std::vector<std::int64_t>> group_ids_by_name(db::Connection& c, std::int64_t org_id,
                                                          const std::vector<std::string>& names,
                                                          std::string_view field);
// The names of the groups `ids`, in the order given (ids of no group are left out).
core::Result<std::vector<std::string>> group_names_by_id(db::Connection& c,
                                                         const std::vector<std::int64_t>& ids);
// The id of the group of organization ?1 named ?2; no row when there is none.
inline constexpr std::string_view kSelectGroupIdByName =
    "SELECT id FROM device_groups WHERE org_id = ?1 AND name = ?2";
// kConflict (details.field "name", details.group_id) when another group (not `except_id`) of
// the organization is named `name`.
core::Result<void> check_group_name_free(db::Connection& c, std::int64_t org_id,
                                         const std::string& name, std::int64_t except_id);
core::Result<std::int64_t> count_groups(db::Connection& c, std::int64_t org_id);
// Inserts a group (id 0 in `g`; created_at is also its updated_at); returns the new id.
core::Result<std::int64_t> insert_group(db::Connection& c, const Group& g);
// Rewrites name, description and updated_at of the group g.id of g.org_id; false when the
// organization has no such group.
core::Result<bool> update_group(db::Connection& c, const Group& g);
// Deletes the organization's group `id` (its members stay, outside it); false when there was none.
core::Result<bool> delete_group(db::Connection& c, std::int64_t id, std::int64_t org_id);

// --- custom OIDs (migrations/0008_custom_oids.sql); custom_oids_sql.cpp -------------------------

core::Result<std::vector<CustomOid>> load_custom_oids(db::Connection& c);
// Inserts a custom OID (id 0 in `o`); returns the new id.
core::Result<std::int64_t> insert_custom_oid(db::Connection& c, const CustomOid& o);
// Deletes the organization's custom OID `id` (nothing when it has none).
core::Result<void> delete_custom_oid(db::Connection& c, std::int64_t id, std::int64_t org_id);

// --- service checks (migrations/0009_service_checks.sql); service_checks_sql.cpp ---------------

core::Result<std::vector<ServiceCheck>> load_service_checks(db::Connection& c);
// Inside the write transaction: the device exists in the check's organization
// (kDeviceNotFound), no other check of the device has the name (kConflict, details.field
// "name"), and a new check (id 0) stays within kMaxServiceChecksPerDevice (kConflict).
core::Result<void> check_service_check_rules(db::Connection& c, const ServiceCheck& check);
core::Result<std::int64_t> insert_service_check(db::Connection& c, const ServiceCheck& check);
core::Result<void> update_service_check(db::Connection& c, const ServiceCheck& check);
// Deletes the check `id` of device `device_id`; false when the device has no such check.
core::Result<bool> delete_service_check(db::Connection& c, std::int64_t id, std::int64_t device_id);

// --- the event log (migrations/0007_device_events.sql); event_log_sql.cpp ----------------------

// Inserts the events one by one. An event whose organization is gone (deleted while the event
// waited) is not stored: it is skipped and added to `orphaned`, so it does not fail the others.
// An event whose device is gone is stored without its device_id. On an error, `orphaned` counts
// the events skipped before it.
core::Result<void> insert_events(db::Connection& c, const std::vector<DeviceEvent>& events,
                                 std::size_t& orphaned);
// Deletes the events older than `cutoff` (Unix seconds).
core::Result<void> delete_events_before(db::Connection& c, std::int64_t cutoff);
// The organization's events that pass `filter`, newest first, one page of them.
core::Result<core::PageOf<DeviceEvent>> query_events(db::Connection& c, std::int64_t org_id,
                                                     const EventFilter& filter, core::Page page);

}  // namespace netpulse::devices::detail

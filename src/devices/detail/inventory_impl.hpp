// The Inventory implementation, split by concern across src/devices/: inventory.cpp (opening,
// loading, the periodic tick, the in-memory bookkeeping every part shares, deleted
// organizations), inventory_devices.cpp (devices: reads, filters, sorting, create / update /
// remove, CSV), inventory_groups.cpp, inventory_custom_oids.cpp, inventory_checks.cpp (service
// checks) and inventory_poll_sink.cpp (what the pollers read and report: status, last_seen,
// system info). The event log is a class of its own (event_log.hpp) that the inventory owns.
// Every SQL statement is in the sql files (detail/sql.hpp). Private to the devices module.
//
// Threading: as the face says, every method runs on the event loop, so the in-memory state
// below is touched from the loop only. Database writes run on the db writer thread and touch
// only their Connection, what they captured by value and immutable members (box_, options_).
// Every callback is posted to the loop (by the db writer, or by fail()), never called inline.
// The object must outlive every callback it has queued (destroy it after the loop has stopped).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <netpulse/core/secret_box.hpp>
#include <netpulse/core/tenancy.hpp>
#include <netpulse/devices/inventory.hpp>

#include "event_log.hpp"
#include "sql.hpp"

namespace netpulse::devices::detail {

// last_seen moves on every successful poll; it is written in one batch this often, not per poll.
inline constexpr std::chrono::seconds kLastSeenFlush{30};

// kDeviceNotFound naming the device (details.device_id).
core::Error device_not_found(std::int64_t id);

// One page of `items` (already in order); total is the count of all of them.
template <class T>
core::PageOf<T> page_of(std::vector<T> items, core::Page page) {
  core::PageOf<T> out;
  out.total = static_cast<std::int64_t>(items.size());
  const auto first =
      static_cast<std::size_t>(page.page - 1) * static_cast<std::size_t>(page.per_page);
  if (first < items.size()) {
    const auto last = std::min(items.size(), first + static_cast<std::size_t>(page.per_page));
    out.items.assign(std::make_move_iterator(items.begin() + static_cast<long>(first)),
                     std::make_move_iterator(items.begin() + static_cast<long>(last)));
  }
  return out;
}

class InventoryImpl final : public Inventory {
 public:
  // `key` is the credential key (detail::kSecretKeyBytes) that seals SNMP secrets at rest.
  InventoryImpl(const InventoryOptions& options, const core::Clock& clock, db::Database& db,
                boost::asio::any_io_executor loop, core::Logger& log,
                core::MetricsRegistry* metrics, core::EventBus* bus, std::string key);
  ~InventoryImpl() override;

  // Second half of open(): reads devices, groups, custom OIDs and service checks into memory and
  // starts the periodic tick. Blocking.
  core::Result<void> load();

  // --- inventory_devices.cpp ---
  core::Result<Device> get(core::OrgScope scope, std::int64_t id) const override;
  core::Result<core::PageOf<Device>> list(core::OrgScope scope, const DeviceFilter& filter,
                                          DeviceSort sort, core::Page page) const override;
  void create(core::OrgScope scope, NewDevice in, Callback<Device> done) override;
  void update(core::OrgScope scope, std::int64_t id, DevicePatch patch,
              Callback<Device> done) override;
  void remove(core::OrgScope scope, std::int64_t id, Callback<void> done) override;
  void import_csv(core::OrgScope scope, std::string body, Callback<ImportResult> done) override;
  std::string export_csv(core::OrgScope scope, const DeviceFilter& filter) const override;
  std::size_t device_count() const override;

  // --- inventory_groups.cpp ---
  core::Result<Group> get_group(core::OrgScope scope, std::int64_t id) const override;
  core::Result<core::PageOf<Group>> list_groups(core::OrgScope scope,
                                                core::Page page) const override;
  void create_group(core::OrgScope scope, std::string name, std::string description,
                    Callback<Group> done) override;
  void update_group(core::OrgScope scope, std::int64_t id, GroupPatch patch,
                    Callback<Group> done) override;
  void remove_group(core::OrgScope scope, std::int64_t id, Callback<void> done) override;

  // --- inventory_custom_oids.cpp ---
  void add_custom_oid(core::OrgScope scope, CustomOid in, Callback<CustomOid> done) override;
  void remove_custom_oid(core::OrgScope scope, std::int64_t id, Callback<void> done) override;
  std::vector<CustomOid> list_custom_oids(core::OrgScope scope) const override;
  std::vector<CustomOid> custom_oids_for(std::int64_t device_id) const override;

  // --- inventory_checks.cpp ---
  core::Result<std::vector<ServiceCheck>> list_service_checks(
      core::OrgScope scope, std::int64_t device_id) const override;
  core::Result<ServiceCheck> get_service_check(core::OrgScope scope, std::int64_t device_id,
                                               std::int64_t id) const override;
  void create_service_check(core::OrgScope scope, ServiceCheck check,
                            Callback<ServiceCheck> done) override;
  void update_service_check(core::OrgScope scope, ServiceCheck check,
                            Callback<ServiceCheck> done) override;
  void remove_service_check(core::OrgScope scope, std::int64_t device_id, std::int64_t id,
                            Callback<void> done) override;
  std::vector<ServiceCheck> service_checks_for(std::int64_t device_id) const override;

  // --- inventory_poll_sink.cpp ---
  std::vector<Device> all_enabled() const override;
  std::optional<SnmpCredentials> snmp_credentials(std::int64_t device_id) const override;
  void record_status(std::int64_t device_id, DeviceStatus status, std::int64_t at) override;
  void record_system_info(std::int64_t device_id, const SystemInfo& info) override;
  std::vector<Device> find_by_address(std::string_view address) const override;

  // --- the event log: delegated to event_log_ (inventory.cpp) ---
  void record_event(DeviceEvent event) override;
  core::Result<core::PageOf<DeviceEvent>> list_events(core::OrgScope scope, const EventFilter& f,
                                                      core::Page page) const override;

 private:
  // --- inventory.cpp: what every part shares ---

  // Posts `done(e)` to the loop: asynchronous methods never call back inline.
  template <class T>
  void fail(Callback<T>& done, core::Error e) {
    boost::asio::post(loop_,
                      [done = std::move(done), e = std::move(e)]() mutable { done(std::move(e)); });
  }

  // The organization's device `id`, or null (also for a device of another organization).
  const DeviceRow* find(core::OrgScope scope, std::int64_t id) const;
  // The device as the face shows it: its group names resolved and sorted.
  Device present(const DeviceRow& row) const;
  // The shown status of device `id` (kUnknown when there is none).
  DeviceStatus status_of(std::int64_t id) const;
  // Inserts or replaces a device in memory, keeping group counts and status gauges right.
  void put(DeviceRow row);
  // Removes a device from memory; unless `keep_links` (a replacement by put()), also its custom
  // OIDs, service checks and the parent links other devices have to it.
  void erase(std::int64_t id, bool keep_links = false);
  // Moves the netpulse_devices gauge of status `s` by `by`.
  void count_status(DeviceStatus s, int by);
  template <class Event>
  void publish(const Event& e) {
    if (bus_) bus_->publish(e);
  }
  // When the shown status of `row` is no longer `before`: DeviceStatusChanged on the bus and a
  // "status" event in the log.
  void publish_status_change(const DeviceRow& row, DeviceStatus before);
  // core::OrgDeleted: what memory holds of the organization goes.
  void forget_org(std::int64_t org_id);
  // The periodic tick, every kLastSeenFlush: flushes last_seen and expires old events.
  void schedule_tick();

  // --- inventory_devices.cpp ---
  // The organization's devices that pass `f`, in no particular order.
  std::vector<const DeviceRow*> matching(core::OrgScope scope, const DeviceFilter& f) const;

  // --- inventory_checks.cpp ---
  // Creates (id 0) or replaces a service check after checking its fields, then the rules that
  // need the database inside the write transaction.
  void write_service_check(core::OrgScope scope, ServiceCheck check, Callback<ServiceCheck> done);

  // --- inventory_poll_sink.cpp ---
  // Writes the last_seen of the devices polled up since the last flush, in one batch.
  void flush_last_seen();

  InventoryOptions options_;           // limits, retention, outbound policy (read-only)
  const core::Clock& clock_;           // created_at / updated_at, status change times
  db::Database& db_;                   // the writer every change goes through
  boost::asio::any_io_executor loop_;  // the thread every method and callback runs on
  core::Logger& log_;                  // failed quiet writes, deleted organizations
  core::EventBus* bus_;                // DeviceChanged / DeviceStatusChanged; may be null
  core::SecretBox box_;                // seals and opens SNMP secrets (the credential key)
  EventLog event_log_;                 // the device event log this inventory records into
  std::unordered_map<std::int64_t, DeviceRow> devices_;  // every device of every organization
  std::unordered_map<std::int64_t, Group> groups_;       // every group; device_count kept by put()
  std::map<std::int64_t, CustomOid> custom_oids_;        // every custom OID, by id
  // By (device id, check id): a device's checks are one range.
  std::map<std::pair<std::int64_t, std::int64_t>, ServiceCheck> service_checks_;
  std::unordered_set<std::int64_t> last_seen_dirty_;  // devices whose last_seen awaits the flush
  boost::asio::steady_timer tick_timer_;              // the periodic tick (schedule_tick)
  core::Gauge* status_gauges_[5] = {};                // netpulse_devices by DeviceStatus; or null
  core::EventBus::Subscription org_deleted_;          // core::OrgDeleted -> forget_org
};

}  // namespace netpulse::devices::detail

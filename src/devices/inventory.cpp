// The inventory: devices and groups held in memory, every change checked again and written inside
// the db writer's transaction, the memory copy updated once the change has committed. This file
// opens it (the credential key, the load), runs its periodic tick, keeps the in-memory
// bookkeeping every part shares (group counts, status gauges, status-change events) and forgets
// deleted organizations. See inventory.hpp for the contract, detail/inventory_impl.hpp for how
// the rest is split, detail/sql.hpp for the rows, csv_import.cpp for the import.
#include <algorithm>

#include <netpulse/core/key_file.hpp>

#include "detail/inventory_impl.hpp"

namespace netpulse::devices {

namespace detail {

core::Error device_not_found(std::int64_t id) {
  return core::Error(core::Errc::kDeviceNotFound, "no device " + std::to_string(id),
                     {{"device_id", id}});
}

InventoryImpl::InventoryImpl(const InventoryOptions& options, const core::Clock& clock,
                             db::Database& db, boost::asio::any_io_executor loop, core::Logger& log,
                             core::MetricsRegistry* metrics, core::EventBus* bus, std::string key)
    : options_(options),
      clock_(clock),
      db_(db),
      loop_(loop),
      log_(log),
      bus_(bus),
      box_(std::move(key)),
      event_log_(options, clock, db, loop, log, metrics),
      tick_timer_(loop) {
  if (metrics) {
    for (auto s : {DeviceStatus::kUnknown, DeviceStatus::kUp, DeviceStatus::kDown,
                   DeviceStatus::kUnreachable, DeviceStatus::kMaintenance}) {
      status_gauges_[static_cast<int>(s)] =
          &metrics->gauge("netpulse_devices", "Devices in the inventory by shown status.",
                          {{"status", std::string(device_status_name(s))}});
    }
  }
  if (bus_) {
    org_deleted_ = bus_->subscribe<core::OrgDeleted>(
        [this](const core::OrgDeleted& e) { forget_org(e.org_id); });
  }
}

InventoryImpl::~InventoryImpl() {
  tick_timer_.cancel();
}

core::Result<void> InventoryImpl::load() {
  auto rows = db_.read([&](db::Connection& c) { return load_devices(c, box_); });
  if (!rows) return std::move(rows).error();
  auto groups = db_.read([&](db::Connection& c) { return load_groups(c); });
  if (!groups) return std::move(groups).error();
  for (auto& g : *groups) {
    g.device_count = 0;  // put() counts the members
    groups_.emplace(g.id, std::move(g));
  }
  for (auto& row : *rows) put(std::move(row));
  auto oids = db_.read([&](db::Connection& c) { return load_custom_oids(c); });
  if (!oids) return std::move(oids).error();
  for (auto& o : *oids) custom_oids_[o.id] = std::move(o);
  auto checks = db_.read([&](db::Connection& c) { return load_service_checks(c); });
  if (!checks) return std::move(checks).error();
  for (auto& k : *checks) service_checks_[{k.device_id, k.id}] = std::move(k);
  schedule_tick();
  return core::ok();
}

// --- the event log: delegated ---------------------------------------------------------------

void InventoryImpl::record_event(DeviceEvent event) {
  publish(DeviceEventRecorded{event});
  event_log_.record(std::move(event));
}

core::Result<core::PageOf<DeviceEvent>> InventoryImpl::list_events(core::OrgScope scope,
                                                                   const EventFilter& f,
                                                                   core::Page page) const {
  return event_log_.list(scope.org_id(), f, page);
}

// --- organizations ----------------------------------------------------------------------------

// core::OrgDeleted: the organization's rows went with its delete (ON DELETE CASCADE); what
// memory holds of it goes now, each device with a DeviceChanged so the pollers drop it.
void InventoryImpl::forget_org(std::int64_t org_id) {
  event_log_.forget_org(org_id);
  std::vector<std::int64_t> gone;
  for (auto& [id, row] : devices_) {
    if (row.device.org_id == org_id) gone.push_back(id);
  }
  std::sort(gone.begin(), gone.end());
  for (auto id : gone) erase(id);
  std::erase_if(groups_, [org_id](const auto& kv) { return kv.second.org_id == org_id; });
  std::erase_if(custom_oids_, [org_id](const auto& kv) { return kv.second.org_id == org_id; });
  std::erase_if(service_checks_, [org_id](const auto& kv) { return kv.second.org_id == org_id; });
  if (!gone.empty()) {
    log_.info("devices", "organization {} deleted: {} device(s) left the inventory", org_id,
              gone.size());
  }
  for (auto id : gone) publish(DeviceChanged{org_id, id, DeviceChanged::Kind::kDeleted});
}

// --- the periodic tick ------------------------------------------------------------------------

void InventoryImpl::schedule_tick() {
  tick_timer_.expires_after(kLastSeenFlush);
  tick_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    flush_last_seen();
    event_log_.expire();
    schedule_tick();
  });
}

// --- the in-memory bookkeeping ----------------------------------------------------------------

const DeviceRow* InventoryImpl::find(core::OrgScope scope, std::int64_t id) const {
  auto it = devices_.find(id);
  if (it == devices_.end() || it->second.device.org_id != scope.org_id()) return nullptr;
  return &it->second;
}

Device InventoryImpl::present(const DeviceRow& row) const {
  Device d = row.device;
  d.groups.clear();
  for (auto g : row.group_ids) {
    if (auto it = groups_.find(g); it != groups_.end()) d.groups.push_back(it->second.name);
  }
  std::sort(d.groups.begin(), d.groups.end());
  return d;
}

DeviceStatus InventoryImpl::status_of(std::int64_t id) const {
  auto it = devices_.find(id);
  return it == devices_.end() ? DeviceStatus::kUnknown : it->second.device.status();
}

void InventoryImpl::put(DeviceRow row) {
  const auto id = row.device.id;
  if (auto it = devices_.find(id); it != devices_.end()) {
    // Status fields in memory may be newer than the row the writer read (polls land while a
    // change is queued); keep them.
    const auto& old = it->second.device;
    row.device.polled_status = old.polled_status;
    row.device.status_changed_at = old.status_changed_at;
    row.device.last_seen = old.last_seen;
    row.device.uptime_s = old.uptime_s;
    erase(id, /*keep_links=*/true);
  }
  for (auto g : row.group_ids) {
    if (auto it = groups_.find(g); it != groups_.end()) ++it->second.device_count;
  }
  count_status(row.device.status(), +1);
  devices_.emplace(id, std::move(row));
}

void InventoryImpl::erase(std::int64_t id, bool keep_links) {
  auto it = devices_.find(id);
  if (it == devices_.end()) return;
  for (auto g : it->second.group_ids) {
    if (auto git = groups_.find(g); git != groups_.end()) --git->second.device_count;
  }
  count_status(it->second.device.status(), -1);
  devices_.erase(it);
  last_seen_dirty_.erase(id);
  if (!keep_links) {
    std::erase_if(custom_oids_, [id](const auto& kv) { return kv.second.device_id == id; });
    service_checks_.erase(service_checks_.lower_bound({id, 0}),
                          service_checks_.lower_bound({id + 1, 0}));
  }
  if (keep_links) return;
  for (auto& [other_id, row] : devices_) std::erase(row.device.parents, id);
}

void InventoryImpl::count_status(DeviceStatus s, int by) {
  if (auto* g = status_gauges_[static_cast<int>(s)]) g->add(by);
}

void InventoryImpl::publish_status_change(const DeviceRow& row, DeviceStatus before) {
  const auto now = row.device.status();
  if (now == before) return;
  const auto at = row.device.maintenance || before == DeviceStatus::kMaintenance
                      ? clock_.unix_seconds()
                      : row.device.status_changed_at.value_or(clock_.unix_seconds());
  publish(DeviceStatusChanged{row.device.org_id, row.device.id, before, now, at});
  DeviceEvent e;
  e.org_id = row.device.org_id;
  e.device_id = row.device.id;
  e.at = at;
  e.kind = "status";
  e.severity = now == DeviceStatus::kDown          ? EventSeverity::kCritical
               : now == DeviceStatus::kUnreachable ? EventSeverity::kWarning
                                                   : EventSeverity::kInfo;
  e.message = row.device.name + " is " + std::string(device_status_name(now)) + " (was " +
              std::string(device_status_name(before)) + ")";
  e.details_json = "{\"from\":\"" + std::string(device_status_name(before)) + "\",\"to\":\"" +
                   std::string(device_status_name(now)) + "\"}";
  // Through record_event: on the bus too (the live feed's events topic), as every other event.
  record_event(std::move(e));
}

}  // namespace detail

core::Result<std::unique_ptr<Inventory>> Inventory::open(const InventoryOptions& options,
                                                         const core::Env& env, db::Database& db) {
  auto key =
      core::load_or_create_key_file(options.data_dir + "/credentials.key", core::kSecretKeyBytes);
  if (!key) return std::move(key).error();
  auto inventory = std::make_unique<detail::InventoryImpl>(
      options, env.clock, db, env.loop, env.log, &env.metrics, &env.bus, std::move(*key));
  if (auto r = inventory->load(); !r) return r.error();
  return std::unique_ptr<Inventory>(std::move(inventory));
}

}  // namespace netpulse::devices

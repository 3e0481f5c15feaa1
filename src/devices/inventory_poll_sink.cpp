// The pollers' side of the inventory (trusted: not reachable from HTTP): what they read (the
// enabled devices, SNMP credentials, devices by address) and what they report (a poll's status
// verdict and last_seen, SNMP's system group). Reports are written quietly: a failure is logged,
// and the next poll writes again. A change of status is written at once; last_seen alone is
// batched every kLastSeenFlush by the periodic tick.
#include <algorithm>

#include "detail/inventory_impl.hpp"
#include "detail/write_quietly.hpp"

namespace netpulse::devices::detail {

std::vector<Device> InventoryImpl::all_enabled() const {
  std::vector<Device> out;
  for (auto& [id, row] : devices_) {
    if (row.device.enabled) out.push_back(present(row));
  }
  std::sort(out.begin(), out.end(), [](const Device& a, const Device& b) { return a.id < b.id; });
  return out;
}

std::optional<SnmpCredentials> InventoryImpl::snmp_credentials(std::int64_t device_id) const {
  auto it = devices_.find(device_id);
  if (it == devices_.end() || !it->second.device.snmp || !it->second.secrets) return std::nullopt;
  return SnmpCredentials{*it->second.device.snmp, *it->second.secrets};
}

void InventoryImpl::record_status(std::int64_t device_id, DeviceStatus status, std::int64_t at) {
  auto it = devices_.find(device_id);
  if (it == devices_.end()) return;
  auto& d = it->second.device;
  const auto before = d.status();
  if (status == DeviceStatus::kUp) d.last_seen = at;
  if (d.polled_status == status) {
    if (status == DeviceStatus::kUp) last_seen_dirty_.insert(device_id);
    return;
  }
  count_status(before, -1);
  d.polled_status = status;
  d.status_changed_at = at;
  count_status(d.status(), +1);
  last_seen_dirty_.erase(device_id);
  const auto last_seen = d.last_seen;
  write_quietly(db_, loop_, log_, "device status",
                [device_id, status, at, last_seen](db::Connection& c) -> core::Result<void> {
                  return detail::store_status(c, device_id, status, at, last_seen);
                });
  publish_status_change(it->second, before);
}

void InventoryImpl::record_system_info(std::int64_t device_id, const SystemInfo& info) {
  auto it = devices_.find(device_id);
  if (it == devices_.end()) return;
  auto& d = it->second.device;
  auto next = d;
  next.sys_descr = info.sys_descr;
  next.sys_object_id = info.sys_object_id;
  if (!info.vendor.empty()) next.vendor = info.vendor;
  if (!info.model.empty()) next.model = info.model;
  if (!info.os.empty()) next.os = info.os;
  if (next.location.empty() && !info.sys_location.empty()) next.location = info.sys_location;
  next.uptime_s = info.uptime_s;
  const bool changed = next.sys_descr != d.sys_descr || next.sys_object_id != d.sys_object_id ||
                       next.vendor != d.vendor || next.model != d.model || next.os != d.os ||
                       next.location != d.location;
  d = std::move(next);
  if (!changed) return;  // uptime alone is not worth a write; it is in memory
  write_quietly(
      db_, loop_, log_, "device system info",
      [d](db::Connection& c) -> core::Result<void> { return detail::store_system_info(c, d); });
}

std::vector<Device> InventoryImpl::find_by_address(std::string_view address) const {
  std::vector<Device> out;
  for (auto& [id, row] : devices_) {
    if (row.device.address == address) out.push_back(present(row));
  }
  return out;
}

void InventoryImpl::flush_last_seen() {
  if (last_seen_dirty_.empty()) return;
  std::vector<std::pair<std::int64_t, std::int64_t>> updates;
  for (auto id : last_seen_dirty_) {
    auto it = devices_.find(id);
    if (it != devices_.end() && it->second.device.last_seen) {
      updates.emplace_back(id, *it->second.device.last_seen);
    }
  }
  last_seen_dirty_.clear();
  write_quietly(db_, loop_, log_, "last_seen",
                [updates = std::move(updates)](db::Connection& c) -> core::Result<void> {
                  return detail::store_last_seen(c, updates);
                });
}

}  // namespace netpulse::devices::detail

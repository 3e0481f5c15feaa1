// Devices: the org-scoped reads (get, list with its search, filters and sort, export), and the
// changes (create, update, remove, CSV import), each checked again inside its write transaction
// before memory is updated and DeviceChanged published. The parsing and checks of the CSV
// import itself are csv_import.cpp.
#include <algorithm>
#include <memory>
#include <unordered_map>

#include "detail/csv_import.hpp"
#include "detail/inventory_impl.hpp"
#include "detail/validation.hpp"

namespace netpulse::devices::detail {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool contains_ci(std::string_view haystack, std::string_view lowered_needle) {
  if (lowered_needle.empty()) return true;
  return lower(haystack).find(lowered_needle) != std::string::npos;
}

int status_rank(DeviceStatus s) {
  // Worst first when sorting ascending: what an operator looks for.
  switch (s) {
    case DeviceStatus::kDown:
      return 0;
    case DeviceStatus::kUnreachable:
      return 1;
    case DeviceStatus::kUnknown:
      return 2;
    case DeviceStatus::kMaintenance:
      return 3;
    case DeviceStatus::kUp:
      return 4;
  }
  return 5;
}

// Applies the non-SNMP fields of a patch.
void apply(Device& d, DevicePatch& p) {
  auto set = [](auto& field, auto& value) {
    if (value) field = std::move(*value);
  };
  set(d.name, p.name);
  set(d.address, p.address);
  set(d.type, p.type);
  set(d.vendor, p.vendor);
  set(d.model, p.model);
  set(d.os, p.os);
  set(d.serial, p.serial);
  set(d.location, p.location);
  set(d.notes, p.notes);
  set(d.tags, p.tags);
  set(d.parents, p.parents);
  set(d.enabled, p.enabled);
  set(d.maintenance, p.maintenance);
  set(d.poll_interval_s, p.poll_interval_s);
}

// The SNMP part of a patch against what is stored: empty secrets keep the stored ones while the
// version (and for v3 the user) stays the same.
core::Result<void> apply_snmp(DeviceRow& row,
                              std::optional<std::optional<SnmpCredentials>>& patch) {
  if (!patch) return core::ok();
  if (!*patch) {
    row.device.snmp.reset();
    row.secrets.reset();
    return core::ok();
  }
  auto next = std::move(**patch);
  if (row.device.snmp && row.secrets && row.device.snmp->version == next.settings.version &&
      row.device.snmp->user == next.settings.user) {
    auto keep = [](std::string& field, const std::string& stored) {
      if (field.empty()) field = stored;
    };
    keep(next.secrets.community, row.secrets->community);
    keep(next.secrets.auth_password, row.secrets->auth_password);
    keep(next.secrets.priv_password, row.secrets->priv_password);
  }
  if (auto r = detail::check_snmp(next, "snmp"); !r) return r;
  row.device.snmp = next.settings;
  row.secrets = next.secrets;
  return core::ok();
}

// Sorts by `sort.key`, then by id (descending too when sort.descending and the key is kId).
void sort_rows(std::vector<const DeviceRow*>& rows, DeviceSort sort) {
  auto key_less = [sort](const Device& a, const Device& b) -> int {
    // -1 a first, 1 b first, 0 tie.
    auto cmp = [](const auto& x, const auto& y) { return x < y ? -1 : (y < x ? 1 : 0); };
    switch (sort.key) {
      case DeviceSortKey::kName:
        return cmp(lower(a.name), lower(b.name));
      case DeviceSortKey::kAddress:
        return cmp(a.address, b.address);
      case DeviceSortKey::kType:
        return cmp(device_type_name(a.type), device_type_name(b.type));
      case DeviceSortKey::kStatus:
        return cmp(status_rank(a.status()), status_rank(b.status()));
      case DeviceSortKey::kVendor:
        return cmp(lower(a.vendor), lower(b.vendor));
      case DeviceSortKey::kLastSeen:
        return cmp(a.last_seen.value_or(0), b.last_seen.value_or(0));
      case DeviceSortKey::kCreated:
        return cmp(a.created_at, b.created_at);
      case DeviceSortKey::kId:
        return 0;
    }
    return 0;
  };
  std::sort(rows.begin(), rows.end(), [&](const DeviceRow* x, const DeviceRow* y) {
    int c = key_less(x->device, y->device);
    if (sort.descending) c = -c;
    if (c != 0) return c < 0;
    return sort.descending && sort.key == DeviceSortKey::kId ? x->device.id > y->device.id
                                                             : x->device.id < y->device.id;
  });
}

}  // namespace

core::Result<Device> InventoryImpl::get(core::OrgScope scope, std::int64_t id) const {
  auto* row = find(scope, id);
  if (!row) return device_not_found(id);
  return present(*row);
}

core::Result<core::PageOf<Device>> InventoryImpl::list(core::OrgScope scope,
                                                       const DeviceFilter& filter, DeviceSort sort,
                                                       core::Page page) const {
  auto rows = matching(scope, filter);
  sort_rows(rows, sort);
  std::vector<Device> devices;
  devices.reserve(rows.size());
  for (auto* row : rows) devices.push_back(present(*row));
  return page_of(std::move(devices), page);
}

void InventoryImpl::create(core::OrgScope scope, NewDevice in, Callback<Device> done) {
  if (auto r = detail::check_new_device(in, options_.outbound); !r) return fail(done, r.error());
  auto group_names = std::move(in.groups);
  DeviceRow row = detail::new_row(std::move(in), scope.org_id(), clock_.unix_seconds());
  const auto limit = options_.max_devices_per_org;
  db_.write<DeviceRow>(
      [this, row = std::move(row), group_names = std::move(group_names),
       limit](db::Connection& c) mutable -> core::Result<DeviceRow> {
        auto count = detail::count_devices(c, row.device.org_id);
        if (!count) return std::move(count).error();
        if (static_cast<std::size_t>(*count) >= limit) {
          return core::Error(core::Errc::kConflict, "the organization has reached its limit of " +
                                                        std::to_string(limit) + " devices");
        }
        if (auto r = detail::check_address_free(c, row.device.org_id, row.device.address, 0); !r) {
          return r.error();
        }
        auto groups = detail::group_ids_by_name(c, row.device.org_id, group_names, "groups");
        if (!groups) return std::move(groups).error();
        row.group_ids = std::move(*groups);
        if (auto r = detail::check_parents(c, row.device.org_id, 0, row.device.parents, "parents");
            !r) {
          return r.error();
        }
        auto id = detail::insert_device(c, box_, row);
        if (!id) return std::move(id).error();
        row.device.id = *id;
        return std::move(row);
      },
      loop_,
      [this, done = std::move(done)](core::Result<DeviceRow> r) {
        if (!r) return done(std::move(r).error());
        const auto id = r->device.id;
        put(std::move(*r));
        auto& row = devices_.at(id);
        publish(DeviceChanged{row.device.org_id, id, DeviceChanged::Kind::kCreated});
        done(present(row));
      });
}

namespace {

// `list` (the patch's, else the stored one) with `add` appended (once each) and `remove` taken
// out; left unset when there is nothing to add or remove.
void edit_names(std::optional<std::vector<std::string>>& list,
                const std::vector<std::string>& stored, const std::vector<std::string>& add,
                const std::vector<std::string>& remove) {
  if (add.empty() && remove.empty()) return;
  auto out = list.value_or(stored);
  for (const auto& n : add) {
    if (std::find(out.begin(), out.end(), n) == out.end()) out.push_back(n);
  }
  for (const auto& n : remove) std::erase(out, n);
  list = std::move(out);
}

}  // namespace

void InventoryImpl::update(core::OrgScope scope, std::int64_t id, DevicePatch patch,
                           Callback<Device> done) {
  if (!find(scope, id)) return fail(done, device_not_found(id));
  const auto org = scope.org_id();
  const auto now = clock_.unix_seconds();
  db_.write<DeviceRow>(
      [this, id, org, now,
       patch = std::move(patch)](db::Connection& c) mutable -> core::Result<DeviceRow> {
        auto rows = detail::load_devices(c, box_, id);
        if (!rows) return std::move(rows).error();
        if (rows->empty() || rows->front().device.org_id != org) return device_not_found(id);
        auto row = std::move(rows->front());
        edit_names(patch.tags, row.device.tags, patch.add_tags, patch.remove_tags);
        if (!patch.add_groups.empty() || !patch.remove_groups.empty()) {
          auto stored = detail::group_names_by_id(c, row.group_ids);
          if (!stored) return std::move(stored).error();
          edit_names(patch.groups, *stored, patch.add_groups, patch.remove_groups);
        }
        std::vector<std::string> group_names;
        if (patch.groups) group_names = *patch.groups;
        const bool groups_changed = patch.groups.has_value();
        apply(row.device, patch);
        if (auto r = detail::check_device(row.device, group_names, options_.outbound); !r) {
          return r.error();
        }
        if (auto r = apply_snmp(row, patch.snmp); !r) return r.error();
        if (auto r = detail::check_address_free(c, org, row.device.address, id); !r) {
          return r.error();
        }
        if (groups_changed) {
          auto groups = detail::group_ids_by_name(c, org, group_names, "groups");
          if (!groups) return std::move(groups).error();
          row.group_ids = std::move(*groups);
        }
        if (auto r = detail::check_parents(c, org, id, row.device.parents, "parents"); !r) {
          return r.error();
        }
        row.device.updated_at = now;
        if (auto r = detail::update_device(c, box_, row); !r) return r.error();
        return row;
      },
      loop_,
      [this, done = std::move(done)](core::Result<DeviceRow> r) {
        if (!r) return done(std::move(r).error());
        const auto id = r->device.id;
        const auto before = status_of(id);
        put(std::move(*r));
        auto& row = devices_.at(id);
        publish(DeviceChanged{row.device.org_id, id, DeviceChanged::Kind::kUpdated});
        publish_status_change(row, before);
        done(present(row));
      });
}

void InventoryImpl::remove(core::OrgScope scope, std::int64_t id, Callback<void> done) {
  if (!find(scope, id)) return fail(done, device_not_found(id));
  const auto org = scope.org_id();
  db_.write(
      [id, org](db::Connection& c) -> core::Result<void> {
        auto deleted = detail::delete_device(c, id, org);
        if (!deleted) return deleted.error();
        if (!*deleted) return device_not_found(id);
        return core::ok();
      },
      loop_,
      [this, id, org, done = std::move(done)](core::Result<void> r) {
        if (!r) return done(std::move(r).error());
        erase(id);
        publish(DeviceChanged{org, id, DeviceChanged::Kind::kDeleted});
        done(core::ok());
      });
}

void InventoryImpl::import_csv(core::OrgScope scope, std::string body,
                               Callback<ImportResult> done) {
  const auto org = scope.org_id();
  const auto now = clock_.unix_seconds();
  const auto max_rows = options_.import_max_rows;
  const auto limit = options_.max_devices_per_org;
  auto body_ptr = std::make_shared<std::string>(std::move(body));
  db_.write<detail::ImportOutcome>(
      [this, org, now, max_rows, limit,
       body_ptr](db::Connection& c) -> core::Result<detail::ImportOutcome> {
        return detail::import_devices(c, box_, org, *body_ptr, now, max_rows, limit,
                                      options_.outbound);
      },
      loop_,
      [this, org, done = std::move(done)](core::Result<detail::ImportOutcome> r) {
        if (!r) return done(std::move(r).error());
        ImportResult result;
        result.rows = r->rows;
        result.issues = std::move(r->issues);
        for (auto& row : r->created) {
          const auto id = row.device.id;
          put(std::move(row));
          publish(DeviceChanged{org, id, DeviceChanged::Kind::kCreated});
          result.created.push_back(present(devices_.at(id)));
        }
        done(std::move(result));
      });
}

std::string InventoryImpl::export_csv(core::OrgScope scope, const DeviceFilter& filter) const {
  auto rows = matching(scope, filter);
  sort_rows(rows, DeviceSort{});
  std::vector<Device> devices;
  devices.reserve(rows.size());
  for (auto* row : rows) devices.push_back(present(*row));
  std::unordered_map<std::int64_t, std::string> addresses;
  for (auto& [id, row] : devices_) addresses.emplace(id, row.device.address);
  return detail::export_devices(devices, addresses);
}

std::size_t InventoryImpl::device_count() const {
  return devices_.size();
}

std::vector<const DeviceRow*> InventoryImpl::matching(core::OrgScope scope,
                                                      const DeviceFilter& f) const {
  const auto needle = lower(f.search);
  const auto vendor = f.vendor ? lower(*f.vendor) : std::string();
  std::optional<std::int64_t> group_id;
  if (f.group) {
    group_id = -1;  // no such group: nothing matches
    for (auto& [id, g] : groups_) {
      if (g.org_id == scope.org_id() && g.name == *f.group) group_id = id;
    }
  }
  std::vector<const DeviceRow*> out;
  for (auto& [id, row] : devices_) {
    const auto& d = row.device;
    if (d.org_id != scope.org_id()) continue;
    if (f.type && d.type != *f.type) continue;
    if (f.status && d.status() != *f.status) continue;
    if (f.enabled && d.enabled != *f.enabled) continue;
    if (f.vendor && lower(d.vendor) != vendor) continue;
    if (f.tag && !std::binary_search(d.tags.begin(), d.tags.end(), *f.tag)) continue;
    if (group_id && !std::binary_search(row.group_ids.begin(), row.group_ids.end(), *group_id)) {
      continue;
    }
    if (f.parent && !std::binary_search(d.parents.begin(), d.parents.end(), *f.parent)) {
      continue;
    }
    if (!needle.empty() && !contains_ci(d.name, needle) && !contains_ci(d.address, needle) &&
        !contains_ci(d.location, needle) && !contains_ci(d.vendor, needle) &&
        !contains_ci(d.model, needle) && !contains_ci(d.sys_descr, needle) &&
        !contains_ci(d.notes, needle)) {
      continue;
    }
    out.push_back(&row);
  }
  return out;
}

}  // namespace netpulse::devices::detail

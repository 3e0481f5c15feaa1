// The inventory: devices and groups held in memory, every change checked again and written inside
// the db writer's transaction, the memory copy updated once the change has committed. See
// inventory.hpp for the contract; detail/sql.hpp for the rows; csv_import.cpp for the import.
#include <algorithm>
#include <map>
#include <unordered_map>
#include <unordered_set>

#include <boost/asio/steady_timer.hpp>

#include <netpulse/core/key_file.hpp>
#include <netpulse/core/tenancy.hpp>
#include <netpulse/core/text.hpp>
#include <netpulse/devices/inventory.hpp>

#include "detail/csv_import.hpp"
#include "detail/secret_box.hpp"
#include "detail/sql.hpp"
#include "detail/validation.hpp"

namespace netpulse::devices {

namespace {

using detail::DeviceRow;

// last_seen moves on every successful poll; it is written in one batch this often, not per poll.
constexpr std::chrono::seconds kLastSeenFlush{30};

core::Error not_found(std::int64_t id) {
  return core::Error(core::Errc::kDeviceNotFound, "no device " + std::to_string(id),
                     {{"device_id", id}});
}

core::Error group_not_found(std::int64_t id) {
  return core::Error(core::Errc::kNotFound, "no device group " + std::to_string(id),
                     {{"group_id", id}});
}

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

template <class T>
auto page_of(std::vector<T> items, core::Page page) {
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

class InventoryImpl final : public Inventory {
 public:
  InventoryImpl(const InventoryOptions& options, const core::Clock& clock, db::Database& db,
                boost::asio::any_io_executor loop, core::Logger& log,
                core::MetricsRegistry* metrics, core::EventBus* bus, std::string key)
      : options_(options),
        clock_(clock),
        db_(db),
        loop_(loop),
        log_(log),
        bus_(bus),
        box_(std::move(key)),
        last_seen_timer_(loop) {
    if (metrics) {
      events_dropped_ = &metrics->counter("netpulse_device_events_dropped_total",
                                          "Device events dropped because the queue was full.");
      events_orphaned_ = &metrics->counter(
          "netpulse_device_events_orphaned_total",
          "Device events not stored because their organization was deleted meanwhile.");
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

  ~InventoryImpl() override { last_seen_timer_.cancel(); }

  core::Result<void> load() {
    auto rows = db_.read([&](db::Connection& c) { return detail::load_devices(c, box_); });
    if (!rows) return std::move(rows).error();
    auto groups = db_.read([&](db::Connection& c) { return detail::load_groups(c); });
    if (!groups) return std::move(groups).error();
    for (auto& g : *groups) {
      g.device_count = 0;  // put() counts the members
      groups_.emplace(g.id, std::move(g));
    }
    for (auto& row : *rows) put(std::move(row));
    auto oids = db_.read([&](db::Connection& c) { return detail::load_custom_oids(c); });
    if (!oids) return std::move(oids).error();
    for (auto& o : *oids) custom_oids_[o.id] = std::move(o);
    auto checks = db_.read([&](db::Connection& c) { return detail::load_service_checks(c); });
    if (!checks) return std::move(checks).error();
    for (auto& k : *checks) service_checks_[{k.device_id, k.id}] = std::move(k);
    schedule_last_seen_flush();
    return core::ok();
  }

  // --- devices ---------------------------------------------------------------------------------

  core::Result<Device> get(core::OrgScope scope, std::int64_t id) const override {
    auto* row = find(scope, id);
    if (!row) return not_found(id);
    return present(*row);
  }

  core::Result<core::PageOf<Device>> list(core::OrgScope scope, const DeviceFilter& filter,
                                          DeviceSort sort, core::Page page) const override {
    auto rows = matching(scope, filter);
    sort_rows(rows, sort);
    std::vector<Device> devices;
    devices.reserve(rows.size());
    for (auto* row : rows) devices.push_back(present(*row));
    return page_of(std::move(devices), page);
  }

  void create(core::OrgScope scope, NewDevice in, Callback<Device> done) override {
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
          if (auto r = detail::check_address_free(c, row.device.org_id, row.device.address, 0);
              !r) {
            return r.error();
          }
          auto groups = detail::group_ids_by_name(c, row.device.org_id, group_names, "groups");
          if (!groups) return std::move(groups).error();
          row.group_ids = std::move(*groups);
          if (auto r =
                  detail::check_parents(c, row.device.org_id, 0, row.device.parents, "parents");
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

  void update(core::OrgScope scope, std::int64_t id, DevicePatch patch,
              Callback<Device> done) override {
    if (!find(scope, id)) return fail(done, not_found(id));
    const auto org = scope.org_id();
    const auto now = clock_.unix_seconds();
    db_.write<DeviceRow>(
        [this, id, org, now,
         patch = std::move(patch)](db::Connection& c) mutable -> core::Result<DeviceRow> {
          auto rows = detail::load_devices(c, box_, id);
          if (!rows) return std::move(rows).error();
          if (rows->empty() || rows->front().device.org_id != org) return not_found(id);
          auto row = std::move(rows->front());
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

  void remove(core::OrgScope scope, std::int64_t id, Callback<void> done) override {
    if (!find(scope, id)) return fail(done, not_found(id));
    const auto org = scope.org_id();
    db_.write(
        [id, org](db::Connection& c) -> core::Result<void> {
          auto deleted = detail::delete_device(c, id, org);
          if (!deleted) return deleted.error();
          if (!*deleted) return not_found(id);
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

  void import_csv(core::OrgScope scope, std::string body, Callback<ImportResult> done) override {
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

  std::string export_csv(core::OrgScope scope, const DeviceFilter& filter) const override {
    auto rows = matching(scope, filter);
    sort_rows(rows, DeviceSort{});
    std::vector<Device> devices;
    devices.reserve(rows.size());
    for (auto* row : rows) devices.push_back(present(*row));
    std::unordered_map<std::int64_t, std::string> addresses;
    for (auto& [id, row] : devices_) addresses.emplace(id, row.device.address);
    return detail::export_devices(devices, addresses);
  }

  // --- organizations -----------------------------------------------------------------------

  // core::OrgDeleted: the organization's rows went with its delete (ON DELETE CASCADE); what
  // memory holds of it goes now, each device with a DeviceChanged so the pollers drop it.
  void forget_org(std::int64_t org_id) {
    deleted_orgs_.insert(org_id);
    std::vector<std::int64_t> gone;
    for (auto& [id, row] : devices_) {
      if (row.device.org_id == org_id) gone.push_back(id);
    }
    std::sort(gone.begin(), gone.end());
    for (auto id : gone) erase(id);
    std::erase_if(groups_, [org_id](const auto& kv) { return kv.second.org_id == org_id; });
    std::erase_if(custom_oids_, [org_id](const auto& kv) { return kv.second.org_id == org_id; });
    std::erase_if(service_checks_, [org_id](const auto& kv) { return kv.second.org_id == org_id; });
    std::erase_if(pending_events_, [org_id](const DeviceEvent& e) { return e.org_id == org_id; });
    if (!gone.empty()) {
      log_.info("devices", "organization {} deleted: {} device(s) left the inventory", org_id,
                gone.size());
    }
    for (auto id : gone) publish(DeviceChanged{org_id, id, DeviceChanged::Kind::kDeleted});
  }

  // --- groups ----------------------------------------------------------------------------------

  core::Result<Group> get_group(core::OrgScope scope, std::int64_t id) const override {
    auto it = groups_.find(id);
    if (it == groups_.end() || it->second.org_id != scope.org_id()) return group_not_found(id);
    return it->second;
  }

  core::Result<core::PageOf<Group>> list_groups(core::OrgScope scope,
                                                core::Page page) const override {
    std::vector<Group> out;
    for (auto& [id, g] : groups_) {
      if (g.org_id == scope.org_id()) out.push_back(g);
    }
    std::sort(out.begin(), out.end(), [](const Group& a, const Group& b) {
      return a.name != b.name ? a.name < b.name : a.id < b.id;
    });
    return page_of(std::move(out), page);
  }

  void create_group(core::OrgScope scope, std::string name, std::string description,
                    Callback<Group> done) override {
    if (auto r = core::check_text(name, "name", true, detail::kMaxNameLength); !r) {
      return fail(done, r.error());
    }
    if (auto r = core::check_text(description, "description", false, 1024); !r) {
      return fail(done, r.error());
    }
    Group g;
    g.org_id = scope.org_id();
    g.name = std::move(name);
    g.description = std::move(description);
    g.created_at = g.updated_at = clock_.unix_seconds();
    const auto limit = options_.max_groups_per_org;
    db_.write<Group>(
        [g, limit](db::Connection& c) mutable -> core::Result<Group> {
          if (auto r = detail::check_group_name_free(c, g.org_id, g.name, 0); !r) {
            return r.error();
          }
          auto count = detail::count_groups(c, g.org_id);
          if (!count) return std::move(count).error();
          if (static_cast<std::size_t>(*count) >= limit) {
            return core::Error(core::Errc::kConflict, "the organization has reached its limit of " +
                                                          std::to_string(limit) + " groups");
          }
          auto id = detail::insert_group(c, g);
          if (!id) return std::move(id).error();
          g.id = *id;
          return g;
        },
        loop_,
        [this, done = std::move(done)](core::Result<Group> r) {
          if (r) groups_[r->id] = *r;
          done(std::move(r));
        });
  }

  void update_group(core::OrgScope scope, std::int64_t id, GroupPatch patch,
                    Callback<Group> done) override {
    auto it = groups_.find(id);
    if (it == groups_.end() || it->second.org_id != scope.org_id()) {
      return fail(done, group_not_found(id));
    }
    if (patch.name) {
      if (auto r = core::check_text(*patch.name, "name", true, detail::kMaxNameLength); !r) {
        return fail(done, r.error());
      }
    }
    if (patch.description) {
      if (auto r = core::check_text(*patch.description, "description", false, 1024); !r) {
        return fail(done, r.error());
      }
    }
    Group g = it->second;
    if (patch.name) g.name = *patch.name;
    if (patch.description) g.description = *patch.description;
    g.updated_at = clock_.unix_seconds();
    db_.write<Group>(
        [g](db::Connection& c) -> core::Result<Group> {
          if (auto r = detail::check_group_name_free(c, g.org_id, g.name, g.id); !r) {
            return r.error();
          }
          auto updated = detail::update_group(c, g);
          if (!updated) return std::move(updated).error();
          if (!*updated) return group_not_found(g.id);
          return g;
        },
        loop_,
        [this, done = std::move(done)](core::Result<Group> r) {
          if (!r) return done(std::move(r).error());
          auto it = groups_.find(r->id);
          if (it != groups_.end()) {
            const auto count = it->second.device_count;
            it->second = *r;
            it->second.device_count = count;
            return done(it->second);
          }
          done(std::move(r));
        });
  }

  void remove_group(core::OrgScope scope, std::int64_t id, Callback<void> done) override {
    auto it = groups_.find(id);
    if (it == groups_.end() || it->second.org_id != scope.org_id()) {
      return fail(done, group_not_found(id));
    }
    const auto org = scope.org_id();
    db_.write(
        [id, org](db::Connection& c) -> core::Result<void> {
          auto deleted = detail::delete_group(c, id, org);
          if (!deleted) return deleted.error();
          if (!*deleted) return group_not_found(id);
          return core::ok();
        },
        loop_,
        [this, id, done = std::move(done)](core::Result<void> r) {
          if (!r) return done(std::move(r).error());
          groups_.erase(id);
          for (auto& [device_id, row] : devices_) {
            std::erase(row.group_ids, id);
          }
          done(core::ok());
        });
  }

  // --- for pollers -----------------------------------------------------------------------------

  std::vector<Device> all_enabled() const override {
    std::vector<Device> out;
    for (auto& [id, row] : devices_) {
      if (row.device.enabled) out.push_back(present(row));
    }
    std::sort(out.begin(), out.end(), [](const Device& a, const Device& b) { return a.id < b.id; });
    return out;
  }

  std::optional<SnmpCredentials> snmp_credentials(std::int64_t device_id) const override {
    auto it = devices_.find(device_id);
    if (it == devices_.end() || !it->second.device.snmp || !it->second.secrets) return std::nullopt;
    return SnmpCredentials{*it->second.device.snmp, *it->second.secrets};
  }

  void record_status(std::int64_t device_id, DeviceStatus status, std::int64_t at) override {
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
    write_quietly("device status",
                  [device_id, status, at, last_seen](db::Connection& c) -> core::Result<void> {
                    return detail::store_status(c, device_id, status, at, last_seen);
                  });
    publish_status_change(it->second, before);
  }

  void record_system_info(std::int64_t device_id, const SystemInfo& info) override {
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
    write_quietly("device system info", [d](db::Connection& c) -> core::Result<void> {
      return detail::store_system_info(c, d);
    });
  }

  std::size_t device_count() const override { return devices_.size(); }

  void add_custom_oid(core::OrgScope scope, CustomOid in, Callback<CustomOid> done) override {
    in.org_id = scope.org_id();
    if (in.device_id.has_value() == in.device_type.has_value()) {
      return fail(done, core::invalid_field("device_id", "give either device_id or device_type"));
    }
    if (in.device_id && !find(scope, *in.device_id)) return fail(done, not_found(*in.device_id));
    if (auto r = detail::check_custom_oid(in); !r) return fail(done, r.error());
    std::size_t same = 0;
    for (auto& [id, o] : custom_oids_) {
      if (o.org_id == in.org_id && o.device_id == in.device_id && o.device_type == in.device_type) {
        ++same;
      }
    }
    if (same >= 64) {
      return fail(done, core::Error(core::Errc::kConflict,
                                    "at most 64 custom OIDs per device and per device type"));
    }
    in.created_at = clock_.unix_seconds();
    db_.write<CustomOid>(
        [in](db::Connection& c) mutable -> core::Result<CustomOid> {
          auto id = detail::insert_custom_oid(c, in);
          if (!id) return std::move(id).error();
          in.id = *id;
          return in;
        },
        loop_,
        [this, done = std::move(done)](core::Result<CustomOid> r) {
          if (r) {
            custom_oids_[r->id] = *r;
            if (r->device_id)
              publish(DeviceChanged{r->org_id, *r->device_id, DeviceChanged::Kind::kUpdated});
          }
          done(std::move(r));
        });
  }

  void remove_custom_oid(core::OrgScope scope, std::int64_t id, Callback<void> done) override {
    auto it = custom_oids_.find(id);
    if (it == custom_oids_.end() || it->second.org_id != scope.org_id()) {
      return fail(done, core::Error(core::Errc::kNotFound, "no custom OID " + std::to_string(id)));
    }
    const auto org = scope.org_id();
    db_.write(
        [id, org](db::Connection& c) -> core::Result<void> {
          return detail::delete_custom_oid(c, id, org);
        },
        loop_,
        [this, id, done = std::move(done)](core::Result<void> r) {
          if (r) custom_oids_.erase(id);
          done(std::move(r));
        });
  }

  std::vector<CustomOid> list_custom_oids(core::OrgScope scope) const override {
    std::vector<CustomOid> out;
    for (auto& [id, o] : custom_oids_) {
      if (o.org_id == scope.org_id()) out.push_back(o);
    }
    return out;
  }

  std::vector<CustomOid> custom_oids_for(std::int64_t device_id) const override {
    std::vector<CustomOid> out;
    auto it = devices_.find(device_id);
    if (it == devices_.end()) return out;
    const auto& d = it->second.device;
    for (auto& [id, o] : custom_oids_) {
      if (o.org_id != d.org_id) continue;
      if ((o.device_id && *o.device_id == device_id) ||
          (o.device_type && *o.device_type == d.type)) {
        out.push_back(o);
      }
    }
    return out;
  }

  // --- service checks ----------------------------------------------------------------------------

  core::Result<std::vector<ServiceCheck>> list_service_checks(
      core::OrgScope scope, std::int64_t device_id) const override {
    if (!find(scope, device_id)) return not_found(device_id);
    return service_checks_for(device_id);
  }

  core::Result<ServiceCheck> get_service_check(core::OrgScope scope, std::int64_t device_id,
                                               std::int64_t id) const override {
    if (!find(scope, device_id)) return not_found(device_id);
    auto it = service_checks_.find({device_id, id});
    if (it == service_checks_.end()) return check_not_found(device_id, id);
    return it->second;
  }

  void create_service_check(core::OrgScope scope, ServiceCheck check,
                            Callback<ServiceCheck> done) override {
    check.id = 0;
    write_service_check(scope, std::move(check), std::move(done));
  }

  void update_service_check(core::OrgScope scope, ServiceCheck check,
                            Callback<ServiceCheck> done) override {
    if (!find(scope, check.device_id)) return fail(done, not_found(check.device_id));
    auto it = service_checks_.find({check.device_id, check.id});
    if (check.id <= 0 || it == service_checks_.end()) {
      return fail(done, check_not_found(check.device_id, check.id));
    }
    check.created_at = it->second.created_at;
    write_service_check(scope, std::move(check), std::move(done));
  }

  void remove_service_check(core::OrgScope scope, std::int64_t device_id, std::int64_t id,
                            Callback<void> done) override {
    if (!find(scope, device_id)) return fail(done, not_found(device_id));
    if (!service_checks_.contains({device_id, id})) {
      return fail(done, check_not_found(device_id, id));
    }
    db_.write(
        [id, device_id](db::Connection& c) -> core::Result<void> {
          auto deleted = detail::delete_service_check(c, id, device_id);
          if (!deleted) return deleted.error();
          if (!*deleted) return check_not_found(device_id, id);
          return core::ok();
        },
        loop_,
        [this, id, device_id, org = scope.org_id(), done = std::move(done)](core::Result<void> r) {
          if (r) {
            service_checks_.erase({device_id, id});
            publish(DeviceChanged{org, device_id, DeviceChanged::Kind::kUpdated});
          }
          done(std::move(r));
        });
  }

  std::vector<ServiceCheck> service_checks_for(std::int64_t device_id) const override {
    std::vector<ServiceCheck> out;
    for (auto it = service_checks_.lower_bound({device_id, 0});
         it != service_checks_.end() && it->first.first == device_id; ++it) {
      out.push_back(it->second);
    }
    return out;
  }

  std::vector<Device> find_by_address(std::string_view address) const override {
    std::vector<Device> out;
    for (auto& [id, row] : devices_) {
      if (row.device.address == address) out.push_back(present(row));
    }
    return out;
  }

  void record_event(DeviceEvent event) override {
    if (deleted_orgs_.contains(event.org_id)) return;  // a poll that was under way
    if (pending_events_.size() >= options_.event_queue_max) {
      if (events_dropped_) events_dropped_->inc();
      return;
    }
    pending_events_.push_back(std::move(event));
    if (events_flush_posted_) return;
    events_flush_posted_ = true;
    boost::asio::post(loop_, [this] {
      events_flush_posted_ = false;
      flush_events();
    });
  }

  core::Result<core::PageOf<DeviceEvent>> list_events(core::OrgScope scope, const EventFilter& f,
                                                      core::Page page) const override {
    return db_.read(
        [&](db::Connection& c) { return detail::query_events(c, scope.org_id(), f, page); });
  }

 private:
  template <class T>
  void fail(Callback<T>& done, core::Error e) {
    boost::asio::post(loop_,
                      [done = std::move(done), e = std::move(e)]() mutable { done(std::move(e)); });
  }

  static core::Error check_not_found(std::int64_t device_id, std::int64_t id) {
    return core::Error(
        core::Errc::kNotFound,
        "device " + std::to_string(device_id) + " has no check " + std::to_string(id),
        {{"device_id", device_id}, {"check_id", id}});
  }

  // Creates (id 0) or replaces a service check after checking its fields, then the rules that
  // need the database inside the write transaction.
  void write_service_check(core::OrgScope scope, ServiceCheck check, Callback<ServiceCheck> done) {
    const auto* device = find(scope, check.device_id);
    if (!device) return fail(done, not_found(check.device_id));
    if (auto r = detail::check_service_check(check); !r) return fail(done, r.error());
    if (auto r = detail::check_service_target(check, device->device.address, options_.outbound);
        !r) {
      return fail(done, r.error());
    }
    check.org_id = scope.org_id();
    check.updated_at = clock_.unix_seconds();
    if (check.id == 0) check.created_at = check.updated_at;
    db_.write<ServiceCheck>(
        [check](db::Connection& c) mutable -> core::Result<ServiceCheck> {
          if (auto r = detail::check_service_check_rules(c, check); !r) return r.error();
          if (check.id != 0) {
            if (auto r = detail::update_service_check(c, check); !r) return r.error();
            return check;
          }
          auto id = detail::insert_service_check(c, check);
          if (!id) return std::move(id).error();
          check.id = *id;
          return check;
        },
        loop_,
        [this, done = std::move(done)](core::Result<ServiceCheck> r) {
          if (r) {
            service_checks_[{r->device_id, r->id}] = *r;
            publish(DeviceChanged{r->org_id, r->device_id, DeviceChanged::Kind::kUpdated});
          }
          done(std::move(r));
        });
  }

  const DeviceRow* find(core::OrgScope scope, std::int64_t id) const {
    auto it = devices_.find(id);
    if (it == devices_.end() || it->second.device.org_id != scope.org_id()) return nullptr;
    return &it->second;
  }

  Device present(const DeviceRow& row) const {
    Device d = row.device;
    d.groups.clear();
    for (auto g : row.group_ids) {
      if (auto it = groups_.find(g); it != groups_.end()) d.groups.push_back(it->second.name);
    }
    std::sort(d.groups.begin(), d.groups.end());
    return d;
  }

  std::vector<const DeviceRow*> matching(core::OrgScope scope, const DeviceFilter& f) const {
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

  static void sort_rows(std::vector<const DeviceRow*>& rows, DeviceSort sort) {
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

  DeviceStatus status_of(std::int64_t id) const {
    auto it = devices_.find(id);
    return it == devices_.end() ? DeviceStatus::kUnknown : it->second.device.status();
  }

  // Inserts or replaces a device in memory, keeping group counts and status gauges right.
  void put(DeviceRow row) {
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

  void erase(std::int64_t id, bool keep_links = false) {
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

  void count_status(DeviceStatus s, int by) {
    if (auto* g = status_gauges_[static_cast<int>(s)]) g->add(by);
  }

  template <class Event>
  void publish(const Event& e) {
    if (bus_) bus_->publish(e);
  }

  void publish_status_change(const DeviceRow& row, DeviceStatus before) {
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
    record_event(std::move(e));
  }

  // A write whose failure is logged, not answered (poll results: the next poll writes again).
  void write_quietly(std::string what, db::WriteFn fn) {
    db_.write(std::move(fn), loop_, [this, what = std::move(what)](core::Result<void> r) {
      if (!r) log_.warn("devices", "{} not stored: {}", what, r.error().message);
    });
  }

  void schedule_last_seen_flush() {
    last_seen_timer_.expires_after(kLastSeenFlush);
    last_seen_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (ec) return;
      flush_last_seen();
      expire_events();
      schedule_last_seen_flush();
    });
  }

  void flush_events() {
    if (pending_events_.empty()) return;
    auto batch = std::move(pending_events_);
    pending_events_.clear();
    write_quietly("device events",
                  [batch = std::move(batch),
                   orphaned = events_orphaned_](db::Connection& c) -> core::Result<void> {
                    // One event that can no longer be stored (its organization was deleted while it
                    // waited: the foreign key fails) is skipped and counted, so it does not take
                    // the events of other organizations in the batch with it.
                    std::size_t skipped = 0;
                    auto r = detail::insert_events(c, batch, skipped);
                    if (skipped > 0 && orphaned) orphaned->inc(static_cast<double>(skipped));
                    return r;
                  });
  }

  // Deletes events past their retention, at most once an hour.
  void expire_events() {
    const auto now = clock_.unix_seconds();
    if (now - last_expiry_ < 3600) return;
    last_expiry_ = now;
    const auto cutoff = now - options_.event_retention_days * 86'400;
    write_quietly("event retention", [cutoff](db::Connection& c) -> core::Result<void> {
      return detail::delete_events_before(c, cutoff);
    });
  }

  void flush_last_seen() {
    if (last_seen_dirty_.empty()) return;
    std::vector<std::pair<std::int64_t, std::int64_t>> updates;
    for (auto id : last_seen_dirty_) {
      auto it = devices_.find(id);
      if (it != devices_.end() && it->second.device.last_seen) {
        updates.emplace_back(id, *it->second.device.last_seen);
      }
    }
    last_seen_dirty_.clear();
    write_quietly("last_seen",
                  [updates = std::move(updates)](db::Connection& c) -> core::Result<void> {
                    return detail::store_last_seen(c, updates);
                  });
  }

  InventoryOptions options_;
  const core::Clock& clock_;
  db::Database& db_;
  boost::asio::any_io_executor loop_;
  core::Logger& log_;
  core::EventBus* bus_;
  detail::SecretBox box_;
  std::unordered_map<std::int64_t, DeviceRow> devices_;
  std::unordered_map<std::int64_t, Group> groups_;
  std::map<std::int64_t, CustomOid> custom_oids_;
  // By (device id, check id): a device's checks are one range.
  std::map<std::pair<std::int64_t, std::int64_t>, ServiceCheck> service_checks_;
  std::unordered_set<std::int64_t> last_seen_dirty_;
  boost::asio::steady_timer last_seen_timer_;
  core::Gauge* status_gauges_[5] = {};
  core::Counter* events_dropped_ = nullptr;
  core::Counter* events_orphaned_ = nullptr;
  // Organizations deleted since start: a poll under way when one went may still report.
  std::unordered_set<std::int64_t> deleted_orgs_;
  core::EventBus::Subscription org_deleted_;
  std::vector<DeviceEvent> pending_events_;
  bool events_flush_posted_ = false;
  std::int64_t last_expiry_ = 0;
};

}  // namespace

core::Result<std::unique_ptr<Inventory>> Inventory::open(const InventoryOptions& options,
                                                         const core::Clock& clock, db::Database& db,
                                                         boost::asio::any_io_executor loop,
                                                         core::Logger& log,
                                                         core::MetricsRegistry* metrics,
                                                         core::EventBus* bus) {
  auto key =
      core::load_or_create_key_file(options.data_dir + "/credentials.key", detail::kSecretKeyBytes);
  if (!key) return std::move(key).error();
  auto inventory =
      std::make_unique<InventoryImpl>(options, clock, db, loop, log, metrics, bus, std::move(*key));
  if (auto r = inventory->load(); !r) return r.error();
  return std::unique_ptr<Inventory>(std::move(inventory));
}

}  // namespace netpulse::devices

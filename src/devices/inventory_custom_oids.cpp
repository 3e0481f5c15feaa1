// Custom SNMP objects: OIDs an organization adds for one device or for every device of a type,
// at most 64 per device and per type; the pollers ask custom_oids_for() what a device polls. A
// change to a device's own OIDs publishes DeviceChanged so its poller picks it up.
#include "detail/inventory_impl.hpp"
#include "detail/validation.hpp"

namespace netpulse::devices::detail {

void InventoryImpl::add_custom_oid(core::OrgScope scope, CustomOid in, Callback<CustomOid> done) {
  in.org_id = scope.org_id();
  if (in.device_id.has_value() == in.device_type.has_value()) {
    return fail(done, core::invalid_field("device_id", "give either device_id or device_type"));
  }
  if (in.device_id && !find(scope, *in.device_id))
    return fail(done, device_not_found(*in.device_id));
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

void InventoryImpl::remove_custom_oid(core::OrgScope scope, std::int64_t id, Callback<void> done) {
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

std::vector<CustomOid> InventoryImpl::list_custom_oids(core::OrgScope scope) const {
  std::vector<CustomOid> out;
  for (auto& [id, o] : custom_oids_) {
    if (o.org_id == scope.org_id()) out.push_back(o);
  }
  return out;
}

std::vector<CustomOid> InventoryImpl::custom_oids_for(std::int64_t device_id) const {
  std::vector<CustomOid> out;
  auto it = devices_.find(device_id);
  if (it == devices_.end()) return out;
  const auto& d = it->second.device;
  for (auto& [id, o] : custom_oids_) {
    if (o.org_id != d.org_id) continue;
    if ((o.device_id && *o.device_id == device_id) || (o.device_type && *o.device_type == d.type)) {
      out.push_back(o);
    }
  }
  return out;
}

}  // namespace netpulse::devices::detail

// Service checks: the TCP, HTTP and DNS checks of a device's services, held in memory by
// (device, check) and changed through the writer (the SQL is service_checks_sql.cpp). The
// fields are checked before the write, and the rules that need the database (device, unique
// name, at most kMaxServiceChecksPerDevice) inside it. A change publishes DeviceChanged so the
// device's poller picks it up.
#include "detail/inventory_impl.hpp"
#include "detail/validation.hpp"

namespace netpulse::devices::detail {

namespace {

core::Error check_not_found(std::int64_t device_id, std::int64_t id) {
  return core::Error(core::Errc::kNotFound,
                     "device " + std::to_string(device_id) + " has no check " + std::to_string(id),
                     {{"device_id", device_id}, {"check_id", id}});
}

}  // namespace

core::Result<std::vector<ServiceCheck>> InventoryImpl::list_service_checks(
    core::OrgScope scope, std::int64_t device_id) const {
  if (!find(scope, device_id)) return device_not_found(device_id);
  return service_checks_for(device_id);
}

core::Result<ServiceCheck> InventoryImpl::get_service_check(core::OrgScope scope,
                                                            std::int64_t device_id,
                                                            std::int64_t id) const {
  if (!find(scope, device_id)) return device_not_found(device_id);
  auto it = service_checks_.find({device_id, id});
  if (it == service_checks_.end()) return check_not_found(device_id, id);
  return it->second;
}

void InventoryImpl::create_service_check(core::OrgScope scope, ServiceCheck check,
                                         Callback<ServiceCheck> done) {
  check.id = 0;
  write_service_check(scope, std::move(check), std::move(done));
}

void InventoryImpl::update_service_check(core::OrgScope scope, ServiceCheck check,
                                         Callback<ServiceCheck> done) {
  if (!find(scope, check.device_id)) return fail(done, device_not_found(check.device_id));
  auto it = service_checks_.find({check.device_id, check.id});
  if (check.id <= 0 || it == service_checks_.end()) {
    return fail(done, check_not_found(check.device_id, check.id));
  }
  check.created_at = it->second.created_at;
  write_service_check(scope, std::move(check), std::move(done));
}

void InventoryImpl::remove_service_check(core::OrgScope scope, std::int64_t device_id,
                                         std::int64_t id, Callback<void> done) {
  if (!find(scope, device_id)) return fail(done, device_not_found(device_id));
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

std::vector<ServiceCheck> InventoryImpl::service_checks_for(std::int64_t device_id) const {
  std::vector<ServiceCheck> out;
  for (auto it = service_checks_.lower_bound({device_id, 0});
       it != service_checks_.end() && it->first.first == device_id; ++it) {
    out.push_back(it->second);
  }
  return out;
}

void InventoryImpl::write_service_check(core::OrgScope scope, ServiceCheck check,
                                        Callback<ServiceCheck> done) {
  const auto* device = find(scope, check.device_id);
  if (!device) return fail(done, device_not_found(check.device_id));
  if (auto r = detail::check_service_check(check); !r) return fail(done, r.error());
  if (auto r = detail::check_service_target(check, device->device.address, options_.outbound); !r) {
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

}  // namespace netpulse::devices::detail

// Device groups: named sets of an organization's devices (unique names, at most
// max_groups_per_org), read from memory and changed through the writer. A device's groups are
// kept on the device (DeviceRow::group_ids); a group's device_count is kept by put() and erase()
// in inventory.cpp.
#include <algorithm>

#include <netpulse/core/text.hpp>

#include "detail/inventory_impl.hpp"
#include "detail/validation.hpp"

namespace netpulse::devices::detail {

namespace {

core::Error group_not_found(std::int64_t id) {
  return core::Error(core::Errc::kNotFound, "no device group " + std::to_string(id),
                     {{"group_id", id}});
}

}  // namespace

core::Result<Group> InventoryImpl::get_group(core::OrgScope scope, std::int64_t id) const {
  auto it = groups_.find(id);
  if (it == groups_.end() || it->second.org_id != scope.org_id()) return group_not_found(id);
  return it->second;
}

core::Result<core::PageOf<Group>> InventoryImpl::list_groups(core::OrgScope scope,
                                                             core::Page page) const {
  std::vector<Group> out;
  for (auto& [id, g] : groups_) {
    if (g.org_id == scope.org_id()) out.push_back(g);
  }
  std::sort(out.begin(), out.end(), [](const Group& a, const Group& b) {
    return a.name != b.name ? a.name < b.name : a.id < b.id;
  });
  return page_of(std::move(out), page);
}

void InventoryImpl::create_group(core::OrgScope scope, std::string name, std::string description,
                                 Callback<Group> done) {
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

void InventoryImpl::update_group(core::OrgScope scope, std::int64_t id, GroupPatch patch,
                                 Callback<Group> done) {
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

void InventoryImpl::remove_group(core::OrgScope scope, std::int64_t id, Callback<void> done) {
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

}  // namespace netpulse::devices::detail

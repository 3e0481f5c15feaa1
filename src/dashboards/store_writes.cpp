// The dashboards store's writes: create, replace (refused over a newer version) and delete, each
// one write on the database writer, published as DashboardChanged once committed.
#include <fmt/format.h>

#include "detail/sql.hpp"
#include "detail/store_impl.hpp"

namespace netpulse::dashboards::detail {

namespace {

core::Error not_found() {
  return core::Error{core::Errc::kNotFound, "no such dashboard"};
}

void fill(Dashboard& d, DashboardInput&& in) {
  d.name = std::move(in.name);
  d.description = std::move(in.description);
  d.time_range = std::move(in.time_range);
  d.panels = std::move(in.panels);
  d.is_default = in.is_default;
}

}  // namespace

Callback<Dashboard> StoreImpl::published_then(std::string by, Callback<Dashboard> done) {
  return [this, by = std::move(by), done = std::move(done),
          alive = std::weak_ptr<const int>(life_)](core::Result<Dashboard> r) {
    if (alive.expired()) return;
    if (r) published(*r, by);
    done(std::move(r));
  };
}

void StoreImpl::create(core::OrgScope scope, DashboardInput input, std::string by,
                       Callback<Dashboard> done) {
  Dashboard d;
  d.org_id = scope.org_id();
  fill(d, std::move(input));
  d.created_by = d.updated_by = by;
  d.created_at = d.updated_at = clock_.unix_millis();
  db_.write<Dashboard>(
      [d = std::move(d)](db::Connection& c) mutable -> core::Result<Dashboard> {
        auto n = count_dashboards(c, d.org_id);
        if (!n) return n.error();
        if (static_cast<std::size_t>(*n) >= kMaxDashboardsPerOrg)
          return core::Error{
              core::Errc::kConflict,
              fmt::format("an organization may keep at most {} dashboards", kMaxDashboardsPerOrg)};
        // Made by hand before the first listing: the organization needs no default one then.
        if (auto r = mark_seeded(c, d.org_id); !r) return r.error();
        if (d.is_default) {
          if (auto r = clear_default(c, d.org_id, 0); !r) return r.error();
        }
        auto id = insert_dashboard(c, d);
        if (!id) return id.error();
        d.id = *id;
        return d;
      },
      loop_, published_then(by, std::move(done)));
}

void StoreImpl::replace(core::OrgScope scope, std::int64_t id, DashboardInput input, std::string by,
                        Callback<Dashboard> done) {
  const auto org = scope.org_id();
  const auto now = clock_.unix_millis();
  db_.write<Dashboard>(
      [org, id, now, by,
       input = std::move(input)](db::Connection& c) mutable -> core::Result<Dashboard> {
        auto current = select_dashboard(c, org, id);
        if (!current) return current.error();
        if (!*current) return not_found();
        Dashboard d = std::move(**current);
        if (input.version && *input.version != d.version) {
          return core::Error{
              core::Errc::kConflict,
              fmt::format("the dashboard was saved by {} since you opened it (version {}, "
                          "yours {}): reload it, then make your change again",
                          d.updated_by.empty() ? std::string("NetPulse") : d.updated_by, d.version,
                          *input.version),
              boost::json::object{{"field", "version"}, {"version", d.version}}};
        }
        fill(d, std::move(input));
        d.version += 1;
        d.updated_by = by;
        d.updated_at = now;
        if (d.is_default) {
          if (auto r = clear_default(c, org, id); !r) return r.error();
        }
        if (auto r = update_dashboard(c, d); !r) return r.error();
        return d;
      },
      loop_, published_then(by, std::move(done)));
}

void StoreImpl::remove(core::OrgScope scope, std::int64_t id, std::string by, Callback<void> done) {
  const auto org = scope.org_id();
  db_.write(
      [org, id](db::Connection& c) -> core::Result<void> {
        auto gone = delete_dashboard(c, org, id);
        if (!gone) return gone.error();
        if (!*gone) return not_found();
        return core::ok();
      },
      loop_,
      [this, org, id, by, done = std::move(done),
       alive = std::weak_ptr<const int>(life_)](core::Result<void> r) {
        if (alive.expired()) return;
        if (r) bus_.publish(DashboardChanged{org, id, 0, true, by});
        done(std::move(r));
      });
}

}  // namespace netpulse::dashboards::detail

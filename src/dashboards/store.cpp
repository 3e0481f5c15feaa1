// The dashboards store's reads, and the default dashboard an organization is given the first time
// its dashboards are listed (detail/store_impl.hpp).
#include "detail/sql.hpp"
#include "detail/store_impl.hpp"

namespace netpulse::dashboards {

std::unique_ptr<Store> Store::open(const core::Env& env, db::Database& db) {
  return std::make_unique<detail::StoreImpl>(env, db);
}

namespace detail {

core::Result<std::vector<Dashboard>> StoreImpl::read_all(std::int64_t org_id) const {
  return db_.read([&](db::Connection& c) { return select_dashboards(c, org_id); });
}

void StoreImpl::list(core::OrgScope scope, Callback<std::vector<Dashboard>> done) {
  const auto org = scope.org_id();
  auto seeded = db_.read([&](db::Connection& c) { return org_seeded(c, org); });
  if (!seeded) return done(std::move(seeded).error());
  if (*seeded) return done(read_all(org));
  // The first listing: the default dashboard goes in with the mark, in one write (a second
  // listing racing this one finds the mark and adds nothing).
  Dashboard d;
  auto input = default_dashboard();
  d.org_id = org;
  d.name = std::move(input.name);
  d.description = std::move(input.description);
  d.time_range = std::move(input.time_range);
  d.panels = std::move(input.panels);
  d.is_default = true;
  d.created_at = d.updated_at = clock_.unix_millis();
  auto added = std::make_shared<std::optional<Dashboard>>();
  db_.write(
      [d, added](db::Connection& c) mutable -> core::Result<void> {
        auto first = mark_seeded(c, d.org_id);
        if (!first) return first.error();
        if (!*first) return core::ok();
        auto id = insert_dashboard(c, d);
        if (!id) return id.error();
        d.id = *id;
        *added = std::move(d);
        return core::ok();
      },
      loop_,
      [this, org, added, done = std::move(done),
       alive = std::weak_ptr<const int>(life_)](core::Result<void> r) {
        if (alive.expired()) return;
        if (!r) return done(std::move(r).error());
        if (*added) {
          log_.info("dashboards", "organization {} was given the default dashboard \"{}\"", org,
                    (*added)->name);
          published(**added, "");
        }
        done(read_all(org));
      });
}

core::Result<Dashboard> StoreImpl::get(core::OrgScope scope, std::int64_t id) const {
  auto d = db_.read([&](db::Connection& c) { return select_dashboard(c, scope.org_id(), id); });
  if (!d) return std::move(d).error();
  if (!*d) return core::Error{core::Errc::kNotFound, "no such dashboard"};
  return std::move(**d);
}

void StoreImpl::published(const Dashboard& d, const std::string& by) {
  bus_.publish(DashboardChanged{d.org_id, d.id, d.version, false, by});
}

}  // namespace detail
}  // namespace netpulse::dashboards

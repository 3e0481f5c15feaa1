// The dashboards store (include/netpulse/dashboards/dashboards.hpp), declared once and
// implemented by concern: store.cpp (reads, the default dashboard), store_writes.cpp (create,
// replace, delete), sql.cpp (the rows).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <netpulse/dashboards/dashboards.hpp>

namespace netpulse::dashboards::detail {

class StoreImpl final : public Store {
 public:
  StoreImpl(const core::Env& env, db::Database& db)
      : db_(db), clock_(env.clock), bus_(env.bus), loop_(env.loop), log_(env.log) {}

  void list(core::OrgScope scope, Callback<std::vector<Dashboard>> done) override;
  core::Result<Dashboard> get(core::OrgScope scope, std::int64_t id) const override;
  void create(core::OrgScope scope, DashboardInput input, std::string by,
              Callback<Dashboard> done) override;
  void replace(core::OrgScope scope, std::int64_t id, DashboardInput input, std::string by,
               Callback<Dashboard> done) override;
  void remove(core::OrgScope scope, std::int64_t id, std::string by, Callback<void> done) override;

 private:
  // The organization's dashboards, through a reader.
  core::Result<std::vector<Dashboard>> read_all(std::int64_t org_id) const;
  // Publishes DashboardChanged for `d` (committed), by `by`.
  void published(const Dashboard& d, const std::string& by);
  // `done`, called on the loop after a write, once the change is published (nothing once the
  // store is gone).
  Callback<Dashboard> published_then(std::string by, Callback<Dashboard> done);

  db::Database& db_;                   // the rows (migration 0016)
  const core::Clock& clock_;           // created_at / updated_at
  core::EventBus& bus_;                // DashboardChanged
  boost::asio::any_io_executor loop_;  // where the writer's answers come back
  core::Logger& log_;                  // the default dashboard given
  // Life token: callbacks posted by the writer do nothing once the store is gone.
  std::shared_ptr<const int> life_ = std::make_shared<const int>(0);
};

// The default dashboard an organization is given (default_dashboard.cpp).
DashboardInput default_dashboard();

}  // namespace netpulse::dashboards::detail

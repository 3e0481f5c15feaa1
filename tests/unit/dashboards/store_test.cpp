// The dashboards store on a real database: the default dashboard given once per organization,
// create / replace / delete, a save over a newer version refused, names unique per organization
// (in any case), organizations kept apart, every committed change published.
#include <memory>
#include <optional>
#include <vector>

#include <catch2/catch.hpp>

#include <netpulse/core/json.hpp>
#include <netpulse/dashboards/dashboards.hpp>
#include <netpulse/db/database.hpp>

#include "support/run_until.hpp"
#include "support/temp_dir.hpp"
#include "support/test_env.hpp"

using namespace netpulse;
using dashboards::Dashboard;
using dashboards::DashboardInput;

namespace {

struct Harness {
  test::TempDir dir;
  test::TestEnv env;
  std::unique_ptr<db::Database> database;
  std::unique_ptr<dashboards::Store> store;
  std::vector<dashboards::DashboardChanged> changes;
  core::EventBus::Subscription sub;
  core::OrgScope one = core::OrgScope::trusted(1);
  core::OrgScope two = core::OrgScope::trusted(2);

  Harness() {
    db::Options dbo;
    dbo.path = dir.file("netpulse.db");
    auto opened = db::Database::open(dbo, env.env());
    REQUIRE(opened);
    database = std::move(*opened);
    REQUIRE(database->write_sync([](db::Connection& c) {
      return c.exec(
          "INSERT INTO organizations (id, name, slug, is_system, created_at, updated_at) VALUES "
          "(1, 'One', 'one', 1, 0, 0), (2, 'Two', 'two', 0, 0, 0)");
    }));
    store = dashboards::Store::open(env.env(), *database);
    sub = env.env().bus.subscribe<dashboards::DashboardChanged>(
        [this](const dashboards::DashboardChanged& e) { changes.push_back(e); });
  }
  ~Harness() {
    store.reset();
    database->close();
  }

  template <class T, class Call>
  core::Result<T> wait(Call&& call) {
    std::optional<core::Result<T>> got;
    call([&](core::Result<T> r) { got.emplace(std::move(r)); });
    REQUIRE(test::run_until(env.loop(), [&] { return got.has_value(); }));
    return std::move(*got);
  }

  core::Result<std::vector<Dashboard>> list(core::OrgScope scope) {
    return wait<std::vector<Dashboard>>([&](auto done) { store->list(scope, done); });
  }
  core::Result<Dashboard> create(core::OrgScope scope, DashboardInput in) {
    return wait<Dashboard>(
        [&](auto done) { store->create(scope, std::move(in), "noc@example.com", done); });
  }
  core::Result<Dashboard> replace(core::OrgScope scope, std::int64_t id, DashboardInput in,
                                  const std::string& by = "night@example.com") {
    return wait<Dashboard>([&](auto done) { store->replace(scope, id, std::move(in), by, done); });
  }
  core::Result<void> remove(core::OrgScope scope, std::int64_t id) {
    return wait<void>([&](auto done) { store->remove(scope, id, "noc@example.com", done); });
  }
};

DashboardInput input(const std::string& name, const std::string& selector = "cpu") {
  boost::json::object panel{{"kind", "timeseries"},
                            {"x", 0},
                            {"y", 0},
                            {"query", boost::json::object{{"selector", selector}}}};
  auto in = dashboards::parse_dashboard(
      boost::json::object{{"name", name}, {"panels", boost::json::array{panel}}});
  REQUIRE(in);
  return std::move(*in);
}

}  // namespace

TEST_CASE("dashboards store: an organization is given the default dashboard once", "[dashboards]") {
  Harness h;
  auto first = h.list(h.one);
  REQUIRE(first);
  REQUIRE(first->size() == 1);
  const auto& d = (*first)[0];
  CHECK(d.name == "Network overview");
  CHECK(d.is_default);
  CHECK(d.version == 1);
  CHECK(d.panels.size() == 7);
  REQUIRE(h.changes.size() == 1);
  CHECK(h.changes[0].id == d.id);
  // Listed again: the same one, nothing added.
  auto again = h.list(h.one);
  REQUIRE(again);
  CHECK(again->size() == 1);
  CHECK(h.changes.size() == 1);
  // Deleted: not given again.
  REQUIRE(h.remove(h.one, d.id));
  auto after = h.list(h.one);
  REQUIRE(after);
  CHECK(after->empty());
  // Organization 2 gets its own, and never sees organization 1's.
  auto theirs = h.list(h.two);
  REQUIRE(theirs);
  REQUIRE(theirs->size() == 1);
  CHECK(theirs->at(0).org_id == 2);
  CHECK_FALSE(h.store->get(h.one, theirs->at(0).id));
  CHECK(h.store->get(h.one, theirs->at(0).id).error().code == core::Errc::kNotFound);
}

TEST_CASE("dashboards store: an organization that makes one first gets no default",
          "[dashboards]") {
  Harness h;
  REQUIRE(h.create(h.one, input("Mine")));
  auto list = h.list(h.one);
  REQUIRE(list);
  REQUIRE(list->size() == 1);
  CHECK(list->at(0).name == "Mine");
}

TEST_CASE("dashboards store: create, replace with versions, unique names, delete", "[dashboards]") {
  Harness h;
  auto made = h.create(h.one, input("Core routers"));
  REQUIRE(made);
  CHECK(made->version == 1);
  CHECK(made->created_by == "noc@example.com");
  CHECK(made->org_id == 1);
  // The same name in another case: refused; in another organization: fine.
  auto dup = h.create(h.one, input("CORE ROUTERS"));
  REQUIRE_FALSE(dup);
  CHECK(dup.error().code == core::Errc::kConflict);
  CHECK(dup.error().details.at("field") == "name");
  CHECK(h.create(h.two, input("Core routers")));

  // A save from version 1: version 2, by whoever saved it.
  auto edit = input("Core routers", "icmp_rtt_avg_ms");
  edit.version = 1;
  auto saved = h.replace(h.one, made->id, std::move(edit));
  REQUIRE(saved);
  CHECK(saved->version == 2);
  CHECK(saved->updated_by == "night@example.com");
  CHECK(saved->created_by == "noc@example.com");
  CHECK(saved->panels[0].at("query").at("selector") == "icmp_rtt_avg_ms");
  // A second editor who also started from version 1 is refused, and told by whom.
  auto stale = input("Core routers", "cpu");
  stale.version = 1;
  auto refused = h.replace(h.one, made->id, std::move(stale), "day@example.com");
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == core::Errc::kConflict);
  CHECK(refused.error().message.find("night@example.com") != std::string::npos);
  CHECK(refused.error().details.at("version") == 2);
  auto stored = h.store->get(h.one, made->id);
  REQUIRE(stored);
  CHECK(stored->panels[0].at("query").at("selector") == "icmp_rtt_avg_ms");
  // Without a version: saved over whatever is there.
  auto forced = h.replace(h.one, made->id, input("Core routers", "cpu"));
  REQUIRE(forced);
  CHECK(forced->version == 3);
  // Another organization's dashboard: not found, for replace and delete alike.
  CHECK(h.replace(h.two, made->id, input("x")).error().code == core::Errc::kNotFound);
  CHECK(h.remove(h.two, made->id).error().code == core::Errc::kNotFound);
  REQUIRE(h.remove(h.one, made->id));
  CHECK(h.store->get(h.one, made->id).error().code == core::Errc::kNotFound);
  CHECK(h.remove(h.one, made->id).error().code == core::Errc::kNotFound);
  // Every committed change was published, the delete with version 0.
  REQUIRE_FALSE(h.changes.empty());
  CHECK(h.changes.back().deleted);
  CHECK(h.changes.back().id == made->id);
}

TEST_CASE("dashboards store: one default per organization", "[dashboards]") {
  Harness h;
  auto listed = h.list(h.one);  // the default one
  REQUIRE(listed);
  auto mine = input("Mine");
  mine.is_default = true;
  auto made = h.create(h.one, std::move(mine));
  REQUIRE(made);
  auto list = h.list(h.one);
  REQUIRE(list);
  REQUIRE(list->size() == 2);
  CHECK(list->at(0).id == made->id);  // the default first
  CHECK(list->at(0).is_default);
  CHECK_FALSE(list->at(1).is_default);
  // Made default again by a replace: the other one loses it.
  auto back = input("Network overview");
  back.is_default = true;
  REQUIRE(h.replace(h.one, list->at(1).id, std::move(back)));
  list = h.list(h.one);
  REQUIRE(list);
  CHECK(list->at(0).name == "Network overview");
  CHECK(list->at(0).is_default);
  CHECK_FALSE(list->at(1).is_default);
}

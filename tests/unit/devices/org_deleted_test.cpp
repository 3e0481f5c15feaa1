// The inventory when an organization goes (issue 12, "deleting an organization leaves ghosts"):
// core::OrgDeleted takes the organization's devices, groups, custom OIDs, service checks and
// queued events out of memory at once; events of a deleted organization that were already on
// their way to the writer do not cost other organizations theirs; and no id of a device, group,
// custom OID or service check is ever given twice, so nothing kept under an old id (in memory,
// in the pollers, in the store's labels) can pass to the next owner.
#include <chrono>
#include <functional>
#include <optional>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <catch2/catch.hpp>

#include <netpulse/auth/events.hpp>
#include <netpulse/core/clock.hpp>
#include <netpulse/core/event_bus.hpp>
#include <netpulse/core/logger.hpp>
#include <netpulse/core/metrics.hpp>
#include <netpulse/db/database.hpp>
#include <netpulse/devices/inventory.hpp>

#include "support/temp_dir.hpp"
#include "support/test_env.hpp"

using namespace netpulse;
using devices::Device;

namespace {

core::OrgScope org(std::int64_t id) {
  return core::OrgScope::trusted(id);
}

struct Harness {
  test::TempDir dir;
  test::TestEnv test_env;  // clock, logger, metrics, bus, loop and workers
  core::ManualClock& clock = test_env.manual_clock();
  core::MetricsRegistry& metrics = test_env.metrics();
  core::EventBus& bus = test_env.bus();
  boost::asio::io_context& io = test_env.loop();

  core::Env env() { return test_env.env(); }
  std::unique_ptr<db::Database> database;
  std::unique_ptr<devices::Inventory> inv;
  std::vector<devices::DeviceChanged> changes;
  core::EventBus::Subscription changed;

  Harness() {
    db::Options dbo;
    dbo.path = dir.file("netpulse.db");
    auto opened = db::Database::open(dbo, env());
    REQUIRE(opened);
    database = std::move(*opened);
    sql("INSERT INTO organizations (id, name, slug, is_system, created_at, updated_at) VALUES "
        "(1, 'One', 'one', 1, 0, 0), (2, 'Two', 'two', 0, 0, 0)");
    changed = bus.subscribe<devices::DeviceChanged>(
        [this](const devices::DeviceChanged& e) { changes.push_back(e); });
    reopen();
  }

  void sql(const std::string& text) {
    REQUIRE(database->write_sync([&](db::Connection& c) { return c.exec(text); }));
  }

  void reopen() {
    inv.reset();
    devices::InventoryOptions o;
    o.data_dir = dir.path();
    auto opened = devices::Inventory::open(o, env(), *database);
    REQUIRE(opened);
    inv = std::move(*opened);
  }

  template <class T>
  core::Result<T> wait(const std::function<void(devices::Callback<T>)>& start) {
    std::optional<core::Result<T>> out;
    start([&](core::Result<T> r) { out.emplace(std::move(r)); });
    io.restart();
    auto guard = boost::asio::make_work_guard(io);
    while (!out) {
      if (io.run_one_for(std::chrono::seconds(30)) == 0) break;
    }
    REQUIRE(out.has_value());
    return std::move(*out);
  }

  // Lets queued events reach the database: they are written on the next turn of the loop, so
  // wait for a write queued after that turn.
  void settle() {
    REQUIRE(wait<void>([&](auto done) {
      boost::asio::post(io, [this, done] {
        database->write([](db::Connection&) { return core::ok(); }, io.get_executor(),
                        [done](core::Result<void> r) { done(std::move(r)); });
      });
    }));
  }

  Device device(std::string name, std::string address, std::int64_t org_id) {
    devices::NewDevice d;
    d.name = std::move(name);
    d.address = std::move(address);
    devices::SnmpCredentials c;
    c.settings.version = devices::SnmpVersion::kV2c;
    c.secrets.community = "community-" + std::to_string(org_id);
    d.snmp = c;
    auto r = wait<Device>([&](auto done) { inv->create(org(org_id), d, done); });
    REQUIRE(r);
    return *r;
  }

  devices::ServiceCheck check(std::int64_t device_id, std::string name, std::int64_t org_id) {
    devices::ServiceCheck c;
    c.device_id = device_id;
    c.name = std::move(name);
    c.kind = devices::ServiceKind::kTcp;
    c.port = 22;
    auto r = wait<devices::ServiceCheck>(
        [&](auto done) { inv->create_service_check(org(org_id), c, done); });
    REQUIRE(r);
    return *r;
  }

  devices::CustomOid custom_oid(std::int64_t device_id, std::int64_t org_id) {
    devices::CustomOid o;
    o.device_id = device_id;
    o.oid = "1.3.6.1.2.1.1.3.0";
    o.metric = "uptime_ticks";
    auto r =
        wait<devices::CustomOid>([&](auto done) { inv->add_custom_oid(org(org_id), o, done); });
    REQUIRE(r);
    return *r;
  }

  devices::Group group(std::string name, std::int64_t org_id) {
    auto r = wait<devices::Group>(
        [&](auto done) { inv->create_group(org(org_id), std::move(name), "", done); });
    REQUIRE(r);
    return *r;
  }

  void event(std::int64_t org_id, std::int64_t device_id, std::string message) {
    devices::DeviceEvent e;
    e.org_id = org_id;
    e.device_id = device_id;
    e.at = 1000;
    e.kind = "trap";
    e.message = std::move(message);
    inv->record_event(std::move(e));
  }

  std::int64_t event_count(std::int64_t org_id) {
    auto r = inv->list_events(org(org_id), {}, {1, 50});
    REQUIRE(r);
    return r->total;
  }
};

}  // namespace

TEST_CASE("inventory: no id of a device, group, custom OID or service check is given twice",
          "[devices][orgs]") {
  Harness h;
  auto keep = h.device("keep", "192.0.2.1", 1);
  auto gone = h.device("gone", "192.0.2.2", 1);
  auto gone_check = h.check(gone.id, "ssh", 1);
  auto gone_oid = h.custom_oid(gone.id, 1);
  auto gone_group = h.group("gone", 1);
  REQUIRE(h.wait<void>([&](auto done) { h.inv->remove(org(1), gone.id, done); }));
  REQUIRE(h.wait<void>([&](auto done) { h.inv->remove_group(org(1), gone_group.id, done); }));
  h.reopen();  // ids come from the database, not from memory

  auto next = h.device("next", "192.0.2.3", 2);
  CHECK(next.id > gone.id);
  CHECK(h.check(next.id, "ssh", 2).id > gone_check.id);
  CHECK(h.custom_oid(next.id, 2).id > gone_oid.id);
  CHECK(h.group("next", 2).id > gone_group.id);
  auto checks = h.inv->list_service_checks(org(2), next.id);
  REQUIRE(checks);
  CHECK(checks->size() == 1);
  CHECK(keep.id < gone.id);
}

TEST_CASE("inventory: events of a deleted organization do not cost others their events",
          "[devices][orgs][events]") {
  Harness h;
  auto a = h.device("a", "192.0.2.1", 1);
  auto b = h.device("b", "192.0.2.1", 2);
  h.event(1, a.id, "before");
  h.settle();
  REQUIRE(h.event_count(1) == 1);

  // Organization 2 is deleted (the write commits) while events of both are on their way.
  h.event(2, b.id, "of the deleted organization");
  h.event(1, a.id, "of the living one");
  h.sql("DELETE FROM organizations WHERE id = 2");
  h.settle();
  CHECK(h.event_count(1) == 2);
  CHECK(h.event_count(2) == 0);
  h.event(1, a.id, "and later");
  h.settle();
  CHECK(h.event_count(1) == 3);
}

TEST_CASE("inventory: OrgDeleted takes the organization's devices, groups, checks out at once",
          "[devices][orgs]") {
  Harness h;
  auto a = h.device("a", "192.0.2.1", 1);
  auto b = h.device("b", "192.0.2.1", 2);
  auto b2 = h.device("b2", "192.0.2.2", 2);
  h.check(b.id, "ssh", 2);
  h.custom_oid(b.id, 2);
  h.group("customers", 2);
  h.event(2, b.id, "queued when the organization went");
  REQUIRE(h.inv->all_enabled().size() == 3);

  // What auth's delete did in the database (cascades), then the event.
  h.sql("DELETE FROM organizations WHERE id = 2");
  h.changes.clear();
  h.bus.publish(core::OrgDeleted{2});

  auto left = h.inv->all_enabled();
  REQUIRE(left.size() == 1);
  CHECK(left[0].id == a.id);
  CHECK(h.inv->find_by_address("192.0.2.1").size() == 1);
  CHECK_FALSE(h.inv->snmp_credentials(b.id));
  CHECK(h.inv->service_checks_for(b.id).empty());
  CHECK(h.inv->custom_oids_for(b.id).empty());
  CHECK(h.inv->list_custom_oids(org(2)).empty());
  auto groups = h.inv->list_groups(org(2), {1, 50});
  REQUIRE(groups);
  CHECK(groups->total == 0);
  CHECK(h.inv->device_count() == 1);
  // The pollers hear of every device that went.
  REQUIRE(h.changes.size() == 2);
  for (auto& c : h.changes) {
    CHECK(c.org_id == 2);
    CHECK(c.kind == devices::DeviceChanged::Kind::kDeleted);
    CHECK((c.device_id == b.id || c.device_id == b2.id));
  }
  // Polls that were under way land nowhere.
  h.inv->record_status(b.id, devices::DeviceStatus::kUp, 2000);
  h.event(2, b.id, "late");
  h.settle();
  CHECK(h.event_count(2) == 0);
  auto metrics = h.metrics.render();
  CHECK(metrics.find("netpulse_devices{status=\"unknown\"} 1") != std::string::npos);
}

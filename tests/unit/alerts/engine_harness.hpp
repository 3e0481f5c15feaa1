// What the alert engine's unit tests run on: a real database, inventory and time-series store in
// a temporary directory, a ManualClock, the loop run by the test, and the engine itself (opened,
// closed and reopened as a restart would). Samples go in through the store, so the engine sees
// them as SamplesAppended exactly as in the server; device events are published on the bus as
// the pollers publish them. What the engine publishes is recorded.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/parse.hpp>
#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <netpulse/alerts/engine.hpp>
#include <netpulse/alerts/rule_json.hpp>
#include <netpulse/db/database.hpp>
#include <netpulse/devices/inventory.hpp>
#include <netpulse/tsdb/store.hpp>

#include "support/run_until.hpp"
#include "support/temp_dir.hpp"
#include "support/test_env.hpp"

namespace netpulse::test {

struct AlertHarness {
  TempDir dir;
  TestEnv test_env;
  core::ManualClock& clock = test_env.manual_clock();
  core::EventBus& bus = test_env.bus();
  boost::asio::io_context& io = test_env.loop();
  std::unique_ptr<db::Database> database;
  std::unique_ptr<devices::Inventory> inventory;
  std::unique_ptr<tsdb::Store> store;
  std::unique_ptr<alerts::AlertEngine> engine;
  alerts::EngineOptions options;

  std::vector<alerts::AlertChanged> changes;
  std::vector<alerts::IncidentChanged> incident_changes;
  core::EventBus::Subscription changes_sub, incidents_sub;

  static constexpr std::int64_t kOrg = 1;
  core::OrgScope scope = core::OrgScope::trusted(kOrg);

  explicit AlertHarness(bool default_rules = false) {
    db::Options dbo;
    dbo.path = dir.file("netpulse.db");
    auto opened = db::Database::open(dbo, test_env.env());
    REQUIRE(opened);
    database = std::move(*opened);
    sql("INSERT INTO organizations (id, name, slug, is_system, created_at, updated_at) VALUES "
        "(1, 'One', 'one', 1, 0, 0), (2, 'Two', 'two', 0, 0, 0)");
    devices::InventoryOptions io_options;
    io_options.data_dir = dir.path();
    auto inv = devices::Inventory::open(io_options, test_env.env(), *database);
    REQUIRE(inv);
    inventory = std::move(*inv);
    tsdb::StoreOptions so;
    so.dir = dir.file("tsdb");
    auto s = tsdb::Store::open(so, test_env.env(), *database);
    REQUIRE(s);
    store = std::move(*s);
    options.install_default_rules = default_rules;
    options.tick_ms = 3'600'000;  // the tests tick by hand
    changes_sub = bus.subscribe<alerts::AlertChanged>(
        [this](const alerts::AlertChanged& e) { changes.push_back(e); });
    incidents_sub = bus.subscribe<alerts::IncidentChanged>(
        [this](const alerts::IncidentChanged& e) { incident_changes.push_back(e); });
    open_engine();
  }

  ~AlertHarness() {
    engine.reset();
    if (store) (void)store->close();
    run_for(std::chrono::milliseconds(5));
  }

  void open_engine() {
    auto e = alerts::AlertEngine::open(options, test_env.env(), *database, *inventory, *store);
    REQUIRE(e);
    engine = std::move(*e);
    run_for(std::chrono::milliseconds(5));
  }

  // As a restart: the engine goes (its queued writes commit) and a new one loads what was saved.
  void reopen_engine() {
    engine->close();
    engine.reset();
    run_for(std::chrono::milliseconds(20));
    open_engine();
  }

  void sql(const std::string& text) {
    REQUIRE(database->write_sync([&](db::Connection& c) { return c.exec(text); }));
  }

  void run_for(std::chrono::milliseconds d) {
    io.restart();
    io.run_for(d);
  }

  bool run_until(const std::function<bool()>& done) {
    return netpulse::test::run_until(io, done, std::chrono::seconds(10),
                                     std::chrono::milliseconds(2));
  }

  template <class T>
  core::Result<T> wait(const std::function<void(std::function<void(core::Result<T>)>)>& start) {
    std::optional<core::Result<T>> out;
    start([&](core::Result<T> r) { out.emplace(std::move(r)); });
    REQUIRE(run_until([&] { return out.has_value(); }));
    settle();  // what the call wrote meanwhile (a flush's AlertChanged) is published too
    return std::move(*out);
  }

  // Waits until every write queued so far has committed and its reply ran (the engine publishes
  // AlertChanged in those replies): a no-op write queued now is answered after them all.
  void settle() {
    bool done = false;
    database->write([](db::Connection&) { return core::ok(); }, io.get_executor(),
                    [&done](core::Result<void>) { done = true; });
    REQUIRE(run_until([&] { return done; }));
    run_for(std::chrono::milliseconds(1));
  }

  // Moves the clock and runs the engine's tick (and whatever it wrote).
  void advance(std::chrono::milliseconds d) {
    clock.advance(d);
    engine->tick();
    settle();
  }

  std::int64_t now_ms() const { return clock.unix_millis(); }

  alerts::StoredRule add_rule(const std::string& json) {
    auto rule = alerts::rule_from_json(boost::json::parse(json));
    REQUIRE(rule);
    auto r = wait<alerts::StoredRule>([&](auto done) { engine->create_rule(scope, *rule, done); });
    REQUIRE(r);
    return *r;
  }

  devices::Device add_device(std::string name, std::string address,
                             std::vector<std::int64_t> parents = {}, std::int64_t org = kOrg) {
    devices::NewDevice d;
    d.name = std::move(name);
    d.address = std::move(address);
    d.parents = std::move(parents);
    auto r = wait<devices::Device>(
        [&](auto done) { inventory->create(core::OrgScope::trusted(org), d, done); });
    REQUIRE(r);
    settle();
    return *r;
  }

  // The device's polled status changes now (the inventory publishes DeviceStatusChanged).
  void set_status(const devices::Device& d, devices::DeviceStatus s) {
    inventory->record_status(d.id, s, clock.unix_seconds());
    settle();
  }

  // Appends one sample of `metric{labels}` at the clock's time and waits until the engine took it
  // (and, with `wait_writes`, until what it wrote has committed and been published).
  void sample(const std::string& metric, tsdb::LabelSet labels, double value,
              std::int64_t org = kOrg, bool wait_writes = true) {
    std::vector<tsdb::AppendSample> batch;
    batch.push_back({tsdb::SeriesKey{metric, std::move(labels)}, {clock.unix_millis(), value}});
    auto r = wait<tsdb::AppendResult>([&](auto done) {
      store->append(org, std::move(batch), tsdb::AppendMode::kAllOrNothing, done);
    });
    REQUIRE(r);
    REQUIRE(r->accepted == 1);
    (void)store->stats();  // the head takes the batch (and publishes SamplesAppended)
    if (wait_writes) {
      settle();
    } else {
      run_for(std::chrono::milliseconds(0));
    }
  }

  // The transitions published so far for alerts of `rule_id`, in order.
  std::vector<std::string> transitions(std::int64_t rule_id) const {
    std::vector<std::string> out;
    for (auto& c : changes) {
      if (c.alert.rule_id == rule_id) out.push_back(c.transition);
    }
    return out;
  }

  std::vector<alerts::Alert> open_alerts(std::optional<std::int64_t> rule_id = {}) {
    alerts::AlertFilter f;
    f.open_only = true;
    f.rule_id = rule_id;
    auto r = engine->list_alerts(scope, f, core::Page{1, 500});
    REQUIRE(r);
    return r->items;
  }
};

}  // namespace netpulse::test

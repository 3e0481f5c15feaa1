// What the Poller and Discovery unit tests run on: a real Inventory and a real time-series Store
// in a temporary directory, a ManualClock, one io_context run by the test, and the fake engines
// of fake_engines.hpp. Time moves only when the test says (advance()); the loop is run for a few
// milliseconds of real time after each step, and waits are bounded.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <netpulse/core/clock.hpp>
#include <netpulse/core/event_bus.hpp>
#include <netpulse/core/logger.hpp>
#include <netpulse/core/metrics.hpp>
#include <netpulse/core/worker_pool.hpp>
#include <netpulse/db/database.hpp>
#include <netpulse/devices/inventory.hpp>
#include <netpulse/pollers/poller.hpp>
#include <netpulse/tsdb/selector.hpp>
#include <netpulse/tsdb/store.hpp>

#include "fake_engines.hpp"
#include "support/temp_dir.hpp"
#include "support/test_env.hpp"

namespace netpulse::test {

struct PollerHarness {
  TempDir dir;
  TestEnv test_env;  // clock, logger, metrics, bus, loop and workers
  core::ManualClock& clock = test_env.manual_clock();
  core::MetricsRegistry& metrics = test_env.metrics();
  core::EventBus& bus = test_env.bus();
  boost::asio::io_context& io = test_env.loop();

  core::Env env() { return test_env.env(); }
  std::unique_ptr<db::Database> database;
  std::unique_ptr<devices::Inventory> inventory;
  std::unique_ptr<tsdb::Store> store;
  // Owned by the poller once open_poller() has run; until then by the harness.
  std::unique_ptr<FakePinger> own_pinger = std::make_unique<FakePinger>(io.get_executor());
  std::unique_ptr<FakeSnmp> own_snmp = std::make_unique<FakeSnmp>(io.get_executor());
  std::unique_ptr<FakeChecker> own_checker = std::make_unique<FakeChecker>(io.get_executor());
  FakePinger& pinger = *own_pinger;
  FakeSnmp& snmp = *own_snmp;
  FakeChecker& checker = *own_checker;
  std::unique_ptr<pollers::Poller> poller;

  // What the poller and the inventory published.
  std::vector<devices::DeviceStatusChanged> status_changes;
  std::vector<devices::InterfaceStatusChanged> interface_changes;
  std::vector<devices::ServiceCheckChanged> check_changes;
  core::EventBus::Subscription status_sub, interface_sub, check_sub;

  PollerHarness() {
    db::Options dbo;
    dbo.path = dir.file("netpulse.db");
    auto opened = db::Database::open(dbo, env());
    REQUIRE(opened);
    database = std::move(*opened);
    sql("INSERT INTO organizations (id, name, slug, is_system, created_at, updated_at) VALUES "
        "(1, 'One', 'one', 1, 0, 0), (2, 'Two', 'two', 0, 0, 0)");
    devices::InventoryOptions io_options;
    io_options.data_dir = dir.path();
    auto inv = devices::Inventory::open(io_options, env(), *database);
    REQUIRE(inv);
    inventory = std::move(*inv);
    tsdb::StoreOptions so;
    so.dir = dir.file("tsdb");
    auto s = tsdb::Store::open(so, env(), *database);
    REQUIRE(s);
    store = std::move(*s);
    status_sub = bus.subscribe<devices::DeviceStatusChanged>(
        [this](const devices::DeviceStatusChanged& e) { status_changes.push_back(e); });
    interface_sub = bus.subscribe<devices::InterfaceStatusChanged>(
        [this](const devices::InterfaceStatusChanged& e) { interface_changes.push_back(e); });
    check_sub = bus.subscribe<devices::ServiceCheckChanged>(
        [this](const devices::ServiceCheckChanged& e) { check_changes.push_back(e); });
  }

  // As the server tears down: the poller stopped, then gone, then the store closed.
  ~PollerHarness() {
    if (poller) poller->stop();
    poller.reset();
    if (store) (void)store->close();
    run_for(std::chrono::milliseconds(5));
  }

  void sql(const std::string& text) {
    REQUIRE(database->write_sync([&](db::Connection& c) { return c.exec(text); }));
  }

  // Opens the poller on the fake engines (ICMP on, SNMP on) and starts it.
  void open_poller(pollers::PollerOptions options = {}) {
    pollers::PollerEngines engines{std::move(own_pinger), std::move(own_snmp),
                                   std::move(own_checker)};
    auto p = pollers::Poller::open(options, env(), std::move(engines), *inventory, *store);
    REQUIRE(p);
    poller = std::move(*p);
    poller->start();
    run_for(std::chrono::milliseconds(5));
  }

  // Runs the loop for `d` of real time.
  void run_for(std::chrono::milliseconds d) {
    io.restart();
    io.run_for(d);
  }

  // Runs the loop until `done()` holds, for at most 10 s of real time.
  bool run_until(const std::function<bool()>& done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      run_for(std::chrono::milliseconds(2));
    }
    return done();
  }

  // Moves the ManualClock by `d` in steps of `step`, letting the loop run the checks that fall
  // due after each step.
  void advance(std::chrono::milliseconds d,
               std::chrono::milliseconds step = std::chrono::milliseconds(1000)) {
    for (auto moved = std::chrono::milliseconds(0); moved < d; moved += step) {
      clock.advance(step);
      run_for(std::chrono::milliseconds(3));
    }
  }

  template <class T>
  core::Result<T> wait(const std::function<void(devices::Callback<T>)>& start) {
    std::optional<core::Result<T>> out;
    start([&](core::Result<T> r) { out.emplace(std::move(r)); });
    REQUIRE(run_until([&] { return out.has_value(); }));
    return std::move(*out);
  }

  devices::Device add_device(std::string name, std::string address, std::int64_t org_id = 1,
                             std::vector<std::int64_t> parents = {},
                             std::optional<std::string> community = std::nullopt) {
    devices::NewDevice d;
    d.name = std::move(name);
    d.address = std::move(address);
    d.parents = std::move(parents);
    if (community) {
      devices::SnmpCredentials c;
      c.settings.version = devices::SnmpVersion::kV2c;
      c.secrets.community = *community;
      d.snmp = c;
    }
    auto r = wait<devices::Device>(
        [&](auto done) { inventory->create(core::OrgScope::trusted(org_id), d, done); });
    REQUIRE(r);
    return *r;
  }

  devices::ServiceCheck add_tcp_check(const devices::Device& d, std::string name, int port) {
    devices::ServiceCheck c;
    c.device_id = d.id;
    c.name = std::move(name);
    c.kind = devices::ServiceKind::kTcp;
    c.port = port;
    c.timeout_ms = 1000;
    c.retries = 0;
    auto r = wait<devices::ServiceCheck>([&](auto done) {
      inventory->create_service_check(core::OrgScope::trusted(d.org_id), c, done);
    });
    REQUIRE(r);
    return *r;
  }

  devices::DeviceStatus status_of(const devices::Device& d) const {
    auto now = inventory->get(core::OrgScope::trusted(d.org_id), d.id);
    REQUIRE(now);
    return now->polled_status;
  }

  // The device's series in the store (name -> last value), after the store took what the
  // poller appended.
  std::map<std::string, double> last_values(const devices::Device& d,
                                            const std::string& extra_matchers = "") {
    auto selector =
        tsdb::Selector::parse(fmt::format(R"({{device_id="{}"{}}})", d.id, extra_matchers));
    REQUIRE(selector);
    (void)store->stats();  // the head takes appended batches first thing in a read
    std::map<std::string, double> out;
    for (auto& s : store->series(d.org_id, std::span(&*selector, 1), 10'000)) {
      out[s.key.metric] = s.last_value;
    }
    return out;
  }

  // Waits until the device's series `metric` has `expected` as its last value.
  bool wait_for_value(const devices::Device& d, const std::string& metric, double expected,
                      const std::string& extra_matchers = "") {
    return run_until([&] {
      auto values = last_values(d, extra_matchers);
      auto it = values.find(metric);
      return it != values.end() && it->second == Approx(expected);
    });
  }
};

}  // namespace netpulse::test

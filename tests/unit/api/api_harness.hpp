// The real route table for api unit tests: a database and an auth service on a temp dir, a
// ManualClock, and every route registered into `router`. `ready` drives /ready.
#pragma once

#include <memory>

#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>

#include <netpulse/api/routes.hpp>
#include <netpulse/auth/auth_service.hpp>
#include <netpulse/core/event_bus.hpp>
#include <netpulse/db/database.hpp>
#include <netpulse/tsdb/store.hpp>

#include "support/temp_dir.hpp"

namespace netpulse::test {

struct ApiHarness {
  ApiHarness() {
    db::Options dbo;
    dbo.path = dir.file("netpulse.db");
    auto opened = db::Database::open(dbo, env());
    REQUIRE(opened);
    database = std::move(opened).value();
    auth::Options ao;
    ao.data_dir = dir.path();
    auto service = auth::AuthService::open(ao, env(), *database);
    REQUIRE(service);
    auth = std::move(service).value();
    tsdb::StoreOptions so;
    so.dir = dir.file("tsdb");
    auto store = tsdb::Store::open(so, env(), *database);
    REQUIRE(store);
    tsdb = std::move(store).value();
    api::RouteDeps deps{*auth, *database, metrics, clock, "test", [this] { return ready; }};
    deps.tsdb = tsdb.get();
    deps.workers = &workers;
    deps.loop = loop.get_executor();
    api::register_routes(router, deps);
  }

  TempDir dir;
  core::ManualClock clock;
  core::Logger log{clock, [](std::string_view) {}};
  core::MetricsRegistry metrics;
  boost::asio::io_context loop;
  core::WorkerPool workers{1, 16};
  std::unique_ptr<db::Database> database;
  std::unique_ptr<auth::AuthService> auth;
  core::EventBus bus;

  core::Env env() { return {clock, log, metrics, bus, loop.get_executor(), workers}; }
  std::unique_ptr<tsdb::Store> tsdb;
  bool ready = true;
  api::Router router;
};

}  // namespace netpulse::test

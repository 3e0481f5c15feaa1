// The real route table for api unit tests: a database and an auth service on a temp dir, a
// ManualClock, and every route registered into `router`. `ready` drives /ready.
#pragma once

#include <memory>

#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>

#include <netpulse/api/routes.hpp>
#include <netpulse/auth/auth_service.hpp>
#include <netpulse/db/database.hpp>

#include "support/temp_dir.hpp"

namespace netpulse::test {

struct ApiHarness {
  ApiHarness() {
    db::Options dbo;
    dbo.path = dir.file("netpulse.db");
    auto opened = db::Database::open(dbo, clock, log, &metrics);
    REQUIRE(opened);
    database = std::move(opened).value();
    auth::Options ao;
    ao.data_dir = dir.path();
    auto service =
        auth::AuthService::open(ao, clock, *database, workers, loop.get_executor(), log, &metrics);
    REQUIRE(service);
    auth = std::move(service).value();
    api::register_routes(router,
                         {*auth, *database, metrics, clock, "test", [this] { return ready; }});
  }

  TempDir dir;
  core::ManualClock clock;
  core::Logger log{clock, [](std::string_view) {}};
  core::MetricsRegistry metrics;
  boost::asio::io_context loop;
  core::WorkerPool workers{1, 16};
  std::unique_ptr<db::Database> database;
  std::unique_ptr<auth::AuthService> auth;
  bool ready = true;
  api::Router router;
};

}  // namespace netpulse::test

// A real AuthService for unit tests: a Database in a temporary directory, a ManualClock, a worker
// pool, and the event loop run by the test (wait() runs it until a callback has run). Shared by
// the auth module's service tests.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>

#include <netpulse/auth/auth_service.hpp>
#include <netpulse/core/clock.hpp>
#include <netpulse/core/logger.hpp>
#include <netpulse/core/metrics.hpp>
#include <netpulse/core/worker_pool.hpp>
#include <netpulse/db/database.hpp>

#include "support/temp_dir.hpp"

namespace netpulse::test {

using auth::Role;

inline constexpr const char* kAdminEmail = "admin@example.com";
inline constexpr const char* kAdminPassword = "admin-password-1";
inline constexpr const char* kDefaultIp = "192.0.2.10";

inline auth::Options test_options(const std::string& data_dir) {
  auth::Options o;
  o.data_dir = data_dir;
  o.argon2_memory_kib = 8192;
  o.argon2_passes = 1;
  o.throttle_account_failures = 3;
  o.throttle_ip_failures = 100;
  o.throttle_base_s = 1;
  o.throttle_max_s = 60;
  return o;
}

// Everything an AuthService needs, torn down in a safe order (service, workers, db, loop).
struct AuthHarness {
  TempDir dir;
  core::ManualClock clock;
  core::Logger log{clock, [](std::string_view) {}, core::LogLevel::kOff};
  core::MetricsRegistry metrics;
  boost::asio::io_context io;
  std::unique_ptr<db::Database> database;
  core::WorkerPool workers{2, 64};
  core::EventBus bus;
  auth::Options options = test_options(dir.path());
  std::unique_ptr<auth::AuthService> service;

  core::Env env() { return {clock, log, metrics, bus, io.get_executor(), workers}; }

  explicit AuthHarness(std::function<void(auth::Options&)> configure = {}) {
    if (configure) configure(options);
    db::Options dbo;
    dbo.path = dir.file("netpulse.db");
    auto opened = db::Database::open(dbo, env());
    REQUIRE(opened);
    database = std::move(*opened);
    reopen();
    auto boot = service->ensure_bootstrap(kAdminEmail, std::string(kAdminPassword));
    REQUIRE(boot);
    REQUIRE(boot->created);
  }

  // A fresh service over the same data directory and database (as after a restart).
  void reopen() {
    service.reset();
    auto svc = auth::AuthService::open(options, env(), *database);
    REQUIRE(svc);
    service = std::move(*svc);
  }

  // Starts an asynchronous call and runs the loop until its callback has run.
  template <class T>
  core::Result<T> wait(const std::function<void(auth::Callback<T>)>& start) {
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

  // Waits until every write queued so far has committed.
  void flush() {
    auto r = wait<void>([&](auth::Callback<void> cb) {
      database->write([](db::Connection&) { return core::ok(); }, io.get_executor(), cb);
    });
    REQUIRE(r);
  }

  core::Result<auth::TokenPair> login(const std::string& email, const std::string& password,
                                      const std::string& ip = kDefaultIp,
                                      std::optional<std::string> org = std::nullopt) {
    auth::LoginRequest request;
    request.email = email;
    request.password = password;
    request.source_ip = ip;
    request.org = std::move(org);
    return wait<auth::TokenPair>(
        [&](auth::Callback<auth::TokenPair> cb) { service->login(request, cb); });
  }

  core::Result<auth::TokenPair> refresh(const std::string& token) {
    return wait<auth::TokenPair>(
        [&](auth::Callback<auth::TokenPair> cb) { service->refresh(token, cb); });
  }

  auth::Principal principal_for(const std::string& email, const std::string& password) {
    auto tokens = login(email, password);
    REQUIRE(tokens);
    auto p = service->authenticate(tokens->access_token);
    REQUIRE(p);
    return *p;
  }

  auth::Principal admin() { return principal_for(kAdminEmail, kAdminPassword); }

  auth::User add_user(std::int64_t org_id, const std::string& email, Role role,
                      const std::string& password = "user-password-1") {
    auth::NewUser u;
    u.email = email;
    u.name = "Test " + email;
    u.role = role;
    u.password = password;
    auto created = wait<auth::User>([&](auth::Callback<auth::User> cb) {
      service->create_user(core::OrgScope::trusted(org_id), u, cb);
    });
    REQUIRE(created);
    return *created;
  }

  core::Result<auth::User> patch_user(std::int64_t org_id, std::int64_t user_id,
                                      auth::UserPatch patch) {
    return wait<auth::User>([&](auth::Callback<auth::User> cb) {
      service->update_user(core::OrgScope::trusted(org_id), user_id, patch, cb);
    });
  }

  auth::Organization add_org(const std::string& name, const std::string& slug) {
    auto org = wait<auth::Organization>([&](auth::Callback<auth::Organization> cb) {
      service->create_org(auth::SystemScope::trusted(), name, slug, cb);
    });
    REQUIRE(org);
    return *org;
  }

  core::Result<auth::CreatedApiKey> add_key(const auth::Principal& creator, Role role,
                                            const std::string& name = "ingest") {
    auth::NewApiKey k;
    k.name = name;
    k.role = role;
    return wait<auth::CreatedApiKey>([&](auth::Callback<auth::CreatedApiKey> cb) {
      service->create_api_key(auth::scope_of(creator), creator, k, cb);
    });
  }
};

inline double counter_value(core::MetricsRegistry& m, const std::string& name,
                            const std::string& label, const std::string& value) {
  return m.counter(name, "", {{label, value}}).value();
}

}  // namespace netpulse::test

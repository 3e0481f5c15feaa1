// The in-memory API of the HTTP fuzz targets (see api_fixture.hpp).
#include "support/api_fixture.hpp"

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>

#include <netpulse/api/routes.hpp>
#include <netpulse/api/server.hpp>
#include <netpulse/auth/auth_service.hpp>
#include <netpulse/core/clock.hpp>
#include <netpulse/core/event_bus.hpp>
#include <netpulse/core/logger.hpp>
#include <netpulse/core/metrics.hpp>
#include <netpulse/core/worker_pool.hpp>
#include <netpulse/db/database.hpp>
#include <netpulse/devices/inventory.hpp>
#include <netpulse/tsdb/store.hpp>

#include "api/detail/live_hub.hpp"
#include "api/detail/pipeline.hpp"
#include "support/fuzz_target.hpp"
#include "support/temp_dir.hpp"

namespace netpulse::fuzz {

namespace {

namespace http = boost::beast::http;

constexpr const char* kAdminEmail = "admin@fuzz.example";
constexpr const char* kAdminPassword = "fuzz-admin-password-1";
constexpr const char* kPeer = "203.0.113.7";

// A live feed client without a socket: what the hub queues is kept, as is how it closed it.
class FakeLiveTransport final : public api::detail::LiveTransport {
 public:
  void send(api::detail::LiveText text) override {
    if (close_code == 0) sent.push_back(*text);
  }
  std::size_t queued() const override { return 0; }
  void close(std::uint16_t code, std::string) override {
    if (close_code == 0) close_code = code;
  }
  std::vector<std::string> sent;
  std::uint16_t close_code = 0;
};

class Fixture final : public ApiFixture {
 public:
  Fixture() {
    db::Options dbo;
    dbo.path = dir_.file("netpulse.db");
    auto opened = db::Database::open(dbo, env());
    if (!opened) fail("database: " + opened.error().message);
    database_ = std::move(opened).value();

    auth::Options ao;
    ao.data_dir = dir_.path();
    ao.argon2_memory_kib = 8;  // libsodium's least: logins must not dominate the run
    ao.argon2_passes = 1;
    auto service = auth::AuthService::open(ao, env(), *database_);
    if (!service) fail("auth: " + service.error().message);
    auth_ = std::move(service).value();
    auto boot = auth_->ensure_bootstrap(kAdminEmail, std::string(kAdminPassword));
    if (!boot) fail("bootstrap: " + boot.error().message);

    tsdb::StoreOptions so;
    so.dir = dir_.file("tsdb");
    so.max_series_per_org = 20'000;
    so.head_max_bytes = 64u << 20;
    auto store = tsdb::Store::open(so, env(), *database_);
    if (!store) fail("tsdb: " + store.error().message);
    tsdb_ = std::move(store).value();

    devices::InventoryOptions io;
    io.data_dir = dir_.path();
    io.max_devices_per_org = 2'000;
    io.import_max_rows = 200;
    auto inventory = devices::Inventory::open(io, env(), *database_);
    if (!inventory) fail("inventory: " + inventory.error().message);
    inventory_ = std::move(inventory).value();

    api::RouteDeps deps{*auth_, *database_, metrics_, clock_, "fuzz", [] { return true; }};
    deps.tsdb = tsdb_.get();
    deps.workers = &workers_;
    deps.loop = loop_.get_executor();
    deps.inventory = inventory_.get();
    deps.ingest_max_bytes = 1u << 20;
    deps.ingest_max_samples = 10'000;
    api::register_routes(router_, deps);

    options_.per_ip_rps = 1e9;  // the clock stands still: no bucket ever refills
    options_.per_ip_burst = 1e12;
    options_.per_user_rps = 1e9;
    options_.per_user_burst = 1e12;
    options_.access_log = false;
    options_.max_body_bytes = 1u << 20;
    options_.cors_allowed_origins = {"https://ui.example"};
    pipeline_ =
        std::make_shared<api::detail::Pipeline>(options_, clock_, log_, metrics_, router_, *auth_);
    live_ = std::make_unique<api::detail::LiveHub>(api::LiveOptions{}, loop_.get_executor(), bus_,
                                                   *auth_, clock_, metrics_, tsdb_.get());
    renew_credentials();
  }

  LiveAnswer live_exchange(const std::vector<std::string>& messages) override {
    auto transport = std::make_shared<FakeLiveTransport>();
    auto id = live_->attach(transport);
    if (!id) fail("the live feed refused a client with none connected");
    for (const auto& m : messages) {
      live_->on_message(*id, substitute(m));
      if (transport->close_code != 0) break;
    }
    bus_.publish(devices::DeviceStatusChanged{1, 1, devices::DeviceStatus::kUp,
                                              devices::DeviceStatus::kDown, 1767225600});
    live_->detach(*id);
    loop_.poll();
    return {std::move(transport->sent), transport->close_code};
  }

  const std::string& directory() const { return dir_.path(); }
  const std::string& admin_token() override { return admin_token_; }
  const std::string& api_key() override { return api_key_; }

  std::string substitute(std::string_view raw) override {
    std::string out(raw);
    replace_all(out, "@ADMIN@", admin_token_);
    replace_all(out, "@KEY@", api_key_);
    return out;
  }

  ApiAnswer handle(http::request<http::string_body> request) override {
    std::optional<ApiAnswer> answer;
    pipeline_->handle(std::move(request), kPeer, [&answer](api::detail::WireResponse r) {
      if (answer) fail("the pipeline answered one request twice");
      answer = ApiAnswer{r.status, std::move(r.bytes)};
    });
    turn_until([&] { return answer.has_value(); }, "an answer");
    loop_.poll();
    if (++handled_ % 256 == 0) renew_credentials();
    return std::move(*answer);
  }

  std::vector<int> exchange(std::string_view raw, std::size_t max_requests) override {
    const std::string bytes = substitute(raw);
    std::string_view rest = bytes;
    std::vector<int> statuses;
    while (!rest.empty() && statuses.size() < max_requests) {
      http::request_parser<http::string_body> parser;
      parser.header_limit(static_cast<std::uint32_t>(options_.max_header_bytes));
      parser.body_limit(options_.max_body_bytes);
      parser.eager(true);
      boost::beast::error_code ec;
      while (!parser.is_done() && !rest.empty()) {
        const auto used = parser.put(boost::asio::buffer(rest.data(), rest.size()), ec);
        rest.remove_prefix(used);
        // need_more: the parser has looked at all of `rest` and wants bytes beyond it. Beast
        // must then be given more than before (re-presenting the same bytes trips its
        // assertions); the input has no more, so the client has stopped sending.
        if (ec == http::error::need_more) {
          ec = {};
          break;
        }
        if (ec) break;
      }
      if (!ec && !parser.is_done()) {
        parser.put_eof(ec);  // the client went away mid-message: the server just closes
        break;
      }
      if (ec) {
        statuses.push_back(transport_error(ec));
        break;
      }
      auto answer = handle(parser.release());
      statuses.push_back(answer.status);
      if (answer.bytes.find("\r\nConnection: close\r\n") != std::string::npos) break;
    }
    return statuses;
  }

 private:
  static void replace_all(std::string& s, std::string_view from, const std::string& to) {
    for (auto at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) {
      s.replace(at, from.size(), to);
    }
  }

  // What Server's session answers to a read error (server.cpp, on_read_error).
  int transport_error(boost::beast::error_code ec) {
    api::detail::WireResponse r;
    if (ec == http::error::body_limit) {
      r = pipeline_->transport_error(http::status::payload_too_large, core::Errc::kPayloadTooLarge,
                                     "the request body is larger than the limit");
    } else if (ec == http::error::header_limit) {
      r = pipeline_->transport_error(http::status::request_header_fields_too_large,
                                     core::Errc::kHeadersTooLarge,
                                     "the request headers are larger than the limit");
    } else {
      r = pipeline_->transport_error(http::status::bad_request, core::Errc::kInvalidInput,
                                     "malformed HTTP request: " + ec.message());
    }
    return r.status;
  }

  template <class Done>
  void turn_until(Done done, const char* what) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!done()) {
      loop_.run_one_for(std::chrono::milliseconds(10));
      if (std::chrono::steady_clock::now() > deadline) {
        fail(std::string("no ") + what + " within 30 s");
      }
    }
  }

  // Makes sure the admin token and the API key still work (an input may have logged the admin
  // out, changed the password or revoked the key): new ones when they do not.
  void renew_credentials() {
    if (admin_token_.empty() || !auth_->authenticate(admin_token_)) {
      auto reset = auth_->set_password_sync(kAdminEmail, std::nullopt, kAdminPassword);
      (void)reset;  // an input may have renamed the admin; then the old token is kept
      std::optional<core::Result<auth::TokenPair>> tokens;
      auth::LoginRequest request;
      request.email = kAdminEmail;
      request.password = kAdminPassword;
      request.source_ip = "192.0.2.250";
      auth_->login(std::move(request),
                   [&tokens](core::Result<auth::TokenPair> r) { tokens.emplace(std::move(r)); });
      turn_until([&] { return tokens.has_value(); }, "login answer");
      if (*tokens) {
        admin_token_ = (*tokens)->access_token;
      } else if (admin_token_.empty()) {
        fail("login: " + tokens->error().message);
      }
    }
    if (api_key_.empty() || !auth_->authenticate(api_key_)) {
      auto admin = auth_->authenticate(admin_token_);
      if (!admin) return;
      std::optional<core::Result<auth::CreatedApiKey>> key;
      auth::NewApiKey nk;
      nk.name = "fuzz-" + std::to_string(handled_);
      nk.role = auth::Role::kApiUser;
      auth_->create_api_key(
          auth::scope_of(*admin), *admin, nk,
          [&key](core::Result<auth::CreatedApiKey> r) { key.emplace(std::move(r)); });
      turn_until([&] { return key.has_value(); }, "API key");
      if (*key) {
        api_key_ = (*key)->secret;
      } else if (api_key_.empty()) {
        fail("API key: " + key->error().message);
      }
    }
  }

  test::TempDir dir_;
  core::ManualClock clock_;
  core::Logger log_{clock_, [](std::string_view) {}};
  core::MetricsRegistry metrics_;
  boost::asio::io_context loop_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_{
      loop_.get_executor()};
  core::WorkerPool workers_{1, 64};
  std::unique_ptr<db::Database> database_;
  std::unique_ptr<auth::AuthService> auth_;
  core::EventBus bus_;

  core::Env env() { return {clock_, log_, metrics_, bus_, loop_.get_executor(), workers_}; }
  std::unique_ptr<tsdb::Store> tsdb_;
  std::unique_ptr<devices::Inventory> inventory_;
  std::unique_ptr<api::detail::LiveHub> live_;
  api::Router router_;
  api::ServerOptions options_;
  std::shared_ptr<api::detail::Pipeline> pipeline_;
  std::string admin_token_;
  std::string api_key_;
  std::uint64_t handled_ = 0;
};

}  // namespace

ApiFixture& ApiFixture::instance() {
  // Built once and kept for the process's life (the loop, threads and database stay up between
  // inputs); only its directory is removed at exit.
  static Fixture* fixture = [] {
    auto* f = new Fixture;
    static const std::string dir = f->directory();
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
    });
    return f;
  }();
  return *fixture;
}

}  // namespace netpulse::fuzz

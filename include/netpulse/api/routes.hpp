// The routes NetPulse serves, registered into a Router by the composition root.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/json/value.hpp>

#include <netpulse/alerts/engine.hpp>
#include <netpulse/api/router.hpp>
#include <netpulse/auth/auth_service.hpp>
#include <netpulse/core/clock.hpp>
#include <netpulse/core/config.hpp>
#include <netpulse/core/event_bus.hpp>
#include <netpulse/core/metrics.hpp>
#include <netpulse/core/worker_pool.hpp>
#include <netpulse/dashboards/dashboards.hpp>
#include <netpulse/db/database.hpp>
#include <netpulse/devices/inventory.hpp>
#include <netpulse/notify/notifier.hpp>
#include <netpulse/pollers/poller.hpp>
#include <netpulse/tsdb/store.hpp>

namespace netpulse::api {

struct RouteDeps {
  auth::AuthService& auth;
  db::Database& db;
  core::MetricsRegistry& metrics;
  const core::Clock& clock;
  std::string version;
  // True once start-up has finished and while not shutting down (for /ready).
  std::function<bool()> ready;
  // When set, /metrics answers only `Authorization: Bearer <metrics_token>` (401 otherwise).
  std::string metrics_token;
  // The time-series store and the pool its ingest parsing runs on; without them the metric
  // routes are not registered.
  tsdb::Store* tsdb = nullptr;
  core::WorkerPool* workers = nullptr;
  boost::asio::any_io_executor loop;  // where worker results come back
  // Ingest: the most bytes a (decompressed) body may have, and the most samples per request.
  std::size_t ingest_max_bytes = 64u << 20;
  std::size_t ingest_max_samples = 200'000;
  // The device inventory; without it the device routes are not registered.
  devices::Inventory* inventory = nullptr;
  // The pollers: "poll now", interfaces, poller health. Optional.
  pollers::Poller* poller = nullptr;
  // Raw retention, for choosing the tier of a query.
  tsdb::Timestamp raw_retention_ms = 30LL * 86'400'000;
  // Where core::OrgDeleted is published once an organization's delete has committed (the
  // modules that keep its state subscribe). Without it the route drops the org's series itself.
  core::EventBus* bus = nullptr;
  // The alert engine: rules, alerts, incidents, silences, maintenance windows. Optional.
  alerts::AlertEngine* alerts = nullptr;
  // The notifier: channels, policies, the delivery log. Optional.
  notify::Notifier* notifier = nullptr;
  // The dashboards store; without it the dashboard routes are not registered.
  dashboards::Store* dashboards = nullptr;
  // The web UI's session cookie (docs/web.md): `__Host-` and Secure when the server runs TLS;
  // its Max-Age, the refresh token's lifetime.
  bool secure_cookies = false;
  std::int64_t session_cookie_max_age_s = 2592000;

  // Admin → Settings (routes_settings.cpp, docs/settings.md): what the config was loaded from, so
  // a saved change is checked as the next start would load it; the values the server runs with;
  // and what takes a live change in. Without it the settings routes are not registered.
  struct Settings {
    std::optional<std::string> config_file;
    core::Environment environment;
    // Key → value (JSON) the server runs with; live keys are updated as they are saved.
    std::map<std::string, boost::json::value> running;
    // Called on the loop with the whole config once a live key is saved.
    std::function<void(const core::Config&)> apply_live;
  };
  std::shared_ptr<Settings> settings;
};

// Every route: health (/alive, /ready, /health), /metrics, the OpenAPI document, auth, users,
// organizations, API keys, the audit log; metrics when deps.tsdb and deps.workers are set; devices
// and what hangs off them when deps.inventory is set (polling and discovery also need
// deps.poller); alert rules, alerts, incidents, silences and maintenance windows when
// deps.alerts is set; notification channels, policies and the delivery log when deps.notifier
// is set. `router` must outlive the server: /api/v1/openapi.json reads it.
void register_routes(Router& router, const RouteDeps& deps);

}  // namespace netpulse::api

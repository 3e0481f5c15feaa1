// The routes NetPulse serves, registered into a Router by the composition root.
#pragma once

#include <functional>
#include <string>

#include <netpulse/api/router.hpp>
#include <netpulse/auth/auth_service.hpp>
#include <netpulse/core/clock.hpp>
#include <netpulse/core/metrics.hpp>
#include <netpulse/db/database.hpp>

namespace netpulse::api {

struct RouteDeps {
  auth::AuthService& auth;
  db::Database& db;
  core::MetricsRegistry& metrics;
  const core::Clock& clock;
  std::string version;
  // True once start-up has finished and while not shutting down (for /ready).
  std::function<bool()> ready;
};

// Health (/alive, /ready, /health), /metrics, the OpenAPI document, auth, users, organizations,
// API keys and the audit log. `router` must outlive the server: /api/v1/openapi.json reads it.
void register_routes(Router& router, const RouteDeps& deps);

}  // namespace netpulse::api

// The route files' shared parts: every register_* function (called from one list in routes.cpp),
// make_route (the one way a route is built), and the JSON shapes of auth records.
#pragma once

#include <charconv>
#include <optional>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include <netpulse/api/routes.hpp>
#include <netpulse/auth/types.hpp>

namespace netpulse::api::detail {

// --- registration, by area; routes.cpp calls each once, in the order the table lists them -------

// /alive, /ready, /health, /metrics and the OpenAPI document (routes_system.cpp).
// GET /api/v1/overview (needs the inventory and the alert engine).
void register_overview_routes(Router& router, const RouteDeps& deps);
// POST /api/v1/devices/bulk (routes_devices_bulk.cpp).
void register_device_bulk_routes(Router& router, const RouteDeps& deps);
// GET /api/v1/topology: the devices as the map's nodes (routes_topology.cpp).
void register_topology_routes(Router& router, const RouteDeps& deps);
void register_system_routes(Router& router, const RouteDeps& deps);
// Login, refresh, logout, the caller's profile and password (routes_auth.cpp).
void register_auth_routes(Router& router, const RouteDeps& deps);
// Administration (routes_admin.cpp): the users of the caller's organization; organizations
// (system admins; the caller's own for everyone); API keys; the audit log.
void register_user_routes(Router& router, const RouteDeps& deps);
void register_organization_routes(Router& router, const RouteDeps& deps);
void register_api_key_routes(Router& router, const RouteDeps& deps);
void register_audit_routes(Router& router, const RouteDeps& deps);
// Metric ingest: line protocol, JSON, CSV, KPIs (routes_ingest.cpp). Needs deps.tsdb and
// deps.workers.
void register_ingest_routes(Router& router, const RouteDeps& deps);
// Range and instant queries, the dashboard call (routes_query.cpp). Needs deps.tsdb and
// deps.workers.
void register_query_routes(Router& router, const RouteDeps& deps);
// POST /api/v1/query_batch: many range queries in one request (routes_query_batch.cpp), so a
// dashboard of many panels costs its viewer one request of their rate limit. Needs deps.tsdb and
// deps.workers.
void register_query_batch_routes(Router& router, const RouteDeps& deps);
// Dashboards CRUD (routes_dashboards.cpp). Needs deps.dashboards.
void register_dashboard_routes(Router& router, const RouteDeps& deps);
// GET and PATCH /api/v1/settings (routes_settings.cpp). Needs deps.settings.
void register_settings_routes(Router& router, const RouteDeps& deps);
// Series usage, series, label names and values, metric metadata (routes_series.cpp). Needs
// deps.tsdb.
void register_series_routes(Router& router, const RouteDeps& deps);
// A device's TCP / HTTP / DNS checks (routes_checks.cpp). Needs deps.inventory.
void register_service_check_routes(Router& router, const RouteDeps& deps);
// Devices CRUD, CSV import and export (routes_devices.cpp). Needs deps.inventory.
void register_device_routes(Router& router, const RouteDeps& deps);
// Poll now, interfaces, discovery, poller figures (routes_polling.cpp). Needs deps.inventory and
// deps.poller.
void register_polling_routes(Router& router, const RouteDeps& deps);
// Custom SNMP objects (routes_custom_oids.cpp). Needs deps.inventory.
void register_custom_oid_routes(Router& router, const RouteDeps& deps);
// The device event log (routes_events.cpp). Needs deps.inventory.
void register_event_routes(Router& router, const RouteDeps& deps);
// Device groups (routes_groups.cpp). Needs deps.inventory.
void register_group_routes(Router& router, const RouteDeps& deps);
// routes_alert_rules.cpp: alert rules CRUD and backtest.
void register_alert_rule_routes(Router& router, const RouteDeps& deps);
// routes_alerts.cpp: alerts (list, one, acknowledge, resolve, comments) and incidents.
void register_alert_routes(Router& router, const RouteDeps& deps);
// routes_silences.cpp: silences and maintenance windows.
void register_silence_routes(Router& router, const RouteDeps& deps);
// routes_notify.cpp: notification channels, policies, the delivery log. Needs deps.notifier.
void register_notify_routes(Router& router, const RouteDeps& deps);
// routes_notify_people.cpp: on-call schedules, users' contact methods, the in-app inbox. Needs
// deps.notifier.
void register_notify_people_routes(Router& router, const RouteDeps& deps);
// routes_ack.cpp: the acknowledgement link of a message (public). Needs deps.notifier and
// deps.alerts.
void register_ack_routes(Router& router, const RouteDeps& deps);

// --- building a route ----------------------------------------------------------------------------

// Whether a route takes a JSON object body (checked by the pipeline before the handler runs).
enum class Body { kNone, kJson };

// A route with its documentation; POST routes document 201 and DELETE routes 204. The one way a
// route is built: make_route, then any other fact set on the result (doc.query, a schema,
// rate_limited, audited, another success status), then router.add.
inline Route make_route(http::verb method, std::string pattern,
                        std::optional<auth::Permission> perm, std::string summary, std::string tag,
                        Handler handler, Body body = Body::kNone) {
  Route r;
  r.method = method;
  r.pattern = std::move(pattern);
  r.permission = perm;
  r.doc.summary = std::move(summary);
  r.doc.tag = std::move(tag);
  r.handler = std::move(handler);
  r.json_body = body == Body::kJson;
  if (method == http::verb::post) r.doc.success_status = 201;
  if (method == http::verb::delete_) r.doc.success_status = 204;
  return r;
}

// The documentation of the page and per_page query parameters of a list.
inline std::vector<QueryParamDoc> page_query() {
  return {{"page", "Page number, from 1.", "integer"},
          {"per_page", "Items per page, 1 to 500 (default 50).", "integer"}};
}

// --- JSON shapes ---------------------------------------------------------------------------------

// A service check's state as the API shows it.
boost::json::object service_check_status_json(const pollers::ServiceCheckStatus& s);

boost::json::object to_json(const auth::User& u);
boost::json::object to_json(const auth::Organization& o);
boost::json::object to_json(const auth::ApiKey& k);
boost::json::object to_json(const auth::AuditEntry& a);

// JSON for optional values: the number / the RFC 3339 time, or null.
inline boost::json::value opt(const std::optional<std::int64_t>& v) {
  return v ? boost::json::value(*v) : boost::json::value(nullptr);
}
inline boost::json::value opt(const std::optional<double>& v) {
  return v ? boost::json::value(*v) : boost::json::value(nullptr);
}
inline boost::json::value opt_time(const std::optional<std::int64_t>& v) {
  return v ? boost::json::value(core::format_rfc3339_seconds(*v)) : boost::json::value(nullptr);
}

// An integer query parameter, absent or INVALID_INPUT naming it.
inline core::Result<std::optional<std::int64_t>> int_query(const ContextPtr& ctx,
                                                           std::string_view name) {
  auto v = ctx->query(name);
  if (!v) return std::optional<std::int64_t>();
  std::int64_t n = 0;
  auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (v->empty() || ec != std::errc() || p != v->data() + v->size()) {
    return core::invalid_field(name, "must be an integer");
  }
  return std::optional<std::int64_t>(n);
}

}  // namespace netpulse::api::detail

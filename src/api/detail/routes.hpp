// Route registration by area, and the JSON shapes of auth records shared by the route files.
#pragma once

#include <charconv>
#include <optional>
#include <string_view>

#include <boost/json/object.hpp>

#include <netpulse/api/routes.hpp>
#include <netpulse/auth/types.hpp>

namespace netpulse::api::detail {

void register_system_routes(Router& router, const RouteDeps& deps);
void register_auth_routes(Router& router, const RouteDeps& deps);
// Users, organizations, API keys, audit log.
void register_admin_routes(Router& router, const RouteDeps& deps);
// Metric ingest and queries (when deps.tsdb is set).
void register_metric_routes(Router& router, const RouteDeps& deps);
// Devices, CSV import/export and device groups (when deps.inventory is set).
void register_device_routes(Router& router, const RouteDeps& deps);
// A device's TCP / HTTP / DNS checks (part of the device routes).
void register_service_check_routes(Router& router, const RouteDeps& deps);
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

// A route with its documentation; POST routes document 201 and DELETE routes 204.
inline Route make_route(http::verb method, std::string pattern,
                        std::optional<auth::Permission> perm, std::string summary, std::string tag,
                        Handler handler, bool json_body = false) {
  Route r;
  r.method = method;
  r.pattern = std::move(pattern);
  r.permission = perm;
  r.doc.summary = std::move(summary);
  r.doc.tag = std::move(tag);
  r.handler = std::move(handler);
  r.json_body = json_body;
  if (method == http::verb::post) r.doc.success_status = 201;
  if (method == http::verb::delete_) r.doc.success_status = 204;
  return r;
}

// Reply with `r`'s value converted by to_json, or its error.
template <class T>
void reply_result(const ContextPtr& ctx, const core::Result<T>& r,
                  http::status status = http::status::ok) {
  if (!r) return ctx->reply_error(r.error());
  ctx->reply_data(to_json(*r), status);
}

}  // namespace netpulse::api::detail

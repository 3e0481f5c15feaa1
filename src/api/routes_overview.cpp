// GET /api/v1/overview: what the web UI's overview shows, in one request (the UI must not spend
// its user's rate limit on one page): devices by status, open alerts by severity, the newest
// open alerts and the latest events.
#include <array>

#include "detail/alert_json.hpp"
#include "detail/device_json.hpp"
#include "detail/handler.hpp"

namespace netpulse::api::detail {

namespace {

constexpr std::array kStatuses = {
    devices::DeviceStatus::kUp, devices::DeviceStatus::kDown, devices::DeviceStatus::kUnreachable,
    devices::DeviceStatus::kMaintenance, devices::DeviceStatus::kUnknown};
constexpr std::array kSeverities = {alerts::Severity::kCritical, alerts::Severity::kWarning,
                                    alerts::Severity::kInfo};

void overview(devices::Inventory& inv, alerts::AlertEngine& engine, const ContextPtr& ctx) {
  const auto scope = ctx->org_scope();
  const core::Page one{1, 1};
  boost::json::object devices;
  std::int64_t total = 0;
  for (auto status : kStatuses) {
    devices::DeviceFilter f;
    f.status = status;
    auto page = inv.list(scope, f, devices::DeviceSort{}, one);
    if (!page) return ctx->reply_error(page.error());
    devices[devices::device_status_name(status)] = page->total;
    total += page->total;
  }
  devices["total"] = total;

  boost::json::object counts;
  for (auto severity : kSeverities) {
    alerts::AlertFilter f;
    f.open_only = true;
    f.severities = {severity};
    auto page = engine.list_alerts(scope, f, one);
    if (!page) return ctx->reply_error(page.error());
    counts[alerts::severity_name(severity)] = page->total;
  }
  alerts::AlertFilter open;
  open.open_only = true;
  auto newest = engine.list_alerts(scope, open, core::Page{1, 10});
  if (!newest) return ctx->reply_error(newest.error());
  boost::json::array open_alerts;
  for (const auto& a : newest->items) open_alerts.push_back(alert_json(a));

  auto events = inv.list_events(scope, devices::EventFilter{}, core::Page{1, 10});
  if (!events) return ctx->reply_error(events.error());
  boost::json::array recent;
  for (const auto& e : events->items) recent.push_back(event_json(e));

  ctx->reply_data({{"devices", std::move(devices)},
                   {"alerts", std::move(counts)},
                   {"open_alerts", std::move(open_alerts)},
                   {"open_alerts_total", newest->total},
                   {"events", std::move(recent)}});
}

}  // namespace

void register_overview_routes(Router& router, const RouteDeps& deps) {
  router.add(make_route(
      http::verb::get, "/api/v1/overview", auth::Permission::kAlertsRead,
      "The overview in one answer: devices by status (and total), open alerts by severity, the "
      "10 newest open alerts (open_alerts_total in all) and the 10 latest events.",
      "overview", [inv = deps.inventory, engine = deps.alerts](ContextPtr ctx) {
        if (!ctx->principal().can(auth::Permission::kDevicesRead)) {
          return ctx->reply_error(core::Error(core::Errc::kInsufficientPermissions,
                                              "the overview needs devices:read as well"));
        }
        overview(*inv, *engine, ctx);
      }));
}

}  // namespace netpulse::api::detail

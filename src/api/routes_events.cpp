// Device event log routes: the organization's log and one device's, newest first, in pages,
// filtered by kind, severity and time. The pollers and the inventory write the events (status
// changes, reboots, interface changes, traps); these routes only read them.
#include <boost/json/parse.hpp>

#include "detail/device_json.hpp"
#include "detail/handler.hpp"

namespace netpulse::api::detail {

namespace {

using auth::Permission;

// Answers a page of the event log for `filter` (plus the query's kind/severity/since/until).
void reply_events(const ContextPtr& ctx, devices::Inventory& inv, devices::EventFilter filter) {
  auto page = page_param(ctx);
  if (!page) return;
  if (auto q = ctx->query("kind")) filter.kind = *q;
  if (auto q = ctx->query("severity")) {
    filter.severity = devices::parse_event_severity(*q);
    if (!filter.severity) {
      return ctx->reply_error(core::invalid_field("severity", "must be info, warning or critical"));
    }
  }
  auto since = int_query(ctx, "since");
  if (!since) return ctx->reply_error(since.error());
  auto until = int_query(ctx, "until");
  if (!until) return ctx->reply_error(until.error());
  filter.since = *since;
  filter.until = *until;
  reply_page(ctx, inv.list_events(ctx->org_scope(), filter, *page), *page, event_json);
}

std::vector<QueryParamDoc> event_query() {
  auto query = page_query();
  query.insert(query.end(), {{"kind", "status, reboot, interface, trap, ..."},
                             {"severity", "info, warning or critical."},
                             {"since", "From this Unix time (inclusive).", "integer"},
                             {"until", "Before this Unix time.", "integer"}});
  return query;
}

}  // namespace

void register_event_routes(Router& router, const RouteDeps& deps) {
  auto& inv = *deps.inventory;
  using http::verb;

  auto events = make_route(verb::get, "/api/v1/events", Permission::kDevicesRead,
                           "The device event log, newest first (status changes, reboots, interface "
                           "changes, traps).",
                           "devices", [&inv](ContextPtr ctx) {
                             devices::EventFilter f;
                             auto device = int_query(ctx, "device_id");
                             if (!device) return ctx->reply_error(device.error());
                             f.device_id = *device;
                             reply_events(ctx, inv, f);
                           });
  events.doc.query = event_query();
  events.doc.query.push_back({"device_id", "Only this device's events.", "integer"});
  router.add(std::move(events));

  auto device_events =
      make_route(verb::get, "/api/v1/devices/{id}/events", Permission::kDevicesRead,
                 "One device's event log, newest first.", "devices", [&inv](ContextPtr ctx) {
                   auto id = path_id(ctx);
                   if (!id) return;
                   if (auto d = inv.get(ctx->org_scope(), *id); !d) {
                     return ctx->reply_error(d.error());
                   }
                   devices::EventFilter f;
                   f.device_id = *id;
                   reply_events(ctx, inv, f);
                 });
  device_events.doc.query = event_query();
  router.add(std::move(device_events));
}

}  // namespace netpulse::api::detail

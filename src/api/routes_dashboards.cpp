// Dashboards: the operators' grids of panels, saved per organization (src/dashboards/,
// docs/dashboards.md). Everyone who reads metrics reads them; operators and admins make them. A
// save names the version it started from and is refused (409) over a newer one.
#include <netpulse/core/clock.hpp>

#include "detail/handler.hpp"

namespace netpulse::api::detail {

namespace {

using auth::Permission;

boost::json::object summary_json(const dashboards::Dashboard& d) {
  return {{"id", d.id},
          {"name", d.name},
          {"description", d.description},
          {"time_range", d.time_range},
          {"is_default", d.is_default},
          {"version", d.version},
          {"panel_count", d.panels.size()},
          {"updated_by", d.updated_by},
          {"updated_at", core::format_rfc3339_seconds(d.updated_at / 1000)}};
}

boost::json::object dashboard_json(const dashboards::Dashboard& d) {
  auto o = summary_json(d);
  o.erase("panel_count");
  o["panels"] = d.panels;
  o["created_by"] = d.created_by;
  o["created_at"] = core::format_rfc3339_seconds(d.created_at / 1000);
  return o;
}

}  // namespace

void register_dashboard_routes(Router& router, const RouteDeps& deps) {
  auto& store = *deps.dashboards;
  using http::verb;

  router.add(make_route(verb::get, "/api/v1/dashboards", Permission::kDashboardsRead,
                        "The organization's dashboards (without their panels), the default first; "
                        "the first listing gives a new organization the default dashboard.",
                        "dashboards", [&store](ContextPtr ctx) {
                          store.list(ctx->org_scope(),
                                     [ctx](core::Result<std::vector<dashboards::Dashboard>> r) {
                                       if (!r) return ctx->reply_error(r.error());
                                       boost::json::array out;
                                       for (const auto& d : *r) out.push_back(summary_json(d));
                                       ctx->reply_data(std::move(out));
                                     });
                        }));

  router.add(make_route(verb::get, "/api/v1/dashboards/{id}", Permission::kDashboardsRead,
                        "One dashboard with its panels.", "dashboards", [&store](ContextPtr ctx) {
                          auto id = path_id(ctx);
                          if (!id) return;
                          reply_result(ctx, store.get(ctx->org_scope(), *id), http::status::ok,
                                       dashboard_json);
                        }));

  router.add(make_route(
      verb::post, "/api/v1/dashboards", Permission::kDashboardsWrite,
      "Create a dashboard: name, description, time_range and panels (docs/dashboards.md).",
      "dashboards",
      [&store](ContextPtr ctx) {
        auto input = dashboards::parse_dashboard(ctx->body());
        if (!input) return ctx->reply_error(input.error());
        store.create(ctx->org_scope(), std::move(*input), ctx->principal().actor,
                     answer_created(ctx, "dashboards", dashboard_json));
      },
      Body::kJson));

  router.add(make_route(
      verb::put, "/api/v1/dashboards/{id}", Permission::kDashboardsWrite,
      "Replace a dashboard. With `version` (the one the editor loaded), a save over a newer one "
      "is refused with 409.",
      "dashboards",
      [&store](ContextPtr ctx) {
        auto id = target_id(ctx, "dashboards");
        if (!id) return;
        auto input = dashboards::parse_dashboard(ctx->body());
        if (!input) return ctx->reply_error(input.error());
        store.replace(ctx->org_scope(), *id, std::move(*input), ctx->principal().actor,
                      answer_json(ctx, dashboard_json));
      },
      Body::kJson));

  router.add(make_route(verb::delete_, "/api/v1/dashboards/{id}", Permission::kDashboardsWrite,
                        "Delete a dashboard.", "dashboards", [&store](ContextPtr ctx) {
                          auto id = target_id(ctx, "dashboards");
                          if (!id) return;
                          store.remove(ctx->org_scope(), *id, ctx->principal().actor,
                                       answer_no_content(ctx));
                        }));
}

}  // namespace netpulse::api::detail

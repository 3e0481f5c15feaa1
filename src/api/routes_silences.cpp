// Silence and maintenance window routes. A silence mutes the alerts it matches for a time; a
// maintenance window mutes a scope of devices on a schedule (docs/alerts.md). Muted alerts are
// still raised, recorded and shown, marked silenced. Operators create and delete; everyone who
// reads alerts reads these.
#include <netpulse/alerts/maintenance.hpp>
#include <netpulse/alerts/silence.hpp>

#include "detail/handler.hpp"

namespace netpulse::api::detail {

namespace {

using auth::Permission;

// The fields a GET shows that a client may send back; the server sets them.
boost::json::object without_read_only(boost::json::object body) {
  for (auto field : {"id", "created_by", "created_by_name", "created_at", "active", "next"}) {
    body.erase(field);
  }
  return body;
}

boost::json::object window_json(const alerts::MaintenanceWindow& w, std::int64_t now_s) {
  auto o = alerts::maintenance_to_json(w);
  auto active = alerts::active_occurrence(w, now_s);
  auto next = alerts::next_occurrence(w, now_s);
  auto occurrence = [](const std::optional<alerts::Occurrence>& x) -> boost::json::value {
    if (!x) return nullptr;
    return boost::json::object{{"starts_at", core::format_rfc3339_seconds(x->starts_at)},
                               {"ends_at", core::format_rfc3339_seconds(x->ends_at)}};
  };
  o["active"] = occurrence(active);
  o["next"] = occurrence(next);
  return o;
}

}  // namespace

void register_silence_routes(Router& router, const RouteDeps& deps) {
  auto& engine = *deps.alerts;
  const auto& clock = deps.clock;
  using http::verb;

  auto list = make_route(verb::get, "/api/v1/silences", Permission::kAlertsRead,
                         "List silences (?expired=true: also those that ended).", "alerts",
                         [&engine](ContextPtr ctx) {
                           const bool expired = ctx->query("expired").value_or("") == "true";
                           boost::json::array out;
                           for (auto& s : engine.list_silences(ctx->org_scope(), expired)) {
                             out.push_back(alerts::silence_to_json(s));
                           }
                           ctx->reply_data(std::move(out));
                         });
  list.doc.query = {{"expired", "true: also silences that ended.", "boolean"}};
  router.add(std::move(list));

  router.add(make_route(
      verb::post, "/api/v1/silences", Permission::kAlertsWrite,
      "Create a silence: matchers, devices, groups, tags and rules, a start, an end, a reason.",
      "alerts",
      [&engine, &clock](ContextPtr ctx) {
        auto s = alerts::silence_from_json(without_read_only(ctx->body()));
        if (!s) return ctx->reply_error(s.error());
        s->org_id = ctx->org_scope().org_id();
        s->created_by = ctx->principal().user_id;
        s->created_by_name = ctx->principal().actor;
        s->created_at = clock.unix_seconds();
        engine.create_silence(ctx->org_scope(), std::move(*s),
                              answer_created(ctx, "silences", [](const alerts::Silence& x) {
                                return alerts::silence_to_json(x);
                              }));
      },
      Body::kJson));

  router.add(make_route(verb::delete_, "/api/v1/silences/{id}", Permission::kAlertsWrite,
                        "Delete (end) a silence; the alerts it muted are shown unmuted.", "alerts",
                        [&engine](ContextPtr ctx) {
                          auto id = target_id(ctx, "silences");
                          if (!id) return;
                          engine.remove_silence(ctx->org_scope(), *id, answer_no_content(ctx));
                        }));

  router.add(make_route(verb::get, "/api/v1/maintenance-windows", Permission::kAlertsRead,
                        "List maintenance windows, each with its active and next occurrence.",
                        "alerts", [&engine, &clock](ContextPtr ctx) {
                          boost::json::array out;
                          const auto now = clock.unix_seconds();
                          for (auto& w : engine.list_maintenance(ctx->org_scope())) {
                            out.push_back(window_json(w, now));
                          }
                          ctx->reply_data(std::move(out));
                        }));

  router.add(make_route(verb::get, "/api/v1/maintenance-windows/{id}", Permission::kAlertsRead,
                        "One maintenance window.", "alerts", [&engine, &clock](ContextPtr ctx) {
                          auto id = path_id(ctx);
                          if (!id) return;
                          const auto now = clock.unix_seconds();
                          reply_result(ctx, engine.get_maintenance(ctx->org_scope(), *id),
                                       http::status::ok, [now](const alerts::MaintenanceWindow& w) {
                                         return window_json(w, now);
                                       });
                        }));

  auto body_window = [&clock](const ContextPtr& ctx) {
    auto w = alerts::maintenance_from_json(without_read_only(ctx->body()));
    if (w) {
      w->org_id = ctx->org_scope().org_id();
      w->created_by = ctx->principal().user_id;
      w->created_at = clock.unix_seconds();
    }
    return w;
  };

  router.add(make_route(
      verb::post, "/api/v1/maintenance-windows", Permission::kAlertsWrite,
      "Create a maintenance window: one-off, weekly, monthly or cron, in a time zone.", "alerts",
      [&engine, &clock, body_window](ContextPtr ctx) {
        auto w = body_window(ctx);
        if (!w) return ctx->reply_error(w.error());
        const auto now = clock.unix_seconds();
        engine.create_maintenance(
            ctx->org_scope(), std::move(*w),
            answer_created(ctx, "maintenance-windows", [now](const alerts::MaintenanceWindow& x) {
              return window_json(x, now);
            }));
      },
      Body::kJson));

  router.add(make_route(
      verb::put, "/api/v1/maintenance-windows/{id}", Permission::kAlertsWrite,
      "Replace a maintenance window.", "alerts",
      [&engine, &clock, body_window](ContextPtr ctx) {
        auto id = target_id(ctx, "maintenance-windows");
        if (!id) return;
        auto w = body_window(ctx);
        if (!w) return ctx->reply_error(w.error());
        const auto now = clock.unix_seconds();
        engine.replace_maintenance(ctx->org_scope(), *id, std::move(*w),
                                   answer_json(ctx, [now](const alerts::MaintenanceWindow& x) {
                                     return window_json(x, now);
                                   }));
      },
      Body::kJson));

  router.add(make_route(verb::delete_, "/api/v1/maintenance-windows/{id}", Permission::kAlertsWrite,
                        "Delete a maintenance window.", "alerts", [&engine](ContextPtr ctx) {
                          auto id = target_id(ctx, "maintenance-windows");
                          if (!id) return;
                          engine.remove_maintenance(ctx->org_scope(), *id, answer_no_content(ctx));
                        }));
}

}  // namespace netpulse::api::detail

// Alert and incident routes: the alerts console's list with filters, one alert with its history
// and comments, acknowledge / resolve / comment, and the incidents (a root alert with its
// symptoms and impact). Viewers and API users read; operators act.
#include "detail/alert_json.hpp"
#include "detail/handler.hpp"
#include "detail/json_fields.hpp"

namespace netpulse::api::detail {

namespace {

using auth::Permission;

alerts::Actor actor_of(const ContextPtr& ctx) {
  const auto& p = ctx->principal();
  alerts::Actor a;
  if (p.user_id != 0) a.user_id = p.user_id;
  a.name = p.actor;
  return a;
}

// A comma-separated list of names, each parsed by `parse`; INVALID_INPUT naming `field`.
template <class T, class Parse>
core::Result<std::vector<T>> name_list(const ContextPtr& ctx, std::string_view field, Parse parse,
                                       std::string_view expected) {
  std::vector<T> out;
  auto q = ctx->query(field);
  if (!q) return out;
  std::string_view rest = *q;
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    const auto item = rest.substr(0, comma);
    auto v = parse(item);
    if (!v || item.empty()) return core::invalid_field(field, fmt::format("must be {}", expected));
    out.push_back(*v);
    if (comma == std::string_view::npos) break;
    rest = rest.substr(comma + 1);
    if (rest.empty()) return core::invalid_field(field, fmt::format("must be {}", expected));
  }
  return out;
}

core::Result<alerts::AlertFilter> alert_filter(const ContextPtr& ctx) {
  alerts::AlertFilter f;
  auto statuses =
      name_list<alerts::AlertStatus>(ctx, "status", alerts::parse_alert_status,
                                     "pending, firing, acknowledged or resolved (comma-separated)");
  if (!statuses) return statuses.error();
  f.statuses = std::move(*statuses);
  auto severities = name_list<alerts::Severity>(ctx, "severity", alerts::parse_severity,
                                                "info, warning or critical (comma-separated)");
  if (!severities) return severities.error();
  f.severities = std::move(*severities);
  for (auto [name, target] :
       {std::pair{"device", &f.device_id}, std::pair{"group", &f.group_id},
        std::pair{"rule", &f.rule_id}, std::pair{"incident", &f.incident_id}}) {
    auto v = int_query(ctx, name);
    if (!v) return v.error();
    *target = *v;
  }
  auto since = int_query(ctx, "since");
  if (!since) return since.error();
  if (*since) f.since = **since * 1000;
  if (auto tag = ctx->query("tag")) f.tag = *tag;
  if (auto open = ctx->query("open")) {
    if (*open != "true" && *open != "false") {
      return core::invalid_field("open", "must be true or false");
    }
    f.open_only = *open == "true";
  }
  return f;
}

std::vector<QueryParamDoc> alert_query() {
  auto q = page_query();
  q.insert(q.end(), {{"status", "pending, firing, acknowledged, resolved (comma-separated)."},
                     {"severity", "info, warning, critical (comma-separated)."},
                     {"device", "A device id.", "integer"},
                     {"group", "A device group id.", "integer"},
                     {"tag", "A device tag."},
                     {"rule", "A rule id.", "integer"},
                     {"incident", "An incident id.", "integer"},
                     {"since", "Started at or after this Unix time (seconds).", "integer"},
                     {"open", "true: open alerts only.", "boolean"}});
  return q;
}

// The optional text field of an action's body (note, reason), at most 4 KiB.
core::Result<std::string> text_field(const ContextPtr& ctx, std::string_view name, bool required) {
  Fields f(ctx->body());
  if (auto r = f.only({name}); !r) return r.error();
  if (required) return f.required_string(name, 4096);
  auto v = f.optional_string(name, 4096);
  if (!v) return v.error();
  return v->value_or("");
}

}  // namespace

void register_alert_routes(Router& router, const RouteDeps& deps) {
  auto& engine = *deps.alerts;
  using http::verb;

  auto list = make_route(verb::get, "/api/v1/alerts", Permission::kAlertsRead,
                         "List alerts: open ones first (newest first), then resolved ones.",
                         "alerts", [&engine](ContextPtr ctx) {
                           auto page = page_param(ctx);
                           if (!page) return;
                           auto f = alert_filter(ctx);
                           if (!f) return ctx->reply_error(f.error());
                           reply_page(ctx, engine.list_alerts(ctx->org_scope(), *f, *page), *page,
                                      alert_json);
                         });
  list.doc.query = alert_query();
  router.add(std::move(list));

  router.add(make_route(verb::get, "/api/v1/alerts/{id}", Permission::kAlertsRead,
                        "One alert with its history and comments.", "alerts",
                        [&engine](ContextPtr ctx) {
                          auto id = path_id(ctx);
                          if (!id) return;
                          reply_result(ctx, engine.get_alert(ctx->org_scope(), *id),
                                       http::status::ok, alert_detail_json);
                        }));

  auto ack = make_route(
      verb::post, "/api/v1/alerts/{id}/acknowledge", Permission::kAlertsWrite,
      "Acknowledge a firing alert ({\"note\"} optional): escalation stops.", "alerts",
      [&engine](ContextPtr ctx) {
        auto id = target_id(ctx, "alerts");
        if (!id) return;
        auto note = text_field(ctx, "note", false);
        if (!note) return ctx->reply_error(note.error());
        engine.acknowledge(ctx->org_scope(), *id, actor_of(ctx), std::move(*note),
                           answer_json(ctx, alert_json));
      },
      Body::kJson);
  ack.doc.success_status = 200;
  router.add(std::move(ack));

  auto resolve = make_route(
      verb::post, "/api/v1/alerts/{id}/resolve", Permission::kAlertsWrite,
      "Resolve an alert by hand ({\"reason\"} optional).", "alerts",
      [&engine](ContextPtr ctx) {
        auto id = target_id(ctx, "alerts");
        if (!id) return;
        auto reason = text_field(ctx, "reason", false);
        if (!reason) return ctx->reply_error(reason.error());
        engine.resolve(ctx->org_scope(), *id, actor_of(ctx), std::move(*reason),
                       answer_json(ctx, alert_json));
      },
      Body::kJson);
  resolve.doc.success_status = 200;
  router.add(std::move(resolve));

  router.add(make_route(
      verb::post, "/api/v1/alerts/{id}/comments", Permission::kAlertsWrite,
      "Comment on an alert ({\"text\"}).", "alerts",
      [&engine](ContextPtr ctx) {
        auto id = target_id(ctx, "alerts");
        if (!id) return;
        auto text = text_field(ctx, "text", true);
        if (!text) return ctx->reply_error(text.error());
        // The audit target stays "alerts/<id>" (target_id): the comment is the alert's.
        engine.comment(ctx->org_scope(), *id, actor_of(ctx), std::move(*text),
                       [ctx](const core::Result<alerts::AlertComment>& r) {
                         if (!r) return ctx->reply_error(r.error());
                         ctx->reply_data(comment_json(*r), http::status::created);
                       });
      },
      Body::kJson));

  auto incidents = make_route(
      verb::get, "/api/v1/incidents", Permission::kAlertsRead,
      "List incidents, newest first (?open=true: open ones only).", "alerts",
      [&engine](ContextPtr ctx) {
        auto page = page_param(ctx);
        if (!page) return;
        const bool open = ctx->query("open").value_or("") == "true";
        reply_page(ctx, engine.list_incidents(ctx->org_scope(), open, *page), *page, incident_json);
      });
  incidents.doc.query = page_query();
  incidents.doc.query.push_back({"open", "true: open incidents only.", "boolean"});
  router.add(std::move(incidents));

  router.add(make_route(verb::get, "/api/v1/incidents/{id}", Permission::kAlertsRead,
                        "One incident: its root alert, its symptoms and its impact.", "alerts",
                        [&engine](ContextPtr ctx) {
                          auto id = path_id(ctx);
                          if (!id) return;
                          reply_result(ctx, engine.get_incident(ctx->org_scope(), *id),
                                       http::status::ok, incident_detail_json);
                        }));
}

}  // namespace netpulse::api::detail

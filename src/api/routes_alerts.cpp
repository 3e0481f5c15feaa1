// Alert and incident routes: the alerts console's list with filters, one alert with its history
// and comments, acknowledge / resolve / comment, and the incidents (a root alert with its
// symptoms and impact). Viewers and API users read; operators act.
#include <algorithm>
#include <memory>
#include <type_traits>

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

// POST /api/v1/alerts/bulk: one action on up to 500 alerts, each as its own route would do it;
// answers once every one is done, with each alert's outcome.
void bulk_action(alerts::AlertEngine& engine, const ContextPtr& ctx) {
  Fields f(ctx->body());
  if (auto r = f.only({"action", "ids", "text"}); !r) return ctx->reply_error(r.error());
  auto action = f.required_string("action", 16);
  if (!action) return ctx->reply_error(action.error());
  if (*action != "acknowledge" && *action != "resolve" && *action != "comment") {
    return ctx->reply_error(
        core::invalid_field("action", "must be acknowledge, resolve or comment"));
  }
  auto text = f.optional_string("text", 4096);
  if (!text) return ctx->reply_error(text.error());
  if (*action == "comment" && (!*text || (*text)->empty())) {
    return ctx->reply_error(core::invalid_field("text", "a comment needs its text"));
  }
  const auto* ids = ctx->body().if_contains("ids");
  if (!ids || !ids->is_array() || ids->get_array().empty() || ids->get_array().size() > 500) {
    return ctx->reply_error(core::invalid_field("ids", "must be an array of 1 to 500 alert ids"));
  }
  std::vector<std::int64_t> list;
  for (const auto& v : ids->get_array()) {
    if (!v.is_int64() || v.get_int64() <= 0) {
      return ctx->reply_error(core::invalid_field("ids", "must hold positive integers"));
    }
    if (std::find(list.begin(), list.end(), v.get_int64()) == list.end()) {
      list.push_back(v.get_int64());
    }
  }
  ctx->set_audit_target("alerts/bulk");
  struct Pending {
    boost::json::array results;
    std::size_t left = 0;
    std::int64_t failed = 0;
  };
  auto pending = std::make_shared<Pending>();
  pending->left = list.size();
  pending->results.resize(list.size());
  for (std::size_t i = 0; i < list.size(); ++i) {
    auto done = [ctx, pending, i, id = list[i]](const auto& r) {
      boost::json::object out{{"id", id}, {"ok", static_cast<bool>(r)}};
      if (r) {
        if constexpr (std::is_same_v<std::decay_t<decltype(*r)>, alerts::Alert>) {
          out["alert"] = alert_json(*r);
        }
      } else {
        ++pending->failed;
        out["error"] = {{"code", core::errc_name(r.error().code)}, {"message", r.error().message}};
      }
      pending->results[i] = std::move(out);
      if (--pending->left > 0) return;
      const auto total = static_cast<std::int64_t>(pending->results.size());
      ctx->reply_data({{"results", std::move(pending->results)},
                       {"succeeded", total - pending->failed},
                       {"failed", pending->failed}});
    };
    const auto note = text->value_or("");
    if (*action == "acknowledge") {
      engine.acknowledge(ctx->org_scope(), list[i], actor_of(ctx), note, done);
    } else if (*action == "resolve") {
      engine.resolve(ctx->org_scope(), list[i], actor_of(ctx), note, done);
    } else {
      engine.comment(ctx->org_scope(), list[i], actor_of(ctx), note, done);
    }
  }
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

  auto bulk = make_route(
      verb::post, "/api/v1/alerts/bulk", Permission::kAlertsWrite,
      "One action on up to 500 alerts: {\"action\": \"acknowledge\" | \"resolve\" | "
      "\"comment\", \"ids\": [...], \"text\": note, reason or comment}. Each alert is "
      "handled as its own route would; the answer lists each one's outcome.",
      "alerts", [&engine](ContextPtr ctx) { bulk_action(engine, ctx); }, Body::kJson);
  bulk.doc.success_status = 200;
  router.add(std::move(bulk));

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

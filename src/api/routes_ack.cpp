// The acknowledgement link of a message (docs/notify.md, "Acknowledgement links"):
// GET /api/v1/ack/{token} shows what the link acknowledges and as whom, with a button; POST to
// the same URL uses the link up and acknowledges its alerts. No login: the token's signature is
// the credential, for its own organization only. A GET changes nothing, so a mail client's link
// scanner that fetches the URL acknowledges nothing. Both answer a small HTML page (no script,
// no style: the server's CSP stays), or the JSON envelope to `Accept: application/json`. Both
// are public and under the per-IP rate limit, as login is.
#include <algorithm>
#include <memory>

#include <fmt/format.h>

#include <netpulse/core/json.hpp>

#include "detail/handler.hpp"

namespace netpulse::api::detail {

namespace {

namespace json = boost::json;

// The modules the two routes reach (the RouteDeps they come from does not outlive
// registration).
struct AckDeps {
  notify::Notifier* notifier = nullptr;
  alerts::AlertEngine* alerts = nullptr;
  auth::AuthService* auth = nullptr;
};

// One alert as the page lists it.
struct AckedAlert {
  std::int64_t id = 0;
  std::string title;   // "<rule> on <device>"; "alert <id>" when it cannot be read
  std::string status;  // the engine's status name; "unknown" when it cannot be read
  // POST only: "acknowledged", "already_acknowledged", "resolved", "not_found", "failed".
  std::string outcome;
  std::string acknowledged_by;
};

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

bool wants_json(const ContextPtr& ctx) {
  return ctx->request()[http::field::accept].find("application/json") != std::string_view::npos;
}

std::string page(std::string_view heading, std::string_view body) {
  return fmt::format(
      "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      "<title>NetPulse: {0}</title>\n</head>\n<body>\n<h1>{0}</h1>\n{1}</body>\n</html>\n",
      html_escape(heading), body);
}

void reply_html(const ContextPtr& ctx, http::status status, std::string html) {
  Response r;
  r.status = status;
  r.body = std::move(html);
  r.content_type = "text/html; charset=utf-8";
  ctx->reply(std::move(r));
}

// A link's refusal has the status of a link, not of a login: 404 for one that is not ours (no
// such link; a 401 would ask for credentials this route never takes), 410 Gone once expired,
// 409 once used; the error's code stays TOKEN_INVALID / TOKEN_EXPIRED / CONFLICT.
http::status refusal_status(core::Errc code) {
  switch (code) {
    case core::Errc::kTokenInvalid:
      return http::status::not_found;
    case core::Errc::kTokenExpired:
      return http::status::gone;
    default:
      return status_for(code);
  }
}

// A refusal, as a page or as the error envelope.
void reply_refusal(const ContextPtr& ctx, const core::Error& e) {
  if (wants_json(ctx)) {
    json::object envelope{
        {"success", false},
        {"error",
         {{"code", core::errc_name(e.code)}, {"message", e.message}, {"details", e.details}}},
        {"meta", ctx->meta()}};
    Response r;
    r.status = refusal_status(e.code);
    r.body = core::to_json_text(envelope);
    return ctx->reply(std::move(r));
  }
  std::string heading = "This link does not work";
  std::string text = "It is not a valid acknowledgement link. Acknowledge in NetPulse instead.";
  if (e.code == core::Errc::kTokenExpired) {
    heading = "This link has expired";
    text = "Acknowledgement links work for a limited time. Acknowledge in NetPulse instead.";
  } else if (e.code == core::Errc::kConflict) {
    heading = "This link has been used";
    text = "Each acknowledgement link works once, and this one already has.";
  } else if (e.code != core::Errc::kTokenInvalid) {
    text = e.message;
  }
  reply_html(ctx, refusal_status(e.code), page(heading, "<p>" + html_escape(text) + "</p>\n"));
}

// What the link acknowledges as: its user (by email, as the API's own acknowledgements), or
// its channel's name. A user removed or disabled since the message was sent cannot.
core::Result<alerts::Actor> actor_of(auth::AuthService& auth, const notify::AckLink& link) {
  alerts::Actor actor;
  if (!link.user_id) {
    actor.name = link.actor_name;
    return actor;
  }
  auto user = auth.get_user(core::OrgScope::trusted(link.org_id), *link.user_id);
  if (!user) return user.error();
  if (!user->active) {
    return core::Error(core::Errc::kInsufficientPermissions,
                       "the user this link was sent to is disabled");
  }
  actor.user_id = user->id;
  actor.name = user->email;
  return actor;
}

AckedAlert describe(alerts::AlertEngine& engine, core::OrgScope scope, std::int64_t id) {
  AckedAlert a;
  a.id = id;
  a.title = fmt::format("alert {}", id);
  a.status = "unknown";
  auto detail = engine.get_alert(scope, id);
  if (!detail) return a;
  const auto& alert = detail->alert;
  a.title = alert.rule_name + (alert.device_name.empty() ? "" : " on " + alert.device_name);
  a.status = std::string(alerts::alert_status_name(alert.status));
  a.acknowledged_by = alert.acknowledged_by_name;
  return a;
}

json::object alert_json_of(const AckedAlert& a) {
  json::object o{{"id", a.id}, {"title", a.title}, {"status", a.status}};
  if (!a.outcome.empty()) o["outcome"] = a.outcome;
  if (!a.acknowledged_by.empty()) o["acknowledged_by"] = a.acknowledged_by;
  return o;
}

std::string alert_items(const std::vector<AckedAlert>& list, bool outcomes) {
  std::string out = "<ul>\n";
  for (const auto& a : list) {
    std::string state = outcomes ? a.outcome : a.status;
    for (auto& c : state) c = c == '_' ? ' ' : c;
    if (!a.acknowledged_by.empty() && (state == "acknowledged" || state == "already acknowledged"))
      state += " by " + a.acknowledged_by;
    out += fmt::format("<li>{} ({})</li>\n", html_escape(a.title), html_escape(state));
  }
  return out + "</ul>\n";
}

// GET: what a POST would do.
void show(const AckDeps& deps, const ContextPtr& ctx) {
  const auto token = std::string(ctx->param("token"));
  auto link = deps.notifier->inspect_ack(token);
  if (!link) return reply_refusal(ctx, link.error());
  auto actor = actor_of(*deps.auth, *link);
  if (!actor) return reply_refusal(ctx, actor.error());
  const auto scope = core::OrgScope::trusted(link->org_id);
  std::vector<AckedAlert> list;
  for (auto id : link->alert_ids) list.push_back(describe(*deps.alerts, scope, id));
  if (wants_json(ctx)) {
    json::array alerts;
    for (const auto& a : list) alerts.push_back(alert_json_of(a));
    return ctx->reply_data(
        json::object{{"acknowledge_as", actor->name},
                     {"expires_at", core::format_rfc3339_seconds(link->expires_at)},
                     {"alerts", std::move(alerts)}});
  }
  const auto body = fmt::format(
      "<p>Acknowledge as <strong>{}</strong>:</p>\n{}"
      "<form method=\"post\"><button type=\"submit\">Acknowledge</button></form>\n"
      "<p>The link works once, until {}.</p>\n",
      html_escape(actor->name), alert_items(list, false),
      core::format_rfc3339_seconds(link->expires_at));
  reply_html(ctx, http::status::ok, page("Acknowledge", body));
}

// The alerts of a redeemed link, acknowledged one after another; the answer once all are done.
struct Redemption {
  ContextPtr ctx;
  alerts::AlertEngine* engine = nullptr;
  core::OrgScope scope = core::OrgScope::trusted(0);
  alerts::Actor actor;
  std::vector<AckedAlert> alerts;
  std::size_t next = 0;
};

void finish(const std::shared_ptr<Redemption>& r) {
  if (wants_json(r->ctx)) {
    json::array alerts;
    for (const auto& a : r->alerts) alerts.push_back(alert_json_of(a));
    return r->ctx->reply_data(
        json::object{{"acknowledged_as", r->actor.name}, {"alerts", std::move(alerts)}});
  }
  const bool any = std::any_of(r->alerts.begin(), r->alerts.end(),
                               [](const auto& a) { return a.outcome == "acknowledged"; });
  const auto body = fmt::format("<p>As <strong>{}</strong>:</p>\n{}", html_escape(r->actor.name),
                                alert_items(r->alerts, true));
  reply_html(r->ctx, http::status::ok, page(any ? "Acknowledged" : "Nothing to acknowledge", body));
}

void acknowledge_next(std::shared_ptr<Redemption> r) {
  if (r->next == r->alerts.size()) return finish(r);
  auto& a = r->alerts[r->next];
  if (a.status == "resolved" || a.status == "acknowledged" || a.status == "unknown") {
    a.outcome = a.status == "resolved"       ? "resolved"
                : a.status == "acknowledged" ? "already_acknowledged"
                                             : "not_found";
    ++r->next;
    return acknowledge_next(std::move(r));
  }
  r->engine->acknowledge(r->scope, a.id, r->actor, "acknowledged from the link in a message",
                         [r](const core::Result<alerts::Alert>& done) {
                           auto& a = r->alerts[r->next];
                           if (done) {
                             a.outcome = "acknowledged";
                             a.status = std::string(alerts::alert_status_name(done->status));
                             a.acknowledged_by = done->acknowledged_by_name;
                           } else {
                             // Resolved or acknowledged in the meantime: say which.
                             a = describe(*r->engine, r->scope, a.id);
                             a.outcome = a.status == "resolved"       ? "resolved"
                                         : a.status == "acknowledged" ? "already_acknowledged"
                                                                      : "failed";
                           }
                           ++r->next;
                           acknowledge_next(r);
                         });
}

// POST: use the link up, then acknowledge.
void redeem(const AckDeps& deps, const ContextPtr& ctx) {
  const auto token = std::string(ctx->param("token"));
  // Who it acknowledges as is settled before the link is used up: a link of a removed user
  // stays unused (and refused).
  auto link = deps.notifier->inspect_ack(token);
  if (!link) return reply_refusal(ctx, link.error());
  auto actor = actor_of(*deps.auth, *link);
  if (!actor) return reply_refusal(ctx, actor.error());
  deps.notifier->redeem_ack(token, [ctx, engine = deps.alerts, actor = std::move(*actor)](
                                       const core::Result<notify::AckLink>& used) {
    if (!used) return reply_refusal(ctx, used.error());
    auto r = std::make_shared<Redemption>();
    r->ctx = ctx;
    r->engine = engine;
    r->scope = core::OrgScope::trusted(used->org_id);
    r->actor = actor;
    for (auto id : used->alert_ids) r->alerts.push_back(describe(*engine, r->scope, id));
    acknowledge_next(std::move(r));
  });
}

json::object link_schema(bool outcomes) {
  json::object alert{{"type", "object"},
                     {"properties",
                      {{"id", {{"type", "integer"}}},
                       {"title", {{"type", "string"}}},
                       {"status", {{"type", "string"}}},
                       {"acknowledged_by", {{"type", "string"}}}}}};
  json::object props{{"alerts", {{"type", "array"}, {"items", alert}}}};
  if (outcomes) {
    alert["properties"].as_object()["outcome"] = {
        {"type", "string"},
        {"enum", {"acknowledged", "already_acknowledged", "resolved", "not_found", "failed"}}};
    props["alerts"].as_object()["items"] = alert;
    props["acknowledged_as"] = {{"type", "string"}};
  } else {
    props["acknowledge_as"] = {{"type", "string"}};
    props["expires_at"] = {{"type", "string"}, {"format", "date-time"}};
  }
  return {{"type", "object"}, {"properties", std::move(props)}};
}

}  // namespace

void register_ack_routes(Router& router, const RouteDeps& deps) {
  using http::verb;
  const AckDeps ack{deps.notifier, deps.alerts, &deps.auth};
  auto show_route = make_route(
      verb::get, "/api/v1/ack/{token}", std::nullopt,
      "An acknowledgement link from a message: an HTML page saying what it acknowledges and as "
      "whom, with a button that POSTs to the same URL (JSON to Accept: application/json). "
      "Changes nothing. No login: the signed token is the credential; 404 TOKEN_INVALID, 410 "
      "TOKEN_EXPIRED, 409 CONFLICT once used.",
      "notifications", [ack](ContextPtr ctx) { show(ack, ctx); });
  show_route.doc.response_schema = link_schema(false);
  router.add(std::move(show_route));

  auto redeem_route = make_route(
      verb::post, "/api/v1/ack/{token}", std::nullopt,
      "Use an acknowledgement link (once): acknowledges its alerts as its recipient and answers "
      "an HTML page saying what happened to each (JSON to Accept: application/json). The body "
      "is ignored (a form's, or none). Forged (404 TOKEN_INVALID), expired (410 TOKEN_EXPIRED) "
      "and used (409 CONFLICT) links acknowledge nothing.",
      "notifications", [ack](ContextPtr ctx) { redeem(ack, ctx); });
  redeem_route.doc.success_status = 200;
  redeem_route.doc.response_schema = link_schema(true);
  // Not an audit row: there is no authenticated caller, and the alert's history records who
  // acknowledged it, and how.
  redeem_route.audited = false;
  router.add(std::move(redeem_route));
}

}  // namespace netpulse::api::detail

// Notification routes: channels (secrets never shown: {"set": true} in their place), policies,
// and the delivery log with its dead letters (docs/notify.md). Admins and operators manage
// channels and policies; viewers read them and the log.
#include <netpulse/notify/notifier.hpp>

#include "detail/alert_json.hpp"
#include "detail/handler.hpp"
#include "detail/json_fields.hpp"

namespace netpulse::api::detail {

namespace {

using auth::Permission;
namespace json = boost::json;

json::object channel_json(const notify::Channel& c) {
  return {{"id", c.id},
          {"name", c.name},
          {"kind", c.kind},
          {"enabled", c.enabled},
          {"settings", c.settings},
          {"health",
           {{"state", c.health},
            {"consecutive_failures", c.consecutive_failures},
            {"last_error", c.last_error},
            {"last_success_at", time_ms(c.last_success_at)},
            {"last_failure_at", time_ms(c.last_failure_at)}}},
          {"created_at", core::format_rfc3339_seconds(c.created_at)},
          {"updated_at", core::format_rfc3339_seconds(c.updated_at)}};
}

json::object policy_json(const notify::StoredPolicy& p) {
  auto o = notify::to_json(p.policy);
  o["id"] = p.policy.id;
  o["created_at"] = core::format_rfc3339_seconds(p.created_at);
  o["updated_at"] = core::format_rfc3339_seconds(p.updated_at);
  return o;
}

json::object notification_json(const notify::Notification& n) {
  json::array alerts;
  for (auto id : n.alert_ids) alerts.push_back(id);
  json::object o{
      {"id", n.id},
      {"channel_id", n.channel_id},
      {"channel_name", n.channel_name},
      {"policy_id", n.policy_id ? json::value(*n.policy_id) : json::value(nullptr)},
      {"recipient_user", n.recipient_user ? json::value(*n.recipient_user) : json::value(nullptr)},
      {"kind", n.kind},
      {"severity", n.severity},
      {"title", n.title},
      {"status", n.status},
      {"attempts", n.attempts},
      {"sends_unsure", n.sends_unsure},
      {"next_attempt_at", time_ms(n.next_attempt_at)},
      {"last_status", n.last_status ? json::value(*n.last_status) : json::value(nullptr)},
      {"last_error", n.last_error},
      {"alert_ids", std::move(alerts)},
      {"created_at", time_ms(n.created_at)},
      {"updated_at", time_ms(n.updated_at)},
      {"delivered_at", time_ms(n.delivered_at)}};
  if (!n.attempt_log.empty()) {
    json::array log;
    for (const auto& a : n.attempt_log) {
      log.push_back({{"attempt", a.attempt},
                     {"started_at", time_ms(a.started_at)},
                     {"latency_ms", a.latency_ms},
                     {"outcome", a.outcome},
                     {"remote_status",
                      a.remote_status ? json::value(*a.remote_status) : json::value(nullptr)},
                     {"detail", a.detail}});
    }
    o["attempt_log"] = std::move(log);
  }
  return o;
}

// A channel body: {"name", "kind", "enabled"?, "settings"}; unknown fields refused.
core::Result<notify::ChannelInput> channel_body(const json::object& body) {
  for (const auto& [k, v] : body) {
    if (k != "name" && k != "kind" && k != "enabled" && k != "settings" && k != "id" &&
        k != "health" && k != "created_at" && k != "updated_at") {
      return core::invalid_field(k, "is not a field of a channel");
    }
  }
  Fields f(body);
  notify::ChannelInput in;
  auto name = f.required_string("name", 200);
  if (!name) return name.error();
  in.name = std::move(*name);
  auto kind = f.required_string("kind", 40);
  if (!kind) return kind.error();
  in.kind = std::move(*kind);
  auto enabled = f.optional_bool("enabled");
  if (!enabled) return enabled.error();
  in.enabled = enabled->value_or(true);
  const auto* settings = body.if_contains("settings");
  if (settings != nullptr && !settings->is_object()) {
    return core::invalid_field("settings", "must be an object");
  }
  if (settings != nullptr) in.settings = settings->get_object();
  return in;
}

core::Result<notify::ChannelPatch> channel_patch(const json::object& body) {
  notify::ChannelPatch p;
  for (const auto& [k, v] : body) {
    if (k == "name") {
      if (!v.is_string()) return core::invalid_field("name", "must be a string");
      p.name = std::string(v.get_string());
    } else if (k == "enabled") {
      if (!v.is_bool()) return core::invalid_field("enabled", "must be true or false");
      p.enabled = v.get_bool();
    } else if (k == "settings") {
      if (!v.is_object()) return core::invalid_field("settings", "must be an object");
      p.settings = v.get_object();
    } else if (k == "kind") {
      return core::invalid_field("kind", "cannot change: make a new channel");
    } else if (k != "id" && k != "health" && k != "created_at" && k != "updated_at") {
      return core::invalid_field(k, "is not a field of a channel");
    }
  }
  return p;
}

core::Result<notify::Policy> policy_body(json::object body) {
  for (auto field : {"id", "created_at", "updated_at"}) body.erase(field);
  return notify::policy_from_json(body);
}

}  // namespace

void register_notify_routes(Router& router, const RouteDeps& deps) {
  auto& n = *deps.notifier;
  using http::verb;

  auto list =
      make_route(verb::get, "/api/v1/notification-channels", Permission::kNotificationsRead,
                 "List notification channels (secrets shown as {\"set\": true}).", "notifications",
                 [&n](ContextPtr ctx) {
                   auto page = page_param(ctx);
                   if (!page) return;
                   reply_page(ctx, n.list_channels(ctx->org_scope(), *page), *page, channel_json);
                 });
  list.doc.query = page_query();
  router.add(std::move(list));

  router.add(make_route(
      verb::post, "/api/v1/notification-channels", Permission::kNotificationsWrite,
      "Create a notification channel: {\"name\", \"kind\", \"settings\"} "
      "(docs/notify-channels.md).",
      "notifications",
      [&n](ContextPtr ctx) {
        auto in = channel_body(ctx->body());
        if (!in) return ctx->reply_error(in.error());
        n.create_channel(ctx->org_scope(), std::move(*in),
                         answer_created(ctx, "notification-channels", channel_json));
      },
      Body::kJson));

  router.add(make_route(
      verb::get, "/api/v1/notification-channels/{id}", Permission::kNotificationsRead,
      "One notification channel.", "notifications", [&n](ContextPtr ctx) {
        auto id = path_id(ctx);
        if (!id) return;
        reply_result(ctx, n.get_channel(ctx->org_scope(), *id), http::status::ok, channel_json);
      }));

  router.add(make_route(
      verb::patch, "/api/v1/notification-channels/{id}", Permission::kNotificationsWrite,
      "Change a channel's name, enabled or settings (an omitted or {\"set\": true} secret keeps "
      "its value).",
      "notifications",
      [&n](ContextPtr ctx) {
        auto id = target_id(ctx, "notification-channels");
        if (!id) return;
        auto patch = channel_patch(ctx->body());
        if (!patch) return ctx->reply_error(patch.error());
        n.update_channel(ctx->org_scope(), *id, std::move(*patch), answer_json(ctx, channel_json));
      },
      Body::kJson));

  router.add(make_route(verb::delete_, "/api/v1/notification-channels/{id}",
                        Permission::kNotificationsWrite,
                        "Delete a channel (refused while a policy sends to it).", "notifications",
                        [&n](ContextPtr ctx) {
                          auto id = target_id(ctx, "notification-channels");
                          if (!id) return;
                          n.delete_channel(ctx->org_scope(), *id, answer_no_content(ctx));
                        }));

  router.add(make_route(
      verb::post, "/api/v1/notification-channels/{id}/test", Permission::kNotificationsWrite,
      "Send a test message now and report the remote's answer.", "notifications",
      [&n](ContextPtr ctx) {
        auto id = target_id(ctx, "notification-channels");
        if (!id) return;
        n.test_channel(ctx->org_scope(), *id, [ctx](core::Result<notify::TestResult> r) {
          if (!r) return ctx->reply_error(r.error());
          ctx->reply_data(
              json::object{{"delivered", r->delivered},
                           {"remote_status", r->remote_status ? json::value(*r->remote_status)
                                                              : json::value(nullptr)},
                           {"detail", r->detail},
                           {"latency_ms", r->latency_ms}},
              http::status::ok);
        });
      }));

  auto plist = make_route(
      verb::get, "/api/v1/notification-policies", Permission::kNotificationsRead,
      "List notification policies in routing order.", "notifications", [&n](ContextPtr ctx) {
        auto page = page_param(ctx);
        if (!page) return;
        reply_page(ctx, n.list_policies(ctx->org_scope(), *page), *page, policy_json);
      });
  plist.doc.query = page_query();
  router.add(std::move(plist));

  router.add(make_route(
      verb::post, "/api/v1/notification-policies", Permission::kNotificationsWrite,
      "Create a notification policy: match, targets, grouping, escalation, templates "
      "(docs/notify-routing.md).",
      "notifications",
      [&n](ContextPtr ctx) {
        auto p = policy_body(ctx->body());
        if (!p) return ctx->reply_error(p.error());
        n.create_policy(ctx->org_scope(), std::move(*p),
                        answer_created(ctx, "notification-policies", policy_json));
      },
      Body::kJson));

  router.add(make_route(
      verb::get, "/api/v1/notification-policies/{id}", Permission::kNotificationsRead,
      "One notification policy.", "notifications", [&n](ContextPtr ctx) {
        auto id = path_id(ctx);
        if (!id) return;
        reply_result(ctx, n.get_policy(ctx->org_scope(), *id), http::status::ok, policy_json);
      }));

  router.add(make_route(
      verb::put, "/api/v1/notification-policies/{id}", Permission::kNotificationsWrite,
      "Replace a notification policy.", "notifications",
      [&n](ContextPtr ctx) {
        auto id = target_id(ctx, "notification-policies");
        if (!id) return;
        auto p = policy_body(ctx->body());
        if (!p) return ctx->reply_error(p.error());
        n.replace_policy(ctx->org_scope(), *id, std::move(*p), answer_json(ctx, policy_json));
      },
      Body::kJson));

  router.add(make_route(verb::delete_, "/api/v1/notification-policies/{id}",
                        Permission::kNotificationsWrite, "Delete a notification policy.",
                        "notifications", [&n](ContextPtr ctx) {
                          auto id = target_id(ctx, "notification-policies");
                          if (!id) return;
                          n.delete_policy(ctx->org_scope(), *id, answer_no_content(ctx));
                        }));

  auto log = [&n](ContextPtr ctx, std::optional<std::string> status) {
    auto page = page_param(ctx);
    if (!page) return;
    notify::NotificationFilter f;
    auto alert = int_query(ctx, "alert_id");
    if (!alert) return ctx->reply_error(alert.error());
    f.alert_id = *alert;
    auto channel = int_query(ctx, "channel_id");
    if (!channel) return ctx->reply_error(channel.error());
    f.channel_id = *channel;
    f.status = status ? status : ctx->query("status");
    if (f.status && *f.status != "pending" && *f.status != "sending" && *f.status != "delivered" &&
        *f.status != "dead" && *f.status != "cancelled") {
      return ctx->reply_error(
          core::invalid_field("status", "must be pending, sending, delivered, dead or cancelled"));
    }
    reply_page(ctx, n.list_notifications(ctx->org_scope(), f, *page), *page, notification_json);
  };
  auto nlist =
      make_route(verb::get, "/api/v1/notifications", Permission::kNotificationsRead,
                 "The delivery log, newest first (?alert_id, ?channel_id, ?status).",
                 "notifications", [log](ContextPtr ctx) { log(std::move(ctx), std::nullopt); });
  nlist.doc.query = page_query();
  nlist.doc.query.push_back({"alert_id", "Only notifications about this alert.", "integer"});
  nlist.doc.query.push_back({"channel_id", "Only those sent through this channel.", "integer"});
  nlist.doc.query.push_back(
      {"status", "pending, sending, delivered, dead or cancelled.", "string"});
  router.add(std::move(nlist));

  auto dead =
      make_route(verb::get, "/api/v1/notifications/dead-letters", Permission::kNotificationsRead,
                 "Notifications given up on (after the last attempt or a permanent "
                 "refusal), newest first.",
                 "notifications", [log](ContextPtr ctx) { log(std::move(ctx), "dead"); });
  dead.doc.query = page_query();
  router.add(std::move(dead));

  router.add(make_route(verb::get, "/api/v1/notifications/{id}", Permission::kNotificationsRead,
                        "One notification with every attempt.", "notifications",
                        [&n](ContextPtr ctx) {
                          auto id = path_id(ctx);
                          if (!id) return;
                          reply_result(ctx, n.get_notification(ctx->org_scope(), *id),
                                       http::status::ok, notification_json);
                        }));

  router.add(make_route(verb::post, "/api/v1/notifications/{id}/retry",
                        Permission::kNotificationsWrite,
                        "Send a dead letter again, with a fresh count of attempts.",
                        "notifications", [&n](ContextPtr ctx) {
                          auto id = target_id(ctx, "notifications");
                          if (!id) return;
                          n.retry_notification(ctx->org_scope(), *id, [ctx](core::Result<void> r) {
                            if (!r) return ctx->reply_error(r.error());
                            ctx->reply_data(json::object{{"queued", true}}, http::status::accepted);
                          });
                        }));
}

}  // namespace netpulse::api::detail

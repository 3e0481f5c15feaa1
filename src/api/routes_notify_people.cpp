// Notification routes about people: on-call schedules (CRUD and who is on call now), users'
// contact methods and quiet hours (each user their own; admins anyone's in their organization)
// and the caller's in-app inbox. docs/notify-routing.md describes the bodies.
#include <netpulse/notify/notifier.hpp>

#include "detail/alert_json.hpp"
#include "detail/handler.hpp"

namespace netpulse::api::detail {

namespace {

using auth::Permission;
namespace json = boost::json;

json::object schedule_json(const notify::StoredSchedule& s) {
  auto o = notify::to_json(s.schedule);
  o["id"] = s.schedule.id;
  o["created_at"] = core::format_rfc3339_seconds(s.created_at);
  o["updated_at"] = core::format_rfc3339_seconds(s.updated_at);
  return o;
}

json::object shift_json(const notify::OncallShift& s) {
  return {{"user_id", s.user_id},
          {"start", time_ms(s.start_ms)},
          {"end", time_ms(s.end_ms)},
          {"override", s.override_index.has_value()}};
}

json::object oncall_now_json(const notify::OncallNow& n) {
  json::array next;
  for (const auto& s : n.next) next.push_back(shift_json(s));
  return {{"at", time_ms(n.at)},
          {"user_id", n.user_id ? json::value(*n.user_id) : json::value(nullptr)},
          {"until", time_ms(n.until)},
          {"shifts", std::move(next)}};
}

json::object inapp_json(const notify::InappNotification& n) {
  return {{"id", n.id},
          {"kind", n.kind},
          {"severity", n.severity},
          {"title", n.title},
          {"text", n.text},
          {"alert_id", n.alert_id ? json::value(*n.alert_id) : json::value(nullptr)},
          {"created_at", time_ms(n.created_at)},
          {"read", n.read_at.has_value()},
          {"read_at", time_ms(n.read_at)}};
}

json::object contacts_json(const notify::UserContacts& c) {
  return notify::to_json(c);
}

core::Result<notify::OncallSchedule> schedule_body(json::object body) {
  for (auto field : {"created_at", "updated_at"}) body.erase(field);
  return notify::oncall_from_json(body);
}

// The signed-in user's id, or 0 once the error is answered: API keys have no contact methods.
std::int64_t own_user(const ContextPtr& ctx) {
  const auto id = ctx->principal().user_id;
  if (id == 0) {
    ctx->reply_error(core::invalid_field("Authorization",
                                         "API keys have no contact methods: sign in as a user"));
  }
  return id;
}

// The caller's inbox: a user's id; an API key's is 0, which no notification has (an empty list,
// NOT_FOUND for an id).
std::int64_t inbox_owner(const ContextPtr& ctx) {
  return ctx->principal().user_id;
}

json::object schedule_doc() {
  return {{"type", "object"},
          {"required", {"name", "rotation"}},
          {"properties",
           {{"name", {{"type", "string"}}},
            {"time_zone", {{"type", "string"}}},
            {"rotation", {{"type", "object"}}},
            {"overrides", {{"type", "array"}}}}}};
}

json::object contacts_doc() {
  return {{"type", "object"},
          {"properties",
           {{"email", {{"type", "object"}}},
            {"sms", {{"type", "object"}}},
            {"telegram", {{"type", "object"}}},
            {"in_app", {{"type", "object"}}},
            {"quiet_hours", {{"type", "object"}}}}}};
}

void register_schedule_routes(Router& router, notify::Notifier& n) {
  using http::verb;
  auto list =
      make_route(verb::get, "/api/v1/oncall-schedules", Permission::kNotificationsRead,
                 "List on-call schedules.", "notifications", [&n](ContextPtr ctx) {
                   auto page = page_param(ctx);
                   if (!page) return;
                   reply_page(ctx, n.list_schedules(ctx->org_scope(), *page), *page, schedule_json);
                 });
  list.doc.query = page_query();
  router.add(std::move(list));

  auto create = make_route(
      verb::post, "/api/v1/oncall-schedules", Permission::kNotificationsWrite,
      "Create an on-call schedule: a weekly (or n-day) rotation of the organization's users "
      "with a handover time and zone, and overrides (docs/notify-routing.md).",
      "notifications",
      [&n](ContextPtr ctx) {
        auto s = schedule_body(ctx->body());
        if (!s) return ctx->reply_error(s.error());
        n.create_schedule(ctx->org_scope(), std::move(*s),
                          answer_created(ctx, "oncall-schedules", schedule_json));
      },
      Body::kJson);
  create.doc.request_schema = schedule_doc();
  router.add(std::move(create));

  router.add(make_route(verb::get, "/api/v1/oncall-schedules/{id}", Permission::kNotificationsRead,
                        "One on-call schedule.", "notifications", [&n](ContextPtr ctx) {
                          auto id = path_id(ctx);
                          if (!id) return;
                          reply_result(ctx, n.get_schedule(ctx->org_scope(), *id), http::status::ok,
                                       schedule_json);
                        }));

  auto replace = make_route(
      verb::put, "/api/v1/oncall-schedules/{id}", Permission::kNotificationsWrite,
      "Replace an on-call schedule.", "notifications",
      [&n](ContextPtr ctx) {
        auto id = target_id(ctx, "oncall-schedules");
        if (!id) return;
        auto s = schedule_body(ctx->body());
        if (!s) return ctx->reply_error(s.error());
        n.replace_schedule(ctx->org_scope(), *id, std::move(*s), answer_json(ctx, schedule_json));
      },
      Body::kJson);
  replace.doc.request_schema = schedule_doc();
  router.add(std::move(replace));

  router.add(make_route(verb::delete_, "/api/v1/oncall-schedules/{id}",
                        Permission::kNotificationsWrite,
                        "Delete an on-call schedule (refused while a policy pages it).",
                        "notifications", [&n](ContextPtr ctx) {
                          auto id = target_id(ctx, "oncall-schedules");
                          if (!id) return;
                          n.delete_schedule(ctx->org_scope(), *id, answer_no_content(ctx));
                        }));

  router.add(make_route(
      verb::get, "/api/v1/oncall-schedules/{id}/current", Permission::kNotificationsRead,
      "Who is on call now, until when, and the shifts of the next 14 days.", "notifications",
      [&n](ContextPtr ctx) {
        auto id = path_id(ctx);
        if (!id) return;
        reply_result(ctx, n.oncall_now(ctx->org_scope(), *id), http::status::ok, oncall_now_json);
      }));
}

void register_contact_routes(Router& router, notify::Notifier& n) {
  using http::verb;
  auto put = [&n](const ContextPtr& ctx, std::int64_t user) {
    auto c = notify::contacts_from_json(ctx->body());
    if (!c) return ctx->reply_error(c.error());
    n.put_contacts(ctx->org_scope(), user, std::move(*c), answer_json(ctx, contacts_json));
  };

  router.add(make_route(
      verb::get, "/api/v1/me/contacts", Permission::kSelf, "Your contact methods and quiet hours.",
      "notifications", [&n](ContextPtr ctx) {
        const auto user = own_user(ctx);
        if (user == 0) return;
        reply_result(ctx, n.get_contacts(ctx->org_scope(), user), http::status::ok, contacts_json);
      }));
  auto put_me = make_route(
      verb::put, "/api/v1/me/contacts", Permission::kSelf,
      "Set your contact methods (email, sms, telegram; in-app is always on) and quiet hours.",
      "notifications",
      [put](ContextPtr ctx) {
        const auto user = own_user(ctx);
        if (user == 0) return;
        ctx->set_audit_target("users/" + std::to_string(user) + "/contacts");
        put(ctx, user);
      },
      Body::kJson);
  put_me.doc.request_schema = contacts_doc();
  router.add(std::move(put_me));

  router.add(make_route(
      verb::get, "/api/v1/users/{id}/contacts", Permission::kUsersRead,
      "A user's contact methods and quiet hours.", "notifications", [&n](ContextPtr ctx) {
        auto id = path_id(ctx);
        if (!id) return;
        reply_result(ctx, n.get_contacts(ctx->org_scope(), *id), http::status::ok, contacts_json);
      }));
  auto put_user = make_route(
      verb::put, "/api/v1/users/{id}/contacts", Permission::kUsersWrite,
      "Set a user's contact methods and quiet hours.", "notifications",
      [put](ContextPtr ctx) {
        auto id = path_id(ctx);
        if (!id) return;
        ctx->set_audit_target("users/" + std::to_string(*id) + "/contacts");
        put(ctx, *id);
      },
      Body::kJson);
  put_user.doc.request_schema = contacts_doc();
  router.add(std::move(put_user));
}

void register_inbox_routes(Router& router, notify::Notifier& n) {
  using http::verb;
  auto list = make_route(
      verb::get, "/api/v1/me/notifications", Permission::kSelf,
      "Your in-app notifications, newest first: unread ones, or every one with ?all=true.",
      "notifications", [&n](ContextPtr ctx) {
        const auto user = inbox_owner(ctx);
        auto page = page_param(ctx);
        if (!page) return;
        const auto all = ctx->query("all");
        if (all && *all != "true" && *all != "false") {
          return ctx->reply_error(core::invalid_field("all", "must be true or false"));
        }
        reply_page(ctx, n.list_inapp(ctx->org_scope(), user, all && *all == "true", *page), *page,
                   inapp_json);
      });
  list.doc.query = page_query();
  list.doc.query.push_back({"all", "true: read ones too (default false).", "boolean"});
  router.add(std::move(list));

  auto read = make_route(verb::post, "/api/v1/me/notifications/{id}/read", Permission::kSelf,
                         "Mark one of your in-app notifications read.", "notifications",
                         [&n](ContextPtr ctx) {
                           const auto user = inbox_owner(ctx);
                           auto id = path_id(ctx);
                           if (!id) return;
                           n.mark_inapp_read(ctx->org_scope(), user, *id, answer_no_content(ctx));
                         });
  read.doc.success_status = 204;
  router.add(std::move(read));

  auto read_all = make_route(
      verb::post, "/api/v1/me/notifications/read-all", Permission::kSelf,
      "Mark all your in-app notifications read.", "notifications", [&n](ContextPtr ctx) {
        const auto user = inbox_owner(ctx);
        n.mark_all_inapp_read(ctx->org_scope(), user, [ctx](core::Result<std::int64_t> r) {
          if (!r) return ctx->reply_error(r.error());
          ctx->reply_data(json::object{{"marked", *r}}, http::status::ok);
        });
      });
  read_all.doc.success_status = 200;
  router.add(std::move(read_all));
}

}  // namespace

void register_notify_people_routes(Router& router, const RouteDeps& deps) {
  auto& n = *deps.notifier;
  register_schedule_routes(router, n);
  register_contact_routes(router, n);
  register_inbox_routes(router, n);
}

}  // namespace netpulse::api::detail

// Administration: users (org admins), organizations (system admins), API keys and the audit log,
// each with its register function.
// Every handler passes the caller's OrgScope (or SystemScope) to the auth module, which confines
// its SQL to that organization.

#include <fmt/format.h>

#include <netpulse/auth/events.hpp>

#include "detail/handler.hpp"
#include "detail/json_fields.hpp"

namespace netpulse::api::detail {

namespace {

using auth::Permission;

core::Result<std::optional<auth::Role>> role_field(const boost::json::object& body,
                                                   std::string_view name) {
  Fields f(body);
  auto s = f.optional_string(name, 32);
  if (!s) return std::move(s).error();
  if (!*s) return std::optional<auth::Role>();
  auto role = auth::parse_role(**s);
  if (!role) return core::invalid_field(name, "must be one of admin, operator, viewer, api_user");
  return std::optional<auth::Role>(*role);
}

boost::json::object user_schema(bool create) {
  boost::json::object props{{"email", {{"type", "string"}}},
                            {"name", {{"type", "string"}}},
                            {"role", {{"enum", {"admin", "operator", "viewer", "api_user"}}}},
                            {"active", {{"type", "boolean"}}}};
  if (create) props["password"] = {{"type", "string"}};
  boost::json::object s{{"type", "object"}, {"properties", std::move(props)}};
  if (create) s["required"] = {"email", "role", "password"};
  return s;
}

// POST /api/v1/users (the caller's organization) and POST /api/v1/organizations/{id}/users (a
// system administrator adding a user, the first admin, to another organization).
void add_user(auth::AuthService& auth, const ContextPtr& ctx, core::OrgScope scope) {
  auto& body = ctx->body();
  Fields f(body);
  if (auto r = f.only({"email", "name", "role", "password", "active"}); !r) {
    return ctx->reply_error(r.error());
  }
  auth::NewUser u;
  auto email = f.required_string("email", 254);
  if (!email) return ctx->reply_error(email.error());
  auto name = f.optional_string("name", 200);
  if (!name) return ctx->reply_error(name.error());
  auto role = role_field(body, "role");
  if (!role) return ctx->reply_error(role.error());
  if (!*role) return ctx->reply_error(core::invalid_field("role", "is required"));
  auto password = f.required_string("password", 4096);
  if (!password) return ctx->reply_error(password.error());
  auto active = f.optional_bool("active");
  if (!active) return ctx->reply_error(active.error());
  u.email = *email;
  u.name = name->value_or("");
  u.role = **role;
  u.password = *password;
  u.active = active->value_or(true);
  auth.create_user(scope, std::move(u), answer_created(ctx, "users"));
}

// PATCH /api/v1/users/{id}.
void change_user(auth::AuthService& auth, const ContextPtr& ctx) {
  auto id = target_id(ctx, "users");
  if (!id) return;
  auto& body = ctx->body();
  Fields f(body);
  if (auto r = f.only({"email", "name", "role", "active"}); !r) {
    return ctx->reply_error(r.error());
  }
  auth::UserPatch p;
  auto email = f.optional_string("email", 254, false);
  if (!email) return ctx->reply_error(email.error());
  auto name = f.optional_string("name", 200);
  if (!name) return ctx->reply_error(name.error());
  auto role = role_field(body, "role");
  if (!role) return ctx->reply_error(role.error());
  auto active = f.optional_bool("active");
  if (!active) return ctx->reply_error(active.error());
  p.email = *email;
  p.name = *name;
  p.role = *role;
  p.active = *active;
  auth.update_user(ctx->org_scope(), *id, std::move(p), answer_json(ctx));
}

}  // namespace

boost::json::object to_json(const auth::User& u) {
  return {{"id", u.id},
          {"org_id", u.org_id},
          {"email", u.email},
          {"name", u.name},
          {"role", auth::role_name(u.role)},
          {"active", u.active},
          {"created_at", core::format_rfc3339_seconds(u.created_at)},
          {"updated_at", core::format_rfc3339_seconds(u.updated_at)},
          {"last_login_at", opt_time(u.last_login_at)}};
}

boost::json::object to_json(const auth::Organization& o) {
  return {{"id", o.id},
          {"name", o.name},
          {"slug", o.slug},
          {"is_system", o.is_system},
          {"created_at", core::format_rfc3339_seconds(o.created_at)},
          {"updated_at", core::format_rfc3339_seconds(o.updated_at)}};
}

boost::json::object to_json(const auth::ApiKey& k) {
  return {{"id", k.id},
          {"org_id", k.org_id},
          {"name", k.name},
          {"prefix", k.prefix},
          {"role", auth::role_name(k.role)},
          {"created_by", opt(k.created_by)},
          {"created_at", core::format_rfc3339_seconds(k.created_at)},
          {"last_used_at", opt_time(k.last_used_at)},
          {"expires_at", opt_time(k.expires_at)},
          {"revoked_at", opt_time(k.revoked_at)},
          {"active", !k.revoked_at.has_value()}};
}

boost::json::object to_json(const auth::AuditEntry& a) {
  return {{"id", a.id},
          {"at", core::format_rfc3339_seconds(a.at)},
          {"org_id", opt(a.org_id)},
          {"user_id", opt(a.user_id)},
          {"api_key_id", opt(a.api_key_id)},
          {"actor", a.actor},
          {"action", a.action},
          {"target", a.target},
          {"source_ip", a.source_ip},
          {"request_id", a.request_id},
          {"status", a.status},
          {"outcome", a.success ? "success" : "failure"}};
}

void register_user_routes(Router& router, const RouteDeps& deps) {
  auto& auth = deps.auth;
  using http::verb;

  auto list_users =
      make_route(verb::get, "/api/v1/users", Permission::kUsersRead,
                 "List the users of your organization.", "users", [&auth](ContextPtr ctx) {
                   auto page = page_param(ctx);
                   if (!page) return;
                   reply_page(ctx, auth.list_users(ctx->org_scope(), *page), *page);
                 });
  list_users.doc.query = page_query();
  router.add(std::move(list_users));

  auto create_user = make_route(
      verb::post, "/api/v1/users", Permission::kUsersWrite, "Create a user in your organization.",
      "users", [&auth](ContextPtr ctx) { add_user(auth, ctx, ctx->org_scope()); }, Body::kJson);
  create_user.doc.request_schema = user_schema(true);
  router.add(std::move(create_user));

  router.add(make_route(verb::get, "/api/v1/users/{id}", Permission::kUsersRead,
                        "One user of your organization.", "users", [&auth](ContextPtr ctx) {
                          auto id = path_id(ctx);
                          if (!id) return;
                          reply_result(ctx, auth.get_user(ctx->org_scope(), *id));
                        }));

  auto patch_user = make_route(
      verb::patch, "/api/v1/users/{id}", Permission::kUsersWrite,
      "Change a user's name, email, role or active flag.", "users",
      [&auth](ContextPtr ctx) { change_user(auth, ctx); }, Body::kJson);
  patch_user.doc.request_schema = user_schema(false);
  router.add(std::move(patch_user));

  router.add(make_route(verb::delete_, "/api/v1/users/{id}", Permission::kUsersWrite,
                        "Delete a user of your organization.", "users", [&auth](ContextPtr ctx) {
                          auto id = target_id(ctx, "users");
                          if (!id) return;
                          auth.delete_user(ctx->org_scope(), *id, answer_no_content(ctx));
                        }));

  auto set_password = make_route(
      verb::put, "/api/v1/users/{id}/password", Permission::kUsersWrite,
      "Set a user's password (admin reset); ends that user's sessions.", "users",
      [&auth](ContextPtr ctx) {
        auto id = target_id(ctx, "users");
        if (!id) return;
        Fields f(ctx->body());
        if (auto r = f.only({"password"}); !r) return ctx->reply_error(r.error());
        auto password = f.required_string("password", 4096);
        if (!password) return ctx->reply_error(password.error());
        auth.set_password(ctx->org_scope(), *id, *password, answer_no_content(ctx));
      },
      Body::kJson);
  set_password.doc.success_status = 204;
  set_password.doc.request_schema = {{"type", "object"},
                                     {"required", {"password"}},
                                     {"properties", {{"password", {{"type", "string"}}}}}};
  router.add(std::move(set_password));

  auto unlock = make_route(
      verb::post, "/api/v1/users/{id}/unlock", Permission::kUsersWrite,
      "Lift the login lock-outs of a user's email from every address (see docs/security.md).",
      "users", [&auth](ContextPtr ctx) {
        auto id = target_id(ctx, "users");
        if (!id) return;
        auth.unlock_user(ctx->org_scope(), *id, answer_no_content(ctx));
      });
  unlock.doc.success_status = 204;
  router.add(std::move(unlock));
}

void register_organization_routes(Router& router, const RouteDeps& deps) {
  auto& auth = deps.auth;
  using http::verb;

  router.add(make_route(verb::get, "/api/v1/organization", Permission::kSelf,
                        "Your own organization.", "organizations", [&auth](ContextPtr ctx) {
                          reply_result(ctx, auth.get_own_org(ctx->org_scope()));
                        }));

  auto list_orgs = make_route(verb::get, "/api/v1/organizations", Permission::kOrgsAdmin,
                              "List all organizations (system administrators).", "organizations",
                              [&auth](ContextPtr ctx) {
                                auto page = page_param(ctx);
                                if (!page) return;
                                auto scope = auth::SystemScope::from(ctx->principal());
                                reply_page(ctx, auth.list_orgs(*scope, *page), *page);
                              });
  list_orgs.doc.query = page_query();
  router.add(std::move(list_orgs));

  auto create_org = make_route(
      verb::post, "/api/v1/organizations", Permission::kOrgsAdmin,
      "Create an organization (a tenant).", "organizations",
      [&auth](ContextPtr ctx) {
        Fields f(ctx->body());
        if (auto r = f.only({"name", "slug"}); !r) return ctx->reply_error(r.error());
        auto name = f.required_string("name", 200);
        if (!name) return ctx->reply_error(name.error());
        auto slug = f.required_string("slug", 63);
        if (!slug) return ctx->reply_error(slug.error());
        auto scope = auth::SystemScope::from(ctx->principal());
        auth.create_org(*scope, *name, *slug, answer_created(ctx, "organizations"));
      },
      Body::kJson);
  create_org.doc.request_schema = {
      {"type", "object"},
      {"required", {"name", "slug"}},
      {"properties", {{"name", {{"type", "string"}}}, {"slug", {{"type", "string"}}}}}};
  router.add(std::move(create_org));

  auto org_user = make_route(
      verb::post, "/api/v1/organizations/{id}/users", Permission::kOrgsAdmin,
      "Create a user in an organization (system administrators): a new tenant's first admin. "
      "The body is POST /api/v1/users's.",
      "organizations",
      [&auth](ContextPtr ctx) {
        auto id = path_id(ctx);
        if (!id) return;
        auto scope = auth::SystemScope::from(ctx->principal());
        if (auto org = auth.get_org(*scope, *id); !org) return ctx->reply_error(org.error());
        add_user(auth, ctx, core::OrgScope::trusted(*id));
      },
      Body::kJson);
  org_user.doc.request_schema = user_schema(true);
  router.add(std::move(org_user));

  router.add(make_route(verb::get, "/api/v1/organizations/{id}", Permission::kOrgsAdmin,
                        "One organization.", "organizations", [&auth](ContextPtr ctx) {
                          auto id = path_id(ctx);
                          if (!id) return;
                          auto scope = auth::SystemScope::from(ctx->principal());
                          reply_result(ctx, auth.get_org(*scope, *id));
                        }));

  auto patch_org = make_route(
      verb::patch, "/api/v1/organizations/{id}", Permission::kOrgsAdmin, "Rename an organization.",
      "organizations",
      [&auth](ContextPtr ctx) {
        auto id = target_id(ctx, "organizations");
        if (!id) return;
        Fields f(ctx->body());
        if (auto r = f.only({"name"}); !r) return ctx->reply_error(r.error());
        auto name = f.optional_string("name", 200, false);
        if (!name) return ctx->reply_error(name.error());
        auto scope = auth::SystemScope::from(ctx->principal());
        auth.update_org(*scope, *id, *name, answer_json(ctx));
      },
      Body::kJson);
  patch_org.doc.request_schema = {{"type", "object"},
                                  {"properties", {{"name", {{"type", "string"}}}}}};
  router.add(std::move(patch_org));

  router.add(make_route(
      verb::delete_, "/api/v1/organizations/{id}", Permission::kOrgsAdmin,
      "Delete an organization and everything it owns: its devices leave the pollers at once, its "
      "rows go with it and its stored metrics are purged in the background.",
      "organizations", [&auth, store = deps.tsdb, bus = deps.bus](ContextPtr ctx) {
        auto id = target_id(ctx, "organizations");
        if (!id) return;
        auto scope = auth::SystemScope::from(ctx->principal());
        auth.delete_org(*scope, *id, [ctx, store, bus, org = *id](core::Result<void> r) {
          if (!r) return ctx->reply_error(r.error());
          if (bus) {
            // Every module drops what it holds of the organization, in this handler (the
            // store's series included; their stored samples are purged in the background).
            bus->publish(core::OrgDeleted{org});
            return ctx->reply_no_content();
          }
          if (!store) return ctx->reply_no_content();
          store->drop_org(org, answer_no_content(ctx));
        });
      }));
}

void register_api_key_routes(Router& router, const RouteDeps& deps) {
  auto& auth = deps.auth;
  using http::verb;

  auto list_keys = make_route(verb::get, "/api/v1/api-keys", Permission::kApiKeysRead,
                              "List your organization's API keys (never their secrets).",
                              "api-keys", [&auth](ContextPtr ctx) {
                                auto page = page_param(ctx);
                                if (!page) return;
                                reply_page(ctx, auth.list_api_keys(ctx->org_scope(), *page), *page);
                              });
  list_keys.doc.query = page_query();
  router.add(std::move(list_keys));

  auto create_key = make_route(
      verb::post, "/api/v1/api-keys", Permission::kApiKeysWrite,
      "Create an API key; the key itself is in the answer once and never again. The key belongs "
      "to you: it stops if you are deleted or deactivated and never does more than your current "
      "role. Without expires_in_days it expires after [auth] api_key_default_ttl_days.",
      "api-keys",
      [&auth, &clock = deps.clock](ContextPtr ctx) {
        auto& body = ctx->body();
        Fields f(body);
        if (auto r = f.only({"name", "role", "expires_in_days"}); !r) {
          return ctx->reply_error(r.error());
        }
        auto name = f.required_string("name", 200);
        if (!name) return ctx->reply_error(name.error());
        auto role = role_field(body, "role");
        if (!role) return ctx->reply_error(role.error());
        auto days = f.optional_int("expires_in_days", 1, 3650);
        if (!days) return ctx->reply_error(days.error());
        auth::NewApiKey k;
        k.name = *name;
        k.role = role->value_or(auth::Role::kApiUser);
        if (*days) k.expires_at = clock.unix_seconds() + **days * 86400;
        auth.create_api_key(ctx->org_scope(), ctx->principal(), std::move(k),
                            [ctx](core::Result<auth::CreatedApiKey> r) {
                              if (!r) return ctx->reply_error(r.error());
                              ctx->set_audit_target("api-keys/" + std::to_string(r->key.id));
                              auto out = to_json(r->key);
                              out["key"] = r->secret;
                              ctx->reply_data(std::move(out), http::status::created);
                            });
      },
      Body::kJson);
  create_key.doc.request_schema = {
      {"type", "object"},
      {"required", {"name"}},
      {"properties",
       {{"name", {{"type", "string"}}},
        {"role", {{"enum", {"admin", "operator", "viewer", "api_user"}}}},
        {"expires_in_days", {{"type", "integer"}}}}}};
  router.add(std::move(create_key));

  router.add(make_route(verb::delete_, "/api/v1/api-keys/{id}", Permission::kApiKeysWrite,
                        "Revoke an API key.", "api-keys", [&auth](ContextPtr ctx) {
                          auto id = target_id(ctx, "api-keys");
                          if (!id) return;
                          auth.revoke_api_key(ctx->org_scope(), *id, answer_no_content(ctx));
                        }));
}

void register_audit_routes(Router& router, const RouteDeps& deps) {
  auto& auth = deps.auth;
  using http::verb;

  auto audit = make_route(
      verb::get, "/api/v1/audit", Permission::kAuditRead,
      "The audit log of mutating requests, newest first. System administrators see every "
      "organization.",
      "audit", [&auth](ContextPtr ctx) {
        auto page = page_param(ctx);
        if (!page) return;
        auth::AuditFilter filter;
        auto since = int_query(ctx, "since");
        if (!since) return ctx->reply_error(since.error());
        auto until = int_query(ctx, "until");
        if (!until) return ctx->reply_error(until.error());
        auto user = int_query(ctx, "user_id");
        if (!user) return ctx->reply_error(user.error());
        filter.since = *since;
        filter.until = *until;
        filter.user_id = *user;
        filter.action_prefix = ctx->query("action");
        if (auto scope = auth::SystemScope::from(ctx->principal())) {
          return reply_page(ctx, auth.list_audit_all(*scope, filter, *page), *page);
        }
        reply_page(ctx, auth.list_audit(ctx->org_scope(), filter, *page), *page);
      });
  audit.doc.query = {{"since", "Unix seconds, inclusive.", "integer"},
                     {"until", "Unix seconds, exclusive.", "integer"},
                     {"action", "Action prefix, e.g. \"POST /api/v1/users\".", "string"},
                     {"user_id", "Only this user's requests.", "integer"},
                     {"page", "Page number, from 1.", "integer"},
                     {"per_page", "Items per page, 1 to 500 (default 50).", "integer"}};
  router.add(std::move(audit));
}

}  // namespace netpulse::api::detail

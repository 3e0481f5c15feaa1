// /api/v1/auth: login, token refresh, logout, the caller's own profile and password.
#include <boost/json/parse.hpp>

#include "detail/handler.hpp"
#include "detail/json_fields.hpp"

namespace netpulse::api::detail {

namespace {

boost::json::object token_json(const auth::TokenPair& t) {
  return {{"access_token", t.access_token},
          {"refresh_token", t.refresh_token},
          {"token_type", "Bearer"},
          {"expires_in", t.expires_in}};
}

boost::json::object token_schema() {
  return {{"type", "object"},
          {"properties",
           {{"access_token", {{"type", "string"}}},
            {"refresh_token", {{"type", "string"}}},
            {"token_type", {{"type", "string"}}},
            {"expires_in", {{"type", "integer"}}}}}};
}

// POST /api/v1/auth/login.
void log_in(auth::AuthService& auth, const ContextPtr& ctx) {
  Fields f(ctx->body());
  if (auto r = f.only({"email", "password", "org"}); !r) return ctx->reply_error(r.error());
  auto email = f.required_string("email", 254);
  if (!email) return ctx->reply_error(email.error());
  auto password = f.required_string("password", 4096);
  if (!password) return ctx->reply_error(password.error());
  auto org = f.optional_string("org", 63, false);
  if (!org) return ctx->reply_error(org.error());
  auth::LoginRequest request;
  request.email = std::move(*email);
  request.password = std::move(*password);
  request.org = std::move(*org);
  request.source_ip = ctx->client_ip();
  request.request_id = ctx->request_id();
  auth.login(std::move(request), answer_json(ctx, token_json));
}

// PUT /api/v1/auth/password.
void change_password(auth::AuthService& auth, const ContextPtr& ctx) {
  if (!ctx->principal().user_id) {
    return ctx->reply_error(
        core::Error(core::Errc::kInsufficientPermissions, "API keys have no password"));
  }
  Fields f(ctx->body());
  if (auto r = f.only({"current_password", "new_password"}); !r) {
    return ctx->reply_error(r.error());
  }
  auto current = f.required_string("current_password", 4096);
  if (!current) return ctx->reply_error(current.error());
  auto next = f.required_string("new_password", 4096);
  if (!next) return ctx->reply_error(next.error());
  ctx->set_audit_target("users/" + std::to_string(ctx->principal().user_id));
  auth.change_password(ctx->principal(), *current, *next, answer_no_content(ctx));
}

// GET /api/v1/auth/me.
void describe_caller(auth::AuthService& auth, const ContextPtr& ctx) {
  const auto& p = ctx->principal();
  boost::json::object out;
  if (p.user_id) {
    auto user = auth.get_user(ctx->org_scope(), p.user_id);
    if (!user) return ctx->reply_error(user.error());
    out = to_json(*user);
    out["type"] = "user";
  } else {
    out = {{"type", "api_key"},
           {"api_key_id", p.api_key_id},
           {"org_id", p.org_id},
           {"role", auth::role_name(p.role)},
           {"name", p.actor}};
  }
  boost::json::array perms;
  for (int i = 0; i < auth::kPermissionCount; ++i) {
    auto perm = static_cast<auth::Permission>(i);
    if (p.can(perm)) perms.emplace_back(auth::permission_name(perm));
  }
  out["permissions"] = std::move(perms);
  out["system_admin"] = p.is_system_admin();
  ctx->reply_data(std::move(out));
}

}  // namespace

void register_auth_routes(Router& router, const RouteDeps& deps) {
  auto& auth = deps.auth;
  using http::verb;

  auto login = make_route(
      verb::post, "/api/v1/auth/login", std::nullopt,
      "Log in with email and password; returns an access and a refresh token. `org` (the "
      "organization's slug) is needed only when the email and password match accounts in "
      "several organizations.",
      "auth", [&auth](ContextPtr ctx) { log_in(auth, ctx); }, Body::kJson);
  login.doc.success_status = 200;
  login.doc.request_schema = {{"type", "object"},
                              {"required", {"email", "password"}},
                              {"properties",
                               {{"email", {{"type", "string"}}},
                                {"password", {{"type", "string"}}},
                                {"org", {{"type", "string"}}}}}};
  login.doc.response_schema = token_schema();
  // The auth module audits logins itself, by account (a success, and a failure that locks an
  // account); an anonymous row per attempt would let anyone fill the log.
  login.audited = false;
  router.add(std::move(login));

  auto refresh = make_route(
      verb::post, "/api/v1/auth/refresh", std::nullopt,
      "Exchange a refresh token for a new token pair (the old one is used up).", "auth",
      [&auth](ContextPtr ctx) {
        Fields f(ctx->body());
        if (auto r = f.only({"refresh_token"}); !r) return ctx->reply_error(r.error());
        auto token = f.required_string("refresh_token", 512);
        if (!token) return ctx->reply_error(token.error());
        auth.refresh(*token, answer_json(ctx, token_json));
      },
      Body::kJson);
  refresh.doc.success_status = 200;
  refresh.doc.request_schema = {{"type", "object"},
                                {"required", {"refresh_token"}},
                                {"properties", {{"refresh_token", {{"type", "string"}}}}}};
  refresh.doc.response_schema = token_schema();
  // Unauthenticated, machine-driven (every 15 minutes per session): counted in /metrics.
  refresh.audited = false;
  router.add(std::move(refresh));

  auto logout = make_route(
      verb::post, "/api/v1/auth/logout", auth::Permission::kSelf,
      "Revoke the access token used for this request and, when given, the refresh token's "
      "session. Body optional: {\"refresh_token\": \"...\"}.",
      "auth", [&auth](ContextPtr ctx) {
        std::optional<std::string> refresh_token;
        if (!ctx->request().body().empty()) {
          boost::system::error_code ec;
          auto v = boost::json::parse(ctx->request().body(), ec);
          if (ec || !v.is_object()) {
            return ctx->reply_error(
                core::Error(core::Errc::kMalformedJson, "the body must be a JSON object or empty"));
          }
          Fields f(v.as_object());
          if (auto r = f.only({"refresh_token"}); !r) return ctx->reply_error(r.error());
          auto t = f.optional_string("refresh_token", 512);
          if (!t) return ctx->reply_error(t.error());
          refresh_token = *t;
        }
        auth.logout(ctx->principal(), refresh_token, answer_no_content(ctx));
      });
  logout.doc.success_status = 204;
  router.add(std::move(logout));

  router.add(
      make_route(verb::get, "/api/v1/auth/me", auth::Permission::kSelf,
                 "The caller: user profile (or API key), organization, role and permissions.",
                 "auth", [&auth](ContextPtr ctx) { describe_caller(auth, ctx); }));

  auto password = make_route(
      verb::put, "/api/v1/auth/password", auth::Permission::kSelf,
      "Change your own password (needs the current one); ends every session of yours, this one "
      "included: log in again with the new password.",
      "auth", [&auth](ContextPtr ctx) { change_password(auth, ctx); }, Body::kJson);
  password.doc.success_status = 204;
  password.doc.request_schema = {
      {"type", "object"},
      {"required", {"current_password", "new_password"}},
      {"properties",
       {{"current_password", {{"type", "string"}}}, {"new_password", {{"type", "string"}}}}}};
  router.add(std::move(password));
}

}  // namespace netpulse::api::detail

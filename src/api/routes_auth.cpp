// /api/v1/auth: login, token refresh, logout, the caller's own profile and password.
#include <optional>
#include <string>

#include <boost/json/parse.hpp>
#include <fmt/format.h>

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

// The web UI's session cookie holds the refresh token (docs/web.md): HttpOnly, so no script
// reads it; SameSite=Strict, so no other site's page sends it; under TLS `__Host-` and Secure
// (the browser keeps it for this origin only). Without TLS a Secure cookie would not be kept, so
// it is plain and limited to /api/v1/auth/.
struct SessionCookie {
  bool secure = false;
  std::int64_t max_age_s = 0;

  std::string_view name() const { return secure ? "__Host-netpulse_session" : "netpulse_session"; }
  std::string set(std::string_view token) const { return with(token, max_age_s); }
  std::string clear() const { return with("", 0); }
  // The cookie's value in a Cookie header, or nullopt.
  std::optional<std::string> read(std::string_view header) const {
    while (!header.empty()) {
      auto semi = header.find(';');
      auto item = header.substr(0, semi);
      header = semi == std::string_view::npos ? std::string_view() : header.substr(semi + 1);
      while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
      auto eq = item.find('=');
      if (eq == std::string_view::npos || item.substr(0, eq) != name()) continue;
      auto value = item.substr(eq + 1);
      if (value.empty() || value.size() > 512) return std::nullopt;
      return std::string(value);
    }
    return std::nullopt;
  }

 private:
  std::string with(std::string_view token, std::int64_t max_age) const {
    return fmt::format("{}={}; Path={}; Max-Age={}; HttpOnly; SameSite=Strict{}", name(), token,
                       secure ? "/" : "/api/v1/auth/", max_age, secure ? "; Secure" : "");
  }
};

// A request that the session cookie may answer: from this server's own pages. SameSite=Strict
// keeps other sites' requests from carrying the cookie at all; on top of it, a browser's
// Sec-Fetch-Site and Origin must name this origin when sent, and the route takes only
// Content-Type: application/json, which no form of another site can send without a CORS
// preflight that this server refuses.
core::Result<void> same_origin(const Context& ctx, bool tls) {
  const auto& rq = ctx.request();
  auto site = rq["Sec-Fetch-Site"];
  if (!site.empty() && site != "same-origin") {
    return core::Error(
        core::Errc::kInsufficientPermissions,
        fmt::format("the session cookie is refused from a {} request", std::string(site)),
        {{"field", "Sec-Fetch-Site"}});
  }
  auto origin = rq[http::field::origin];
  if (!origin.empty() && origin != fmt::format("{}://{}", tls ? "https" : "http",
                                               std::string(rq[http::field::host]))) {
    return core::Error(
        core::Errc::kInsufficientPermissions,
        fmt::format("the session cookie is refused from the origin {}", std::string(origin)),
        {{"field", "Origin"}});
  }
  return {};
}

// The answer of a cookie session: the access token only, the refresh token in the cookie.
boost::json::object cookie_token_json(const auth::TokenPair& t) {
  return {{"access_token", t.access_token},
          {"token_type", "Bearer"},
          {"expires_in", t.expires_in},
          {"session", "cookie"}};
}

// POST /api/v1/auth/login.
void log_in(auth::AuthService& auth, const SessionCookie& cookie, const ContextPtr& ctx) {
  Fields f(ctx->body());
  if (auto r = f.only({"email", "password", "org", "session"}); !r) {
    return ctx->reply_error(r.error());
  }
  auto session = f.optional_string("session", 16);
  if (!session) return ctx->reply_error(session.error());
  const bool use_cookie = *session && **session == "cookie";
  if (*session && !use_cookie && **session != "token") {
    return ctx->reply_error(core::Error(core::Errc::kInvalidInput,
                                        "session must be \"token\" (the default) or \"cookie\"",
                                        {{"field", "session"}}));
  }
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
  if (!use_cookie) return auth.login(std::move(request), answer_json(ctx, token_json));
  auth.login(std::move(request), [ctx, cookie](const core::Result<auth::TokenPair>& r) {
    if (!r) return ctx->reply_error(r.error());
    ctx->add_header("Set-Cookie", cookie.set(r->refresh_token));
    ctx->reply_data(cookie_token_json(*r));
  });
}

// POST /api/v1/auth/refresh: the token in the body, or else the session cookie's.
void refresh_session(auth::AuthService& auth, const SessionCookie& cookie, const ContextPtr& ctx) {
  Fields f(ctx->body());
  if (auto r = f.only({"refresh_token"}); !r) return ctx->reply_error(r.error());
  auto token = f.optional_string("refresh_token", 512, false);
  if (!token) return ctx->reply_error(token.error());
  if (*token) return auth.refresh(std::move(**token), answer_json(ctx, token_json));
  auto from_cookie = cookie.read(ctx->request()[http::field::cookie]);
  if (!from_cookie) {
    return ctx->reply_error(
        core::Error(core::Errc::kInvalidInput,
                    "refresh_token is required (in the body, or as the session cookie of a "
                    "signed-in browser)",
                    {{"field", "refresh_token"}}));
  }
  if (auto ok = same_origin(*ctx, cookie.secure); !ok) return ctx->reply_error(ok.error());
  auth.refresh(std::move(*from_cookie), [ctx, cookie](const core::Result<auth::TokenPair>& r) {
    if (!r) {
      ctx->add_header("Set-Cookie", cookie.clear());
      return ctx->reply_error(r.error());
    }
    ctx->add_header("Set-Cookie", cookie.set(r->refresh_token));
    ctx->reply_data(cookie_token_json(*r));
  });
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
  const SessionCookie cookie{deps.secure_cookies, deps.session_cookie_max_age_s};

  auto login = make_route(
      verb::post, "/api/v1/auth/login", std::nullopt,
      "Log in with email and password; returns an access and a refresh token. `org` (the "
      "organization's slug) is needed only when the email and password match accounts in "
      "several organizations. `session: \"cookie\"` (the web UI) puts the refresh token in an "
      "HttpOnly cookie instead of the answer.",
      "auth", [&auth, cookie](ContextPtr ctx) { log_in(auth, cookie, ctx); }, Body::kJson);
  login.doc.success_status = 200;
  login.doc.request_schema = {{"type", "object"},
                              {"required", {"email", "password"}},
                              {"properties",
                               {{"email", {{"type", "string"}}},
                                {"password", {{"type", "string"}}},
                                {"org", {{"type", "string"}}},
                                {"session", {{"type", "string"}, {"enum", {"token", "cookie"}}}}}}};
  login.doc.response_schema = token_schema();
  // The auth module audits logins itself, by account (a success, and a failure that locks an
  // account); an anonymous row per attempt would let anyone fill the log.
  login.audited = false;
  router.add(std::move(login));

  auto refresh = make_route(
      verb::post, "/api/v1/auth/refresh", std::nullopt,
      "Exchange a refresh token for a new token pair (the old one is used up). Without "
      "`refresh_token` in the body, the session cookie's is used and replaced (same-origin "
      "requests only).",
      "auth", [&auth, cookie](ContextPtr ctx) { refresh_session(auth, cookie, ctx); }, Body::kJson);
  refresh.doc.success_status = 200;
  refresh.doc.request_schema = {{"type", "object"},
                                {"properties", {{"refresh_token", {{"type", "string"}}}}}};
  refresh.doc.response_schema = token_schema();
  // Unauthenticated, machine-driven (every 15 minutes per session): counted in /metrics.
  refresh.audited = false;
  router.add(std::move(refresh));

  auto logout = make_route(
      verb::post, "/api/v1/auth/logout", auth::Permission::kSelf,
      "Revoke the access token used for this request and, when given, the refresh token's "
      "session (or the session cookie's, which is cleared). Body optional: "
      "{\"refresh_token\": \"...\"}.",
      "auth", [&auth, cookie](ContextPtr ctx) {
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
        if (auto c = cookie.read(ctx->request()[http::field::cookie])) {
          if (!refresh_token) refresh_token = std::move(*c);
          ctx->add_header("Set-Cookie", cookie.clear());
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

// The web UI as the real binary serves it (issue 16): index.html at "/" and at the app's own
// paths, hashed assets with a year's immutable cache, ETags and 304s, gzip as embedded and
// plain for clients without it, 404s for missing files and API paths, the strict CSP; and the
// session cookie that keeps the refresh token away from scripts: set at login, rotated by
// /auth/refresh, refused from other origins and other sites, cleared at sign-out, `__Host-` and
// Secure under TLS.
#include <regex>
#include <string>

#include <boost/json/parse.hpp>
#include <catch2/catch.hpp>

#include "support/peers.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"

using netpulse::test::HttpClient;
using netpulse::test::HttpResponse;
using netpulse::test::kAdminEmail;
using netpulse::test::kAdminPassword;
using netpulse::test::login;
using netpulse::test::ServerProcess;
using netpulse::test::TempDir;

namespace {

std::string asset(const std::string& html, const std::string& pattern) {
  std::smatch m;
  REQUIRE(std::regex_search(html, m, std::regex(pattern)));
  return m[1];
}

// The cookie's name=value from a Set-Cookie header.
std::string cookie_pair(const HttpResponse& res) {
  auto set = res.header("set-cookie");
  return set.substr(0, set.find(';'));
}

HttpResponse cookie_login(HttpClient& c) {
  return c.post_json("/api/v1/auth/login", std::string(R"({"email":")") + kAdminEmail +
                                               R"(","password":")" + kAdminPassword +
                                               R"(","session":"cookie"})");
}

HttpResponse refresh_with(HttpClient& c, const std::string& cookie,
                          std::vector<std::pair<std::string, std::string>> extra = {}) {
  extra.emplace_back("Cookie", "theme=dark; " + cookie);
  extra.emplace_back("Content-Type", "application/json");
  return c.send({"POST", "/api/v1/auth/refresh", extra, "{}"});
}

}  // namespace

TEST_CASE("web ui: index.html, hashed assets, ETags, gzip and the app's own paths", "[web]") {
  TempDir dir;
  ServerProcess server(dir.path());
  auto c = server.client();

  auto index = c.get("/");
  REQUIRE(index.status == 200);
  CHECK(index.header("content-type") == "text/html; charset=utf-8");
  CHECK(index.header("cache-control") == "no-cache");
  CHECK(index.body.find(R"(<div id="app">)") != std::string::npos);
  // The CSP stays strict: no inline script or style allowed, and none in the page.
  const auto csp = index.header("content-security-policy");
  CHECK(csp.find("unsafe-inline") == std::string::npos);
  CHECK(csp.find("script-src 'self'") != std::string::npos);
  CHECK(csp.find("connect-src 'self'") != std::string::npos);
  CHECK_FALSE(std::regex_search(index.body, std::regex("<script(?![^>]*\\ssrc=)")));
  CHECK(index.body.find("style=") == std::string::npos);
  CHECK(index.body.find("<style") == std::string::npos);
  CHECK(index.body.find("http://") == std::string::npos);  // no CDN, no internet
  CHECK(index.body.find("https://") == std::string::npos);

  const auto script =
      asset(index.body, R"re(<script type="module" src="(/assets/app-[A-Z0-9]+\.js)")re");
  const auto style =
      asset(index.body, R"re(<link rel="stylesheet" href="(/assets/app-[A-Z0-9]+\.css)")re");
  auto js = c.get(script);
  REQUIRE(js.status == 200);
  CHECK(js.header("content-type") == "text/javascript; charset=utf-8");
  CHECK(js.header("cache-control") == "public, max-age=31536000, immutable");
  CHECK(js.header("vary") == "Accept-Encoding");
  CHECK(js.body.size() > 1000);
  // The code the app imports at once is preloaded beside it (pages come later, on demand): each
  // chunk is served immutable, and the API client is in one of them.
  bool has_api_client = js.body.find("api/v1/auth/refresh") != std::string::npos;
  const std::regex preload(R"re(<link rel="modulepreload" href="(/assets/chunk-[A-Z0-9]+\.js)")re");
  int chunks = 0;
  for (std::sregex_iterator it(index.body.begin(), index.body.end(), preload), end; it != end;
       ++it) {
    auto chunk = c.get((*it)[1].str());
    INFO((*it)[1].str());
    CHECK(chunk.status == 200);
    CHECK(chunk.header("cache-control") == "public, max-age=31536000, immutable");
    has_api_client = has_api_client || chunk.body.find("api/v1/auth/refresh") != std::string::npos;
    ++chunks;
  }
  CHECK(chunks >= 1);
  CHECK(has_api_client);
  auto css = c.get(style);
  REQUIRE(css.status == 200);
  CHECK(css.header("content-type") == "text/css; charset=utf-8");

  // gzip as embedded when the client takes it: smaller, and the same ETag.
  auto gz = c.send({"GET", script, {{"Accept-Encoding", "gzip"}}, ""});
  REQUIRE(gz.status == 200);
  CHECK(gz.header("content-encoding") == "gzip");
  CHECK(gz.header("vary").find("Accept-Encoding") != std::string::npos);
  REQUIRE(gz.body.size() > 2);
  CHECK(static_cast<unsigned char>(gz.body[0]) == 0x1f);
  CHECK(static_cast<unsigned char>(gz.body[1]) == 0x8b);
  CHECK(gz.body.size() < js.body.size() / 2);
  CHECK(gz.header("etag") == js.header("etag"));

  // A revalidation with the ETag is a 304 without a body; another ETag gets the file.
  const auto etag = index.header("etag");
  REQUIRE(std::regex_match(etag, std::regex(R"("[0-9a-f]{16}")")));
  auto same = c.send({"GET", "/", {{"If-None-Match", etag}}, ""});
  CHECK(same.status == 304);
  CHECK(same.body.empty());
  CHECK(same.header("etag") == etag);
  CHECK(c.send({"GET", "/", {{"If-None-Match", "W/" + etag + ", \"x\""}}, ""}).status == 304);
  CHECK(c.send({"GET", "/", {{"If-None-Match", "\"0000000000000000\""}}, ""}).status == 200);

  // The app's own paths get index.html (client routing); HEAD as GET without the body.
  for (auto path : {"/devices", "/devices/12", "/alerts/7/", "/login", "/account/password?x=1"}) {
    INFO(path);
    auto page = c.get(path);
    CHECK(page.status == 200);
    CHECK(page.body == index.body);
  }
  auto head = c.send({"HEAD", "/devices/12", {}, ""});
  CHECK(head.status == 200);
  CHECK(head.body.empty());
  CHECK(head.header("etag") == etag);
  CHECK(c.get("/favicon.svg").header("content-type") == "image/svg+xml");

  // A file that is not here is a 404, not a page; so is every unknown API path, as JSON.
  for (auto path : {"/assets/app-NOPE.js", "/assets/", "/favicon.ico", "/devices/logo.png",
                    "/api/v1/nope", "/api/"}) {
    INFO(path);
    auto missing = c.get(path);
    CHECK(missing.status == 404);
    CHECK(missing.header("content-type") == "application/json");
    CHECK(missing.json().at("error").at("code") == "NOT_FOUND");
  }
  // The site is read-only.
  CHECK(c.send({"POST", "/", {{"Content-Type", "text/plain"}}, "x"}).status == 404);
  CHECK(c.send({"DELETE", "/devices/12", {}, ""}).status == 404);
  // Hostile paths are not files.
  for (auto path : {"/../../etc/passwd", "/assets/../index.html", "/%2e%2e/etc/passwd",
                    "/assets/app-x.js%00.html"}) {
    INFO(path);
    auto res = c.get(path);
    CHECK(res.body.find("root:") == std::string::npos);
    CHECK((res.status == 404 || res.status == 400 || res.body == index.body));
  }
  CHECK(server.running());
}

TEST_CASE("web ui: the session cookie holds the refresh token, rotates, and stays same-origin",
          "[web][auth]") {
  TempDir dir;
  ServerProcess server(dir.path());
  auto c = server.client();

  auto res = cookie_login(c);
  INFO(res.body);
  REQUIRE(res.status == 200);
  const auto set = res.header("set-cookie");
  CHECK(set.rfind("netpulse_session=", 0) == 0);
  CHECK(set.find("; HttpOnly") != std::string::npos);
  CHECK(set.find("; SameSite=Strict") != std::string::npos);
  CHECK(set.find("; Path=/api/v1/auth/") != std::string::npos);
  CHECK(set.find("; Max-Age=2592000") != std::string::npos);
  CHECK(set.find("Secure") == std::string::npos);  // plain HTTP: a Secure cookie is not kept
  const auto data = res.json().at("data").as_object();
  CHECK_FALSE(data.contains("refresh_token"));  // never where a script can read it
  CHECK(data.at("session") == "cookie");
  const auto access = std::string(data.at("access_token").as_string());
  CHECK(c.get("/api/v1/auth/me", access).status == 200);
  const auto first = cookie_pair(res);

  // A refresh with the cookie: a new access token and a new cookie.
  auto r1 = refresh_with(c, first,
                         {{"Origin", "http://127.0.0.1:" + std::to_string(server.port())},
                          {"Sec-Fetch-Site", "same-origin"}});
  INFO(r1.body);
  REQUIRE(r1.status == 200);
  const auto second = cookie_pair(r1);
  CHECK(second != first);
  CHECK_FALSE(r1.json().at("data").as_object().contains("refresh_token"));
  CHECK(c.get("/api/v1/auth/me", std::string(r1.json().at("data").at("access_token").as_string()))
            .status == 200);

  // From another site or origin the cookie is refused, and stays valid.
  auto cross = refresh_with(c, second, {{"Sec-Fetch-Site", "cross-site"}});
  CHECK(cross.status == 403);
  CHECK(cross.json().at("error").at("details").at("field") == "Sec-Fetch-Site");
  auto foreign = refresh_with(c, second, {{"Origin", "https://evil.example"}});
  CHECK(foreign.status == 403);
  CHECK(foreign.json().at("error").at("details").at("field") == "Origin");
  CHECK(foreign.header("set-cookie").empty());
  // Only JSON: a form post from a page cannot use it.
  auto form = c.send({"POST",
                      "/api/v1/auth/refresh",
                      {{"Cookie", second}, {"Content-Type", "application/x-www-form-urlencoded"}},
                      "a=b"});
  CHECK(form.status == 415);

  // The used cookie again is a replay: refused, the cookie cleared, and the family revoked.
  auto replay = refresh_with(c, first);
  CHECK(replay.status == 401);
  CHECK(replay.header("set-cookie").find("Max-Age=0") != std::string::npos);
  CHECK(refresh_with(c, second).status == 401);

  // No cookie and no token: a clear 400 naming what is missing (an oversized cookie is none);
  // a cookie that is no session's is a 401.
  auto none = c.post_json("/api/v1/auth/refresh", "{}");
  CHECK(none.status == 400);
  CHECK(none.json().at("error").at("details").at("field") == "refresh_token");
  CHECK(refresh_with(c, "netpulse_session=" + std::string(600, 'A')).status == 400);
  CHECK(refresh_with(c, "netpulse_session=" + std::string(60, 'A')).status == 401);
  CHECK(refresh_with(c, "netpulse_session=;;=;x").status == 400);  // empty: none
  // Control bytes in the header: the HTTP parser refuses the request itself.
  CHECK(refresh_with(c, "netpulse_session=\x01\x02").status == 400);
  CHECK(c.post_json("/api/v1/auth/login", R"({"email":"a@b.c","password":"x","session":"jar"})")
            .status == 400);

  // Sign-out with the cookie revokes its session and clears it.
  auto again = cookie_login(c);
  REQUIRE(again.status == 200);
  const auto third = cookie_pair(again);
  const auto token3 = std::string(again.json().at("data").at("access_token").as_string());
  auto out = c.send({"POST",
                     "/api/v1/auth/logout",
                     {{"Authorization", "Bearer " + token3}, {"Cookie", third}},
                     ""});
  CHECK(out.status == 204);
  CHECK(out.header("set-cookie").find("Max-Age=0") != std::string::npos);
  CHECK(refresh_with(c, third).status == 401);
  CHECK(c.get("/api/v1/auth/me", token3).status == 401);

  // The token flow of API clients is unchanged.
  auto token_login =
      c.post_json("/api/v1/auth/login", std::string(R"({"email":")") + kAdminEmail +
                                            R"(","password":")" + kAdminPassword + R"("})");
  REQUIRE(token_login.status == 200);
  CHECK(token_login.header("set-cookie").empty());
  CHECK(token_login.json().at("data").at("refresh_token").is_string());
  CHECK(server.running());
}

TEST_CASE("web ui: under TLS the session cookie is __Host- and Secure", "[web][auth]") {
  TempDir dir;
  const auto pki = netpulse::test::TestPki::make(dir);
  ServerProcess server(dir.path(), {{"NETPULSE_HTTP_TLS_ENABLED", "true"},
                                    {"NETPULSE_HTTP_TLS_CERT_FILE", pki.leaf},
                                    {"NETPULSE_HTTP_TLS_KEY_FILE", pki.key},
                                    {"NETPULSE_AUTH_REFRESH_TOKEN_TTL_S", "3600"}});
  REQUIRE(server.tls());
  auto c = server.client();
  auto res = cookie_login(c);
  REQUIRE(res.status == 200);
  const auto set = res.header("set-cookie");
  CHECK(set.rfind("__Host-netpulse_session=", 0) == 0);
  CHECK(set.find("; Path=/;") != std::string::npos);
  CHECK(set.find("; Secure") != std::string::npos);
  CHECK(set.find("; Max-Age=3600") != std::string::npos);
  auto r = c.send({"POST",
                   "/api/v1/auth/refresh",
                   {{"Cookie", cookie_pair(res)},
                    {"Content-Type", "application/json"},
                    {"Origin", "https://127.0.0.1:" + std::to_string(server.port())}},
                   "{}"});
  INFO(r.body);
  CHECK(r.status == 200);
  // The plain name is not this server's cookie under TLS: as if there were none.
  auto plain = c.send({"POST",
                       "/api/v1/auth/refresh",
                       {{"Cookie", "netpulse_session=" + cookie_pair(r).substr(24)},
                        {"Content-Type", "application/json"}},
                       "{}"});
  CHECK(plain.status == 400);
  CHECK(c.get("/").status == 200);
}

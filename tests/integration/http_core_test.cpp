// The HTTP core of the real binary: security headers, request ids, CORS for configured origins
// only, gzip, per-IP and per-user rate limits with Retry-After, TLS (1.2+) with HSTS, and the
// operational endpoints (/alive, /ready, /health, /metrics).
#include <cstdlib>
#include <regex>

#include <boost/json/parse.hpp>
#include <catch2/catch.hpp>

#include "support/server_process.hpp"
#include "support/temp_dir.hpp"

using netpulse::test::HttpClient;
using netpulse::test::HttpRequest;
using netpulse::test::kAdminEmail;
using netpulse::test::kAdminPassword;
using netpulse::test::login;
using netpulse::test::ServerProcess;
using netpulse::test::TempDir;

TEST_CASE("http: every answer carries a request id and the security headers") {
  TempDir dir;
  ServerProcess server(dir.path());
  auto c = server.client();
  for (auto target : {"/alive", "/api/v1/auth/me", "/nope"}) {
    INFO(target);
    auto res = c.get(target);
    CHECK_FALSE(res.header("x-request-id").empty());
    CHECK(res.header("x-content-type-options") == "nosniff");
    CHECK(res.header("x-frame-options") == "DENY");
    CHECK(res.header("referrer-policy") == "no-referrer");
    CHECK(res.header("content-security-policy").find("frame-ancestors 'none'") !=
          std::string::npos);
    CHECK(res.header("strict-transport-security").empty());  // plain HTTP: no HSTS
  }
  // A client's own request id is echoed (and appears in the envelope); a hostile one is replaced.
  auto mine = c.send({"GET", "/api/v1/auth/me", {{"X-Request-ID", "trace-123.abc"}}, ""});
  CHECK(mine.header("x-request-id") == "trace-123.abc");
  CHECK(mine.json().at("meta").at("request_id").as_string() == "trace-123.abc");
  auto hostile = c.send({"GET", "/alive", {{"X-Request-ID", "a b\"<script>"}}, ""});
  CHECK(hostile.header("x-request-id") != "a b\"<script>");
  CHECK(hostile.header("x-request-id").rfind("req_", 0) == 0);
}

TEST_CASE("http: CORS answers configured origins only") {
  TempDir dir;
  ServerProcess server(dir.path(),
                       {{"NETPULSE_HTTP_CORS_ALLOWED_ORIGINS", "https://noc.example.net"}});
  auto c = server.client();
  auto preflight =
      c.send({"OPTIONS",
              "/api/v1/users",
              {{"Origin", "https://noc.example.net"}, {"Access-Control-Request-Method", "POST"}},
              ""});
  CHECK(preflight.status == 204);
  CHECK(preflight.header("access-control-allow-methods").find("POST") != std::string::npos);
  CHECK(preflight.header("access-control-allow-headers").find("Authorization") !=
        std::string::npos);
  auto allowed = c.send({"GET", "/alive", {{"Origin", "https://noc.example.net"}}, ""});
  CHECK(allowed.header("access-control-allow-origin") == "https://noc.example.net");
  CHECK(allowed.header("vary").find("Origin") != std::string::npos);

  auto other =
      c.send({"OPTIONS",
              "/api/v1/users",
              {{"Origin", "https://evil.example"}, {"Access-Control-Request-Method", "POST"}},
              ""});
  CHECK(other.header("access-control-allow-origin").empty());
  CHECK(other.header("access-control-allow-methods").empty());
  auto simple = c.send({"GET", "/alive", {{"Origin", "https://evil.example"}}, ""});
  CHECK(simple.header("access-control-allow-origin").empty());
}

TEST_CASE("http: large answers are gzipped when the client accepts gzip, small ones are not") {
  TempDir dir;
  ServerProcess server(dir.path());
  auto c = server.client();
  auto big = c.send({"GET", "/api/v1/openapi.json", {{"Accept-Encoding", "gzip, br"}}, ""});
  REQUIRE(big.status == 200);
  CHECK(big.header("content-encoding") == "gzip");
  CHECK(big.header("vary").find("Accept-Encoding") != std::string::npos);
  REQUIRE(big.body.size() > 2);
  CHECK(static_cast<unsigned char>(big.body[0]) == 0x1f);
  auto plain = c.get("/api/v1/openapi.json");
  CHECK(plain.header("content-encoding").empty());
  CHECK(plain.body.size() > big.body.size() * 3);
  CHECK(plain.json().is_object());
  auto small = c.send({"GET", "/alive", {{"Accept-Encoding", "gzip"}}, ""});
  CHECK(small.header("content-encoding").empty());
  auto refused = c.send({"GET", "/api/v1/openapi.json", {{"Accept-Encoding", "gzip;q=0"}}, ""});
  CHECK(refused.header("content-encoding").empty());
}

TEST_CASE("http: per-IP rate limit answers 429 with Retry-After; health checks are exempt") {
  TempDir dir;
  ServerProcess server(dir.path(), {{"NETPULSE_HTTP_RATE_LIMIT_PER_IP_RPS", "0.5"},
                                    {"NETPULSE_HTTP_RATE_LIMIT_PER_IP_BURST", "5"}});
  auto c = server.client();
  int ok = 0, limited = 0;
  netpulse::test::HttpResponse last;
  for (int i = 0; i < 8; ++i) {
    auto res = c.get("/api/v1/openapi.json");
    if (res.status == 429) {
      ++limited;
      last = res;
    } else {
      ++ok;
    }
  }
  CHECK(ok == 5);
  CHECK(limited == 3);
  CHECK(last.error_code() == "RATE_LIMIT_EXCEEDED");
  auto retry = std::atoi(last.header("retry-after").c_str());
  CHECK(retry >= 1);
  CHECK(retry <= 2);
  for (int i = 0; i < 20; ++i) REQUIRE(c.get("/alive").status == 200);
  CHECK(c.get("/health").status == 200);
}

TEST_CASE("http: per-user rate limit applies per user, not to everyone on the address") {
  TempDir dir;
  ServerProcess server(dir.path(), {{"NETPULSE_HTTP_RATE_LIMIT_PER_USER_RPS", "0.5"},
                                    {"NETPULSE_HTTP_RATE_LIMIT_PER_USER_BURST", "3"}});
  auto c = server.client();
  auto admin = login(c, kAdminEmail, kAdminPassword);
  // Create the second user first: that request counts against the admin's budget too.
  REQUIRE(c.post_json("/api/v1/users",
                      R"({"email":"op@isp.example","role":"operator","password":"operator-pw-1"})",
                      admin)
              .status == 201);
  auto op = login(c, "op@isp.example", "operator-pw-1");
  int limited = 0;
  for (int i = 0; i < 4; ++i) {
    auto res = c.get("/api/v1/auth/me", admin);
    if (res.status == 429) {
      ++limited;
      CHECK(res.json().at("error").at("details").at("scope").as_string() == "user");
      CHECK_FALSE(res.header("retry-after").empty());
    }
  }
  CHECK(limited >= 2);
  // The operator, on the same address, still has its own budget.
  CHECK(c.get("/api/v1/auth/me", op).status == 200);
}

TEST_CASE("http: /health checks the database, /ready and /alive answer, /metrics exposes figures") {
  TempDir dir;
  ServerProcess server(dir.path());
  auto c = server.client();
  auto health = c.get("/health");
  REQUIRE(health.status == 200);
  auto h = health.json().as_object();
  CHECK(h.at("status").as_string() == "healthy");
  CHECK(h.at("checks").at("database").at("status").as_string() == "ok");
  CHECK(c.get("/ready").json().at("status").as_string() == "ready");
  CHECK(c.get("/alive").status == 200);
  login(c, kAdminEmail, kAdminPassword);

  auto metrics = c.get("/metrics");
  REQUIRE(metrics.status == 200);
  CHECK(metrics.header("content-type").rfind("text/plain; version=0.0.4", 0) == 0);
  auto& m = metrics.body;
  for (auto name :
       {"netpulse_http_requests_total{", "netpulse_http_request_duration_seconds_bucket{",
        "netpulse_http_open_connections ", "netpulse_db_write_queue_depth ",
        "netpulse_db_commit_seconds_bucket{", "process_resident_memory_bytes ",
        "process_cpu_seconds_total ", "netpulse_uptime_seconds ", "netpulse_auth_logins_total{"}) {
    INFO(name);
    CHECK(m.find(name) != std::string::npos);
  }
  CHECK(m.find(R"(route="/api/v1/auth/login",method="POST",status="200")") != std::string::npos);
  std::smatch rss;
  REQUIRE(std::regex_search(m, rss, std::regex(R"(process_resident_memory_bytes (\d+))")));
  CHECK(std::stod(rss[1]) > 1e6);
  // Every non-comment line is "name{labels} value".
  std::regex line(R"(^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})? [-+0-9.eEInfNa]+$)");
  std::size_t start = 0;
  while (start < m.size()) {
    auto end = m.find('\n', start);
    auto l = m.substr(start, end - start);
    start = end + 1;
    if (l.empty() || l[0] == '#') continue;
    INFO(l);
    CHECK(std::regex_match(l, line));
  }
}

TEST_CASE("http: TLS 1.2+ with HSTS; plain HTTP and TLS 1.1 are refused on the TLS port") {
  TempDir dir;
  auto cert = dir.file("cert.pem");
  auto key = dir.file("key.pem");
  auto cmd = "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost -keyout " +
             key + " -out " + cert + " >/dev/null 2>&1";
  REQUIRE(std::system(cmd.c_str()) == 0);
  ServerProcess server(dir.path(), {{"NETPULSE_HTTP_TLS_ENABLED", "true"},
                                    {"NETPULSE_HTTP_TLS_CERT_FILE", cert},
                                    {"NETPULSE_HTTP_TLS_KEY_FILE", key}});
  REQUIRE(server.tls());
  auto c = server.client();
  auto res = c.get("/alive");
  CHECK(res.status == 200);
  CHECK(res.header("strict-transport-security").find("max-age=") == 0);
  auto token = login(c, kAdminEmail, kAdminPassword);
  CHECK(c.get("/api/v1/auth/me", token).status == 200);

  // Speaking plain HTTP to the TLS port gets no HTTP answer.
  HttpClient plain("127.0.0.1", server.port(), false, std::chrono::seconds(5));
  auto raw = plain.raw_exchange("GET /alive HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK(raw.find("HTTP/1.1 200") == std::string::npos);

  auto port = std::to_string(server.port());
  auto tls11 = "echo | openssl s_client -connect 127.0.0.1:" + port + " -tls1_1 >/dev/null 2>&1";
  CHECK(std::system(tls11.c_str()) != 0);
  auto tls12 = "echo | openssl s_client -connect 127.0.0.1:" + port + " -tls1_2 >/dev/null 2>&1";
  CHECK(std::system(tls12.c_str()) == 0);
  CHECK(server.running());
}

TEST_CASE("http: a missing TLS certificate is a clear start-up error") {
  TempDir dir;
  CHECK_THROWS_WITH(ServerProcess(dir.path(), {{"NETPULSE_HTTP_TLS_ENABLED", "true"},
                                               {"NETPULSE_HTTP_TLS_CERT_FILE", "/nonexistent.pem"},
                                               {"NETPULSE_HTTP_TLS_KEY_FILE", "/nonexistent.key"}}),
                    Catch::Contains("http.tls.cert_file"));
}

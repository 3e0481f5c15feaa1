// Hostile input against the real binary: malformed and mistyped JSON bodies, wrong content types
// and encodings, invalid UTF-8, oversized bodies, headers and values, malformed HTTP, bad path and
// query parameters, unknown routes and wrong methods, slow clients and too many connections.
// Each refusal must be a 4xx error envelope (success=false, error.code, error.message,
// meta.request_id) naming the field to blame where there is one, or, for bytes that are not
// HTTP, a 400 or a closed connection. After every case a new connection must still get 200 from
// /alive, nothing hostile may have been stored, and the process must still be running at the end.
#include <arpa/inet.h>
#include <chrono>
#include <map>
#include <memory>
#include <netinet/in.h>
#include <poll.h>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "support/server_process.hpp"
#include "support/temp_dir.hpp"

using netpulse::test::HttpClient;
using netpulse::test::HttpRequest;
using netpulse::test::HttpResponse;
using netpulse::test::kAdminEmail;
using netpulse::test::kAdminPassword;
using netpulse::test::login;
using netpulse::test::ServerProcess;
using netpulse::test::TempDir;

namespace {

using Clock = std::chrono::steady_clock;
using Headers = std::vector<std::pair<std::string, std::string>>;

// Login throttling would turn the deliberate failures below into 429s; these tests are about
// input handling, so it is raised out of the way.
std::map<std::string, std::string> hostile_env(std::map<std::string, std::string> extra = {}) {
  std::map<std::string, std::string> env = {{"NETPULSE_AUTH_THROTTLE_ACCOUNT_FAILURES", "1000"},
                                            {"NETPULSE_AUTH_THROTTLE_IP_FAILURES", "100000"}};
  for (auto& [k, v] : extra) env[k] = v;
  return env;
}

// The error envelope of the house plan, with `field` in error.details when given.
void check_envelope(const HttpResponse& res, int status, const std::string& code,
                    const std::string& field = "") {
  INFO("status " << res.status << ": " << res.body.substr(0, 2000));
  CHECK(res.status == status);
  auto v = res.json();
  REQUIRE(v.is_object());
  auto& env = v.as_object();
  CHECK(env.contains("success"));
  if (env.contains("success")) CHECK(env.at("success") == false);
  REQUIRE(env.contains("error"));
  REQUIRE(env.at("error").is_object());
  auto& err = env.at("error").as_object();
  REQUIRE(err.contains("code"));
  CHECK(err.at("code").is_string());
  if (!code.empty() && err.at("code").is_string()) CHECK(err.at("code").as_string() == code);
  CHECK(err.contains("message"));
  if (err.contains("message")) {
    CHECK(err.at("message").is_string());
    if (err.at("message").is_string()) CHECK(!err.at("message").as_string().empty());
  }
  CHECK(env.contains("meta"));
  if (env.contains("meta") && env.at("meta").is_object()) {
    auto* rid = env.at("meta").as_object().if_contains("request_id");
    CHECK(rid != nullptr);
    if (rid) {
      CHECK(rid->is_string());
      if (rid->is_string()) CHECK(!rid->as_string().empty());
    }
  }
  if (!field.empty()) {
    auto* details = err.if_contains("details");
    REQUIRE(details != nullptr);
    REQUIRE(details->is_object());
    auto* f = details->as_object().if_contains("field");
    REQUIRE(f != nullptr);
    REQUIRE(f->is_string());
    CHECK(f->as_string() == field);
  }
}

// GET /alive on a brand-new connection.
void check_alive(const ServerProcess& server) {
  HttpClient fresh("127.0.0.1", server.port());
  HttpResponse res;
  REQUIRE_NOTHROW(res = fresh.get("/alive"));
  CHECK(res.status == 200);
}

std::string repeat(const std::string& s, std::size_t n) {
  std::string out;
  out.reserve(s.size() * n);
  for (std::size_t i = 0; i < n; ++i) out += s;
  return out;
}

constexpr const char* kNoContentType = "<none>";

struct BodyCase {
  std::string what;
  std::string body;
  std::string content_type;  // "": application/json; kNoContentType: no header at all
  Headers headers;
  int status = 400;
  std::string code;
  std::string field;
};

// The syntax and media-type cases every JSON endpoint must refuse the same way.
std::vector<BodyCase> common_body_cases() {
  const std::string deep_arrays = repeat("[", 10000) + repeat("]", 10000);
  const std::string deep_objects = repeat(R"({"a":)", 10000) + "1" + repeat("}", 10000);
  const std::string valid = R"({"email":"x@y.example","password":"abcdefgh1"})";
  return {
      {"truncated JSON", R"({"email":"x@y.example","password":)", {}, {}, 400, "MALFORMED_JSON"},
      {"trailing garbage", valid + " trailing", {}, {}, 400, "MALFORMED_JSON"},
      {"two objects", "{}{}", {}, {}, 400, "MALFORMED_JSON"},
      {"empty body", "", {}, {}, 400, "MALFORMED_JSON"},
      {"single quotes", "{'email':'x@y.example'}", {}, {}, 400, "MALFORMED_JSON"},
      {"array instead of object", "[" + valid + "]", {}, {}, 400, "INVALID_INPUT", "body"},
      {"string instead of object", R"("hello")", {}, {}, 400, "INVALID_INPUT", "body"},
      {"null instead of object", "null", {}, {}, 400, "INVALID_INPUT", "body"},
      {"number instead of object", "42", {}, {}, 400, "INVALID_INPUT", "body"},
      {"arrays nested 10000 deep", deep_arrays, {}, {}, 400, "MALFORMED_JSON"},
      {"objects nested 10000 deep", deep_objects, {}, {}, 400, "MALFORMED_JSON"},
      {"invalid UTF-8 in a string",
       "{\"email\":\"\xff\xfe@y.example\",\"password\":\"abcdefgh1\"}",
       {},
       {},
       400,
       "MALFORMED_JSON"},
      {"overlong 2-byte UTF-8",
       "{\"email\":\"\xc0\xaf@y.example\",\"password\":\"abcdefgh1\"}",
       {},
       {},
       400,
       "MALFORMED_JSON"},
      {"overlong 3-byte UTF-8",
       "{\"email\":\"\xe0\x80\xaf@y.example\",\"password\":\"abcdefgh1\"}",
       {},
       {},
       400,
       "MALFORMED_JSON"},
      {"UTF-8 encoded surrogate",
       "{\"email\":\"\xed\xa0\x80@y.example\",\"password\":\"abcdefgh1\"}",
       {},
       {},
       400,
       "MALFORMED_JSON"},
      {"truncated UTF-8 sequence",
       "{\"email\":\"\xe2\x82\",\"password\":\"abcdefgh1\"}",
       {},
       {},
       400,
       "MALFORMED_JSON"},
      {"raw NUL inside a string",
       std::string("{\"email\":\"x") + '\0' + "y@y.example\",\"password\":\"abcdefgh1\"}",
       {},
       {},
       400,
       "MALFORMED_JSON"},
      {"raw NUL after the object", valid + std::string(1, '\0'), {}, {}, 400, "MALFORMED_JSON"},
      {"Content-Type text/plain",
       valid,
       "text/plain",
       {},
       415,
       "UNSUPPORTED_MEDIA_TYPE",
       "Content-Type"},
      {"no Content-Type", valid, kNoContentType, {}, 415, "UNSUPPORTED_MEDIA_TYPE", "Content-Type"},
      {"Content-Type multipart",
       valid,
       "multipart/form-data; boundary=xyz",
       {},
       415,
       "UNSUPPORTED_MEDIA_TYPE",
       "Content-Type"},
      {"Content-Type application/jsonp",
       valid,
       "application/jsonp",
       {},
       415,
       "UNSUPPORTED_MEDIA_TYPE",
       "Content-Type"},
      {"Content-Type form",
       "email=x%40y.example&password=abcdefgh1",
       "application/x-www-form-urlencoded",
       {},
       415,
       "UNSUPPORTED_MEDIA_TYPE",
       "Content-Type"},
      {"Content-Encoding gzip",
       valid,
       "application/json",
       {{"Content-Encoding", "gzip"}},
       415,
       "UNSUPPORTED_MEDIA_TYPE",
       "Content-Encoding"},
      {"Content-Encoding deflate",
       valid,
       "application/json",
       {{"Content-Encoding", "deflate"}},
       415,
       "UNSUPPORTED_MEDIA_TYPE",
       "Content-Encoding"},
  };
}

HttpResponse post_case(HttpClient& c, const std::string& target, const BodyCase& k,
                       const std::string& bearer) {
  HttpRequest r;
  r.method = "POST";
  r.target = target;
  if (!bearer.empty()) r.headers.emplace_back("Authorization", "Bearer " + bearer);
  if (k.content_type.empty()) {
    r.headers.emplace_back("Content-Type", "application/json");
  } else if (k.content_type != kNoContentType) {
    r.headers.emplace_back("Content-Type", k.content_type);
  }
  for (auto& h : k.headers) r.headers.push_back(h);
  r.body = k.body;
  return c.send(r);
}

void run_body_cases(const ServerProcess& server, const std::string& target,
                    const std::vector<BodyCase>& cases, const std::string& bearer) {
  auto c = server.client();
  for (auto& k : cases) {
    INFO("POST " << target << ": " << k.what);
    HttpResponse res;
    REQUIRE_NOTHROW(res = post_case(c, target, k, bearer));
    check_envelope(res, k.status, k.code, k.field);
    check_alive(server);
  }
}

struct TargetCase {
  std::string method;
  std::string target;
  int status;
  std::string code;
  std::string field;
  std::string body = "";  // sent as JSON when not empty
};

void run_target_cases(const ServerProcess& server, const std::vector<TargetCase>& cases,
                      const std::string& bearer) {
  auto c = server.client();
  for (auto& k : cases) {
    INFO(k.method << " " << k.target);
    HttpRequest r;
    r.method = k.method;
    r.target = k.target;
    if (!bearer.empty()) r.headers.emplace_back("Authorization", "Bearer " + bearer);
    if (!k.body.empty()) {
      r.headers.emplace_back("Content-Type", "application/json");
      r.body = k.body;
    }
    HttpResponse res;
    REQUIRE_NOTHROW(res = c.send(r));
    check_envelope(res, k.status, k.code, k.field);
    check_alive(server);
  }
}

std::string status_line(const std::string& raw) {
  return raw.substr(0, raw.find("\r\n"));
}

// A raw TCP connection for slow-client tests, with every wait bounded.
class RawConnection {
 public:
  explicit RawConnection(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd_ >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  }
  ~RawConnection() {
    if (fd_ >= 0) ::close(fd_);
  }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  // False when the server has closed (or reset) the connection.
  bool write(const std::string& bytes) {
    return ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
           static_cast<ssize_t>(bytes.size());
  }

  // Waits up to `limit` for the server to close; true when it did. What it sent is kept.
  bool wait_closed(std::chrono::milliseconds limit) {
    auto deadline = Clock::now() + limit;
    while (Clock::now() < deadline) {
      if (poll_closed(deadline)) return true;
    }
    return false;
  }

  // Reads whatever is available until `deadline`; true when the server closed.
  bool poll_closed(Clock::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() < 0) left = std::chrono::milliseconds(0);
    pollfd p{fd_, POLLIN, 0};
    int n = ::poll(&p, 1, static_cast<int>(left.count()));
    if (n <= 0) return false;
    char buf[4096];
    auto got = ::recv(fd_, buf, sizeof buf, 0);
    if (got <= 0) return true;
    received_.append(buf, static_cast<std::size_t>(got));
    return false;
  }

  const std::string& received() const { return received_; }

 private:
  int fd_ = -1;
  std::string received_;
};

}  // namespace

TEST_CASE(
    "hostile input: malformed, mistyped and oversized login bodies get a 4xx envelope "
    "naming the field, and the server keeps serving",
    "[hostile]") {
  TempDir dir;
  ServerProcess server(dir.path(), hostile_env());
  auto cases = common_body_cases();
  const std::string mb(1 << 20, 'a');
  std::vector<BodyCase> login_cases = {
      {"charset parameter is accepted",
       "{}",
       "application/json; charset=utf-8",
       {},
       400,
       "INVALID_INPUT",
       "email"},
      {"missing email", R"({"password":"abcdefgh1"})", {}, {}, 400, "INVALID_INPUT", "email"},
      {"missing password", R"({"email":"x@y.example"})", {}, {}, 400, "INVALID_INPUT", "password"},
      {"email as number",
       R"({"email":42,"password":"abcdefgh1"})",
       {},
       {},
       400,
       "INVALID_INPUT",
       "email"},
      {"email as null",
       R"({"email":null,"password":"abcdefgh1"})",
       {},
       {},
       400,
       "INVALID_INPUT",
       "email"},
      {"email as object",
       R"({"email":{"$ne":""},"password":"abcdefgh1"})",
       {},
       {},
       400,
       "INVALID_INPUT",
       "email"},
      {"password as array",
       R"({"email":"x@y.example","password":["a"]})",
       {},
       {},
       400,
       "INVALID_INPUT",
       "password"},
      {"password as boolean",
       R"({"email":"x@y.example","password":true})",
       {},
       {},
       400,
       "INVALID_INPUT",
       "password"},
      {"empty email",
       R"({"email":"","password":"abcdefgh1"})",
       {},
       {},
       400,
       "INVALID_INPUT",
       "email"},
      {"unknown extra field",
       R"({"email":"x@y.example","password":"abcdefgh1","admin":true})",
       {},
       {},
       400,
       "INVALID_INPUT",
       "admin"},
      {"1 MB email",
       R"({"email":")" + mb + R"(","password":"abcdefgh1"})",
       {},
       {},
       400,
       "INVALID_INPUT",
       "email"},
      {"1 MB password",
       R"({"email":"x@y.example","password":")" + mb + R"("})",
       {},
       {},
       400,
       "INVALID_INPUT",
       "password"},
      // Login does not say which part of a credential is wrong: an impossible email is simply
      // not an account.
      {"escaped NUL in the email",
       R"({"email":"admin\u0000@netpulse.local","password":"x1"})",
       {},
       {},
       401,
       "INVALID_CREDENTIALS"},
  };
  cases.insert(cases.end(), login_cases.begin(), login_cases.end());
  run_body_cases(server, "/api/v1/auth/login", cases, "");

  // Still a working server: the real admin logs in.
  auto c = server.client();
  login(c, kAdminEmail, kAdminPassword);
  CHECK(server.running());
}

TEST_CASE(
    "hostile input: malformed and mistyped user bodies are refused naming the field and "
    "create nothing",
    "[hostile]") {
  TempDir dir;
  ServerProcess server(dir.path(), hostile_env());
  auto c = server.client();
  auto admin = login(c, kAdminEmail, kAdminPassword);
  auto cases = common_body_cases();
  const std::string mb(1 << 20, 'a');
  const std::string pw = R"("password":"abcdefgh1")";
  std::vector<BodyCase> user_cases = {
      {"empty object", "{}", {}, {}, 400, "INVALID_INPUT", "email"},
      {"email as number",
       R"({"email":7,"role":"viewer",)" + pw + "}",
       {},
       {},
       400,
       "INVALID_INPUT",
       "email"},
      {"role as array",
       R"({"email":"n1@y.example","role":["admin"],)" + pw + "}",
       {},
       {},
       400,
       "INVALID_INPUT",
       "role"},
      {"role unknown",
       R"({"email":"n1@y.example","role":"root",)" + pw + "}",
       {},
       {},
       400,
       "INVALID_INPUT",
       "role"},
      {"role missing",
       R"({"email":"n1@y.example",)" + pw + "}",
       {},
       {},
       400,
       "INVALID_INPUT",
       "role"},
      {"password missing",
       R"({"email":"n1@y.example","role":"viewer"})",
       {},
       {},
       400,
       "INVALID_INPUT",
       "password"},
      {"password too short",
       R"({"email":"n1@y.example","role":"viewer","password":"abc"})",
       {},
       {},
       400,
       "INVALID_INPUT",
       "password"},
      {"active as string",
       R"({"email":"n1@y.example","role":"viewer","active":"yes",)" + pw + "}",
       {},
       {},
       400,
       "INVALID_INPUT",
       "active"},
      {"name as number",
       R"({"email":"n1@y.example","role":"viewer","name":5,)" + pw + "}",
       {},
       {},
       400,
       "INVALID_INPUT",
       "name"},
      {"unknown field org_id",
       R"({"email":"n1@y.example","role":"viewer","org_id":2,)" + pw + "}",
       {},
       {},
       400,
       "INVALID_INPUT",
       "org_id"},
      {"email without @",
       R"({"email":"not-an-email","role":"viewer",)" + pw + "}",
       {},
       {},
       400,
       "INVALID_INPUT",
       "email"},
      {"escaped NUL in the email",
       R"({"email":"n1\u0000@y.example","role":"viewer",)" + pw + "}",
       {},
       {},
       400,
       "INVALID_INPUT",
       "email"},
      {"space in the email",
       R"({"email":"n 1@y.example","role":"viewer",)" + pw + "}",
       {},
       {},
       400,
       "INVALID_INPUT",
       "email"},
      {"control character in the name",
       R"({"email":"n1@y.example","role":"viewer","name":"bell\u0007",)" + pw + "}",
       {},
       {},
       400,
       "INVALID_INPUT",
       "name"},
      {"escaped NUL in the password",
       R"({"email":"n1@y.example","role":"viewer","password":"abcd\u0000efgh"})",
       {},
       {},
       400,
       "INVALID_INPUT",
       "password"},
      {"1 MB email",
       R"({"email":")" + mb + R"(","role":"viewer",)" + pw + "}",
       {},
       {},
       400,
       "INVALID_INPUT",
       "email"},
      {"1 MB name",
       R"({"email":"n1@y.example","role":"viewer","name":")" + mb + R"(",)" + pw + "}",
       {},
       {},
       400,
       "INVALID_INPUT",
       "name"},
      {"1 MB password",
       R"({"email":"n1@y.example","role":"viewer","password":")" + mb + R"("})",
       {},
       {},
       400,
       "INVALID_INPUT",
       "password"},
  };
  cases.insert(cases.end(), user_cases.begin(), user_cases.end());
  run_body_cases(server, "/api/v1/users", cases, admin);

  // Nothing was created: the bootstrap admin is the only user.
  auto users = c.get("/api/v1/users", admin);
  REQUIRE(users.status == 200);
  CHECK(users.json().at("pagination").at("total").as_int64() == 1);
  // A well-formed request right after all that still works.
  auto ok =
      c.post_json("/api/v1/users",
                  R"({"email":"fine@y.example","role":"viewer","password":"abcdefgh1"})", admin);
  CHECK(ok.status == 201);
  CHECK(server.running());
}

TEST_CASE(
    "hostile input: bad path and query parameters name the parameter; unknown routes get "
    "404 and wrong methods 405 with Allow",
    "[hostile]") {
  TempDir dir;
  ServerProcess server(dir.path(), hostile_env());
  auto c = server.client();
  auto admin = login(c, kAdminEmail, kAdminPassword);

  std::vector<TargetCase> params = {
      {"GET", "/api/v1/users/abc", 400, "INVALID_INPUT", "id"},
      {"GET", "/api/v1/users/-1", 400, "INVALID_INPUT", "id"},
      {"GET", "/api/v1/users/0", 400, "INVALID_INPUT", "id"},
      {"GET", "/api/v1/users/99999999999999999999", 400, "INVALID_INPUT", "id"},
      {"GET", "/api/v1/users/1.5", 400, "INVALID_INPUT", "id"},
      {"GET", "/api/v1/users/0x10", 400, "INVALID_INPUT", "id"},
      {"GET", "/api/v1/users/%201", 400, "INVALID_INPUT", "id"},
      {"GET", "/api/v1/users/1%00", 400, "INVALID_INPUT", "id"},
      {"DELETE", "/api/v1/users/abc", 400, "INVALID_INPUT", "id"},
      {"PATCH", "/api/v1/users/abc", 400, "INVALID_INPUT", "id", R"({"name":"x"})"},
      {"PUT", "/api/v1/users/-5/password", 400, "INVALID_INPUT", "id",
       R"({"password":"abcdefgh1"})"},
      {"DELETE", "/api/v1/api-keys/abc", 400, "INVALID_INPUT", "id"},
      {"GET", "/api/v1/organizations/abc", 400, "INVALID_INPUT", "id"},
      {"GET", "/api/v1/users?page=0", 400, "INVALID_INPUT", "page"},
      {"GET", "/api/v1/users?page=-1", 400, "INVALID_INPUT", "page"},
      {"GET", "/api/v1/users?page=abc", 400, "INVALID_INPUT", "page"},
      {"GET", "/api/v1/users?page=", 400, "INVALID_INPUT", "page"},
      {"GET", "/api/v1/users?page=99999999999999999999", 400, "INVALID_INPUT", "page"},
      {"GET", "/api/v1/users?per_page=100000", 400, "INVALID_INPUT", "per_page"},
      {"GET", "/api/v1/users?per_page=0", 400, "INVALID_INPUT", "per_page"},
      {"GET", "/api/v1/users?page=1&per_page=abc", 400, "INVALID_INPUT", "per_page"},
      {"GET", "/api/v1/api-keys?per_page=501", 400, "INVALID_INPUT", "per_page"},
      {"GET", "/api/v1/organizations?page=0", 400, "INVALID_INPUT", "page"},
      {"GET", "/api/v1/audit?since=abc", 400, "INVALID_INPUT", "since"},
      {"GET", "/api/v1/audit?until=1e9", 400, "INVALID_INPUT", "until"},
      {"GET", "/api/v1/audit?user_id=1x", 400, "INVALID_INPUT", "user_id"},
      {"GET", "/api/v1/nope", 404, "NOT_FOUND", ""},
      {"GET", "/api/v2/users", 404, "NOT_FOUND", ""},
      {"GET", "/api/v1/users/1/nope", 404, "NOT_FOUND", ""},
      {"GET", "/api/v1/users/", 404, "NOT_FOUND", ""},
      {"GET", "/api/v1/nope", 404, "NOT_FOUND", ""},
      {"POST", "/api/v1/nope", 404, "NOT_FOUND", "", "{}"},
  };
  run_target_cases(server, params, admin);
  // Unknown routes are 404 without a token too (not 401).
  run_target_cases(server, {{"GET", "/api/v1/nope", 404, "NOT_FOUND", ""}}, "");

  struct MethodCase {
    std::string method;
    std::string target;
    std::string allowed;  // a method the Allow header must list
  };
  std::vector<MethodCase> methods = {
      {"DELETE", "/api/v1/auth/login", "POST"},
      {"GET", "/api/v1/auth/login", "POST"},
      {"PUT", "/api/v1/users", "GET"},
      {"PUT", "/api/v1/users", "POST"},
      {"POST", "/alive", "GET"},
      {"PATCH", "/api/v1/audit", "GET"},
      {"POST", "/api/v1/users/1", "PATCH"},
  };
  for (auto& m : methods) {
    INFO(m.method << " " << m.target);
    HttpRequest r;
    r.method = m.method;
    r.target = m.target;
    r.headers.emplace_back("Authorization", "Bearer " + admin);
    auto res = c.send(r);
    check_envelope(res, 405, "METHOD_NOT_ALLOWED");
    auto allow = res.header("allow");
    INFO("Allow: " << allow);
    CHECK(allow.find(m.allowed) != std::string::npos);
    CHECK(allow.find(m.method) == std::string::npos);
    check_alive(server);
  }
  CHECK(server.running());
}

TEST_CASE(
    "hostile input: junk credentials get 401 envelopes and a hostile X-Request-ID is "
    "replaced, not echoed",
    "[hostile]") {
  TempDir dir;
  ServerProcess server(dir.path(), hostile_env());
  auto c = server.client();
  struct AuthCase {
    std::string what;
    std::string authorization;
    std::string code;
  };
  std::vector<AuthCase> cases = {
      {"Bearer with invalid UTF-8", "Bearer \xff\xfe\xfd", "TOKEN_INVALID"},
      {"Bearer with 4 KB of junk", "Bearer " + std::string(4096, 'j'), "TOKEN_INVALID"},
      {"API key look-alike", "Bearer np_zzzz_zzzz", "TOKEN_INVALID"},
      {"three-part junk", "Bearer a.b.c", "TOKEN_INVALID"},
      {"JWT of empty parts", "Bearer ..", "TOKEN_INVALID"},
      {"Bearer and spaces only", "Bearer     ", "AUTHENTICATION_REQUIRED"},
      {"Basic scheme", "Basic YWRtaW46YWRtaW4=", "AUTHENTICATION_REQUIRED"},
      {"scheme only", "Bearer", "AUTHENTICATION_REQUIRED"},
  };
  for (auto& k : cases) {
    INFO(k.what);
    HttpResponse res;
    REQUIRE_NOTHROW(
        res = c.send({"GET", "/api/v1/auth/me", {{"Authorization", k.authorization}}, ""}));
    check_envelope(res, 401, k.code);
    check_alive(server);
  }
  for (std::string rid : {std::string("<script>alert(1)</script>"), std::string(200, 'r'),
                          std::string("a b"), std::string("\xff\xfe")}) {
    INFO("X-Request-ID " << rid);
    auto res = c.send({"GET", "/api/v1/nope", {{"X-Request-ID", rid}}, ""});
    check_envelope(res, 404, "NOT_FOUND");
    auto echoed = res.header("x-request-id");
    CHECK(!echoed.empty());
    CHECK(echoed != rid);
    auto body = res.json();
    if (body.is_object()) CHECK(body.at("meta").at("request_id").as_string() == echoed);
  }
  // A well-formed one is echoed (so the replacement above is a decision, not an accident).
  auto res = c.send({"GET", "/api/v1/nope", {{"X-Request-ID", "trace-123_abc.def:1"}}, ""});
  CHECK(res.header("x-request-id") == "trace-123_abc.def:1");
  CHECK(server.running());
}

TEST_CASE("hostile input: malformed HTTP gets a 400 or a closed connection, never a crash",
          "[hostile]") {
  TempDir dir;
  ServerProcess server(dir.path(), hostile_env());
  std::string junk;
  for (int i = 0; i < 4096; ++i) junk += static_cast<char>((i * 7919 + 13) % 256);
  const std::string login_head =
      "POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n";
  struct RawCase {
    std::string what;
    std::string bytes;
  };
  std::vector<RawCase> cases = {
      {"garbage request line", "GARBAGE\r\n\r\n"},
      {"method only", "GET\r\n\r\n"},
      {"no version", "GET /alive\r\n\r\n"},
      {"bad protocol name", "GET /alive HTTX/1.1\r\nHost: x\r\n\r\n"},
      {"HTTP/9.9", "GET /alive HTTP/9.9\r\nHost: x\r\n\r\n"},
      {"HTTP/2.0 as text", "GET /alive HTTP/2.0\r\nHost: x\r\n\r\n"},
      {"version with letters", "GET /alive HTTP/1.x\r\nHost: x\r\n\r\n"},
      {"extra token in request line", "GET /alive HTTP/1.1 extra\r\nHost: x\r\n\r\n"},
      {"NUL in the request line",
       std::string("GET /al") + '\0' + "ive HTTP/1.1\r\nHost: x\r\n\r\n"},
      {"header without colon", "GET /alive HTTP/1.1\r\nHost x\r\n\r\n"},
      {"header name with space", "GET /alive HTTP/1.1\r\nBad Header: 1\r\n\r\n"},
      {"bare LF line endings", "GET /alive HTTP/1.1\nHost: x\n\n"},
      {"bad chunk size", login_head + "Transfer-Encoding: chunked\r\n\r\nZZ\r\n{}\r\n0\r\n\r\n"},
      {"chunk size overflow",
       login_head + "Transfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFFFFFFF\r\n{}\r\n0\r\n\r\n"},
      {"chunk without CRLF", login_head + "Transfer-Encoding: chunked\r\n\r\n2\r\n{}XX0\r\n\r\n"},
      {"negative Content-Length", login_head + "Content-Length: -1\r\n\r\n{}"},
      {"non-numeric Content-Length", login_head + "Content-Length: abc\r\n\r\n{}"},
      {"conflicting Content-Lengths",
       login_head + "Content-Length: 2\r\nContent-Length: 3\r\n\r\n{} "},
      {"Content-Length with Transfer-Encoding",
       login_head + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"},
      {"binary junk", junk},
      {"blank lines only", "\r\n\r\n\r\n\r\n"},
  };
  for (auto& k : cases) {
    INFO(k.what);
    HttpClient c("127.0.0.1", server.port(), false, std::chrono::seconds(10));
    std::string out;
    REQUIRE_NOTHROW(out = c.raw_exchange(k.bytes));
    INFO("answer: " << out.substr(0, 300));
    if (!out.empty()) {
      CHECK(status_line(out).rfind("HTTP/1.1 400 ", 0) == 0);
      auto body_at = out.find("\r\n\r\n");
      REQUIRE(body_at != std::string::npos);
      HttpResponse parsed;
      parsed.status = 400;
      parsed.body = out.substr(body_at + 4);
      check_envelope(parsed, 400, "INVALID_INPUT");
    }
    check_alive(server);
  }
  CHECK(server.running());
}

TEST_CASE(
    "hostile input: bodies over the limit get 413, headers over the limit 431, and the "
    "server keeps serving",
    "[hostile]") {
  TempDir dir;
  ServerProcess server(dir.path(), hostile_env({{"NETPULSE_HTTP_MAX_BODY_BYTES", "65536"},
                                                {"NETPULSE_HTTP_MAX_HEADER_BYTES", "8192"}}));
  auto c = server.client();
  auto admin = login(c, kAdminEmail, kAdminPassword);
  const std::string big_value(100 * 1024, 'a');
  const std::string big_body = R"({"email":")" + big_value + R"(","password":"abcdefgh1"})";

  {
    INFO("100 KB login body");
    check_envelope(c.post_json("/api/v1/auth/login", big_body), 413, "PAYLOAD_TOO_LARGE");
    check_alive(server);
  }
  {
    INFO("100 KB user body, authenticated");
    auto cl = server.client();
    check_envelope(cl.post_json("/api/v1/users", big_body, admin), 413, "PAYLOAD_TOO_LARGE");
    check_alive(server);
  }
  {
    INFO("100 KB chunked body");
    std::string raw =
        "POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        "Transfer-Encoding: chunked\r\n\r\n";
    for (int i = 0; i < 25; ++i) raw += "1000\r\n" + std::string(4096, 'a') + "\r\n";
    raw += "0\r\n\r\n";
    HttpClient rc("127.0.0.1", server.port(), false, std::chrono::seconds(10));
    auto out = rc.raw_exchange(raw);
    INFO(out.substr(0, 300));
    CHECK(status_line(out).rfind("HTTP/1.1 413 ", 0) == 0);
    check_alive(server);
  }
  {
    INFO("a body just under the limit is read and judged on its content");
    std::string under = R"({"email":")" + std::string(60 * 1024, 'a') + R"(","password":"x1"})";
    auto cl = server.client();
    check_envelope(cl.post_json("/api/v1/auth/login", under), 400, "INVALID_INPUT", "email");
    check_alive(server);
  }
  {
    INFO("one 20 KB header");
    auto cl = server.client();
    HttpRequest r{"GET", "/alive", {{"X-Filler", std::string(20 * 1024, 'h')}}, ""};
    check_envelope(cl.send(r), 431, "HEADERS_TOO_LARGE");
    check_alive(server);
  }
  {
    INFO("a 20 KB request target");
    auto cl = server.client();
    check_envelope(cl.get("/api/v1/users?x=" + std::string(20 * 1024, 'q'), admin), 431,
                   "HEADERS_TOO_LARGE");
    check_alive(server);
  }
  {
    INFO("3000 small headers");
    auto cl = server.client();
    HttpRequest r{"GET", "/alive", {}, ""};
    for (int i = 0; i < 3000; ++i) r.headers.emplace_back("X-H" + std::to_string(i), "v");
    check_envelope(cl.send(r), 431, "HEADERS_TOO_LARGE");
    check_alive(server);
  }
  {
    INFO("100 small headers under the limit are fine");
    auto cl = server.client();
    HttpRequest r{"GET", "/alive", {}, ""};
    for (int i = 0; i < 100; ++i) r.headers.emplace_back("X-H" + std::to_string(i), "v");
    CHECK(cl.send(r).status == 200);
  }
  {
    INFO("a 20 KB Authorization header");
    auto cl = server.client();
    check_envelope(cl.get("/api/v1/auth/me", std::string(20 * 1024, 't')), 431,
                   "HEADERS_TOO_LARGE");
    check_alive(server);
  }
  CHECK(c.get("/api/v1/auth/me", admin).status == 200);
  CHECK(server.running());
}

TEST_CASE(
    "hostile input: slow clients are disconnected after the header or read timeout while "
    "others are served",
    "[hostile]") {
  TempDir dir;
  // Heads are bounded by header_timeout_ms, bodies by read_timeout_ms.
  ServerProcess server(dir.path(), hostile_env({{"NETPULSE_HTTP_HEADER_TIMEOUT_MS", "500"},
                                                {"NETPULSE_HTTP_READ_TIMEOUT_MS", "500"}}));
  const auto limit = std::chrono::seconds(5);

  struct SlowCase {
    std::string what;
    std::string bytes;
  };
  std::vector<SlowCase> cases = {
      {"nothing sent", ""},
      {"half a request line", "GET /ali"},
      {"headers never finished", "GET /alive HTTP/1.1\r\nHost: x\r\n"},
      {"body never finished",
       "POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
       "Content-Length: 100\r\n\r\n{\"email\":"},
  };
  // All stall at once; a new client is served while they do.
  std::vector<std::unique_ptr<RawConnection>> conns;
  auto start = Clock::now();
  for (auto& k : cases) {
    conns.push_back(std::make_unique<RawConnection>(server.port()));
    if (!k.bytes.empty()) REQUIRE(conns.back()->write(k.bytes));
  }
  check_alive(server);
  for (std::size_t i = 0; i < cases.size(); ++i) {
    INFO(cases[i].what);
    CHECK(conns[i]->wait_closed(limit));
    auto elapsed = Clock::now() - start;
    CHECK(elapsed < limit);
  }
  // Not closed before the timeout: a stalled connection lives at least about that long.
  {
    RawConnection conn(server.port());
    auto t0 = Clock::now();
    REQUIRE(conn.write("GET /ali"));
    CHECK(conn.wait_closed(limit));
    auto elapsed = Clock::now() - t0;
    CHECK(elapsed >= std::chrono::milliseconds(400));
    CHECK(elapsed < limit);
  }
  // Trickling one byte every 100 ms does not extend the time allowed for a request.
  {
    RawConnection conn(server.port());
    const std::string slow = "GET /alive HTTP/1.1\r\nX-Slow: " + std::string(200, 'a');
    auto t0 = Clock::now();
    bool closed = false;
    for (std::size_t i = 0; i < slow.size() && Clock::now() - t0 < limit; ++i) {
      if (!conn.write(slow.substr(i, 1))) {
        closed = true;
        break;
      }
      if (conn.poll_closed(Clock::now() + std::chrono::milliseconds(100))) {
        closed = true;
        break;
      }
    }
    CHECK(closed);
    CHECK(Clock::now() - t0 < limit);
  }
  check_alive(server);
  CHECK(server.running());
}

TEST_CASE(
    "hostile input: beyond max connections a client gets 503 SERVICE_UNAVAILABLE, and "
    "after the others close new requests work again",
    "[hostile]") {
  TempDir dir;
  ServerProcess server(dir.path(), hostile_env({{"NETPULSE_HTTP_MAX_CONNECTIONS", "4"}}));
  {
    // Four connections in the middle of a request: busy, so none can be closed to make room
    // (an idle keep-alive would be; tests/integration/http_limits_test.cpp).
    std::vector<std::unique_ptr<RawConnection>> held;
    for (int i = 0; i < 4; ++i) {
      held.push_back(std::make_unique<RawConnection>(server.port()));
      REQUIRE(held.back()->write("GET /alive HTTP/1.1\r\nHost: x\r\n"));
    }
    {
      HttpClient fifth("127.0.0.1", server.port());
      HttpResponse res;
      REQUIRE_NOTHROW(res = fifth.get("/alive"));
      check_envelope(res, 503, "SERVICE_UNAVAILABLE");
      CHECK(!res.header("retry-after").empty());
    }
    {
      HttpClient raw("127.0.0.1", server.port(), false, std::chrono::seconds(10));
      auto out = raw.raw_exchange("GET /alive HTTP/1.1\r\nHost: x\r\n\r\n");
      CHECK(status_line(out).rfind("HTTP/1.1 503 ", 0) == 0);
    }
    // The held connections still finish their requests.
    for (auto& h : held) {
      REQUIRE(h->write("\r\n"));
      const auto deadline = Clock::now() + std::chrono::seconds(5);
      while (h->received().find("\r\n\r\n") == std::string::npos && Clock::now() < deadline) {
        if (h->poll_closed(deadline)) break;
      }
      CHECK(status_line(h->received()).rfind("HTTP/1.1 200 ", 0) == 0);
    }
  }
  // Closed; the server notices and admits new connections again (bounded wait).
  auto deadline = Clock::now() + std::chrono::seconds(5);
  int status = 0;
  while (Clock::now() < deadline) {
    HttpClient fresh("127.0.0.1", server.port());
    try {
      status = fresh.get("/alive").status;
    } catch (const std::runtime_error&) {
      status = 0;
    }
    if (status == 200) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  CHECK(status == 200);
  // All four slots are free again.
  std::vector<std::unique_ptr<HttpClient>> again;
  for (int i = 0; i < 4; ++i) {
    again.push_back(std::make_unique<HttpClient>("127.0.0.1", server.port()));
    CHECK(again.back()->get("/alive").status == 200);
  }
  CHECK(server.running());
}

TEST_CASE(
    "hostile input: malformed, mistyped and oversized service-check bodies are refused naming "
    "the field and create nothing",
    "[hostile]") {
  TempDir dir;
  ServerProcess server(dir.path(), hostile_env());
  auto c = server.client();
  auto admin = login(c, kAdminEmail, kAdminPassword);
  auto device = c.post_json("/api/v1/devices", R"({"name":"target","address":"127.0.0.1"})", admin);
  REQUIRE(device.status == 201);
  const auto path =
      "/api/v1/devices/" + std::to_string(device.json().at("data").at("id").as_int64()) + "/checks";
  auto cases = common_body_cases();
  const std::string mb(1 << 20, 'a');
  std::vector<BodyCase> check_cases = {
      {"kind as number", R"({"name":"x","kind":3})", {}, {}, 400, "INVALID_INPUT", "kind"},
      {"kind object as array",
       R"({"name":"x","kind":"tcp","tcp":[80]})",
       {},
       {},
       400,
       "INVALID_INPUT",
       "tcp"},
      {"port as float",
       R"({"name":"x","kind":"tcp","tcp":{"port":80.5}})",
       {},
       {},
       400,
       "INVALID_INPUT",
       "tcp.port"},
      {"port past 64 bits",
       R"({"name":"x","kind":"tcp","tcp":{"port":99999999999999999999}})",
       {},
       {},
       400,
       "INVALID_INPUT",
       "tcp.port"},
      {"NUL in the name",
       R"({"name":"a\u0000b","kind":"tcp","tcp":{"port":80}})",
       {},
       {},
       400,
       "INVALID_INPUT",
       "name"},
      {"1 MB name",
       R"({"name":")" + mb + R"(","kind":"tcp","tcp":{"port":80}})",
       {},
       {},
       400,
       "INVALID_INPUT",
       "name"},
      {"1 MB keyword",
       R"({"name":"x","kind":"http","http":{"url":"http://127.0.0.1/","keyword":")" + mb + R"("}})",
       {},
       {},
       400,
       "INVALID_INPUT",
       "http.keyword"},
      {"header injection in the URL",
       R"({"name":"x","kind":"http","http":{"url":"http://127.0.0.1/\r\nHost: evil"}})",
       {},
       {},
       400,
       "INVALID_INPUT",
       "http.url"},
      {"URL with a space",
       R"({"name":"x","kind":"http","http":{"url":"http://127.0.0.1/a b"}})",
       {},
       {},
       400,
       "INVALID_INPUT",
       "http.url"},
      {"file URL",
       R"({"name":"x","kind":"http","http":{"url":"file:///etc/passwd"}})",
       {},
       {},
       400,
       "INVALID_INPUT",
       "http.url"},
      {"expected_status as string",
       R"({"name":"x","kind":"http","http":{"url":"http://127.0.0.1/","expected_status":"2xx"}})",
       {},
       {},
       400,
       "INVALID_INPUT",
       "http.expected_status"},
      {"expected_status with three items",
       R"({"name":"x","kind":"http","http":{"url":"http://127.0.0.1/","expected_status":[1,2,3]}})",
       {},
       {},
       400,
       "INVALID_INPUT",
       "http.expected_status"},
      {"DNS name with a NUL",
       R"({"name":"x","kind":"dns","dns":{"query":"a\u0000.test"}})",
       {},
       {},
       400,
       "INVALID_INPUT",
       "dns.query"},
      {"DNS name of 300 bytes",
       R"({"name":"x","kind":"dns","dns":{"query":")" + std::string(300, 'a') + R"("}})",
       {},
       {},
       400,
       "INVALID_INPUT",
       "dns.query"},
      {"DNS server as a host name",
       R"({"name":"x","kind":"dns","dns":{"query":"a.test","server":"dns.evil"}})",
       {},
       {},
       400,
       "INVALID_INPUT",
       "dns.server"},
      {"retries negative",
       R"({"name":"x","kind":"tcp","tcp":{"port":80},"retries":-1})",
       {},
       {},
       400,
       "INVALID_INPUT",
       "retries"},
  };
  cases.insert(cases.end(), check_cases.begin(), check_cases.end());
  run_body_cases(server, path, cases, admin);

  auto list = c.get(path, admin);
  REQUIRE(list.status == 200);
  CHECK(list.json().at("data").as_array().empty());
  CHECK(server.running());
}
